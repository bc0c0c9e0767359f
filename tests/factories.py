"""Tiny builders for sites, bins and items written straight to the database.

Tests of the ledger use these so they need neither the layout loader nor the item import.
"""

from __future__ import annotations

from edge_server.db import Database
from edge_server.timeutil import iso


def make_site(
    db: Database, code: str = "CHI", bins: dict[str, str] | None = None
) -> dict[str, int]:
    """Create a site with bins {code: type}; returns {bin code: location id}."""
    bins = bins or {
        "DOCK-01": "receiving_dock",
        "A01-01-1L": "pick_face",
        "A01-02-1L": "pick_face",
        "A02-01-3R": "reserve",
        "PACK-01": "packing",
        "SHIP-01": "shipping_dock",
        "QUAR-01": "quarantine",
    }
    ids: dict[str, int] = {}
    with db.write() as w:
        w.execute(
            "INSERT OR IGNORE INTO sites (code, name, created_at) VALUES (?, ?, ?)",
            [code, code, iso()],
        )
        site_id = w.execute("SELECT id FROM sites WHERE code = ?", [code]).fetchone()[0]
        for bin_code, kind in bins.items():
            cur = w.execute(
                "INSERT INTO locations (site_id, code, type) VALUES (?, ?, ?)",
                [site_id, bin_code, kind],
            )
            ids[bin_code] = int(cur.lastrowid or 0)
    return ids


def make_item(db: Database, sku: str, *, lot_tracked: bool = False, gtin: str | None = None) -> int:
    with db.write() as w:
        cur = w.execute(
            "INSERT INTO items (sku, description, lot_tracked, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [sku, f"Item {sku}", int(lot_tracked), iso(), iso()],
        )
        item_id = int(cur.lastrowid or 0)
        if gtin:
            w.execute("INSERT INTO item_gtins (gtin, item_id) VALUES (?, ?)", [gtin, item_id])
    return item_id


def make_client(db: Database, code: str = "ACME", **fields: object) -> dict[str, object]:
    """Register 3PL client `code` (fields as in protocols.clients.ClientIn; name = code)."""
    from edge_server.wms.clients import put_client
    from protocols.clients import ClientIn

    with db.write() as w:
        return put_client(w, code, ClientIn.model_validate({"name": code, **fields}))[1]
