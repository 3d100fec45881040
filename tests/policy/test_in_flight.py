"""Requests allowed by the module but not yet in the patient's record still count (sans I/O)."""

from __future__ import annotations

from messenger.policy.in_flight import RequestsInFlight
from messenger.policy.rules import InviteFacts, Kind, is_new_chat_request

P = "@p-1:localhost"


def test_an_allowed_request_counts_until_the_record_shows_it() -> None:
    flight = RequestsInFlight()
    assert flight.unseen(P, [], 1_000) == 0
    flight.reserve(P, 1_000)
    flight.reserve(P, 1_010)
    assert flight.unseen(P, [], 1_020) == 2
    assert flight.unseen(P, [1_003], 1_020) == 1  # the first one's invite reached the record
    assert flight.unseen(P, [1_003, 1_012], 1_020) == 0
    assert flight.unseen("@p-2:localhost", [], 1_020) == 0  # per patient


def test_a_request_started_before_the_allowance_does_not_account_for_it() -> None:
    flight = RequestsInFlight()
    flight.reserve(P, 5_000)
    assert flight.unseen(P, [1_000, 4_999], 5_001) == 1  # older requests, already counted
    assert flight.unseen(P, [1_000, 5_000], 5_001) == 0  # same millisecond: the invite


def test_one_started_request_accounts_for_one_allowance() -> None:
    flight = RequestsInFlight()
    for at in (100, 101, 102):
        flight.reserve(P, at)
    assert flight.unseen(P, [150], 200) == 2


def test_a_refused_or_forgotten_request_stops_counting() -> None:
    flight = RequestsInFlight(keep_ms=1_000)
    refused = flight.reserve(P, 100)
    flight.reserve(P, 200)
    flight.cancel(refused)
    flight.cancel(refused)  # twice is harmless
    assert flight.unseen(P, [], 300) == 1
    assert flight.unseen(P, [], 1_250) == 0  # never reached the record: expired
    assert len(flight) == 0


def test_patients_who_never_ask_again_are_swept() -> None:
    flight = RequestsInFlight(keep_ms=1_000)
    for n in range(50):
        flight.reserve(f"@p-{n}:localhost", 100)
    assert len(flight) == 50
    flight.reserve(P, 5_000)
    assert len(flight) == 1


def test_admit_counts_the_unseen_requests_and_reserves_this_one() -> None:
    flight = RequestsInFlight()
    facts = InviteFacts("patient", "practice", open_requests=1, requests_today=1, started=(900,))
    first, reservation = flight.admit(P, facts, 1_000)
    assert (first.open_requests, first.requests_today) == (1, 1)  # nothing in flight yet
    second, _ = flight.admit(P, facts, 1_001)
    assert (second.open_requests, second.requests_today) == (2, 2)  # the first one counts
    flight.cancel(reservation)  # the first was refused after all
    third, _ = flight.admit(P, facts, 1_002)
    assert (third.open_requests, third.requests_today) == (2, 2)  # only the second counts


def test_only_a_new_request_of_an_insured_person_to_a_practice_is_counted() -> None:
    facts = InviteFacts("patient", "practice", care_room="!care:localhost")
    assert is_new_chat_request(Kind.INSURED, Kind.PRACTICE, facts, None)
    assert is_new_chat_request(Kind.INSURED, Kind.PRACTICE, facts, "!other:localhost")
    assert not is_new_chat_request(Kind.INSURED, Kind.PRACTICE, facts, "!care:localhost")
    assert not is_new_chat_request(Kind.PRACTICE, Kind.INSURED, facts, None)
    assert not is_new_chat_request(Kind.INSURED, Kind.AGENT, facts, None)
