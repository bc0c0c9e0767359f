"""Branded paperwork per client (docs/client-rules.md): the packing slip (HTML, print CSS)
and the ship-from block of the carton's shipping label; everything user-supplied escaped;
a client reaches only its own orders' slips."""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import browser
from packing_support import (
    Packer,
    Pick,
    gs1,
    gtin13,
    picked_order,
    put_order,
    setup_site,
    stock_item,
)

from edge_server.services import Services
from edge_server.wms.items import upsert_item, validate_item

from conftest import assert_response, login_as
from factories import make_client

HOSTILE = '<script>window.pwned = 1</script> & "thanks" ^XZ~JA'
ACME = {
    "display_name": "Acme <Goods> & Co",
    "return_address": ["Returns Dept", "1 Road Runner Way", "Phoenix AZ 85001", "US"],
    "slip_message": HOSTILE,
    "accent_colour": "#AA3300",
}
GLOBEX = {
    "display_name": "Globex",
    "return_address": ["9 Cypress Creek"],
    "accent_colour": "#005500",
}


def own(services: Services, sku: str, owner: str, *, lot_tracked: bool = False) -> None:
    with services.db.write() as w:
        item, _ = validate_item(
            {
                "sku": sku,
                "description": f"Item {sku} <b>",
                "gtin": gtin13(sku),
                "lot_tracked": lot_tracked,
                "weight_kg": 1,
                "owner": owner,
            }
        )
        upsert_item(w, item)


@pytest.fixture
def site(services: Services) -> Services:
    """MUG-1 and TEA-1 are ACME's, CUP-1 is Globex's, MILK-1 the house's."""
    setup_site(services)
    make_client(services.db, "ACME", name="Acme Corporation", branding=ACME)
    make_client(services.db, "GLOBEX", branding=GLOBEX)
    own(services, "MUG-1", "ACME")
    own(services, "TEA-1", "ACME", lot_tracked=True)
    own(services, "CUP-1", "GLOBEX")
    return services


def packed_acme_order(site: Services, edge: Any) -> None:
    """SO-1 (ACME): MUG-1 ×2 and TEA-1 ×3 of lot L1, packed into one sealed carton."""
    stock_item(site.db, "MUG-1", 10)
    stock_item(site.db, "TEA-1", 10, lot="L1")
    picked_order(
        site.db,
        "SO-1",
        [("MUG-1", 2), ("TEA-1", 3)],
        [Pick(1, "TOTE-0001"), Pick(2, "TOTE-0001")],
    )
    packer = Packer(edge, login_as(site, "packer"))
    packer.step("start", {"barcode": "TOTE-0001"})
    packer.step("scan", {"barcode": gtin13("MUG-1")})
    packer.step("scan", {"barcode": gtin13("MUG-1")})
    packer.step("scan", {"barcode": gs1("TEA-1", lot="L1", count=3)})
    packer.step("close-carton", {"carton_type": "BOX-L", "weight_kg": 5.5})


def slip(edge: Any, who: Any, path: str, status: int = 200) -> str:
    resp = edge.get(path, headers=who.headers)
    assert resp.status_code == status, resp.text
    if status == 200:
        assert resp.headers["content-type"].startswith("text/html")
    return str(resp.text)


def test_the_slip_carries_the_client_branding_lines_lots_and_cartons(site, edge) -> None:
    packed_acme_order(site, edge)
    sscc, tracking = site.db.query_one("SELECT sscc, tracking FROM cartons").values()
    page = slip(edge, login_as(site, "packer"), "/api/v1/fulfillment-orders/SO-1/packing-slip")
    assert "Acme &lt;Goods&gt; &amp; Co" in page
    for line in ACME["return_address"]:
        assert line in page
    assert "--accent: #aa3300" in page
    assert "SO-1" in page and "Ada Lovelace" in page and "12 Analytical St" in page
    assert "MUG-1" in page and "TEA-1" in page and "Item MUG-1 &lt;b&gt;" in page
    assert ">L1<" in page  # the lot packed
    assert sscc in page and tracking in page
    # The hostile message is text, never markup.
    assert "<script>" not in page
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt; &amp; &#34;thanks&#34; ^XZ~JA" in page
    assert "@media print" in page and "<link" not in page and "src=" not in page


def test_two_clients_slips_differ_and_the_house_keeps_the_site(site, edge) -> None:
    put_order(site.db, "SO-A", [("MUG-1", 1)])
    put_order(site.db, "SO-G", [("CUP-1", 1)])
    put_order(site.db, "SO-H", [("MILK-1", 1)])
    who = login_as(site, "supervisor")
    acme = slip(edge, who, "/api/v1/fulfillment-orders/SO-A/packing-slip")
    globex = slip(edge, who, "/api/v1/fulfillment-orders/SO-G/packing-slip")
    house = slip(edge, who, "/api/v1/fulfillment-orders/SO-H/packing-slip")
    assert "Acme &lt;Goods&gt;" in acme and "Globex" not in acme
    assert "Globex" in globex and "9 Cypress Creek" in globex and "Acme" not in globex
    assert "#005500" in globex and "#aa3300" in acme
    assert "Acme" not in house and "Globex" not in house and "site CHI" in house
    # Before packing nothing is shipped and there are no cartons.
    assert "SSCC" not in acme


def test_the_slip_route_refuses_unknown_orders_bad_numbers_and_roles(site, edge) -> None:
    packer = login_as(site, "packer")
    resp = edge.get("/api/v1/fulfillment-orders/NOPE-9/packing-slip", headers=packer.headers)
    assert_response(resp, 404, code="FO_NOT_FOUND")
    resp = edge.get("/api/v1/fulfillment-orders/bad%20no/packing-slip", headers=packer.headers)
    assert resp.status_code == 422
    put_order(site.db, "SO-A", [("MUG-1", 1)])
    resp = edge.get("/api/v1/fulfillment-orders/SO-A/packing-slip")
    assert resp.status_code == 401
    client = login_as(site, "client", client="ACME")
    resp = edge.get("/api/v1/fulfillment-orders/SO-A/packing-slip", headers=client.headers)
    assert_response(resp, 403)


def test_a_client_gets_its_own_slip_and_never_another_clients(site, edge) -> None:
    put_order(site.db, "SO-A", [("MUG-1", 1)])
    put_order(site.db, "SO-G", [("CUP-1", 1)])
    acme = login_as(site, "client", client="ACME")
    page = slip(edge, acme, "/api/v1/client/orders/SO-A/packing-slip")
    assert "Acme &lt;Goods&gt;" in page
    for number in ("SO-G", "NOPE-1"):  # another client's order looks like none at all
        resp = edge.get(f"/api/v1/client/orders/{number}/packing-slip", headers=acme.headers)
        body = resp.json()
        assert resp.status_code == 404 and body["message"]["code"] == "FO_NOT_FOUND"
        assert "GLOBEX" not in resp.text and "Globex" not in resp.text
    packer = login_as(site, "packer")
    resp = edge.get("/api/v1/client/orders/SO-A/packing-slip", headers=packer.headers)
    assert_response(resp, 403)


def test_the_shipping_label_shows_the_client_as_ship_from(site, edge) -> None:
    packed_acme_order(site, edge)
    zpl = site.db.query_one("SELECT label_zpl FROM cartons")["label_zpl"]
    # The display name escaped for ^FH, the return address folded into three lines.
    assert "^FDAcme <Goods> & Co^FS" in zpl
    assert "^FDReturns Dept^FS" in zpl
    assert "^FD1 Road Runner Way, Phoenix AZ 85001, US^FS" in zpl
    assert "Aisleway site CHI" not in zpl


def test_a_hostile_display_name_cannot_break_the_label(site, edge) -> None:
    make_client(site.db, "ACME", branding={"display_name": "Evil^XZ^XA~JA_x\\"})
    packed_acme_order(site, edge)
    zpl = site.db.query_one("SELECT label_zpl FROM cartons")["label_zpl"]
    assert "^FDEvil_5EXZ_5EXA_7EJA_5Fx_5C^FS" in zpl
    assert zpl.count("^XA") == 1 and zpl.count("^XZ") == 1


def test_house_labels_keep_the_site_as_ship_from(site, edge) -> None:
    stock_item(site.db, "MILK-1", 5, lot="M1")
    picked_order(site.db, "SO-H", [("MILK-1", 1)], [Pick(1, "TOTE-0002", zone="COLD")])
    packer = Packer(edge, login_as(site, "packer"))
    packer.step("start", {"barcode": "TOTE-0002"})
    packer.step("scan", {"barcode": gs1("MILK-1", lot="M1")})
    packer.step("close-carton", {"carton_type": "BOX-S", "weight_kg": 1.3})
    zpl = site.db.query_one("SELECT label_zpl FROM cartons")["label_zpl"]
    assert "^FDAisleway site CHI^FS" in zpl
    assert "Acme <" not in zpl and "Returns Dept" not in zpl


def test_the_slip_renders_in_chromium_without_running_the_message(site, edge, tmp_path) -> None:
    packed_acme_order(site, edge)
    page_html = slip(edge, login_as(site, "packer"), "/api/v1/fulfillment-orders/SO-1/packing-slip")
    with browser() as b:
        page = b.new_page()
        page.set_content(page_html)
        assert page.evaluate("window.pwned") is None
        assert page.inner_text(".brand-name") == "Acme <Goods> & Co"
        assert page.inner_text(".message") == HOSTILE
        assert page.locator("tr.line").count() == 2
        page.emulate_media(media="print")
        pdf = page.pdf(format="A4")
        assert pdf.startswith(b"%PDF")
