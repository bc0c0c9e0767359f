"""The receiving scenario's contract: its states, discrepancy reasons and request bodies.

The handheld and the edge server both import this; the server's rules live in
`edge_server/scenarios/receiving.py` and docs/scenarios/receiving.md.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ApproveIn",
    "BadgeOverrideIn",
    "CloseIn",
    "DamagedIn",
    "LotIn",
    "LpnIn",
    "QuantityIn",
    "Reason",
    "ReceivingState",
    "ScanIn",
    "SessionIn",
    "StartIn",
]

MAX_QTY = 10_000_000


class ReceivingState(StrEnum):
    """What the handheld shows next (the envelope's `next_state`)."""

    START = "start"  # scan or pick the PO, ASN or pallet (SSCC)
    SCAN_ITEM = "scan_item"  # scan a product or a pallet, or close
    SET_QUANTITY = "set_quantity"  # how many of what was scanned
    SET_LOT = "set_lot"  # lot and/or expiry of a tracked item
    SET_LPN = "set_lpn"  # scan a pre-printed LPN label or ask for a new one
    OVERRIDE = "override"  # waiting for a supervisor (over-receipt, item not on the order)
    CONFIRM_CLOSE = "confirm_close"  # lines would close short: confirm or scan more
    DONE = "done"  # closed


class Reason(StrEnum):
    """Discrepancy reason codes stored with receipt lines and in the discrepancy log."""

    OVER = "over"  # the PO line went over its expected quantity
    UNEXPECTED = "unexpected"  # the item is not on the PO (received with an override only)
    SHORT = "short"  # the PO line closed with less than expected
    DAMAGED = "damaged"  # received into stock status `damaged`
    LOT_MISMATCH = "lot_mismatch"  # a lot the PO/ASN did not list


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ScanText(_Body):
    barcode: str = Field(min_length=1, max_length=3000, description="The scan as received.")
    symbology: str | None = Field(default=None, max_length=3, description="AIM id, e.g. ]C1.")
    gs_substitute: str | None = Field(default=None, max_length=5)


class StartIn(_Body):
    """Either a scanned barcode (PO-…, ASN-…, an SSCC) or a PO/ASN number picked from a list."""

    barcode: str | None = Field(default=None, min_length=1, max_length=3000)
    symbology: str | None = Field(default=None, max_length=3)
    gs_substitute: str | None = Field(default=None, max_length=5)
    po: str | None = Field(default=None, min_length=1, max_length=64)
    asn: str | None = Field(default=None, min_length=1, max_length=64)
    dock: str | None = Field(
        default=None, max_length=64, description="Receiving dock code; default: the first one."
    )


class SessionIn(_Body):
    session_id: int = Field(ge=1)


class ScanIn(SessionIn, ScanText):
    pass


class QuantityIn(SessionIn):
    qty: int = Field(
        gt=0, le=MAX_QTY, description="How many of the scanned unit (cases for a case GTIN)."
    )


class LotIn(SessionIn):
    lot: str | None = Field(default=None, min_length=1, max_length=20)
    expiry: date | None = None


class LpnIn(SessionIn):
    barcode: str | None = Field(
        default=None, min_length=1, max_length=3000, description="A pre-printed LPN; none: new."
    )
    symbology: str | None = Field(default=None, max_length=3)
    printer: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Print the new LPN's label on this printer (when no barcode is scanned).",
    )


class DamagedIn(SessionIn):
    damaged: bool = True


class BadgeOverrideIn(SessionIn):
    """A supervisor approves on the receiver's handheld with badge and PIN."""

    badge: str = Field(min_length=3, max_length=40, description="Badge id or BADGE- label.")
    pin: str = Field(min_length=4, max_length=8)


class ApproveIn(_Body):
    note: str = Field(default="", max_length=200)


class CloseIn(SessionIn):
    confirm: bool = Field(default=False, description="Close even though lines are short.")
    keep_open: bool = Field(
        default=False, description="More deliveries will come: do not close the PO short."
    )
