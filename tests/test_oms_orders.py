"""Channel orders through the OMS API: intake with reservation, idempotency, split and
partial backorders, replacement, cancellation and address change before release, exchanges,
channel-bound keys, sites and available-to-promise. Real app, real SQLite file."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_oms_foundation import oms_settings

from edge_server.oms import orders, reservations
from edge_server.oms.app import create_oms_app
from edge_server.oms.services import OmsServices, open_oms_services

from conftest import assert_response

_keys = itertools.count(1)
SECRET = "whsec_" + "A" * 32
NOW = "2030-01-01T12:00:00+00:00"


def order_body(*lines: tuple[str, int], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ship_to": {
            "name": "Ada Buyer",
            "address_lines": ["1 Main St"],
            "city": "Springfield",
            "postal_code": "12345",
            "country": "us",
        },
        "requested_service": "standard",
        "payment_status": "authorized",
        "customer_email": "ada@example.com",
        "lines": [
            {"line_no": i + 1, "sku": sku, "qty": qty, "unit_price": "9.99"}
            for i, (sku, qty) in enumerate(lines)
        ],
    }
    body.update(extra)
    return body


@dataclass
class Oms:
    services: OmsServices
    client: TestClient
    admin: dict[str, str]
    web: dict[str, str]
    reader: dict[str, str]

    def key(self, role: str, channel: str | None = None) -> dict[str, str]:
        key, secret = self.services.api_keys.create(f"{role}-{next(_keys)}", role=role)
        if channel is not None:
            with self.services.db.write() as w:
                orders.add_channel(w, channel)
                orders.bind_key(w, key.id, channel)
        return {"Authorization": f"Bearer {secret}"}

    def send(self, method: str, path: str, who: dict[str, str] | None = None, **kw: Any) -> Any:
        headers = {**(who if who is not None else self.web), "Idempotency-Key": f"k{next(_keys)}"}
        headers.update(kw.pop("headers", {}))
        return self.client.request(method, "/api/v1" + path, headers=headers, **kw)

    def put(self, coid: str, body: dict[str, Any], **kw: Any) -> Any:
        return self.send("PUT", f"/orders/{coid}", json=body, **kw)

    def get(self, path: str, who: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.get("/api/v1" + path, headers=who or self.admin, **kw)

    def order(self, number: str) -> dict[str, Any]:
        return assert_response(self.get(f"/orders/{number}"), 200)

    def stock(self, site: str, sku: str, available: int, as_of: str = NOW) -> None:
        with self.services.db.write() as w:
            reservations.set_site_stock(w, site, sku, available, as_of)

    def atp(self, sku: str) -> dict[str, Any]:
        return assert_response(self.get("/inventory/atp", params={"sku": sku}), 200)

    def count(self, table: str) -> int:
        return int(self.services.db.query_one(f"SELECT COUNT(*) AS n FROM {table}")["n"])  # type: ignore[index]

    def events(self, prefix: str = "order.") -> list[tuple[str, dict[str, Any]]]:
        return [
            (r["type"], json.loads(r["payload_json"]))
            for r in self.services.db.query(
                "SELECT type, payload_json FROM outbox WHERE type LIKE ? ORDER BY id",
                [prefix + "%"],
            )
        ]

    def snapshot(self) -> list[Any]:
        """Everything an order operation could change, to prove a refusal changed nothing."""
        return [
            self.services.db.query(f"SELECT * FROM {t} ORDER BY 1")
            for t in (
                "orders",
                "order_lines",
                "reservations",
                "backorders",
                "site_stock",
                "order_history",
                "outbox",
                "sites",
            )
        ]


def add_site(services: OmsServices, code: str) -> None:
    from edge_server.oms.sites import SiteIn, put_site

    body = SiteIn(name=code, base_url=f"http://127.0.0.1:1/{code}", api_key="awk_sitekey1")
    with services.db.write() as w:
        put_site(w, code, body, base_url=body.base_url)


def make_oms(tmp_path: Path) -> Iterator[Oms]:
    services = open_oms_services(oms_settings(tmp_path))
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
    yield from make_oms(tmp_path)


# -- intake ----------------------------------------------------------------------------------
def test_an_order_is_reserved_at_intake_at_the_site_with_most_atp(oms: Oms) -> None:
    oms.stock("CHI", "SKU-A", 5)
    oms.stock("DAL", "SKU-A", 8)
    data = assert_response(oms.put("1001", order_body(("SKU-A", 3))), 201)
    order = data["order"]
    assert data["outcome"] == "created"
    assert order["number"] == "WEB-1001" and order["channel"] == "WEB"
    assert order["status"] == "reserved"
    assert order["ship_to"]["country"] == "US"
    line = order["lines"][0]
    assert line["qty_reserved"] == 3 and line["qty_backordered"] == 0
    assert line["reservations"] == [{"site": "DAL", "qty": 3, "status": "held"}]
    atp = oms.atp("SKU-A")
    assert atp["atp"] == 10
    assert [(s["site"], s["atp"], s["reserved"]) for s in atp["sites"]] == [
        ("CHI", 5, 0),
        ("DAL", 5, 3),
    ]
    types = [t for t, _ in oms.events()]
    assert types == ["order.received", "order.reserved"]
    assert oms.events()[1][1]["reserved"] == [
        {"line_no": 1, "sku": "SKU-A", "site": "DAL", "qty": 3}
    ]
    assert [h["event"] for h in order["history"]] == ["received", "reserved"]


def test_the_same_order_again_changes_nothing_and_a_reused_key_is_refused(oms: Oms) -> None:
    oms.stock("CHI", "SKU-A", 5)
    body = order_body(("SKU-A", 2))
    headers = {"Idempotency-Key": "order-1001"}
    first = oms.put("1001", body, headers=headers)
    assert_response(first, 201)
    replay = oms.put("1001", body, headers=headers)
    assert replay.status_code == 201 and replay.json() == first.json()
    again = assert_response(oms.put("1001", body), 200)  # a new key, the same order
    assert again["outcome"] == "unchanged"
    before = oms.snapshot()
    other = copy.deepcopy(body)
    other["lines"][0]["qty"] = 3
    assert_response(oms.put("1001", other, headers=headers), 422, code="IDEMPOTENCY_KEY_REUSED")
    assert oms.snapshot() == before
    assert oms.count("reservations") == 1 and oms.atp("SKU-A")["atp"] == 3


def test_a_line_bigger_than_any_site_is_split_across_sites(oms: Oms) -> None:
    oms.stock("CHI", "SKU-A", 4)
    oms.stock("DAL", "SKU-A", 3)
    order = assert_response(oms.put("1002", order_body(("SKU-A", 6))), 201)["order"]
    assert order["status"] == "reserved"
    assert order["sites"] == [
        {"site": "CHI", "held": 4, "released": 0},
        {"site": "DAL", "held": 2, "released": 0},
    ]
    assert oms.atp("SKU-A")["atp"] == 1


def test_what_no_site_has_is_backordered_and_the_rest_reserved(oms: Oms) -> None:
    oms.stock("CHI", "SKU-A", 2)
    order = assert_response(oms.put("1003", order_body(("SKU-A", 5), ("SKU-B", 1))), 201)["order"]
    assert order["status"] == "partially_reserved"
    a, b = order["lines"]
    assert (a["qty_reserved"], a["qty_backordered"]) == (2, 3)
    assert (b["qty_reserved"], b["qty_backordered"]) == (0, 1)
    assert order["qty_backordered"] == 4
    backorders = oms.services.db.query("SELECT sku, qty, created_at FROM backorders ORDER BY sku")
    assert [(r["sku"], r["qty"]) for r in backorders] == [("SKU-A", 3), ("SKU-B", 1)]
    assert backorders[0]["created_at"] == order["received_at"]
    types = [t for t, _ in oms.events()]
    assert types == ["order.received", "order.reserved", "order.backordered"]
    assert oms.events()[-1][1]["backordered"] == [
        {"line_no": 1, "sku": "SKU-A", "qty": 3},
        {"line_no": 2, "sku": "SKU-B", "qty": 1},
    ]
    assert oms.atp("SKU-A")["backordered"] == 3


def test_an_order_with_nothing_in_stock_is_backordered_and_filled_later(oms: Oms) -> None:
    order = assert_response(oms.put("1004", order_body(("SKU-A", 2))), 201)["order"]
    assert order["status"] == "backordered"
    oms.stock("DAL", "SKU-A", 10)
    with oms.services.db.write() as w:
        result = orders.reserve(w, "WEB-1004")
    assert result.reserved == [{"line_no": 1, "sku": "SKU-A", "site": "DAL", "qty": 2}]
    order = oms.order("WEB-1004")
    assert order["status"] == "reserved" and order["qty_backordered"] == 0
    assert oms.count("backorders") == 0


# -- replacing, cancelling, re-addressing ---------------------------------------------------
def test_replacing_the_lines_reserves_afresh_and_keeps_the_queue_place(oms: Oms) -> None:
    oms.stock("CHI", "SKU-A", 3)
    first = assert_response(oms.put("1005", order_body(("SKU-A", 2), ("SKU-B", 1))), 201)["order"]
    body = order_body(("SKU-A", 3))
    body["lines"].append({"line_no": 3, "sku": "SKU-C", "qty": 1})
    data = assert_response(oms.put("1005", body), 200)
    order = data["order"]
    assert data["outcome"] == "updated"
    by_no = {ln["line_no"]: ln for ln in order["lines"]}
    assert by_no[1]["qty_reserved"] == 3
    assert by_no[2]["cancelled"] and by_no[2]["qty_reserved"] == 0
    assert by_no[3]["qty_backordered"] == 1
    assert order["status"] == "partially_reserved"
    rows = oms.services.db.query("SELECT sku, created_at FROM backorders")
    assert rows == [{"sku": "SKU-C", "created_at": first["received_at"]}]
    assert oms.atp("SKU-A")["atp"] == 0
    assert reservations.check_reservations(oms.services.db) == []


def test_cancelling_gives_the_stock_back_once(oms: Oms) -> None:
    oms.stock("CHI", "SKU-A", 3)
    assert_response(oms.put("1006", order_body(("SKU-A", 5))), 201)
    assert oms.atp("SKU-A")["atp"] == 0
    data = assert_response(
        oms.send("POST", "/orders/WEB-1006/cancel", json={"reason": "customer asked"}), 200
    )
    assert data["outcome"] == "cancelled" and data["order"]["status"] == "cancelled"
    assert data["order"]["cancel_reason"] == "customer asked"
    assert oms.atp("SKU-A")["atp"] == 3 and oms.count("backorders") == 0
    assert oms.events()[-1] == (
        "order.cancelled",
        {
            "number": "WEB-1006",
            "channel": "WEB",
            "channel_order_id": "1006",
            "status": "cancelled",
            "reason": "customer asked",
            "units_given_back": 3,
        },
    )
    again = assert_response(oms.send("POST", "/orders/WEB-1006/cancel"), 200)
    assert again["outcome"] == "unchanged" and oms.atp("SKU-A")["atp"] == 3
    before = oms.snapshot()
    changed = order_body(("SKU-A", 1))
    assert_response(oms.put("1006", changed), 409, code="ORDER_CANCELLED")
    new_address = {**order_body()["ship_to"], "city": "Shelbyville"}
    assert_response(
        oms.send("POST", "/orders/WEB-1006/address", json=new_address), 409, code="ORDER_CANCELLED"
    )
    assert oms.snapshot() == before


def test_the_address_can_change_before_release_and_not_after(oms: Oms) -> None:
    oms.stock("CHI", "SKU-A", 3)
    assert_response(oms.put("1007", order_body(("SKU-A", 1))), 201)
    new_address = {**order_body()["ship_to"], "city": "Shelbyville"}
    data = assert_response(oms.send("POST", "/orders/WEB-1007/address", json=new_address), 200)
    assert data["outcome"] == "updated" and data["order"]["ship_to"]["city"] == "Shelbyville"
    assert data["order"]["lines"][0]["qty_reserved"] == 1  # reservations stay
    assert oms.events()[-1][0] == "order.address_changed"
    same = assert_response(oms.send("POST", "/orders/WEB-1007/address", json=new_address), 200)
    assert same["outcome"] == "unchanged"

    with oms.services.db.write() as w:  # what release to the site will do
        reservations.mark_released(w, orders.order_id(w, "WEB-1007"), "CHI")
        w.execute("UPDATE orders SET status = 'released' WHERE number = 'WEB-1007'")
    before = oms.snapshot()
    third = {**new_address, "city": "Capital City"}
    resp = oms.send("POST", "/orders/WEB-1007/address", json=third)
    assert_response(resp, 409, code="ORDER_RELEASED")
    assert_response(oms.send("POST", "/orders/WEB-1007/cancel"), 409, code="ORDER_RELEASED")
    assert_response(oms.put("1007", order_body(("SKU-A", 2))), 409, code="ORDER_RELEASED")
    assert oms.snapshot() == before
    # Payment news still lands after release.
    paid = order_body(("SKU-A", 1), payment_status="paid", ship_to=new_address)
    data = assert_response(oms.put("1007", paid), 200)
    assert data["order"]["payment_status"] == "paid" and data["order"]["status"] == "released"
    assert data["order"]["lines"][0]["qty_released"] == 1


def test_an_exchange_links_the_rma_and_the_original_order(oms: Oms) -> None:
    oms.stock("CHI", "SKU-A", 3)
    assert_response(oms.put("1008", order_body(("SKU-A", 1))), 201)
    body = order_body(("SKU-A", 1), exchange={"rma": "R-77", "original_order": "WEB-1008"})
    order = assert_response(oms.put("1008-X", body), 201)["order"]
    assert order["exchange"] == {"rma": "R-77", "original_order": "WEB-1008"}
    before = oms.snapshot()
    bad = order_body(("SKU-A", 1), exchange={"rma": "R-78", "original_order": "WEB-9999"})
    assert_response(oms.put("1009-X", bad), 422, code="EXCHANGE_ORDER_UNKNOWN")
    assert oms.snapshot() == before


# -- who may do what --------------------------------------------------------------------------
def test_a_channel_key_acts_for_its_own_channel_only(oms: Oms) -> None:
    oms.stock("CHI", "SKU-A", 10)
    amazon = oms.key("channel", "AMAZON")
    assert_response(oms.put("111-2222222-3333333", order_body(("SKU-A", 1)), who=amazon), 201)
    assert_response(oms.put("1010", order_body(("SKU-A", 1))), 201)
    before = oms.snapshot()
    resp = oms.put("1011", order_body(("SKU-A", 1)), params={"channel": "AMAZON"})
    assert_response(resp, 403, code="CHANNEL_NOT_YOURS")
    unbound = oms.key("channel")
    assert_response(
        oms.put("1012", order_body(("SKU-A", 1)), who=unbound), 403, code="CHANNEL_KEY_UNBOUND"
    )
    assert_response(
        oms.put("1013", order_body(("SKU-A", 1)), who=oms.reader), 403, code="FORBIDDEN_ROLE"
    )
    assert_response(
        oms.put("1014", order_body(("SKU-A", 1)), who=oms.admin), 422, code="VALIDATION_FAILED"
    )
    resp = oms.put("1015", order_body(("SKU-A", 1)), who=oms.admin, params={"channel": "EBAY"})
    assert_response(resp, 404, code="UNKNOWN_CHANNEL")
    assert oms.snapshot() == before
    # Reads: a channel sees its own orders; admin and reader see all.
    mine = assert_response(oms.get("/orders", who=oms.web), 200)
    assert [o["number"] for o in mine["items"]] == ["WEB-1010"]
    assert_response(
        oms.get("/orders/AMAZON-111-2222222-3333333", who=oms.web), 404, code="ORDER_NOT_FOUND"
    )
    cancel = oms.send("POST", "/orders/AMAZON-111-2222222-3333333/cancel")
    assert_response(cancel, 404, code="ORDER_NOT_FOUND")
    everything = assert_response(oms.get("/orders", who=oms.reader), 200)
    assert everything["total"] == 2
    made = assert_response(
        oms.put("1016", order_body(("SKU-A", 1)), who=oms.admin, params={"channel": "WEB"}), 201
    )
    assert made["order"]["number"] == "WEB-1016"


def test_orders_are_listed_by_channel_status_and_sku(oms: Oms) -> None:
    oms.stock("CHI", "SKU-A", 1)
    assert_response(oms.put("1", order_body(("SKU-A", 1))), 201)
    assert_response(oms.put("2", order_body(("SKU-B", 1))), 201)
    assert_response(oms.put("3", order_body(("SKU-A", 1), ("SKU-B", 2))), 201)

    def numbers(**params: Any) -> list[str]:
        page = assert_response(oms.get("/orders", params=params), 200)
        return [o["number"] for o in page["items"]]

    assert numbers() == ["WEB-3", "WEB-2", "WEB-1"]
    assert numbers(status="backordered") == ["WEB-3", "WEB-2"]
    assert numbers(sku="SKU-A") == ["WEB-3", "WEB-1"]
    assert numbers(channel="WEB", limit=1, offset=1) == ["WEB-2"]
    assert numbers(channel="B2B") == []
    assert_response(oms.get("/orders", params={"status": "lost"}), 422, code="VALIDATION_FAILED")
    assert_response(oms.get("/orders/WEB-404"), 404, code="ORDER_NOT_FOUND")


@pytest.mark.parametrize(
    ("path", "change", "status", "code"),
    [
        ("1001", {"lines": []}, 422, "VALIDATION_FAILED"),
        ("1001", {"lines": [{"line_no": 1, "sku": "A", "qty": 0}]}, 422, "VALIDATION_FAILED"),
        (
            "1001",
            {"lines": [{"line_no": 1, "sku": "A", "qty": 1}, {"line_no": 1, "sku": "B", "qty": 1}]},
            422,
            "VALIDATION_FAILED",
        ),
        (
            "1001",
            {"lines": [{"line_no": 1, "sku": "A", "qty": 1, "unit_price": "-1"}]},
            422,
            "VALIDATION_FAILED",
        ),
        ("1001", {"payment_status": "maybe"}, 422, "VALIDATION_FAILED"),
        ("1001", {"customer_email": "not-an-address"}, 422, "VALIDATION_FAILED"),
        ("1001", {"currency": "dollars"}, 422, "VALIDATION_FAILED"),
        ("1001", {"requested_service": ""}, 422, "VALIDATION_FAILED"),
        ("1001", {"exchange": {"rma": "bad rma"}}, 422, "VALIDATION_FAILED"),
        ("1001", {"surprise": 1}, 422, "VALIDATION_FAILED"),
        (
            "1001",
            {"ship_to": {"name": "A", "address_lines": ["x"], "city": "C", "country": "USA"}},
            422,
            "VALIDATION_FAILED",
        ),
        ("bad id!", {}, 422, "VALIDATION_FAILED"),
        ("-1001", {}, 422, "VALIDATION_FAILED"),
    ],
)
def test_bad_orders_are_refused_and_change_nothing(
    oms: Oms, path: str, change: dict[str, Any], status: int, code: str
) -> None:
    oms.stock("CHI", "A", 5)
    before = oms.snapshot()
    body = {**order_body(("A", 1)), **change}
    assert_response(oms.put(path, body), status, code=code)
    assert oms.snapshot() == before


def test_a_write_without_an_idempotency_key_is_refused(oms: Oms) -> None:
    before = oms.snapshot()
    resp = oms.client.put("/api/v1/orders/1001", json=order_body(("A", 1)), headers=oms.web)
    assert_response(resp, 400, code="IDEMPOTENCY_KEY_REQUIRED")
    resp = oms.client.post("/api/v1/orders/WEB-1/cancel", headers=oms.web)
    assert_response(resp, 400, code="IDEMPOTENCY_KEY_REQUIRED")
    assert oms.snapshot() == before


# -- sites and available-to-promise ----------------------------------------------------------
def test_sites_are_managed_by_admins_and_never_show_their_secrets(oms: Oms) -> None:
    body = {"name": "Houston", "base_url": "http://127.0.0.1:8001/", "api_key": "awk_houston_1"}
    data = assert_response(oms.send("PUT", "/sites/HOU", oms.admin, json=body), 201)
    assert data["site"]["base_url"] == "http://127.0.0.1:8001"
    assert "awk_houston_1" not in json.dumps(data)
    update = {"name": "Houston 2", "base_url": "http://127.0.0.1:8001", "webhook_secret": SECRET}
    data = assert_response(oms.send("PUT", "/sites/HOU", oms.admin, json=update), 200)
    assert data["outcome"] == "updated" and SECRET not in json.dumps(data)
    from edge_server.oms.sites import get_site

    stored = get_site(oms.services.db, "HOU")
    assert stored is not None and stored.api_key == "awk_houston_1"  # kept
    assert stored.webhook_secret == SECRET
    listed = assert_response(oms.get("/sites", who=oms.reader), 200)["items"]
    assert [s["code"] for s in listed] == ["CHI", "DAL", "HOU"]
    assert_response(oms.get("/sites", who=oms.web), 403, code="FORBIDDEN_ROLE")

    before = oms.snapshot()
    refusals = [
        ("/sites/NEW", {"name": "N", "base_url": "http://127.0.0.1:9"}, 422, "VALIDATION_FAILED"),
        (
            "/sites/NEW",
            {"name": "N", "base_url": "ftp://x", "api_key": "k" * 8},
            422,
            "SITE_URL_INVALID",
        ),
        (
            "/sites/NEW",
            {
                "name": "N",
                "base_url": "http://127.0.0.1",
                "api_key": "k" * 8,
                "webhook_secret": "nope",
            },
            422,
            "VALIDATION_FAILED",
        ),
        (
            "/sites/bad code",
            {"name": "N", "base_url": "http://127.0.0.1", "api_key": "k" * 8},
            422,
            "VALIDATION_FAILED",
        ),
    ]
    for path, site, status, code in refusals:
        assert_response(oms.send("PUT", path, oms.admin, json=site), status, code=code)
    assert_response(oms.send("PUT", "/sites/NEW", oms.web, json=body), 403, code="FORBIDDEN_ROLE")
    assert_response(oms.send("DELETE", "/sites/NOPE", oms.admin), 404, code="UNKNOWN_SITE")
    assert oms.snapshot() == before


def test_a_public_only_oms_refuses_a_site_on_a_private_address(tmp_path: Path) -> None:
    services = open_oms_services(oms_settings(tmp_path, webhook_allow_private=False))
    _, secret = services.api_keys.create("admin", role="admin")
    with TestClient(create_oms_app(services.settings, services)) as client:
        resp = client.put(
            "/api/v1/sites/LAN",
            json={"name": "LAN", "base_url": "http://10.0.0.5:8000", "api_key": "awk_12345678"},
            headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": "s1"},
        )
        assert_response(resp, 422, code="SITE_URL_INVALID")
        assert services.db.query("SELECT * FROM sites") == []
    services.db.close()


def test_a_deactivated_site_stops_promising(oms: Oms) -> None:
    oms.stock("CHI", "SKU-A", 4)
    oms.stock("DAL", "SKU-A", 6)
    data = assert_response(oms.send("DELETE", "/sites/DAL", oms.admin), 200)
    assert data["outcome"] == "deactivated" and data["site"]["active"] is False
    atp = oms.atp("SKU-A")
    assert atp["atp"] == 4 and atp["sites"][1] == {**atp["sites"][1], "active": False, "atp": 0}
    order = assert_response(oms.put("1020", order_body(("SKU-A", 5))), 201)["order"]
    assert order["sites"] == [{"site": "CHI", "held": 4, "released": 0}]
    assert order["qty_backordered"] == 1


def test_snapshots_reconcile_stock_without_undoing_newer_events(oms: Oms) -> None:
    oms.stock("CHI", "SKU-A", 7, as_of="2030-01-01T12:00:05+00:00")
    oms.stock("CHI", "SKU-OLD", 4, as_of="2030-01-01T11:00:00+00:00")
    snap = {
        "site": "CHI",
        "as_of": "2030-01-01T12:00:00Z",
        "full": True,
        "stock": [{"sku": "SKU-A", "available": 2}, {"sku": "SKU-B", "available": 9}],
    }
    data = assert_response(oms.send("POST", "/inventory/snapshots", oms.admin, json=snap), 200)
    assert data == {"site": "CHI", "recorded": 1, "stale": 1, "zeroed": 1}
    assert oms.atp("SKU-A")["atp"] == 7  # the newer event wins
    assert oms.atp("SKU-B")["atp"] == 9
    assert oms.atp("SKU-OLD")["atp"] == 0
    before = oms.snapshot()
    bad = [
        ({**snap, "site": "XYZ"}, 404, "UNKNOWN_SITE"),
        ({**snap, "as_of": "2030-01-01T12:00:00"}, 422, "VALIDATION_FAILED"),
        ({**snap, "stock": [{"sku": "A", "available": -1}]}, 422, "VALIDATION_FAILED"),
        (
            {**snap, "stock": [{"sku": "A", "available": 1}, {"sku": "A", "available": 2}]},
            422,
            "VALIDATION_FAILED",
        ),
    ]
    for body, status, code in bad:
        resp = oms.send("POST", "/inventory/snapshots", oms.admin, json=body)
        assert_response(resp, status, code=code)
    assert_response(oms.send("POST", "/inventory/snapshots", json=snap), 403, code="FORBIDDEN_ROLE")
    assert oms.snapshot() == before
    assert_response(oms.get("/inventory/atp"), 422, code="VALIDATION_FAILED")


def test_order_statuses_are_the_status_maps() -> None:

    from edge_server.oms.api.orders import OrderStatus
    from edge_server.oms.migrations import ORDER_STATUSES
    from protocols.status import OmsStatus

    assert set(ORDER_STATUSES) == {s.value for s in OmsStatus} == {s.value for s in OrderStatus}
    assert set(orders.OPEN_STATUSES) <= set(ORDER_STATUSES)
