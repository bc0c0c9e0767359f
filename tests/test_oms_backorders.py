"""Backorders filled oldest first when stock arrives at any site, partially and never twice,
with the customer told: through the site-event hook in one transaction, and through the
sites' signed event endpoint. Real app, real SQLite file, real HTTP client."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_oms_orders import Oms, order_body
from test_oms_sourcing_wiring import quiet_oms

from edge_server.integration.signing import signed_headers
from edge_server.oms import reservations, site_events
from edge_server.oms.backorders import FILLED_KIND, fill_backorders, waiting_orders
from edge_server.oms.sites import SiteIn, put_site

from conftest import assert_response

SECRET = "whsec_" + "QkFDS09SREVSU0JBQ0tPUkRFUlM="
_ids = itertools.count(1)
_clock = itertools.count(1)


@pytest.fixture
def oms(tmp_path: Path) -> Iterator[Oms]:
    yield from quiet_oms(tmp_path)


def stamp() -> str:
    """A later `as_of` each call, as a site's successive stock events carry."""
    return (datetime(2030, 1, 1, tzinfo=UTC) + timedelta(minutes=next(_clock))).isoformat()


def arrive(oms: Oms, site: str, sku: str, available: int, as_of: str | None = None) -> Any:
    """What the site-event intake does with `inventory.changed`: record the stock, then call
    the stock hooks, in one transaction."""
    with oms.services.db.write() as w:
        if reservations.set_site_stock(w, site, sku, available, as_of or stamp()):
            for hook in site_events.on_stock_changed:
                hook(w, site, sku)


def held(oms: Oms, number: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in oms.order(number)["lines"]:
        for r in line["reservations"]:
            out[r["site"]] = out.get(r["site"], 0) + r["qty"]
    return out


def emails(oms: Oms) -> list[dict[str, Any]]:
    # The order confirmation every order with an address gets: tests/test_oms_customer_emails.py
    return oms.services.db.query(
        "SELECT dedupe_key, kind, to_addr, context_json FROM emails "
        "WHERE kind != 'order_confirmation' ORDER BY id"
    )


def backlog(oms: Oms, *orders: tuple[str, int]) -> None:
    """Orders for SKU-A that nobody can serve yet, one after another."""
    for coid, qty in orders:
        data = assert_response(oms.put(coid, order_body(("SKU-A", qty))), 201)
        assert data["order"]["status"] == "backordered"


def test_the_fill_hook_is_registered_with_the_site_event_intake(oms: Oms) -> None:
    assert any(
        getattr(h, "__module__", "") == "edge_server.oms.backorders"
        for h in site_events.on_stock_changed
    )


def test_a_backorder_filled_oldest_first_when_a_po_is_received_at_either_site(oms: Oms) -> None:
    backlog(oms, ("1", 2), ("2", 3), ("3", 1))
    assert [o["number"] for o in waiting_orders(oms.services.db, "SKU-A")] == [
        "WEB-1",
        "WEB-2",
        "WEB-3",
    ]
    # a PO of 4 received at DAL: the oldest order whole, the next one partly
    arrive(oms, "DAL", "SKU-A", 4)
    assert held(oms, "WEB-1") == {"DAL": 2}
    assert held(oms, "WEB-2") == {"DAL": 2}
    assert held(oms, "WEB-3") == {}
    assert [oms.order(n)["status"] for n in ("WEB-1", "WEB-2", "WEB-3")] == [
        "reserved",
        "partially_reserved",
        "backordered",
    ]
    # a PO of 2 received at CHI: the rest of the second, then the third
    arrive(oms, "CHI", "SKU-A", 2)
    assert held(oms, "WEB-2") == {"DAL": 2, "CHI": 1}
    assert held(oms, "WEB-3") == {"CHI": 1}
    assert all(oms.order(n)["status"] == "reserved" for n in ("WEB-1", "WEB-2", "WEB-3"))
    assert oms.count("backorders") == 0
    assert reservations.check_reservations(oms.services.db) == []
    filled = [p for t, p in oms.events("order.backorder_filled")]
    assert [(p["number"], p["stock_arrived"]["site"]) for p in filled] == [
        ("WEB-1", "DAL"),
        ("WEB-2", "DAL"),
        ("WEB-2", "CHI"),
        ("WEB-3", "CHI"),
    ]


def test_a_replaced_order_keeps_its_place_in_the_queue(oms: Oms) -> None:
    backlog(oms, ("1", 2), ("2", 2))
    # the older order changes its lines after the newer one arrived: still first
    assert_response(oms.put("1", order_body(("SKU-A", 3))), 200)
    arrive(oms, "CHI", "SKU-A", 3)
    assert held(oms, "WEB-1") == {"CHI": 3}
    assert held(oms, "WEB-2") == {}


def test_cancelled_orders_are_skipped(oms: Oms) -> None:
    backlog(oms, ("1", 2), ("2", 2))
    assert_response(oms.send("POST", "/orders/WEB-1/cancel", json={"reason": "changed mind"}), 200)
    arrive(oms, "DAL", "SKU-A", 2)
    assert held(oms, "WEB-1") == {}
    assert held(oms, "WEB-2") == {"DAL": 2}


def test_nothing_is_filled_or_mailed_twice_under_repeated_events(oms: Oms) -> None:
    backlog(oms, ("1", 2), ("2", 3))
    at = stamp()
    arrive(oms, "DAL", "SKU-A", 3, at)
    before = (
        oms.services.db.query("SELECT * FROM reservations ORDER BY id"),
        emails(oms),
        oms.events(),
    )
    # the same event again, an older one, and the hook called again directly
    arrive(oms, "DAL", "SKU-A", 3, at)
    arrive(oms, "DAL", "SKU-A", 9, "2029-12-31T00:00:00+00:00")
    with oms.services.db.write() as w:
        assert fill_backorders(w, "DAL", "SKU-A") == []
    after = (
        oms.services.db.query("SELECT * FROM reservations ORDER BY id"),
        emails(oms),
        oms.events(),
    )
    assert after == before
    assert held(oms, "WEB-1") == {"DAL": 2} and held(oms, "WEB-2") == {"DAL": 1}
    assert reservations.check_reservations(oms.services.db) == []


def test_the_customer_is_told_when_backordered_and_when_stock_arrives(oms: Oms) -> None:
    oms.stock("CHI", "SKU-B", 5)
    data = assert_response(oms.put("1", order_body(("SKU-A", 3), ("SKU-B", 1))), 201)
    assert data["order"]["status"] == "partially_reserved"
    [mail] = emails(oms)
    assert (mail["kind"], mail["to_addr"], mail["dedupe_key"]) == (
        "backorder",
        "ada@example.com",
        "order:WEB-1:backordered:1",
    )
    assert json.loads(mail["context_json"])["lines"] == [
        {"sku": "SKU-A", "description": "", "quantity_ordered": 3, "quantity_backordered": 3}
    ]
    # 2 of 3 arrive: the customer hears what still waits
    arrive(oms, "DAL", "SKU-A", 2)
    mails = emails(oms)
    assert len(mails) == 2
    update = mails[1]  # partly filled: what still waits
    assert update["kind"] == "backorder"
    assert json.loads(update["context_json"])["lines"][0]["quantity_backordered"] == 1
    assert update["dedupe_key"].startswith("order:WEB-1:")
    arrive(oms, "DAL", "SKU-A", 2)  # the same level again: nothing new
    assert len(emails(oms)) == 2


def test_an_order_without_an_address_is_filled_without_an_email(oms: Oms) -> None:
    body = order_body(("SKU-A", 1))
    del body["customer_email"]
    assert_response(oms.put("1", body), 201)
    arrive(oms, "CHI", "SKU-A", 1)
    assert held(oms, "WEB-1") == {"CHI": 1}
    assert emails(oms) == []


def test_a_complete_fill_sends_the_available_email(oms: Oms) -> None:
    backlog(oms, ("1", 2))
    arrive(oms, "CHI", "SKU-A", 2)
    kinds = [m["kind"] for m in emails(oms)]
    assert kinds == ["backorder", FILLED_KIND]


# -- through the sites' signed event endpoint --------------------------------------------------
def subscribe(oms: Oms, code: str) -> None:
    body = SiteIn(
        name=code, base_url=f"http://127.0.0.1:1/{code}", webhook_secret=SECRET, active=True
    )
    with oms.services.db.write() as w:
        put_site(w, code, body, base_url=body.base_url)


def signed_event(oms: Oms, site: str, kind: str, data: dict[str, Any], at: str) -> Any:
    event_id = f"msg_{next(_ids)}"
    body = json.dumps({"id": event_id, "type": kind, "timestamp": at, "data": data})
    headers = signed_headers(SECRET, event_id, body)
    headers["content-type"] = "application/json"
    return oms.client.post(f"/api/v1/sites/{site}/events", content=body, headers=headers)


def test_a_po_received_at_a_site_fills_backorders_through_its_signed_event(oms: Oms) -> None:
    subscribe(oms, "CHI")
    subscribe(oms, "DAL")
    backlog(oms, ("1", 2), ("2", 2))
    data = {"site": "DAL", "sku": "SKU-A", "type": "receipt", "qty": 3, "atp": 3, "available": 3}
    answer = assert_response(signed_event(oms, "DAL", "inventory.changed", data, stamp()), 200)
    assert answer["outcome"] == "applied"
    assert held(oms, "WEB-1") == {"DAL": 2} and held(oms, "WEB-2") == {"DAL": 1}
    data = {"site": "CHI", "sku": "SKU-A", "type": "receipt", "qty": 5, "atp": 5, "available": 5}
    assert_response(signed_event(oms, "CHI", "inventory.changed", data, stamp()), 200)
    assert held(oms, "WEB-2") == {"DAL": 1, "CHI": 1}
    assert oms.atp("SKU-A")["atp"] == 4
    assert reservations.check_reservations(oms.services.db) == []


def test_a_sites_carrier_service_event_is_stored_for_sourcing(oms: Oms) -> None:
    subscribe(oms, "CHI")
    card = {
        "currency": "USD",
        "weight_breaks_kg": ["1", "5"],
        "zones": [{"name": "US", "country": "US", "prices": ["5.00", "9.00"]}],
    }
    svc = {
        "code": "UPS-GROUND",
        "carrier": "UPS",
        "name": "UPS Ground",
        "cutoff_local": "17:00",
        "ship_days": "12345",
        "active": True,
        "rate_card": card,
        "updated_at": "2030-01-01T00:00:00+00:00",
    }
    data = {"site": "CHI", "outcome": "created", "service": svc}
    answer = assert_response(
        signed_event(oms, "CHI", "carrier_service.changed", data, stamp()), 200
    )
    assert answer["outcome"] == "applied"
    assert answer["changes"] == [{"carrier_service": "UPS-GROUND", "outcome": "created"}]
    rows = oms.services.db.query("SELECT * FROM site_carrier_services")
    assert len(rows) == 1
    again = assert_response(signed_event(oms, "CHI", "carrier_service.changed", data, stamp()), 200)
    assert again["outcome"] == "ignored"  # the same card again: nothing to change
