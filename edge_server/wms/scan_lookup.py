"""What a scanned barcode is at this site: one shared lookup for terminals and integrations.

The grammar (what kind of barcode) is `protocols.barcodes.parse_scan`; this adds what the site
knows about it: the location, the item and how many units one scan is, the stock on an LPN.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.wms import inventory
from edge_server.wms.items import find_by_gtin
from edge_server.wms.locations import get_location
from protocols.barcodes import Scan, ScanKind, parse_scan
from protocols.errors import ErrorCode


def scan_view(scan: Scan) -> dict[str, Any]:
    view = dataclasses.asdict(scan)
    view["symbology"] = scan.symbology.aim if scan.symbology else None
    view["expiry"] = scan.expiry.isoformat() if scan.expiry else None
    view["elements"] = [{"ai": e.ai, "value": e.value, "title": e.title} for e in scan.elements]
    view.pop("raw", None)
    return view


def resolve(
    db: Database,
    site: str,
    text: str,
    *,
    symbology: str | None = None,
    gs_substitute: str | None = None,
) -> dict[str, Any]:
    """`{"scan": …, "match": …}`; BarcodeError for an unreadable scan, UNKNOWN_* when the
    barcode is fine but the site has no such thing."""
    scan = parse_scan(text, symbology=symbology, gs_substitute=gs_substitute)
    match: dict[str, Any] | None = None
    if scan.kind in (ScanKind.BIN, ScanKind.LOCATION):
        match = {"location": get_location(db, site, scan.value)}
    elif scan.kind is ScanKind.ITEM:
        assert scan.gtin is not None
        found = find_by_gtin(db, scan.gtin)
        if found is None:
            raise AislewayError(ErrorCode.UNKNOWN_ITEM, details={"gtin": scan.gtin})
        match = {
            "item": found.item.model_dump(mode="json"),
            "uom": found.uom,
            "qty_per_scan": (scan.count or 1) * found.qty,
        }
    elif scan.kind in (ScanKind.LPN, ScanKind.TOTE):
        stock = inventory.stock_page(db, site, lpn=scan.value, limit=1000)
        match = {"stock": stock["items"]}
    return {"scan": scan_view(scan), "match": match}
