"""The systemd unit and its sample environment file (deploy/systemd/) name a real command,
real settings, and the hardening docs/operations.md promises."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

from edge_server.cli import build_parser, cmd_edge_serve
from edge_server.server import GRACEFUL_SHUTDOWN_SECONDS
from edge_server.settings import Settings

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "systemd"


def _unit() -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=True)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    unit.read_string((DEPLOY / "aisleway-edge.service").read_text())
    return unit


def _env_lines() -> dict[str, str]:
    """Every variable in the sample env file, set or commented out."""
    found: dict[str, str] = {}
    for line in (DEPLOY / "aisleway-edge.env").read_text().splitlines():
        text = line.lstrip("#").strip()
        if text.startswith("AISLEWAY_") and "=" in text:
            name, value = text.split("=", 1)
            found[name] = value
    return found


def _seconds(value: str) -> float:
    return float(value.removesuffix("s"))


def test_exec_start_runs_the_edge_serve_command():
    service = _unit()["Service"]
    argv = shlex.split(service["ExecStart"])
    assert Path(argv[0]).name == "aisleway"
    args = build_parser().parse_args(argv[1:])
    assert args.handler is cmd_edge_serve


def test_service_restarts_on_failure_and_outlasts_the_graceful_shutdown():
    service = _unit()["Service"]
    assert service["User"] == "aisleway"
    assert service["Restart"] == "on-failure"
    assert service["KillSignal"] == "SIGTERM"
    assert _seconds(service["TimeoutStopSec"]) > GRACEFUL_SHUTDOWN_SECONDS * 2
    assert service["RestartPreventExitStatus"] == "2"


def test_hardening_leaves_only_the_database_folder_writable():
    service = _unit()["Service"]
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["PrivateTmp"] == "yes"
    writable = service["ReadWritePaths"].split()
    db_path = Path(_env_lines()["AISLEWAY_DB_PATH"])
    assert str(db_path.parent) in writable
    assert service["WorkingDirectory"] in writable
    assert service["StateDirectory"] == db_path.parent.name
    assert service["EnvironmentFile"] == "/etc/aisleway/edge.env"
    assert _unit()["Install"]["WantedBy"] == "multi-user.target"


def test_every_variable_in_the_env_file_is_a_setting(monkeypatch):
    env = _env_lines()
    fields = {f"AISLEWAY_{name.upper()}" for name in Settings.model_fields}
    assert env, "no variables in the sample env file"
    assert set(env) <= fields, sorted(set(env) - fields)
    for name in fields:
        monkeypatch.delenv(name, raising=False)
    active = {
        line.split("=", 1)[0]
        for line in (DEPLOY / "aisleway-edge.env").read_text().splitlines()
        if line.startswith("AISLEWAY_")
    }
    for name in active:
        monkeypatch.setenv(name, env[name])
    settings = Settings()
    assert settings.db_path == Path("/var/lib/aisleway/aisleway.db")
    assert settings.metrics_enabled is True
