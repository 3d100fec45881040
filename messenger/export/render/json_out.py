"""JSON: chat.json, written as it goes. The TI-M reference client's fields (roomId, roomName,
messages[].eventId / senderId / originServerTs / text) plus ours (docs/export.md: the schema)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from messenger.export.render.view import ChatInfo, Shown

FILE = "chat.json"
FORMAT = "de.gesundheitsmessenger.chat-export.v1"


def _iso(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


class JsonWriter:
    def __init__(self, folder: Path) -> None:
        self._path = folder / FILE
        self._out: TextIO | None = None
        self._first = True

    def begin(self, info: ChatInfo) -> None:
        head = {
            "format": FORMAT,
            "roomId": info.room_id,
            "roomName": info.name,
            "exportedAt": _iso(info.exported_at),
            "exportedBy": info.exported_by,
            "language": info.language,
            "timezone": info.zone.key,
            "period": {"since": _iso(info.since), "until": _iso(info.until)},
            "summary": {
                "messages": info.messages,
                "undecryptable": info.undecryptable,
                "attachments": info.attachments,
                "omittedAttachments": info.omitted,
            },
        }
        self._out = self._path.open("w", encoding="utf-8")
        self._out.write(json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "messages": [')

    def message(self, shown: Shown) -> None:
        assert self._out is not None
        entry = shown.entry
        item: dict[str, Any] = {
            "eventId": entry.event_id,
            "senderId": entry.sender,
            "senderName": shown.sender_name,
            "originServerTs": _iso(shown.at),
            "text": shown.body,
            "type": entry.kind,
        }
        if shown.edited_at is not None:
            item["edited"] = True
            item["editedAt"] = _iso(shown.edited_at)
        if shown.quote is not None:
            item["replyTo"] = {"eventId": shown.quote.event_id, "senderName": shown.quote.name,
                               "text": shown.quote.text}  # fmt: skip
        if entry.kind == "deleted":
            item["deletedBy"] = entry.deleted_by
            item["deletedAt"] = entry.deleted_at
        if entry.kind == "membership":
            item["membership"] = {"user": entry.target, "state": entry.membership,
                                  "reason": entry.reason}  # fmt: skip
        if shown.notes:
            item["options"] = shown.notes
        attachment = entry.attachment
        if attachment is not None:
            item["attachment"] = {
                "kind": attachment.kind,
                "name": attachment.name,
                "mimetype": attachment.mimetype,
                "size": attachment.size,
                "path": attachment.path,
                "omitted": attachment.omitted,
            }
        self._out.write(("\n  " if self._first else ",\n  ") + json.dumps(item, ensure_ascii=False))
        self._first = False

    def end(self) -> list[str]:
        if self._out is not None:
            self._out.write("\n ]\n}\n")
            self._out.close()
        return [FILE]
