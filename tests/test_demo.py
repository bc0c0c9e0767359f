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
from edge_server.demo import SECOND_SITE, SITE, USERS, _data, demo_settings, seed_demo
from edge_server.demo_oms import demo_oms_settings, seed_oms
from edge_server.oms.services import open_oms_services
from edge_server.services import open_services
from edge_server.wms.ledger import check_ledger

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A port p with p + 1 (site DAL) and p + 100 (the OMS) free as well."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port > 65000:
            continue
        try:
            for other in (port + 1, port + 100):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", other))
        except OSError:
            continue
        return port


def test_seed_builds_a_consistent_site_once(tmp_path, monkeypatch):
    monkeypatch.setenv("AISLEWAY_PIN_HASH_MEMORY_KIB", "1024")
    services = open_services(demo_settings(tmp_path))
    try:
        info = seed_demo(services)
        assert info.created and info.items is not None
        assert info.items.counts.imported == 42 and info.items.counts.refused == 6
        db = services.db
        assert db.query_one("SELECT COUNT(*) AS n FROM locations")["n"] > 1000
        # the 42 imported items and the 3PL client ACME's 3, all in stock
        assert db.query_one("SELECT COUNT(DISTINCT item_id) AS n FROM stock")["n"] == 42 + 3
        client = db.query_one("SELECT code, edi_id FROM clients")
        assert client == {"code": "ACME", "edi_id": "ACMEBRANDS"}
        assert db.query_one("SELECT COUNT(*) AS n FROM items WHERE owner = 'ACME'")["n"] == 3
        assert info.client_key is not None
        assert services.api_keys.identify(info.client_key).client == "ACME"
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
        assert db.query_one("SELECT COUNT(*) AS n FROM movements")["n"] == 42 + 3
    finally:
        services.db.close()


def test_two_sites_and_the_oms_are_seeded_consistently(tmp_path, monkeypatch):
    monkeypatch.setenv("AISLEWAY_PIN_HASH_MEMORY_KIB", "1024")
    edges = {}
    try:
        for code, port, seed, every in ((SITE, 8000, 7, 1), (SECOND_SITE, 8001, 11, 2)):
            edge = open_services(demo_settings(tmp_path, port, code))
            assert seed_demo(edge, seed=seed, stock_every=every).created
            edges[code] = (edge, f"http://127.0.0.1:{port}")
        oms = open_oms_services(demo_oms_settings(tmp_path))
        try:
            info = seed_oms(oms, edges, _data("carriers.json"))
            assert info.created and info.channel_key and info.admin_key
            db = oms.db
            rows = db.query("SELECT code, base_url, webhook_secret FROM sites ORDER BY code")
            assert [(r["code"], r["base_url"]) for r in rows] == [
                ("CHI", "http://127.0.0.1:8000"),
                ("DAL", "http://127.0.0.1:8001"),
            ]
            for row in rows:  # the edge's subscriber targets the OMS intake with that secret
                edge = edges[row["code"]][0]
                (sub,) = edge.db.query("SELECT url, secret, active FROM webhook_subscribers")
                assert sub["url"] == f"http://127.0.0.1:8100/api/v1/sites/{row['code']}/events"
                assert sub["secret"] == row["webhook_secret"] and sub["active"] == 1
                assert check_ledger(edge.db).ok
            assert db.query_one("SELECT COUNT(*) AS n FROM site_sourcing")["n"] == 2
            services = db.query("SELECT DISTINCT code FROM site_carrier_services ORDER BY code")
            assert [s["code"] for s in services] == ["DHL-EXPRESS-WW", "UPS-GROUND", "UPS-NDA"]
            weighed = edges[SITE][0].db.query_one(
                "SELECT COUNT(*) AS n FROM items WHERE weight_kg IS NOT NULL"
            )
            assert db.query_one("SELECT COUNT(*) AS n FROM items") == weighed
            assert db.query_one("SELECT code FROM channels") == {"code": "WEB"}
            stocked = {
                code: edge.db.query_one("SELECT COUNT(DISTINCT item_id) AS n FROM stock")["n"]
                for code, (edge, _) in edges.items()
            }
            # DAL: every other imported SKU; both: the 3PL client's 3
            assert stocked == {"CHI": 42 + 3, "DAL": 21 + 3}
            again = seed_oms(oms, edges, _data("carriers.json"))
            assert not again.created and again.channel_key is None
            assert db.query_one("SELECT COUNT(*) AS n FROM sites")["n"] == 2
        finally:
            oms.db.close()
    finally:
        for edge, _ in edges.values():
            edge.db.close()


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
    seen: list[str] = []  # output read while waiting for the simulated orders
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
        assert stock.status_code == 200 and stock.json()["data"]["total"] == 42 + 3
        oms = f"http://127.0.0.1:{port + 100}"
        assert httpx.get(f"{oms}/health", timeout=5).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port + 1}/health", timeout=5).status_code == 200
        decided = _wait_for_sourcing(oms, proc, time.monotonic() + 60, seen)
        assert decided["decisions"] and decided["decisions"][0]["explanation"]
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        out = "".join(seen) + out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "SUP01" in out and "pairing code" in out and f"{base}/docs" in out
    assert "Traceback" not in out
    assert main(["edge", "check", "--db", str(tmp_path / "aisleway.db")]) == 0


def _wait_for_sourcing(
    oms: str, proc: subprocess.Popen[str], deadline: float, seen: list[str]
) -> dict:
    """The sourcing of the first simulated web order, once the OMS has one."""
    assert proc.stdout is not None
    key = number = None
    for line in proc.stdout:  # the welcome text names the WEB key, then the orders placed
        seen.append(line)
        if line.startswith("  WEB key"):
            key = line.split()[2]
        if line.strip().startswith("WEB-D"):
            number = line.split()[0]
            break
        assert time.monotonic() < deadline, "no simulated order"
    assert key and number
    answer = httpx.get(
        f"{oms}/api/v1/orders/{number}/sourcing", headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def test_the_demo_client_sends_the_example_940(tmp_path, monkeypatch):
    """What the welcome text suggests: the example 940 through the demo client's own key."""
    from fastapi.testclient import TestClient

    from edge_server.app import create_app

    monkeypatch.setenv("AISLEWAY_PIN_HASH_MEMORY_KIB", "1024")
    services = open_services(demo_settings(tmp_path))
    try:
        info = seed_demo(services)
        example = Path(__file__).resolve().parent.parent / "docs/examples/edi-940-acme.edi"
        with TestClient(create_app(services.settings, services)) as edge:
            resp = edge.post(
                "/api/v1/client/edi",
                content=example.read_bytes(),
                headers={
                    "Authorization": f"Bearer {info.client_key}",
                    "Idempotency-Key": "demo-940",
                    "Content-Type": "application/edi-x12",
                },
            )
            assert resp.status_code == 201, resp.text
            sets = resp.json()["data"]["sets"]
            assert [(s["number"], s["outcome"]) for s in sets] == [
                ("SO-100234", "created"),
                ("SO-100235", "created"),
            ]
            owners = services.db.query(
                "SELECT number, owner FROM fulfillment_orders WHERE number LIKE 'SO-1002%'"
            )
            assert {o["owner"] for o in owners} == {"ACME"} and len(owners) == 2
    finally:
        services.db.close()
