"""HTML: messages.html, messages2.html, … (1,000 lines a page), readable offline in any browser:
one inline stylesheet, no script, images shown inline from the attachments folder."""

from __future__ import annotations

from datetime import date
from html import escape
from pathlib import Path
from typing import TextIO

from messenger.export.render.common import attachment_label, header_lines
from messenger.export.render.view import ChatInfo, Shown
from messenger.export.texts import day_heading, word

PAGE_SIZE = 1000
_STYLE = """
body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
header{border-bottom:1px solid #ccc;margin-bottom:1rem}header p{margin:.2rem 0;color:#555}
.day{text-align:center;color:#666;margin:1.5rem 0 .5rem;font-weight:600}
.msg{margin:.4rem 0;padding:.4rem .6rem;border-radius:.5rem;background:#f3f4f6}
.msg .who{font-weight:600}.msg time{color:#777;font-size:.85em;margin-left:.5rem}
.msg .body{white-space:pre-wrap;margin-top:.2rem}
.edited{color:#777;font-size:.85em}.deleted,.undecryptable{font-style:italic;color:#777}
.undecryptable{color:#a33}blockquote{margin:.2rem 0;padding-left:.6rem;border-left:3px solid #aaa;
color:#555}.system{color:#666;font-size:.9em;margin:.4rem 0}img{max-width:100%;max-height:24rem}
nav{margin:1rem 0}nav a{margin-right:1rem}.warn{color:#a33}
"""


def page_file(number: int) -> str:
    return "messages.html" if number == 1 else f"messages{number}.html"


class HtmlWriter:
    def __init__(self, folder: Path, page_size: int = PAGE_SIZE) -> None:
        self._folder = folder
        self._page_size = page_size
        self._out: TextIO | None = None
        self._info: ChatInfo | None = None
        self._page = 0
        self._pages = 1
        self._on_page = 0
        self._day: date | None = None
        self._files: list[str] = []

    def begin(self, info: ChatInfo) -> None:
        self._info = info
        self._pages = max(1, -(-info.entries // self._page_size))
        self._next_page()

    def _next_page(self) -> None:
        info = self._info
        assert info is not None
        self._close_page()
        self._page += 1
        self._on_page = 0
        self._day = None
        name = page_file(self._page)
        self._files.append(name)
        out = self._out = (self._folder / name).open("w", encoding="utf-8")
        language = info.language
        title = f"{escape(word('title', language))}: {escape(info.name)}"
        out.write(f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8">'
                  f'<meta name="viewport" content="width=device-width">'
                  f"<title>{title}</title><style>{_STYLE}</style></head><body>\n"
                  f"<header><h1>{title}</h1>")  # fmt: skip
        for line, warns in header_lines(info):
            out.write(f'<p class="warn">{escape(line)}</p>' if warns else f"<p>{escape(line)}</p>")
        out.write("</header>\n")
        self._nav()

    def _nav(self) -> None:
        assert self._out is not None and self._info is not None
        if self._pages == 1:
            return
        language = self._info.language
        parts = []
        if self._page > 1:
            parts.append(f'<a href="{page_file(self._page - 1)}">{word("previous", language)}</a>')
        parts.append(escape(word("page", language, n=self._page, total=self._pages)))
        if self._page < self._pages:
            parts.append(f'<a href="{page_file(self._page + 1)}">{word("next", language)}</a>')
        self._out.write(f"<nav>{' '.join(parts)}</nav>\n")

    def _close_page(self) -> None:
        if self._out is not None:
            self._nav()
            self._out.write("</body></html>\n")
            self._out.close()
            self._out = None

    def message(self, shown: Shown) -> None:
        assert self._info is not None
        if self._on_page == self._page_size and self._page < self._pages:
            self._next_page()
        self._on_page += 1
        out = self._out
        assert out is not None
        language = self._info.language
        if shown.at.date() != self._day:
            self._day = shown.at.date()
            out.write(f'<div class="day">{escape(day_heading(shown.at, language))}</div>\n')
        time = shown.at.strftime("%H:%M")
        iso = shown.at.isoformat(timespec="seconds")
        if shown.system:
            out.write(f'<div class="system"><time datetime="{iso}">{time}</time> '
                      f"{escape(shown.body)}</div>\n")  # fmt: skip
            return
        entry = shown.entry
        out.write(f'<div class="msg" id="{escape(entry.event_id)}"><span class="who" '
                  f'title="{escape(entry.sender)}">{escape(shown.sender_name)}</span>'
                  f'<time datetime="{iso}">{time}</time>')  # fmt: skip
        if shown.quote is not None:
            quote = shown.quote
            link = f'<a class="reply-to" href="#{escape(quote.event_id)}">' if quote.name else ""
            about = escape(word("reply_to", language, name=quote.name)) if quote.name else ""
            out.write(f"<blockquote>{link}{about}{'</a>' if link else ''}"
                      f"{'<br>' if about else ''}{escape(quote.text)}</blockquote>")  # fmt: skip
        out.write(self._body(shown, language))
        out.write("</div>\n")

    @staticmethod
    def _body(shown: Shown, language: str) -> str:
        entry = shown.entry
        if entry.kind in ("deleted", "undecryptable"):
            return f'<div class="body {entry.kind}">{escape(shown.body)}</div>'
        attachment = entry.attachment
        if entry.kind == "attachment" and attachment is not None:
            label = escape(attachment_label(attachment, language))
            if attachment.path is None:
                return f'<div class="body file">{label}</div>'
            href = escape(attachment.path)
            if attachment.kind == "image":
                return (f'<div class="body file"><a href="{href}"><img src="{href}" '
                        f'alt="{escape(attachment.name)}"></a></div>')  # fmt: skip
            return f'<div class="body file"><a href="{href}">{label}</a></div>'
        body = f'<div class="body">{escape(shown.body)}'
        if shown.notes:
            body += "<ul>" + "".join(f"<li>{escape(note)}</li>" for note in shown.notes) + "</ul>"
        if shown.edited_at is not None:
            body += f' <span class="edited">({escape(word("edited", language))})</span>'
        return body + "</div>"

    def end(self) -> list[str]:
        self._close_page()
        return list(self._files)
