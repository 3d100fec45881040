"""Session fixtures: one real Synapse + appservice per test worker (pytest-xdist, `-n 2`);
databases on SQLite and, where MESSENGER_TEST_POSTGRES_URL is set, PostgreSQL."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from messenger.db.database import Database
from tests.e2e_client import E2EUser
from tests.system import System, postgres_url

_counter = itertools.count()
SHARED_SCOPE = "tests/scaled/"  # these files share one scaled deployment (tests/scaled/conftest.py)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """pytest-xdist (`-n 2 --dist loadfile`): a file's tests on one worker, in their order, and
    the files of tests/scaled all on the same one, which starts the scaled deployment once."""
    from xdist.scheduler import LoadFileScheduling

    class Files(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            scope = str(super()._split_scope(nodeid))
            return SHARED_SCOPE if scope.startswith(SHARED_SCOPE) else scope

    return Files(config, log)


@pytest.fixture(scope="session")
async def system(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    running = System(tmp_path_factory.mktemp("system"))
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def e2e_user(
    system: System, tmp_path: Path
) -> AsyncIterator[Callable[[dict[str, str]], E2EUser]]:
    """Factory: log an account (from `system.add_account`) in with a fresh E2E device."""
    made: list[E2EUser] = []

    async def login(account: dict[str, str]) -> E2EUser:
        user = E2EUser(
            system.hs_url,
            account["user_id"],
            account["password"],
            tmp_path / f"store{next(_counter)}",
        )
        await user.login()
        made.append(user)
        return user

    yield login  # type: ignore[misc]
    for user in made:
        await user.close()


def _backends() -> list[object]:
    pg = postgres_url()
    return [
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                pg is None, reason="PostgreSQL not configured (set MESSENGER_TEST_POSTGRES_URL)"
            ),
        ),
    ]


@pytest.fixture(params=_backends())
async def fresh_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty database of each backend, dropped afterwards."""
    if request.param == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
        yield db
        await db.close()
        return
    base = make_url(postgres_url() or "")
    name = f"messenger_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = base.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    db = Database(base.set(database=name).render_as_string(hide_password=False))
    try:
        yield db
    finally:
        await db.close()
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
