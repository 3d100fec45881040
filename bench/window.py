"""The appservice's answer pace (`appservice.transaction_window`) of a bench's test system."""

from __future__ import annotations

import yaml

from tests.system import System


def set_window(system: System, window: str) -> None:
    """Before the system starts: write `window` (a duration, "0" for none) into its config."""
    path = system.data_dir / "messenger.yaml"
    config = yaml.safe_load(path.read_text())
    config["appservice"]["transaction_window"] = window
    path.write_text(yaml.safe_dump(config))
