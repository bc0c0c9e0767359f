"""Outbound EDI: an order that came from a 940 is picked, packed and shipped on the real site;
the ship confirm writes a 945 that reads back with the right quantities, SSCCs and tracking."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from edi_support import x12
from packing_support import Packer, Pick, gs1, gtin13, picked_order, setup_site, stock_item

from edge_server.edi import read_interchange
from edge_server.edi.ts945 import ShippingAdvice
from edge_server.services import Services
from edge_server.wms.edi_folder import EdiFolders
from edge_server.wms.items import upsert_item, validate_item

from conftest import assert_response, login_as
from factories import make_client

API = "/api/v1"
X12 = {"Content-Type": "application/edi-x12"}
# SO-1: MUG-1 ×2 by VN, TEA-1 ×3 (lot L1) by SK; carrier by SCAC/routing → our GROUND
ORDER = [
    ["W05", "N", "SO-1", "PO-77"],
    ["N1", "ST", "Ada Lovelace"],
    ["N3", "12 Analytical St"],
    ["N4", "Chicago", "IL", "60612", "US"],
    ["W66", "PP", "M", "", "", "GROUND", "", "", "", "", "ACME"],
    ["LX", "1"],
    ["W01", "2", "EA", "", "VN", "MUG-1"],
    ["LX", "2"],
    ["W01", "3", "EA", "", "SK", "TEA-1"],
    ["W76", "5"],
]


@pytest.fixture
def site(services: Services) -> Services:
    setup_site(services)
    make_client(services.db, "ACME", name="Acme", edi={"qualifier": "ZZ", "id": "ACMEBRANDS"})
    with services.db.write() as w:
        for sku, lot_tracked in (("MUG-1", False), ("TEA-1", True), ("MILK-1", True)):
            item, _ = validate_item(
                {"sku": sku, "description": sku, "gtin": gtin13(sku), "lot_tracked": lot_tracked,
                 "weight_kg": 1, "owner": "ACME"}
            )  # fmt: skip
            upsert_item(w, item)
    stock_item(services.db, "MUG-1", 10)
    stock_item(services.db, "TEA-1", 10, lot="L1")
    return services


def test_shipping_an_edi_order_writes_a_945_with_cartons_sscc_and_quantities(
    edge: Any, site: Services, as_role: Any, tmp_path: Path
):
    acme = as_role("client", client="ACME")
    sent = edge.post(
        API + "/client/edi", content=x12([("940", ORDER)], control=42),
        headers={**acme.with_key(), **X12},
    )  # fmt: skip
    data = assert_response(sent, 201)
    assert data["status"] == "accepted", data
    # picked into one tote (the real allocator, the ledger), packed in two cartons, shipped
    picked_order(site.db, "SO-1", [("MUG-1", 2), ("TEA-1", 3)],
                 [Pick(1, "TOTE-0001"), Pick(2, "TOTE-0001")])  # fmt: skip
    packer = Packer(edge, login_as(site, "packer"))
    packer.step("start", {"barcode": "TOTE-0001"})
    packer.step("scan", {"barcode": gtin13("MUG-1")})
    packer.step("scan", {"barcode": gtin13("MUG-1")})
    packer.step("close-carton", {"carton_type": "BOX-S", "weight_kg": 2.5})
    packer.step("scan", {"barcode": gs1("TEA-1", lot="L1", count=3)})
    packer.step("close-carton", {"carton_type": "BOX-S", "weight_kg": 3.5})
    shipped = edge.post(API + "/shipments/SO-1/confirm", json={}, headers=packer.who.with_key())
    assert shipped.status_code == 200, shipped.text
    cartons = site.db.query("SELECT sscc, tracking FROM cartons ORDER BY carton_no")
    assert len(cartons) == 2

    out = assert_response(
        edge.get(API + "/client/edi/outbound?kind=945", headers=acme.headers), 200
    )
    (doc,) = out["documents"]
    assert doc["reference"] == "SO-1" and doc["kind"] == "945"
    result = read_interchange(doc["text"])
    assert not result.rejected
    ix = result.interchange
    assert (ix.sender_id.strip(), ix.receiver_id.strip()) == ("NORTHWIND3PL", "ACMEBRANDS")
    (advice,) = result.documents(ShippingAdvice)
    assert (advice.order_number, advice.po_number, advice.cartons) == ("SO-1", "PO-77", 2)
    assert advice.scac == "ACME" and advice.weight == "6.00"
    got = [
        (ln.line_no, ln.sku_qualifier, ln.sku, ln.qty_ordered, ln.qty_shipped, ln.lot, ln.sscc,
         ln.tracking, ln.status)
        for ln in advice.lines
    ]  # fmt: skip
    assert got == [
        (1, "VN", "MUG-1", 2, 2, "", cartons[0]["sscc"], cartons[0]["tracking"] or "", "CC"),
        (2, "SK", "TEA-1", 3, 3, "L1", cartons[1]["sscc"], cartons[1]["tracking"] or "", "CC"),
    ]
    # control numbers come from the counter: the 997 was 1, the 945 is 2
    every = assert_response(edge.get(API + "/client/edi/outbound", headers=acme.headers), 200)
    assert [(d["kind"], d["control_number"]) for d in every["documents"]] == [
        ("997", 1),
        ("945", 2),
    ]
    # and the outbox folder gets both, once
    settings = site.settings.model_copy(update={"edi_outbox_dir": str(tmp_path / "out")})
    EdiFolders(site.db, settings).tick()
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["945_ACMEBRANDS_000000002.edi", "997_ACMEBRANDS_000000001.edi"]


def test_an_order_that_did_not_come_by_edi_writes_no_945(edge: Any, site: Services):
    picked_order(site.db, "SO-2", [("MUG-1", 1)], [Pick(1, "TOTE-0002")])
    packer = Packer(edge, login_as(site, "packer"))
    packer.step("start", {"barcode": "TOTE-0002"})
    packer.step("scan", {"barcode": gtin13("MUG-1")})
    packer.step("close-carton", {"carton_type": "BOX-S", "weight_kg": 1.0})
    shipped = edge.post(API + "/shipments/SO-2/confirm", json={}, headers=packer.who.with_key())
    assert shipped.status_code == 200, shipped.text
    assert site.db.query("SELECT * FROM edi_outbound") == []
