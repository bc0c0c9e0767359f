"""Channel orders over HTTP: create or replace by the channel's order id, read, list, cancel
and change the address before release (rules in oms/orders.py; docs/oms-orders.md)."""

# No `from __future__ import annotations`: FastAPI must see the real objects (see oms/deps.py).
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import CREATED_OR_REPLACED, ok, reply
from edge_server.errors import AislewayError
from edge_server.oms import orders
from edge_server.oms.deps import OmsCaller, OmsDep, OmsMutates, OmsMutation, OmsRequires
from edge_server.wms.purchase_orders import Source
from protocols.envelope import Envelope
from protocols.errors import ErrorCode
from protocols.orders import (
    CHANNEL_CODE_PATTERN,
    CHANNEL_ORDER_ID_PATTERN,
    ORDER_NUMBER_PATTERN,
    CancelIn,
    OrderIn,
    ShipTo,
)
from protocols.status import OmsStatus

router = APIRouter(tags=["orders"])

Reader = Annotated[OmsCaller, Depends(OmsRequires("oms.orders.read"))]
Writer = Annotated[OmsMutation, Depends(OmsMutates("oms.orders.write"))]
Number = Annotated[
    str, Path(pattern=ORDER_NUMBER_PATTERN, description="OMS order number: WEB-1001.")
]
ChannelOrderId = Annotated[
    str, Path(pattern=CHANNEL_ORDER_ID_PATTERN, description="The channel's own order id.")
]
ChannelParam = Annotated[
    str | None,
    Query(
        pattern=CHANNEL_CODE_PATTERN,
        description="The channel (admin keys; a channel key's channel is its own).",
    ),
]
OrderStatus = OmsStatus  # the one status list (protocols/status.py)


def _own_channel(src: Source, caller: OmsCaller, named: str | None) -> str | None:
    """The channel a caller acts for: a channel key's bound channel (naming another is
    refused), else the one named (None: any, for reads)."""
    if caller.role != "channel":
        return named
    bound = orders.channel_of_key(src, caller.api_key_id)
    if bound is None:
        raise AislewayError(ErrorCode.CHANNEL_KEY_UNBOUND)
    if named is not None and named != bound:
        raise AislewayError(ErrorCode.CHANNEL_NOT_YOURS, details={"channel": named})
    return bound


def _visible(src: Source, caller: OmsCaller, number: str) -> dict[str, Any]:
    """Order `number` as this caller may see it: a channel key sees its channel's only."""
    found = orders.get_order(src, number)
    mine = _own_channel(src, caller, None)
    if found is None or (mine is not None and found["channel"] != mine):
        raise AislewayError(ErrorCode.ORDER_NOT_FOUND, details={"number": number})
    return found


@router.get("/orders", response_model=Envelope[dict[str, Any]])
def list_orders(
    oms: OmsDep,
    who: Reader,
    channel: ChannelParam = None,
    status: OrderStatus | None = None,
    sku: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """A page of orders, newest first (no lines). A channel key sees its own channel's."""
    db = oms.db
    chosen = _own_channel(db, who, channel)
    page = orders.list_orders(
        db, channel=chosen, status=status, sku=sku, limit=limit, offset=offset
    )
    return {"data": page}


@router.get("/orders/{number}", response_model=Envelope[dict[str, Any]])
def get_order(number: Number, oms: OmsDep, who: Reader) -> dict[str, Any]:
    """One order: lines with reserved, released and backordered quantities and where,
    reservations per site, exchange link, history."""
    return {"data": _visible(oms.db, who, number)}


@router.put(
    "/orders/{channel_order_id}",
    response_model=Envelope[dict[str, Any]],
    responses=CREATED_OR_REPLACED,
)
def put_order(
    channel_order_id: ChannelOrderId,
    body: OrderIn,
    oms: OmsDep,
    m: Writer,
    channel: ChannelParam = None,
) -> JSONResponse:
    """Create (201) the channel's order and reserve it at once, or replace it before
    release (200). The same order again is 200 `unchanged`. See docs/oms-orders.md."""
    chooser = oms.choose_sites

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        chosen = _own_channel(w, m.caller, channel)
        if chosen is None:
            raise AislewayError(
                ErrorCode.VALIDATION_FAILED,
                details={"errors": [{"field": "channel", "reason": "name the channel"}]},
            )
        outcome, number = orders.put_order(w, chosen, channel_order_id, body, chooser=chooser)
        data = {"order": orders.get_order(w, number), "outcome": outcome}
        return (201 if outcome == "created" else 200), ok(data)

    payload = {"id": channel_order_id, "channel": channel, "order": body.model_dump(mode="json")}
    return reply(*m.run(payload, effect))


@router.post("/orders/{number}/cancel", response_model=Envelope[dict[str, Any]])
def cancel_order(
    number: Number, oms: OmsDep, m: Writer, body: CancelIn | None = None
) -> JSONResponse:
    """Cancel an order before release; its reservations go back to available-to-promise."""
    reason = body.reason if body else ""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        _visible(w, m.caller, number)
        outcome = orders.cancel_order(w, number, reason)
        return 200, ok({"order": orders.get_order(w, number), "outcome": outcome})

    return reply(*m.run({"number": number, "reason": reason}, effect))


@router.post("/orders/{number}/address", response_model=Envelope[dict[str, Any]])
def change_address(number: Number, body: ShipTo, oms: OmsDep, m: Writer) -> JSONResponse:
    """Ship an order somewhere else, before release."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        _visible(w, m.caller, number)
        outcome = orders.change_address(w, number, body)
        return 200, ok({"order": orders.get_order(w, number), "outcome": outcome})

    return reply(*m.run({"number": number, "ship_to": body.model_dump(mode="json")}, effect))
