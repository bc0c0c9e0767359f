"""Fulfillment orders sent to the edge server by the OMS (outbound goods).

These models check the shape of an order (types, ranges, country code, unique line numbers);
the edge server checks what needs its database (known SKUs). See docs/outbound.md.
"""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from protocols.inbound import DOC_NUMBER_PATTERN, MAX_LINES, MAX_QTY, unique_line_numbers

__all__ = [
    "DOC_NUMBER_PATTERN",
    "FoLineIn",
    "FulfillmentOrderIn",
    "ShipTo",
]

_COUNTRY = re.compile(r"^[A-Z]{2}$")


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ShipTo(_Doc):
    name: str = Field(min_length=1, max_length=100)
    address_lines: list[str] = Field(min_length=1, max_length=4)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(default="", max_length=20)
    country: str = Field(description="ISO 3166-1 alpha-2 code, e.g. US, DE (upper-cased).")

    @field_validator("address_lines")
    @classmethod
    def _lines(cls, value: list[str]) -> list[str]:
        lines = [line.strip() for line in value]
        if not lines[0] or any(len(line) > 100 for line in lines):
            raise PydanticCustomError(
                "address_invalid", "address lines are 1-100 characters, the first not empty."
            )
        return lines

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().upper()
            if not _COUNTRY.match(value):
                raise PydanticCustomError(
                    "country_invalid",
                    "country '{country}' is not a two-letter ISO 3166-1 code.",
                    {"country": value},
                )
        return value


class FoLineIn(_Doc):
    line_no: int = Field(ge=1, le=99_999)
    sku: str = Field(min_length=1, max_length=64)
    qty: int = Field(gt=0, le=MAX_QTY, description="Ordered quantity in eaches.")


class FulfillmentOrderIn(_Doc):
    """A whole fulfillment order (PUT replaces it; lines left out are cancelled)."""

    ship_to: ShipTo
    carrier_service: str = Field(min_length=1, max_length=64)
    priority: int = Field(default=0, ge=-1000, le=1000, description="Higher goes first.")
    promised_ship_date: date | None = None
    owner: str = Field(default="", max_length=64)
    lines: list[FoLineIn] = Field(min_length=1, max_length=MAX_LINES)

    @model_validator(mode="after")
    def _lines_unique(self) -> FulfillmentOrderIn:
        unique_line_numbers([line.line_no for line in self.lines])
        return self
