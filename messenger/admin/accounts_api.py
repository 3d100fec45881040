"""Edge: the back office's account routes on the admin API — provisioning (idempotent on the
KVNR), one account, and a patient's coverage end (set, or cancel before the date)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from messenger.accounts.coverage import CoverageInputError
from messenger.accounts.coverage_end import CoverageEnds
from messenger.accounts.handler import AccountHandler, AccountInputError, api_words
from messenger.db.database import now_ms
from messenger.ids import Role

FIELDS = {"kvnr", "display_name", "email", "idp_subject", "role"}


def error(status: int, errcode: str, text: str) -> web.Response:
    return web.json_response({"errcode": errcode, "error": text}, status=status)


async def json_object(request: web.Request, example: str) -> dict[str, Any] | web.Response:
    """The body as a JSON object, or the 400 that says what was wrong."""
    try:
        body = await request.json() if request.can_read_body else {}
    except ValueError:
        return error(400, "M_NOT_JSON", f"the body must be JSON, e.g. {example}")
    if not isinstance(body, dict):
        return error(400, "M_BAD_JSON", f"the body must be a JSON object, e.g. {example}")
    return body


class AccountsApi:
    def __init__(self, accounts: AccountHandler, coverage: CoverageEnds) -> None:
        self._accounts = accounts
        self._coverage = coverage

    def routes(self, app: web.Application, prefix: str, guard: Any) -> None:
        app.router.add_post(prefix + "/accounts", guard(self.provision))
        app.router.add_get(prefix + "/accounts/{ref}", guard(self.show))
        app.router.add_post(prefix + "/accounts/{ref}/coverage-end", guard(self.end_coverage))
        app.router.add_delete(prefix + "/accounts/{ref}/coverage-end", guard(self.cancel_end))

    async def provision(self, request: web.Request) -> web.Response:
        body = await json_object(request, '{"kvnr": "A123456780", "display_name": "…"}')
        if isinstance(body, web.Response):
            return body
        unknown = sorted(set(body) - FIELDS)
        if unknown:
            return error(
                400,
                "M_BAD_JSON",
                f"{unknown[0]}: unknown field; allowed are {', '.join(sorted(FIELDS))}",
            )
        for name in FIELDS & set(body):
            if body[name] is not None and not isinstance(body[name], str):
                return error(400, "M_BAD_JSON", f"{name}: must be a string")
        role = body.get("role") or Role.PATIENT.value
        if role not in (Role.PATIENT.value,):
            return error(400, "M_INVALID_PARAM", "role: only patient is provisioned here")
        if not body.get("kvnr"):
            return error(400, "M_MISSING_PARAM", "kvnr: required (the insured person's KVNR)")
        if not body.get("display_name"):
            return error(400, "M_MISSING_PARAM", "display_name: required")
        try:
            account = await self._accounts.add(
                role=Role.PATIENT, display_name=body["display_name"], kvnr=body["kvnr"],
                email=body.get("email"), idp_subject=body.get("idp_subject"),
            )  # fmt: skip
        except AccountInputError as refused:
            return error(400, "M_INVALID_PARAM", api_words(str(refused)))
        return web.json_response(account.as_json(), status=201 if account.created else 200)

    async def show(self, request: web.Request) -> web.Response:
        try:
            row = await self._accounts.show(request.match_info["ref"])
        except AccountInputError as refused:
            return error(400, "M_INVALID_PARAM", api_words(str(refused)))
        if row is None:
            return error(404, "M_NOT_FOUND", "no such account")
        return web.json_response({
            "user_id": row.user_id, "role": row.role.value, "display_name": row.display_name,
            "email": row.email, "has_kvnr": row.has_kvnr, "ended_at": row.ended_at,
            "service_room_id": row.service_room_id,
        })  # fmt: skip

    async def end_coverage(self, request: web.Request) -> web.Response:
        body = await json_object(request, '{"on": "2027-01-31", "reason": "insurer-change"}')
        if isinstance(body, web.Response):
            return body
        if not isinstance(body.get("on"), str):
            return error(400, "M_MISSING_PARAM", "on: required, the last day's date (YYYY-MM-DD)")
        if body.get("reason") is not None and not isinstance(body["reason"], str):
            return error(400, "M_BAD_JSON", "reason: must be a string")
        try:
            row = await self._coverage.schedule(
                request.match_info["ref"], body["on"], body.get("reason"), now_ms()
            )
        except CoverageInputError as refused:
            return error(400, "M_INVALID_PARAM", api_words(str(refused)))
        return web.json_response(row.as_json())

    async def cancel_end(self, request: web.Request) -> web.Response:
        try:
            row = await self._coverage.cancel(request.match_info["ref"], now_ms())
        except CoverageInputError as refused:
            return error(400, "M_INVALID_PARAM", api_words(str(refused)))
        return web.json_response(row.as_json())
