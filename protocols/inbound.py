"""Purchase orders and advance shipping notices (ASNs) sent to the edge server.

These models check the shape of a document (types, ranges, SSCC check digits, unique line
numbers); the edge server checks what needs its database (known SKUs, case sizes, PO lines).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from protocols.barcodes import gs1_check_digit

__all__ = [
    "DOC_NUMBER_PATTERN",
    "LOT_PATTERN",
    "MAX_LINES",
    "MAX_QTY",
    "AsnIn",
    "AsnLineIn",
    "PoLineIn",
    "PurchaseOrderIn",
    "Uom",
    "normalise_sscc",
    "unique_line_numbers",
]

MAX_QTY = 10_000_000
MAX_LINES = 5_000
#: PO and ASN numbers: what fits a `PO-…`/`ASN-…` label (protocols.barcodes.format_po), except
#: `/`, which cannot travel in a URL path segment.
DOC_NUMBER_PATTERN = r"^[A-Z0-9][A-Z0-9._-]{0,29}$"
LOT_PATTERN = re.compile(r"^[!-~]{1,20}$")  # GS1 AI 10: up to 20 printable characters, no space

Uom = Literal["EA", "CS"]


def normalise_sscc(text: str) -> str:
    """The 18-digit SSCC in `text` (surrounding spaces and a leading AI `(00)`/`00` removed).

    Raises ValueError with a reason a person can act on when it is not a valid SSCC."""
    value = text.strip().replace("(00)", "", 1).replace(" ", "")
    if len(value) == 20 and value.startswith("00"):
        value = value[2:]
    if len(value) != 18 or not (value.isascii() and value.isdigit()):
        raise ValueError(f"an SSCC has 18 digits; {text!r} does not.")
    expected = gs1_check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise ValueError(
            f"SSCC {value} has a wrong check digit: the last digit should be {expected}."
        )
    return value


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PoLineIn(_Doc):
    line_no: int = Field(ge=1, le=99_999)
    sku: str = Field(min_length=1, max_length=64)
    qty: int = Field(gt=0, le=MAX_QTY, description="Ordered quantity in `uom`.")
    uom: Uom = Field(default="EA", description="EA (eaches) or CS (cases of the item's case_qty).")
    expected_lots: list[str] = Field(default_factory=list, max_length=100)

    @field_validator("uom", mode="before")
    @classmethod
    def _uom(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("expected_lots")
    @classmethod
    def _lots(cls, value: list[str]) -> list[str]:
        lots = [lot.strip() for lot in value if lot.strip()]
        for lot in lots:
            if not LOT_PATTERN.match(lot):
                raise PydanticCustomError(
                    "lot_invalid", "lot '{lot}' is not 1-20 printable characters.", {"lot": lot}
                )
        return list(dict.fromkeys(lots))


def unique_line_numbers(line_nos: list[int]) -> None:
    """Refuse a document whose lines repeat a line number (the shared rule of POs, ASNs,
    fulfillment orders and channel orders)."""
    seen: set[int] = set()
    for n in line_nos:
        if n in seen:
            raise PydanticCustomError(
                "line_no_duplicate", "line_no {line_no} appears twice.", {"line_no": n}
            )
        seen.add(n)


class PurchaseOrderIn(_Doc):
    """A whole purchase order (PUT replaces it; lines left out are cancelled)."""

    supplier: str = Field(min_length=1, max_length=100)
    due_date: date | None = None
    blind: bool | None = Field(
        default=None, description="Receive without showing quantities; null = site default."
    )
    notes: str = Field(default="", max_length=2000)
    lines: list[PoLineIn] = Field(min_length=1, max_length=MAX_LINES)

    @model_validator(mode="after")
    def _lines_unique(self) -> PurchaseOrderIn:
        unique_line_numbers([line.line_no for line in self.lines])
        return self


class AsnLineIn(_Doc):
    line_no: int = Field(ge=1, le=99_999)
    sku: str = Field(min_length=1, max_length=64)
    qty: int = Field(gt=0, le=MAX_QTY, description="Eaches.")
    lot: str = Field(default="", max_length=20)
    expiry: date | None = None
    sscc: str | None = Field(default=None, description="18-digit SSCC of the pallet or case.")
    po_line_no: int | None = Field(default=None, ge=1, description="Line of the ASN's PO.")

    @field_validator("sscc")
    @classmethod
    def _sscc(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return normalise_sscc(value)
        except ValueError as exc:
            raise PydanticCustomError("sscc_invalid", str(exc)) from None


class AsnIn(_Doc):
    """A whole ASN (PUT replaces it)."""

    po_number: str | None = Field(default=None, pattern=DOC_NUMBER_PATTERN)
    supplier: str = Field(default="", max_length=100, description="Default: the PO's supplier.")
    expected_at: datetime | None = None
    lines: list[AsnLineIn] = Field(min_length=1, max_length=MAX_LINES)

    @model_validator(mode="after")
    def _check(self) -> AsnIn:
        unique_line_numbers([line.line_no for line in self.lines])
        if self.po_number is None and any(line.po_line_no for line in self.lines):
            raise PydanticCustomError(
                "po_number_missing", "lines name a po_line_no but the ASN names no po_number."
            )
        return self
