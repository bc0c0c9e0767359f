"""The OMS's intake of signed site events: only the site's own, fresh signature is taken; a
webhook id is applied once; stock events set available-to-promise and call the stock hooks
in the same transaction; fulfillment-order events move the OMS order along the status map.
Plus the edge's `GET /inventory/snapshot` and the reconciliation that applies it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from oms_site_support import Edge, make_edge, receive, serve
from picking_support import make_order
from test_oms_foundation import oms_settings

from edge_server.app import create_app
from edge_server.errors import AislewayError
from edge_server.integration.signing import generate_secret, signed_headers
from edge_server.oms import site_events
from edge_server.oms.app import create_oms_app
from edge_server.oms.reservations import atp_view
from edge_server.oms.services import OmsServices, open_oms_services
from edge_server.oms.sites import SiteIn, put_site
from edge_server.services import Services
from edge_server.wms.outbound.allocation import availability, availability_snapshot

from conftest import assert_response, login_as

SECRET = generate_secret()
_ids = iter(range(1, 10_000))


@pytest.fixture
def oms(tmp_path: Path) -> Iterator[OmsServices]:
    services = open_oms_services(oms_settings(tmp_path, site_sync_enabled=False))
    with services.db.write() as w:
        for code in ("CHI", "DAL"):
            body = SiteIn(name=code, base_url="http://127.0.0.1:9", api_key="awk_test_key")
            put_site(w, code, body, base_url="http://127.0.0.1:9")
        w.execute("UPDATE sites SET webhook_secret = ? WHERE code = 'CHI'", [SECRET])
    yield services
    services.db.close()


@pytest.fixture
def client(oms: OmsServices) -> Iterator[TestClient]:
    with TestClient(create_oms_app(oms.settings, oms)) as c:
        yield c


def event(kind: str, data: dict[str, Any], *, at: str = "2030-01-01T10:00:00+00:00") -> dict:
    return {"id": f"evt_{next(_ids)}", "type": kind, "timestamp": at, "data": data}


def post(
    client: TestClient,
    body: dict[str, Any] | bytes,
    *,
    site: str = "CHI",
    secret: str = SECRET,
    msg_id: str | None = None,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    ident = msg_id or (body["id"] if isinstance(body, dict) else "evt_raw")
    signed = signed_headers(secret, ident, raw, timestamp=timestamp)
    return client.post(
        f"/api/v1/sites/{site}/events",
        content=raw,
        headers={**signed, **(headers or {}), "content-type": "application/json"},
    )


def stock_event(sku: str, atp: int, **kw: Any) -> dict[str, Any]:
    return event(
        "inventory.changed", {"site": "CHI", "sku": sku, "atp": atp, "available": 99}, **kw
    )


def state(oms: OmsServices) -> dict[str, Any]:
    q = oms.db.query
    return {
        "stock": q("SELECT * FROM site_stock ORDER BY site_id, sku"),
        "seen": q("SELECT * FROM site_events_seen ORDER BY webhook_id"),
        "orders": q("SELECT number, status FROM orders"),
        "outbox": q("SELECT COUNT(*) AS n FROM outbox"),
    }


# -- signatures ------------------------------------------------------------------------------
def test_a_stock_event_signed_by_the_site_sets_its_available_to_promise(
    client: TestClient, oms: OmsServices
) -> None:
    answer = assert_response(post(client, stock_event("SOAP-1", 7)), 200)
    assert answer["outcome"] == "applied"
    assert answer["changes"] == [{"sku": "SOAP-1", "available": 7, "recorded": True}]
    view = atp_view(oms.db, "SOAP-1")
    assert [(s["site"], s["atp"], s["as_of"]) for s in view["sites"]] == [
        ("CHI", 7, "2030-01-01T10:00:00.000000+00:00")
    ]


@pytest.mark.parametrize(
    ("how", "status", "code"),
    [
        ("another secret", 401, "SITE_EVENT_SIGNATURE_INVALID"),
        ("stale", 401, "SITE_EVENT_STALE"),
        ("from the future", 401, "SITE_EVENT_STALE"),
        ("no signature", 401, "SITE_EVENT_SIGNATURE_INVALID"),
        ("body changed", 401, "SITE_EVENT_SIGNATURE_INVALID"),
        ("unsubscribed site", 409, "SITE_NOT_SUBSCRIBED"),
        ("unknown site", 404, "UNKNOWN_SITE"),
    ],
)
def test_a_forged_or_stale_site_event_is_refused_and_changes_nothing(
    client: TestClient, oms: OmsServices, how: str, status: int, code: str
) -> None:
    before = state(oms)
    body = stock_event("SOAP-1", 500)
    raw = json.dumps(body).encode()
    now = int(time.time())
    if how == "another secret":
        resp = post(client, body, secret=generate_secret())
    elif how == "stale":
        resp = post(client, body, timestamp=now - 301)
    elif how == "from the future":
        resp = post(client, body, timestamp=now + 301)
    elif how == "no signature":
        resp = client.post("/api/v1/sites/CHI/events", content=raw)
    elif how == "body changed":
        signed = signed_headers(SECRET, body["id"], raw)
        tampered = raw.replace(b"500", b"900")
        resp = client.post("/api/v1/sites/CHI/events", content=tampered, headers=signed)
    elif how == "unsubscribed site":
        resp = post(client, body, site="DAL")
    else:
        resp = post(client, body, site="NYC")
    assert_response(resp, status, code=code)
    assert state(oms) == before


def test_a_redelivery_changes_nothing_and_a_reused_webhook_id_is_refused(
    client: TestClient, oms: OmsServices
) -> None:
    first = stock_event("SOAP-1", 7)
    assert assert_response(post(client, first), 200)["outcome"] == "applied"
    after_first = state(oms)
    # the relay's retry: same id, same body, a new signature time
    again = assert_response(post(client, first, timestamp=int(time.time()) + 1), 200)
    assert again["outcome"] == "duplicate"
    assert state(oms) == after_first
    # the same id with another body: refused
    other = {**stock_event("SOAP-1", 1), "id": first["id"]}
    assert_response(post(client, other), 409, code="SITE_EVENT_REPLAYED")
    assert state(oms) == after_first


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "the body is not JSON"),
        (json.dumps({"id": "evt_x", "data": {}}).encode(), "no event type"),
        (json.dumps({"id": "evt_x", "type": "inventory.changed"}).encode(), "no event data"),
        (
            json.dumps({"id": "evt_other", "type": "a.b", "data": {}}).encode(),
            "the event id differs from the webhook-id header",
        ),
        (
            json.dumps({"id": "evt_x", "type": "a.b", "data": {"site": "DAL"}}).encode(),
            "an event of site 'DAL' sent to site 'CHI'",
        ),
    ],
)
def test_an_unreadable_or_misaddressed_event_is_refused(
    client: TestClient, oms: OmsServices, body: bytes, reason: str
) -> None:
    before = state(oms)
    resp = post(client, body, msg_id="evt_x")
    assert_response(resp, 422, code="SITE_EVENT_INVALID")
    assert resp.json()["message"]["details"]["reason"] == reason
    assert state(oms) == before


def test_unknown_event_types_are_acknowledged_and_ignored(
    client: TestClient, oms: OmsServices
) -> None:
    answer = assert_response(post(client, event("item.changed", {"sku": "SOAP-1"})), 200)
    assert answer["outcome"] == "ignored"
    assert oms.db.query("SELECT * FROM site_stock") == []


# -- stock -----------------------------------------------------------------------------------
def test_an_older_stock_event_arriving_late_is_ignored(
    client: TestClient, oms: OmsServices
) -> None:
    post(client, stock_event("SOAP-1", 7, at="2030-01-01T10:00:05+00:00"))
    late = assert_response(
        post(client, stock_event("SOAP-1", 2, at="2030-01-01T10:00:00+00:00")), 200
    )
    assert late["changes"] == [{"sku": "SOAP-1", "available": 2, "recorded": False}]
    assert atp_view(oms.db, "SOAP-1")["atp"] == 7


def test_stock_hooks_run_inside_the_intake_transaction(
    client: TestClient, oms: OmsServices
) -> None:
    calls: list[tuple[str, str, int]] = []

    def hook(w: Any, site: str, sku: str) -> None:
        # sees the new level: same transaction
        row = w.execute("SELECT available FROM site_stock WHERE sku = ?", [sku]).fetchone()
        calls.append((site, sku, row[0]))

    def broken(w: Any, site: str, sku: str) -> None:
        raise RuntimeError("backorder filling failed")

    site_events.on_stock_changed.append(hook)
    try:
        post(client, stock_event("SOAP-1", 7))
        assert calls == [("CHI", "SOAP-1", 7)]
        site_events.on_stock_changed.append(broken)
        before = state(oms)
        with TestClient(create_oms_app(oms.settings, oms), raise_server_exceptions=False) as c:
            resp = post(c, stock_event("SOAP-1", 3))
        assert resp.status_code == 500  # the site retries later
        assert state(oms) == before  # rolled back with the hook: nothing half-done
    finally:
        site_events.on_stock_changed.clear()


# -- the edge's snapshot and the reconciliation --------------------------------------------
@pytest.fixture
def chi(tmp_path: Path) -> Iterator[Services]:
    edge = make_edge(tmp_path, "CHI", relay_enabled=False)
    yield edge.services
    edge.services.db.close()


def test_the_edge_snapshot_is_availability_for_every_sku_in_one_read(chi: Services) -> None:
    edge = Edge("CHI", chi)
    receive(edge, "A01-01-1L", "SOAP-1", 10)
    receive(edge, "A03-05-1R", "MUG-1", 4)
    receive(edge, "DOCK-01", "JAM-1", 6)  # on the dock: not promisable yet
    make_order(chi, "SO-1", [("SOAP-1", 3)])  # allocates 3
    with TestClient(create_app(chi.settings, chi)) as http:
        reader = login_as(chi, "integration")
        snap = assert_response(http.get("/api/v1/inventory/snapshot", headers=reader.headers), 200)
        assert snap["site"] == "CHI" and snap["full"] is True
        # JAM-1 sits on the dock only: nothing to promise, so not listed (a full snapshot
        # means "0" for what it leaves out)
        assert snap["stock"] == [
            {"sku": "MUG-1", "available": 4},
            {"sku": "SOAP-1", "available": 7},
        ]
        for row in snap["stock"]:
            found = availability(chi.db, "CHI", row["sku"])
            assert found is not None and found["available"] == row["available"]
        # as of the newest event it reflects
        newest = chi.db.query_one("SELECT created_at FROM outbox ORDER BY id DESC LIMIT 1")
        assert newest is not None and snap["as_of"] == newest["created_at"]
        some = http.get(
            "/api/v1/inventory/snapshot",
            params={"sku": ["SOAP-1", "TEA-1", "NOPE"]},
            headers=reader.headers,
        )
        assert assert_response(some, 200)["stock"] == [
            {"sku": "SOAP-1", "available": 7},
            {"sku": "TEA-1", "available": 0},
        ]
        assert_response(http.get("/api/v1/inventory/snapshot"), 401)
        too_many = http.get(
            "/api/v1/inventory/snapshot",
            params={"sku": [f"S{i}" for i in range(1001)]},
            headers=reader.headers,
        )
        assert_response(too_many, 422, code="VALIDATION_FAILED")
    # every stock event carries the same figure as `atp`
    last = chi.db.query_one(
        "SELECT payload_json FROM outbox WHERE type = 'inventory.changed' ORDER BY id DESC LIMIT 1"
    )
    assert last is not None and json.loads(last["payload_json"])["atp"] == 0  # JAM-1 on the dock
    assert availability_snapshot(chi.db, "CHI", [])[0] == {}


def test_reconciliation_pulls_the_snapshot_and_applies_it_in_full(
    chi: Services, oms: OmsServices
) -> None:
    edge = Edge("CHI", chi)
    receive(edge, "A01-01-1L", "SOAP-1", 10)
    _, key = chi.api_keys.create("oms")
    with oms.db.write() as w:
        # the OMS believes in stock the site no longer has, and missed the soap
        w.execute("UPDATE sites SET api_key = ? WHERE code = 'CHI'", [key])
        post_stock = "INSERT INTO site_stock (site_id, sku, available, as_of, updated_at) "
        w.execute(post_stock + "VALUES (1, 'GONE-1', 5, '2000-01-01T00:00:00+00:00', '')")
    with serve(create_app(chi.settings, chi)) as url:
        with oms.db.write() as w:
            w.execute("UPDATE sites SET base_url = ? WHERE code = 'CHI'", [url])
        counts = site_events.reconcile_site(oms.db, "CHI")
    assert counts == {"recorded": 1, "stale": 0, "zeroed": 1}
    assert atp_view(oms.db, "SOAP-1")["atp"] == 10
    assert atp_view(oms.db, "GONE-1")["atp"] == 0
    link = site_events.site_link(oms.db, "CHI")
    assert link["reconciled_at"] is not None and link["reconcile_error"] is None


def test_reconciling_a_site_that_is_down_records_why_and_changes_no_stock(
    oms: OmsServices,
) -> None:
    before = oms.db.query("SELECT * FROM site_stock")
    with pytest.raises(AislewayError) as refused:
        site_events.reconcile_site(oms.db, "CHI", timeout=2)
    assert refused.value.code.value == "SITE_UNREACHABLE"
    assert oms.db.query("SELECT * FROM site_stock") == before
    assert site_events.site_link(oms.db, "CHI")["reconcile_error"].startswith("SITE_UNREACHABLE")
