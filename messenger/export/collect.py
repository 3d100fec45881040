"""Reading one chat's history: /messages backwards, page by page (the next page is fetched while
this one is decrypted and stored), decrypted with the run's keys, attachments saved, everything
into the spool."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from messenger.export.client_api import V1, V3, ClientApi, q
from messenger.export.entries import Edit, Entry, read_event
from messenger.export.errors import ExportError
from messenger.export.files import AttachmentFolder
from messenger.export.keyring import ENCRYPTED, Decrypter
from messenger.export.spool import Spool

PAGE = 1000
# events handled between two turns of the event loop: each turn lets the next page's request go
# out and its answer come in while this page is decrypted (handling a page never awaits by itself)
YIELD_EVERY = 50
MESSAGE_KINDS = {"text", "notice", "emote", "attachment", "poll", "deleted", "undecryptable"}


@dataclass(frozen=True)
class Window:
    since_ms: int | None = None
    until_ms: int | None = None

    def after(self, ts: int) -> bool:
        return self.until_ms is not None and ts > self.until_ms

    def before(self, ts: int) -> bool:
        return self.since_ms is not None and ts < self.since_ms


@dataclass
class HistoryCounts:
    messages: int = 0
    undecryptable: int = 0
    events: int = 0


class History:
    def __init__(
        self, api: ClientApi, keys: Decrypter, room_id: str, spool: Spool,
        files: AttachmentFolder, window: Window,
        on_page: Callable[[HistoryCounts], None] = lambda _counts: None,
    ) -> None:  # fmt: skip
        self._api = api
        self._keys = keys
        self._room = room_id
        self._spool = spool
        self._files = files
        self._window = window
        self._on_page = on_page
        self.counts = HistoryCounts()
        self.names: dict[str, str] = {}

    def _page(self, token: str | None) -> asyncio.Task[dict[str, Any]]:
        params = {"dir": "b", "limit": str(PAGE)}
        if token:
            params["from"] = token
        path = f"{V3}/rooms/{q(self._room)}/messages"
        return asyncio.ensure_future(self._api.json("GET", path, params=params))

    async def _start(self) -> str | None:
        """Where to begin going back: now, or (with --until) at the last event before it,
        found with /timestamp_to_event — else from now, skipping what is newer."""
        until = self._window.until_ms
        if until is None:
            return None
        try:
            found = await self._api.json(
                "GET", f"{V1}/rooms/{q(self._room)}/timestamp_to_event",
                params={"ts": str(until), "dir": "b"},
            )  # fmt: skip
            context = await self._api.json(
                "GET", f"{V3}/rooms/{q(self._room)}/context/{q(str(found['event_id']))}",
                params={"limit": "0"},
            )  # fmt: skip
        except (ExportError, KeyError):
            return None  # nothing before it, or an older server: page from now
        end = context.get("end")
        return str(end) if end else None

    async def read(self) -> HistoryCounts:
        pending: asyncio.Task[dict[str, Any]] | None = self._page(await self._start())
        while pending is not None:
            page = await pending
            chunk = page.get("chunk") or []
            token = page.get("end")
            older = bool(chunk) and token is not None and token != page.get("start")
            # stop once the page reached before `since`; else fetch on while this one is handled
            done = not older or any(
                self._window.before(int(e.get("origin_server_ts", 0))) for e in chunk
            )
            pending = None if done else self._page(str(token))
            try:
                await self._take(chunk)
            except BaseException:
                if pending is not None:
                    pending.cancel()
                raise
            self._on_page(self.counts)
        return self.counts

    async def _decrypted(self, chunk: list[dict[str, Any]]) -> list[tuple[dict[str, Any], bool]]:
        """Each event of the page with its clear content (or itself and True if no key opens
        it). Decrypted oldest first: a Megolm session ratchets forward cheaply from the last
        index it decrypted but must start over from its first one to go back — going through
        a newest-first page backwards made decryption take half again as long."""
        opened: list[tuple[dict[str, Any], bool]] = [(raw, False) for raw in chunk]
        for index in range(len(chunk) - 1, -1, -1):
            if index % YIELD_EVERY == 0:
                await asyncio.sleep(0)
            raw = chunk[index]
            if raw.get("type") != ENCRYPTED or "redacted_because" in (raw.get("unsigned") or {}):
                continue
            ts = int(raw.get("origin_server_ts", 0))
            if self._window.after(ts) or self._window.before(ts):
                continue
            clear = self._keys.decrypt(self._room, raw)
            opened[index] = (clear, False) if clear is not None else (raw, True)
        return opened

    async def _take(self, chunk: list[dict[str, Any]]) -> None:
        items: list[Entry | Edit] = []
        for number, (event, failed) in enumerate(await self._decrypted(chunk)):
            if number % YIELD_EVERY == 0:
                await asyncio.sleep(0)
            ts = int(event.get("origin_server_ts", 0))
            if self._window.after(ts) or self._window.before(ts):
                continue
            self.counts.events += 1
            if event.get("type") == "m.room.member":
                self._remember_name(event)
            item = read_event(event, failed)
            if item is None:
                continue
            if isinstance(item, Entry):
                if item.kind in MESSAGE_KINDS:
                    self.counts.messages += 1
                self.counts.undecryptable += item.kind == "undecryptable"
                if item.attachment is not None:
                    await self._files.take(item.attachment, ts)
            items.append(item)
        self._spool.add(items)

    def _remember_name(self, event: dict[str, Any]) -> None:
        name = (event.get("content") or {}).get("displayname")
        user = str(event.get("state_key", ""))
        if name and user not in self.names:  # newest first: the first name seen is the latest
            self.names[user] = str(name)
