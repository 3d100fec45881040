"""Attachments into the export: downloaded, decrypted (SHA-256 checked), and written under the
chat's folder — until the size limit, after which each further file is marked as omitted."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from nio.crypto.attachments import decrypt_attachment

from messenger.export.client_api import ClientApi
from messenger.export.entries import Attachment
from messenger.export.errors import ExportError

log = logging.getLogger(__name__)
SIZE_LIMIT, NOT_EXPORTED, FAILED = "size_limit", "not_exported", "failed"


@dataclass
class Budget:
    """Attachment bytes the whole export may still take (None: no limit)."""

    left: int | None


def safe_name(name: str) -> str:
    base = re.sub(r"[^\w.\-]+", "_", name.replace("/", "_").replace("\\", "_")).strip("._")
    return base[:80] or "datei"


class AttachmentFolder:
    def __init__(
        self, api: ClientApi, folder: Path, budget: Budget, enabled: bool, zone: ZoneInfo
    ) -> None:
        self._api = api
        self._folder = folder
        self._budget = budget
        self._enabled = enabled
        self._zone = zone
        self.saved = 0
        self.omitted = 0
        self.bytes = 0

    async def take(self, attachment: Attachment, ts: int) -> None:
        """Fill in `path` (saved) or `omitted` (why not)."""
        if not self._enabled:
            attachment.omitted = NOT_EXPORTED
            self.omitted += 1
            return
        left = self._budget.left
        if left is not None and attachment.size is not None and attachment.size > left:
            self._omit(attachment, SIZE_LIMIT)
            return
        try:
            data = await self._api.media(attachment.mxc)
            if attachment.file is not None:
                data = _decrypt(attachment.file, data)
        except ExportError as error:
            log.warning("attachment not exported: %s", error)
            self._omit(attachment, FAILED)
            return
        if left is not None and len(data) > left:
            self._omit(attachment, SIZE_LIMIT)
            return
        if left is not None:
            self._budget.left = left - len(data)
        attachment.path = self._write(attachment.name, ts, data)
        attachment.size = len(data)
        self.saved += 1
        self.bytes += len(data)

    def _omit(self, attachment: Attachment, why: str) -> None:
        attachment.omitted = why
        self.omitted += 1

    def _write(self, name: str, ts: int, data: bytes) -> str:
        stamp = datetime.fromtimestamp(ts / 1000, self._zone).strftime("%Y-%m-%d_%H%M%S")
        folder = self._folder / "attachments"
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{stamp}-{safe_name(name)}"
        target, number = folder / stem, 1
        while target.exists():
            number += 1
            head, dot, ext = stem.rpartition(".")
            target = folder / (f"{head}-{number}.{ext}" if dot else f"{stem}-{number}")
        target.write_bytes(data)
        return f"attachments/{target.name}"


def _decrypt(file: dict[str, object], data: bytes) -> bytes:
    try:
        key = file["key"]["k"]  # type: ignore[index]
        digest = file["hashes"]["sha256"]  # type: ignore[index]
        plain: bytes = decrypt_attachment(data, key, digest, file["iv"])
    except Exception as error:  # nio raises EncryptionError for a hash mismatch, KeyError …
        raise ExportError(f"file does not decrypt ({error})") from error
    return plain
