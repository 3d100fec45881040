"""A user's export run: the chosen chats into one folder or ZIP file, all or nothing.

Everything is written into a private staging folder next to the target first; only a finished
export is moved (or zipped) into place, so a failure leaves no partial file behind.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from messenger.export.account import Chat
from messenger.export.chat_export import ChatSummary, ExportOptions, export_chat
from messenger.export.client_api import ClientApi
from messenger.export.collect import HistoryCounts
from messenger.export.errors import ExportError
from messenger.export.files import Budget
from messenger.export.keyring import Decrypter


@dataclass(frozen=True)
class ExportSummary:
    out: Path
    chats: list[ChatSummary]

    @property
    def messages(self) -> int:
        return sum(chat.messages for chat in self.chats)

    @property
    def undecryptable(self) -> int:
        return sum(chat.undecryptable for chat in self.chats)

    def as_json(self) -> dict[str, object]:
        return {
            "out": str(self.out),
            "chats": [chat.as_json() for chat in self.chats],
            "messages": self.messages,
            "undecryptable": self.undecryptable,
            "attachments": sum(chat.attachments for chat in self.chats),
            "omitted_attachments": sum(chat.omitted_attachments for chat in self.chats),
        }


def check_target(out: Path) -> None:
    """Refuse a target that exists (a ZIP file, or a folder that is not empty)."""
    parent = out.resolve().parent
    if not parent.is_dir():
        raise ExportError(f"--out: the folder {parent} does not exist")
    if out.suffix.lower() == ".zip":
        if out.exists():
            raise ExportError(f"--out: {out} exists already; choose a new file name")
    elif out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError(f"--out: {out} exists and is not an empty folder")


def folder_name(chat: Chat) -> str:
    slug = re.sub(r"[^\w\-]+", "-", chat.name).strip("-")[:60] or "chat"
    return f"{slug}-{hashlib.sha256(chat.room_id.encode()).hexdigest()[:6]}"


async def export_chats(
    api: ClientApi, keys: Decrypter, chats: list[Chat], exported_by: str, out: Path,
    options: ExportOptions, max_bytes: int | None,
    on_page: Callable[[Chat, HistoryCounts], None] = lambda _chat, _counts: None,
) -> ExportSummary:  # fmt: skip
    check_target(out)
    target = out.resolve()  # noqa: ASYNC240
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        budget = Budget(max_bytes)
        summaries = []
        for chat in chats:
            summaries.append(await export_chat(
                api, keys, chat, exported_by, staging / folder_name(chat), options, budget,
                lambda counts, chat=chat: on_page(chat, counts),  # type: ignore[misc]
            ))  # fmt: skip
        _finish(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        target.with_name(target.name + ".partial").unlink(missing_ok=True)
        raise
    return ExportSummary(out, summaries)


def _finish(staging: Path, target: Path) -> None:
    if target.suffix.lower() == ".zip":
        partial = target.with_name(target.name + ".partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(staging.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(staging).as_posix())
        os.replace(partial, target)
        shutil.rmtree(staging)
        return
    if target.exists():
        target.rmdir()  # empty (checked before the run)
    os.replace(staging, target)  # stays private to the user (0700): it holds health data
