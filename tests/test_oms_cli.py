"""`aisleway oms init|add-key|add-site|serve`: the database, channel-bound keys that work
against the API, sites, and a real OMS process that serves and stops cleanly on a signal."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from test_oms_foundation import oms_settings
from test_oms_orders import order_body

from edge_server.cli import main
from edge_server.oms.app import create_oms_app
from edge_server.oms.services import open_oms_services
from edge_server.oms.sites import get_site

from conftest import assert_response

ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec_" + "B" * 32


@pytest.fixture(autouse=True)
def _loopback_sites(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AISLEWAY_OMS_WEBHOOK_ALLOW_PRIVATE", "true")


def _key_from(out: str) -> str:
    found = re.search(r"(awk_\S+)", out)
    assert found, out
    return found.group(1)


def test_init_creates_the_oms_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "sub" / "oms.db"
    assert main(["oms", "init", "--db", str(db)]) == 0
    assert "OMS database ready" in capsys.readouterr().out and db.exists()
    assert main(["oms", "init", "--db", str(db)]) == 0  # again: nothing to do


def test_a_channel_key_made_on_the_command_line_places_orders_for_its_channel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "oms.db")
    args = ["oms", "add-key", "web store", "--db", db, "--role", "channel"]
    assert main([*args, "--channel", "WEB", "--channel-name", "Web store"]) == 0
    out = capsys.readouterr().out
    assert "channel WEB (web) created" in out
    secret = _key_from(out)
    assert (
        main(["oms", "add-key", "web 2", "--db", db, "--role", "channel", "--channel", "WEB"]) == 0
    )
    assert "created" not in capsys.readouterr().out.splitlines()[0]  # the channel existed

    services = open_oms_services(oms_settings(tmp_path))
    with TestClient(create_oms_app(services.settings, services)) as client:
        resp = client.put(
            "/api/v1/orders/77",
            json=order_body(("SKU-A", 1)),
            headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": "cli-1"},
        )
        order = assert_response(resp, 201)["order"]
        assert order["number"] == "WEB-77" and order["status"] == "backordered"
    channel = services.db.query_one("SELECT kind, name FROM channels WHERE code = 'WEB'")
    assert channel == {"kind": "web", "name": "Web store"}
    services.db.close()


@pytest.mark.parametrize(
    "extra",
    [
        ["--role", "channel"],  # a channel key without its channel
        ["--role", "admin", "--channel", "WEB"],
        ["--role", "channel", "--channel", "web-store"],
    ],
)
def test_bad_key_requests_are_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    db = tmp_path / "oms.db"
    assert main(["oms", "add-key", "k", "--db", str(db), *extra]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert not db.exists()


def test_add_site_creates_and_updates_a_site_keeping_its_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "oms.db")
    base = ["oms", "add-site", "CHI", "--db", db]
    assert (
        main(
            [
                *base,
                "--url",
                "http://127.0.0.1:8000/",
                "--api-key",
                "awk_chicago1",
                "--webhook-secret",
                SECRET,
            ]
        )
        == 0
    )
    assert "site CHI created: http://127.0.0.1:8000" in capsys.readouterr().out
    assert main([*base, "--url", "http://127.0.0.1:8001", "--name", "Chicago"]) == 0
    assert "site CHI updated" in capsys.readouterr().out
    services = open_oms_services(oms_settings(tmp_path))
    site = get_site(services.db, "CHI")
    services.db.close()
    assert site is not None
    assert (site.name, site.base_url, site.api_key, site.webhook_secret) == (
        "Chicago",
        "http://127.0.0.1:8001",
        "awk_chicago1",
        SECRET,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["DAL", "--url", "http://127.0.0.1:8000"], "a new site needs its key"),
        (["DAL", "--url", "gopher://x", "--api-key", "awk_12345678"], "only http://"),
        (
            ["DAL", "--url", "http://127.0.0.1", "--api-key", "awk_12", "--webhook-secret", "x"],
            "whsec_",
        ),
        (["dal!", "--url", "http://127.0.0.1", "--api-key", "awk_12345678"], "not a site code"),
    ],
)
def test_bad_sites_are_refused_and_change_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    db = str(tmp_path / "oms.db")
    assert main(["oms", "init", "--db", db]) == 0
    assert main(["oms", "add-site", "--db", db, *args]) == 2
    assert says in capsys.readouterr().err
    services = open_oms_services(oms_settings(tmp_path))
    assert services.db.query("SELECT * FROM sites") == []
    services.db.close()


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_answers_and_stops_cleanly(tmp_path: Path, stop: signal.Signals) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AISLEWAY_")}
    env.update({"AISLEWAY_OMS_LOG_JSON": "true", "AISLEWAY_OMS_RELAY_ENABLED": "false"})
    log_path = tmp_path / "oms.log"
    cmd = [sys.executable, "-m", "edge_server.cli", "oms", "serve", "--db", str(tmp_path / "o.db")]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*cmd, "--host", "127.0.0.1", "--port", "0"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def lines() -> list[dict[str, object]]:
        out = []
        for raw in log_path.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(raw))
            except ValueError:
                out.append({"msg": raw})
        return out

    try:
        deadline = time.monotonic() + 45
        port = None
        while port is None:
            assert time.monotonic() < deadline and proc.poll() is None, log_path.read_text()
            port = next(
                (ln["port"] for ln in lines() if "OMS listening" in str(ln.get("msg"))), None
            )
            time.sleep(0.1)
        health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json()
        assert health["service"] == "aisleway-oms"
        resp = httpx.get(f"http://127.0.0.1:{port}/api/v1/orders", timeout=5)
        assert resp.status_code == 401 and resp.json()["message"]["code"] == "AUTH_REQUIRED"
        proc.send_signal(stop)
        assert proc.wait(timeout=15) == 0
        assert any("OMS stopped" in str(ln.get("msg")) for ln in lines())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=15)
