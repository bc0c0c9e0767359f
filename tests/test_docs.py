"""Docs that cannot drift: every setting, CLI command and error code is documented."""

import argparse
from pathlib import Path

from edge_server.cli import build_parser
from edge_server.oms.settings import OmsSettings
from edge_server.settings import Settings
from protocols.errors import CATALOGUE

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_setting_is_documented():
    text = (DOCS / "settings.md").read_text()
    missing = [f for f in Settings.model_fields if f"`AISLEWAY_{f.upper()}`" not in text]
    missing += [f for f in OmsSettings.model_fields if f"`AISLEWAY_OMS_{f.upper()}`" not in text]
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


def test_the_role_table_in_access_md_matches_the_policy():
    import re

    from edge_server.access.policy import POLICY
    from edge_server.db.migrations import ROLES

    documented: dict[str, frozenset[str]] = {}
    for line in (DOCS / "access.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        perms = re.findall(r"`([a-z_]+\.[a-z_]+)`", cells[0]) if len(cells) == 2 else []
        if not perms:
            continue
        roles = (
            frozenset(ROLES)
            if cells[1] == "all"
            else frozenset(r.strip() for r in cells[1].split(","))
        )
        for perm in perms:
            documented[perm] = roles
    assert documented == POLICY
