"""Pick strategy rules: how one order is picked, decided from its lines (pure).

The decision table (docs/waves.md#pick-strategies), first match wins:

1. `discrete` `bulky_item`   an item's cube >= `pick_discrete_item_cube_cm3`
2. `discrete` `over_tote`    the order's cube > `pick_tote_volume_cm3` (does not fit one tote)
3. `discrete` `many_units`   the order's units >= `pick_discrete_min_units`
4. `batch`    `fast_movers`  every line is an A-velocity item (and `pick_fast_movers_batch`)
5. `zone`     `multi_zone`   allocations span >= `pick_zone_min_zones` zones and the order has
                             >= `pick_zone_min_lines` lines
6. `batch`    `small_order`  everything else: several small orders share one cart

Item cube is length x width x height in cm from the item master; an item without all three
dimensions counts as small (cube 0): it never makes an order bulky or bigger than a tote.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edge_server.wms.outbound.pick_tasks import Strategy

if TYPE_CHECKING:
    from edge_server.settings import Settings

__all__ = ["Decision", "LineProfile", "OrderProfile", "PickRules", "choose_strategy", "item_cube"]


@dataclass(frozen=True, slots=True)
class PickRules:
    """The thresholds of the decision table, from settings (`pick_*`)."""

    discrete_item_cube_cm3: float = 30000.0
    discrete_min_units: int = 20
    tote_volume_cm3: float = 40000.0
    zone_min_zones: int = 3
    zone_min_lines: int = 8
    fast_movers_batch: bool = True
    cart_totes: int = 8

    @classmethod
    def from_settings(cls, s: Settings) -> PickRules:
        return cls(
            discrete_item_cube_cm3=s.pick_discrete_item_cube_cm3,
            discrete_min_units=s.pick_discrete_min_units,
            tote_volume_cm3=s.pick_tote_volume_cm3,
            zone_min_zones=s.pick_zone_min_zones,
            zone_min_lines=s.pick_zone_min_lines,
            fast_movers_batch=s.pick_fast_movers_batch,
            cart_totes=s.pick_cart_totes,
        )

    @property
    def cart_cube_cm3(self) -> float:
        """What a full cart holds: one tote per cart position."""
        return self.cart_totes * self.tote_volume_cm3


def item_cube(length_cm: float | None, width_cm: float | None, height_cm: float | None) -> float:
    """One unit's cube in cm3; 0 (small) when any dimension is missing."""
    if not length_cm or not width_cm or not height_cm:
        return 0.0
    return float(length_cm) * float(width_cm) * float(height_cm)


@dataclass(frozen=True, slots=True)
class LineProfile:
    """What one order line asks the picker for: units to pick, one unit's cube, the item's
    velocity class and the zones its allocated stock sits in."""

    sku: str
    units: int
    unit_cube_cm3: float = 0.0
    velocity: str = "C"
    zones: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class OrderProfile:
    order_id: int
    lines: tuple[LineProfile, ...]

    @property
    def units(self) -> int:
        return sum(line.units for line in self.lines)

    @property
    def cube_cm3(self) -> float:
        return sum(line.units * line.unit_cube_cm3 for line in self.lines)

    @property
    def zones(self) -> frozenset[str]:
        return frozenset(z for line in self.lines for z in line.zones)


@dataclass(frozen=True, slots=True)
class Decision:
    strategy: Strategy
    rule: str  # the table row: bulky_item, over_tote, many_units, fast_movers, multi_zone, ...
    reason: str  # the same in words, for the supervisor


def _n(x: float) -> str:
    return f"{x:,.0f}"


def choose_strategy(order: OrderProfile, rules: PickRules) -> Decision:
    """The first row of the decision table (module doc) that matches `order`."""
    bulky = [line for line in order.lines if line.unit_cube_cm3 >= rules.discrete_item_cube_cm3]
    if bulky:
        big = max(bulky, key=lambda line: line.unit_cube_cm3)
        return Decision(
            "discrete",
            "bulky_item",
            f"{big.sku} is bulky ({_n(big.unit_cube_cm3)} cm³ ≥ "
            f"{_n(rules.discrete_item_cube_cm3)} cm³): one order per trip.",
        )
    cube = order.cube_cm3
    if cube > rules.tote_volume_cm3:
        return Decision(
            "discrete",
            "over_tote",
            f"The order ({_n(cube)} cm³) does not fit one tote "
            f"({_n(rules.tote_volume_cm3)} cm³): one order per trip.",
        )
    units = order.units
    if units >= rules.discrete_min_units:
        return Decision(
            "discrete",
            "many_units",
            f"The order has {units} units (≥ {rules.discrete_min_units}): one order per trip.",
        )
    if rules.fast_movers_batch and order.lines and all(ln.velocity == "A" for ln in order.lines):
        return Decision(
            "batch",
            "fast_movers",
            "Every line is an A-velocity item (near the depot): batched with other orders "
            "on one cart.",
        )
    zones, lines = len(order.zones), len(order.lines)
    if zones >= rules.zone_min_zones and lines >= rules.zone_min_lines:
        return Decision(
            "zone",
            "multi_zone",
            f"The order spans {zones} zones (≥ {rules.zone_min_zones}) with {lines} lines "
            f"(≥ {rules.zone_min_lines}): picked per zone, consolidated at packing.",
        )
    return Decision(
        "batch",
        "small_order",
        f"A small order ({lines} lines, {units} units, {_n(cube)} cm³): batched with other "
        "orders on one cart, one tote per order.",
    )


def decide_all(orders: Sequence[OrderProfile], rules: PickRules) -> dict[int, Decision]:
    return {o.order_id: choose_strategy(o, rules) for o in orders}
