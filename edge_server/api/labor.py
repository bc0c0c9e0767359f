"""Labor figures over HTTP: rates, idle gaps, raw task records and standards
(docs/labor.md)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import ok, reply
from edge_server.deps import DbDep, Mutates, Mutation, Principal, Requires, ServicesDep
from edge_server.errors import AislewayError
from edge_server.settings import Settings
from edge_server.timeutil import utcnow
from edge_server.wms.labor import rates as labor_rates
from edge_server.wms.labor import standards
from edge_server.wms.purchase_orders import Source, fetch_rows
from protocols.envelope import Envelope
from protocols.errors import ErrorCode

router = APIRouter(tags=["labor"])

Reader = Annotated[Principal, Depends(Requires("labor.read"))]
Manager = Annotated[Mutation, Depends(Mutates("labor.manage"))]
Data = Envelope[dict[str, Any]]
When = Annotated[
    str | None,
    Query(
        max_length=40,
        description="ISO 8601 time (with a zone; without one: site-local) or a site-local "
        "date YYYY-MM-DD (its midnight). Default: until = now, since = until - 24 h.",
    ),
]
Badge = Annotated[str | None, Query(max_length=64, description="The worker's badge.")]


class StandardIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    per_hour: float = Field(description="Expected output per working hour (positive).")
    unit: str | None = Field(
        default=None, max_length=16, description="units, lines or tasks; default: unchanged."
    )


def _when(text: str | None, name: str, settings: Settings) -> datetime | None:
    if text is None or not text.strip():
        return None
    tz = ZoneInfo(settings.site_timezone)
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise AislewayError(
            ErrorCode.LABOR_PERIOD_INVALID, details={name: text, "reason": "not ISO 8601"}
        ) from None
    if len(text.strip()) == 10:  # a date: its site-local midnight
        when = datetime.combine(when.date(), time(0))
    return when if when.tzinfo is not None else when.replace(tzinfo=tz)


def _period(since: str | None, until: str | None, settings: Settings) -> tuple[datetime, datetime]:
    hi = _when(until, "until", settings) or utcnow()
    lo = _when(since, "since", settings) or hi - timedelta(hours=24)
    labor_rates.check_period(lo, hi)
    return lo, hi


def _user_id(db: Source, badge: str | None) -> int | None:
    if badge is None or not badge.strip():
        return None
    found = fetch_rows(db, "SELECT id FROM users WHERE badge = ?", [badge.strip()])
    if not found:
        raise AislewayError(ErrorCode.LABOR_WORKER_UNKNOWN, details={"worker": badge})
    return int(found[0]["id"])


@router.get("/labor/rates", response_model=Data)
def get_rates(
    db: DbDep,
    s: ServicesDep,
    who: Reader,
    since: When = None,
    until: When = None,
    group_by: Annotated[
        str, Query(max_length=100, description="Comma-separated: worker,task_type,hour,shift,day")
    ] = "worker,task_type",
) -> dict[str, Any]:
    """Units, lines and tasks per working hour and performance % against the standards, per
    group, over [since, until)."""
    groups = [g.strip() for g in group_by.split(",") if g.strip()]
    lo, hi = _period(since, until, s.settings)
    rows = labor_rates.rates(
        db, s.settings.site, since=lo, until=hi, group_by=groups, settings=s.settings
    )
    return {
        "data": {
            "since": lo.isoformat(),
            "until": hi.isoformat(),
            "group_by": groups,
            "items": rows,
        }
    }


@router.get("/labor/gaps", response_model=Data)
def get_gaps(
    db: DbDep,
    s: ServicesDep,
    who: Reader,
    worker: Badge = None,
    since: When = None,
    until: When = None,
) -> dict[str, Any]:
    """Idle gaps (between a worker's consecutive scans, longer than labor_idle_gap_seconds)."""
    user_id = _user_id(db, worker)
    lo, hi = _period(since, until, s.settings)
    items = labor_rates.gaps(
        db, s.settings.site, since=lo, until=hi, user_id=user_id, settings=s.settings
    )
    return {
        "data": {
            "since": lo.isoformat(),
            "until": hi.isoformat(),
            "idle_gap_seconds": s.settings.labor_idle_gap_seconds,
            "items": items,
        }
    }


@router.get("/labor/tasks", response_model=Data)
def get_tasks(
    db: DbDep,
    s: ServicesDep,
    who: Reader,
    worker: Badge = None,
    since: When = None,
    until: When = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> dict[str, Any]:
    """The raw labor task records overlapping [since, until), newest first."""
    user_id = _user_id(db, worker)
    lo, hi = _period(since, until, s.settings)
    items = labor_rates.tasks(db, s.settings.site, since=lo, until=hi, user_id=user_id, limit=limit)
    return {"data": {"since": lo.isoformat(), "until": hi.isoformat(), "items": items}}


@router.get("/labor/standards", response_model=Data)
def get_standards(db: DbDep, who: Reader) -> dict[str, Any]:
    """Every task type's standard: unit and expected output per working hour."""
    return {"data": {"items": standards.list_standards(db)}}


@router.put("/labor/standards/{task_type}", response_model=Data)
def put_standard(
    task_type: Annotated[str, Path(max_length=32)], body: StandardIn, m: Manager
) -> JSONResponse:
    """Change a task type's standard (performance % is measured against it)."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        view = standards.set_standard(
            w, task_type, per_hour=body.per_hour, unit=body.unit, actor=m.principal.actor
        )
        return 200, ok({"standard": view})

    return reply(*m.run(body.model_dump(mode="json"), effect))
