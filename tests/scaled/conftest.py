"""The tests of this folder run on the scaled deployment (tests/scaled_system.py) instead of
the session's embedded one: the fixture `system` is overridden here, so the end-to-end tests
imported into test_smoke.py run unchanged against Synapse workers behind nginx, with our
appservice as two processes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.scaled_system import ScaledSystem, missing


@pytest.fixture(scope="package")
async def system(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ScaledSystem]:
    reason = missing()
    if reason is not None:
        pytest.skip(f"scaled deployment not possible here: {reason}")
    # two appservice processes behind nginx, so every test here also runs against that
    # (test_two_appservices.py: one of them leads; a job every second shows it runs once)
    running = ScaledSystem(
        tmp_path_factory.mktemp("scaled"), appservice_processes=2, chat_requests_check="1s"
    )
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
