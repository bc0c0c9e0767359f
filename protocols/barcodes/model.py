"""What a scan turns into: the kinds, the typed result and the one exception."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from protocols.errors import ErrorCode, message_for

__all__ = [
    "GS",
    "PLACE_KINDS",
    "BarcodeError",
    "BinCode",
    "GS1Element",
    "Scan",
    "ScanKind",
    "Symbology",
    "SymbologyMode",
]

#: ASCII 29, the group separator scanners send for a GS1 FNC1 between fields.
GS = "\x1d"


class ScanKind(StrEnum):
    BIN = "bin"  # rack bin: A03-07-2L
    LOCATION = "location"  # irregular area: DOCK-01, STAGE-A3
    LPN = "lpn"  # license plate: LPN000012348 or an SSCC (GS1 AI 00)
    TOTE = "tote"  # TOTE-0001
    CART_POSITION = "cart_position"  # POS-3: a numbered slot on a pick cart (one order each)
    BADGE = "badge"  # BADGE-<user badge>
    RMA = "rma"  # RMA-<number>
    PO = "po"  # PO-<number>
    ASN = "asn"  # ASN-<number>
    ITEM = "item"  # a GTIN, bare (EAN/UPC/ITF-14) or in a GS1 message (AI 01)
    ITEM_DATA = "item_data"  # GS1 fields without a GTIN or SSCC (e.g. 02+37, or 10+17 alone)


#: The kinds a "scan the place" step accepts.
PLACE_KINDS: frozenset[ScanKind] = frozenset({ScanKind.BIN, ScanKind.LOCATION})


class SymbologyMode(StrEnum):
    GS1 = "gs1"  # the data is a GS1 element string (GS1-128, GS1 DataMatrix, ...)
    GTIN = "gtin"  # the data is a bare GTIN (EAN/UPC, ITF-14)
    OTHER = "other"  # plain symbology: our labels, or a bare GTIN/SSCC, never a GS1 message


@dataclass(frozen=True, slots=True)
class Symbology:
    """An AIM symbology identifier (ISO/IEC 15424), e.g. `]C1`."""

    aim: str
    name: str
    mode: SymbologyMode


@dataclass(frozen=True, slots=True)
class BinCode:
    """A rack bin: `{block}{aisle:02}-{bay:02}-{level}{side}`."""

    block: str
    aisle: int
    bay: int
    level: int
    side: str

    @property
    def code(self) -> str:
        return f"{self.block}{self.aisle:02d}-{self.bay:02d}-{self.level}{self.side}"

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True, slots=True)
class GS1Element:
    """One GS1 element string: application identifier and its data, as scanned."""

    ai: str
    value: str
    title: str  # GS1 data title, e.g. "BATCH/LOT"

    @property
    def hri(self) -> str:
        return f"({self.ai}){self.value}"


@dataclass(frozen=True, slots=True)
class Scan:
    """A classified scan. `value` is the key to look the thing up by:

    bin/location code, LPN text or 18-digit SSCC, tote code, badge id, RMA/PO/ASN number
    (without the prefix), GTIN-14 for an item, the HRI text for ITEM_DATA.
    """

    kind: ScanKind
    value: str
    raw: str  # exactly as received
    data: str  # without AIM identifier and outer whitespace; GS substitutes mapped to GS
    symbology: Symbology | None = None
    bin: BinCode | None = None
    number: int | None = None  # LPN serial or tote number
    gtin: str | None = None  # GTIN-14, check digit validated
    content_gtin: str | None = None  # AI 02, GTIN-14
    sscc: str | None = None
    lot: str | None = None
    expiry: dt.date | None = None  # AI 17; day 00 means the last day of the month
    serial: str | None = None
    count: int | None = None  # AI 37, else AI 30
    elements: tuple[GS1Element, ...] = ()

    @property
    def hri(self) -> str:
        """GS1 human-readable form, `(01)...(10)...`; empty for our own labels."""
        return "".join(e.hri for e in self.elements)


class BarcodeError(Exception):
    """A refused scan: a catalogue code, its sentence, and details for logs and supervisors."""

    def __init__(self, code: ErrorCode, details: dict[str, Any] | None = None) -> None:
        self.code = code
        self.text = message_for(code).text
        self.status = message_for(code).status
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(f"{code.value}: {self.details}")
