"""Logging: JSON lines in <data>/logs/messenger.log, short lines on the console.

Never logged: tokens, passwords, message bodies, KVNRs. Our code does not pass them to the logger,
SQL errors carry no parameter values (engine `hide_parameters`); as a second line of defence,
anything shaped like a token query parameter or bearer header is masked in the whole record
(tracebacks too), and libraries that may log event content (nio) are kept at WARNING.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
import sys
from pathlib import Path

_SECRET = re.compile(r"(access_token=|Bearer\s+)[^\s&\"']+")


def scrub(text: str) -> str:
    return _SECRET.sub(r"\1<hidden>", text)


class _ScrubbingFormatter(logging.Formatter):
    """Masks token-shaped text in the whole formatted record, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
            "level": record.levelname,
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        if record.exc_info:
            entry["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(log_dir: Path | None, level: str, process: str) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(level)
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(
        _ScrubbingFormatter(f"%(asctime)s {process} %(levelname)s %(name)s: %(message)s")
    )
    root.addHandler(console)
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        to_file = logging.handlers.RotatingFileHandler(
            log_dir / f"{process}.log", maxBytes=50 * 1024**2, backupCount=5, encoding="utf-8"
        )
        to_file.setFormatter(JsonFormatter())
        root.addHandler(to_file)
    for noisy in ("nio", "peewee", "aiohttp.access", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
