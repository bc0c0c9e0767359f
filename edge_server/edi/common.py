"""Helpers shared by the transaction-set readers and writers: a segment cursor that raises
`X12Error` with 997 codes, the N1 party loop, quantities and item identifiers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from edge_server.edi.x12 import Segment, Transaction, X12Error, parse_x12_date

__all__ = [
    "SKU_QUALIFIERS",
    "Party",
    "SetReader",
    "choose_sku",
    "item_id_pairs",
    "party_segments",
]

#: Product/service id qualifiers tried, in order, to pick an item's SKU: SK (stock keeping
#: unit), VN (vendor's = depositor's item number), BP (buyer's part), UP (UPC), UK (GTIN-14),
#: EN (EAN). Callers with a per-owner SKU map use `item_ids` instead.
SKU_QUALIFIERS = ("SK", "VN", "BP", "UP", "UK", "EN")
_QTY = re.compile(r"^-?[0-9]*\.?[0-9]+$")


def choose_sku(item_ids: Mapping[str, str], prefer: Iterable[str] = SKU_QUALIFIERS) -> str:
    for qualifier in prefer:
        if item_ids.get(qualifier):
            return item_ids[qualifier]
    return ""


def item_id_pairs(seg: Segment, pairs: Iterable[tuple[int, int]]) -> dict[str, str]:
    """Qualifier → id from element pairs, e.g. W01 (4, 5), (6, 7), (15, 16)."""
    ids: dict[str, str] = {}
    for q, v in pairs:
        if seg.get(q) and seg.get(v):
            ids.setdefault(seg.get(q), seg.get(v))
    return ids


@dataclass(frozen=True)
class Party:
    """An N1 loop: entity code (ST ship-to, BT bill-to, SF ship-from, WH warehouse, ...)."""

    code: str
    name: str = ""
    id_qualifier: str = ""
    id: str = ""
    address_lines: tuple[str, ...] = ()
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""


def party_segments(party: Party) -> list[Segment]:
    segs = [Segment.of("N1", party.code, party.name, party.id_qualifier, party.id)]
    lines = list(party.address_lines)
    for i in range(0, len(lines), 2):
        segs.append(Segment.of("N3", *lines[i : i + 2]))
    if party.city or party.state or party.postal_code or party.country:
        segs.append(Segment.of("N4", party.city, party.state, party.postal_code, party.country))
    return segs


@dataclass
class SetReader:
    """A cursor over a transaction set's body that raises X12Error with set positions and the
    997 codes (AK3 segment syntax error code, AK4 element syntax error code)."""

    tx: Transaction
    allowed: frozenset[str]
    i: int = 0
    seen: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        for seg in self.tx.segments:
            if seg.id not in self.allowed:
                raise self.error(
                    "SEGMENT_UNEXPECTED",
                    seg,
                    f"segment {seg.id} is not part of a {self.tx.set_id} as read here.",
                    ak3="2",
                )

    # --- errors ---
    def error(
        self,
        code: str,
        seg: Segment | None,
        message: str,
        *,
        element: int | None = None,
        ak3: str = "8",
        ak4: str = "",
        value: str = "",
    ) -> X12Error:
        if seg is None:  # a missing segment: report it where SE stands
            return X12Error(
                code,
                message,
                position=self.tx.start + len(self.tx.segments) + 1 if self.tx.start else None,
                set_position=len(self.tx.segments) + 2,
                segment_id="",
                ak3=ak3,
            )
        return X12Error(
            code,
            message,
            position=seg.position or None,
            set_position=self.tx.position_of(seg) if seg.position else None,
            segment_id=seg.id,
            element=element,
            ak3=ak3,
            ak4=ak4,
            bad_value=value,
        )

    def missing(self, seg_id: str, what: str) -> X12Error:
        err = self.error(
            "MANDATORY_MISSING", None, f"the {seg_id} segment ({what}) is missing.", ak3="3"
        )
        err.segment_id = seg_id
        return err

    # --- cursor ---
    def peek(self) -> Segment | None:
        return self.tx.segments[self.i] if self.i < len(self.tx.segments) else None

    def next(self) -> Segment | None:
        seg = self.peek()
        if seg is not None:
            self.i += 1
        return seg

    def take(self, *ids: str) -> Segment | None:
        seg = self.peek()
        if seg is not None and seg.id in ids:
            self.i += 1
            return seg
        return None

    def expect(self, seg_id: str, what: str) -> Segment:
        seg = self.peek()
        if seg is None or seg.id != seg_id:
            if any(s.id == seg_id for s in self.tx.segments):
                raise self.error(
                    "SEGMENT_UNEXPECTED",
                    seg,
                    f"expected {seg_id} ({what}) here, found {seg.id if seg else 'the end'}.",
                    ak3="7",
                )
            raise self.missing(seg_id, what)
        self.i += 1
        return seg

    # --- elements ---
    def required(self, seg: Segment, n: int, what: str, max_len: int = 80) -> str:
        value = seg.get(n).strip()
        if not value:
            raise self.error(
                "MANDATORY_MISSING",
                seg,
                f"{seg.id}{n:02d} ({what}) is required.",
                element=n,
                ak4="1",
            )
        if len(value) > max_len:
            raise self.error(
                "ELEMENT_INVALID",
                seg,
                f"{seg.id}{n:02d} ({what}) is longer than {max_len} characters.",
                element=n,
                ak4="5",
                value=value[:99],
            )
        return value

    def code(self, seg: Segment, n: int, what: str, allowed: Iterable[str]) -> str:
        value = self.required(seg, n, what)
        options = list(allowed)
        if value not in options:
            raise self.error(
                "ELEMENT_INVALID",
                seg,
                f"{seg.id}{n:02d} ({what}) must be one of {', '.join(options)}; got {value!r}.",
                element=n,
                ak4="7",
                value=value,
            )
        return value

    def quantity(
        self, seg: Segment, n: int, what: str, *, required: bool = True, zero: bool = False
    ) -> int | None:
        text = seg.get(n).strip()
        if not text and not required:
            return None
        text = self.required(seg, n, what, 15)
        try:
            value = Decimal(text) if _QTY.fullmatch(text) else None
        except InvalidOperation:  # pragma: no cover - the pattern keeps Decimal happy
            value = None
        if value is None or value != value.to_integral_value() or value < 0:
            raise self.error(
                "ELEMENT_INVALID",
                seg,
                f"{seg.id}{n:02d} ({what}) must be a whole number; got {text!r}.",
                element=n,
                ak4="6",
                value=text,
            )
        if value == 0 and not zero:
            raise self.error(
                "ELEMENT_INVALID",
                seg,
                f"{seg.id}{n:02d} ({what}) must be more than 0.",
                element=n,
                ak4="7",
                value=text,
            )
        return int(value)

    def date(self, seg: Segment, n: int, what: str) -> date:
        text = self.required(seg, n, what, 35)
        value = parse_x12_date(text) if len(text) == 8 else None
        if value is None:
            raise self.error(
                "ELEMENT_INVALID",
                seg,
                f"{seg.id}{n:02d} ({what}) must be a CCYYMMDD date; got {text!r}.",
                element=n,
                ak4="8",
                value=text,
            )
        return value

    def party(self) -> Party:
        """The N1 loop at the cursor (N1, N2, N3, N4, PER, G61)."""
        n1 = self.expect("N1", "party name")
        code = self.required(n1, 1, "entity identifier code", 3)
        if not n1.get(2) and not n1.get(4):
            raise self.error(
                "MANDATORY_MISSING",
                n1,
                f"N1 {code} needs a name (N102) or an identification code (N104).",
                element=2,
                ak4="2",
            )
        name, lines = n1.get(2).strip(), []
        city = state = postal = country = ""
        while (seg := self.take("N2", "N3", "N4", "PER", "G61")) is not None:
            if seg.id == "N2":
                name = " ".join(p for p in (name, seg.get(1).strip()) if p)
            elif seg.id == "N3":
                lines += [seg.get(k).strip() for k in (1, 2) if seg.get(k).strip()]
            elif seg.id == "N4":
                city, state = seg.get(1).strip(), seg.get(2).strip()
                postal, country = seg.get(3).strip(), seg.get(4).strip()
        return Party(
            code, name, n1.get(3), n1.get(4).strip(), tuple(lines), city, state, postal, country
        )
