"""Locations and the site layout as the edge server's layout API returns them.

The layout file's own schema lives with the edge server (`edge_server.wms.layout`) and is
documented in docs/layout.md.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["LayoutLoadOut", "LayoutOut", "LocationOut", "LocationPage"]


class LocationOut(BaseModel):
    """A bin or other location. Rack bins fill block..side; explicit bins leave them null."""

    code: str = Field(description="e.g. A03-07-2L (rack bin) or DOCK-01")
    type: str = Field(description="pick_face, reserve, receiving_dock, staging, packing, ...")
    zone: str | None
    block: str | None
    aisle: int | None
    bay: int | None
    level: int | None
    side: str | None = Field(description="L or R of the aisle")
    x: float = Field(description="pick point x, metres")
    y: float = Field(description="pick point y, metres")
    max_volume_cm3: float | None
    max_weight_kg: float | None
    max_skus: int | None
    temperature_class: str
    hazmat_allowed: bool
    active: bool = Field(description="false once a newer layout dropped it")


class LocationPage(BaseModel):
    items: list[LocationOut]
    total: int = Field(description="locations matching the filters, all pages")
    limit: int
    offset: int


class LayoutOut(BaseModel):
    site: str
    summary: dict[str, Any] = Field(description="blocks, cross aisles, bins by type and zone")
    locations: dict[str, int] = Field(description="active and inactive location counts")
    file: dict[str, Any] = Field(description="the layout file as loaded")


class LayoutLoadOut(BaseModel):
    """What loading a layout did."""

    site: str
    changed: bool
    dry_run: bool
    bins: int
    added: int
    updated: int
    reactivated: int
    deactivated: int
    unchanged: int
    zones_added: int
    by_type: dict[str, int]
    by_zone: dict[str, int]
