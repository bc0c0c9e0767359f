"""3PL clients: who owns items, stock and orders; the admin API; client keys; and the client
API, where one client never sees another's data. Real SQLite, the app over HTTP."""

from __future__ import annotations

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
from factories import make_client

LAYOUT = Path(__file__).resolve().parent.parent / "docs" / "examples" / "layout-three-blocks.json"
API = "/api/v1"
FACE = "A01-01-1L"


def order(sku: str, qty: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "ship_to": {
            "name": "Grace Hopper",
            "address_lines": ["1 Navy Way"],
            "city": "Arlington",
            "country": "US",
        },
        "carrier_service": "UPS-GROUND",
        "lines": [{"line_no": 1, "sku": sku, "qty": qty}],
        **extra,
    }


def asn(sku: str, qty: int = 5) -> dict[str, Any]:
    return {"supplier": "Acme Mills", "lines": [{"line_no": 1, "sku": sku, "qty": qty}]}


@pytest.fixture
def site(services: Services) -> Services:
    """Two clients (ACME, BOLT) and the house, each with an item in stock."""
    load_layout(services.db, read_layout(LAYOUT), site="CHI")
    make_client(services.db, "ACME", name="Acme Brands", edi={"qualifier": "ZZ", "id": "ACMEBR"})
    make_client(services.db, "BOLT", name="Bolt Outdoor")
    with services.db.write() as w:
        for sku, owner in (("ACME-TEE", "ACME"), ("BOLT-TENT", "BOLT"), ("HOUSE-MUG", "")):
            item, _ = validate_item({"sku": sku, "description": sku, "owner": owner})
            upsert_item(w, item)
            inventory.receive(w, "CHI", ReceiptIn(location=FACE, sku=sku, qty=10), Actor())
    return services


@pytest.fixture
def acme(site: Services, as_role: Any) -> Caller:
    caller: Caller = as_role("client", client="ACME")
    return caller


@pytest.fixture
def bolt(site: Services, as_role: Any) -> Caller:
    caller: Caller = as_role("client", client="BOLT")
    return caller


def rows(services: Services) -> tuple[Any, ...]:
    db = services.db
    return (
        db.query("SELECT * FROM clients ORDER BY id"),
        db.query("SELECT * FROM fulfillment_orders ORDER BY id"),
        db.query("SELECT * FROM asns ORDER BY id"),
        db.query("SELECT * FROM api_keys ORDER BY id"),
        db.query("SELECT id FROM outbox ORDER BY id"),
    )


# -- the admin API ----------------------------------------------------------------------------
def test_an_admin_creates_reads_and_replaces_a_client(edge: Any, site: Services, as_role: Any):
    admin = as_role("admin")
    body = {
        "name": "Cargo Coffee",
        "edi": {"qualifier": "01", "id": "123456789", "carrier_service": "UPS-GROUND"},
        "picking": {"min_shelf_life_days": 90, "blocked_lots": ["L-RECALL"]},
        "branding": {"display_name": "Cargo", "accent_colour": "#AA3300"},
        "billing": {"storage_basis": "pallet_days", "storage": "0.45", "line_picked": "0.3"},
    }
    made = assert_response(
        edge.put(f"{API}/clients/CARGO", json=body, headers=admin.with_key()), 201
    )
    assert made["code"] == "CARGO" and made["edi"]["id"] == "123456789"
    assert made["picking"]["min_shelf_life_days"] == 90
    assert made["branding"]["accent_colour"] == "#aa3300"
    assert made["billing"]["storage"] == "0.45"
    again = edge.put(
        f"{API}/clients/CARGO", json={**body, "name": "Cargo Coffee Co"}, headers=admin.with_key()
    )
    assert assert_response(again, 200)["name"] == "Cargo Coffee Co"
    listed = assert_response(edge.get(f"{API}/clients", headers=admin.headers), 200)
    assert [c["code"] for c in listed] == ["ACME", "BOLT", "CARGO"]
    assert assert_response(edge.get(f"{API}/clients/CARGO", headers=admin.headers), 200)[
        "name"
    ] == ("Cargo Coffee Co")


@pytest.mark.parametrize(
    ("code", "body", "status", "error"),
    [
        ("bad code!", {"name": "X"}, 422, "VALIDATION_FAILED"),
        ("NEW", {}, 422, "VALIDATION_FAILED"),
        ("NEW", {"name": "X", "branding": {"accent_colour": "red"}}, 422, "VALIDATION_FAILED"),
        ("NEW", {"name": "X", "billing": {"storage": "-1"}}, 422, "VALIDATION_FAILED"),
        ("NEW", {"name": "X", "picking": {"min_shelf_life_days": -3}}, 422, "VALIDATION_FAILED"),
        ("NEW", {"name": "X", "edi": {"qualifier": "ZZ", "id": "ACMEBR"}}, 409, "CLIENT_EDI_TAKEN"),
        ("NEW", {"name": "X", "surprise": 1}, 422, "VALIDATION_FAILED"),
    ],
)
def test_bad_clients_are_refused_and_change_nothing(
    edge: Any, site: Services, as_role: Any, code: str, body: Any, status: int, error: str
):
    admin = as_role("admin")
    before = rows(site)
    resp = edge.put(f"{API}/clients/{code}", json=body, headers=admin.with_key())
    if resp.status_code == 404:  # a code the path pattern refuses never reaches the route
        assert code == "bad code!"
        return
    assert_response(resp, status, code=error)
    assert rows(site) == before


def test_unknown_client_and_who_may_manage_clients(edge: Any, site: Services, as_role: Any):
    sup = as_role("supervisor")
    assert_response(
        edge.get(f"{API}/clients/NOPE", headers=sup.headers), 404, code="CLIENT_NOT_FOUND"
    )
    refused = edge.put(f"{API}/clients/NEW", json={"name": "X"}, headers=sup.with_key())
    assert_response(refused, 403, code="FORBIDDEN_ROLE")


# -- ownership follows the item -----------------------------------------------------------------
def test_an_item_may_only_name_a_known_client(edge: Any, site: Services, as_role: Any):
    admin = as_role("admin")
    before = rows(site)
    resp = edge.put(
        f"{API}/items/GHOST-1",
        json={"description": "ghost", "owner": "GHOST"},
        headers=admin.with_key(),
    )
    assert_response(resp, 422, code="CLIENT_UNKNOWN")
    assert rows(site) == before
    assert site.db.query_one("SELECT 1 FROM items WHERE sku = 'GHOST-1'") is None


def test_an_order_belongs_to_its_items_owner_and_holds_one_clients_items(
    edge: Any, site: Services, as_role: Any
):
    oms = as_role("integration")
    made = edge.put(
        f"{API}/fulfillment-orders/SO-1", json=order("ACME-TEE"), headers=oms.with_key()
    )
    assert assert_response(made, 201)["fulfillment_order"]["owner"] == "ACME"
    before = rows(site)
    mixed = order("ACME-TEE")
    mixed["lines"].append({"line_no": 2, "sku": "BOLT-TENT", "qty": 1})
    resp = edge.put(f"{API}/fulfillment-orders/SO-2", json=mixed, headers=oms.with_key())
    assert_response(resp, 422, code="CLIENT_ITEMS_MIXED")
    wrong = order("ACME-TEE", owner="BOLT")
    resp = edge.put(f"{API}/fulfillment-orders/SO-3", json=wrong, headers=oms.with_key())
    assert_response(resp, 422, code="CLIENT_OWNER_MISMATCH")
    # an order never changes hands: SO-1 cannot be replaced by BOLT's items
    resp = edge.put(
        f"{API}/fulfillment-orders/SO-1", json=order("BOLT-TENT"), headers=oms.with_key()
    )
    assert_response(resp, 422, code="CLIENT_OWNER_MISMATCH")
    assert rows(site) == before


# -- client keys ----------------------------------------------------------------------------
def test_client_keys_name_an_active_client(edge: Any, site: Services, as_role: Any):
    admin = as_role("admin")
    made = edge.post(
        f"{API}/api-keys",
        json={"name": "acme portal", "role": "client", "client": "ACME"},
        headers=admin.with_key(),
    )
    key = assert_response(made, 201)
    assert (key["role"], key["client"]) == ("client", "ACME")
    headers = {"Authorization": f"Bearer {key['api_key']}"}
    assert assert_response(edge.get(f"{API}/client", headers=headers), 200)["code"] == "ACME"
    before = rows(site)
    for body, code in (
        ({"name": "x", "role": "client"}, "CLIENT_KEY_NEEDS_CLIENT"),
        ({"name": "x", "client": "ACME"}, "CLIENT_KEY_NEEDS_CLIENT"),
        ({"name": "x", "role": "client", "client": "NOPE"}, "CLIENT_NOT_FOUND"),
        ({"name": "x", "role": "admin"}, "VALIDATION_FAILED"),
    ):
        resp = edge.post(f"{API}/api-keys", json=body, headers=admin.with_key())
        assert resp.status_code in (404, 422), resp.text
        assert resp.json()["message"]["code"] == code
    assert rows(site) == before
    # switching the client off stops its keys at once
    edge.put(
        f"{API}/clients/ACME",
        json={"name": "Acme Brands", "active": False},
        headers=admin.with_key(),
    )
    assert_response(edge.get(f"{API}/client", headers=headers), 401, code="API_KEY_INVALID")


def test_a_client_key_reaches_nothing_but_the_client_api(edge: Any, acme: Caller):
    for path in ("/fulfillment-orders", "/inventory/stock", "/items", "/clients"):
        resp = edge.get(f"{API}{path}", headers=acme.headers)
        assert_response(resp, 403, code="FORBIDDEN_ROLE")


# -- the client API: one client, its data only ------------------------------------------------
def test_a_client_sees_only_its_own_items_and_stock(edge: Any, acme: Caller, bolt: Caller):
    items = assert_response(edge.get(f"{API}/client/items", headers=acme.headers), 200)
    assert [i["sku"] for i in items["items"]] == ["ACME-TEE"]
    stock = assert_response(edge.get(f"{API}/client/stock", headers=acme.headers), 200)
    assert {(r["sku"], r["qty"]) for r in stock["items"]} == {("ACME-TEE", 10)}
    other = edge.get(f"{API}/client/stock", params={"sku": "BOLT-TENT"}, headers=acme.headers)
    assert assert_response(other, 200)["items"] == []
    bolts = assert_response(edge.get(f"{API}/client/items", headers=bolt.headers), 200)
    assert [i["sku"] for i in bolts["items"]] == ["BOLT-TENT"]


def test_a_client_places_and_reads_its_orders_and_never_anothers(
    edge: Any, site: Services, acme: Caller, bolt: Caller
):
    made = edge.put(
        f"{API}/client/orders/A-1001", json=order("ACME-TEE", 2), headers=acme.with_key()
    )
    placed = assert_response(made, 201)["fulfillment_order"]
    assert (placed["owner"], placed["lines"][0]["sku"]) == ("ACME", "ACME-TEE")
    listed = assert_response(edge.get(f"{API}/client/orders", headers=acme.headers), 200)
    assert [o["number"] for o in listed["items"]] == ["A-1001"]
    # BOLT: no such order, no such SKU, no such number to take — and no word of ACME
    assert_response(
        edge.get(f"{API}/client/orders/A-1001", headers=bolt.headers), 404, code="FO_NOT_FOUND"
    )
    assert (
        assert_response(edge.get(f"{API}/client/orders", headers=bolt.headers), 200)["items"] == []
    )
    before = rows(site)
    resp = edge.put(f"{API}/client/orders/B-1", json=order("ACME-TEE"), headers=bolt.with_key())
    body = resp.json()
    assert_response(resp, 422, code="FO_INVALID")
    assert body["message"]["details"]["problems"][0]["code"] == "UNKNOWN_SKU"
    resp = edge.put(f"{API}/client/orders/A-1001", json=order("BOLT-TENT"), headers=bolt.with_key())
    assert_response(resp, 409, code="CLIENT_NUMBER_TAKEN")
    assert "ACME" not in resp.text
    resp = edge.put(
        f"{API}/client/orders/B-2", json=order("BOLT-TENT", owner="ACME"), headers=bolt.with_key()
    )
    assert_response(resp, 422, code="CLIENT_OWNER_MISMATCH")
    resp = edge.put(f"{API}/client/orders/B-3", json=order("HOUSE-MUG"), headers=bolt.with_key())
    assert_response(resp, 422, code="FO_INVALID")
    assert rows(site) == before


def test_a_client_sends_and_reads_its_asns_only(
    edge: Any, site: Services, acme: Caller, bolt: Caller
):
    made = edge.put(f"{API}/client/asns/ASN-A1", json=asn("ACME-TEE"), headers=acme.with_key())
    assert assert_response(made, 201)["asn"]["owner"] == "ACME"
    assert (
        assert_response(edge.get(f"{API}/client/asns/ASN-A1", headers=acme.headers), 200)["lines"][
            0
        ]["sku"]
        == "ACME-TEE"
    )
    assert_response(
        edge.get(f"{API}/client/asns/ASN-A1", headers=bolt.headers), 404, code="ASN_NOT_FOUND"
    )
    before = rows(site)
    for number, body, status, code in (
        ("ASN-B1", asn("ACME-TEE"), 422, "ASN_INVALID"),
        ("ASN-A1", asn("BOLT-TENT"), 409, "CLIENT_NUMBER_TAKEN"),
        ("ASN-B2", {**asn("BOLT-TENT"), "po_number": "PO-1"}, 422, "VALIDATION_FAILED"),
    ):
        resp = edge.put(f"{API}/client/asns/{number}", json=body, headers=bolt.with_key())
        assert_response(resp, status, code=code)
    assert rows(site) == before


def test_client_api_replays_are_idempotent(edge: Any, site: Services, acme: Caller):
    headers = acme.with_key("acme-order-1")
    first = edge.put(f"{API}/client/orders/A-7", json=order("ACME-TEE"), headers=headers)
    assert_response(first, 201)
    before = rows(site)
    again = edge.put(f"{API}/client/orders/A-7", json=order("ACME-TEE"), headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
    assert rows(site) == before


def test_cli_makes_a_client_key_and_refuses_an_unknown_client(tmp_path: Path, capsys: Any):
    from edge_server.cli import main
    from edge_server.db import Database

    db_path = str(tmp_path / "cli.db")
    assert main(["edge", "add-api-key", "first", "--db", db_path]) == 0  # creates the site DB
    capsys.readouterr()
    assert main(["edge", "add-api-key", "acme-portal", "--client", "ACME", "--db", db_path]) == 2
    assert "no client with that code" in capsys.readouterr().err
    db = Database(db_path)
    try:
        make_client(db, "ACME")
        keys_before = db.query("SELECT id FROM api_keys")
    finally:
        db.close()
    assert len(keys_before) == 1
    assert main(["edge", "add-api-key", "acme-portal", "--client", "ACME", "--db", db_path]) == 0
    out = capsys.readouterr().out
    assert "client ACME" in out and "awk_" in out
    db = Database(db_path)
    try:
        row = db.query_one("SELECT role, client_id FROM api_keys WHERE name = 'acme-portal'")
    finally:
        db.close()
    assert row is not None and row["role"] == "client" and row["client_id"] is not None


def test_a_purchase_order_belongs_to_its_items_owner(edge: Any, site: Services, as_role: Any):
    oms = as_role("integration")

    def po(*skus: str) -> dict[str, Any]:
        lines = [{"line_no": n, "sku": sku, "qty": 4} for n, sku in enumerate(skus, 1)]
        return {"supplier": "Mill", "lines": lines}

    made = edge.put(f"{API}/purchase-orders/PO-A1", json=po("ACME-TEE"), headers=oms.with_key())
    assert_response(made, 201)
    stored = site.db.query_one("SELECT owner FROM purchase_orders WHERE number = 'PO-A1'")
    assert stored == {"owner": "ACME"}
    before = rows(site)
    mixed = edge.put(
        f"{API}/purchase-orders/PO-X", json=po("ACME-TEE", "BOLT-TENT"), headers=oms.with_key()
    )
    assert_response(mixed, 422, code="CLIENT_ITEMS_MIXED")
    moved = edge.put(f"{API}/purchase-orders/PO-A1", json=po("BOLT-TENT"), headers=oms.with_key())
    assert_response(moved, 422, code="CLIENT_OWNER_MISMATCH")
    assert rows(site) == before
    assert site.db.query("SELECT number FROM purchase_orders") == [{"number": "PO-A1"}]
