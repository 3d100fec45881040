"""Bits all three writers share: the header lines and how an attachment is described."""

from __future__ import annotations

from messenger.export.entries import Attachment
from messenger.export.render.view import ChatInfo
from messenger.export.texts import counted, timestamp, undecryptable_summary, word


def header_lines(info: ChatInfo) -> list[tuple[str, bool]]:
    """The header, each line with whether it warns (messages that could not be decrypted)."""
    warning = _warning(info)
    return [(line, line == warning) for line in _header(info)]


def _warning(info: ChatInfo) -> str | None:
    return undecryptable_summary(info.undecryptable, info.language) if info.undecryptable else None


def _header(info: ChatInfo) -> list[str]:
    language = info.language
    who = info.exported_by
    if info.exporter_name:
        who = f"{info.exporter_name} ({who})"
    lines = [word("exported", language, when=timestamp(info.exported_at, language), who=who)]
    if info.since is None and info.until is None:
        lines.append(word("period_all", language))
    else:
        since = info.since.strftime("%d.%m.%Y") if info.since else word("period_start", language)
        until = info.until.strftime("%d.%m.%Y") if info.until else word("period_now", language)
        lines.append(word("period", language, since=since, until=until))
    lines.append(counted("messages", info.messages, language))
    warning = _warning(info)
    if warning is not None:
        lines.append(warning)
    if info.omitted:
        lines.append(counted("omitted", info.omitted, language))
    lines.append(word("confidential", language))
    return lines


def attachment_label(attachment: Attachment, language: str) -> str:
    kind = word(attachment.kind, language)
    if attachment.omitted:
        return f"{kind}: {attachment.name} — {word(attachment.omitted, language)}"
    return f"{kind}: {attachment.name}"
