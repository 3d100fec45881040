"""What an export shows, read from (decrypted) room events. Sans I/O.

An event becomes an Entry (a line of the chat), an Edit (replaces an earlier entry's text), or
nothing (reactions, receipts, the redaction events themselves, state a reader doesn't need).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

MEDIA = {"m.image": "image", "m.file": "file", "m.audio": "audio", "m.video": "video"}
TEXT = {"m.text": "text", "m.notice": "notice", "m.emote": "emote"}
POLLS = ("m.poll.start", "org.matrix.msc3381.poll.start")


@dataclass
class Attachment:
    kind: str  # image | file | audio | video
    name: str
    mimetype: str
    size: int | None
    mxc: str
    file: dict[str, Any] | None  # the EncryptedFile JSON (key, iv, hashes); None: unencrypted
    path: str | None = None  # where the export holds it, relative to the chat's folder
    omitted: str | None = None  # why it is not in the export: size_limit | not_exported | failed


@dataclass
class Entry:
    event_id: str
    ts: int
    sender: str
    kind: str  # text|notice|emote|attachment|poll|deleted|undecryptable|membership|renamed|created
    body: str = ""
    reply_to: str | None = None
    attachment: Attachment | None = None
    deleted_by: str | None = None
    deleted_at: int | None = None
    target: str | None = None  # membership: whose membership changed
    membership: str | None = None
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        # shallow (asdict deep-copies every field: a fifth of an export's time went there)
        data = {name: getattr(self, name) for name in _ENTRY_FIELDS}
        if self.attachment is not None:
            data["attachment"] = asdict(self.attachment)
        return data

    @staticmethod
    def from_json(data: dict[str, Any]) -> Entry:
        attachment = data.pop("attachment", None)
        entry = Entry(**data)
        entry.attachment = Attachment(**attachment) if attachment else None
        return entry


_ENTRY_FIELDS = tuple(f.name for f in fields(Entry))


@dataclass(frozen=True)
class Edit:
    target: str
    sender: str
    ts: int
    body: str


def _reply_to(content: dict[str, Any]) -> str | None:
    relation = content.get("m.relates_to") or {}
    reply = relation.get("m.in_reply_to") or {}
    event_id = reply.get("event_id")
    return str(event_id) if event_id else None


def strip_reply_fallback(body: str) -> str:
    """Drop the quoted "> <@user> …" lines a reply may start with (the export shows its own)."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith("> "):
        return body
    index = 0
    while index < len(lines) and lines[index].startswith(">"):
        index += 1
    if index < len(lines) and lines[index] == "":
        index += 1
    return "\n".join(lines[index:])


def _attachment(kind: str, content: dict[str, Any]) -> Attachment | None:
    file = content.get("file") if isinstance(content.get("file"), dict) else None
    mxc = str((file or {}).get("url") or content.get("url") or "")
    if not mxc:
        return None
    info = content.get("info") or {}
    name = str(content.get("filename") or content.get("body") or "datei")
    size = info.get("size")
    return Attachment(kind, name, str(info.get("mimetype") or "application/octet-stream"),
                      int(size) if isinstance(size, int) else None, mxc, file)  # fmt: skip


def _message(event_id: str, ts: int, sender: str, content: dict[str, Any]) -> Entry | Edit | None:
    relation = content.get("m.relates_to") or {}
    if relation.get("rel_type") == "m.replace":
        new = content.get("m.new_content") or {}
        target = relation.get("event_id")
        if not target or not isinstance(new, dict):
            return None
        return Edit(str(target), sender, ts, str(new.get("body", "")))
    msgtype = str(content.get("msgtype", ""))
    reply_to = _reply_to(content)
    if msgtype in MEDIA:
        attachment = _attachment(MEDIA[msgtype], content)
        if attachment is not None:
            return Entry(event_id, ts, sender, "attachment", reply_to=reply_to,
                         attachment=attachment)  # fmt: skip
    body = str(content.get("body", ""))
    if reply_to:
        body = strip_reply_fallback(body)
    return Entry(event_id, ts, sender, TEXT.get(msgtype, "text"), body, reply_to)


def _poll(event_id: str, ts: int, sender: str, content: dict[str, Any]) -> Entry:
    poll = content.get("m.poll") or content.get("org.matrix.msc3381.poll.start") or {}
    question = poll.get("question") or {}
    title = (
        question.get("m.text") or question.get("org.matrix.msc1767.text") or question.get("body")
    )
    if isinstance(title, list):
        title = (title[0] or {}).get("body", "")
    answers = []
    for answer in poll.get("answers") or []:
        label = answer.get("m.text") or answer.get("org.matrix.msc1767.text") or ""
        answers.append(str(label[0].get("body", "") if isinstance(label, list) else label))
    return Entry(event_id, ts, sender, "poll", str(title or ""), extra={"answers": answers})


def read_event(event: dict[str, Any], undecryptable: bool) -> Entry | Edit | None:
    """One event of /messages (decrypted where a key was found)."""
    event_id = str(event.get("event_id", ""))
    ts = int(event.get("origin_server_ts", 0))
    sender = str(event.get("sender", ""))
    kind = event.get("type")
    content = event.get("content") or {}
    redacted_by = (event.get("unsigned") or {}).get("redacted_because")
    if redacted_by and "state_key" not in event:
        if kind in ("m.room.message", "m.room.encrypted", "m.sticker", *POLLS):
            return Entry(event_id, ts, sender, "deleted", deleted_by=redacted_by.get("sender"),
                         deleted_at=redacted_by.get("origin_server_ts"))  # fmt: skip
        return None
    if undecryptable:
        return Entry(event_id, ts, sender, "undecryptable")
    if kind == "m.room.message":
        return _message(event_id, ts, sender, content)
    if kind == "m.sticker":
        attachment = _attachment("image", content)
        return (
            Entry(event_id, ts, sender, "attachment", attachment=attachment) if attachment else None
        )
    if kind in POLLS:
        return _poll(event_id, ts, sender, content)
    if kind == "m.room.member":
        return _membership(event_id, ts, sender, event)
    if kind == "m.room.name" and content.get("name"):
        return Entry(event_id, ts, sender, "renamed", str(content["name"]))
    if kind == "m.room.create":
        return Entry(event_id, ts, sender, "created")
    return None


def _membership(event_id: str, ts: int, sender: str, event: dict[str, Any]) -> Entry | None:
    content = event.get("content") or {}
    membership = str(content.get("membership", ""))
    before = str(((event.get("unsigned") or {}).get("prev_content") or {}).get("membership", ""))
    if membership == before or membership not in ("join", "leave", "invite", "ban"):
        return None  # a display-name change, or knocks (refused on our server anyway)
    target = str(event.get("state_key", ""))
    reason = content.get("reason")
    return Entry(event_id, ts, sender, "membership", target=target, membership=membership,
                 reason=str(reason) if reason else None,
                 extra={"before": before, "name": content.get("displayname")})  # fmt: skip
