"""Benchmark: directory import rate and search latency (p50/p99 over a fixed mix of 1,000
queries) at 10k, 100k and 250k providers, on SQLite and PostgreSQL; in the same run, Synapse's own
`/user_directory/search` over the same providers as the reference (bench/synapse_directory.py).

Run: .venv/bin/python -m bench.directory_search [--sizes 10000,100000,250000] [--no-reference]
     [--write]
(PostgreSQL when MESSENGER_TEST_POSTGRES_URL is set; --write puts the tables into BENCHMARKS.md.)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import re
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from bench import synapse_directory
from bench.directory_data import providers, query_mix
from messenger.db.database import Database
from messenger.directory.importer import DirectoryImport
from messenger.directory.query import parse_free_text
from messenger.directory.records import Parsed
from messenger.directory.search import ProviderDirectory

ROOT = Path(__file__).resolve().parent.parent


async def measure(db: Database, size: int, reference: str | None) -> dict[str, float]:
    """Ours, then (unless `reference` is None) Synapse's on the same engine: "sqlite" or a
    PostgreSQL URL."""
    await db.migrate()
    records = providers(size)
    started = time.perf_counter()
    await DirectoryImport(db).run("bench", Parsed(records=records))
    imported = time.perf_counter() - started
    directory = ProviderDirectory(db)
    queries = [parse_free_text(q["text"]) for q in query_mix()]
    for query in queries[:50]:  # warm caches
        await directory.search(query)
    latencies = []
    empty = 0
    for query in queries:
        t0 = time.perf_counter()
        hits = await directory.search(query)
        latencies.append((time.perf_counter() - t0) * 1000)
        empty += not hits
    latencies.sort()
    synapse: dict[str, float] = {}
    if reference is not None:
        texts = [q["text"] for q in query_mix()]
        found = await synapse_directory.reference(
            records, texts, None if reference == "sqlite" else reference
        )
        synapse = {f"synapse_{key}": value for key, value in found.items()}
    return {
        **synapse,
        "import_s": imported,
        "import_rate": size / imported,
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
        "max": latencies[-1],
        "empty": empty,
    }


async def main(sizes: list[int], write: bool, with_reference: bool) -> None:
    rows = []
    pg = os.environ.get("MESSENGER_TEST_POSTGRES_URL")
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            db = Database(f"sqlite+aiosqlite:///{folder}/bench.db")
            reference = "sqlite" if with_reference else None
            rows.append(("SQLite", size, await measure(db, size, reference)))
            await db.close()
        if pg:
            base = make_url(pg)
            name = f"messenger_bench_{uuid.uuid4().hex[:8]}"
            admin = await asyncpg.connect(
                base.set(drivername="postgresql", database="postgres").render_as_string(
                    hide_password=False
                )
            )
            await admin.execute(f'CREATE DATABASE "{name}"')
            db = Database(base.set(database=name).render_as_string(hide_password=False))
            try:
                reference = pg if with_reference else None
                rows.append(("PostgreSQL", size, await measure(db, size, reference)))
            finally:
                await db.close()
                await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                await admin.close()
        print(rows[-1] if not pg else rows[-2:], flush=True)
    table = _table(rows)
    print(table)
    if write:
        target = ROOT / "BENCHMARKS.md"
        text = target.read_text()
        block = f"<!-- directory:start -->\n{table}\n<!-- directory:end -->"
        if "<!-- directory:start -->" in text:
            text = re.sub(
                r"<!-- directory:start -->.*<!-- directory:end -->", block, text, flags=re.S
            )
        else:
            text += "\n" + block + "\n"
        target.write_text(text)


def _table(rows: list[tuple[str, int, dict[str, float]]]) -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    lines = [
        f"Measured {datetime.date.today().isoformat()}: {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}; 1,000 queries per row (bench/directory_data.py mix).",
        "",
        "| backend | providers | import | import rate | search p50 | search p99 | max | no hit |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for backend, size, m in rows:
        lines.append(
            f"| {backend} | {size:,} | {m['import_s']:.1f} s | {m['import_rate']:,.0f}/s | "
            f"{m['p50']:.2f} ms | {m['p99']:.2f} ms | {m['max']:.1f} ms | {int(m['empty'])} |"
        )
    if any("synapse_p50" in m for _, _, m in rows):
        lines += [
            "",
            "Reference, same run: Synapse's `/user_directory/search` over the same providers "
            "(bench/synapse_directory.py), timed from the client over loopback HTTP; floor = "
            "median of a search that finds nothing (Synapse's request handling alone).",
            "",
            "| backend | providers | Synapse p50 | Synapse p99 | max | floor | no hit | "
            "p50 Synapse/ours | p99 Synapse/ours |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for backend, size, m in rows:
            if "synapse_p50" not in m:
                continue
            lines.append(
                f"| {backend} | {size:,} | {m['synapse_p50']:.2f} ms | {m['synapse_p99']:.2f} ms "
                f"| {m['synapse_max']:.1f} ms | {m['synapse_floor']:.2f} ms | "
                f"{int(m['synapse_empty'])} | {m['synapse_p50'] / m['p50']:.1f}× | "
                f"{m['synapse_p99'] / m['p99']:.1f}× |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000,250000")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--no-reference", action="store_true", help="skip Synapse's search")
    arguments = parser.parse_args()
    sizes = [int(s) for s in arguments.sizes.split(",")]
    asyncio.run(main(sizes, arguments.write, not arguments.no_reference))
