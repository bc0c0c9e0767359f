"""Directed putaway, replenishment and the putaway KPI over HTTP (docs/putaway.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import ok, reply
from edge_server.deps import Mutates, Mutation, Principal, Requires, ServicesDep
from edge_server.wms import labor
from edge_server.wms.ledger import Actor
from edge_server.wms.putaway import replenishment, tasks
from protocols.envelope import Envelope
from protocols.inventory import MAX_QTY, StockStatus

router = APIRouter(tags=["putaway"])

Code = Field(min_length=1, max_length=64)
Tag = Field(default="", max_length=64)
Data = Envelope[dict[str, Any]]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PutawayTaskIn(_Body):
    location: str = Field(min_length=1, max_length=64, description="Where the stock is now.")
    sku: str = Code
    qty: int = Field(gt=0, le=MAX_QTY)
    lot: str = Tag
    lpn: str = Tag
    status: StockStatus = StockStatus.AVAILABLE
    ref: str = Field(default="", max_length=100)


class ConfirmIn(_Body):
    scan: str = Field(min_length=1, max_length=200, description="The bin barcode as scanned.")
    reason_code: str | None = Field(
        default=None,
        max_length=64,
        description="Required when the scanned bin is not the suggested one.",
    )
    symbology: str | None = Field(default=None, max_length=8)
    gs_substitute: str | None = Field(default=None, max_length=8)


class BinFullIn(_Body):
    scan: str | None = Field(
        default=None, max_length=200, description="The full bin; default: the suggested one."
    )


class RuleIn(_Body):
    location: str = Code
    sku: str = Code
    min_qty: int = Field(ge=0, le=MAX_QTY)
    max_qty: int = Field(gt=0, le=MAX_QTY)


def _actor(m: Mutation) -> Actor:
    return m.principal.actor


def _next_state(task: dict[str, Any] | None) -> str:
    if task is None:
        return "no_task"
    return "scan_bin" if task["to_location"] else "call_supervisor"


# -- putaway --------------------------------------------------------------------------------
@router.post("/putaway/tasks", status_code=201, response_model=Data)
def create_putaway(
    body: PutawayTaskIn,
    s: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("putaway.work"))],
) -> JSONResponse:
    """Putaway tasks for stock already at `location` (usually a dock), one per bin it goes to."""
    site = s.settings.site

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        ids = tasks.create_putaway_tasks(
            w,
            site,
            location=body.location,
            lpn=body.lpn,
            sku=body.sku,
            lot=body.lot,
            qty=body.qty,
            status=body.status.value,
            ref=body.ref,
            actor=_actor(m),
        )
        return 201, ok({"tasks": [tasks.get_task(w, site, i) for i in ids]})

    return reply(*m.run(body.model_dump(mode="json"), effect))


@router.get("/putaway/tasks", response_model=Data)
def get_putaway_tasks(
    s: ServicesDep,
    who: Annotated[Principal, Depends(Requires("putaway.work"))],
    status: Annotated[str | None, Query(pattern="^(open|done|cancelled)$")] = "open",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    items = tasks.list_tasks(s.db, s.settings.site, kind="putaway", status=status, limit=limit)
    return {"data": {"items": items}}


@router.get("/putaway/tasks/next", response_model=Data)
def get_next_putaway(
    s: ServicesDep,
    who: Annotated[Principal, Depends(Requires("putaway.work"))],
    position: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """The open putaway nearest to the worker's position (a bin or location code)."""
    task = tasks.next_task(
        s.db, s.settings.site, kind="putaway", position=position, user_id=who.user_id
    )
    return {"next_state": _next_state(task), "data": {"task": task}}


@router.get("/putaway/tasks/{task_id}", response_model=Data)
def get_putaway_task(
    task_id: int, s: ServicesDep, who: Annotated[Principal, Depends(Requires("putaway.work"))]
) -> dict[str, Any]:
    return {"data": {"task": tasks.get_task(s.db, s.settings.site, task_id, kind="putaway")}}


def _confirm(kind: str, task_id: int, body: ConfirmIn, s: Any, m: Mutation) -> JSONResponse:
    site = s.settings.site
    nth = s.settings.count_every_nth_putaway

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        done = tasks.confirm_task(
            w,
            site,
            task_id,
            scan=body.scan,
            kind=kind,
            reason_code=body.reason_code,
            actor=_actor(m),
            count_every_nth=nth,
            symbology=body.symbology,
            gs_substitute=body.gs_substitute,
        )
        # Labor: the bin scan proves the worker got there with the stock (docs/labor.md).
        ref = f"{kind}-{task_id}"
        labor_type: labor.TaskType = "putaway" if kind == "putaway" else "replenish"
        labor.record(
            w,
            s.settings,
            task_type=labor_type,
            task_ref=ref,
            actor=_actor(m),
            step="arrive",
            units=int(done["task"]["qty"]),
            lines=1,
        )
        labor.finish(w, task_type=labor_type, task_ref=ref, actor=_actor(m))
        return 200, ok(done)

    return reply(*m.run(body.model_dump(mode="json"), effect))


@router.post("/putaway/tasks/{task_id}/confirm", response_model=Data)
def confirm_putaway(
    task_id: int,
    body: ConfirmIn,
    s: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("putaway.work"))],
) -> JSONResponse:
    """The worker scanned a bin: move the stock there. Another bin needs a reason_code."""
    return _confirm("putaway", task_id, body, s, m)


@router.post("/putaway/tasks/{task_id}/bin-full", response_model=Data)
def bin_full(
    task_id: int,
    body: BinFullIn,
    s: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("putaway.work"))],
) -> JSONResponse:
    """The bin is full: leave it out for this task and get the next suggestion."""
    site = s.settings.site

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        out = tasks.report_bin_full(w, site, task_id, scan=body.scan, actor=_actor(m))
        labor.record(
            w,
            s.settings,
            task_type="putaway",
            task_ref=f"putaway-{task_id}",
            actor=_actor(m),
            step="arrive",
        )
        body_ = ok(out)
        body_["next_state"] = _next_state(out["task"])
        return 200, body_

    return reply(*m.run(body.model_dump(mode="json"), effect))


@router.get("/kpi/putaway", response_model=Data)
def get_putaway_kpi(
    s: ServicesDep,
    who: Annotated[Principal, Depends(Requires("kpi.read"))],
    day_from: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
    day_to: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
) -> dict[str, Any]:
    """Confirmed putaways and the share of overrides per worker and (UTC) day."""
    return {"data": tasks.putaway_kpi(s.db, s.settings.site, day_from=day_from, day_to=day_to)}


# -- replenishment ------------------------------------------------------------------------------
@router.put("/replenishment/rules", response_model=Data)
def put_rule(
    body: RuleIn,
    s: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("replenishment.rules"))],
) -> JSONResponse:
    """Set the min/max of an item at a pick face (checked at once)."""
    site = s.settings.site

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        rule = replenishment.set_rule(
            w,
            site,
            location=body.location,
            sku=body.sku,
            min_qty=body.min_qty,
            max_qty=body.max_qty,
        )
        rule["tasks"] = [tasks.get_task(w, site, i) for i in rule["tasks"]]
        return 200, ok(rule)

    return reply(*m.run(body.model_dump(mode="json"), effect))


@router.get("/replenishment/rules", response_model=Data)
def get_rules(
    s: ServicesDep, who: Annotated[Principal, Depends(Requires("replenishment.work"))]
) -> dict[str, Any]:
    return {"data": {"items": replenishment.list_rules(s.db, s.settings.site)}}


@router.get("/replenishment/tasks", response_model=Data)
def get_replenishment_tasks(
    s: ServicesDep,
    who: Annotated[Principal, Depends(Requires("replenishment.work"))],
    status: Annotated[str | None, Query(pattern="^(open|done|cancelled)$")] = "open",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    items = tasks.list_tasks(s.db, s.settings.site, kind="replenish", status=status, limit=limit)
    return {"data": {"items": items}}


@router.get("/replenishment/tasks/next", response_model=Data)
def get_next_replenishment(
    s: ServicesDep,
    who: Annotated[Principal, Depends(Requires("replenishment.work"))],
    position: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    task = tasks.next_task(
        s.db, s.settings.site, kind="replenish", position=position, user_id=who.user_id
    )
    return {"next_state": _next_state(task), "data": {"task": task}}


@router.post("/replenishment/tasks/{task_id}/confirm", response_model=Data)
def confirm_replenishment(
    task_id: int,
    body: ConfirmIn,
    s: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("replenishment.work"))],
) -> JSONResponse:
    """The worker scanned the pick face: move the stock there from reserve."""
    return _confirm("replenish", task_id, body, s, m)
