"""Barcode lookup: what a scan is and what the site knows about it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from edge_server.deps import Principal, Requires, ServicesDep
from edge_server.wms import scan_lookup
from protocols.envelope import Envelope

router = APIRouter(tags=["scans"])


@router.get("/scans/resolve", response_model=Envelope[dict[str, Any]])
def resolve_scan(
    s: ServicesDep,
    who: Annotated[Principal, Depends(Requires("scan.resolve"))],
    text: Annotated[str, Query(min_length=1, max_length=512, description="Scanned data.")],
    symbology: Annotated[
        str | None, Query(max_length=3, description="AIM identifier from the scanner, e.g. ]C1")
    ] = None,
    gs_substitute: Annotated[
        str | None, Query(max_length=5, description="What the scanner sends instead of GS")
    ] = None,
) -> dict[str, Any]:
    """Classify a scan (bin, location, LPN, tote, item with lot/expiry/count, …) and look it up."""
    return {
        "data": scan_lookup.resolve(
            s.db, s.settings.site, text, symbology=symbology, gs_substitute=gs_substitute
        )
    }
