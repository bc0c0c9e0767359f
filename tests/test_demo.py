"""`make demo` end to end: the demo command seeds a site, serves it on 127.0.0.1, lets the
printed users log in, and stops cleanly on Ctrl-C with a consistent ledger."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from edge_server.cli import main
from edge_server.demo import USERS, demo_settings, seed_demo
from edge_server.services import open_services
from edge_server.wms.ledger import check_ledger

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_seed_builds_a_consistent_site_once(tmp_path, monkeypatch):
    monkeypatch.setenv("AISLEWAY_PIN_HASH_MEMORY_KIB", "1024")
    services = open_services(demo_settings(tmp_path))
    try:
        info = seed_demo(services)
        assert info.created and info.items is not None
        assert info.items.counts.imported == 42 and info.items.counts.refused == 6
        db = services.db
        assert db.query_one("SELECT COUNT(*) AS n FROM locations")["n"] > 1000
        assert db.query_one("SELECT COUNT(DISTINCT item_id) AS n FROM stock")["n"] == 42
        assert {u.badge for u in services.users.list()} == {u[0] for u in USERS}
        assert check_ledger(db).ok
        po = db.query_one("SELECT number, status FROM purchase_orders")
        assert po == {"number": "4500100", "status": "open"}
        fos = db.query("SELECT status, wave_id FROM fulfillment_orders")
        assert len(fos) == 12 and all(o["status"] == "allocated" for o in fos)
        assert all(o["wave_id"] is not None for o in fos)  # planned by carrier cutoff
        waves = db.query("SELECT carrier_service, status FROM waves ORDER BY carrier_service")
        assert {w["carrier_service"] for w in waves} == {"DHL-EXPRESS-WW", "UPS-GROUND", "UPS-NDA"}
        assert {w["status"] for w in waves} == {"planned"}
        assert db.query_one("SELECT COUNT(*) AS n FROM carton_types")["n"] == 3
        again = seed_demo(services)
        assert not again.created
        assert db.query_one("SELECT COUNT(*) AS n FROM movements")["n"] == 42
    finally:
        services.db.close()


@pytest.mark.slow
def test_demo_serves_logs_in_and_stops_cleanly(tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "edge_server.cli",
            "demo",
            "--dir",
            str(tmp_path),
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "demo did not come up"
            time.sleep(0.2)
        badge, pin = next((u[0], u[1]) for u in USERS if u[2] == "supervisor")
        login = httpx.post(f"{base}/api/v1/auth/login", json={"badge": badge, "pin": pin})
        assert login.status_code == 200, login.text
        token = login.json()["data"]["token"]
        stock = httpx.get(
            f"{base}/api/v1/inventory/stock", headers={"Authorization": f"Bearer {token}"}
        )
        assert stock.status_code == 200 and stock.json()["data"]["total"] == 42
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "SUP01" in out and "pairing code" in out and f"{base}/docs" in out
    assert "Traceback" not in out
    assert main(["edge", "check", "--db", str(tmp_path / "aisleway.db")]) == 0
