"""Logs never carry tokens, not even inside a traceback."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from messenger.logs import setup_logging


def test_tokens_are_masked_in_messages_and_tracebacks(tmp_path: Path) -> None:
    setup_logging(tmp_path, "INFO", "probe")
    log = logging.getLogger("probe")
    log.info("calling /sync?access_token=syt_SECRET1&since=1")
    try:
        raise RuntimeError("Authorization: Bearer syt_SECRET2")
    except RuntimeError:
        log.exception("failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = (tmp_path / "probe.log").read_text()
    assert "syt_SECRET" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert "access_token=<hidden>" in lines[0]["msg"]
    assert "Bearer <hidden>" in lines[1]["exc"]
    logging.getLogger().handlers.clear()
