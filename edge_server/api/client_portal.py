"""The client API: what a 3PL client's own key reaches (`/api/v1/client/...`, docs/clients.md).

Every route answers for the key's client only — the client comes from the key, never from
the request — and another client's documents and SKUs look exactly like ones that do not
exist.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import CREATED_OR_REPLACED, ok, reply
from edge_server.deps import DbDep, Mutates, Mutation, Principal, Requires, ServicesDep
from edge_server.errors import AislewayError
from edge_server.wms import asns, clients, inventory, items
from edge_server.wms.outbound import orders
from protocols.envelope import Envelope
from protocols.errors import ErrorCode
from protocols.inbound import AsnIn
from protocols.outbound import DOC_NUMBER_PATTERN, FulfillmentOrderIn

router = APIRouter(prefix="/client", tags=["client API"])

Client = Annotated[Principal, Depends(Requires("client.portal"))]
Writer = Annotated[Mutation, Depends(Mutates("client.portal"))]
Number = Annotated[str, Path(pattern=DOC_NUMBER_PATTERN, description="Document number.")]
FoStatus = Literal[
    "received", "allocated", "backordered", "picking", "packed", "shipped", "cancelled"
]


def client_of(who: Principal) -> str:
    """The caller's client (the key's); a key without one never passes `client.portal`."""
    if not who.client:
        raise AislewayError(ErrorCode.FORBIDDEN_ROLE, details={"permission": "client.portal"})
    return who.client


def _unknown_skus(error: ErrorCode, number: str, skus: list[str]) -> AislewayError:
    problems = [
        {"field": "sku", "code": "UNKNOWN_SKU", "reason": f"SKU {sku} is not in the item master."}
        for sku in skus
    ]
    return AislewayError(error, details={"number": number, "problems": problems})


@router.get("", response_model=Envelope[dict[str, Any]])
def me(db: DbDep, who: Client) -> dict[str, Any]:
    """The client as the site knows it (name, EDI identity, rules, branding, rates)."""
    return {"data": clients.get_client(db, client_of(who))}


@router.get("/items", response_model=Envelope[dict[str, Any]])
def client_items(
    db: DbDep,
    who: Client,
    q: Annotated[str | None, Query(max_length=64, description="SKU or description prefix")] = None,
    after: Annotated[str | None, Query(description="next_after of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """The client's items in SKU order."""
    page = items.list_items(db, q=q, owner=client_of(who), after=after, limit=limit)
    return {
        "data": {
            "items": [i.model_dump(mode="json") for i in page.items],
            "next_after": page.next_after,
        }
    }


@router.get("/stock", response_model=Envelope[dict[str, Any]])
def client_stock(
    db: DbDep,
    s: ServicesDep,
    who: Client,
    sku: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """The client's stock right now: bin × SKU × lot × LPN × status, from the ledger."""
    page = inventory.stock_page(
        db, s.settings.site, sku=sku, owner=client_of(who), limit=limit, offset=offset
    )
    return {"data": page}


@router.get("/orders", response_model=Envelope[dict[str, Any]])
def client_orders(
    db: DbDep,
    s: ServicesDep,
    who: Client,
    status: FoStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """A page of the client's orders (no lines)."""
    page = orders.list_orders(
        db, s.settings.site, status=status, owner=client_of(who), limit=limit, offset=offset
    )
    return {"data": page}


@router.get("/orders/{number}", response_model=Envelope[dict[str, Any]])
def client_order(number: Number, db: DbDep, s: ServicesDep, who: Client) -> dict[str, Any]:
    found = orders.get_order(db, s.settings.site, number, owner=client_of(who))
    if found is None:
        raise AislewayError(ErrorCode.FO_NOT_FOUND, details={"number": number})
    return {"data": found}


@router.put(
    "/orders/{number}", response_model=Envelope[dict[str, Any]], responses=CREATED_OR_REPLACED
)
def put_client_order(
    number: Number, body: FulfillmentOrderIn, s: ServicesDep, m: Writer
) -> JSONResponse:
    """Create (201) or replace (200) one of the client's orders before picking starts."""
    site, owner = s.settings.site, client_of(m.principal)

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        if body.owner and body.owner != owner:
            raise AislewayError(ErrorCode.CLIENT_OWNER_MISMATCH, details={"owner": body.owner})
        clients.claim_number(w, "fulfillment_orders", site, number, owner)
        foreign = clients.foreign_skus(w, owner, [line.sku for line in body.lines])
        if foreign:
            raise _unknown_skus(ErrorCode.FO_INVALID, number, foreign)
        outcome = orders.put_order(w, site, number, body.model_copy(update={"owner": owner}))
        data = {
            "fulfillment_order": orders.get_order(w, site, number, owner=owner),
            "outcome": outcome,
        }
        return (201 if outcome == "created" else 200), ok(data)

    return reply(*m.run({"number": number, "order": body.model_dump(mode="json")}, effect))


@router.get("/asns/{number}", response_model=Envelope[dict[str, Any]])
def client_asn(number: Number, db: DbDep, s: ServicesDep, who: Client) -> dict[str, Any]:
    found = asns.get_asn(db, s.settings.site, number, owner=client_of(who))
    if found is None:
        raise AislewayError(ErrorCode.ASN_NOT_FOUND, details={"number": number})
    return {"data": found}


@router.put(
    "/asns/{number}", response_model=Envelope[dict[str, Any]], responses=CREATED_OR_REPLACED
)
def put_client_asn(number: Number, body: AsnIn, s: ServicesDep, m: Writer) -> JSONResponse:
    """Create (201) or replace (200) one of the client's ASNs (goods on their way in)."""
    site, owner = s.settings.site, client_of(m.principal)

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        if body.po_number is not None:  # the client's own POs only
            raise AislewayError(
                ErrorCode.VALIDATION_FAILED,
                text="A client's ASN cannot name a purchase order; leave po_number out.",
                details={"field": "po_number"},
            )
        clients.claim_number(w, "asns", site, number, owner)
        foreign = clients.foreign_skus(w, owner, [line.sku for line in body.lines])
        if foreign:
            raise _unknown_skus(ErrorCode.ASN_INVALID, number, foreign)
        outcome = asns.put_asn(w, site, number, body, stated_owner=owner)
        data = {"asn": asns.get_asn(w, site, number, owner=owner), "outcome": outcome}
        return (201 if outcome == "created" else 200), ok(data)

    return reply(*m.run({"number": number, "asn": body.model_dump(mode="json")}, effect))


# -- billing (docs/billing.md) ----------------------------------------------------------------
from fastapi.responses import Response  # noqa: E402

from edge_server.api import billing as _billing  # noqa: E402


@router.get("/billing", response_model=Envelope[dict[str, Any]])
def client_billing(
    db: DbDep, s: ServicesDep, who: Client, first: _billing.From, last: _billing.To
) -> dict[str, Any]:
    """The client's own storage and handling per site day and for the period, with amounts."""
    return {"data": _billing.report(db, s, client_of(who), first, last)}


@router.get("/billing.csv", response_class=Response, responses=_billing.CSV_RESPONSE)
def client_billing_csv(
    db: DbDep, s: ServicesDep, who: Client, first: _billing.From, last: _billing.To
) -> Response:
    """The same figures as CSV, one row per site day and a last `total` row."""
    return _billing.csv_response(_billing.report(db, s, client_of(who), first, last))


# -- packing slips (docs/client-rules.md) -----------------------------------------------------
from fastapi.responses import HTMLResponse  # noqa: E402

from edge_server.api.packing_slips import HTML_RESPONSE  # noqa: E402
from edge_server.labels.packing_slip import packing_slip, render_packing_slip  # noqa: E402


@router.get(
    "/orders/{number}/packing-slip",
    response_class=HTMLResponse,
    responses=HTML_RESPONSE,
)
def client_packing_slip(number: Number, db: DbDep, s: ServicesDep, who: Client) -> HTMLResponse:
    """The packing slip of one of the client's orders (another client's: FO_NOT_FOUND)."""
    slip = packing_slip(db, s.settings.site, number, owner=client_of(who))
    return HTMLResponse(render_packing_slip(slip))
