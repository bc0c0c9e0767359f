"""`aisleway edge serve` as a real process: it listens, advertises, and stops cleanly on a signal.

The server binds and advertises on 127.0.0.1 only. Each test starts its own process with its own
site code and an OS-chosen port (`--port 0`; the port comes from the "listening" log line), and
kills it in `finally` whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from edge_server import server as server_module
from edge_server.cli import build_parser
from terminal.net.discovery import Browser, EdgeServer, from_url

from conftest import make_settings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 45.0  # start-up imports and migrates; a loaded 2-core CI machine is slow
STOP_DEADLINE = 15.0


@dataclass
class Edge:
    proc: subprocess.Popen[bytes]
    log_path: Path
    site: str
    db_path: Path

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for raw in self.log_path.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(raw))
            except ValueError:
                out.append({"msg": raw})
        return out

    def wait_for_line(self, needle: str, timeout: float = DEADLINE) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines():
                if needle in str(line.get("msg", "")):
                    return line
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no log line with {needle!r}; log:\n{self.log_path.read_text()}")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AISLEWAY_")}
    env["AISLEWAY_RELAY_ENABLED"] = "false"
    env["AISLEWAY_LOG_JSON"] = "true"
    return env


def start_edge(tmp_path: Path, *args: str) -> Edge:
    site = "S" + uuid.uuid4().hex[:6].upper()
    log_path = tmp_path / f"{site}.log"
    db_path = tmp_path / f"{site}.db"
    cmd = [sys.executable, "-m", "edge_server.cli", "edge", "serve"]
    cmd += ["--db", str(db_path), "--site", site, "--host", "127.0.0.1", *args]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return Edge(proc, log_path, site, db_path)


@pytest.fixture
def edges(tmp_path: Path) -> Iterator[list[Edge]]:
    started: list[Edge] = []
    yield started
    for edge in started:
        if edge.proc.poll() is None:
            edge.proc.kill()
        edge.proc.wait(timeout=STOP_DEADLINE)


def wait_healthy(url: str) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            resp = httpx.get(f"{url}/health", timeout=2.0)
            if resp.status_code == 200:
                data: dict[str, Any] = resp.json()["data"]
                return data
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.1)
    raise AssertionError(f"{url}/health never answered: {last!r}")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_listens_advertises_and_stops_cleanly(tmp_path, edges, stop):
    removed = threading.Event()

    def on_removed(server: EdgeServer) -> None:
        if server.site == edge.site:
            removed.set()

    edge = start_edge(tmp_path, "--port", "0")
    edges.append(edge)
    with Browser(interfaces=["127.0.0.1"], on_removed=on_removed) as browser:
        listening = edge.wait_for_line("listening on http://127.0.0.1:")
        port = listening["port"]
        url = f"http://127.0.0.1:{port}"
        assert listening["site"] == edge.site

        health = wait_healthy(url)
        assert health["site"] == edge.site

        servers = browser.wait_for(lambda ss: any(s.site == edge.site for s in ss), DEADLINE)
        assert servers is not None, "the running server was not found by zeroconf"
        (found,) = [s for s in servers if s.site == edge.site]
        assert (found.host, found.port, found.compatible) == ("127.0.0.1", port, True)
        assert from_url(found.url) == EdgeServer(
            name=found.url,
            site=edge.site,
            host="127.0.0.1",
            port=port,
            protocol=found.protocol,
            api_base=found.api_base,
        )

        edge.proc.send_signal(stop)
        assert edge.proc.wait(timeout=STOP_DEADLINE) == 0
        # The service was withdrawn with a goodbye, not left to expire.
        assert removed.wait(STOP_DEADLINE)

    stopped = edge.wait_for_line(f"site {edge.site} stopped")
    assert stopped["signal"] == stop.name
    messages = [str(line.get("msg")) for line in edge.lines()]
    assert messages.index("stopped advertising") < messages.index("Shutting down")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/health", timeout=2.0)


def test_serve_without_advertising_is_not_found(tmp_path, edges):
    edge = start_edge(tmp_path, "--port", "0", "--no-advertise")
    edges.append(edge)
    with Browser(interfaces=["127.0.0.1"]) as browser:
        port = edge.wait_for_line("listening on")["port"]
        assert wait_healthy(f"http://127.0.0.1:{port}")["site"] == edge.site
        # Nothing to find; give a live advertisement ample time to have been heard.
        seen = browser.wait_for(lambda ss: any(s.site == edge.site for s in ss), 4.0)
        assert seen is None
    edge.proc.send_signal(signal.SIGINT)
    assert edge.proc.wait(timeout=STOP_DEADLINE) == 0


def test_binding_every_interface_without_an_advertise_interface_is_refused(tmp_path, edges):
    edge = start_edge(tmp_path, "--host", "0.0.0.0", "--port", "0")
    edges.append(edge)
    assert edge.proc.wait(timeout=DEADLINE) == 2
    refusal = edge.wait_for_line("not starting")
    assert "--advertise-interface" in refusal["msg"]
    assert not edge.db_path.exists()  # refused before touching the database


def test_port_in_use_exits_with_an_error(tmp_path, edges):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        edge = start_edge(tmp_path, "--port", str(port), "--no-advertise")
        edges.append(edge)
        assert edge.proc.wait(timeout=DEADLINE) == 2
    edge.wait_for_line("did not start")


def test_serve_in_process_runs_stop_hooks_then_closes_the_database(tmp_path, monkeypatch):
    """serve() itself: a SIGTERM during the run gives status 0, the app's stop hooks run while
    the database is still open, the database is closed afterwards, and signal handlers are
    given back."""
    monkeypatch.setattr(server_module, "configure_logging", lambda *a, **k: None)
    leaked: list[int] = []
    outer = signal.signal(signal.SIGTERM, lambda signum, frame: leaked.append(signum))
    apps = []
    hook_saw: list[Any] = []
    real_create_app = server_module.create_app

    def create_app(settings: Any) -> Any:
        app = real_create_app(settings)
        apps.append(app)
        db = app.state.services.db
        # Ask for the stop from another thread, as an operator's `kill` would.
        app.state.on_start.append(
            lambda: threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()
        )
        app.state.on_stop.append(lambda: hook_saw.append(db.query_one("SELECT 1 AS one")))
        return app

    monkeypatch.setattr(server_module, "create_app", create_app)
    try:
        handler_before = signal.getsignal(signal.SIGTERM)
        status = server_module.serve(make_settings(tmp_path, port=0, host="127.0.0.1"))
        handler_after = signal.getsignal(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, outer)

    assert status == 0
    assert leaked == []
    assert handler_after is handler_before
    assert hook_saw == [{"one": 1}]
    with pytest.raises(sqlite3.ProgrammingError), apps[0].state.services.db.write() as w:
        w.execute("SELECT 1")


def test_every_serve_option_is_documented():
    parser = build_parser()
    edge = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    commands = next(
        a for a in edge.choices["edge"]._actions if isinstance(a, argparse._SubParsersAction)
    )
    options = [
        opt
        for action in commands.choices["serve"]._actions
        for opt in action.option_strings
        if opt.startswith("--") and opt != "--help"
    ]
    assert "--advertise-interface" in options
    text = (ROOT / "docs" / "serving.md").read_text()
    missing = [opt for opt in options if f"| `{opt}" not in text]
    assert not missing, f"serve options missing from docs/serving.md: {missing}"
