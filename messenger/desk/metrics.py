"""Prometheus metrics of the desk, served by the appservice at /metrics. The figures are
refreshed in the background (every 30 s) and exported from the last refresh, so a scrape never
waits on the database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from messenger.db.database import now_ms
from messenger.desk.stats import DeskReport, DeskStats

log = logging.getLogger(__name__)
WINDOW_MS = 30 * 86_400_000
REFRESH_S = 30.0


class DeskMetrics(Collector):
    def __init__(self, stats: DeskStats) -> None:
        self._stats = stats
        self._report: DeskReport | None = None
        self.registry = CollectorRegistry()
        self.registry.register(self)

    async def refresh(self) -> None:
        now = now_ms()
        self._report = await self._stats.report(now, now - WINDOW_MS)

    async def run(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:
                log.exception("desk metrics not refreshed")
            await asyncio.sleep(REFRESH_S)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        report = self._report
        if report is None:
            return
        open_tickets = GaugeMetricFamily(
            "messenger_desk_open_tickets", "Open tickets by topic and age", labels=["topic", "age"]
        )
        for topic, ages in sorted(report.open_by_topic.items()):
            for age, count in sorted(ages.items()):
                open_tickets.add_metric([topic, age], count)
        yield open_tickets
        share = GaugeMetricFamily(
            "messenger_desk_answered_within_sla_ratio",
            "Share of tickets (opened in the last 30 days) answered within the SLA",
        )
        if report.share_within_sla is not None:  # no answered or overdue ticket: no share
            share.add_metric([], report.share_within_sla)
        yield share
        frt = GaugeMetricFamily(
            "messenger_desk_first_response_seconds",
            "First-response time of tickets opened in the last 30 days", labels=["quantile"],
        )  # fmt: skip
        for quantile, value in (("0.5", report.first_response_median_s),
                                ("0.9", report.first_response_p90_s)):  # fmt: skip
            if value is not None:
                frt.add_metric([quantile], value)
        yield frt
        breaches = GaugeMetricFamily(
            "messenger_desk_breaches", "SLA breaches of tickets opened in the last 30 days"
        )
        breaches.add_metric([], report.breaches)
        yield breaches
        opened = GaugeMetricFamily("messenger_desk_opened_tickets", "Tickets opened in 30 days")
        opened.add_metric([], report.opened)
        yield opened
