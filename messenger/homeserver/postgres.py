"""Creating the scaled deployment's PostgreSQL databases when they do not exist yet: Synapse's
with the locale it requires (UTF8, C collation, from template0 — docs/postgres.md; it refuses
another unless told to), ours with the server's defaults. Uses psycopg2, which Synapse's
`postgres` extra brings."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import psycopg2
from psycopg2 import sql


class DatabaseSetupError(Exception):
    pass


@dataclass(frozen=True)
class PostgresTarget:
    host: str
    port: int
    user: str | None
    password: str | None
    name: str

    @staticmethod
    def from_url(url: str) -> PostgresTarget:
        """From postgresql://… or postgresql+asyncpg://…"""
        parts = urlsplit(url.replace("postgresql+asyncpg://", "postgresql://", 1))
        return PostgresTarget(
            parts.hostname or "127.0.0.1",
            parts.port or 5432,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
            parts.path.lstrip("/"),
        )

    def connect(self, database: str) -> psycopg2.extensions.connection:
        return psycopg2.connect(
            host=self.host, port=self.port, user=self.user, password=self.password,
            dbname=database, connect_timeout=10,
        )  # fmt: skip


def ensure_database(url: str, *, for_synapse: bool) -> bool:
    """Create the database named in `url` if it is missing; True if it was created. Synapse's
    existing database is checked for the locale Synapse needs (a clear error if wrong)."""
    target = PostgresTarget.from_url(url)
    try:
        connection = target.connect("postgres")
    except psycopg2.OperationalError as error:
        raise DatabaseSetupError(
            f"PostgreSQL at {target.host}:{target.port} not reachable for {target.name!r}: "
            f"{str(error).strip()}"
        ) from None
    try:
        connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT datcollate, datctype FROM pg_database WHERE datname = %s",
                (target.name,),
            )
            row = cursor.fetchone()
            if row is not None:
                if for_synapse and (row[0] != "C" or row[1] != "C"):
                    raise DatabaseSetupError(
                        f"Synapse's database {target.name!r} has LC_COLLATE={row[0]} "
                        f"LC_CTYPE={row[1]}; Synapse needs C for both: create it anew with "
                        "ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
                    )
                return False
            statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.name))
            if for_synapse:
                statement += sql.SQL(
                    " ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
                )
            cursor.execute(statement)
            return True
    except psycopg2.Error as error:
        raise DatabaseSetupError(
            f"could not create the database {target.name!r}: {str(error).strip()}"
        ) from None
    finally:
        connection.close()


def drop_database(url: str) -> None:
    """Drop the database (tests and benchmarks clean up with it)."""
    target = PostgresTarget.from_url(url)
    connection = target.connect("postgres")
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(target.name)
                )
            )
    finally:
        connection.close()
