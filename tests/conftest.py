"""Shared fixtures: a real SQLite file per test, the real app, and logged-in callers."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from edge_server.app import create_app
from edge_server.db import Database
from edge_server.services import Services, open_services
from edge_server.settings import Settings

_keys = itertools.count(1)


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "db_path": tmp_path / "site.db",
        "site": "CHI",
        "advertise": False,
        "relay_enabled": False,
        # Fast PIN hashing in tests; production keeps the defaults.
        "pin_hash_time_cost": 1,
        "pin_hash_memory_kib": 1024,
        "webhook_allow_private": True,
        # Tests drive wave release themselves (tests/test_waves.py runs the loop on purpose).
        "wave_auto_release": False,
        # ... and make scheduled count tasks themselves (tests/test_counting_schedule.py).
        "count_schedule_enabled": False,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def fresh_db(tmp_path: Path) -> Iterator[Database]:
    db = Database(tmp_path / "fresh.db")
    db.migrate()
    yield db
    db.close()


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    svc = open_services(settings)
    yield svc
    svc.db.close()


@pytest.fixture
def edge(services: Services) -> Iterator[TestClient]:
    """The edge server app in-process (lifespan runs)."""
    app = create_app(services.settings, services)
    with TestClient(app) as client:
        yield client


def api_routes(app: Any) -> list[tuple[str, Any]]:
    """(full path, APIRoute) for every API route, through included routers of any depth.

    FastAPI >= 0.16x keeps included routers lazily (`_IncludedRouter`); older versions copy
    the routes into the app. Both are handled."""
    from fastapi.routing import APIRoute

    found: list[tuple[str, Any]] = []

    def walk(routes: Any, prefix: str) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                found.append((prefix + route.path, route))
            elif hasattr(route, "original_router"):
                walk(route.original_router.routes, prefix + route.include_context.prefix)

    walk(app.routes, "")
    return found


@dataclass
class LiveEdge:
    """A real edge server on 127.0.0.1 (uvicorn in a thread) and its services."""

    url: str
    services: Services

    def client(self, caller: Caller | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=caller.headers if caller else None)


@dataclass
class Served:
    """An ASGI app running under uvicorn in a thread on 127.0.0.1."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self, timeout: float = 10) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=timeout)


@contextmanager
def serving(app: Any, *, scheme: str = "http", **options: Any) -> Iterator[Served]:
    """Serve `app` over real HTTP on a free loopback port (lifespan included) until the block
    ends; `Served.stop()` ends it earlier. `options` go to uvicorn (e.g. `ssl_certfile`)."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_config=None, lifespan="on", **options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-edge", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    served = Served(url=f"{scheme}://127.0.0.1:{port}", server=server, thread=thread)
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def live_edge(services: Services) -> Iterator[LiveEdge]:
    """The edge app served over real HTTP on a free loopback port, lifespan included."""
    with serving(create_app(services.settings, services)) as served:
        yield LiveEdge(url=served.url, services=services)


def idem() -> dict[str, str]:
    """A fresh Idempotency-Key header."""
    return {"Idempotency-Key": f"test-{next(_keys)}"}


class Caller:
    """Headers for one logged-in user (and device) or API key."""

    def __init__(self, headers: dict[str, str], role: str) -> None:
        self.headers = headers
        self.role = role

    def with_key(self, key: str | None = None) -> dict[str, str]:
        return {**self.headers, "Idempotency-Key": key or f"test-{next(_keys)}"}


def login_as(
    services: Services, role: str, *, badge: str | None = None, client: str | None = None
) -> Caller:
    """Create a user of `role` and return its auth headers (paired device for floor roles)."""
    badge = badge or f"{role}-{next(_keys)}"
    if role == "integration":
        _, secret = services.api_keys.create(f"{badge}")
        return Caller({"Authorization": f"Bearer {secret}"}, role)
    if role == "client":  # a 3PL client's own key (its client is made if need be)
        from factories import make_client

        code = client or "ACME"
        if services.db.query_one("SELECT 1 FROM clients WHERE code = ?", [code]) is None:
            make_client(services.db, code)
        _, secret = services.api_keys.create(badge, "client", client=code)
        return Caller({"Authorization": f"Bearer {secret}"}, role)
    user = services.users.create(badge=badge, pin="1234", role=role)
    headers: dict[str, str] = {}
    device_id = None
    if role in {"picker", "receiver", "counter", "packer"}:
        code = services.devices.create_pairing_code()
        device = services.devices.pair(code.code, f"hh-{badge}")
        headers["X-Device-Token"] = device.secret
        device_id = device.device_id
    token = services.tokens.issue(user_id=user.id, role=role, device_id=device_id)
    headers["Authorization"] = f"Bearer {token}"
    return Caller(headers, role)


@pytest.fixture
def as_role(services: Services) -> Any:
    return lambda role, **kw: login_as(services, role, **kw)


def assert_response(resp: Any, status: int, *, code: str | None = None) -> dict[str, Any]:
    """Check status (and error code); return the envelope's data."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) >= {"next_state", "data", "message"}, body
    if code is not None:
        assert body["message"]["code"] == code, body
    data: dict[str, Any] = body["data"]
    return data
