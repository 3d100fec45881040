"""The rule set, sans I/O: pure decisions fed with facts (roles, directory listing, codes, shared
chats, permission settings). The module (module.py) gathers the facts and turns a Refusal into a
403/400 with the reason in German and English (reasons.py).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from typing import Any

from messenger.policy.permissions import PermissionConfig

RULES: tuple[str, ...] = (
    "user-directory-shows-only-visible-practices",
    "insured-never-reach-insured",
    "patients-invite-only-reachable-practices",
    "one-care-chat-per-patient-and-practice",
    "chat-request-limits",
    "invitee-permission-settings",
    "at-most-one-invitee",
    "always-encrypted",
    "no-public-or-knock-rooms",
    "no-world-readable-history",
    "no-room-directory",
    "own-messages-only-in-care-chats",
    "room-versions-without-privileged-creators",
)
# room versions in which the power levels bind the creator too (from v12 on, creators have
# unlimited power, and a care chat's creator could delete the other side's messages)
ALLOWED_ROOM_VERSIONS = ("10", "11")
# care chats: nobody's power reaches this, so nobody deletes another's message (own: always)
CARE_REDACT_LEVEL = 101
MEGOLM = "m.megolm.v1.aes-sha2"
FORBIDDEN_JOIN_RULES = frozenset({"public", "knock", "restricted", "knock_restricted"})


class Kind(enum.StrEnum):
    """What a user is for the rules. INSURED covers local patients and users of insurer domains."""

    INSURED = "insured"
    PRACTICE = "practice"
    AGENT = "agent"
    BOT = "bot"
    OTHER = "other"


def kind_of(user_id: str, role: str | None, own_server: str, insurer_domains: Set[str]) -> Kind:
    """Local users by the role the appservice knows; remote users by their domain (a domain on
    the insurer list hosts insured persons; any other remote user may be a practice)."""
    server = user_id.split(":", 1)[1] if ":" in user_id else ""
    if server != own_server and server in insurer_domains:
        return Kind.INSURED
    if role == "patient":
        return Kind.INSURED
    if role == "supervisor":
        return Kind.AGENT
    try:
        return Kind(role) if role else Kind.OTHER
    except ValueError:
        return Kind.OTHER


@dataclass(frozen=True)
class Refusal:
    rule: str
    status: int = 403
    args: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class InviteFacts:
    """What the appservice knows about an inviter/invitee pair."""

    inviter_role: str | None
    invitee_role: str | None
    invitee_reachable: bool = False  # listed and accepting new requests
    code_grant: bool = False  # the inviter redeemed an access code of the invitee
    care_room: str | None = None  # a care chat both already share
    open_requests: int = 0
    requests_today: int = 0
    max_open: int = 5
    max_per_day: int = 10
    started: tuple[int, ...] = ()  # when the inviter's requests of the last day were started

    @staticmethod
    def from_json(body: Mapping[str, Any]) -> InviteFacts:
        def role(key: str) -> str | None:
            value = body.get(key)
            return value if isinstance(value, str) else None

        def number(key: str, default: int) -> int:
            value = body.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else default

        care = body.get("care_room")
        return InviteFacts(
            inviter_role=role("inviter_role"),
            invitee_role=role("invitee_role"),
            invitee_reachable=body.get("invitee_reachable") is True,
            code_grant=body.get("code_grant") is True,
            care_room=care if isinstance(care, str) else None,
            open_requests=number("open_requests", 0),
            requests_today=number("requests_today", 0),
            max_open=number("max_open", 5),
            max_per_day=number("max_per_day", 10),
        )


def shown_in_user_directory(user_id: str, visible_practices: Set[str]) -> bool:
    """Only practices visible in the provider directory can be found through the user directory:
    never a patient, an agent or a bot (insured persons must not reach each other)."""
    return user_id in visible_practices


def decide_invite(
    inviter: str,
    inviter_kind: Kind,
    invitee_kind: Kind,
    facts: InviteFacts,
    room_id: str | None,
    invitee_permissions: PermissionConfig | None,
) -> Refusal | None:
    """May `inviter` invite the invitee into `room_id` (None: a room being created)?"""
    if inviter_kind is Kind.BOT:
        return None  # our own bots: service rooms, insurer channel, agent rooms
    if inviter_kind is Kind.INSURED and invitee_kind is Kind.INSURED:
        return Refusal("insured-never-reach-insured")
    pair = {inviter_kind, invitee_kind}
    if pair == {Kind.INSURED, Kind.PRACTICE} and facts.care_room not in (None, room_id):
        return Refusal(
            "one-care-chat-per-patient-and-practice", args={"room": str(facts.care_room)}
        )
    if inviter_kind is Kind.INSURED:
        refusal = _patient_invite(invitee_kind, facts, room_id)
        if refusal is not None:
            return refusal
    if invitee_permissions is not None and not invitee_permissions.allows(
        inviter, inviter_is_insured=inviter_kind is Kind.INSURED
    ):
        return Refusal("invitee-permission-settings")
    return None


def is_new_chat_request(
    inviter_kind: Kind, invitee_kind: Kind, facts: InviteFacts, room_id: str | None
) -> bool:
    """An insured person asks a practice for a chat: the invite counts against the request
    limits. Inviting the practice back into the care chat both share is not a new request."""
    return (
        inviter_kind is Kind.INSURED
        and invitee_kind is Kind.PRACTICE
        and (facts.care_room is None or facts.care_room != room_id)
    )


def _patient_invite(invitee_kind: Kind, facts: InviteFacts, room_id: str | None) -> Refusal | None:
    if invitee_kind is not Kind.PRACTICE:
        return Refusal("patients-invite-only-reachable-practices")
    if not is_new_chat_request(Kind.INSURED, invitee_kind, facts, room_id):
        return None  # back into the chat they share (e.g. after the practice left)
    if not (facts.invitee_reachable or facts.code_grant):
        return Refusal("patients-invite-only-reachable-practices")
    if facts.open_requests >= facts.max_open:
        return Refusal("chat-request-limits", args={"limit": str(facts.max_open), "which": "open"})
    if facts.requests_today >= facts.max_per_day:
        return Refusal(
            "chat-request-limits", args={"limit": str(facts.max_per_day), "which": "day"}
        )
    return None


def invitees_of(config: Mapping[str, Any]) -> list[str]:
    invite = config.get("invite")
    return [u for u in invite if isinstance(u, str)] if isinstance(invite, list) else []


def decide_room_config(config: Mapping[str, Any]) -> Refusal | None:
    """The parts of a createRoom request that need no facts."""
    invites = config.get("invite") if isinstance(config.get("invite"), list) else []
    third = config.get("invite_3pid") if isinstance(config.get("invite_3pid"), list) else []
    if len(invites or []) + len(third or []) > 1:
        return Refusal("at-most-one-invitee", status=400)
    version = config.get("room_version")
    if version is not None and str(version) not in ALLOWED_ROOM_VERSIONS:
        return Refusal(
            "room-versions-without-privileged-creators", status=400,
            args={"version": str(version), "allowed": ", ".join(ALLOWED_ROOM_VERSIONS)},
        )  # fmt: skip
    if config.get("visibility") == "public":
        return Refusal("no-room-directory")
    if config.get("preset") == "public_chat":
        return Refusal("no-public-or-knock-rooms")
    initial = config.get("initial_state")
    for item in initial if isinstance(initial, list) else []:
        if isinstance(item, dict) and isinstance(item.get("content"), dict):
            refusal = decide_state(str(item.get("type")), item["content"], None)
            if refusal is not None:
                return refusal
    return None


def decide_state(
    event_type: str, content: Mapping[str, Any], current_encryption: Mapping[str, Any] | None
) -> Refusal | None:
    """A state event (at creation or later) that would open or unencrypt a room."""
    changed = current_encryption is not None and dict(content) != dict(current_encryption)
    if event_type == "m.room.encryption" and (changed or content.get("algorithm") != MEGOLM):
        return Refusal("always-encrypted")
    if event_type == "m.room.join_rules" and content.get("join_rule") in FORBIDDEN_JOIN_RULES:
        return Refusal("no-public-or-knock-rooms")
    if (
        event_type == "m.room.history_visibility"
        and content.get("history_visibility") == "world_readable"
    ):
        return Refusal("no-world-readable-history")
    return None


def care_power_levels(requested: object) -> dict[str, Any]:
    """The power-level override of a care chat: what the client asked for, with the redaction
    level out of everybody's reach (the first power-levels event of a room may set it; no
    later event can lower it, since that needs a level above it)."""
    levels = dict(requested) if isinstance(requested, Mapping) else {}
    levels["redact"] = CARE_REDACT_LEVEL
    return levels


def decide_join(joiner_kind: Kind, other_kinds: Iterable[Kind]) -> Refusal | None:
    """An insured person never joins a room that already holds another insured person."""
    if joiner_kind is Kind.INSURED and Kind.INSURED in set(other_kinds):
        return Refusal("insured-never-reach-insured")
    return None
