"""EDI X12 over HTTP (docs/edi.md): a client's interchanges in (940 → orders, 856 → ASNs), our
997s and 945s out. Two doors: the client's own key (`/client/edi...`, `client.portal`, only
its own EDI identity and documents) and the house's integration (`/edi/...`, `edi.submit` /
`edi.read`, any client's)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlite_utils import Database as SUDatabase

from edge_server.api.client_portal import client_of
from edge_server.api.responses import ok, reply
from edge_server.deps import DbDep, Mutates, Mutation, Principal, Requires, ServicesDep
from edge_server.errors import AislewayError
from edge_server.wms import edi_inbound, edi_outbound
from protocols.envelope import Envelope
from protocols.errors import ErrorCode

router = APIRouter(tags=["EDI"])

Client = Annotated[Principal, Depends(Requires("client.portal"))]
ClientWriter = Annotated[Mutation, Depends(Mutates("client.portal"))]
Reader = Annotated[Principal, Depends(Requires("edi.read"))]
Submitter = Annotated[Mutation, Depends(Mutates("edi.submit"))]
Id = Annotated[int, Path(ge=1, le=2**62)]
Status = Literal["accepted", "partial", "rejected"]
MAX_BYTES = 10 * 1024 * 1024
_TYPES = ("application/edi-x12", "application/edi", "text/plain", "application/octet-stream")
_BODY = {
    "requestBody": {
        "required": True,
        "content": {t: {"schema": {"type": "string"}} for t in _TYPES[:3]},
    }
}


async def edi_body(request: Request) -> bytes:
    """The raw X12 interchange: Content-Type application/edi-x12 (or text/plain), ≤ 10 MB.
    Read in the route, after the permission check (a dependency would run before it)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in _TYPES:
        raise AislewayError(ErrorCode.EDI_BODY_INVALID, details={"content_type": kind})
    data = await request.body()
    if len(data) > MAX_BYTES:
        raise AislewayError(
            ErrorCode.EDI_BODY_INVALID, details={"bytes": len(data), "max_bytes": MAX_BYTES}
        )
    return data


def _submit(m: Mutation, site: str, data: bytes, client: str | None) -> JSONResponse:
    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        got = edi_inbound.receive(
            w, site, data, source="api", submitted_by=m.principal.id, client=client
        )
        return (201 if got.created else 200), ok(got.interchange)

    return reply(*m.run({"sha256": hashlib.sha256(data).hexdigest()}, effect))


# -- the house's integration --------------------------------------------------------------------
@router.post("/edi/interchanges", response_model=Envelope[dict[str, Any]], openapi_extra=_BODY)
async def submit_interchange(request: Request, s: ServicesDep, m: Submitter) -> JSONResponse:
    """Take a client's interchange (the client is the ISA sender's): 201 with the result and
    the 997, or 200 with the stored result for a repeat of one already taken."""
    data = await edi_body(request)
    return await run_in_threadpool(_submit, m, s.settings.site, data, None)


@router.get("/edi/interchanges", response_model=Envelope[dict[str, Any]])
def list_interchanges(
    db: DbDep,
    who: Reader,
    client: Annotated[str | None, Query(max_length=32)] = None,
    status: Status | None = None,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Interchanges taken, oldest first (`after` = `next_after` of the previous page)."""
    page = edi_inbound.list_interchanges(
        db, client=client, status=status, after_id=after, limit=limit
    )
    return {"data": page}


@router.get("/edi/interchanges/{interchange_id}", response_model=Envelope[dict[str, Any]])
def get_interchange(interchange_id: Id, db: DbDep, who: Reader) -> dict[str, Any]:
    """One interchange: per set the document and outcome or the errors, and the 997 text."""
    return {"data": edi_inbound.get_interchange(db, interchange_id)}


@router.get("/edi/outbound", response_model=Envelope[dict[str, Any]])
def list_all_outbound(
    db: DbDep,
    who: Reader,
    client: Annotated[str | None, Query(max_length=32)] = None,
    kind: Literal["997", "945"] | None = None,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Our outbound 997s and 945s, oldest first, with their text."""
    page = edi_outbound.list_outbound(db, client=client, kind=kind, after_id=after, limit=limit)
    return {"data": page}


# -- the client's own key -----------------------------------------------------------------------
@router.post("/client/edi", response_model=Envelope[dict[str, Any]], openapi_extra=_BODY)
async def client_submit(request: Request, s: ServicesDep, m: ClientWriter) -> JSONResponse:
    """Send an interchange whose ISA sender is the client's own EDI identity."""
    data = await edi_body(request)
    client = client_of(m.principal)
    return await run_in_threadpool(_submit, m, s.settings.site, data, client)


@router.get("/client/edi/interchanges", response_model=Envelope[dict[str, Any]])
def client_interchanges(
    db: DbDep,
    who: Client,
    status: Status | None = None,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """The client's own interchanges, oldest first."""
    page = edi_inbound.list_interchanges(
        db, client=client_of(who), status=status, after_id=after, limit=limit
    )
    return {"data": page}


@router.get("/client/edi/interchanges/{interchange_id}", response_model=Envelope[dict[str, Any]])
def client_interchange(interchange_id: Id, db: DbDep, who: Client) -> dict[str, Any]:
    return {"data": edi_inbound.get_interchange(db, interchange_id, client=client_of(who))}


@router.get("/client/edi/outbound", response_model=Envelope[dict[str, Any]])
def client_outbound(
    db: DbDep,
    who: Client,
    kind: Literal["997", "945"] | None = None,
    pending: Annotated[bool, Query(description="only those not yet picked up")] = False,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """The client's outbound documents (997s, 945s) with their text, oldest first."""
    page = edi_outbound.list_outbound(
        db, client=client_of(who), kind=kind, pending=pending, after_id=after, limit=limit
    )
    return {"data": page}


@router.post(
    "/client/edi/outbound/{outbound_id}/picked-up", response_model=Envelope[dict[str, Any]]
)
def client_picked_up(outbound_id: Id, m: ClientWriter) -> JSONResponse:
    """Mark a document picked up (it leaves `?pending=true`)."""
    client = client_of(m.principal)

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        return 200, ok(edi_outbound.mark_picked_up(w, outbound_id, client))

    return reply(*m.run({"id": outbound_id}, effect))
