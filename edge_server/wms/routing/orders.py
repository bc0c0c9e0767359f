"""Simple visiting orders used as references (and as start tours): location-code order and the
S-shape (serpentine) order."""

from __future__ import annotations

from collections.abc import Sequence

from edge_server.wms.layout import Layout

__all__ = ["code_order", "s_shape_order"]


def code_order(stop_bins: Sequence[Sequence[str]]) -> list[int]:
    """Stop indices (1..) sorted by their first bin code: a pick list printed in code order."""
    return sorted(range(1, len(stop_bins)), key=lambda i: stop_bins[i][0])


def s_shape_order(layout: Layout, stop_bins: Sequence[Sequence[str]]) -> list[int]:
    """Stop indices (1..) in serpentine order: blocks front to back, within a block the aisles
    holding picks left to right, walking up one aisle and down the next; explicit bins last.

    In a multi-block layout the direction keeps alternating from block to block, so the picker
    snakes through the warehouse and comes back along the front."""
    block_rank = {b.id: (b.front_y, b.x) for b in layout.blocks}
    rack: dict[tuple[tuple[float, float], str, int], list[tuple[int, int]]] = {}
    explicit: list[int] = []
    for i in range(1, len(stop_bins)):
        b = layout.bin(stop_bins[i][0])
        if b.block is None or b.aisle is None or b.bay is None:
            explicit.append(i)
            continue
        key = (block_rank[b.block], b.block, b.aisle)
        rack.setdefault(key, []).append((b.bay, i))
    order: list[int] = []
    for n, key in enumerate(sorted(rack)):
        stops = sorted(rack[key], reverse=bool(n % 2))
        order.extend(i for _, i in stops)
    explicit.sort(key=lambda i: stop_bins[i][0])
    return order + explicit
