"""How long invite decisions take inside Synapse (facts fetch + rules), for operators and the
benchmark: the last 10,000 decisions, summarised as count, p50, p99 and max in milliseconds."""

from __future__ import annotations

from collections import deque


class DecisionTimes:
    def __init__(self, keep: int = 10_000) -> None:
        self._seconds: deque[float] = deque(maxlen=keep)
        self.total = 0

    def add(self, seconds: float) -> None:
        self._seconds.append(seconds)
        self.total += 1

    def summary(self) -> dict[str, float | int]:
        ordered = sorted(self._seconds)
        if not ordered:
            return {"count": self.total}

        def at(fraction: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 3)

        return {"count": self.total, "window": len(ordered), "p50_ms": at(0.5),
                "p99_ms": at(0.99), "max_ms": round(ordered[-1] * 1000, 3)}  # fmt: skip
