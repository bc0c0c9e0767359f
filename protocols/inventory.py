"""Inventory commands and views exchanged with the edge server's ledger API."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AdjustmentIn",
    "MoveIn",
    "MovementOut",
    "MovementPage",
    "PickIn",
    "ReceiptIn",
    "ShipmentIn",
    "StatusChangeIn",
    "StockOut",
    "StockPage",
    "StockStatus",
]

MAX_QTY = 10_000_000
Code = Field(min_length=1, max_length=64)
Tag = Field(default="", max_length=64)


class StockStatus(StrEnum):
    AVAILABLE = "available"
    QUARANTINE = "quarantine"
    DAMAGED = "damaged"


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReceiptIn(_Command):
    location: str = Code
    sku: str = Code
    qty: int = Field(gt=0, le=MAX_QTY)
    lot: str = Tag
    expiry: date | None = None
    lpn: str = Tag
    status: StockStatus = StockStatus.AVAILABLE
    reason: str = Field(default="", max_length=200)
    ref: str = Field(default="", max_length=100, description="PO, ASN or document number.")


class MoveIn(_Command):
    from_location: str = Code
    to_location: str = Code
    sku: str = Code
    qty: int = Field(gt=0, le=MAX_QTY)
    lot: str = Tag
    lpn: str = Tag
    status: StockStatus = StockStatus.AVAILABLE
    to_lpn: str | None = Field(default=None, max_length=64)
    ref: str = Field(default="", max_length=100)


class PickIn(_Command):
    from_location: str = Code
    to_location: str = Field(min_length=1, max_length=64, description="Tote, cart or staging.")
    sku: str = Code
    qty: int = Field(gt=0, le=MAX_QTY)
    lot: str = Tag
    lpn: str = Tag
    to_lpn: str | None = Field(default=None, max_length=64, description="Tote id.")
    ref: str = Field(default="", max_length=100, description="Order or task.")


class ShipmentIn(_Command):
    from_location: str = Code
    sku: str = Code
    qty: int = Field(gt=0, le=MAX_QTY)
    lot: str = Tag
    lpn: str = Tag
    ref: str = Field(default="", max_length=100, description="Shipment or order.")


class AdjustmentIn(_Command):
    location: str = Code
    sku: str = Code
    delta: int = Field(ge=-MAX_QTY, le=MAX_QTY, description="Positive finds, negative loses.")
    lot: str = Tag
    lpn: str = Tag
    status: StockStatus = StockStatus.AVAILABLE
    reason: str = Field(min_length=1, max_length=200)


class StatusChangeIn(_Command):
    location: str = Code
    sku: str = Code
    qty: int = Field(gt=0, le=MAX_QTY)
    lot: str = Tag
    lpn: str = Tag
    from_status: StockStatus
    to_status: StockStatus
    reason: str = Field(min_length=1, max_length=200)


class StockOut(BaseModel):
    location: str
    sku: str
    lot: str
    lpn: str
    status: StockStatus
    qty: int


class MovementOut(BaseModel):
    id: int
    ts: str
    type: str
    sku: str
    qty: int
    lot: str
    lpn: str
    from_location: str | None
    from_status: str | None
    to_location: str | None
    to_status: str | None
    reason: str
    ref: str


class StockPage(BaseModel):
    items: list[StockOut]
    total: int = Field(description="stock rows matching the filters, all pages")
    limit: int
    offset: int


class MovementPage(BaseModel):
    items: list[MovementOut]
    next_after: int | None = Field(
        description="pass as after_id for the next page; null when this page is the last"
    )
