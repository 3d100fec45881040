"""The pure rules: every decision from facts, without a homeserver."""

from __future__ import annotations

import pytest

from messenger.policy.permissions import PermissionConfigError, parse
from messenger.policy.reasons import reason_text
from messenger.policy.rules import (
    InviteFacts,
    Kind,
    decide_invite,
    decide_join,
    decide_room_config,
    decide_state,
    kind_of,
)

HERE = "kasse.example"
INSURERS = frozenset({"andere-kasse.example"})
P, DOC = "@p-1:kasse.example", "@praxis:kasse.example"
REACHABLE = InviteFacts("patient", "practice", invitee_reachable=True)


def rule(refusal: object) -> str | None:
    return getattr(refusal, "rule", None)


def test_kinds_local_by_role_remote_by_insurer_domain() -> None:
    assert kind_of(P, "patient", HERE, INSURERS) is Kind.INSURED
    assert kind_of("@x:andere-kasse.example", None, HERE, INSURERS) is Kind.INSURED
    assert kind_of("@x:praxis-server.example", "practice", HERE, INSURERS) is Kind.PRACTICE
    assert kind_of("@x:kasse.example", None, HERE, INSURERS) is Kind.OTHER
    assert kind_of("@x:kasse.example", "agent", HERE, INSURERS) is Kind.AGENT


def test_insured_never_invite_insured_local_or_remote() -> None:
    facts = InviteFacts("patient", "patient")
    assert rule(decide_invite(P, Kind.INSURED, Kind.INSURED, facts, "!r", None)) == (
        "insured-never-reach-insured"
    )
    remote = "@y:andere-kasse.example"
    assert rule(decide_invite(remote, Kind.INSURED, Kind.INSURED, facts, "!r", None)) == (
        "insured-never-reach-insured"
    )


def test_patient_reaches_only_reachable_practices_or_with_a_code() -> None:
    assert decide_invite(P, Kind.INSURED, Kind.PRACTICE, REACHABLE, None, None) is None
    hidden = InviteFacts("patient", "practice")
    assert rule(decide_invite(P, Kind.INSURED, Kind.PRACTICE, hidden, None, None)) == (
        "patients-invite-only-reachable-practices"
    )
    coded = InviteFacts("patient", "practice", code_grant=True)
    assert decide_invite(P, Kind.INSURED, Kind.PRACTICE, coded, None, None) is None
    assert rule(decide_invite(P, Kind.INSURED, Kind.AGENT, REACHABLE, None, None)) == (
        "patients-invite-only-reachable-practices"
    )


def test_one_care_chat_per_pair_and_reinvite_into_it() -> None:
    shared = InviteFacts("patient", "practice", care_room="!old")
    refusal = decide_invite(P, Kind.INSURED, Kind.PRACTICE, shared, "!new", None)
    assert rule(refusal) == "one-care-chat-per-patient-and-practice" and "!old" in reason_text(
        refusal  # type: ignore[arg-type]
    )
    assert decide_invite(P, Kind.INSURED, Kind.PRACTICE, shared, "!old", None) is None
    assert rule(decide_invite(DOC, Kind.PRACTICE, Kind.INSURED, shared, "!new", None)) == (
        "one-care-chat-per-patient-and-practice"
    )


def test_request_limits() -> None:
    full = InviteFacts("patient", "practice", invitee_reachable=True, open_requests=5)
    busy = InviteFacts("patient", "practice", invitee_reachable=True, requests_today=10)
    assert "offene Anfragen" in reason_text(decide_invite(P, Kind.INSURED, Kind.PRACTICE, full,
                                                         None, None))  # type: ignore[arg-type]  # fmt: skip
    assert "pro Tag" in reason_text(decide_invite(P, Kind.INSURED, Kind.PRACTICE, busy,
                                                  None, None))  # type: ignore[arg-type]  # fmt: skip


def test_permission_settings_of_the_invitee() -> None:
    block_all = parse({"defaultSetting": "block all", "userExceptions": {P: {}}}, pro=True)
    assert decide_invite(P, Kind.INSURED, Kind.PRACTICE, REACHABLE, None, block_all) is None
    other = "@p-2:kasse.example"
    assert rule(decide_invite(other, Kind.INSURED, Kind.PRACTICE, REACHABLE, None, block_all)) == (
        "invitee-permission-settings"
    )
    no_insured = parse(
        {"defaultSetting": "allow all", "groupExceptions": [{"groupName": "isInsuredPerson"}]},
        pro=True,
    )
    assert rule(decide_invite(P, Kind.INSURED, Kind.PRACTICE, REACHABLE, None, no_insured)) == (
        "invitee-permission-settings"
    )
    servers = parse({"defaultSetting": "allow all", "serverExceptions": {HERE: {}}}, pro=False)
    assert rule(decide_invite(DOC, Kind.PRACTICE, Kind.INSURED, REACHABLE, None, servers)) == (
        "invitee-permission-settings"
    )


def test_malformed_permission_settings_are_reported() -> None:
    with pytest.raises(PermissionConfigError, match="defaultSetting"):
        parse({"defaultSetting": "maybe"}, pro=False)
    with pytest.raises(PermissionConfigError, match="userExceptions"):
        parse({"defaultSetting": "allow all", "userExceptions": ["@a:b"]}, pro=False)
    with pytest.raises(PermissionConfigError, match="groupExceptions"):
        parse({"defaultSetting": "allow all", "groupExceptions": [{"groupName": "x"}]}, pro=True)
    assert parse(None, pro=True) is None


def test_bots_are_never_refused() -> None:
    facts = InviteFacts("bot", "patient")
    assert decide_invite("@_messenger_service:x", Kind.BOT, Kind.INSURED, facts, None, None) is None


@pytest.mark.parametrize(
    ("config", "expected", "status"),
    [
        ({"invite": ["@a:x", "@b:x"]}, "at-most-one-invitee", 400),
        ({"invite": ["@a:x"], "invite_3pid": [{}]}, "at-most-one-invitee", 400),
        ({"visibility": "public"}, "no-room-directory", 403),
        ({"preset": "public_chat"}, "no-public-or-knock-rooms", 403),
        (
            {"initial_state": [{"type": "m.room.encryption", "content": {}}]},
            "always-encrypted",
            403,
        ),
        (
            {"initial_state": [{"type": "m.room.join_rules", "content": {"join_rule": "knock"}}]},
            "no-public-or-knock-rooms",
            403,
        ),
        (
            {
                "initial_state": [
                    {
                        "type": "m.room.history_visibility",
                        "content": {"history_visibility": "world_readable"},
                    }
                ]
            },
            "no-world-readable-history",
            403,
        ),
    ],
)
def test_room_creation_shapes(config: dict[str, object], expected: str, status: int) -> None:
    refusal = decide_room_config(config)
    assert refusal is not None and (refusal.rule, refusal.status) == (expected, status)


def test_allowed_room_creation() -> None:
    assert decide_room_config({"invite": ["@a:x"], "preset": "trusted_private_chat"}) is None


def test_state_changes() -> None:
    megolm = {"algorithm": "m.megolm.v1.aes-sha2"}
    assert decide_state("m.room.encryption", megolm, None) is None
    assert decide_state("m.room.encryption", megolm, megolm) is None
    changed = {**megolm, "rotation_period_ms": 1}
    assert rule(decide_state("m.room.encryption", changed, megolm)) == "always-encrypted"
    for join_rule in ("public", "knock", "restricted", "knock_restricted"):
        assert decide_state("m.room.join_rules", {"join_rule": join_rule}, megolm) is not None
    assert decide_state("m.room.join_rules", {"join_rule": "invite"}, megolm) is None
    assert decide_state("m.room.history_visibility", {"history_visibility": "shared"}, None) is None


def test_join_into_a_room_with_another_insured_person() -> None:
    assert rule(decide_join(Kind.INSURED, [Kind.PRACTICE, Kind.INSURED])) == (
        "insured-never-reach-insured"
    )
    assert decide_join(Kind.INSURED, [Kind.PRACTICE, Kind.BOT]) is None
    assert decide_join(Kind.PRACTICE, [Kind.INSURED]) is None


def test_every_refusal_reads_in_german_and_english() -> None:
    text = reason_text(decide_room_config({"preset": "public_chat"}))  # type: ignore[arg-type]
    german, english = text.split(" / ")
    assert "Öffentliche" in german and "Public" in english


def test_permission_settings_as_synapse_hands_them_out_frozen() -> None:
    from types import MappingProxyType

    frozen = MappingProxyType(
        {
            "defaultSetting": "allow all",
            "userExceptions": MappingProxyType({P: MappingProxyType({})}),
            "groupExceptions": (MappingProxyType({"groupName": "isInsuredPerson"}),),
        }
    )
    config = parse(frozen, pro=True)
    assert config is not None and P in config.users and config.insured_group
