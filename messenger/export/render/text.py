"""Plain text: chat.txt, one line per message ("[14:03] Name: text"), day headings."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TextIO

from messenger.export.render.common import attachment_label, header_lines
from messenger.export.render.view import ChatInfo, Shown
from messenger.export.texts import day_heading, word

FILE = "chat.txt"


class TextWriter:
    def __init__(self, folder: Path) -> None:
        self._path = folder / FILE
        self._out: TextIO | None = None
        self._day: date | None = None
        self._language = "de"

    def begin(self, info: ChatInfo) -> None:
        self._language = info.language
        self._out = self._path.open("w", encoding="utf-8")
        self._out.write(f"{word('title', info.language)}: {info.name}\n")
        for line, _warns in header_lines(info):
            self._out.write(line + "\n")

    def message(self, shown: Shown) -> None:
        assert self._out is not None
        language = self._language
        if shown.at.date() != self._day:
            self._day = shown.at.date()
            self._out.write(f"\n── {day_heading(shown.at, language)} ──\n")
        time = shown.at.strftime("%H:%M")
        if shown.system:
            self._out.write(f"[{time}] * {shown.body}\n")
            return
        lead = f"[{time}] {shown.sender_name}: "
        if shown.quote is not None:
            about = shown.quote.name
            quote = f"{about}: „{shown.quote.text}“" if about else shown.quote.text
            self._out.write(f"{lead}({word('reply_to', language, name=quote)})\n")
            lead = " " * len(lead)
        attachment = shown.entry.attachment
        if shown.entry.kind == "attachment" and attachment is not None:
            body = f"[{attachment_label(attachment, language)}"
            body += f" → {attachment.path}]" if attachment.path else "]"
        elif shown.entry.kind in ("deleted", "undecryptable"):
            body = f"[{shown.body}]"
        else:
            body = shown.body
        if shown.edited_at is not None:
            body += f" ({word('edited', language)})"
        for note in shown.notes:
            body += f"\n  – {note}"
        self._out.write(lead + body.replace("\n", "\n" + " " * len(lead)) + "\n")

    def end(self) -> list[str]:
        if self._out is not None:
            self._out.close()
        return [FILE]
