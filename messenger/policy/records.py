"""Policy facts per user, as the appservice sends them and the module keeps them: sans I/O.

A record says what a user is (role) and, for a patient, what the invite rules count: open chat
requests, when the requests of the last day were started, which practices' codes were redeemed,
and whom the patient shares a room with (joined or invited). The facts for one invite are
derived from the two records and the set of practices visible in the directory, so the module
decides without asking anybody.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field, replace
from typing import Any

from messenger.policy.rules import InviteFacts

DAY_MS = 86_400_000
PATIENT = "patient"
PRACTICE = "practice"


@dataclass(frozen=True)
class Limits:
    max_open: int = 5
    max_per_day: int = 10

    def as_json(self) -> dict[str, int]:
        return {"max_open": self.max_open, "max_per_day": self.max_per_day}

    @staticmethod
    def from_json(body: object) -> Limits | None:
        if not isinstance(body, Mapping):
            return None
        values = [body.get("max_open"), body.get("max_per_day")]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
            return None
        return Limits(max_open=int(body["max_open"]), max_per_day=int(body["max_per_day"]))


@dataclass(frozen=True)
class UserFacts:
    role: str | None
    open_requests: int = 0
    started: tuple[int, ...] = ()  # start times (ms) of the requests of the last day
    grants: frozenset[str] = frozenset()  # practices whose access code the patient redeemed
    peers: Mapping[str, str] = field(default_factory=dict)  # user -> a room shared with them
    # invite permission settings by account-data type (None: the user has none); a type not
    # here is not known to the appservice, and the module reads Synapse's account data
    permissions: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        known = {"permissions": dict(self.permissions)} if self.permissions else {}
        if self.role != PATIENT:
            return {"role": self.role, **known}
        return {
            **known,
            "role": self.role,
            "open": self.open_requests,
            "started": list(self.started),
            "grants": sorted(self.grants),
            "peers": dict(self.peers),
        }

    @staticmethod
    def from_json(body: object) -> UserFacts | None:
        """None for anything malformed (the caller treats the user as unknown)."""
        if not isinstance(body, Mapping):
            return None
        role = body.get("role")
        if role is not None and not isinstance(role, str):
            return None
        permissions = body.get("permissions", {})
        if not isinstance(permissions, Mapping) or not all(
            isinstance(k, str) and (v is None or isinstance(v, Mapping))
            for k, v in permissions.items()
        ):
            return None
        if role != PATIENT:
            return UserFacts(role=role, permissions=dict(permissions))
        open_requests, started = body.get("open"), body.get("started")
        grants, peers = body.get("grants"), body.get("peers")
        if not (isinstance(open_requests, int) and isinstance(started, list)):
            return None
        if not (isinstance(grants, list) and isinstance(peers, Mapping)):
            return None
        if not all(isinstance(t, int) for t in started) or not all(
            isinstance(g, str) for g in grants
        ):
            return None
        if not all(isinstance(u, str) and isinstance(r, str) for u, r in peers.items()):
            return None
        return UserFacts(
            role=role,
            open_requests=open_requests,
            started=tuple(started),
            grants=frozenset(grants),
            peers=dict(peers),
            permissions=dict(permissions),
        )


def role_in(user: str, facts: UserFacts | None, visible: Set[str]) -> tuple[bool, str | None]:
    """(known, role): from the record, or a practice when the directory shows the user (the
    appservice never lists an account of another role as visible)."""
    if facts is not None:
        return True, facts.role
    if user in visible:
        return True, PRACTICE
    return False, None


def invite_facts(
    inviter: str,
    invitee: str,
    inviter_facts: UserFacts | None,
    invitee_facts: UserFacts | None,
    visible: Set[str],
    limits: Limits,
    now_ms: int,
) -> InviteFacts:
    """What the rules need for one invite, from the two users' records (same meaning as the
    appservice's answer used to have: pair facts only between a patient and a practice)."""
    _k, inviter_role = role_in(inviter, inviter_facts, visible)
    _k, invitee_role = role_in(invitee, invitee_facts, visible)
    facts = InviteFacts(
        inviter_role=inviter_role,
        invitee_role=invitee_role,
        max_open=limits.max_open,
        max_per_day=limits.max_per_day,
    )
    if (inviter_role, invitee_role) == (PATIENT, PRACTICE):
        patient, practice, record = inviter, invitee, inviter_facts
    elif (inviter_role, invitee_role) == (PRACTICE, PATIENT):
        patient, practice, record = invitee, inviter, invitee_facts
    else:
        return facts
    assert record is not None  # a patient's role only comes from a record
    care_room = record.peers.get(practice)
    if patient != inviter:
        return replace(facts, care_room=care_room)
    since = now_ms - DAY_MS
    return replace(
        facts,
        care_room=care_room,
        invitee_reachable=practice in visible,
        code_grant=practice in record.grants,
        open_requests=record.open_requests,
        requests_today=sum(1 for at in record.started if at >= since),
        started=record.started,
    )
