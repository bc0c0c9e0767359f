"""The packing scenario's endpoints, carton types, and shipments (ship confirm, the shipment
view, wrong items reported later). Thin: the rules live in scenarios/packing.py and
wms/outbound/{packing,shipping}.py; see docs/packing.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import CREATED_OR_REPLACED, ok, reply
from edge_server.deps import DbDep, Mutates, Mutation, Principal, Requires, ServicesDep
from edge_server.errors import AislewayError
from edge_server.scenarios.packing import PackingScenario, record_refused_scan
from edge_server.services import Services
from edge_server.wms.outbound import packing as pk
from edge_server.wms.outbound import shipping
from edge_server.wms.purchase_orders import site_id
from protocols.envelope import Envelope
from protocols.outbound import DOC_NUMBER_PATTERN
from protocols.packing import (
    CARTON_TYPE_PATTERN,
    CartonTypeIn,
    CloseCartonIn,
    PackScanIn,
    PackStartIn,
    ShipConfirmIn,
    WrongItemsIn,
)

router = APIRouter(tags=["packing"])
PREFIX = "/scenarios/packing"
Answer = Envelope[dict[str, Any]]
PackStep = Annotated[Mutation, Depends(Mutates("packing.work"))]
Number = Annotated[str, Path(pattern=DOC_NUMBER_PATTERN, description="Order number.")]
CartonCode = Annotated[str, Path(pattern=CARTON_TYPE_PATTERN, description="Carton type code.")]


def _scenario(s: Services, who: Principal) -> PackingScenario:
    return PackingScenario(
        s.settings,
        user_id=who.user_id,
        device_id=who.device_id,
        role=who.role,
        scanned_at=who.scanned_at,
    )


def _run(
    m: Mutation,
    s: Services,
    payload: Any,
    call: Callable[[PackingScenario, SUDatabase], dict[str, Any]],
) -> JSONResponse:
    scenario = _scenario(s, m.principal)
    try:
        return reply(*m.run(payload, lambda w: (200, call(scenario, w))))
    except AislewayError as exc:
        # The refusal rolled back; a caught mis-scan is still kept, once per command.
        record_refused_scan(
            s.db, s.settings.site, exc, actor=scenario.actor, idem=f"{m.principal.id}:{m.key}"
        )
        raise


# -- the scenario ---------------------------------------------------------------------------
@router.post(f"{PREFIX}/start", response_model=Answer)
def start(body: PackStartIn, s: ServicesDep, m: PackStep) -> JSONResponse:
    """Scan a tote (or type the order number) at a packing station; resumes an open job."""
    return _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.start(w, body))


@router.post(f"{PREFIX}/scan", response_model=Answer)
def scan(body: PackScanIn, s: ServicesDep, m: PackStep) -> JSONResponse:
    """An item into the open carton (GTIN, GS1 with lot/count), or another tote of the order."""
    return _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.scan(w, body))


@router.post(f"{PREFIX}/close-carton", response_model=Answer)
def close_carton(body: CloseCartonIn, s: ServicesDep, m: PackStep) -> JSONResponse:
    """Seal the open carton with its type and weight: SSCC, label, tracking."""
    return _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.close_carton(w, body))


@router.get(f"{PREFIX}/sessions/{{session_id}}", response_model=Answer)
def session_state(
    session_id: int,
    s: ServicesDep,
    who: Annotated[Principal, Depends(Requires("packing.work"))],
) -> dict[str, Any]:
    """The packing job's current state, as its last answer gave it (resume after a restart)."""
    return _scenario(s, who).state(s.db, session_id)


# -- carton types ---------------------------------------------------------------------------
@router.get("/carton-types", response_model=Answer)
def list_carton_types(
    db: DbDep,
    s: ServicesDep,
    who: Annotated[Principal, Depends(Requires("carriers.read"))],
    include_inactive: Annotated[bool, Query()] = False,
) -> dict[str, Any]:
    """The cartons packers may choose at this site."""
    sid = site_id(db, s.settings.site)
    return {
        "data": {"carton_types": pk.list_carton_types(db, sid, include_inactive=include_inactive)}
    }


@router.put(
    "/carton-types/{code}",
    response_model=Answer,
    responses=CREATED_OR_REPLACED,
)
def put_carton_type(
    code: CartonCode,
    body: CartonTypeIn,
    s: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("carriers.manage"))],
) -> JSONResponse:
    """Create (201) or replace (200) a carton type; `active: false` retires it."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        outcome, view = pk.put_carton_type(w, site_id(w, s.settings.site), code, body)
        return (201 if outcome == "created" else 200), ok({"carton_type": view, "outcome": outcome})

    return reply(*m.run({"code": code, **body.model_dump(mode="json")}, effect))


# -- shipments ------------------------------------------------------------------------------
@router.get("/shipments/{number}", response_model=Answer)
def get_shipment(
    number: Number,
    db: DbDep,
    s: ServicesDep,
    who: Annotated[Principal, Depends(Requires("orders.read"))],
) -> dict[str, Any]:
    """An order's sealed and shipped cartons: SSCC, tracking, contents; its lines shipped
    and short; wrong items reported since."""
    return {"data": shipping.shipment_view(db, s.settings.site, number)}


@router.post("/shipments/{number}/confirm", response_model=Answer)
def confirm_shipment(
    number: Number,
    body: ShipConfirmIn,
    s: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("stock.ship"))],
) -> JSONResponse:
    """Ship a packed order: its cartons' stock leaves the books, `shipment.created` goes out."""
    who = m.principal
    actor = who.actor

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        view = shipping.confirm_shipment(w, s.settings.site, number, actor=actor, note=body.note)
        return 200, ok({"shipment": view})

    return reply(*m.run({"number": number, **body.model_dump(mode="json")}, effect))


@router.post("/shipments/{number}/wrong-items", response_model=Answer)
def report_wrong_items(
    number: Number,
    body: WrongItemsIn,
    s: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("orders.write"))],
) -> JSONResponse:
    """Goods that shipped with the order but should not have (found through a return)."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        found = shipping.report_wrong_items(
            w, s.settings.site, number, body, reported_by=m.principal.id
        )
        return 201, ok({"wrong_items": found})

    return reply(*m.run({"number": number, **body.model_dump(mode="json")}, effect))
