"""The answer pace: small transactions under traffic wait out the window; nothing else waits."""

from __future__ import annotations

import asyncio

from messenger.bridge.pace import FULL, AnswerPace


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sparse_traffic_is_answered_at_once() -> None:
    clock = Clock()
    pace = AnswerPace(0.25, clock)
    assert pace.hold(1) == 0.0
    clock.now += 5
    assert pace.hold(1) == 0.0


def test_back_to_back_small_transactions_are_spaced_by_the_window() -> None:
    clock = Clock()
    pace = AnswerPace(0.25, clock)
    assert pace.hold(1) == 0.0  # answered at 1000.00
    clock.now += 0.01  # Synapse's next transaction, handled 10 ms later
    assert abs(pace.hold(3) - 0.24) < 1e-9  # answered at 1000.25
    clock.now = 1000.26
    assert abs(pace.hold(2) - 0.24) < 1e-9  # answered at 1000.50


def test_a_full_transaction_is_never_held() -> None:
    clock = Clock()
    pace = AnswerPace(0.25, clock)
    pace.hold(1)
    clock.now += 0.01
    assert pace.hold(FULL) == 0.0  # a backlog: catch up at full speed
    clock.now += 0.01
    assert pace.hold(FULL) == 0.0


def test_window_zero_never_holds() -> None:
    clock = Clock()
    pace = AnswerPace(0.0, clock)
    assert [pace.hold(1) for _ in range(3)] == [0.0, 0.0, 0.0]


def test_after_release_nothing_is_held() -> None:
    clock = Clock()
    pace = AnswerPace(0.25, clock)
    pace.hold(1)
    pace.release()  # the appservice is stopping: Synapse may empty its queue at full speed
    clock.now += 0.01
    assert pace.hold(1) == 0.0


async def test_release_ends_a_held_answer_at_once() -> None:
    pace = AnswerPace(5.0)
    pace.hold(1)  # the previous answer: the next small one would wait 5 s
    waiting = asyncio.ensure_future(pace.wait(1))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    pace.release()
    await asyncio.wait_for(waiting, 1)
