"""Pick tasks: a routed trip over the orders' allocations (interface fixed; the
implementation lands with the picking scenario)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlite_utils import Database as SUDatabase

__all__ = ["Strategy", "create_pick_task"]

Strategy = Literal["discrete", "batch", "zone"]


def create_pick_task(
    w: SUDatabase,
    site: str,
    *,
    strategy: Strategy,
    order_ids: Sequence[int],
    wave_id: int | None = None,
    zone: str | None = None,
) -> int:
    """Create one task picking the current allocations of `order_ids` (only those in `zone`
    when given), cart positions 1..N in the given order, lines in route order from the depot
    and back; returns the task id. Orders move to status `picking`."""
    raise NotImplementedError
