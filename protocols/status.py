"""The one OMS⇄WMS status map: edge events → an order's status and journey, pure (no I/O).

A sales order in the OMS ships as one or more fulfillment orders (FOs), one per site. Each
site's edge server reports its FO through signed webhooks; `map_event` says which OMS status
an event means, `advance` applies it without ever moving an FO backwards (webhooks can arrive
late or out of order after retries), and `rollup` gives the sales order's status from the
statuses of its FOs (a split order ships from several sites). docs/status-map.md is rendered
from `STATUS_MAP` by `render_markdown` (`make docs`); a test fails when it is stale, and a
test fails when the map changes without a new `STATUS_MAP_VERSION`.

Statuses are ranked along the order's journey. Before release the OMS sets the status itself
(intake, payment, reservation); from release on, edge events drive it:

    received → backordered → partially_reserved → reserved → released → short_at_site
    → allocated → wave_planned → picking → packed → (partially_shipped) → shipped
    → delivered → return_received → returned;     cancelled: terminal, only before picking.

The first four are the OMS's own (edge_server/oms/orders.py sets them; payment is the order's
`payment_status`, shown as the journey's first step).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

__all__ = [
    "EVENT_TYPES",
    "FO_STATUSES",
    "JOURNEY_STEPS",
    "STATUS_MAP",
    "STATUS_MAP_VERSION",
    "MapRow",
    "OmsStatus",
    "Transition",
    "advance",
    "fingerprint",
    "journey_step",
    "map_event",
    "map_row",
    "rank",
    "render_markdown",
    "rollup",
]

#: Bumped whenever a status, its rank or a row of the map changes (a test pins the fingerprint).
STATUS_MAP_VERSION = "1"

#: The edge's fulfillment-order statuses (edge_server/wms/outbound/orders.py FO_STATUSES).
FO_STATUSES = ("received", "allocated", "backordered", "picking", "packed", "shipped", "cancelled")


class OmsStatus(StrEnum):
    """A sales order's (and each of its fulfillment orders') status in the OMS."""

    RECEIVED = "received"
    BACKORDERED = "backordered"
    PARTIALLY_RESERVED = "partially_reserved"
    RESERVED = "reserved"
    RELEASED = "released"
    SHORT_AT_SITE = "short_at_site"
    ALLOCATED = "allocated"
    WAVE_PLANNED = "wave_planned"
    PICKING = "picking"
    PACKED = "packed"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    RETURN_RECEIVED = "return_received"
    RETURNED = "returned"
    CANCELLED = "cancelled"


# Journey order; `cancelled` is outside it (terminal, see `advance`).
_ORDER = (
    OmsStatus.RECEIVED,
    OmsStatus.BACKORDERED,
    OmsStatus.PARTIALLY_RESERVED,
    OmsStatus.RESERVED,
    OmsStatus.RELEASED,
    OmsStatus.SHORT_AT_SITE,
    OmsStatus.ALLOCATED,
    OmsStatus.WAVE_PLANNED,
    OmsStatus.PICKING,
    OmsStatus.PACKED,
    OmsStatus.PARTIALLY_SHIPPED,
    OmsStatus.SHIPPED,
    OmsStatus.DELIVERED,
    OmsStatus.RETURN_RECEIVED,
    OmsStatus.RETURNED,
)
_RANK = {status: i for i, status in enumerate(_ORDER)}

#: What each status means, for the table (and for API docs of the orders module).
_MEANING: dict[OmsStatus, str] = {
    OmsStatus.RECEIVED: "taken from the channel (OMS)",
    OmsStatus.BACKORDERED: "nothing reservable yet; backorders fill oldest first (OMS)",
    OmsStatus.PARTIALLY_RESERVED: "part reserved, the rest backordered (OMS)",
    OmsStatus.RESERVED: "available-to-promise reserved at the chosen site(s) (OMS)",
    OmsStatus.RELEASED: "the fulfillment order reached the edge (edge `received`)",
    OmsStatus.SHORT_AT_SITE: "the site accepted it but could not allocate all of it yet",
    OmsStatus.ALLOCATED: "the site allocated bins and lots to every line",
    OmsStatus.WAVE_PLANNED: "in a planned wave for its carrier cutoff",
    OmsStatus.PICKING: "its wave was released; picking has started",
    OmsStatus.PACKED: "every carton sealed",
    OmsStatus.PARTIALLY_SHIPPED: "order level only: some of its fulfillment orders shipped",
    OmsStatus.SHIPPED: "ship confirm: cartons and tracking numbers known",
    OmsStatus.DELIVERED: "the carrier reports delivery",
    OmsStatus.RETURN_RECEIVED: "returned goods were received at a site",
    OmsStatus.RETURNED: "the return (RMA) was closed; refund due",
    OmsStatus.CANCELLED: "cancelled before picking (terminal)",
}

#: The journey the API shows, in order; each step but `payment` (the order's `payment_status`)
#: is reached by the statuses mapped to it.
JOURNEY_STEPS = (
    "payment",
    "reserved",
    "released",
    "wave_planned",
    "picking",
    "packed",
    "shipped",
    "delivered",
    "returned",
)
_STEP: dict[OmsStatus, str] = {
    OmsStatus.RESERVED: "reserved",
    OmsStatus.RELEASED: "released",
    OmsStatus.SHORT_AT_SITE: "released",
    OmsStatus.ALLOCATED: "released",
    OmsStatus.WAVE_PLANNED: "wave_planned",
    OmsStatus.PICKING: "picking",
    OmsStatus.PACKED: "packed",
    OmsStatus.PARTIALLY_SHIPPED: "shipped",
    OmsStatus.SHIPPED: "shipped",
    OmsStatus.DELIVERED: "delivered",
    OmsStatus.RETURN_RECEIVED: "returned",
    OmsStatus.RETURNED: "returned",
}

Source = Literal["edge", "carrier"]


@dataclass(frozen=True)
class MapRow:
    """One row of the map: an event (and the payload's `status`, when it matters) → status."""

    event: str
    status: str | None  # the payload's `status`; None: any / not used
    oms: OmsStatus | None  # None: recorded in the journey, no status change
    orders_from: str  # which payload field names the fulfillment order(s)
    source: Source
    note: str


def _fo_row(status: str, oms: OmsStatus | None, note: str) -> MapRow:
    return MapRow("fulfillment_order.changed", status, oms, "`number`", "edge", note)


#: The map. `render_markdown` turns it into docs/status-map.md.
STATUS_MAP: tuple[MapRow, ...] = (
    _fo_row("received", OmsStatus.RELEASED, "created or replaced at the site"),
    _fo_row("backordered", OmsStatus.SHORT_AT_SITE, "allocation left a line short"),
    _fo_row("allocated", OmsStatus.ALLOCATED, "every line allocated"),
    _fo_row("picking", OmsStatus.PICKING, "a pick task took the order"),
    _fo_row("packed", OmsStatus.PACKED, "the last carton was sealed"),
    _fo_row("shipped", OmsStatus.SHIPPED, "ship confirm (after `shipment.created`)"),
    _fo_row("cancelled", OmsStatus.CANCELLED, "cancelled before picking; `released` units"),
    MapRow(
        "fulfillment_order.backordered",
        None,
        None,
        "`number`",
        "edge",
        "short lines noted in the journey; the status comes with `fulfillment_order.changed`",
    ),
    MapRow("wave.planned", None, OmsStatus.WAVE_PLANNED, "`added`", "edge", "joined a wave"),
    MapRow("wave.released", None, OmsStatus.PICKING, "`orders`", "edge", "pick tasks created"),
    MapRow(
        "wave.cancelled",
        None,
        None,
        "`orders`",
        "edge",
        "noted only: the order is planned again at the next plan, never moved back",
    ),
    MapRow(
        "shipment.created",
        None,
        OmsStatus.SHIPPED,
        "`number`",
        "edge",
        "cartons with SSCC and tracking numbers",
    ),
    MapRow(
        "tracking.delivered",
        None,
        OmsStatus.DELIVERED,
        "`number`",
        "carrier",
        "the carrier's tracking reports delivery",
    ),
    MapRow(
        "return.received",
        None,
        OmsStatus.RETURN_RECEIVED,
        "`order`",
        "edge",
        "each return posting; `sellable_qty` raises availability",
    ),
    MapRow("return.closed", None, OmsStatus.RETURNED, "`order`", "edge", "RMA closed: refund"),
    MapRow("return.cancelled", None, None, "`order`", "edge", "noted only: the RMA was withdrawn"),
)

#: Every event type the map knows.
EVENT_TYPES = tuple(dict.fromkeys(row.event for row in STATUS_MAP))

_BY_KEY: dict[tuple[str, str | None], MapRow] = {(r.event, r.status): r for r in STATUS_MAP}


def rank(status: OmsStatus) -> int:
    """Position along the journey; `cancelled` ranks after everything (it is terminal)."""
    return _RANK.get(status, len(_ORDER))


def journey_step(status: OmsStatus) -> str | None:
    """The step of `JOURNEY_STEPS` a status reaches (None: not reserved yet, or cancelled)."""
    return _STEP.get(status)


def map_row(event_type: str, payload_status: str | None = None) -> MapRow | None:
    """The row for an event (and its payload `status`, for `fulfillment_order.changed`)."""
    return _BY_KEY.get((event_type, payload_status)) or _BY_KEY.get((event_type, None))


def map_event(event_type: str, payload_status: str | None = None) -> OmsStatus | None:
    """The OMS status an edge event means; None when it changes no status or is unknown."""
    row = map_row(event_type, payload_status)
    return row.oms if row else None


TransitionReason = Literal["advanced", "unchanged", "stale", "terminal", "conflict", "noted"]


@dataclass(frozen=True)
class Transition:
    """What applying one event did to one fulfillment order."""

    before: OmsStatus
    after: OmsStatus
    reason: TransitionReason
    step: str | None  # journey step the event reached, for the order's history

    @property
    def changed(self) -> bool:
        return self.before != self.after


def advance(
    current: OmsStatus, event_type: str, payload_status: str | None = None
) -> Transition | None:
    """Apply an edge event to a fulfillment order in status `current`. None: the event type
    (or payload status) is not in the map. Rules:

    - forward along the journey only: an event whose status ranks at or below the current
      one is `stale` (a late or repeated webhook) and changes nothing;
    - `cancelled` is terminal; a cancel is taken only before picking (the edge refuses one
      later), and after picking it is a `conflict` and changes nothing;
    - rows without a status (`fulfillment_order.backordered`, `wave.cancelled`) are `noted`.
    """
    row = map_row(event_type, payload_status)
    if row is None:
        return None
    if row.oms is None:
        return Transition(current, current, "noted", None)
    target = row.oms
    step = journey_step(target)
    if current == OmsStatus.CANCELLED:
        reason: TransitionReason = "unchanged" if target == current else "terminal"
        return Transition(current, current, reason, None)
    if target == OmsStatus.CANCELLED:
        if rank(current) >= rank(OmsStatus.PICKING):
            return Transition(current, current, "conflict", None)
        return Transition(current, target, "advanced", None)
    if target == current:
        return Transition(current, current, "unchanged", step)
    if rank(target) < rank(current):
        return Transition(current, current, "stale", step)
    return Transition(current, target, "advanced", step)


def rollup(statuses: Iterable[OmsStatus]) -> OmsStatus | None:
    """A sales order's status from its fulfillment orders' statuses (None: it has none).

    Cancelled FOs are ignored unless all are cancelled (a re-sourced FO is cancelled and a new
    one sent). Otherwise the least advanced FO gives the status, except: some shipped and some
    not → `partially_shipped`; all shipped → `delivered` only when all are delivered; once all
    shipped, any return → `return_received`, and `returned` when every FO's return is closed.
    """
    given = list(statuses)
    if not given:
        return None
    live = [s for s in given if s != OmsStatus.CANCELLED]
    if not live:
        return OmsStatus.CANCELLED
    low = min(live, key=rank)
    shipped = rank(OmsStatus.SHIPPED)
    if rank(low) >= shipped:
        if all(s == OmsStatus.RETURNED for s in live):
            return OmsStatus.RETURNED
        if any(rank(s) >= rank(OmsStatus.RETURN_RECEIVED) for s in live):
            return OmsStatus.RETURN_RECEIVED
        return low
    if any(rank(s) >= shipped for s in live):
        return OmsStatus.PARTIALLY_SHIPPED
    return low


def _table_lines() -> list[str]:
    lines = [
        "| event | payload `status` | OMS status | journey step | fulfillment order(s) from "
        "| source | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in STATUS_MAP:
        payload = f"`{row.status}`" if row.status else "—"
        oms = f"`{row.oms.value}`" if row.oms else "— (no change)"
        step = (journey_step(row.oms) if row.oms else None) or "—"
        lines.append(
            f"| `{row.event}` | {payload} | {oms} | {step} | {row.orders_from} | {row.source} "
            f"| {row.note} |"
        )
    return lines


def _status_lines() -> list[str]:
    lines = ["| rank | OMS status | journey step | meaning |", "|---|---|---|---|"]
    for status in (*_ORDER, OmsStatus.CANCELLED):
        shown = "terminal" if status == OmsStatus.CANCELLED else str(rank(status))
        lines.append(
            f"| {shown} | `{status.value}` | {journey_step(status) or '—'} | {_MEANING[status]} |"
        )
    return lines


def render_markdown() -> str:
    """The generated part of docs/status-map.md: the version, the statuses and the map."""
    out = [
        f"Status map version **{STATUS_MAP_VERSION}** (fingerprint `{fingerprint()}`).",
        "",
        "### OMS statuses, in journey order",
        "",
        *_status_lines(),
        "",
        "### Edge events → OMS status",
        "",
        *_table_lines(),
        "",
        "Edge fulfillment-order statuses covered: "
        + ", ".join(f"`{s}`" for s in FO_STATUSES)
        + ".",
    ]
    return "\n".join(out) + "\n"


def fingerprint() -> str:
    """A short hash of the statuses, their ranks and the map: changes when any of them does."""
    text = "\n".join(
        [*(f"{s.value}:{rank(s)}:{journey_step(s)}" for s in OmsStatus), *map(repr, STATUS_MAP)]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]
