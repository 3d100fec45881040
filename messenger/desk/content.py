"""Matrix contents the desk bot sends: notices, mirrored messages, previews, the topic poll.
Sans I/O."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from messenger.bots.base import MEDIA_TYPES
from messenger.config import DeskTopic

POLL_START = "org.matrix.msc3381.poll.start"
PREVIEW_CHARS = 80


def notice(body: str) -> dict[str, Any]:
    return {"msgtype": "m.notice", "body": body}


def is_media(content: dict[str, Any]) -> bool:
    return content.get("msgtype") in MEDIA_TYPES and isinstance(
        content.get("url") or content.get("file"), (str, dict)
    )


def mxc_of(content: dict[str, Any]) -> str | None:
    url = content.get("url")
    if isinstance(url, str):
        return url
    file = content.get("file")
    return file.get("url") if isinstance(file, dict) and isinstance(file.get("url"), str) else None


def is_edit(content: dict[str, Any]) -> bool:
    relates = content.get("m.relates_to")
    return isinstance(relates, dict) and relates.get("rel_type") == "m.replace"


def own_words(content: dict[str, Any]) -> str:
    """The body without a reply's quoted fallback ("> <@x> …" lines up to the first blank
    line), which would carry the quoted message — e.g. an internal note — along."""
    body = str(content.get("body", ""))
    relates = content.get("m.relates_to")
    if not (isinstance(relates, dict) and "m.in_reply_to" in relates):
        return body
    lines = body.split("\n")
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    if lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)


def forwarded(content: dict[str, Any], prefix: str | None) -> dict[str, Any]:
    """A message as it goes on to the other side: text with the author in front (if given),
    media as it was (same file, same key: nothing re-uploaded). Relations (replies, edits) do
    not carry over between rooms and are dropped, and so are quoted reply fallbacks."""
    clean = {key: value for key, value in content.items() if key != "m.relates_to"}
    if is_media(clean):
        return clean
    body = own_words(content)
    text = f"{prefix}: {body}" if prefix else body
    return {"msgtype": "m.text", "body": text}


def preview(content: dict[str, Any]) -> str:
    """The first words of a message (of a file message: its file name)."""
    body = " ".join(str(content.get("body", "")).split())
    return body if len(body) <= PREVIEW_CHARS else body[: PREVIEW_CHARS - 1] + "…"


def topic_menu(topics: Sequence[DeskTopic], language: str) -> str:
    return "\n".join(
        f"{number}. {topic.en if language == 'en' else topic.de}"
        for number, topic in enumerate(topics, 1)
    )


def topic_poll(topics: Sequence[DeskTopic], language: str, question: str) -> dict[str, Any]:
    """MSC3381 poll (Element, FluffyChat, …); clients without polls show the text fallback."""
    answers = [
        {"id": topic.key, "org.matrix.msc1767.text": topic.en if language == "en" else topic.de}
        for topic in topics
    ]
    fallback = question + "\n" + topic_menu(topics, language)
    return {
        POLL_START: {
            "question": {"org.matrix.msc1767.text": question},
            "kind": "org.matrix.msc3381.poll.disclosed",
            "max_selections": 1,
            "answers": answers,
        },
        "org.matrix.msc1767.text": fallback,
        "body": fallback,
    }


def poll_answer(content: dict[str, Any]) -> tuple[str | None, str | None]:
    """(poll event id, chosen answer id) of a poll response, stable or MSC3381."""
    relates = content.get("m.relates_to")
    poll = relates.get("event_id") if isinstance(relates, dict) else None
    for key in ("m.selections", "org.matrix.msc3381.poll.response"):
        part = content.get(key)
        answers = part.get("answers") if isinstance(part, dict) else part
        if isinstance(answers, list) and answers and isinstance(answers[0], str):
            return (poll if isinstance(poll, str) else None), answers[0]
    return (poll if isinstance(poll, str) else None), None
