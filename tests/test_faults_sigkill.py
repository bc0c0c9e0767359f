"""SIGKILL the edge server three times under load: nothing acknowledged is lost or doubled.

The edge runs in its own process on a real SQLite file (WAL, synchronous=FULL). Four
handhelds send stock moves, each with its own Idempotency-Key (also the movement's ref), and
keep a command until it is acknowledged — after a connection error they retry it with the same
key once the server is back, as the terminals' replayer does. Meanwhile the server is killed
with SIGKILL three times and restarted each time."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from bench.load.server import load_settings
from bench.load.site import PIN, STOCK_PER_HANDHELD, build_site
from edge_server.services import open_services

HANDHELDS = 4
KILLS = 3
ROOT = Path(__file__).resolve().parent.parent


class Edge:
    """The load-site edge server in a subprocess that can be SIGKILLed and started again."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.up = threading.Event()

    def start(self) -> None:
        port_file = self.db.with_suffix(".port")
        port_file.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.load.server", str(self.db), str(port_file)], cwd=ROOT
        )
        deadline = time.monotonic() + 30
        while not port_file.exists():
            assert self.proc.poll() is None, "the edge server died while starting"
            assert time.monotonic() < deadline, "the edge server did not start"
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{port_file.read_text().strip()}"
        self.up.set()

    def kill(self) -> None:
        assert self.proc is not None
        self.up.clear()
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)


class Handheld(threading.Thread):
    """Sends moves of 1 unit between its two bins until told to stop; every command is kept
    until acknowledged, retried with the same key after a failure."""

    def __init__(self, n: int, edge: Edge, headers: dict[str, str], stop: threading.Event):
        super().__init__(daemon=True)
        self.n, self.edge, self.headers, self.stop_flag = n, edge, headers, stop
        self.acked: list[str] = []
        self.retried: set[str] = set()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            i = 0
            while not self.stop_flag.is_set():
                self.send(f"sk-{self.n}-{i}")
                i += 1
        except BaseException as e:  # surfaced by the test
            self.error = e

    def send(self, key: str) -> None:
        body = {
            "from_location": f"L{self.n:04d}-A",
            "to_location": f"L{self.n:04d}-B",
            "sku": f"LOAD-{self.n:04d}",
            "qty": 1,
            "ref": key,
        }
        deadline = time.monotonic() + 40
        while True:
            assert time.monotonic() < deadline, f"{key} never acknowledged"
            if not self.edge.up.wait(timeout=1):
                continue
            try:
                resp = httpx.post(
                    f"{self.edge.url}/api/v1/inventory/moves",
                    json=body,
                    headers={**self.headers, "Idempotency-Key": key},
                    timeout=10,
                )
            except httpx.TransportError:
                self.retried.add(key)
                time.sleep(0.05)
                continue
            assert resp.status_code == 201, resp.text
            self.acked.append(key)
            return


def test_sigkill_under_load_loses_and_doubles_nothing(tmp_path: Path) -> None:
    db = tmp_path / "site.db"
    hands = build_site(db, HANDHELDS)
    services = open_services(load_settings(db))
    headers: dict[int, dict[str, str]] = {}
    for h in hands:
        user = services.users.authenticate(h.badge, PIN)
        paired = services.devices.pair(services.devices.create_pairing_code().code, f"hh-{h.n}")
        token = services.tokens.issue(user_id=user.id, role="picker", device_id=paired.device_id)
        headers[h.n] = {"Authorization": f"Bearer {token}", "X-Device-Token": paired.secret}
    services.db.close()

    edge = Edge(db)
    edge.start()
    stop = threading.Event()
    workers = [Handheld(h.n, edge, headers[h.n], stop) for h in hands]
    try:
        for w in workers:
            w.start()
        for _ in range(KILLS):
            time.sleep(1.5)
            edge.kill()
            time.sleep(0.2)
            edge.start()
        time.sleep(1.0)
        stop.set()
        for w in workers:
            w.join(timeout=45)
            assert not w.is_alive()
    finally:
        stop.set()
        edge.stop()
    for w in workers:
        assert w.error is None, repr(w.error)

    acked = [k for w in workers for k in w.acked]
    retried = {k for w in workers for k in w.retried}
    assert len(acked) == len(set(acked)) and len(acked) > 20
    assert retried, "no command was in flight at a kill: the test proved nothing"
    conn = sqlite3.connect(db)
    try:
        counts = dict(
            conn.execute(
                "SELECT ref, count(*) FROM movements WHERE ref LIKE 'sk-%' GROUP BY ref"
            ).fetchall()
        )
        # every acknowledged command exactly once, retried ones included, nothing else
        assert counts == {k: 1 for k in acked}
        assert retried <= set(counts)
        for w in workers:
            left = conn.execute(
                "SELECT s.qty FROM stock s JOIN locations l ON l.id = s.location_id "
                "WHERE l.code = ?",
                [f"L{w.n:04d}-A"],
            ).fetchone()[0]
            assert left == STOCK_PER_HANDHELD - len(w.acked)
    finally:
        conn.close()

    check = subprocess.run(
        [sys.executable, "-m", "edge_server.cli", "edge", "check", "--db", str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr
