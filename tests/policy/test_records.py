"""The per-user policy records and the invite facts derived from two of them (pure)."""

from __future__ import annotations

from messenger.policy.records import DAY_MS, Limits, UserFacts, invite_facts, role_in

NOW = 10 * DAY_MS
ANNA, DOC, OTHER = "@p-anna:x", "@praxis:x", "@praxis-b:x"
ANNA_FACTS = UserFacts(
    role="patient", open_requests=2, started=(NOW - DAY_MS - 1, NOW - 5, NOW - 1),
    grants=frozenset({OTHER}), peers={DOC: "!care"},
)  # fmt: skip


def test_records_round_trip_and_malformed_ones_are_refused() -> None:
    assert UserFacts.from_json(ANNA_FACTS.as_json()) == ANNA_FACTS
    assert UserFacts.from_json({"role": "practice", "open": "x"}) == UserFacts(role="practice")
    for broken in (
        [],
        {"role": 3},
        {"role": "patient"},
        {**ANNA_FACTS.as_json(), "started": ["soon"]},
        {**ANNA_FACTS.as_json(), "peers": {DOC: 1}},
    ):
        assert UserFacts.from_json(broken) is None
    assert Limits.from_json({"max_open": 0, "max_per_day": 3}) is None
    assert Limits.from_json({"max_open": 2, "max_per_day": 3}) == Limits(2, 3)


def test_a_visible_id_is_a_practice_without_a_record() -> None:
    assert role_in(DOC, None, {DOC}) == (True, "practice")
    assert role_in(DOC, None, set()) == (False, None)
    assert role_in(DOC, UserFacts(role=None), {DOC}) == (True, None)  # the record wins


def test_patient_to_practice_facts_come_from_the_patient_record() -> None:
    facts = invite_facts(ANNA, OTHER, ANNA_FACTS, None, {DOC, OTHER}, Limits(5, 10), NOW)
    assert (facts.inviter_role, facts.invitee_role) == ("patient", "practice")
    assert facts.invitee_reachable and facts.code_grant and facts.care_room is None
    assert (facts.open_requests, facts.requests_today) == (2, 2)  # one start is a day old
    assert (facts.max_open, facts.max_per_day) == (5, 10)
    practice = UserFacts(role="practice")  # a practice that is not visible has a record
    shared = invite_facts(ANNA, DOC, ANNA_FACTS, practice, set(), Limits(), NOW)
    assert shared.care_room == "!care" and not shared.invitee_reachable


def test_practice_to_patient_sees_only_the_shared_room() -> None:
    facts = invite_facts(DOC, ANNA, None, ANNA_FACTS, {DOC}, Limits(), NOW)
    assert facts.care_room == "!care" and facts.open_requests == 0 and not facts.code_grant
    other = invite_facts(
        "@agent:x", ANNA, UserFacts(role="agent"), ANNA_FACTS, set(), Limits(), NOW
    )
    assert other.care_room is None and other.invitee_role == "patient"
