"""Packing slips over HTTP: one printable HTML page per fulfillment order, branded with its
client's branding (docs/client-rules.md). The client's own route is in client_portal.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import HTMLResponse

from edge_server.deps import DbDep, Principal, Requires, ServicesDep
from edge_server.labels.packing_slip import packing_slip, render_packing_slip
from protocols.outbound import DOC_NUMBER_PATTERN

router = APIRouter(tags=["outbound"])

Reader = Annotated[Principal, Depends(Requires("orders.read"))]
Number = Annotated[str, Path(pattern=DOC_NUMBER_PATTERN, description="Order number.")]

HTML_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "HTML."}
}


@router.get(
    "/fulfillment-orders/{number}/packing-slip",
    response_class=HTMLResponse,
    responses=HTML_RESPONSE,
)
def get_packing_slip(number: Number, db: DbDep, s: ServicesDep, who: Reader) -> HTMLResponse:
    """The order's packing slip: the client's branding, ship-to, lines (ordered, packed, lots)
    and sealed cartons with their SSCCs. Print it from the browser (print CSS, A4)."""
    return HTMLResponse(render_packing_slip(packing_slip(db, s.settings.site, number)))
