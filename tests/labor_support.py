"""Labor tests: scan times set by the test (`X-Scanned-At`) and the labor API read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import Caller, assert_response

API = "/api/v1"
# Far enough in the past that every scan time a test sets is before now (a future one would be
# clamped), on a known minute so the hour of every scan is BASE.hour.
BASE = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=10, second=0, microsecond=0)
WINDOW = {
    "since": (BASE - timedelta(hours=1)).isoformat(),
    "until": (BASE + timedelta(hours=2)).isoformat(),
}


def at(who: Caller, seconds: float) -> None:
    """Every following request of `who` says it was scanned BASE + seconds."""
    who.headers["X-Scanned-At"] = (BASE + timedelta(seconds=seconds)).isoformat()


def when(seconds: float) -> str:
    return (BASE + timedelta(seconds=seconds)).isoformat(timespec="microseconds")


def labor_tasks(http: Any, boss: Caller, **params: str) -> list[dict[str, Any]]:
    resp = http.get(f"{API}/labor/tasks", params={**WINDOW, **params}, headers=boss.headers)
    items: list[dict[str, Any]] = assert_response(resp, 200)["items"]
    return items


def the_task(http: Any, boss: Caller, task_type: str, task_ref: str) -> dict[str, Any]:
    found = [
        t
        for t in labor_tasks(http, boss)
        if (t["task_type"], t["task_ref"]) == (task_type, task_ref)
    ]
    assert len(found) == 1, found
    return found[0]
