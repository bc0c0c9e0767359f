"""A 3PL's clients: who they are, how their orders are picked, how their paperwork looks and
what they are billed per unit of work (docs/clients.md).

These models check shape only; the edge server checks what needs its database (a code in use,
an EDI sender already taken by another client).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "CLIENT_CODE_PATTERN",
    "BillingRates",
    "Branding",
    "ClientIn",
    "EdiPartner",
    "PickingRules",
]

#: A client's code: what items, orders, POs and ASNs carry as their `owner`.
CLIENT_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")

Rate = Annotated[Decimal, Field(ge=0, le=Decimal("100000"), decimal_places=4)]


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PickingRules(_Doc):
    """Which of the client's stock may go out (on top of the site's FEFO and expiry rules)."""

    min_shelf_life_days: int = Field(
        default=0,
        ge=0,
        le=3650,
        description="Lots must have at least this many days left at the promised ship date "
        "(today when the order has none); 0 = only never an expired lot.",
    )
    blocked_lots: list[Annotated[str, Field(min_length=1, max_length=20)]] = Field(
        default_factory=list,
        max_length=500,
        description="Lots never allocated to the client's orders (recalls, holds).",
    )
    single_lot_per_line: bool = Field(
        default=False, description="Each order line ships from one lot only (or waits)."
    )


class Branding(_Doc):
    """How the client's packing slips and shipping labels look."""

    display_name: str = Field(default="", max_length=60, description="Default: the name.")
    return_address: list[Annotated[str, Field(max_length=60)]] = Field(
        default_factory=list, max_length=4
    )
    slip_message: str = Field(default="", max_length=500, description="Printed on the slip.")
    accent_colour: str = Field(default="#1f4e79", description="#RRGGBB on the slip.")

    @field_validator("accent_colour")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not _COLOUR.match(value):
            raise ValueError("accent_colour must be #RRGGBB, e.g. #1f4e79")
        return value.lower()


class BillingRates(_Doc):
    """Prices per unit of work; 0 everywhere = quantities only, no amounts."""

    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    storage_basis: Literal["bin_days", "pallet_days"] = "bin_days"
    storage: Rate = Field(default=Decimal(0), description="Per bin-day or pallet-day.")
    receipt: Rate = Field(default=Decimal(0), description="Per receipt (PO/ASN received).")
    line_picked: Rate = Field(default=Decimal(0), description="Per pick line confirmed.")
    order_packed: Rate = Field(default=Decimal(0), description="Per order packed.")


class EdiPartner(_Doc):
    """The client's EDI identity: the sender of its interchanges (ISA05/ISA06)."""

    qualifier: str = Field(min_length=2, max_length=2, pattern=r"^[0-9A-Z]{2}$")
    id: str = Field(min_length=1, max_length=15, pattern=r"^[ -~]*[!-~]$")
    carrier_service: str = Field(
        default="",
        max_length=64,
        description="Our carrier service for 940s that name none we know ('' = refuse them).",
    )


class ClientIn(_Doc):
    """A whole client (PUT replaces it)."""

    name: str = Field(min_length=1, max_length=100)
    active: bool = True
    edi: EdiPartner | None = None
    picking: PickingRules = Field(default_factory=PickingRules)
    branding: Branding = Field(default_factory=Branding)
    billing: BillingRates = Field(default_factory=BillingRates)
