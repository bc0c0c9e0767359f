"""Fulfillment orders over the integration API: create, replace, replay, cancel, and every
refusal with its code and nothing changed."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from edge_server.services import Services
from edge_server.wms import inventory
from edge_server.wms.items import upsert_item, validate_item
from edge_server.wms.layout import read_layout
from edge_server.wms.layout_store import load_layout
from edge_server.wms.ledger import Actor
from protocols.inventory import ReceiptIn

from conftest import Caller, assert_response

LAYOUT = Path(__file__).resolve().parent.parent / "docs" / "examples" / "layout-three-blocks.json"
FO = "/api/v1/fulfillment-orders"
FACE, FACE2 = "A01-01-1L", "A01-02-1L"
RESERVE, RESERVE2 = "A01-01-4L", "A01-02-4L"


def load_site(services: Services) -> None:
    load_layout(services.db, read_layout(LAYOUT), site="CHI")
    with services.db.write() as w:
        for data in (
            {"sku": "MUG-01", "description": "Mug"},
            {"sku": "TEE-M", "description": "T-shirt M", "lot_tracked": True},
            {
                "sku": "MILK-1L",
                "description": "Milk 1 l",
                "lot_tracked": True,
                "expiry_tracked": True,
            },
        ):
            item, _ = validate_item(data)
            upsert_item(w, item)


def stock(
    services: Services,
    location: str,
    sku: str,
    qty: int,
    *,
    lot: str = "",
    expires_in: int | None = None,
    status: str = "available",
    lpn: str = "",
) -> None:
    expiry = date.today() + timedelta(days=expires_in) if expires_in is not None else None
    with services.db.write() as w:
        inventory.receive(
            w,
            "CHI",
            ReceiptIn(
                location=location,
                sku=sku,
                qty=qty,
                lot=lot,
                expiry=expiry,
                status=status,  # type: ignore[arg-type]
                lpn=lpn,
            ),
            Actor(),
        )


def order_body(lines: list[dict[str, Any]] | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ship_to": {
            "name": "Ada Lovelace",
            "address_lines": ["12 St James's Square"],
            "city": "London",
            "postal_code": "SW1Y 4JH",
            "country": "gb",
        },
        "carrier_service": "UPS-GROUND",
        "priority": 5,
        "promised_ship_date": "2030-01-15",
        "lines": lines or [{"line_no": 1, "sku": "MUG-01", "qty": 3}],
    }
    body.update(overrides)
    return body


def events(services: Services, event_type: str) -> list[dict[str, Any]]:
    import json

    rows = services.db.query("SELECT * FROM outbox WHERE type = ? ORDER BY id", [event_type])
    return [json.loads(r["payload_json"]) for r in rows]


def snapshot(services: Services) -> tuple[Any, ...]:
    db = services.db
    return (
        db.query("SELECT * FROM fulfillment_orders ORDER BY id"),
        db.query("SELECT * FROM fo_lines ORDER BY id"),
        db.query("SELECT * FROM allocations ORDER BY id"),
        db.query("SELECT id, type FROM outbox ORDER BY id"),
    )


@pytest.fixture
def site(services: Services) -> Services:
    load_site(services)
    return services


@pytest.fixture
def oms(site: Services, as_role: Any) -> Caller:
    caller: Caller = as_role("integration")
    return caller


def test_create_read_update_and_list(edge: Any, site: Services, oms: Caller) -> None:
    data = assert_response(edge.put(f"{FO}/SO-1", json=order_body(), headers=oms.with_key()), 201)
    assert data["outcome"] == "created"
    order = data["fulfillment_order"]
    assert order["status"] == "received"
    assert order["ship_to"]["country"] == "GB"
    assert order["lines"] == [
        {
            "line_no": 1,
            "sku": "MUG-01",
            "qty_ordered": 3,
            "qty_allocated": 0,
            "qty_short": 0,
            "status": "open",
            "allocations": [],
        }
    ]
    # the same content under a new key: unchanged, no event
    before = len(events(site, "fulfillment_order.changed"))
    data = assert_response(edge.put(f"{FO}/SO-1", json=order_body(), headers=oms.with_key()), 200)
    assert data["outcome"] == "unchanged"
    assert len(events(site, "fulfillment_order.changed")) == before
    # replace: a line more, the first line dropped
    lines = [{"line_no": 2, "sku": "TEE-M", "qty": 1}]
    data = assert_response(
        edge.put(f"{FO}/SO-1", json=order_body(lines, priority=9), headers=oms.with_key()), 200
    )
    assert data["outcome"] == "updated"
    got = {line["line_no"]: line["status"] for line in data["fulfillment_order"]["lines"]}
    assert got == {1: "cancelled", 2: "open"}
    assert_response(edge.put(f"{FO}/SO-2", json=order_body(), headers=oms.with_key()), 201)
    page = assert_response(edge.get(FO, params={"status": "received"}, headers=oms.headers), 200)
    assert [o["number"] for o in page["items"]] == ["SO-1", "SO-2"]  # priority 9 first
    assert (page["total"], page["limit"], page["offset"]) == (2, 50, 0)
    got_one = assert_response(edge.get(f"{FO}/SO-1", headers=oms.headers), 200)
    assert got_one["priority"] == 9
    assert len(events(site, "fulfillment_order.changed")) == before + 2


def test_replay_and_conflicting_replay(edge: Any, site: Services, oms: Caller) -> None:
    headers = oms.with_key("so-7-v1")
    first = edge.put(f"{FO}/SO-7", json=order_body(), headers=headers)
    assert_response(first, 201)
    state = snapshot(site)
    again = edge.put(f"{FO}/SO-7", json=order_body(), headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
    assert snapshot(site) == state
    other = edge.put(f"{FO}/SO-7", json=order_body(priority=1), headers=headers)
    assert_response(other, 422, code="IDEMPOTENCY_KEY_REUSED")
    assert snapshot(site) == state


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"lines": [{"line_no": 1, "sku": "NOPE", "qty": 1}]}, "FO_INVALID"),
        ({"lines": [{"line_no": 1, "sku": "MUG-01", "qty": 0}]}, "VALIDATION_FAILED"),
        ({"promised_ship_date": "2030-02-30"}, "VALIDATION_FAILED"),
        ({"ship_to": {**order_body()["ship_to"], "country": "GBR"}}, "VALIDATION_FAILED"),
        ({"ship_to": {**order_body()["ship_to"], "country": "1X"}}, "VALIDATION_FAILED"),
        (
            {
                "lines": [
                    {"line_no": 1, "sku": "MUG-01", "qty": 1},
                    {"line_no": 1, "sku": "TEE-M", "qty": 1},
                ]
            },
            "VALIDATION_FAILED",
        ),
        ({"carrier_service": ""}, "VALIDATION_FAILED"),
    ],
)
def test_bad_orders_are_refused_and_change_nothing(
    edge: Any, site: Services, oms: Caller, change: dict[str, Any], code: str
) -> None:
    assert_response(edge.put(f"{FO}/SO-1", json=order_body(), headers=oms.with_key()), 201)
    state = snapshot(site)
    body = {**order_body(), **change}
    resp = edge.put(f"{FO}/SO-1", json=body, headers=oms.with_key())
    assert_response(resp, 422, code=code)
    assert_response(edge.put(f"{FO}/SO-9", json=body, headers=oms.with_key()), 422, code=code)
    assert snapshot(site) == state


def test_unknown_sku_lists_the_problem(edge: Any, site: Services, oms: Caller) -> None:
    body = order_body([{"line_no": 4, "sku": "NOPE", "qty": 1}])
    resp = edge.put(f"{FO}/SO-1", json=body, headers=oms.with_key())
    assert_response(resp, 422, code="FO_INVALID")
    problems = resp.json()["message"]["details"]["problems"]
    assert problems == [
        {
            "line_no": 4,
            "field": "sku",
            "code": "UNKNOWN_SKU",
            "reason": "SKU NOPE is not in the item master.",
        }
    ]


def test_unknown_order(edge: Any, site: Services, oms: Caller) -> None:
    assert_response(edge.get(f"{FO}/SO-404", headers=oms.headers), 404, code="FO_NOT_FOUND")
    resp = edge.post(f"{FO}/SO-404/cancel", headers=oms.with_key())
    assert_response(resp, 404, code="FO_NOT_FOUND")


def test_cancel_releases_allocations(edge: Any, site: Services, oms: Caller) -> None:
    stock(site, FACE, "MUG-01", 5)
    assert_response(edge.put(f"{FO}/SO-1", json=order_body(), headers=oms.with_key()), 201)
    data = assert_response(edge.post(f"{FO}/SO-1/allocate", headers=oms.with_key()), 200)
    assert data["fulfillment_order"]["status"] == "allocated"
    avail = assert_response(
        edge.get("/api/v1/inventory/availability", params={"sku": "MUG-01"}, headers=oms.headers),
        200,
    )
    assert (avail["on_hand"], avail["allocated"], avail["available"]) == (5, 3, 2)
    data = assert_response(edge.post(f"{FO}/SO-1/cancel", headers=oms.with_key()), 200)
    assert data["outcome"] == "cancelled"
    assert data["fulfillment_order"]["status"] == "cancelled"
    assert site.db.query("SELECT * FROM allocations") == []
    avail = assert_response(
        edge.get("/api/v1/inventory/availability", params={"sku": "MUG-01"}, headers=oms.headers),
        200,
    )
    assert (avail["allocated"], avail["available"]) == (0, 5)
    again = assert_response(edge.post(f"{FO}/SO-1/cancel", headers=oms.with_key()), 200)
    assert again["outcome"] == "unchanged"
    # a cancelled order cannot be changed or allocated
    resp = edge.put(f"{FO}/SO-1", json=order_body(priority=1), headers=oms.with_key())
    assert_response(resp, 409, code="FO_CLOSED")
    resp = edge.post(f"{FO}/SO-1/allocate", headers=oms.with_key())
    assert_response(resp, 409, code="FO_CLOSED")


def test_picking_started_refuses_cancel_and_update(edge: Any, site: Services, oms: Caller) -> None:
    assert_response(edge.put(f"{FO}/SO-1", json=order_body(), headers=oms.with_key()), 201)
    with site.db.write() as w:  # what the picking slice will do
        w.execute("UPDATE fulfillment_orders SET status = 'picking' WHERE number = 'SO-1'")
    state = snapshot(site)
    resp = edge.post(f"{FO}/SO-1/cancel", headers=oms.with_key())
    assert_response(resp, 409, code="FO_PICKING_STARTED")
    resp = edge.put(f"{FO}/SO-1", json=order_body(priority=1), headers=oms.with_key())
    assert_response(resp, 409, code="FO_PICKING_STARTED")
    assert snapshot(site) == state


def test_updating_an_allocated_order_reallocates(edge: Any, site: Services, oms: Caller) -> None:
    stock(site, FACE, "MUG-01", 4)
    assert_response(edge.put(f"{FO}/SO-1", json=order_body(), headers=oms.with_key()), 201)
    assert_response(edge.post(f"{FO}/SO-1/allocate", headers=oms.with_key()), 200)
    lines = [{"line_no": 1, "sku": "MUG-01", "qty": 6}]
    data = assert_response(
        edge.put(f"{FO}/SO-1", json=order_body(lines), headers=oms.with_key()), 200
    )
    order = data["fulfillment_order"]
    assert order["status"] == "backordered"
    line = order["lines"][0]
    assert (line["qty_ordered"], line["qty_allocated"], line["qty_short"]) == (6, 4, 2)
    assert events(site, "fulfillment_order.backordered")[-1]["lines"] == [
        {"line_no": 1, "sku": "MUG-01", "short": 2}
    ]


def test_a_picker_cannot_create_orders_but_may_read(
    edge: Any, site: Services, oms: Caller, as_role: Any
) -> None:
    picker: Caller = as_role("picker")
    resp = edge.put(f"{FO}/SO-1", json=order_body(), headers=picker.with_key())
    assert_response(resp, 403, code="FORBIDDEN_ROLE")
    assert site.db.query("SELECT * FROM fulfillment_orders") == []
    assert_response(edge.put(f"{FO}/SO-1", json=order_body(), headers=oms.with_key()), 201)
    assert_response(edge.get(f"{FO}/SO-1", headers=picker.headers), 200)
    resp = edge.post(f"{FO}/SO-1/allocate", headers=picker.with_key())
    assert_response(resp, 403, code="FORBIDDEN_ROLE")


def test_a_bad_country_names_what_was_sent(edge: Any, site: Services, oms: Caller) -> None:
    body = {**order_body(), "ship_to": {**order_body()["ship_to"], "country": "GBR"}}
    resp = edge.put(f"{FO}/SO-1", json=body, headers=oms.with_key())
    assert_response(resp, 422, code="VALIDATION_FAILED")
    assert "country 'GBR' is not a two-letter ISO 3166-1 code." in resp.text
