"""Docs that cannot drift: every setting, CLI command and error code is documented."""

import argparse
from pathlib import Path

from edge_server.cli import build_parser
from edge_server.settings import Settings
from protocols.errors import CATALOGUE

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_setting_is_documented():
    text = (DOCS / "settings.md").read_text()
    missing = [f for f in Settings.model_fields if f"`AISLEWAY_{f.upper()}`" not in text]
    assert not missing, f"settings missing from docs/settings.md: {missing}"


def _commands(parser: argparse.ArgumentParser, prefix: str = "aisleway") -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                full = f"{prefix} {name}"
                children = _commands(sub, full)
                found.extend(children or [full])
    return found


def test_every_cli_command_is_documented():
    text = (DOCS / "cli.md").read_text()
    commands = _commands(build_parser())
    assert "aisleway edge check" in commands
    missing = [c for c in commands if f"## `{c}" not in text]
    assert not missing, f"commands missing a heading in docs/cli.md: {missing}"


def test_every_error_code_is_documented_with_its_sentence():
    text = (DOCS / "errors.md").read_text()
    missing = [
        code.value
        for code, entry in CATALOGUE.items()
        if f"| `{code.value}` | {entry.status} | {entry.text} |" not in text
    ]
    assert not missing, f"error codes missing or stale in docs/errors.md: {missing}"
