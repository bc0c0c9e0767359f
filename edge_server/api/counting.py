"""Cycle counting over HTTP (docs/counting.md): tasks, blind counted lines, submit,
variances and their approval, the ABC schedule and IRA."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import ok, reply
from edge_server.deps import Mutates, Mutation, Principal, Requires, ServicesDep
from edge_server.timeutil import utcnow
from edge_server.wms import labor
from edge_server.wms.counting import approvals, kpi, lines, schedule, tasks, variances
from edge_server.wms.counting.lines import CountedLine
from protocols.envelope import Envelope
from protocols.inventory import MAX_QTY, StockStatus

router = APIRouter(tags=["counting"])
Data = Envelope[dict[str, Any]]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TaskIn(_Body):
    kind: Literal["bin", "item", "lpn"]
    location: str | None = Field(default=None, min_length=1, max_length=64)
    sku: str | None = Field(default=None, min_length=1, max_length=64)
    lpn: str | None = Field(default=None, min_length=1, max_length=64)


class Empty(_Body):
    pass


class LineIn(_Body):
    location: str = Field(min_length=1, max_length=64, description="The bin counted.")
    sku: str | None = Field(default=None, min_length=1, max_length=64)
    gtin: str | None = Field(default=None, min_length=8, max_length=14)
    scan: str | None = Field(
        default=None, min_length=1, max_length=200, description="The item barcode as scanned."
    )
    lot: str | None = Field(default=None, max_length=64)
    expiry: dt.date | None = None
    lpn: str | None = Field(default=None, max_length=64)
    status: StockStatus = StockStatus.AVAILABLE
    qty: int = Field(ge=0, le=MAX_QTY, description="How many are there (of what was scanned).")


class DecisionIn(_Body):
    note: str = Field(default="", max_length=500)


class RejectIn(_Body):
    note: str = Field(min_length=1, max_length=500)


class ScheduleIn(_Body):
    A: int | None = Field(default=None, ge=1, le=3650)
    B: int | None = Field(default=None, ge=1, le=3650)
    C: int | None = Field(default=None, ge=1, le=3650)


# -- tasks ----------------------------------------------------------------------------------
@router.get("/counts/tasks", response_model=Data)
def get_tasks(
    s: ServicesDep,
    who: Annotated[Principal, Depends(Requires("counting.read"))],
    status: Annotated[
        str | None, Query(pattern="^(open|in_progress|counted|closed|cancelled|all)$")
    ] = "open",
    mine: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Count tasks; `mine=true`: the ones the caller may do (assigned to them, or to nobody
    and not a recount of their own count)."""
    items = tasks.list_tasks(
        s.db,
        s.settings.site,
        status=None if status == "all" else status,
        user_id=who.user_id,
        mine=mine,
        limit=limit,
    )
    return {"data": {"items": items}}


@router.get("/counts/tasks/{task_id}", response_model=Data)
def get_task(
    task_id: int, s: ServicesDep, who: Annotated[Principal, Depends(Requires("counting.read"))]
) -> dict[str, Any]:
    return {"data": {"task": tasks.get_task(s.db, s.settings.site, task_id)}}


@router.post("/counts/tasks", status_code=201, response_model=Data)
def create_task(
    body: TaskIn, s: ServicesDep, m: Annotated[Mutation, Depends(Mutates("counting.manage"))]
) -> JSONResponse:
    """A manual count of a bin, an item (every bin holding it) or an LPN."""
    site = s.settings.site

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        task_id = tasks.create_task(
            w,
            site,
            kind=body.kind,
            reason="manual",
            location=body.location if body.kind == "bin" else None,
            sku=body.sku,
            lpn=body.lpn,
            created_by=m.principal.user_id,
        )
        return 201, ok({"task": tasks.get_task(w, site, task_id)})

    return reply(*m.run(body.model_dump(mode="json"), effect))


@router.post("/counts/tasks/{task_id}/claim", response_model=Data)
def claim_task(
    task_id: int,
    s: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("counting.work"))],
    body: Empty | None = None,
) -> JSONResponse:
    site = s.settings.site

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        task = tasks.claim(w, site, task_id, m.principal.user_id)
        # Taking the count is the counter's first scan on it: labor time starts here.
        labor.record(
            w,
            s.settings,
            task_type="count",
            task_ref=f"count-{task_id}",
            actor=m.principal.actor,
            step="handle",
        )
        return 200, ok({"task": task})

    return reply(*m.run({"task_id": task_id}, effect))


class CancelIn(_Body):
    reason: str = Field(min_length=1, max_length=200, description="Why the count is called off.")


@router.post("/counts/tasks/{task_id}/cancel", response_model=Data)
def cancel_task(
    task_id: int,
    body: CancelIn,
    s: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("counting.manage"))],
) -> JSONResponse:
    """Call a count off: nothing is posted; what was counted stays on record."""
    site = s.settings.site

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        return 200, ok({"task": tasks.cancel(w, site, task_id, reason=body.reason)})

    return reply(*m.run({"task_id": task_id, **body.model_dump()}, effect))


@router.post("/counts/tasks/{task_id}/lines", status_code=201, response_model=Data)
def count_line(
    task_id: int,
    body: LineIn,
    s: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("counting.work"))],
) -> JSONResponse:
    """One counted key. The answer never says what the books hold: counts are blind."""
    line = CountedLine(
        location=body.location,
        qty=body.qty,
        sku=body.sku,
        gtin=body.gtin,
        scan=body.scan,
        lot=body.lot,
        expiry=body.expiry.isoformat() if body.expiry else None,
        lpn=body.lpn,
        status=body.status.value,
    )

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        out = lines.record_line(w, s.settings, task_id, line, m.principal.actor)
        return 201, ok(out)

    return reply(*m.run(body.model_dump(mode="json"), effect))


@router.post("/counts/tasks/{task_id}/submit", response_model=Data)
def submit_task(
    task_id: int,
    s: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("counting.work"))],
    body: Empty | None = None,
) -> JSONResponse:
    """Counting done: variances per key; adjust, recount or wait for approval."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        return 200, ok(variances.submit(w, s.settings, task_id, m.principal.actor))

    return reply(*m.run({"task_id": task_id}, effect))


# -- variances ------------------------------------------------------------------------------
@router.get("/counts/variances", response_model=Data)
def get_variances(
    s: ServicesDep,
    who: Annotated[Principal, Depends(Requires("counting.read"))],
    status: Annotated[
        str | None,
        Query(pattern="^(accurate|recount|awaiting_approval|approved|rejected|posted|all)$"),
    ] = "awaiting_approval",
    task_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    items = variances.list_variances(
        s.db,
        s.settings.site,
        status=None if status == "all" else status,
        task_id=task_id,
        limit=limit,
    )
    return {"data": {"items": items}}


@router.post("/counts/variances/{variance_id}/approve", response_model=Data)
def approve_variance(
    variance_id: int,
    s: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("counting.approve"))],
    body: DecisionIn | None = None,
) -> JSONResponse:
    """Post the adjustment (a `count` movement against the current stock)."""
    note = body.note if body else ""
    site = s.settings.site

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        v = approvals.approve(w, site, variance_id, m.principal.actor, note)
        return 200, ok({"variance": v})

    return reply(*m.run({"variance_id": variance_id, "note": note}, effect))


@router.post("/counts/variances/{variance_id}/reject", response_model=Data)
def reject_variance(
    variance_id: int,
    body: RejectIn,
    s: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("counting.approve"))],
) -> JSONResponse:
    """Keep the books as they are (a note saying why is required)."""
    site = s.settings.site

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        v = approvals.reject(w, site, variance_id, m.principal.actor, body.note)
        return 200, ok({"variance": v})

    return reply(*m.run({"variance_id": variance_id, "note": body.note}, effect))


# -- IRA and schedule -----------------------------------------------------------------------
@router.get("/counts/ira", response_model=Data)
def get_ira(
    s: ServicesDep,
    who: Annotated[Principal, Depends(Requires("counting.read"))],
    days: Annotated[int, Query(ge=1, le=3650)] = 90,
) -> dict[str, Any]:
    return {"data": kpi.ira(s.db, s.settings.site, days=days)}


@router.get("/counts/summary", response_model=Data)
def get_summary(
    s: ServicesDep, who: Annotated[Principal, Depends(Requires("counting.read"))]
) -> dict[str, Any]:
    return {"data": kpi.counting_summary(s.db, s.settings.site)}


@router.get("/counts/schedule", response_model=Data)
def get_schedule(
    s: ServicesDep, who: Annotated[Principal, Depends(Requires("counting.manage"))]
) -> dict[str, Any]:
    return {"data": {"intervals": schedule.get_intervals(s.db, s.settings)}}


@router.put("/counts/schedule", response_model=Data)
def put_schedule(
    body: ScheduleIn, s: ServicesDep, m: Annotated[Mutation, Depends(Mutates("counting.manage"))]
) -> JSONResponse:
    """Count intervals in days per velocity class (only the classes sent change)."""
    wanted = {k: v for k, v in body.model_dump().items() if v is not None}

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        return 200, ok({"intervals": schedule.set_intervals(w, s.settings, wanted)})

    return reply(*m.run(body.model_dump(mode="json"), effect))


@router.post("/counts/schedule/run", response_model=Data)
def run_schedule(
    s: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("counting.manage"))],
    body: Empty | None = None,
) -> JSONResponse:
    """Make the due scheduled counts now (the background loop does the same)."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        return 200, ok(schedule.run_schedule(w, s.settings, utcnow()))

    return reply(*m.run({}, effect))
