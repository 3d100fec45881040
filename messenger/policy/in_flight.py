"""Chat requests the module let through that the patient's record does not show yet. Sans I/O.

The appservice learns of a request from the invite event (after its transaction window) and the
module learns of it from the change log after that: for up to a few hundred milliseconds a
patient's record still shows the old number of open requests. Without this, a burst of requests
(several createRoom calls at once) would each be decided on that old number and all pass the
open-request and per-day limits.

Each allowed request is noted with the time it was allowed. It counts as open, and as one of
today's, until the record lists a request started at or after that time - the invite event is
made after the check, by the same process and clock - and at most IN_FLIGHT_MS (an invite that
failed after the check never reaches the record). Matching is oldest first, so each started
request accounts for one noted request.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, replace

from messenger.policy.rules import InviteFacts

IN_FLIGHT_MS = 60_000


@dataclass(frozen=True)
class Reservation:
    patient: str
    at: int  # ms, when the request was allowed


class RequestsInFlight:
    def __init__(self, keep_ms: int = IN_FLIGHT_MS) -> None:
        self._keep_ms = keep_ms
        self._allowed: dict[str, list[int]] = {}  # patient -> allow times (ms), ascending
        self._swept_at = 0

    def admit(
        self, patient: str, facts: InviteFacts, now_ms: int
    ) -> tuple[InviteFacts, Reservation]:
        """A new chat request about to be decided: the facts with the patient's unseen
        requests counted, and this one reserved - in one synchronous step, so that no other
        decision reads the count in between. Cancel the reservation if the request is refused."""
        unseen = self.unseen(patient, facts.started, now_ms)
        counted = replace(
            facts,
            open_requests=facts.open_requests + unseen,
            requests_today=facts.requests_today + unseen,
        )
        return counted, self.reserve(patient, now_ms)

    def unseen(self, patient: str, started: Sequence[int], now_ms: int) -> int:
        """How many of the patient's allowed requests the record (`started`: start times of
        the requests of the last day) does not show yet."""
        times = self._current(patient, now_ms)
        shown = sorted(started)
        unseen, next_shown = 0, 0
        for at in times:
            found = bisect.bisect_left(shown, at, lo=next_shown)
            if found < len(shown):
                next_shown = found + 1  # this started request accounts for this allowance
            else:
                unseen += 1
        return unseen

    def reserve(self, patient: str, now_ms: int) -> Reservation:
        if now_ms - self._swept_at > self._keep_ms:  # patients who never asked again
            self._swept_at = now_ms
            for someone in list(self._allowed):
                self._current(someone, now_ms)
        bisect.insort(self._allowed.setdefault(patient, []), now_ms)
        return Reservation(patient, now_ms)

    def cancel(self, reservation: Reservation) -> None:
        """The request was refused after all (or failed before its invite was made)."""
        times = self._allowed.get(reservation.patient)
        if times and reservation.at in times:
            times.remove(reservation.at)
            if not times:
                del self._allowed[reservation.patient]

    def _current(self, patient: str, now_ms: int) -> list[int]:
        times = self._allowed.get(patient)
        if not times:
            return []
        recent = [at for at in times if at > now_ms - self._keep_ms]
        if recent:
            self._allowed[patient] = recent
        else:
            del self._allowed[patient]
        return recent

    def __len__(self) -> int:
        return sum(len(times) for times in self._allowed.values())
