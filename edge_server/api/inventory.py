"""The inventory ledger over HTTP: stock, movements, and the commands that change stock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import ok, reply
from edge_server.deps import Mutates, Mutation, Principal, Requires, ServicesDep
from edge_server.errors import AislewayError
from edge_server.timeutil import iso
from edge_server.wms import inventory
from edge_server.wms.ledger import Actor
from edge_server.wms.outbound.allocation import availability_snapshot
from protocols.envelope import Envelope
from protocols.errors import ErrorCode
from protocols.inventory import (
    AdjustmentIn,
    MoveIn,
    MovementPage,
    PickIn,
    ReceiptIn,
    ShipmentIn,
    StatusChangeIn,
    StockPage,
)

router = APIRouter(prefix="/inventory", tags=["inventory"])

Command = Callable[[SUDatabase, str, Any, Actor], dict[str, Any]]


async def _apply(
    m: Mutation, site: str, cmd: BaseModel, run: Command, status: int = 201
) -> JSONResponse:
    """One ledger command. The routes are `async def`: a handheld's scan takes no thread of
    its own; its effect runs on the writer's thread, in a group commit (docs/load.md)."""
    actor = m.principal.actor

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        return status, ok(run(w, site, cmd, actor))

    return reply(*await m.run_async(cmd.model_dump(mode="json"), effect))


MovementEnvelope = Envelope[dict[str, Any]]


@router.post("/receipts", status_code=201, response_model=MovementEnvelope)
async def post_receipt(
    body: ReceiptIn, s: ServicesDep, m: Annotated[Mutation, Depends(Mutates("stock.receive"))]
) -> JSONResponse:
    """Stock arrives into a location (receiving dock, returns, or a found-stock correction)."""
    return await _apply(m, s.settings.site, body, inventory.receive)


@router.post("/moves", status_code=201, response_model=MovementEnvelope)
async def post_move(
    body: MoveIn, s: ServicesDep, m: Annotated[Mutation, Depends(Mutates("stock.move"))]
) -> JSONResponse:
    """Move stock from one location to another (putaway, replenishment, consolidation)."""
    return await _apply(m, s.settings.site, body, inventory.move)


@router.post("/picks", status_code=201, response_model=MovementEnvelope)
async def post_pick(
    body: PickIn, s: ServicesDep, m: Annotated[Mutation, Depends(Mutates("stock.pick"))]
) -> JSONResponse:
    """Pick stock from a bin into a tote, cart or staging location."""
    return await _apply(m, s.settings.site, body, inventory.pick)


@router.post("/shipments", status_code=201, response_model=MovementEnvelope)
async def post_shipment(
    body: ShipmentIn, s: ServicesDep, m: Annotated[Mutation, Depends(Mutates("stock.ship"))]
) -> JSONResponse:
    """Stock leaves the building."""
    return await _apply(m, s.settings.site, body, inventory.ship)


@router.post("/adjustments", status_code=201, response_model=MovementEnvelope)
async def post_adjustment(
    body: AdjustmentIn, s: ServicesDep, m: Annotated[Mutation, Depends(Mutates("stock.adjust"))]
) -> JSONResponse:
    """Correct the books to what is physically there; a reason is required."""
    return await _apply(m, s.settings.site, body, inventory.adjust)


@router.post("/status-changes", status_code=201, response_model=MovementEnvelope)
async def post_status_change(
    body: StatusChangeIn,
    s: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("stock.status"))],
) -> JSONResponse:
    """Quarantine, mark damaged or release stock where it lies."""
    return await _apply(m, s.settings.site, body, inventory.change_status)


@router.get("/stock", response_model=Envelope[StockPage])
def get_stock(
    s: ServicesDep,
    who: Annotated[Principal, Depends(Requires("stock.read"))],
    sku: str | None = None,
    location: str | None = None,
    lpn: str | None = None,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    rows = inventory.stock_page(
        s.db,
        s.settings.site,
        sku=sku,
        location=location,
        lpn=lpn,
        status=status,
        limit=limit,
        offset=offset,
    )
    return {"data": rows}


@router.get("/movements", response_model=Envelope[MovementPage])
def get_movements(
    s: ServicesDep,
    who: Annotated[Principal, Depends(Requires("stock.read"))],
    sku: str | None = None,
    location: str | None = None,
    after_id: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    return {
        "data": inventory.movement_page(
            s.db, sku=sku, location=location, after_id=after_id, limit=limit
        )
    }


@router.get("/snapshot", response_model=Envelope[dict[str, Any]])
def get_snapshot(
    s: ServicesDep,
    who: Annotated[Principal, Depends(Requires("stock.read"))],
    sku: Annotated[
        list[str] | None, Query(description="Only these SKUs (repeat; <= 1000).")
    ] = None,
) -> dict[str, Any]:
    """Available-to-promise of every SKU the site holds (or of the `sku`s named), read in one
    consistent statement, as of the newest event it reflects: the OMS's reconciliation
    (docs/outbound.md#snapshot). Same `available` as `GET /inventory/availability`."""
    skus = None if sku is None else [x.strip() for x in sku if x.strip()]
    if skus is not None and len(skus) > 1000:
        raise AislewayError(
            ErrorCode.VALIDATION_FAILED,
            details={"errors": [{"field": "sku", "reason": "at most 1000 SKUs per snapshot"}]},
        )
    levels, as_of = availability_snapshot(s.db, s.settings.site, skus)
    return {
        "data": {
            "site": s.settings.site,
            "as_of": as_of or iso(),
            "full": skus is None,
            "stock": [{"sku": k, "available": v} for k, v in sorted(levels.items())],
        }
    }
