"""The site layout and its locations over HTTP."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlite_utils import Database as SUDatabase
from starlette.concurrency import run_in_threadpool

from edge_server.api.responses import ok, reply
from edge_server.deps import Mutates, Mutation, Principal, Requires, ServicesDep
from edge_server.services import Services
from edge_server.wms import layout_store, locations
from edge_server.wms.layout import Layout, LayoutFile, LocationType
from protocols.envelope import Envelope
from protocols.layout import LayoutLoadOut, LayoutOut, LocationOut, LocationPage

router = APIRouter(tags=["layout"])

_LAYOUT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A layout file (docs/layout.md).",
        "content": {"application/json": {"schema": LayoutFile.model_json_schema()}},
    }
}


@router.get("/layout", response_model=Envelope[LayoutOut])
def get_layout(
    s: ServicesDep, who: Annotated[Principal, Depends(Requires("layout.read"))]
) -> dict[str, Any]:
    """The site's layout: summary (blocks, cross aisles, bins by type and zone) and file."""
    return {"data": layout_store.stored_layout_info(s.db, s.settings.site)}


def _put_layout(raw: bytes, s: Services, m: Mutation) -> JSONResponse:
    # Validated before the idempotency check: a bad file is refused with its field and reason
    # whether or not the key was seen, and a refusal is never stored.
    layout = Layout.parse(raw)
    layout_store.check_site(layout, s.settings.site)

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        summary = layout_store.apply_layout(w, layout, site=s.settings.site)
        return 200, ok(summary.model_dump())

    return reply(*m.run(layout.file_dict(), effect))


@router.put("/layout", response_model=Envelope[LayoutLoadOut], openapi_extra=_LAYOUT_BODY)
async def put_layout(
    request: Request,
    s: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("layout.write"))],
) -> JSONResponse:
    """Load a layout file: adds and updates locations, deactivates dropped ones (refused if
    one still holds stock). Loading the same file again changes nothing."""
    # The raw body, not a pydantic parameter: a bad file must come back as LAYOUT_INVALID with
    # the same field paths (and JSON line/column) as the CLI gives.
    raw = await request.body()
    return await run_in_threadpool(_put_layout, raw, s, m)


@router.get("/locations", response_model=Envelope[LocationPage])
def get_locations(
    s: ServicesDep,
    who: Annotated[Principal, Depends(Requires("layout.read"))],
    zone: str | None = None,
    type: LocationType | None = None,
    block: str | None = None,
    aisle: Annotated[int | None, Query(ge=1)] = None,
    include_inactive: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Locations in walking order (block, aisle, bay, level, side), then explicit bins."""
    items, total = locations.list_locations(
        s.db,
        s.settings.site,
        zone=zone,
        type=type,
        block=block,
        aisle=aisle,
        include_inactive=include_inactive,
        limit=limit,
        offset=offset,
    )
    return {"data": {"items": items, "total": total, "limit": limit, "offset": offset}}


@router.get("/locations/{code}", response_model=Envelope[LocationOut])
def get_location(
    code: str, s: ServicesDep, who: Annotated[Principal, Depends(Requires("layout.read"))]
) -> dict[str, Any]:
    """One location by code, active or not (404 UNKNOWN_LOCATION)."""
    return {"data": locations.get_location(s.db, s.settings.site, code)}
