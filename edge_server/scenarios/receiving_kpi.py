"""Receiving accuracy: the share of lines received as the PO said, without correction.

The definition (what a line is, what "without correction" means) is in docs/receiving.md;
the counting query is `receiving_repo.accuracy_rows`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from edge_server.db import Database
from edge_server.scenarios.receiving_repo import accuracy_rows
from edge_server.timeutil import utcnow

DEFAULT_DAYS = 7


def _pct(accurate: int, lines: int) -> float | None:
    return round(100.0 * accurate / lines, 2) if lines else None


def receiving_accuracy(
    db: Database,
    *,
    target: float,
    day_from: date | None = None,
    day_to: date | None = None,
    receiver: str | None = None,
) -> dict[str, Any]:
    """Per day and receiver, and overall, for UTC days `day_from`..`day_to` (inclusive;
    default: the last 7 days up to today)."""
    day_to = day_to or utcnow().date()
    day_from = day_from or day_to - timedelta(days=DEFAULT_DAYS - 1)
    rows = accuracy_rows(db, day_from.isoformat(), day_to.isoformat(), receiver)
    days = []
    for r in rows:
        pct = _pct(int(r["accurate"]), int(r["lines"]))
        days.append(
            {
                "day": r["day"],
                "receiver": r["receiver"],
                "lines": int(r["lines"]),
                "accurate": int(r["accurate"]),
                "accuracy_pct": pct,
                "meets_target": pct is not None and pct >= target,
            }
        )
    lines = sum(d["lines"] for d in days)
    accurate = sum(d["accurate"] for d in days)
    pct = _pct(accurate, lines)
    return {
        "from": day_from.isoformat(),
        "to": day_to.isoformat(),
        "receiver": receiver,
        "target_pct": target,
        "overall": {
            "lines": lines,
            "accurate": accurate,
            "accuracy_pct": pct,
            "meets_target": pct is not None and pct >= target,
        },
        "days": days,
    }
