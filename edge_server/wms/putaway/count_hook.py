"""Opportunistic counts asked for by putaway: the interface the counting module fills.

After every confirmed putaway, inside its write transaction:

1. the built-in rule: with `count_every_nth_putaway = N > 0`, the Nth, 2Nth, … putaway into a
   bin (counted from the ledger's `putaway` movements into it) writes a `count_requests` row
   (`requested_by = 'putaway'`, `reason = 'nth_putaway'`);
2. every function in `on_putaway_confirmed` is called with `(w, PutawayConfirmed)`. Counting
   registers here to decide for itself (e.g. "the bin holds a lot near expiry"); a hook that
   raises rolls the putaway back, so hooks must only add work, never refuse.

A "bin full" report also writes a request (`reason = 'bin_full'`): the books said it had room.
Each request becomes a count task at once (`edge_server.wms.counting.tasks.task_for_request`);
the request stays `open` until a count of the bin is submitted, then it is `taken`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.timeutil import iso

__all__ = [
    "PutawayConfirmed",
    "PutawayHook",
    "after_putaway",
    "on_putaway_confirmed",
    "request_count",
]


@dataclass(frozen=True, slots=True)
class PutawayConfirmed:
    site: str
    task_id: int
    location_id: int
    location: str
    item_id: int
    sku: str
    lot: str
    qty: int
    suggested: str | None
    override_reason: str | None

    def payload(self) -> dict[str, Any]:
        """The `putaway.confirmed` event's payload (ids are internal, so left out)."""
        data = asdict(self)
        data.pop("location_id")
        data.pop("item_id")
        return data


PutawayHook = Callable[[SUDatabase, PutawayConfirmed], None]
on_putaway_confirmed: list[PutawayHook] = []


def request_count(
    w: SUDatabase,
    *,
    site_id: int,
    location_id: int,
    item_id: int | None,
    reason: str,
    ref: str = "",
    requested_by: str = "putaway",
    assigned_to: int | None = None,
) -> int:
    """Ask for a count of a bin (one open request per bin is enough; returns its id). The
    counting module makes its count task at once, in the same transaction, given to
    `assigned_to` when the worker who is at the bin is known (docs/counting.md)."""
    # Imported here: counting builds on the ledger and inventory modules putaway uses.
    from edge_server.wms.counting.tasks import task_for_request

    row = w.execute(
        "SELECT id FROM count_requests WHERE location_id = ? AND status = 'open'", [location_id]
    ).fetchone()
    if row is not None:
        request_id = int(row[0])
    else:
        cur = w.execute(
            "INSERT INTO count_requests (site_id, location_id, item_id, requested_by, reason, "
            "ref, created_at) VALUES (?,?,?,?,?,?,?)",
            [site_id, location_id, item_id, requested_by, reason, ref, iso()],
        )
        request_id = int(cur.lastrowid or 0)
    task_for_request(w, request_id, assigned_to=assigned_to)
    return request_id


def after_putaway(
    w: SUDatabase,
    event: PutawayConfirmed,
    *,
    count_every_nth: int,
    assigned_to: int | None = None,
) -> int | None:
    """Run the built-in rule and the registered hooks; returns the count request made, if any
    (its count task goes to `assigned_to`, the putaway worker standing at the bin)."""
    made: int | None = None
    if count_every_nth > 0:
        n = w.execute(
            "SELECT COUNT(*) FROM movements WHERE type = 'putaway' AND to_location_id = ?",
            [event.location_id],
        ).fetchone()[0]
        if n % count_every_nth == 0:
            site_id = w.execute(
                "SELECT site_id FROM locations WHERE id = ?", [event.location_id]
            ).fetchone()[0]
            made = request_count(
                w,
                site_id=site_id,
                location_id=event.location_id,
                item_id=event.item_id,
                reason="nth_putaway",
                ref=f"task-{event.task_id}",
                assigned_to=assigned_to,
            )
    for hook in list(on_putaway_confirmed):
        hook(w, event)
    return made
