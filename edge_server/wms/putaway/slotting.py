"""Choosing the bin for stock: pure functions, no database.

The rules, in order (docs/putaway.md):

1. **Zone.** Only bins the stock may be in: available stock in storage (`pick_face`,
   `reserve`), damaged or quarantined stock in `quarantine` bins; never docks, staging,
   packing or returns. The bin's temperature class must be the item's; hazardous items only
   where `hazmat_allowed` (and other items go there only when nothing else has room, to keep
   that space for what needs it). Bins reported full for this task are left out.
2. **Consolidation.** A bin already holding the same item and lot comes first.
3. **Velocity.** Candidate bins are ranked by walking distance from the depot and cut in
   thirds: A items belong in the nearest third, B in the middle, C in the farthest.
4. **Capacity.** Volume (item dimensions × quantity), weight and distinct SKUs must fit,
   counting the stock already in the bin and the open tasks' reservations. A bin without a
   limit has room; an item without dimensions or weight is not limited by that measure.
5. **Travel.** Among equals, the bin nearest (walking) to the worker's position.

Capacity is a filter, not a preference: a bin too small for the whole quantity is only used
when no bin holds all of it (the caller then splits the quantity over several bins).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "BAND_NAMES",
    "QUARANTINE_STATUSES",
    "STORAGE_TYPES",
    "BinState",
    "Candidate",
    "ItemProfile",
    "Suggestion",
    "choose_bin",
    "room_for",
    "target_band",
    "velocity_bands",
    "zone_refusal",
]

STORAGE_TYPES = frozenset({"pick_face", "reserve"})
QUARANTINE_TYPES = frozenset({"quarantine"})
QUARANTINE_STATUSES = frozenset({"damaged", "quarantine"})
BAND_NAMES = ("nearest third", "middle third", "farthest third")
_VELOCITY_BAND = {"A": 0, "B": 1, "C": 2}


@dataclass(frozen=True, slots=True)
class ItemProfile:
    """What slotting needs to know about an item."""

    item_id: int
    sku: str
    velocity: str = "C"
    temperature_class: str = "ambient"
    hazmat: bool = False
    unit_volume_cm3: float | None = None
    unit_weight_kg: float | None = None


@dataclass(slots=True)
class BinState:
    """A bin and what is in it or on its way to it (stock + open tasks' reservations)."""

    location_id: int
    code: str
    type: str
    temperature_class: str = "ambient"
    hazmat_allowed: bool = False
    max_volume_cm3: float | None = None
    max_weight_kg: float | None = None
    max_skus: int | None = None
    used_volume_cm3: float = 0.0
    used_weight_kg: float = 0.0
    item_ids: set[int] = field(default_factory=set)
    # (item id, lot) -> units of stock already in the bin (reservations not included)
    lots: dict[tuple[int, str], int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Candidate:
    code: str
    location_id: int
    fits: int | None  # units of the item that fit; None: no limit applies
    same_lot_qty: int  # units of the same item and lot already there
    band: int  # 0 nearest … 2 farthest third from the depot
    depot_m: float
    travel_m: float  # from the worker's position
    hazmat_cage: bool = False  # a hazmat bin offered to a non-hazardous item: last resort

    def as_dict(self) -> dict[str, object]:
        return {
            "location": self.code,
            "fits": self.fits,
            "consolidates_qty": self.same_lot_qty,
            "band": BAND_NAMES[self.band],
            "depot_m": round(self.depot_m, 1),
            "travel_m": round(self.travel_m, 1),
        }


@dataclass(frozen=True, slots=True)
class Suggestion:
    """The chosen bin (None: nothing compatible has room), how many units go there, the ranked
    alternates and the reason in words."""

    bin: Candidate | None
    qty: int
    alternates: tuple[Candidate, ...]
    reason: str


def allowed_types(status: str) -> frozenset[str]:
    return QUARANTINE_TYPES if status in QUARANTINE_STATUSES else STORAGE_TYPES


def zone_refusal(item: ItemProfile, status: str, b: BinState) -> str | None:
    """Why stock of `item` with `status` may not go into `b` (rule 1), or None if it may."""
    if b.type not in allowed_types(status):
        if status in QUARANTINE_STATUSES:
            return f"{status} stock goes to a quarantine bin, and {b.code} is {b.type}"
        return f"{b.code} is a {b.type} location, not storage"
    if b.temperature_class != item.temperature_class:
        return (
            f"{item.sku} is stored {item.temperature_class} and {b.code} is {b.temperature_class}"
        )
    if item.hazmat and not b.hazmat_allowed:
        return f"{item.sku} is hazardous and {b.code} does not allow hazardous goods"
    return None


def room_for(item: ItemProfile, b: BinState) -> int | None:
    """Units of `item` that still fit in `b` (rule 4); None when no limit applies."""
    limits: list[int] = []
    if b.max_skus is not None and item.item_id not in b.item_ids and len(b.item_ids) >= b.max_skus:
        return 0
    if b.max_volume_cm3 is not None and item.unit_volume_cm3:
        free = b.max_volume_cm3 - b.used_volume_cm3
        limits.append(max(0, math.floor(free / item.unit_volume_cm3 + 1e-9)))
    if b.max_weight_kg is not None and item.unit_weight_kg:
        free = b.max_weight_kg - b.used_weight_kg
        limits.append(max(0, math.floor(free / item.unit_weight_kg + 1e-9)))
    return min(limits) if limits else None


#: The active area is this many times the bins in use (room to grow before C spills far).
ACTIVE_HEADROOM = 1.5
#: ... and at least this share of the bins, so an empty site still spreads A, B and C.
ACTIVE_MIN_SHARE = 0.2


def velocity_bands(
    depot_m: Sequence[float], *, occupied: int | None = None
) -> Callable[[float], int]:
    """A function mapping a depot distance to its velocity band: 0 nearest, 1, 2 farthest.

    The bands are thirds of the *active area*: the nearest bins enough to hold what is stored
    (`occupied` bins, with ACTIVE_HEADROOM to spare, at least ACTIVE_MIN_SHARE of all bins).
    Cutting all bins into thirds would send C items to the far end of a half-empty building
    and make every trip longer than simply taking the nearest bin with room; banding the
    active area keeps the whole stock near the depot and still puts A nearest. Bins beyond
    the active area count as the farthest band. Without `occupied`, all bins are banded."""
    ordered = sorted(depot_m)
    n = len(ordered)
    if occupied is None:
        active = n
    else:
        active = min(n, max(math.ceil(occupied * ACTIVE_HEADROOM), math.ceil(n * ACTIVE_MIN_SHARE)))

    def band(d: float) -> int:
        if active == 0:
            return 0
        return min(2, 3 * bisect_left(ordered, d) // active)

    return band


def target_band(velocity: str) -> int:
    return _VELOCITY_BAND.get(velocity, 2)


def choose_bin(
    item: ItemProfile,
    qty: int,
    *,
    lot: str,
    status: str,
    bins: Sequence[BinState],
    depot_m: Mapping[str, float],
    travel_from: Callable[[str], float],
    position: str | None = None,
    exclude: Collection[str] = (),
    alternates: int = 5,
) -> Suggestion:
    """The bin for `qty` of `item` (+ `lot`, `status`) by the rules above.

    `depot_m` gives each bin's walking distance from the depot, `travel_from(code)` the
    distance from the worker's `position` to a bin."""
    compatible = [
        b for b in bins if b.code not in exclude and zone_refusal(item, status, b) is None
    ]
    if not compatible:
        return Suggestion(None, 0, (), _no_bin(item, status, "no compatible bin"))
    occupied = sum(1 for b in compatible if b.item_ids or b.used_volume_cm3 > 0)
    band_of = velocity_bands([depot_m[b.code] for b in compatible], occupied=occupied)
    want = target_band(item.velocity)
    # Ranked as plain tuples (a few thousand bins per call); Candidates only for the winners.
    # pool: 0 whole quantity fits, 1 part of it; +2 for a hazmat cage offered to a harmless
    # item, used only when no other bin has room even for part.
    keyed: list[tuple[int, int, int, float, float, str, int | None, BinState]] = []
    bands_seen: set[int] = set()
    for b in compatible:
        d = depot_m[b.code]
        band = band_of(d)
        bands_seen.add(band)
        fits = room_for(item, b)
        if fits == 0:
            continue
        pool = (0 if fits is None or fits >= qty else 1) + (
            2 if b.hazmat_allowed and not item.hazmat else 0
        )
        same = b.lots.get((item.item_id, lot), 0)
        keyed.append(
            (pool, 0 if same else 1, abs(band - want), travel_from(b.code), d, b.code, fits, b)
        )
    if not keyed:
        return Suggestion(None, 0, (), _no_bin(item, status, "no compatible bin has room"))
    first_pool = min(k[0] for k in keyed)
    ranked = sorted(k for k in keyed if k[0] == first_pool)[: 1 + alternates]

    def candidate(k: tuple[int, int, int, float, float, str, int | None, BinState]) -> Candidate:
        b = k[7]
        return Candidate(
            code=b.code,
            location_id=b.location_id,
            fits=k[6],
            same_lot_qty=b.lots.get((item.item_id, lot), 0),
            band=band_of(k[4]),
            depot_m=k[4],
            travel_m=k[3],
            hazmat_cage=b.hazmat_allowed and not item.hazmat,
        )

    pool_list = [candidate(k) for k in ranked]
    best = pool_list[0]
    placed = qty if best.fits is None else min(qty, best.fits)
    if len(compatible) < 3:
        velocity_note = "velocity: no choice"
    elif best.band == want:
        velocity_note = ""
    elif want in bands_seen:
        velocity_note = f"the {BAND_NAMES[want]} has no room"
    else:
        velocity_note = f"its area has no {BAND_NAMES[want]}"
    reason = _reason(item, lot, status, best, velocity_note, placed, qty, position)
    return Suggestion(best, placed, tuple(pool_list[1:]), reason)


def _no_bin(item: ItemProfile, status: str, what: str) -> str:
    where = "quarantine" if status in QUARANTINE_STATUSES else item.temperature_class
    hazard = ", hazmat" if item.hazmat else ""
    return f"{what} for {item.sku} ({status}, {where}{hazard})"


def _reason(
    item: ItemProfile,
    lot: str,
    status: str,
    c: Candidate,
    velocity_note: str,
    placed: int,
    qty: int,
    position: str | None,
) -> str:
    parts: list[str] = []
    if status in QUARANTINE_STATUSES:
        parts.append(f"{status} stock goes to quarantine")
    if c.same_lot_qty:
        lot_text = f" lot {lot}" if lot else ""
        parts.append(
            f"consolidates with {c.same_lot_qty} of {item.sku}{lot_text} already in {c.code}"
        )
    if velocity_note == "velocity: no choice":
        parts.append(f"{item.velocity} item, {c.depot_m:.0f} m from the depot")
    else:
        note = f" ({velocity_note})" if velocity_note else ""
        parts.append(
            f"{item.velocity} item, {BAND_NAMES[c.band]}{note}: {c.depot_m:.0f} m from the depot"
        )
    if position:
        parts.append(f"{c.travel_m:.0f} m from {position}")
    if placed < qty:
        parts.append(f"room for {placed} of {qty}; the rest goes to another bin")
    return "; ".join(parts)
