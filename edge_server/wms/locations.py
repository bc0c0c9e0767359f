"""Reading a site's locations (bins): one by code, or a filtered page."""

from __future__ import annotations

from typing import Any

from edge_server.db import Database
from edge_server.errors import AislewayError
from protocols.errors import ErrorCode

__all__ = ["get_location", "list_locations"]

_SELECT = """
SELECT l.id, l.code, l.type, z.code AS zone, l.block, l.aisle, l.bay, l.level, l.side, l.x, l.y,
       l.max_volume_cm3, l.max_weight_kg, l.max_skus, l.temperature_class, l.hazmat_allowed,
       l.active
FROM locations l
JOIN sites s ON s.id = l.site_id
LEFT JOIN zones z ON z.id = l.zone_id
"""


def _out(row: dict[str, Any]) -> dict[str, Any]:
    row["hazmat_allowed"] = bool(row["hazmat_allowed"])
    row["active"] = bool(row["active"])
    return row


def get_location(db: Database, site: str, code: str) -> dict[str, Any]:
    """A location of `site` by code, active or not; UNKNOWN_LOCATION if there is none."""
    row = db.query_one(_SELECT + "WHERE s.code = ? AND l.code = ?", [site, code])
    if row is None:
        raise AislewayError(ErrorCode.UNKNOWN_LOCATION, details={"code": code})
    return _out(row)


def list_locations(
    db: Database,
    site: str,
    *,
    zone: str | None = None,
    type: str | None = None,
    block: str | None = None,
    aisle: int | None = None,
    include_inactive: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """A page of `site`'s locations in code order, and the total matching the filters."""
    where = ["s.code = ?"]
    params: list[Any] = [site]
    for column, value in (("z.code", zone), ("l.type", type), ("l.block", block)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if aisle is not None:
        where.append("l.aisle = ?")
        params.append(aisle)
    if not include_inactive:
        where.append("l.active = 1")
    clause = "WHERE " + " AND ".join(where)
    total_row = db.query_one(
        "SELECT COUNT(*) AS n FROM locations l JOIN sites s ON s.id = l.site_id "
        "LEFT JOIN zones z ON z.id = l.zone_id " + clause,
        params,
    )
    assert total_row is not None
    rows = db.query(
        _SELECT
        + clause
        + " ORDER BY l.block IS NULL, l.block, l.aisle, l.bay, l.level, l.side, l.code"
        " LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return [_out(r) for r in rows], int(total_row["n"])
