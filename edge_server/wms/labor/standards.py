"""Labor standards: the expected rate of each task type, in its unit (docs/labor.md)."""

from __future__ import annotations

import math
from typing import Any, Literal, get_args

from sqlite_utils import Database as SUDatabase

from edge_server.errors import AislewayError
from edge_server.timeutil import iso
from edge_server.wms.labor.recording import TASK_TYPES
from edge_server.wms.ledger import Actor
from edge_server.wms.purchase_orders import Source, fetch_rows
from protocols.errors import ErrorCode

__all__ = ["DEFAULTS", "RATE_UNITS", "RateUnit", "list_standards", "set_standard", "standards_map"]

RateUnit = Literal["units", "lines", "tasks"]
RATE_UNITS: tuple[str, ...] = get_args(RateUnit)

# The seeded standards (migration m096); docs/labor.md#standards explains the choice.
DEFAULTS: dict[str, tuple[RateUnit, float]] = {
    "pick": ("units", 120.0),
    "receive": ("lines", 60.0),
    "pack": ("tasks", 30.0),
    "putaway": ("tasks", 40.0),
    "replenish": ("tasks", 30.0),
    "count": ("lines", 80.0),
    "return": ("units", 20.0),
}


def _view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "task_type": row["task_type"],
        "unit": row["unit"],
        "per_hour": float(row["per_hour"]),
        "updated_at": row["updated_at"],
        "updated_by": row["updated_by"],
    }


def list_standards(source: Source) -> list[dict[str, Any]]:
    """Every task type's standard, in TASK_TYPES order."""
    rows = {r["task_type"]: r for r in fetch_rows(source, "SELECT * FROM labor_standards")}
    return [_view(rows[t]) for t in TASK_TYPES if t in rows]


def standards_map(source: Source) -> dict[str, tuple[str, float]]:
    """task type → (unit, per hour)."""
    return {s["task_type"]: (s["unit"], s["per_hour"]) for s in list_standards(source)}


def set_standard(
    w: SUDatabase, task_type: str, *, per_hour: float, unit: str | None, actor: Actor
) -> dict[str, Any]:
    """Change a task type's standard (and, when given, its unit). Refuses an unknown task type
    (LABOR_TASK_TYPE_UNKNOWN) and a rate that is not a positive finite number or an unknown
    unit (LABOR_STANDARD_INVALID); nothing changes then."""
    if task_type not in TASK_TYPES:
        raise AislewayError(
            ErrorCode.LABOR_TASK_TYPE_UNKNOWN,
            details={"task_type": task_type, "task_types": list(TASK_TYPES)},
        )
    if not math.isfinite(per_hour) or per_hour <= 0:
        raise AislewayError(ErrorCode.LABOR_STANDARD_INVALID, details={"per_hour": str(per_hour)})
    if unit is not None and unit not in RATE_UNITS:
        raise AislewayError(
            ErrorCode.LABOR_STANDARD_INVALID, details={"unit": unit, "units": list(RATE_UNITS)}
        )
    w.execute(
        "INSERT INTO labor_standards (task_type, unit, per_hour, updated_at, updated_by) "
        "VALUES (?,?,?,?,?) ON CONFLICT (task_type) DO UPDATE SET "
        "unit = COALESCE(?, unit), per_hour = excluded.per_hour, "
        "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        [
            task_type,
            unit or DEFAULTS[task_type][0],
            per_hour,
            iso(),
            actor.user_id,
            unit,
        ],
    )
    row = fetch_rows(w, "SELECT * FROM labor_standards WHERE task_type = ?", [task_type])[0]
    return _view(row)
