"""The packing scenario's and shipping's contract: states and request bodies.

The handheld and the edge server both import this; the server's rules live in
`edge_server/scenarios/packing.py`, `edge_server/wms/outbound/packing.py` and
`edge_server/wms/outbound/shipping.py` (docs/packing.md, docs/scenarios/packing.md).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from protocols.inbound import DOC_NUMBER_PATTERN

__all__ = [
    "CARTON_TYPE_PATTERN",
    "MAX_UNITS",
    "MAX_WEIGHT_KG",
    "CartonTypeIn",
    "CloseCartonIn",
    "PackScanIn",
    "PackStartIn",
    "PackingState",
    "SessionIn",
    "ShipConfirmIn",
    "WrongItemsIn",
]

MAX_WEIGHT_KG = 1000.0
MAX_UNITS = 100_000
CARTON_TYPE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"


class PackingState(StrEnum):
    """What the handheld shows next (the envelope's `next_state`)."""

    START = "start"  # scan a tote (TOTE-nnnn) or enter the order number
    SCAN_ITEM = "scan_item"  # scan each item into the open carton, or seal the carton
    DONE = "done"  # everything picked is in sealed cartons: the order is packed


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PackStartIn(_Body):
    """Either a scanned tote label or an order number typed in."""

    barcode: str | None = Field(
        default=None, min_length=1, max_length=3000, description="A tote label (TOTE-0001)."
    )
    symbology: str | None = Field(default=None, max_length=3)
    order: str | None = Field(default=None, min_length=1, max_length=64, pattern=DOC_NUMBER_PATTERN)
    station: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The packing location the cartons are built at; default: where the "
        "order's first tote lies.",
    )


class SessionIn(_Body):
    session_id: int = Field(ge=1)


class PackScanIn(SessionIn):
    """An item (GTIN, GS1-128/DataMatrix with lot and count) or another tote of the order."""

    barcode: str = Field(min_length=1, max_length=3000, description="The scan as received.")
    symbology: str | None = Field(default=None, max_length=3, description="AIM id, e.g. ]C1.")
    gs_substitute: str | None = Field(default=None, max_length=5)
    qty: int | None = Field(
        default=None,
        gt=0,
        le=MAX_UNITS,
        description="How many of the scanned unit go in (default: the GS1 count, else 1).",
    )


class CloseCartonIn(SessionIn):
    """Seal the open carton: its type, its weight on the scale, and where to print."""

    carton_type: str = Field(min_length=1, max_length=32, pattern=CARTON_TYPE_PATTERN)
    weight_kg: float = Field(gt=0, le=MAX_WEIGHT_KG, description="Gross weight, kg.")
    printer: str | None = Field(
        default=None, min_length=1, max_length=64, description="Print the shipping label here."
    )


class CartonTypeIn(_Body):
    """A carton (box, mailer, pallet) packers may choose at this site."""

    description: str = Field(default="", max_length=100)
    length_cm: float | None = Field(default=None, gt=0, le=1000)
    width_cm: float | None = Field(default=None, gt=0, le=1000)
    height_cm: float | None = Field(default=None, gt=0, le=1000)
    tare_kg: float = Field(default=0.0, ge=0, le=MAX_WEIGHT_KG, description="Empty weight.")
    max_weight_kg: float = Field(gt=0, le=MAX_WEIGHT_KG, description="Heaviest it may ship.")
    active: bool = True


class ShipConfirmIn(_Body):
    """Nothing is needed; an optional note stays with the shipment."""

    note: str = Field(default="", max_length=200)


class WrongItemsIn(_Body):
    """Goods found (through a return) to have shipped that should not have."""

    sku: str = Field(min_length=1, max_length=64)
    qty: int = Field(gt=0, le=MAX_UNITS)
    note: str = Field(default="", max_length=500)
