"""Outbound: our calls to Synapse.

Client-server API with the as_token (optionally masquerading as a namespaced user), shared-secret
registration and the admin API. Errors become typed exceptions (messenger.bridge.errors).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp

from messenger.bridge.errors import (
    HomeserverUnreachable,
    LimitExceeded,
    MatrixError,
    UserInUse,
    matrix_error,
)
from messenger.ids import DeviceID, RoomID, UserID
from messenger.policy.paths import REFRESH_PATH

log = logging.getLogger(__name__)
CLIENT_V3 = "/_matrix/client/v3"
ADMIN_V1 = "/_synapse/admin/v1"


def q(value: str) -> str:
    return quote(value, safe="")


class HomeserverClient:
    def __init__(self, base_url: str, as_token: str, appservice_id: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._as_token = as_token
        self.appservice_id = appservice_id
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> HomeserverClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        token: str | None = None,
        retries: int = 5,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        url = self.base_url + path
        for attempt in range(retries + 1):
            try:
                async with self._http().request(
                    method, url, json=body, params=params, headers=headers
                ) as response:
                    try:
                        payload = await response.json(content_type=None)
                    except ValueError:
                        payload = {"errcode": "M_UNKNOWN", "error": await response.text()}
                    if not isinstance(payload, dict):
                        payload = {"value": payload}
                    if response.status < 300:
                        return payload
                    error = matrix_error(response.status, payload)
            except aiohttp.ClientConnectionError as exc:
                raise HomeserverUnreachable(self.base_url, type(exc).__name__) from None
            except TimeoutError:
                raise HomeserverUnreachable(self.base_url, "no answer within 60 s") from None
            if isinstance(error, LimitExceeded) and attempt < retries:
                await asyncio.sleep(error.retry_after_s)
                continue
            raise error
        raise AssertionError("unreachable")

    async def as_request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        user_id: str | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        query = dict(params or {})
        if user_id is not None:
            query["user_id"] = user_id
        return await self.request(method, path, body=body, params=query, token=self._as_token)

    # --- appservice ----------------------------------------------------------------------
    async def ping(self, transaction_id: str | None = None) -> dict[str, Any]:
        body = {"transaction_id": transaction_id} if transaction_id else {}
        return await self.as_request(
            "POST", f"/_matrix/client/v1/appservice/{q(self.appservice_id)}/ping", body=body
        )

    async def register_appservice_user(self, localpart: str) -> None:
        with contextlib.suppress(UserInUse):  # registered before: fine
            await self.as_request(
                "POST",
                f"{CLIENT_V3}/register",
                body={
                    "type": "m.login.application_service",
                    "username": localpart,
                    "inhibit_login": True,
                },
            )

    async def login_appservice_user(
        self, localpart: str, device_display_name: str
    ) -> tuple[str, DeviceID]:
        response = await self.as_request(
            "POST",
            f"{CLIENT_V3}/login",
            body={
                "type": "m.login.application_service",
                "identifier": {"type": "m.id.user", "user": localpart},
                "initial_device_display_name": device_display_name,
            },
        )
        return str(response["access_token"]), DeviceID(response["device_id"])

    async def set_display_name(self, user_id: UserID, name: str) -> None:
        await self.as_request(
            "PUT",
            f"{CLIENT_V3}/profile/{q(user_id)}/displayname",
            body={"displayname": name},
            user_id=user_id,
        )

    async def create_room(
        self, body: dict[str, Any], *, as_user: UserID | None = None, token: str | None = None
    ) -> RoomID:
        """As one of our appservice users (`as_user`), or with a user's own `token`."""
        path = f"{CLIENT_V3}/createRoom"
        if token is not None:
            response = await self.request("POST", path, body=body, token=token)
        else:
            response = await self.as_request("POST", path, body=body, user_id=as_user)
        return RoomID(response["room_id"])

    async def delete_device(self, user: UserID, device: DeviceID) -> None:
        """Appservices delete their users' devices without interactive auth (MSC4190)."""
        await self.as_request("DELETE", f"{CLIENT_V3}/devices/{q(device)}", body={}, user_id=user)

    # --- end-to-end keys of our own (appservice) users -------------------------------------------
    async def upload_cross_signing_keys(
        self, user: UserID, master: dict[str, Any], self_signing: dict[str, Any],
        user_signing: dict[str, Any],
    ) -> None:  # fmt: skip
        await self.as_request(
            "POST",
            f"{CLIENT_V3}/keys/device_signing/upload",
            body={
                "master_key": master,
                "self_signing_key": self_signing,
                "user_signing_key": user_signing,
            },
            user_id=user,
        )

    async def master_key(self, user: UserID) -> dict[str, Any] | None:
        """The user's current cross-signing master key on the server, if any."""
        response = await self.as_request(
            "POST", f"{CLIENT_V3}/keys/query", body={"device_keys": {user: []}}, user_id=user
        )
        master: dict[str, Any] | None = response.get("master_keys", {}).get(user)
        return master

    async def device_keys(self, user: UserID, device: DeviceID) -> dict[str, Any]:
        response = await self.as_request(
            "POST", f"{CLIENT_V3}/keys/query", body={"device_keys": {user: [device]}}, user_id=user
        )
        keys: dict[str, Any] = response["device_keys"][user][device]
        return keys

    async def upload_signatures(
        self, user: UserID, device: DeviceID, signed: dict[str, Any]
    ) -> dict[str, Any]:
        """Returns the server's `failures` (empty when every signature was accepted)."""
        response = await self.as_request(
            "POST", f"{CLIENT_V3}/keys/signatures/upload", body={user: {device: signed}},
            user_id=user,
        )  # fmt: skip
        failures: dict[str, Any] = response.get("failures", {})
        return failures

    # --- plain client API with a user's own token ------------------------------------------
    async def whoami(self, token: str) -> dict[str, Any]:
        return await self.request("GET", f"{CLIENT_V3}/account/whoami", token=token)

    async def logout(self, token: str) -> None:
        await self.request("POST", f"{CLIENT_V3}/logout", body={}, token=token)

    async def password_login(self, localpart: str, password: str, device_name: str) -> str:
        response = await self.request(
            "POST",
            f"{CLIENT_V3}/login",
            body={
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": localpart},
                "password": password,
                "initial_device_display_name": device_name,
            },
        )
        return str(response["access_token"])

    # --- shared-secret registration and admin API ----------------------------------------------
    async def register_with_shared_secret(
        self, shared_secret: str, localpart: str, password: str, display_name: str, *, admin: bool
    ) -> dict[str, Any]:
        nonce = (await self.request("GET", f"{ADMIN_V1}/register"))["nonce"]
        parts = (nonce, localpart, password, "admin" if admin else "notadmin")
        mac = hmac.new(shared_secret.encode(), "\x00".join(parts).encode(), hashlib.sha1)
        return await self.request(
            "POST",
            f"{ADMIN_V1}/register",
            body={
                "nonce": nonce,
                "username": localpart,
                "displayname": display_name,
                "password": password,
                "admin": admin,
                "mac": mac.hexdigest(),
            },
        )

    async def deactivate(self, admin_token: str, user_id: UserID) -> None:
        await self.request(
            "POST", f"{ADMIN_V1}/deactivate/{q(user_id)}", body={"erase": True}, token=admin_token
        )

    async def override_ratelimit(self, admin_token: str, user_id: UserID) -> None:
        await self.request(
            "POST",
            f"{ADMIN_V1}/users/{q(user_id)}/override_ratelimit",
            body={"messages_per_second": 0, "burst_count": 0},
            token=admin_token,
        )

    async def room_details(self, admin_token: str, room: RoomID | str) -> dict[str, Any] | None:
        """Synapse's admin room details, or None when the server has no such room (deleted)."""
        try:
            return await self.request("GET", f"{ADMIN_V1}/rooms/{q(room)}", token=admin_token)
        except MatrixError as error:  # not a 404 of a proxy or an unknown path: "no room"
            if error.status == 404 and error.errcode == "M_NOT_FOUND":
                return None
            raise

    async def joined_members(self, admin_token: str, room: RoomID | str) -> set[str]:
        """The room's joined members as the homeserver has them (none when it has no such
        room)."""
        try:
            answer = await self.request(
                "GET", f"{ADMIN_V1}/rooms/{q(room)}/members", token=admin_token
            )
        except MatrixError as error:
            if error.status == 404:
                return set()
            raise
        return {str(member) for member in answer.get("members", [])}

    @contextlib.asynccontextmanager
    async def acting_as(self, admin_token: str, user: UserID) -> AsyncIterator[str]:
        """A short-lived token to act for a local user on their explicit request (the service
        bot's chat-request commands). Synapse creates no device for it; it is revoked after use,
        and every action with it goes through the same rules as the user's own client."""
        valid_until = int(time.time() * 1000) + 300_000
        response = await self.request(
            "POST", f"{ADMIN_V1}/users/{q(user)}/login", body={"valid_until_ms": valid_until},
            token=admin_token,
        )  # fmt: skip
        token = str(response["access_token"])
        try:
            yield token
        finally:
            with contextlib.suppress(MatrixError, HomeserverUnreachable):
                await self.logout(token)

    async def kick(self, token: str, room: RoomID, user: UserID, reason: str) -> None:
        await self.request(
            "POST", f"{CLIENT_V3}/rooms/{q(room)}/kick", body={"user_id": user, "reason": reason},
            token=token,
        )  # fmt: skip

    async def refresh_policy(self) -> None:
        """Tell our Synapse module that directory visibility changed (best effort: the module
        also refreshes every minute)."""
        try:
            await self.request("POST", REFRESH_PATH, body={}, token=self._as_token, retries=0)
        except (MatrixError, HomeserverUnreachable) as error:
            log.info("policy module not told about the directory change: %s", error)

    async def health(self) -> bool:
        try:
            async with self._http().get(
                self.base_url + "/health", timeout=aiohttp.ClientTimeout(total=3)
            ) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False
