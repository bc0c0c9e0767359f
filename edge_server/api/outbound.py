"""Fulfillment orders and allocation over HTTP (the integration API for outbound goods)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import CREATED_OR_REPLACED, ok, reply
from edge_server.deps import DbDep, Mutates, Mutation, Principal, Requires, ServicesDep
from edge_server.errors import AislewayError
from edge_server.wms.outbound import allocation, orders
from edge_server.wms.purchase_orders import Source
from protocols.envelope import Envelope
from protocols.errors import ErrorCode
from protocols.outbound import DOC_NUMBER_PATTERN, FulfillmentOrderIn

router = APIRouter(tags=["outbound"])

Reader = Annotated[Principal, Depends(Requires("orders.read"))]
Writer = Annotated[Mutation, Depends(Mutates("orders.write"))]
StockReader = Annotated[Principal, Depends(Requires("stock.read"))]
Number = Annotated[str, Path(pattern=DOC_NUMBER_PATTERN, description="Order number.")]
FoStatus = Literal[
    "received", "allocated", "backordered", "picking", "packed", "shipped", "cancelled"
]
BASE = "/fulfillment-orders"


def _order(w: Source, site: str, number: str) -> dict[str, Any]:
    found = orders.get_order(w, site, number)
    if found is None:
        raise AislewayError(ErrorCode.FO_NOT_FOUND, details={"number": number})
    return found


@router.get(BASE, response_model=Envelope[dict[str, Any]])
def list_fulfillment_orders(
    db: DbDep,
    s: ServicesDep,
    who: Reader,
    status: FoStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """A page of the site's orders, highest priority first (no lines)."""
    return {
        "data": orders.list_orders(db, s.settings.site, status=status, limit=limit, offset=offset)
    }


@router.get(BASE + "/{number}", response_model=Envelope[dict[str, Any]])
def get_fulfillment_order(number: Number, db: DbDep, s: ServicesDep, who: Reader) -> dict[str, Any]:
    """One order with its lines: qty_ordered, qty_allocated, qty_short, status, allocations."""
    return {"data": _order(db, s.settings.site, number)}


@router.put(
    BASE + "/{number}",
    response_model=Envelope[dict[str, Any]],
    responses=CREATED_OR_REPLACED,
)
def put_fulfillment_order(
    number: Number, body: FulfillmentOrderIn, s: ServicesDep, m: Writer
) -> JSONResponse:
    """Create (201) or replace (200) an order before picking starts. A changed order that
    holds stock is released and allocated again; see docs/outbound.md."""
    site = s.settings.site

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        outcome = orders.put_order(w, site, number, body)
        data = {"fulfillment_order": _order(w, site, number), "outcome": outcome}
        return (201 if outcome == "created" else 200), ok(data)

    return reply(*m.run({"number": number, "order": body.model_dump(mode="json")}, effect))


@router.post(BASE + "/{number}/allocate", response_model=Envelope[dict[str, Any]])
def allocate_fulfillment_order(number: Number, s: ServicesDep, m: Writer) -> JSONResponse:
    """Reserve stock for the order's open lines (FEFO/FIFO, pick faces first); a shortage
    allocates what there is and backorders the rest."""
    site = s.settings.site

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        result = allocation.allocate_order(w, site, number)
        data = {"fulfillment_order": _order(w, site, number), "outcome": result["outcome"]}
        return 200, ok(data)

    return reply(*m.run({"number": number}, effect))


@router.post(BASE + "/{number}/cancel", response_model=Envelope[dict[str, Any]])
def cancel_fulfillment_order(number: Number, s: ServicesDep, m: Writer) -> JSONResponse:
    """Cancel an order before picking starts; its allocations are released."""
    site = s.settings.site

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        outcome = orders.cancel_order(w, site, number)
        return 200, ok({"fulfillment_order": _order(w, site, number), "outcome": outcome})

    return reply(*m.run({"number": number}, effect))


@router.get("/inventory/availability", response_model=Envelope[dict[str, Any]])
def inventory_availability(
    db: DbDep,
    s: ServicesDep,
    who: StockReader,
    sku: Annotated[str, Query(min_length=1, max_length=64)],
) -> dict[str, Any]:
    """What of one SKU can still be promised: available stock in pick faces and reserve
    minus what orders have allocated (see docs/outbound.md#availability)."""
    found = allocation.availability(db, s.settings.site, sku.strip())
    if found is None:
        raise AislewayError(ErrorCode.UNKNOWN_ITEM, details={"sku": sku})
    return {"data": found}
