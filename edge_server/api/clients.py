"""The 3PL's clients over HTTP: list, read, create or replace (docs/clients.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import CREATED_OR_REPLACED, ok, reply
from edge_server.deps import DbDep, Mutates, Mutation, Principal, Requires
from edge_server.wms import clients
from protocols.clients import CLIENT_CODE_PATTERN, ClientIn
from protocols.envelope import Envelope

router = APIRouter(prefix="/clients", tags=["clients"])

Reader = Annotated[Principal, Depends(Requires("clients.read"))]
Manager = Annotated[Mutation, Depends(Mutates("clients.manage"))]
Code = Annotated[str, Path(pattern=CLIENT_CODE_PATTERN, description="The client's code.")]


@router.get("", response_model=Envelope[list[dict[str, Any]]])
def list_clients(db: DbDep, who: Reader) -> dict[str, Any]:
    """Every client, in code order (switched-off ones too)."""
    return {"data": clients.list_clients(db)}


@router.get("/{code}", response_model=Envelope[dict[str, Any]])
def get_client(code: Code, db: DbDep, who: Reader) -> dict[str, Any]:
    return {"data": clients.get_client(db, code)}


@router.put("/{code}", response_model=Envelope[dict[str, Any]], responses=CREATED_OR_REPLACED)
def put_client(code: Code, body: ClientIn, m: Manager) -> JSONResponse:
    """Create (201) or replace (200) a client: name, EDI identity, picking rules, branding,
    billing rates. Items, orders and ASNs name it as their `owner`."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        created, view = clients.put_client(w, code, body)
        return (201 if created else 200), ok(view)

    return reply(*m.run({"code": code, "client": body.model_dump(mode="json")}, effect))
