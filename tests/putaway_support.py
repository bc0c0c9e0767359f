"""A small site for putaway tests, built with the real layout loader and item master."""

from __future__ import annotations

from typing import Any

from edge_server.db import Database
from edge_server.wms import inventory
from edge_server.wms.items import upsert_item, validate_item
from edge_server.wms.layout import Layout
from edge_server.wms.layout_store import load_layout
from edge_server.wms.ledger import Actor
from protocols.inventory import ReceiptIn

# Block A: 4 aisles × 5 bays × 2 sides × 2 levels (level 2 reserve), 10 litres, 50 kg and
# 2 SKUs a bin. Block C behind it: chilled. Docks in front, quarantine and a hazmat cage beside.
LAYOUT: dict[str, Any] = {
    "site": "CHI",
    "depot": {"x": 0.0},
    "blocks": [
        {
            "id": "A",
            "x": 1.5,
            "y": 0.0,
            "aisles": 4,
            "aisle_pitch": 3.0,
            "length": 10.0,
            "bays": 5,
            "levels": 2,
            "reserve_from_level": 2,
            "max_volume_cm3": 10_000.0,
            "max_weight_kg": 50.0,
            "max_skus": 2,
        },
        {
            "id": "C",
            "zone": "COLD",
            "x": 1.5,
            "y": 10.0,
            "aisles": 2,
            "aisle_pitch": 3.0,
            "length": 4.0,
            "bays": 2,
            "levels": 1,
            "temperature_class": "chilled",
            "max_volume_cm3": 10_000.0,
        },
    ],
    "areas": [
        {
            "zone": "DOCK",
            "type": "receiving_dock",
            "bins": [
                {"code": "DOCK-01", "x": 3.0, "y": -4.0},
                {"code": "DOCK-02", "x": 9.0, "y": -4.0},
            ],
        },
        {"zone": "PACK", "type": "packing", "bins": [{"code": "PACK-01", "x": 0.0, "y": -1.5}]},
        {
            "zone": "QUAR",
            "type": "quarantine",
            "bins": [{"code": "QUAR-01", "x": 13.5, "y": 2.0}],
        },
        {
            "zone": "HAZ",
            "type": "reserve",
            "hazmat_allowed": True,
            "bins": [{"code": "HAZ-01", "x": 13.5, "y": 8.0}],
        },
    ],
}


def build_site(db: Database, layout: dict[str, Any] | None = None) -> Layout:
    parsed = Layout.parse(layout or LAYOUT)
    load_layout(db, parsed, site="CHI")
    return parsed


def add_item(db: Database, sku: str, **fields: Any) -> None:
    """An item of 10×10×10 cm and 1 kg unless told otherwise."""
    data = {
        "sku": sku,
        "description": f"Item {sku}",
        "length_cm": 10,
        "width_cm": 10,
        "height_cm": 10,
        "weight_kg": 1,
        **fields,
    }
    item, _ = validate_item(data)
    with db.write() as w:
        upsert_item(w, item)


def receive(
    db: Database,
    sku: str,
    qty: int,
    *,
    location: str = "DOCK-01",
    lot: str = "",
    lpn: str = "",
    status: str = "available",
    expiry: str | None = None,
) -> None:
    with db.write() as w:
        inventory.receive(
            w,
            "CHI",
            ReceiptIn.model_validate(
                {
                    "location": location,
                    "sku": sku,
                    "qty": qty,
                    "lot": lot,
                    "lpn": lpn,
                    "status": status,
                    "expiry": expiry,
                }
            ),
            Actor(),
        )


def stock(db: Database, location: str, sku: str) -> int:
    row = db.query_one(
        "SELECT COALESCE(SUM(st.qty), 0) AS q FROM stock st JOIN locations l "
        "ON l.id = st.location_id JOIN items i ON i.id = st.item_id "
        "WHERE l.code = ? AND i.sku = ?",
        [location, sku],
    )
    assert row is not None
    return int(row["q"])
