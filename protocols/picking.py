"""The picking scenario's contract: its states, pick event kinds and request bodies.

The handheld and the edge server both import this; the server's rules live in
`edge_server/scenarios/picking.py`, docs/scenarios/picking.md and docs/picking.md.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "MISSCAN_KINDS",
    "ClaimIn",
    "PickEventKind",
    "PickingState",
    "QuantityIn",
    "ScanIn",
    "ShortIn",
    "TaskIn",
]

MAX_QTY = 10_000_000


class PickingState(StrEnum):
    """What the handheld shows next (the envelope's `next_state`)."""

    START = "start"  # ask for the next task (or choose one)
    BIND_TOTE = "bind_tote"  # scan an empty tote for the cart position shown
    SCAN_BIN = "scan_bin"  # walk to the bin shown and scan its label
    SCAN_ITEM = "scan_item"  # scan the product (GTIN, GS1 with lot/count) or the LPN
    SET_QUANTITY = "set_quantity"  # how many were taken
    SCAN_TOTE = "scan_tote"  # scan the tote of the order's cart position: posts the pick
    DONE = "done"  # the task is finished: take the totes to packing


class PickEventKind(StrEnum):
    """What `pick_events` records: good picks, shorts, substitutions and caught mis-scans."""

    PICKED = "picked"
    SHORT = "short"
    SUBSTITUTE = "substitute"
    WRONG_BIN = "wrong_bin"
    WRONG_ITEM = "wrong_item"
    WRONG_LOT = "wrong_lot"
    WRONG_TOTE = "wrong_tote"
    OVER_PICK = "over_pick"


#: The kinds the pick accuracy KPI counts as mis-scans caught.
MISSCAN_KINDS: tuple[PickEventKind, ...] = (
    PickEventKind.WRONG_BIN,
    PickEventKind.WRONG_ITEM,
    PickEventKind.WRONG_LOT,
    PickEventKind.WRONG_TOTE,
    PickEventKind.OVER_PICK,
)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ClaimIn(_Body):
    """Ask for the next task; or name one (resume it, or — supervisors — take it over)."""

    task_id: int | None = Field(default=None, ge=1)


class TaskIn(_Body):
    task_id: int = Field(ge=1)


class ScanIn(TaskIn):
    barcode: str = Field(min_length=1, max_length=3000, description="The scan as received.")
    symbology: str | None = Field(default=None, max_length=3, description="AIM id, e.g. ]C1.")
    gs_substitute: str | None = Field(default=None, max_length=5)


class QuantityIn(TaskIn):
    qty: int = Field(
        gt=0, le=MAX_QTY, description="How many of the scanned unit (cases for a case GTIN)."
    )


class ShortIn(TaskIn):
    """The bin holds less than the line asks for: what was found (in eaches), and the tote it
    went into when anything was found."""

    qty_found: int = Field(ge=0, le=MAX_QTY)
    barcode: str | None = Field(default=None, min_length=1, max_length=3000)
    symbology: str | None = Field(default=None, max_length=3)


class MisScanIn(TaskIn):
    """A mis-scan the handheld caught by itself (it checks every scan against the task it
    downloaded, so the wrong scan never reached the server): counted for pick accuracy just
    like one the server refused."""

    kind: Literal["wrong_bin", "wrong_item", "wrong_lot", "wrong_tote", "over_pick"]
    line_id: int | None = Field(default=None, ge=1)
    code: str = Field(default="", max_length=64, description="The ErrorCode shown to the picker.")
    scanned: str = Field(default="", max_length=200, description="What was scanned, as text.")
    caught_at: datetime | None = Field(default=None, description="When the handheld caught it.")
