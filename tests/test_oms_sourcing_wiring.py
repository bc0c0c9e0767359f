"""Cost-based sourcing wired into reservation at intake: the chooser picks what the engine
prices cheapest (a hand-computed case), capacity moves orders to the next site, missing data
falls back to most-ATP and says so, and the sourcing data's admin API refuses bad input.
Real app, real SQLite file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_oms_foundation import oms_settings
from test_oms_orders import Oms, add_site, order_body

from edge_server.errors import AislewayError
from edge_server.oms import release, reservations
from edge_server.oms.app import create_oms_app
from edge_server.oms.services import open_oms_services
from edge_server.oms.sourcing_adapter import upsert_site_carrier_service

from conftest import assert_response


def quiet_oms(tmp_path: Path) -> Iterator[Oms]:
    """test_oms_orders' OMS (sites CHI and DAL, admin/WEB/reader keys) without the site loop,
    so no order is released behind a test's back."""
    services = open_oms_services(oms_settings(tmp_path, site_sync_enabled=False))
    for code in ("CHI", "DAL"):
        add_site(services, code)
    with TestClient(create_oms_app(services.settings, services)) as client:
        oms = Oms(services, client, {}, {}, {})
        oms.admin = oms.key("admin")
        oms.web = oms.key("channel", "WEB")
        oms.reader = oms.key("reader")
        yield oms
    services.db.close()


@pytest.fixture
def oms(tmp_path: Path) -> Iterator[Oms]:
    yield from quiet_oms(tmp_path)


def card(prices: list[str], *, transit_days: int = 2) -> dict[str, Any]:
    """One US-wide zone; weight breaks 1, 5, 10 kg."""
    return {
        "currency": "USD",
        "weight_breaks_kg": ["1", "5", "10"],
        "zones": [{"name": "US", "country": "US", "prices": prices, "transit_days": transit_days}],
    }


def service(code: str, prices: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "code": code,
        "carrier": "UPS",
        "name": code.title(),
        "cutoff_local": "17:00",
        "ship_days": "1234567",
        "active": True,
        "rate_card": card(prices),
        "updated_at": "2030-01-01T00:00:00+00:00",
        **extra,
    }


def sourcing(oms: Oms, site: str, **body: Any) -> dict[str, Any]:
    return assert_response(oms.send("PUT", f"/sites/{site}/sourcing", oms.admin, json=body), 200)


def weigh(oms: Oms, **weights: str) -> None:
    items = [{"sku": sku.replace("_", "-"), "weight_kg": kg} for sku, kg in weights.items()]
    assert_response(oms.send("POST", "/items", oms.admin, json={"items": items}), 200)


def event(oms: Oms, site: str, svc: dict[str, Any]) -> str:
    """What the site-event intake does with a `carrier_service.changed` event."""
    with oms.services.db.write() as w:
        return upsert_site_carrier_service(
            w, site, {"site": site, "outcome": "created", "service": svc}
        )


def network(oms: Oms) -> None:
    """CHI ships cheaper than DAL; each holds 5 of SKU-A and SKU-B (1 kg each).

    single CHI (2 kg, 5 kg break): 20.00 + 1.00 + 2 x 0.25 = 21.50
    single DAL:                    25.00 + 0.50 + 2 x 0.25 = 26.00
    split, one line each (1 kg):   CHI 5.00 + 1.25 = 6.25, DAL 6.00 + 0.75 = 6.75,
                                   + penalty 5.00 = 18.00   (penalty 10.00: 23.00)
    """
    event(oms, "CHI", service("GROUND", ["5.00", "20.00", "30.00"]))
    event(oms, "DAL", service("GROUND", ["6.00", "25.00", "35.00"]))
    sourcing(oms, "CHI", handling_per_order="1.00", handling_per_line="0.25")
    sourcing(oms, "DAL", handling_per_order="0.50", handling_per_line="0.25")
    weigh(oms, SKU_A="1", SKU_B="1")
    for site in ("CHI", "DAL"):
        for sku in ("SKU-A", "SKU-B"):
            oms.stock(site, sku, 5)


def decisions(oms: Oms, number: str) -> list[dict[str, Any]]:
    return assert_response(oms.get(f"/orders/{number}/sourcing"), 200)["decisions"]


def held(oms: Oms, number: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for line in oms.order(number)["lines"]:
        for r in line["reservations"]:
            out.setdefault(r["site"], {})[line["sku"]] = r["qty"]
    return out


# -- the engine decides ------------------------------------------------------------------------
def test_the_chooser_takes_the_cheaper_split_and_says_why(oms: Oms) -> None:
    network(oms)
    assert_response(oms.put("1", order_body(("SKU-A", 1), ("SKU-B", 1))), 201)
    placed = held(oms, "WEB-1")
    assert sorted(placed) == ["CHI", "DAL"]
    assert sum(len(v) for v in placed.values()) == 2  # one line from each site
    [d] = decisions(oms, "WEB-1")
    assert d["method"] == "exact" and d["fallback_reason"] is None
    assert d["explanation"] == "CHI + DAL saves $3.50 over CHI."
    assert d["plan"]["total"] == "18.00" and d["alternative"]["total"] == "21.50"
    per_site = {s["site"]: s for s in d["plan"]["shipments"]}
    assert per_site["CHI"]["shipping"] == "5.00" and per_site["CHI"]["handling"] == "1.25"
    assert per_site["DAL"]["shipping"] == "6.00" and per_site["DAL"]["handling"] == "0.75"
    assert {per_site["CHI"]["penalty"], per_site["DAL"]["penalty"]} == {"0.00", "5.00"}


def test_a_higher_split_penalty_keeps_the_order_at_one_site(oms: Oms) -> None:
    network(oms)
    body = {"split_penalty": "10.00", "max_sites": 3}
    assert_response(oms.send("PUT", "/sourcing/settings", oms.admin, json=body), 200)
    assert_response(oms.put("1", order_body(("SKU-A", 1), ("SKU-B", 1))), 201)
    assert held(oms, "WEB-1") == {"CHI": {"SKU-A": 1, "SKU-B": 1}}
    [d] = decisions(oms, "WEB-1")
    assert d["explanation"] == "CHI saves $1.50 over CHI + DAL."
    assert d["plan"]["total"] == "21.50" and d["alternative"]["total"] == "23.00"


def test_capacity_exhausted_at_the_cheap_site_moves_the_next_order_on(oms: Oms) -> None:
    network(oms)
    sourcing(oms, "CHI", handling_per_order="1.00", handling_per_line="0.25", daily_capacity=1)
    assert_response(oms.put("1", order_body(("SKU-A", 1))), 201)
    assert held(oms, "WEB-1") == {"CHI": {"SKU-A": 1}}
    assert_response(oms.put("2", order_body(("SKU-A", 1))), 201)
    assert held(oms, "WEB-2") == {"DAL": {"SKU-A": 1}}
    [d] = decisions(oms, "WEB-2")
    assert d["excluded"] == {"CHI": "no capacity left today"}
    assert d["explanation"] == "DAL is the only feasible choice ($6.75)."
    view = assert_response(oms.get("/sites/CHI/sourcing"), 200)
    assert view["daily_capacity"] == 1 and view["orders_today"] == 1
    # a released order still counts against today's capacity
    with oms.services.db.write() as w:
        reservations.mark_released(w, 1, "CHI")
    assert_response(oms.put("3", order_body(("SKU-B", 1))), 201)
    assert held(oms, "WEB-3") == {"DAL": {"SKU-B": 1}}
    # more capacity: the next order is back at CHI, which is full again after it
    sourcing(oms, "CHI", handling_per_order="1.00", handling_per_line="0.25", daily_capacity=2)
    assert_response(oms.put("4", order_body(("SKU-A", 1))), 201)
    assert held(oms, "WEB-4") == {"CHI": {"SKU-A": 1}}
    # replacing an order at a full site keeps it there (its old reservations go back first)
    assert_response(oms.put("4", order_body(("SKU-A", 2))), 200)
    assert held(oms, "WEB-4") == {"CHI": {"SKU-A": 2}}
    assert_response(oms.put("5", order_body(("SKU-A", 1))), 201)
    assert held(oms, "WEB-5") == {"DAL": {"SKU-A": 1}}


def test_short_stock_sources_what_is_there_and_backorders_the_rest(oms: Oms) -> None:
    network(oms)
    assert_response(oms.put("1", order_body(("SKU-A", 12))), 201)
    order = oms.order("WEB-1")
    assert order["status"] == "partially_reserved" and order["qty_backordered"] == 2
    [d] = decisions(oms, "WEB-1")
    assert d["method"] == "exact"
    assert d["explanation"].endswith("2 unit(s) not in stock at any site are backordered.")


# -- missing data: most-ATP, honestly ----------------------------------------------------------
def test_a_site_without_a_rate_card_falls_back_to_most_atp_and_says_so(oms: Oms) -> None:
    event(oms, "CHI", service("GROUND", ["5.00", "20.00", "30.00"]))
    weigh(oms, SKU_A="1")
    oms.stock("CHI", "SKU-A", 2)
    oms.stock("DAL", "SKU-A", 9)
    assert_response(oms.put("1", order_body(("SKU-A", 3))), 201)
    assert held(oms, "WEB-1") == {"DAL": {"SKU-A": 3}}  # what most_atp_first does
    [d] = decisions(oms, "WEB-1")
    assert d["method"] == "fallback" and d["plan"] is None
    assert d["fallback_reason"] == "no rate card on record for DAL"
    assert d["explanation"] == (
        "Most-available-first fallback (no rate card on record for DAL): reserved 3 SKU-A at DAL."
    )


def test_a_sku_without_a_weight_falls_back_and_says_so(oms: Oms) -> None:
    network(oms)
    oms.stock("CHI", "SKU-Z", 1)
    assert_response(oms.put("1", order_body(("SKU-A", 1), ("SKU-Z", 1))), 201)
    [d] = decisions(oms, "WEB-1")
    assert d["method"] == "fallback" and d["fallback_reason"] == "no weight for SKU-Z"


def test_a_promise_no_site_can_keep_still_reserves_and_says_why(oms: Oms) -> None:
    network(oms)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    assert_response(oms.put("1", order_body(("SKU-A", 1), promised_date=yesterday)), 201)
    assert oms.order("WEB-1")["status"] == "reserved"
    [d] = decisions(oms, "WEB-1")
    assert d["method"] == "fallback"
    assert f"cannot deliver by {yesterday}" in d["fallback_reason"]


def test_the_services_default_chooser_matches_most_atp_without_any_sourcing_data(
    oms: Oms,
) -> None:
    oms.stock("CHI", "SKU-A", 5)
    oms.stock("DAL", "SKU-A", 8)
    assert_response(oms.put("1", order_body(("SKU-A", 10))), 201)
    assert held(oms, "WEB-1") == {"DAL": {"SKU-A": 8}, "CHI": {"SKU-A": 2}}
    [d] = decisions(oms, "WEB-1")
    assert d["method"] == "fallback"
    assert "no rate card on record for CHI" in d["fallback_reason"]
    assert reservations.check_reservations(oms.services.db) == []


# -- carrier services from the sites' events ----------------------------------------------------
def test_carrier_service_events_are_stored_and_an_older_one_is_ignored(oms: Oms) -> None:
    assert event(oms, "CHI", service("GROUND", ["5.00", "20.00", "30.00"])) == "created"
    assert event(oms, "CHI", service("GROUND", ["5.00", "20.00", "30.00"])) == "unchanged"
    newer = service("GROUND", ["7.00", "20.00", "30.00"], updated_at="2030-02-01T00:00:00Z")
    assert event(oms, "CHI", newer) == "updated"
    older = service("GROUND", ["1.00", "2.00", "3.00"], updated_at="2030-01-15T00:00:00Z")
    assert event(oms, "CHI", older) == "stale"
    view = assert_response(oms.get("/sites/CHI/sourcing"), 200)
    [svc] = view["carrier_services"]
    assert svc["rate_card"]["zones"][0]["prices"][0] == "7.00"


def test_a_malformed_carrier_service_event_is_refused_and_stores_nothing(oms: Oms) -> None:
    bad = service("GROUND", ["5.00", "4.00", "30.00"])  # prices fall as weight rises
    before = oms.services.db.query("SELECT * FROM site_carrier_services")
    with pytest.raises(AislewayError) as caught:
        event(oms, "CHI", bad)
    assert caught.value.code.value == "VALIDATION_FAILED"
    with pytest.raises(AislewayError) as unknown:
        event(oms, "NOPE", service("GROUND", ["5.00", "20.00", "30.00"]))
    assert unknown.value.code.value == "UNKNOWN_SITE"
    assert oms.services.db.query("SELECT * FROM site_carrier_services") == before


# -- the admin API -------------------------------------------------------------------------------
def test_sourcing_data_set_over_http(oms: Oms) -> None:
    data = sourcing(
        oms, "CHI", handling_per_order="1.5", daily_capacity=300, timezone="America/Chicago"
    )
    assert data["outcome"] == "created"
    assert data["sourcing"]["handling_per_order"] == "1.5"
    assert data["sourcing"]["timezone"] == "America/Chicago"
    again = sourcing(
        oms, "CHI", handling_per_order="1.5", daily_capacity=300, timezone="America/Chicago"
    )
    assert again["outcome"] == "unchanged"
    body = {k: v for k, v in service("EXPRESS", ["9", "19", "29"]).items() if k != "code"}
    body.pop("updated_at")
    put = oms.send("PUT", "/sites/DAL/carrier-services/EXPRESS", oms.admin, json=body)
    assert [s["code"] for s in assert_response(put, 200)["sourcing"]["carrier_services"]] == [
        "EXPRESS"
    ]
    item = assert_response(
        oms.send("PUT", "/items/SKU-A", oms.admin, json={"weight_kg": "0.5"}), 200
    )
    assert item["outcome"] == "created"
    assert assert_response(oms.get("/items/SKU-A"), 200)["weight_kg"] == "0.5"
    settings = assert_response(oms.get("/sourcing/settings"), 200)
    assert settings == {"split_penalty": "5.00", "max_sites": 3}


@pytest.mark.parametrize(
    ("method", "path", "body", "code", "status"),
    [
        ("PUT", "/sites/CHI/sourcing", {"timezone": "Mars/Olympus"}, "VALIDATION_FAILED", 422),
        ("PUT", "/sites/CHI/sourcing", {"handling_per_order": "-1"}, "VALIDATION_FAILED", 422),
        ("PUT", "/sites/CHI/sourcing", {"daily_capacity": -5}, "VALIDATION_FAILED", 422),
        ("PUT", "/sites/CHI/sourcing", {"surprise": 1}, "VALIDATION_FAILED", 422),
        ("PUT", "/sites/NOPE/sourcing", {}, "UNKNOWN_SITE", 404),
        ("PUT", "/items/SKU-A", {"weight_kg": "-0.1"}, "VALIDATION_FAILED", 422),
        ("POST", "/items", {"items": []}, "VALIDATION_FAILED", 422),
        (
            "POST",
            "/items",
            {"items": [{"sku": "A", "weight_kg": 1}, {"sku": "A", "weight_kg": 2}]},
            "VALIDATION_FAILED",
            422,
        ),
        (
            "PUT",
            "/sourcing/settings",
            {"split_penalty": "5", "max_sites": 0},
            "VALIDATION_FAILED",
            422,
        ),
        ("PUT", "/sourcing/settings", {"split_penalty": "-1"}, "VALIDATION_FAILED", 422),
        (
            "PUT",
            "/sites/CHI/carrier-services/GROUND",
            {"carrier": "UPS", "cutoff_local": "25:00", "rate_card": card(["1", "2", "3"])},
            "VALIDATION_FAILED",
            422,
        ),
    ],
)
def test_bad_sourcing_data_is_refused_and_changes_nothing(
    oms: Oms, method: str, path: str, body: dict[str, Any], code: str, status: int
) -> None:
    tables = ("site_sourcing", "site_carrier_services", "items", "sourcing_settings")
    before = [oms.services.db.query(f"SELECT * FROM {t}") for t in tables]
    response = oms.send(method, path, oms.admin, json=body)
    assert response.status_code == status, response.text
    assert response.json()["message"]["code"] == code
    assert [oms.services.db.query(f"SELECT * FROM {t}") for t in tables] == before


def test_only_admins_set_sourcing_data_and_channels_see_only_their_orders(oms: Oms) -> None:
    refused = oms.send("PUT", "/sites/CHI/sourcing", oms.reader, json={})
    assert refused.status_code == 403
    assert refused.json()["message"]["code"] == "FORBIDDEN_ROLE"
    assert oms.send("PUT", "/items/X", oms.web, json={"weight_kg": 1}).status_code == 403
    assert_response(oms.put("1", order_body(("SKU-A", 1))), 201)
    mine = oms.client.get("/api/v1/orders/WEB-1/sourcing", headers=oms.web)
    assert mine.status_code == 200
    other = oms.key("channel", "B2B")
    theirs = oms.client.get("/api/v1/orders/WEB-1/sourcing", headers=other)
    assert theirs.status_code == 404 and theirs.json()["message"]["code"] == "ORDER_NOT_FOUND"
    missing = oms.get("/orders/WEB-404/sourcing")
    assert missing.status_code == 404


def test_the_stored_decision_is_plain_json(oms: Oms) -> None:
    network(oms)
    assert_response(oms.put("1", order_body(("SKU-A", 1))), 201)
    row = oms.services.db.query_one("SELECT method, explanation, decision_json FROM order_sourcing")
    assert row is not None and row["method"] == "exact"
    assert json.loads(row["decision_json"])["allocations"] == {"SKU-A": [["CHI", 1]]}


def test_release_names_the_carrier_service_sourcing_chose(oms: Oms) -> None:
    network(oms)
    event(oms, "DAL", service("EXPRESS", ["5.50", "21.00", "31.00"]))
    body = {"split_penalty": "10.00", "max_sites": 3}
    assert_response(oms.send("PUT", "/sourcing/settings", oms.admin, json=body), 200)
    assert_response(oms.put("1", order_body(("SKU-A", 1))), 201)  # CHI GROUND 6.25
    oms.stock("CHI", "SKU-A", 0)
    assert_response(oms.put("2", order_body(("SKU-A", 1))), 201)  # DAL: EXPRESS is cheaper
    with oms.services.db.write() as w:
        release.plan_release(w, "WEB-1")
        release.plan_release(w, "WEB-2")
    rows = oms.services.db.query(
        "SELECT o.number, s.code AS site, f.carrier_service FROM fulfillments f "
        "JOIN orders o ON o.id = f.order_id JOIN sites s ON s.id = f.site_id ORDER BY o.number"
    )
    assert [(r["number"], r["site"], r["carrier_service"]) for r in rows] == [
        ("WEB-1", "CHI", "GROUND"),
        ("WEB-2", "DAL", "EXPRESS"),
    ]
