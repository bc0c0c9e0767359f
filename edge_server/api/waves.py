"""Waves over HTTP: plan, list, progress, release by a supervisor, cancel (docs/waves.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import ok, reply
from edge_server.deps import DbDep, Mutates, Mutation, Principal, Requires, ServicesDep
from edge_server.timeutil import utcnow
from edge_server.wms.outbound import waves
from edge_server.wms.outbound.waves import WaveConfig
from protocols.envelope import Envelope

router = APIRouter(tags=["waves"])

Reader = Annotated[Principal, Depends(Requires("waves.read"))]
Manager = Annotated[Mutation, Depends(Mutates("waves.manage"))]
Number = Annotated[
    str, Path(pattern=r"^[A-Z0-9][A-Z0-9._-]{0,29}$", description="Wave number, e.g. W240115-003.")
]
WaveStatus = Literal["planned", "released", "done", "cancelled"]
BASE = "/waves"


@router.post(BASE + "/plan", response_model=Envelope[dict[str, Any]])
def plan(s: ServicesDep, m: Manager) -> JSONResponse:
    """Wave every unwaved allocated order by carrier service and next cutoff; returns the
    waves that received orders and the orders left out (unknown or inactive service)."""
    site, config = s.settings.site, WaveConfig.from_settings(s.settings)

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        return 200, ok(waves.plan_waves(w, site, utcnow(), config))

    return reply(*m.run({}, effect))


@router.get(BASE, response_model=Envelope[dict[str, Any]])
def list_(
    db: DbDep,
    s: ServicesDep,
    who: Reader,
    status: WaveStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """The site's waves, earliest cutoff first, with order/task counts and at-risk flags."""
    config = WaveConfig.from_settings(s.settings)
    data = waves.list_waves(db, s.settings.site, config, status=status, limit=limit, offset=offset)
    return {"data": data}


@router.get(BASE + "/{number}", response_model=Envelope[dict[str, Any]])
def get(number: Number, db: DbDep, s: ServicesDep, who: Reader) -> dict[str, Any]:
    """One wave's progress: orders and strategies, tasks by status, lines and units
    picked/short/total, minutes to cutoff, at risk and why."""
    config = WaveConfig.from_settings(s.settings)
    return {"data": waves.get_wave(db, s.settings.site, number, config)}


@router.post(BASE + "/{number}/release", response_model=Envelope[dict[str, Any]])
def release(number: Number, s: ServicesDep, m: Manager) -> JSONResponse:
    """Release a planned wave now (mode `supervisor`, the caller recorded): pick tasks are
    created. WAVE_NOT_PLANNED when it was released or cancelled already."""
    site, config = s.settings.site, WaveConfig.from_settings(s.settings)
    user_id = m.principal.user_id

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        result = waves.release_wave(
            w, site, number, mode="supervisor", user_id=user_id, config=config
        )
        return 200, ok({"release": result, "wave": waves.get_wave(w, site, number, config)})

    return reply(*m.run({"number": number}, effect))


@router.post(BASE + "/{number}/cancel", response_model=Envelope[dict[str, Any]])
def cancel(number: Number, s: ServicesDep, m: Manager) -> JSONResponse:
    """Cancel a planned wave; its orders are unwaved and planned again later."""
    site = s.settings.site

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        return 200, ok(waves.cancel_wave(w, site, number))

    return reply(*m.run({"number": number}, effect))
