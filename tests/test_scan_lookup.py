"""GET /scans/resolve: a scan is classified by the shared grammar and looked up at the site."""

from pathlib import Path

import pytest

from edge_server.wms import inventory
from edge_server.wms.items import upsert_item, validate_item
from edge_server.wms.layout import read_layout
from edge_server.wms.layout_store import load_layout
from edge_server.wms.ledger import Actor
from protocols.barcodes import GS
from protocols.barcodes.labels import format_lpn
from protocols.inventory import ReceiptIn

from conftest import assert_response

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
GTIN13 = "0614141000012"  # the messy item file's first GTIN, as an EAN-13 on the shelf


@pytest.fixture
def site(services):
    load_layout(services.db, read_layout(EXAMPLES / "layout-three-blocks.json"), site="CHI")
    item, _ = validate_item(
        {
            "sku": "TSHIRT-XS",
            "description": "T-Shirt XS",
            "gtin": GTIN13,
            "case_qty": 12,
            "lot_tracked": True,
        }
    )
    with services.db.write() as w:
        upsert_item(w, item)
        inventory.receive(
            w,
            "CHI",
            ReceiptIn(location="DOCK-01", sku="TSHIRT-XS", qty=24, lot="L7", lpn=format_lpn(7)),
            Actor(),
        )
    return services


def resolve(edge, who, text, **params):
    return edge.get("/api/v1/scans/resolve", params={"text": text, **params}, headers=who.headers)


def test_a_bin_scan_finds_the_location(edge, site, as_role):
    data = assert_response(resolve(edge, as_role("picker"), "A03-07-2L"), 200)
    assert data["scan"]["kind"] == "bin"
    assert data["match"]["location"]["code"] == "A03-07-2L"


def test_a_gs1_128_scan_gives_item_lot_expiry_and_units(edge, site, as_role):
    text = f"]C1010{GTIN13}10L7{GS}17270331"
    data = assert_response(resolve(edge, as_role("receiver"), text), 200)
    assert data["scan"]["kind"] == "item"
    assert data["scan"]["lot"] == "L7" and data["scan"]["expiry"] == "2027-03-31"
    assert data["match"]["item"]["sku"] == "TSHIRT-XS" and data["match"]["qty_per_scan"] == 1


def test_a_gs_substitute_from_the_scanner_is_honoured(edge, site, as_role):
    text = f"]C1010{GTIN13}10L7|17270331"
    data = assert_response(resolve(edge, as_role("receiver"), text, gs_substitute="|"), 200)
    assert data["scan"]["lot"] == "L7"


def test_an_lpn_scan_shows_what_is_on_it(edge, site, as_role):
    data = assert_response(resolve(edge, as_role("receiver"), format_lpn(7)), 200)
    assert data["scan"]["kind"] == "lpn"
    assert [(r["location"], r["qty"]) for r in data["match"]["stock"]] == [("DOCK-01", 24)]


@pytest.mark.parametrize(
    ("text", "status", "code"),
    [
        ("0614141000013", 422, "BARCODE_CHECK_DIGIT"),
        (f"]C1010{GTIN13}10LOT1231727033110", 422, "BARCODE_GS1_SEPARATOR_MISSING"),
        ("LPN000000070", 422, "BARCODE_CHECK_DIGIT"),
        ("Z99-99-9L", 404, "UNKNOWN_LOCATION"),
        ("00012345600012", 404, "UNKNOWN_ITEM"),
    ],
)
def test_bad_or_unknown_scans_are_refused_clearly(edge, site, as_role, text, status, code):
    resp = resolve(edge, as_role("picker"), text)
    assert_response(resp, status, code=code)
    assert resp.json()["message"]["text"]
