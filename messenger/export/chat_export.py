"""One chat into a folder: read its history into the spool, then write every format in one pass.
Used by the exporter (a user's chats) and by the desk bot (a patient's insurer channel)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from messenger.export.account import Chat
from messenger.export.client_api import ClientApi
from messenger.export.collect import History, HistoryCounts, Window
from messenger.export.files import AttachmentFolder, Budget
from messenger.export.keyring import Decrypter
from messenger.export.render.html_out import PAGE_SIZE, HtmlWriter
from messenger.export.render.json_out import JsonWriter
from messenger.export.render.text import TextWriter
from messenger.export.render.view import ChatInfo, Writer, shown_entries
from messenger.export.spool import Spool

FORMATS = ("html", "txt", "json")


@dataclass(frozen=True)
class ExportOptions:
    formats: tuple[str, ...] = ("html",)
    since: datetime | None = None
    until: datetime | None = None
    attachments: bool = True
    language: str = "de"
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Berlin"))
    page_size: int = PAGE_SIZE

    def window(self) -> Window:
        return Window(
            int(self.since.timestamp() * 1000) if self.since else None,
            int(self.until.timestamp() * 1000) if self.until else None,
        )


@dataclass(frozen=True)
class ChatSummary:
    room_id: str
    name: str
    folder: str
    messages: int
    undecryptable: int
    attachments: int
    omitted_attachments: int
    attachment_bytes: int
    files: list[str]

    def as_json(self) -> dict[str, object]:
        return dict(self.__dict__)


def _writer(kind: str, folder: Path, options: ExportOptions) -> Writer:
    if kind == "html":
        return HtmlWriter(folder, options.page_size)
    return TextWriter(folder) if kind == "txt" else JsonWriter(folder)


async def export_chat(
    api: ClientApi, keys: Decrypter, chat: Chat, exported_by: str, folder: Path,
    options: ExportOptions, budget: Budget,
    on_page: Callable[[HistoryCounts], None] = lambda _counts: None,
) -> ChatSummary:  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (a local folder, once)
    files = AttachmentFolder(api, folder, budget, options.attachments, options.zone)
    with tempfile.TemporaryDirectory(prefix="messenger-export-") as scratch:
        spool = Spool(Path(scratch) / "spool.sqlite")
        try:
            history = History(api, keys, chat.room_id, spool, files, options.window(), on_page)
            counts = await history.read()
            names = {
                **chat.names,
                **{u: n for u, n in history.names.items() if u not in chat.names},
            }
            info = ChatInfo(
                chat.room_id, chat.name, exported_by, datetime.now(options.zone), options.since,
                options.until, options.language, options.zone, counts.messages,
                counts.undecryptable, files.saved, files.omitted, spool.count(),
                names.get(exported_by),
            )  # fmt: skip
            writers = [_writer(kind, folder, options) for kind in options.formats]
            for writer in writers:
                writer.begin(info)
            for shown in shown_entries(spool, names, info):
                for writer in writers:
                    writer.message(shown)
            written = [name for writer in writers for name in writer.end()]
        finally:
            spool.close()
    return ChatSummary(chat.room_id, chat.name, folder.name, counts.messages,
                       counts.undecryptable, files.saved, files.omitted, files.bytes,
                       written)  # fmt: skip
