"""Returns over HTTP: expected returns (RMAs) from the OMS, the disposition rules, and the
returns scenario's endpoints for the handheld. Thin: the rules live in wms/returns.py and
scenarios/returns.py; see docs/returns.md and docs/scenarios/returns.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import CREATED_OR_REPLACED, ok, reply
from edge_server.deps import DbDep, Mutates, Mutation, Principal, Requires, ServicesDep
from edge_server.scenarios.returns import ReturnsScenario
from edge_server.services import Services
from edge_server.wms import returns as rt
from protocols.envelope import Envelope
from protocols.returns import (
    DOC_NUMBER_PATTERN,
    CloseIn,
    ConditionIn,
    DispositionRulesIn,
    LotIn,
    QuantityIn,
    ReturnIn,
    ScanIn,
    SessionIn,
    StartIn,
)

router = APIRouter(tags=["returns"])
BASE = "/returns"
PREFIX = "/scenarios/returns"
Answer = Envelope[dict[str, Any]]
Reader = Annotated[Principal, Depends(Requires("returns.read"))]
Manager = Annotated[Mutation, Depends(Mutates("returns.manage"))]
Step = Annotated[Mutation, Depends(Mutates("returns.receive"))]
Rma = Annotated[str, Path(pattern=DOC_NUMBER_PATTERN, description="RMA number.")]
ReturnStatus = Literal["expected", "receiving", "closed", "cancelled"]


# -- disposition rules (declared before /returns/{rma} so the path is not taken for an RMA) ----
@router.get(BASE + "/disposition-rules", response_model=Answer)
def get_rules(db: DbDep, s: ServicesDep, who: Reader) -> dict[str, Any]:
    """The site's disposition table: reason × condition → disposition, with the defaults."""
    return {"data": rt.rules_view(db, s.settings.site)}


@router.put(BASE + "/disposition-rules", response_model=Answer)
def put_rules(body: DispositionRulesIn, s: ServicesDep, m: Manager) -> JSONResponse:
    """Change cells of the table (`reset` puts the defaults back first)."""
    site = s.settings.site
    return reply(
        *m.run(body.model_dump(mode="json"), lambda w: (200, ok(rt.set_rules(w, site, body))))
    )


# -- expected returns ---------------------------------------------------------------------------
@router.get(BASE, response_model=Answer)
def list_returns(
    db: DbDep,
    s: ServicesDep,
    who: Reader,
    status: ReturnStatus | None = None,
    tracking: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """A page of RMAs, newest first, with lines and progress; `tracking` finds the one a
    return label belongs to."""
    site = s.settings.site
    if tracking is not None:
        found = rt.find_return(db, site, tracking=tracking.strip())
        items = [rt.get_return(db, site, found["rma"])] if found else []
        return {"data": {"items": items, "total": len(items), "limit": limit, "offset": 0}}
    return {"data": rt.list_returns(db, site, status=status, limit=limit, offset=offset)}


@router.get(BASE + "/{rma}", response_model=Answer)
def get_return(rma: Rma, db: DbDep, s: ServicesDep, who: Reader) -> dict[str, Any]:
    """One RMA: lines with expected and received units, and every posting's disposition."""
    return {"data": rt.get_return(db, s.settings.site, rma)}


@router.put(
    BASE + "/{rma}",
    response_model=Answer,
    responses=CREATED_OR_REPLACED,
)
def put_return(rma: Rma, body: ReturnIn, s: ServicesDep, m: Manager) -> JSONResponse:
    """Expect a return (201), or replace it while open (200); see docs/returns.md."""
    site = s.settings.site

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        outcome = rt.put_return(w, site, rma, body)
        data = {"return": rt.get_return(w, site, rma), "outcome": outcome}
        return (201 if outcome == "created" else 200), ok(data)

    return reply(*m.run({"rma": rma, "return": body.model_dump(mode="json")}, effect))


@router.post(BASE + "/{rma}/cancel", response_model=Answer)
def cancel_return(rma: Rma, s: ServicesDep, m: Manager) -> JSONResponse:
    """Cancel an RMA before anything of it was received."""
    site = s.settings.site

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        outcome = rt.cancel_return(w, site, rma)
        return 200, ok({"return": rt.get_return(w, site, rma), "outcome": outcome})

    return reply(*m.run({"rma": rma}, effect))


# -- the returns scenario (handheld) ------------------------------------------------------------
def _scenario(s: Services, who: Principal) -> ReturnsScenario:
    return ReturnsScenario(
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
    call: Callable[[ReturnsScenario, SUDatabase], dict[str, Any]],
) -> JSONResponse:
    scenario = _scenario(s, m.principal)
    return reply(*m.run(payload, lambda w: (200, call(scenario, w))))


@router.post(f"{PREFIX}/start", response_model=Answer)
def start(body: StartIn, s: ServicesDep, m: Step) -> JSONResponse:
    """Scan the RMA label or the return label (tracking), or key in the RMA number."""
    return _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.start(w, body))


@router.post(f"{PREFIX}/scan", response_model=Answer)
def scan(body: ScanIn, s: ServicesDep, m: Step) -> JSONResponse:
    """A returned product (GTIN, GS1 with lot and count)."""
    return _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.scan(w, body))


@router.post(f"{PREFIX}/quantity", response_model=Answer)
def quantity(body: QuantityIn, s: ServicesDep, m: Step) -> JSONResponse:
    """How many of the scanned unit came back."""
    return _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.quantity(w, body))


@router.post(f"{PREFIX}/lot", response_model=Answer)
def lot(body: LotIn, s: ServicesDep, m: Step) -> JSONResponse:
    """The lot of a lot-tracked item."""
    return _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.lot(w, body))


@router.post(f"{PREFIX}/condition", response_model=Answer)
def condition(body: ConditionIn, s: ServicesDep, m: Step) -> JSONResponse:
    """new / opened / damaged: the disposition rules decide, and the units are posted."""
    return _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.condition(w, body))


@router.post(f"{PREFIX}/cancel", response_model=Answer)
def cancel(body: SessionIn, s: ServicesDep, m: Step) -> JSONResponse:
    """Drop what is being received; nothing is posted."""
    return _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.cancel(w, body.session_id))


@router.post(f"{PREFIX}/close", response_model=Answer)
def close(body: CloseIn, s: ServicesDep, m: Step) -> JSONResponse:
    """Close the RMA with what arrived (lines short need `confirm`); the refund follows."""
    return _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.close(w, body))


@router.get(f"{PREFIX}/sessions/{{session_id}}", response_model=Answer)
def session_state(
    session_id: int,
    s: ServicesDep,
    who: Annotated[Principal, Depends(Requires("returns.receive"))],
) -> dict[str, Any]:
    """The job's current state, as its last answer gave it (resume after a restart)."""
    return _scenario(s, who).state(s.db, session_id)
