"""On the scaled deployment: what a crash of Synapse's appservice notifier (the worker that
sends the appservice its transactions) lost on the way is sent again once the supervisor starts
it anew - the rewind on Synapse's PostgreSQL database."""

from __future__ import annotations

from typing import Any

from messenger.homeserver.postgres import PostgresTarget
from messenger.homeserver.workers import worker_map
from tests.homeserver.test_replay import SynapseRow, lost_join_is_replayed
from tests.scaled_system import ScaledSystem


def _postgres_row(system: ScaledSystem) -> SynapseRow:
    target = PostgresTarget.from_url(system.synapse_url)

    def row(query: str, params: tuple[str, ...]) -> tuple[Any, ...] | None:
        connection = target.connect(target.name)
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute(query.replace("?", "%s"), params)
                found: tuple[Any, ...] | None = cursor.fetchone()
        finally:
            connection.close()
        return found

    return row


async def test_a_join_queued_when_the_notifier_is_killed_reaches_the_appservice(
    system: ScaledSystem,
) -> None:
    scaled = system.settings.config.homeserver.scaled
    assert scaled is not None
    workers = worker_map(scaled)
    appservices = [f"appservice{n}" for n in range(1, len(workers.appservice_ports) + 1)]
    patient = system.add_account("patient", "Rita Replay")
    practice = system.add_listed_practice("Praxis Replay")
    await lost_join_is_replayed(
        system.settings.run_dir, system.hs_url, system.db, patient, practice,
        appservices or ["appservice"], workers.one("appservice").name,
        _postgres_row(system),
    )  # fmt: skip
    logged = (system.settings.log_dir / "up.log").read_text(encoding="utf-8")
    assert "sends the appservice again" in logged
