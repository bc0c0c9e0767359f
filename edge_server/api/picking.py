"""The picking scenario's endpoints, pick task reads and the pick accuracy KPI (thin: the
rules live in scenarios/picking.py, wms/outbound/pick_tasks.py and pick_kpi.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import ok, reply
from edge_server.deps import Mutates, Mutation, Principal, Requires, ServicesDep
from edge_server.errors import AislewayError
from edge_server.scenarios import picking_repo
from edge_server.scenarios.picking import PickingScenario, PickRefused
from edge_server.services import Services
from edge_server.wms.outbound.pick_kpi import picking_kpi
from protocols.envelope import Envelope
from protocols.errors import ErrorCode
from protocols.picking import ClaimIn, MisScanIn, QuantityIn, ScanIn, ShortIn

router = APIRouter(tags=["picking"])
PREFIX = "/picking"
Answer = Envelope[dict[str, Any]]
Step = Annotated[Mutation, Depends(Mutates("picking.work"))]
Worker = Annotated[Principal, Depends(Requires("picking.work"))]
Reader = Annotated[Principal, Depends(Requires("waves.read"))]
TaskStatus = Literal["open", "in_progress", "done", "cancelled"]


def _scenario(s: Services, who: Principal) -> PickingScenario:
    return PickingScenario(
        s.settings,
        user_id=who.user_id,
        device_id=who.device_id,
        role=who.role,
        scanned_at=who.scanned_at,
    )


async def _run(
    m: Mutation,
    s: Services,
    payload: Any,
    call: Callable[[PickingScenario, SUDatabase], dict[str, Any]],
) -> JSONResponse:
    """Run one step; a refused scan rolled back is then counted in its own transaction. The
    step routes are `async def`: a picker's scan takes no thread of its own, its step runs
    on the writer's thread in a group commit (docs/load.md)."""
    scenario = _scenario(s, m.principal)
    try:
        return reply(*await m.run_async(payload, lambda w: (200, call(scenario, w))))
    except PickRefused as refused:
        await s.db.run_write_async(_counted(scenario, refused, m.key))
        raise


def _counted(
    scenario: PickingScenario, refused: PickRefused, key: str | None
) -> Callable[[SUDatabase], None]:
    return lambda w: scenario.record_refusal(w, refused, request_key=key)


@router.post(f"{PREFIX}/next", response_model=Answer)
async def claim(body: ClaimIn, s: ServicesDep, m: Step) -> JSONResponse:
    """The picker's task in progress, else the next open task (or the one named)."""
    return await _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.claim(w, body))


@router.post(f"{PREFIX}/bind-tote", response_model=Answer)
async def bind_tote(body: ScanIn, s: ServicesDep, m: Step) -> JSONResponse:
    """Scan an empty tote for the cart position shown."""
    return await _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.bind_tote(w, body))


@router.post(f"{PREFIX}/scan-bin", response_model=Answer)
async def scan_bin(body: ScanIn, s: ServicesDep, m: Step) -> JSONResponse:
    """The bin label of the current line."""
    return await _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.scan_bin(w, body))


@router.post(f"{PREFIX}/scan-item", response_model=Answer)
async def scan_item(body: ScanIn, s: ServicesDep, m: Step) -> JSONResponse:
    """The product (GTIN, GS1 with lot/count) or the LPN."""
    return await _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.scan_item(w, body))


@router.post(f"{PREFIX}/quantity", response_model=Answer)
async def quantity(body: QuantityIn, s: ServicesDep, m: Step) -> JSONResponse:
    """How many of the scanned unit were taken."""
    return await _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.quantity(w, body))


@router.post(f"{PREFIX}/tote", response_model=Answer)
async def tote(body: ScanIn, s: ServicesDep, m: Step) -> JSONResponse:
    """The order's tote: posts the pick."""
    return await _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.tote(w, body))


@router.post(f"{PREFIX}/short", response_model=Answer)
async def short(body: ShortIn, s: ServicesDep, m: Step) -> JSONResponse:
    """The bin holds less than asked: what was found (and its tote)."""
    return await _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.short(w, body))


@router.post(f"{PREFIX}/mis-scans", response_model=Answer)
def mis_scan(body: MisScanIn, s: ServicesDep, m: Step) -> JSONResponse:
    """Count a mis-scan the handheld caught against its downloaded task (pick accuracy);
    accepted late too, when the handheld replays its offline queue."""
    scenario = _scenario(s, m.principal)

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        return 201, ok(scenario.report_misscan(w, body))

    return reply(*m.run(body.model_dump(mode="json"), effect))


@router.get(f"{PREFIX}/tasks/{{task_id}}/state", response_model=Answer)
def task_state(task_id: int, s: ServicesDep, who: Worker) -> dict[str, Any]:
    """The task's current step, as its last answer gave it (resume after a restart)."""
    return _scenario(s, who).state(s.db, task_id)


@router.get(f"{PREFIX}/tasks/{{task_id}}", response_model=Answer)
def get_task(task_id: int, s: ServicesDep, who: Reader) -> dict[str, Any]:
    """One task: orders at their cart positions and totes, lines in route order with bins,
    SKU, lot, quantities and status, progress and route length."""
    return {"data": picking_repo.get_task(s.db, task_id)}


@router.get(f"{PREFIX}/tasks", response_model=Answer)
def list_tasks(
    s: ServicesDep,
    who: Reader,
    status: TaskStatus | None = None,
    wave: Annotated[str | None, Query(max_length=64, description="Wave number.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """The site's pick tasks, newest first (no lines)."""
    tasks = picking_repo.list_tasks(s.db, s.settings.site, status=status, wave=wave, limit=limit)
    return {"data": {"tasks": tasks}}


@router.get("/kpi/picking", response_model=Answer)
def kpi(
    s: ServicesDep,
    who: Annotated[Principal, Depends(Requires("kpi.read"))],
    from_: Annotated[date | None, Query(alias="from", description="First UTC day.")] = None,
    to: Annotated[date | None, Query(description="Last UTC day (inclusive).")] = None,
) -> dict[str, Any]:
    """Pick accuracy: picks, units, mis-scans caught by kind, short picks, accuracy %."""
    if from_ and to and from_ > to:
        raise AislewayError(ErrorCode.VALIDATION_FAILED, details={"from": "after to"})
    since = datetime.combine(from_, time(), UTC) if from_ else None
    until = datetime.combine(to + timedelta(days=1), time(), UTC) if to else None
    return {"data": picking_kpi(s.db, s.settings.site, since=since, until=until)}
