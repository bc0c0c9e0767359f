"""Returns (RMAs) over HTTP: issue one for a shipped order, read them (rules in
oms/returns.py; docs/oms-returns.md)."""

# No `from __future__ import annotations`: FastAPI must see the real objects (see oms/deps.py).
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import ok, reply
from edge_server.oms import returns
from edge_server.oms.api.orders import Number, _visible
from edge_server.oms.deps import OmsCaller, OmsDep, OmsMutates, OmsMutation, OmsRequires
from protocols.envelope import Envelope
from protocols.returns import DOC_NUMBER_PATTERN

router = APIRouter(tags=["returns"])

Reader = Annotated[OmsCaller, Depends(OmsRequires("oms.orders.read"))]
Writer = Annotated[OmsMutation, Depends(OmsMutates("oms.returns.write"))]
Rma = Annotated[str, Path(pattern=DOC_NUMBER_PATTERN, description="RMA number: 2026-000001.")]


@router.post("/orders/{number}/returns", response_model=Envelope[dict[str, Any]])
def create_return(number: Number, body: returns.ReturnIn, oms: OmsDep, m: Writer) -> JSONResponse:
    """Issue an RMA with a prepaid return label (201) and tell the site that shipped the
    goods to expect it; `site_state` says whether it has taken it yet (`pending`: the OMS
    retries on its own)."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        _visible(w, m.caller, number)
        rma = returns.create_return(w, number, body)
        return 201, ok({"return": returns.get_return(w, rma)})

    status, stored = m.run({"number": number, "return": body.model_dump(mode="json")}, effect)
    rma = stored["data"]["return"]["rma"]
    returns.send_return(oms, rma)
    return reply(status, ok({"return": returns.get_return(oms.db, rma)}))


@router.get("/orders/{number}/returns", response_model=Envelope[dict[str, Any]])
def order_returns(number: Number, oms: OmsDep, who: Reader) -> dict[str, Any]:
    """Every RMA of the order, oldest first."""
    _visible(oms.db, who, number)
    return {"data": {"items": returns.order_returns(oms.db, number)}}


@router.get("/returns/{rma}", response_model=Envelope[dict[str, Any]])
def get_return(rma: Rma, oms: OmsDep, who: Reader) -> dict[str, Any]:
    """One RMA: label, lines (expected, received, sellable), site state, refund."""
    found = returns.get_return(oms.db, rma)
    _visible(oms.db, who, found["order"])
    return {"data": found}
