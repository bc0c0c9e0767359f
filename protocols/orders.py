"""Channel orders sent to the OMS (web store, marketplace, wholesale/B2B), and site stock
snapshots. These models check the shape; the OMS checks what needs its database (the channel,
the original order of an exchange). See docs/oms-orders.md.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from protocols.inbound import MAX_LINES, MAX_QTY, unique_line_numbers
from protocols.outbound import ShipTo

__all__ = [
    "CHANNEL_CODE_PATTERN",
    "CHANNEL_ORDER_ID_PATTERN",
    "ORDER_NUMBER_PATTERN",
    "PAYMENT_STATUSES",
    "RMA_NUMBER_PATTERN",
    "SITE_CODE_PATTERN",
    "CancelIn",
    "ExchangeIn",
    "OrderIn",
    "OrderLineIn",
    "PaymentStatus",
    "ShipTo",
    "StockLevelIn",
    "StockSnapshotIn",
    "order_number",
]

#: A sales channel's code: `WEB`, `AMAZON`, `B2B` (capitals and digits, no hyphen, so the
#: OMS order number `<channel>-<channel order id>` splits at its first hyphen).
CHANNEL_CODE_PATTERN = r"^[A-Z][A-Z0-9]{0,15}$"
#: The channel's own order id: letters, digits, `.`, `_`, `-` (Amazon `112-1234567-1234567`).
CHANNEL_ORDER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"
#: The OMS order number: `<channel>-<channel order id>`, e.g. `WEB-1001`.
ORDER_NUMBER_PATTERN = r"^[A-Z][A-Z0-9]{0,15}-[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"
#: A site's code, as its edge server calls itself (`AISLEWAY_SITE`): `CHI`, `DAL`.
SITE_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{0,15}$"
#: An RMA number without its `RMA-` label prefix (protocols/barcodes).
RMA_NUMBER_PATTERN = r"^[A-Z0-9][A-Z0-9._/-]{0,29}$"

PaymentStatus = Literal["pending", "authorized", "paid", "refunded"]
PAYMENT_STATUSES: tuple[str, ...] = ("pending", "authorized", "paid", "refunded")

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")

#: A unit price: up to 4 decimal places, 0 to 1,000,000 (as protocols/rates.py's Money).
Price = Annotated[Decimal, Field(ge=0, le=Decimal("1000000"), decimal_places=4)]


def order_number(channel: str, channel_order_id: str) -> str:
    """The OMS order number of a channel's order: `WEB` + `1001` → `WEB-1001`."""
    return f"{channel}-{channel_order_id}"


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrderLineIn(_Doc):
    line_no: int = Field(ge=1, le=99_999)
    sku: str = Field(min_length=1, max_length=64)
    qty: int = Field(gt=0, le=MAX_QTY, description="Ordered quantity in eaches.")
    unit_price: Price = Field(default=Decimal(0), description="Price of one each.")


class ExchangeIn(_Doc):
    """This order replaces goods coming back under an RMA (an exchange)."""

    rma: str = Field(pattern=RMA_NUMBER_PATTERN, description="RMA number, without `RMA-`.")
    original_order: str | None = Field(
        default=None,
        pattern=ORDER_NUMBER_PATTERN,
        description="OMS number of the order the returned goods came from, if known here.",
    )


class OrderIn(_Doc):
    """A whole channel order. PUT creates it, or replaces it before release."""

    ship_to: ShipTo
    requested_service: str = Field(
        min_length=1, max_length=64, description="The service the customer chose: `standard`."
    )
    payment_status: PaymentStatus = "pending"
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 code.")
    promised_date: date | None = Field(default=None, description="Delivery promised by.")
    customer_email: str | None = Field(default=None, max_length=254)
    exchange: ExchangeIn | None = None
    lines: list[OrderLineIn] = Field(min_length=1, max_length=MAX_LINES)

    @field_validator("customer_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise PydanticCustomError("email_invalid", "not an e-mail address.")
        return value

    @model_validator(mode="after")
    def _lines_unique(self) -> OrderIn:
        unique_line_numbers([line.line_no for line in self.lines])
        return self


class CancelIn(_Doc):
    reason: str = Field(default="", max_length=200)


class StockLevelIn(_Doc):
    sku: str = Field(min_length=1, max_length=64)
    available: int = Field(ge=0, le=MAX_QTY, description="What the site can still promise.")


class StockSnapshotIn(_Doc):
    """A site's available stock per SKU at one moment (the periodic reconciliation)."""

    site: str = Field(pattern=SITE_CODE_PATTERN)
    as_of: datetime = Field(description="When the site took the snapshot (with a time zone).")
    full: bool = Field(
        default=False,
        description="The snapshot lists every SKU the site holds: SKUs left out drop to 0.",
    )
    stock: list[StockLevelIn] = Field(max_length=100_000)

    @field_validator("as_of")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise PydanticCustomError("timezone_required", "as_of needs a time zone.")
        return value

    @model_validator(mode="after")
    def _skus_unique(self) -> StockSnapshotIn:
        seen: set[str] = set()
        for level in self.stock:
            if level.sku in seen:
                raise PydanticCustomError(
                    "sku_duplicate", "SKU {sku} appears twice.", {"sku": level.sku}
                )
            seen.add(level.sku)
        return self
