"""Available-to-promise over HTTP: per site and in total for a SKU, and the sites'
reconciliation snapshots (rules in oms/reservations.py; docs/oms-orders.md)."""

# No `from __future__ import annotations`: FastAPI must see the real objects (see oms/deps.py).
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import ok, reply
from edge_server.oms import reservations
from edge_server.oms.deps import OmsCaller, OmsDep, OmsMutates, OmsMutation, OmsRequires
from protocols.envelope import Envelope
from protocols.orders import StockSnapshotIn

router = APIRouter(tags=["inventory"])

Reader = Annotated[OmsCaller, Depends(OmsRequires("oms.inventory.read"))]
SiteAdmin = Annotated[OmsMutation, Depends(OmsMutates("oms.sites.manage"))]


@router.get("/inventory/atp", response_model=Envelope[dict[str, Any]])
def atp(
    oms: OmsDep, who: Reader, sku: Annotated[str, Query(min_length=1, max_length=64)]
) -> dict[str, Any]:
    """What of one SKU can be promised: per site (available as the site reported it, held by
    OMS reservations, ATP, when reported) and in total over the active sites."""
    return {"data": reservations.atp_view(oms.db, sku.strip())}


@router.post("/inventory/snapshots", response_model=Envelope[dict[str, Any]])
def post_snapshot(body: StockSnapshotIn, oms: OmsDep, m: SiteAdmin) -> JSONResponse:
    """A site's reconciliation snapshot: available per SKU as of a time. Levels older than
    what a stock event already recorded are left alone (counted `stale`); with `full`, SKUs
    not listed drop to 0."""
    levels = {level.sku: level.available for level in body.stock}

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        counts = reservations.apply_snapshot(w, body.site, levels, body.as_of, full=body.full)
        return 200, ok({"site": body.site, **counts})

    return reply(*m.run(body.model_dump(mode="json"), effect))
