"""The OMS's own database, app and API keys: migrations apply once, the app answers, keys
and roles are checked, and every OMS route names a permission of the OMS policy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from edge_server.oms.app import create_oms_app
from edge_server.oms.migrations import oms_migrations
from edge_server.oms.policy import OMS_POLICY
from edge_server.oms.services import OmsServices, open_oms_services
from edge_server.oms.settings import OmsSettings


def oms_settings(tmp_path: Path, **overrides: object) -> OmsSettings:
    values: dict[str, object] = {
        "db_path": tmp_path / "oms.db",
        "relay_enabled": False,
        # the site loop (release, reconciliation) runs only where a test wants it
        "site_sync_enabled": False,
        "webhook_allow_private": True,
    }
    values.update(overrides)
    return OmsSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def oms(tmp_path: Path) -> Iterator[OmsServices]:
    services = open_oms_services(oms_settings(tmp_path))
    yield services
    services.db.close()


def test_migrations_apply_once_to_the_oms_database_only(oms: OmsServices) -> None:
    assert oms.db.migrate(oms_migrations) == []
    tables = {r["name"] for r in oms.db.query("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"api_keys", "idempotency", "outbox", "webhook_subscribers"} <= tables
    assert "stock" not in tables and "movements" not in tables  # never a site's ledger


def test_the_app_answers_and_refuses_callers_without_a_key(oms: OmsServices) -> None:
    with TestClient(create_oms_app(oms.settings, oms)) as client:
        assert client.get("/health").json()["service"] == "aisleway-oms"
        _, secret = oms.api_keys.create("web store", role="channel")
        oms.api_keys.revoke(1)
        resp = client.get("/api/v1/orders", headers={"Authorization": f"Bearer {secret}"})
        assert resp.status_code in (401, 404)


def test_every_oms_route_names_a_permission_of_the_oms_policy(oms: OmsServices) -> None:
    app = create_oms_app(oms.settings, oms)
    for route in app.routes:
        if not isinstance(route, APIRoute) or route.path == "/health":
            continue
        permissions = [getattr(d.call, "permission", None) for d in route.dependant.dependencies]
        named = [p for p in permissions if p is not None]
        assert named and all(p in OMS_POLICY for p in named), route.path
        if route.methods & {"POST", "PUT", "DELETE", "PATCH"}:
            assert any(
                getattr(d.call, "idempotent", False) for d in route.dependant.dependencies
            ), f"{route.path} must use OmsMutates"


def test_a_one_site_business_runs_the_oms_inside_the_edge_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from edge_server.app import create_app
    from edge_server.services import open_services

    from conftest import make_settings

    monkeypatch.setenv("AISLEWAY_OMS_DB_PATH", str(tmp_path / "oms.db"))
    monkeypatch.setenv("AISLEWAY_OMS_SITE_SYNC_ENABLED", "false")
    settings = make_settings(tmp_path, oms_embedded=True)
    services = open_services(settings)
    try:
        app = create_app(settings, services)
        oms_app = app.state.oms_app
        with TestClient(app) as client:
            assert client.get("/health").status_code == 200  # the edge
            assert client.get("/oms/health").json()["service"] == "aisleway-oms"
            resp = client.get("/oms/api/v1/orders")
            assert resp.status_code == 401 and resp.json()["message"]["code"] == "AUTH_REQUIRED"
            # the OMS keeps its own database, not the site's
            assert oms_app.state.oms.db.path != services.db.path
            assert (tmp_path / "oms.db").exists()
    finally:
        app.state.oms_app.state.oms.db.close()
        services.db.close()
