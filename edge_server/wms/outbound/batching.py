"""Order batching: group orders into cart-capacity batches with less total travel than
first-come-first-served grouping (interface fixed; the implementation lands with its bench)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["CartCapacity", "OrderPicks", "batch_orders", "fcfs_batches"]


@dataclass(frozen=True, slots=True)
class OrderPicks:
    """What one order needs picked: the bins it visits and its size."""

    order_id: int
    bins: tuple[str, ...]
    units: int
    cube_cm3: float
    arrival: int  # smaller = arrived first (FCFS order)


@dataclass(frozen=True, slots=True)
class CartCapacity:
    max_orders: int  # totes on the cart: one order per tote
    max_units: int | None = None
    max_cube_cm3: float | None = None


RouteLength = Callable[[Sequence[str]], float]


def fcfs_batches(orders: Sequence[OrderPicks], capacity: CartCapacity) -> list[list[int]]:
    """Baseline: orders in arrival order, a new cart whenever the next one does not fit."""
    raise NotImplementedError


def batch_orders(
    orders: Sequence[OrderPicks], capacity: CartCapacity, route_length: RouteLength
) -> list[list[int]]:
    """Order ids per batch, every order exactly once, each batch within capacity; total
    route length over the batches no more than FCFS's."""
    raise NotImplementedError
