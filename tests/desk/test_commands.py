"""What patients and staff write to the desk bot, parsed; figures from ticket rows."""

from __future__ import annotations

import pytest

from messenger.config import DEFAULT_TOPICS, ConfigError, parse_config
from messenger.db.stores.desk import TicketRow
from messenger.desk.commands import (
    DeskCommand,
    parse_channel,
    parse_queue,
    parse_ticket_room,
    pick_topic,
)
from messenger.desk.content import forwarded, poll_answer
from messenger.desk.stats import report

HOUR = 3_600_000


@pytest.mark.parametrize(
    ("typed", "key"),
    [("2", "krankengeld"), ("2.", "krankengeld"), ("Krankengeld", "krankengeld"),
     ("kranken", "krankengeld"), ("Bescheinigung", "bescheinigungen"),
     ("kontakt", "kontaktdaten"), ("Beitraege", None), ("Mitgliedschaft", "mitgliedschaft"),
     ("sickness", "krankengeld"), ("7", None), ("0", None), ("Krankengeld wurde nicht gezahlt", None),
     ("ab", None)],
)  # fmt: skip
def test_topics_by_number_or_name(typed: str, key: str | None) -> None:
    topic = pick_topic(typed, DEFAULT_TOPICS)
    assert (topic.key if topic else None) == key


def test_channel_commands_and_messages() -> None:
    assert parse_channel("Themen").name == "topics"
    assert parse_channel("sprache englisch").argument == "en"
    assert parse_channel("Ich habe eine Frage").name == "message"
    assert parse_channel("Export").argument == "html"
    assert parse_channel("verlauf text") == DeskCommand(
        "export", argument="txt", language_hint="de"
    )
    assert parse_channel("export json").argument == "json"
    assert parse_channel("export meiner Daten bitte").name == "message"  # a sentence, not a command


@pytest.mark.parametrize(
    ("typed", "name", "ticket", "argument"),
    [("nehmen 12", "claim", 12, ""), ("claim #7", "claim", 7, ""), ("nehmen", "usage", None, "claim"),
     ("freigeben 3", "unclaim", 3, ""), ("zuweisen 4 @anna:kasse.example", "assign", 4,
     "@anna:kasse.example"), ("zuweisen 4 anna", "usage", None, "assign"), ("offen", "open", None, ""),
     ("meine", "mine", None, ""), ("hallo", "unknown", None, "")],
)  # fmt: skip
def test_queue_commands(typed: str, name: str, ticket: int | None, argument: str) -> None:
    command = parse_queue(typed)
    assert (command.name, command.ticket, command.argument) == (name, ticket, argument)


def test_in_the_ticket_room_text_is_a_reply_and_commands_never_go_out() -> None:
    assert parse_ticket_room("Guten Tag, Ihr Antrag ist da.").name == "reply"
    assert parse_ticket_room("!notiz Rückruf nötig").argument == "Rückruf nötig"
    assert parse_ticket_room("!notiz").name == "usage"
    assert parse_ticket_room("!vorlage eingang").argument == "eingang"
    assert parse_ticket_room("!vorlage").name == "canned_list"
    assert parse_ticket_room("!schliessen Alles erledigt").name == "close"
    assert parse_ticket_room("!unsinn").name == "unknown"


def test_forwarded_text_gets_its_author_media_stays_the_same_file() -> None:
    assert forwarded({"msgtype": "m.text", "body": "Hallo"}, "Anna")["body"] == "Anna: Hallo"
    image = {"msgtype": "m.image", "body": "a.png", "file": {"url": "mxc://x/y", "key": {}}}
    assert forwarded(image, "Anna") == image
    relation = {"msgtype": "m.text", "body": "x", "m.relates_to": {"rel_type": "m.thread"}}
    assert "m.relates_to" not in forwarded(relation, None)


def test_poll_answers_stable_and_unstable() -> None:
    stable = {"m.relates_to": {"rel_type": "m.reference", "event_id": "$p"},
              "m.selections": ["krankengeld"]}  # fmt: skip
    unstable = {"m.relates_to": {"rel_type": "m.reference", "event_id": "$p"},
                "org.matrix.msc3381.poll.response": {"answers": ["sonstiges"]}}  # fmt: skip
    assert poll_answer(stable) == ("$p", "krankengeld")
    assert poll_answer(unstable) == ("$p", "sonstiges")
    assert poll_answer({}) == (None, None)


def test_desk_config_errors_name_the_key() -> None:
    with pytest.raises(
        ConfigError, match=r"desk.business_hours: .*mon: '18:00-08:00' is not a period"
    ):
        parse_config({"desk": {"business_hours": {"mon": ["18:00-08:00"]}}})
    with pytest.raises(ConfigError, match=r"desk.business_hours: .*overlap"):
        parse_config({"desk": {"business_hours": {"mon": ["08:00-12:00", "11:00-14:00"]}}})
    with pytest.raises(ConfigError, match=r"desk.holidays: .*'2026-13-40' is not a date"):
        parse_config({"desk": {"holidays": ["2026-13-40"]}})
    with pytest.raises(ConfigError, match=r"desk.remind_at"):
        parse_config({"desk": {"remind_at": [1.5]}})
    with pytest.raises(ConfigError, match=r"desk.timezone"):
        parse_config({"desk": {"timezone": "Mars/Olympus"}})
    with pytest.raises(ConfigError, match=r"desk.topics.0.sla"):
        parse_config({"desk": {"topics": [{"key": "a", "de": "A", "en": "A", "sla": "soon"}]}})


def _ticket(number: int, **values: object) -> TicketRow:
    base: dict[str, object] = dict(
        id=number, patient_id="@p:x", channel_room_id="!c:x", topic="krankengeld", status="open",
        created_at=0, opened_at=0, agent_id=None, clock_started_at=0, due_at=24 * HOUR,
        first_due_at=24 * HOUR, next_reminder_at=None, reminders_sent=0, breached_at=None,
        escalated_at=None, first_response_at=None, closed_at=None, last_activity_at=0,
        hold=False, queue_event_id=None,
    )  # fmt: skip
    base.update(values)
    return TicketRow(**base)  # type: ignore[arg-type]


def test_figures_share_within_sla_first_response_quantiles_and_ages() -> None:
    rows = [
        _ticket(1, status="waiting", first_response_at=2 * HOUR),
        _ticket(2, status="closed", first_response_at=10 * HOUR),
        _ticket(3, status="closed", first_response_at=30 * HOUR, breached_at=24 * HOUR),
        _ticket(4, status="open", created_at=40 * HOUR, first_due_at=64 * HOUR),  # not yet due
        _ticket(5, status="open", topic="sonstiges"),  # overdue, unanswered
    ]
    figures = report(rows, now=48 * HOUR, since=0)
    assert figures.opened == 5 and figures.answered == 3 and figures.breaches == 1
    assert figures.share_within_sla == 0.5  # 2 of the 4 tickets that are answered or overdue
    assert figures.first_response_median_s == 10 * 3600
    assert figures.first_response_p90_s == 30 * 3600
    assert figures.open_by_topic["krankengeld"] == {">24h": 1, "4-24h": 1}
    assert figures.open_by_topic["sonstiges"] == {">24h": 1}
