"""Access codes and request bookkeeping against the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from messenger.config import ChatRequestsSection
from messenger.db.database import Database, now_ms
from messenger.db.stores import chat_requests as store
from messenger.requests.handler import ChatRequestHandler, RequestRefused

DOC, P1, P2 = "@praxis:x", "@p-1:x", "@p-2:x"


def handler(db: Database) -> ChatRequestHandler:
    async def no_admin() -> str:
        raise AssertionError("not needed")

    return ChatRequestHandler(db, None, no_admin, ChatRequestsSection(), "key")  # type: ignore[arg-type]


async def test_code_is_single_use_expires_and_can_be_bound(fresh_db: Database) -> None:
    await fresh_db.migrate()
    codes = handler(fresh_db)
    issued = await codes.issue_code(DOC, None)  # type: ignore[arg-type]
    assert await codes.redeem(P1, issued.code) == DOC  # type: ignore[arg-type]
    async with fresh_db.reading() as conn:
        assert await store.grants_of(conn, P1) == [DOC]
    with pytest.raises(RequestRefused) as used:
        await codes.redeem(P2, issued.code)  # type: ignore[arg-type]
    assert used.value.key == "code_used"

    late = await codes.issue_code(DOC, None)  # type: ignore[arg-type]
    with pytest.raises(RequestRefused) as expired:
        await codes.redeem(P1, late.code, now=late.expires_at + 1)  # type: ignore[arg-type]
    assert expired.value.key == "code_expired"

    bound = await codes.issue_code(DOC, codes.binding(P2))  # type: ignore[arg-type]
    with pytest.raises(RequestRefused) as not_yours:
        await codes.redeem(P1, bound.code)  # type: ignore[arg-type]
    assert not_yours.value.key == "code_not_yours"
    assert await codes.redeem(P2, bound.code) == DOC  # type: ignore[arg-type]
    with pytest.raises(RequestRefused) as bad_kvnr:
        codes.binding("A123")
    assert bad_kvnr.value.key == "code_binding_invalid" and "10 characters" in bad_kvnr.value.reason


async def test_wrong_codes_lock_out_after_five_tries(fresh_db: Database) -> None:
    await fresh_db.migrate()
    codes = handler(fresh_db)
    good = await codes.issue_code(DOC, None)  # type: ignore[arg-type]
    for _ in range(5):
        with pytest.raises(RequestRefused) as unknown:
            await codes.redeem(P1, "ABCD-2345")  # type: ignore[arg-type]
        assert unknown.value.key == "code_unknown"
    with pytest.raises(RequestRefused) as locked:
        await codes.redeem(P1, good.code)  # type: ignore[arg-type]
    assert locked.value.key == "code_locked"


async def test_counts_and_single_transition(fresh_db: Database) -> None:
    await fresh_db.migrate()
    at = now_ms()
    async with fresh_db.transaction() as conn:
        assert await store.open_request(conn, "!a", P1, DOC, at, at + 10)
        assert not await store.open_request(conn, "!a", P1, DOC, at, at + 10)  # one per room
        assert await store.open_request(conn, "!b", P1, "@other:x", at, at + 10)
        first = await store.by_room(conn, "!a")
        assert first is not None
        assert await store.decide(conn, first.id, store.ACCEPTED, at)
        assert not await store.decide(conn, first.id, store.DECLINED, at)  # no longer pending
        assert await store.open_and_started(conn, P1, at - store.DAY_MS) == (1, [at, at])
        assert [r.room_id for r in await store.due(conn, at + 11)] == ["!b"]


async def test_a_notice_that_fails_waits_and_holds_up_nobody(fresh_db: Database) -> None:
    from messenger.db.stores import accounts
    from messenger.ids import Role, RoomID, UserID

    await fresh_db.migrate()
    at = now_ms()
    async with fresh_db.transaction() as conn:
        await accounts.insert(conn, user_id=UserID(P1), role=Role.PATIENT, display_name="P",
                              kvnr_digest=None, created_at=at)  # fmt: skip
        await accounts.set_service_room(conn, UserID(P1), RoomID("!service"))
        await store.add_notice(conn, P1, "request_sent", {"number": "1"}, at)
        await store.add_notice(conn, P1, "request_sent", {"number": "2"}, at)
        await store.add_notice(conn, "@nobody:x", "request_sent", {}, at)  # no service room
        first, second = await store.unsent_notices(conn, at)
        assert (first.room_id, first.args, second.args) == ("!service", {"number": "1"},
                                                             {"number": "2"})  # fmt: skip
        assert await store.postpone_notice(conn, first.id, at) == 5_000
        assert [n.id for n in await store.unsent_notices(conn, at)] == [second.id]
        assert [n.id for n in await store.unsent_notices(conn, at + 5_000)] == [first.id, second.id]
        assert await store.postpone_notice(conn, first.id, at) == 10_000  # doubling
