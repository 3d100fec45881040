"""`messenger`: init, up, serve, status, accounts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
import click
import yaml

from messenger import __version__
from messenger.cli.accounts import accounts
from messenger.cli.common import data_dir_option, emit_json, resolve_data_dir, run, settings_for
from messenger.cli.desk import desk
from messenger.cli.directory import directory
from messenger.cli.export import export
from messenger.cli.migrate import migrate_db, unmoved_ours
from messenger.cli.retention import retention
from messenger.config import ConfigError, example_config_text, load_config, parse_config
from messenger.homeserver.replay import rewind_postgres, rewind_sqlite
from messenger.homeserver.sqlite_stats import analyze, has_statistics
from messenger.homeserver.workers import LOOPBACK, worker_map
from messenger.logs import setup_logging
from messenger.settings import Settings, config_path, generate_secrets
from messenger.supervisor import Child, Supervisor, SupervisorError, pid_alive

log = logging.getLogger(__name__)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="messenger")
def cli() -> None:
    """End-to-end encrypted health messenger on Matrix (Synapse + appservice + bots)."""


def _init(
    data_dir: Path, server_name: str | None, port: int | None, as_port: int | None
) -> list[str]:
    """Create the data dir, config and secrets where missing. Returns notes for the user.

    An existing config is never rewritten; a new one is validated before it is written.
    """
    notes: list[str] = []
    target = config_path(data_dir)
    if target.exists():
        existing = load_config(target)
        asked = {
            "homeserver.server_name": (server_name, existing.homeserver.server_name),
            "homeserver.port": (port, existing.homeserver.port),
            "appservice.port": (as_port, existing.appservice.port),
        }
        for key, (wanted, current) in asked.items():
            if wanted is not None and wanted != current:
                notes.append(
                    f"{target} exists and keeps {key}: {current} (not {wanted}); edit it to change"
                )
    else:
        text = example_config_text()
        if server_name:
            text = text.replace("  server_name: localhost", f"  server_name: {server_name}", 1)
        if port:
            text = text.replace("  port: 8008", f"  port: {port}", 1)
        if as_port:
            text = text.replace("  port: 29330", f"  port: {as_port}", 1)
        parse_config(yaml.safe_load(text), "the options given")  # raises before anything is written
        data_dir.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        notes.append(f"wrote {target}")
    made = generate_secrets(data_dir)
    if made:
        notes.append(f"generated secrets {', '.join(made)} in {data_dir / 'secrets'} (mode 0600)")
    return notes


@cli.command()
@data_dir_option
@click.option("--server-name", help="Matrix domain, e.g. kasse.example (default localhost)")
@click.option("--port", type=click.IntRange(1, 65535), help="Homeserver port (default 8008)")
@click.option(
    "--appservice-port", type=click.IntRange(1, 65535), help="Appservice port (default 29330)"
)
def init(
    data_dir: Path | None, server_name: str | None, port: int | None, appservice_port: int | None
) -> None:
    """Create the data directory, config and secrets (idempotent; never overwrites your config)."""
    folder = resolve_data_dir(data_dir)
    try:
        notes = _init(folder, server_name, port, appservice_port)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    for note in notes:
        click.echo(note)
    click.echo(f"data directory ready: {folder}")


async def _http_ok(url: str) -> bool:
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, timeout=aiohttp.ClientTimeout(total=3)) as response,
        ):
            return response.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


def _state_file(settings: Settings) -> Path:
    return settings.run_dir / "up.json"


def _children(settings: Settings) -> list[Child]:
    from messenger.homeserver.synapse_config import write_synapse_config

    cfg = settings.config
    children = []
    if cfg.homeserver.mode == "embedded" and cfg.homeserver.scaled is not None:
        children.extend(_scaled_homeserver(settings))
    elif cfg.homeserver.mode == "embedded":
        synapse_db = settings.synapse_sqlite
        children.append(
            Child(
                "synapse",
                write_synapse_config(settings),
                settings.log_dir / "synapse.stdout.log",
                lambda: _http_ok(cfg.homeserver.client_url + "/health"),
                # what a crash lost on the way to the appservice is sent again
                prepare=(lambda: rewind_sqlite(synapse_db)) if synapse_db else None,
            )
        )
    serve = [sys.executable, "-m", "messenger", "serve", "--data-dir", str(settings.data_dir)]
    scaled = cfg.homeserver.scaled
    ports = worker_map(scaled).appservice_ports if scaled is not None else ()
    if not ports:
        children.append(
            Child(
                "appservice",
                serve,
                settings.log_dir / "appservice.stdout.log",
                lambda: _http_ok(cfg.appservice.url + "/_messenger/health"),
            )
        )
    for number, port in enumerate(ports, start=1):
        children.append(
            Child(
                f"appservice{number}",
                [*serve, "--instance", str(number)],
                settings.log_dir / f"appservice{number}.stdout.log",
                lambda url=f"http://{LOOPBACK}:{port}/_messenger/health": _http_ok(url),  # type: ignore[misc]
            )
        )
    return children


def _scaled_homeserver(settings: Settings) -> list[Child]:
    """Synapse's main process, its workers and the proxy in front of them, after their
    PostgreSQL databases exist (created with the right locale when missing)."""
    from messenger.homeserver.port_db import unmoved_sqlite
    from messenger.homeserver.postgres import DatabaseSetupError, ensure_database
    from messenger.homeserver.proxy import write_nginx_config
    from messenger.homeserver.synapse_config import write_scaled_config

    cfg = settings.config
    scaled = cfg.homeserver.scaled
    assert scaled is not None and cfg.database.url is not None
    unmoved = unmoved_sqlite(settings) or unmoved_ours(settings)
    if unmoved is not None:
        raise click.ClickException(
            f"{unmoved} holds the embedded deployment's data: run `messenger migrate-db` to "
            "move it to PostgreSQL before the scaled deployment starts"
        )
    if shutil.which(scaled.nginx_binary) is None:
        raise click.ClickException(
            f"homeserver.scaled.nginx_binary: {scaled.nginx_binary!r} not found; install nginx "
            "(Debian/Ubuntu: apt install nginx) or give its path"
        )
    try:
        for url, for_synapse in ((scaled.synapse_database, True), (cfg.database.url, False)):
            if ensure_database(url, for_synapse=for_synapse):
                click.echo(f"created the database {url.rsplit('/', 1)[1]}")
    except DatabaseSetupError as error:
        raise click.ClickException(str(error)) from None
    notifier = worker_map(scaled).one("appservice").name
    children = [
        Child(
            process.name,
            process.argv,
            settings.log_dir / f"{process.name}.stdout.log",
            lambda url=process.health_url: _http_ok(url),  # type: ignore[misc]
            # what a crash lost on the way to the appservice is sent again
            prepare=(lambda: rewind_postgres(scaled.synapse_database))
            if process.name == notifier
            else None,
        )
        for process in write_scaled_config(settings)
    ]
    children.append(
        Child(
            "nginx",
            write_nginx_config(settings),
            settings.log_dir / "nginx.stdout.log",
            lambda: _http_ok(cfg.homeserver.client_url + "/health"),
        )
    )
    return children


@cli.command()
@data_dir_option
def up(data_dir: Path | None) -> None:
    """Run everything in the foreground: Synapse, the appservice and its bots. Ctrl-C stops all."""
    folder = resolve_data_dir(data_dir)
    if not config_path(folder).exists():
        try:
            notes = _init(folder, None, None, None)
        except ConfigError as error:
            raise click.ClickException(str(error)) from None
        for note in notes:
            click.echo(note)
    generate_secrets(folder)  # secrets a newer version added; existing ones are kept
    settings = settings_for(folder)
    setup_logging(settings.log_dir, settings.config.logging.level, "up")
    state = _state_file(settings)
    if state.exists():
        previous = json.loads(state.read_text())
        if pid_alive(int(previous.get("pid", 0))):
            raise click.ClickException(
                f"already running (pid {previous['pid']}); see `messenger status`"
            )
    synapse_db = settings.synapse_sqlite
    if synapse_db is not None and not has_statistics(synapse_db):  # once; then the daily job
        analyze(synapse_db)
    children = _children(settings)
    settings.run_dir.mkdir(parents=True, exist_ok=True)

    def record() -> None:
        state.write_text(
            json.dumps({"pid": os.getpid(), "children": {c.name: c.pid for c in children}})
        )

    supervisor = Supervisor(children, record)
    try:
        asyncio.run(_up(settings, supervisor))
    except SupervisorError as error:
        raise click.ClickException(str(error)) from None
    finally:
        state.unlink(missing_ok=True)
    click.echo("stopped.")


async def _up(settings: Settings, supervisor: Supervisor) -> None:
    async def announce() -> None:
        while not all(child.pid for child in supervisor.children):
            await asyncio.sleep(0.5)
        for child in supervisor.children:
            while not await child.ready():
                await asyncio.sleep(0.5)
        cfg = settings.config
        click.echo(
            "\nmessenger is running.\n"
            f"  homeserver:  {cfg.homeserver.public_url}   "
            f"(server name {cfg.homeserver.server_name})\n"
            f"  appservice:  {cfg.appservice.url}\n"
            f"  data:        {settings.data_dir}   (logs in {settings.log_dir})\n\n"
            "Create an account (in another terminal):\n"
            f"  .venv/bin/messenger accounts add --data-dir {settings.data_dir} "
            '--role patient --display-name "Erika Mustermann"\n'
            "Then sign in with any Matrix client (Element, FluffyChat, ...): choose a custom "
            f"homeserver {cfg.homeserver.public_url} and the user ID and password printed.\n"
            "Press Ctrl-C to stop everything."
        )

    announcer = asyncio.create_task(announce())
    try:
        await supervisor.run()
    finally:
        announcer.cancel()


@cli.command()
@data_dir_option
@click.option(
    "--instance",
    type=click.IntRange(1, 4),
    help="Which of the scaled deployment's appservice processes (`messenger up` passes it)",
)
def serve(data_dir: Path | None, instance: int | None) -> None:
    """Run only the appservice and its bots, against the Synapse named in the config."""
    generate_secrets(resolve_data_dir(data_dir))  # secrets a newer version added
    settings = settings_for(data_dir)
    from messenger.homeserver.workers import InstanceError, instance_port

    try:
        instance_port(settings, instance)
    except InstanceError as error:
        raise click.ClickException(str(error)) from None
    name = "appservice" if instance is None else f"appservice{instance}"
    setup_logging(settings.log_dir, settings.config.logging.level, name)
    if not run(_serve(settings, instance)):
        sys.exit(3)  # lease lost: the supervisor starts this process again, as a standby


async def _serve(settings: Settings, instance: int | None = None) -> bool:
    """Run until stopped (True) or until this process must end (False: lease lost)."""
    from messenger.app import App

    if settings.config.homeserver.mode == "external":
        from messenger.homeserver.synapse_config import write_registration

        log.info(
            "external homeserver: list %s in Synapse's app_service_config_files and load the "
            "module messenger.policy.PolicyModule (see README)",
            write_registration(settings),
        )
    app = App(settings, instance)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        starting = asyncio.create_task(app.start())
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([starting, waiter], return_when=asyncio.FIRST_COMPLETED)
        if starting in done:
            starting.result()
            log.info("appservice ready")
            halted = asyncio.create_task(app.halted.wait())
            await asyncio.wait([waiter, halted], return_when=asyncio.FIRST_COMPLETED)
            halted.cancel()
        else:
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await starting
    finally:
        log.info("appservice stopping")
        await app.stop()
    return not app.halted.is_set()


@cli.command()
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output")
def status(data_dir: Path | None, as_json: bool) -> None:
    """Homeserver URL, appservice URL and the health of each process and bot.

    Exits 1 unless everything is up and every bot is ready."""
    settings = settings_for(data_dir)
    cfg = settings.config

    scaled = cfg.homeserver.scaled
    ports = worker_map(scaled).appservice_ports if scaled is not None else ()
    # several appservice processes: each asked itself (the front would answer for either)
    urls = [f"http://{LOOPBACK}:{port}" for port in ports] or [cfg.appservice.url]

    async def health(session: aiohttp.ClientSession, url: str) -> dict[str, Any] | None:
        try:
            async with session.get(
                url + "/_messenger/health", timeout=aiohttp.ClientTimeout(total=3)
            ) as response:
                return await response.json() if response.status == 200 else None
        except (aiohttp.ClientError, TimeoutError):
            return None

    async def probe() -> dict[str, object]:
        hs_ok = await _http_ok(cfg.homeserver.client_url + "/health")
        async with aiohttp.ClientSession() as session:
            instances = [{"url": url, "detail": await health(session, url)} for url in urls]
        details = [i["detail"] for i in instances if isinstance(i["detail"], dict)]
        leader = next(
            (d for d in details if d.get("instance", {}).get("role", "leader") == "leader"), None
        )
        state = _state_file(settings)
        supervisor = json.loads(state.read_text()) if state.exists() else None
        appservice: dict[str, object] = {
            "url": cfg.appservice.url,
            "healthy": len(details) == len(instances),
            "detail": leader,  # the process that runs the bots
        }
        if ports:
            appservice["instances"] = instances
        return {
            "data_dir": str(settings.data_dir),
            "homeserver": {"url": cfg.homeserver.public_url, "healthy": hs_ok},
            "appservice": appservice,
            "supervisor": supervisor,
        }

    report = run(probe())
    hs = report["homeserver"]
    appservice = report["appservice"]
    assert isinstance(hs, dict) and isinstance(appservice, dict)
    detail = appservice.get("detail")
    bots_ready = isinstance(detail, dict) and all(
        state == "ready" for state in detail.get("bots", {}).values()
    )
    healthy = bool(hs["healthy"] and appservice["healthy"] and bots_ready)
    if as_json:
        emit_json({**report, "healthy": healthy})
        sys.exit(0 if healthy else 1)
    click.echo(f"homeserver  {hs['url']}  {'healthy' if hs['healthy'] else 'DOWN'}")
    click.echo(f"appservice  {appservice['url']}  {'healthy' if appservice['healthy'] else 'DOWN'}")
    for number, instance in enumerate(appservice.get("instances", []), start=1):
        role = (instance["detail"] or {}).get("instance", {}).get("role", "DOWN")
        click.echo(f"  process {number} {instance['url']}: {role}")
    if isinstance(detail, dict):
        for bot, bot_state in detail.get("bots", {}).items():
            click.echo(f"  bot {bot}: {bot_state}")
        click.echo(f"  inbox: {detail.get('inbox')}")
    if not healthy:
        sys.exit(1)


cli.add_command(accounts)
cli.add_command(directory)
cli.add_command(retention)
cli.add_command(desk)
cli.add_command(export)
cli.add_command(migrate_db)


def main() -> None:
    cli()
