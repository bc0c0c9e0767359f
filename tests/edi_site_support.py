"""A 3PL site for the EDI wiring tests: clients ACME (EDI ZZ/ACMEBRANDS) and BOLT (ZZ/BOLTOUTDOOR),
ACME's items as the sample files in tests/data/edi/ name them, a carrier service, stock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge_server.services import Services
from edge_server.timeutil import iso
from edge_server.wms import inventory
from edge_server.wms.items import upsert_item, validate_item
from edge_server.wms.layout import read_layout
from edge_server.wms.layout_store import load_layout
from edge_server.wms.ledger import Actor
from protocols.barcodes import gs1_check_digit
from protocols.inventory import ReceiptIn

from factories import make_client

LAYOUT = Path(__file__).resolve().parent.parent / "docs" / "examples" / "layout-three-blocks.json"
FACE = "A01-01-1L"
API = "/api/v1"
X12 = {"Content-Type": "application/edi-x12"}


def gtin14(body13: str) -> str:
    return body13 + str(gs1_check_digit(body13))


VITC_CASE = gtin14("1006141410004")

# sku: (owner, base GTIN, case GTIN, case qty, lot tracked, stock)
ITEMS: dict[str, tuple[str, str | None, str | None, int, bool, int]] = {
    "ACME-TEE-BLK-M": ("ACME", "00012345678905", None, 1, False, 20),
    "ACME-MUG-01": ("ACME", None, None, 1, False, 10),
    "ACME-TEE-WHT-L": ("ACME", None, None, 1, False, 5),
    "ACME-VITC-60": ("ACME", None, VITC_CASE, 12, True, 0),
    "BOLT-TENT": ("BOLT", None, None, 1, False, 3),
}


def setup_3pl(services: Services, *, carrier: bool = True) -> None:
    db = services.db
    load_layout(db, read_layout(LAYOUT), site="CHI")
    make_client(
        db,
        "ACME",
        name="Acme Brands",
        edi={"qualifier": "ZZ", "id": "ACMEBRANDS", "carrier_service": "UPS-GROUND"},
    )
    make_client(db, "BOLT", name="Bolt Outdoor", edi={"qualifier": "ZZ", "id": "BOLTOUTDOOR"})
    with db.write() as w:
        for sku, (owner, gtin, case, case_qty, lot_tracked, stock) in ITEMS.items():
            fields: dict[str, Any] = {
                "sku": sku,
                "description": sku,
                "owner": owner,
                "lot_tracked": lot_tracked,
            }
            if gtin:
                fields["gtin"] = gtin
            if case:
                fields |= {"case_gtin": case, "case_qty": case_qty}
            item, _ = validate_item(fields)
            upsert_item(w, item)
            if stock:
                inventory.receive(w, "CHI", ReceiptIn(location=FACE, sku=sku, qty=stock), Actor())
        if carrier:
            sid = w.execute("SELECT id FROM sites WHERE code = 'CHI'").fetchone()[0]
            w.execute(
                "INSERT INTO carrier_services (site_id, code, carrier, name, cutoff_local, "
                "updated_at) VALUES (?, 'UPS-GROUND', 'UPS', 'UPS Ground', '17:00', ?)",
                [sid, iso()],
            )


def snapshot(services: Services) -> tuple[Any, ...]:
    """Everything an interchange may write."""
    db = services.db
    return tuple(
        db.query(f"SELECT * FROM {table} ORDER BY rowid")
        for table in (
            "edi_interchanges",
            "edi_outbound",
            "edi_orders",
            "edi_counters",
            "fulfillment_orders",
            "fo_lines",
            "asns",
            "asn_lines",
            "outbox",
        )
    )
