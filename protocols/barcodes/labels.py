"""Our own labels: bins, irregular locations, LPNs, totes, badges, RMAs, POs, ASNs.

Parsing and formatting live side by side so a printed label and a scanned one can never
disagree. The grammar is in docs/barcodes.md; every pattern here is ASCII-only and
matched against the whole text. Formatters raise ValueError for values outside the grammar,
so whatever they return parses back to the same value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from biip.checksums import gs1_standard_check_digit

from protocols.barcodes.model import BarcodeError, BinCode, ScanKind
from protocols.errors import ErrorCode

__all__ = [
    "LOCATION_PREFIX",
    "RESERVED_WORDS",
    "format_asn",
    "format_badge",
    "format_bin",
    "format_cart_position",
    "format_location",
    "format_lpn",
    "format_po",
    "format_rma",
    "format_tote",
    "gs1_check_digit",
    "is_bin_shape",
    "location_label",
    "parse_bin",
    "parse_label",
]

#: Optional prefix on printed bin/location labels: `L:A03-07-2L`, `L:DOCK-01`.
LOCATION_PREFIX = "L:"

# Bin-shaped (also with a leading zero on the level); only the canonical spelling is a bin.
_BIN_SHAPE = re.compile(r"([A-Z]{1,2})([0-9]{2})-([0-9]{2})-([0-9]{1,2})([LR])")
_LOCATION = re.compile(r"([A-Z]{2,8})-([A-Z0-9]{1,8})")
# The layout file's rule for explicit location codes; any of them scans after `L:`.
_EXPLICIT = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,31}")
_LPN = re.compile(r"LPN([0-9]{8})([0-9])")
_TOTE = re.compile(r"TOTE-([0-9]{4}|[1-9][0-9]{4,5})")
_CART_POSITION = re.compile(r"POS-([1-9][0-9]?)")
# Same rule as a user's badge in the users table, case kept: the badge is the login key.
_BADGE_ID = re.compile(r"[A-Za-z0-9_-]{3,32}")
_DOC_REF = re.compile(r"[A-Z0-9][A-Z0-9._/-]{0,29}")

_DOC_KINDS = {"RMA": ScanKind.RMA, "PO": ScanKind.PO, "ASN": ScanKind.ASN}
#: Words that start other kinds and so can never be a location's area.
RESERVED_WORDS = frozenset({"LPN", "TOTE", "POS", "BADGE", *_DOC_KINDS})

LPN_MAX = 99_999_999
TOTE_MAX = 999_999
CART_POSITION_MAX = 99


@dataclass(frozen=True, slots=True)
class LabelMatch:
    kind: ScanKind
    value: str
    bin: BinCode | None = None
    number: int | None = None


def gs1_check_digit(digits: str) -> int:
    """GS1 mod-10 check digit (weights 3,1 from the right) of an ASCII digit string."""
    if not digits or not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"expected ASCII digits, got {digits!r}")
    return gs1_standard_check_digit(digits)


def _invalid(kind: ScanKind, data: str, rule: str) -> BarcodeError:
    return BarcodeError(
        ErrorCode.BARCODE_LABEL_INVALID, {"kind": kind.value, "data": data, "rule": rule}
    )


def is_bin_shape(code: str) -> bool:
    """True when `code` looks like a rack bin code (canonical or not)."""
    return _BIN_SHAPE.fullmatch(code) is not None


def parse_bin(code: str) -> BinCode:
    """The parts of a canonical rack bin code (`A03-07-2L`); ValueError for anything else.

    Only the canonical spelling parses (upper case, no leading zero on the level, aisle, bay
    and level from 1), so one bin has exactly one code. The layout generates its bin codes
    with `format_bin` and reads them back with this."""
    m = _BIN_SHAPE.fullmatch(code)
    if m is not None:
        block, aisle, bay, level, side = m.groups()
        parsed = BinCode(block, int(aisle), int(bay), int(level), side)
        if parsed.code == code and 0 not in (parsed.aisle, parsed.bay, parsed.level):
            return parsed
    raise ValueError(f"{code!r} is not a rack bin code like A03-07-2L")


def _bin(up: str, data: str) -> LabelMatch | None:
    if not is_bin_shape(up):
        return None
    try:
        code = parse_bin(up)
    except ValueError:
        raise _invalid(
            ScanKind.BIN, data, "aisle, bay and level from 1; level without a leading zero"
        ) from None
    return LabelMatch(ScanKind.BIN, code.code, bin=code)


def _bare_location(up: str) -> LabelMatch | None:
    m = _LOCATION.fullmatch(up)
    if m and m.group(1) not in RESERVED_WORDS:
        return LabelMatch(ScanKind.LOCATION, up)
    return None


def parse_label(data: str) -> LabelMatch | None:
    """Our label in `data`, None if it is not one of ours; BarcodeError if it is one of ours
    but damaged (wrong shape for its prefix, wrong LPN check digit)."""
    if not data.isascii():
        # Also keeps str.upper() honest: 'ß'.upper() == 'SS' must never make a label.
        return None
    up = data.upper()
    if up.startswith(LOCATION_PREFIX):
        body = up[len(LOCATION_PREFIX) :]
        place = _bin(body, data)
        if place is not None:
            return place
        if not _EXPLICIT.fullmatch(body):
            raise _invalid(
                ScanKind.LOCATION, data, "L: and a location code: 1 to 32 capitals, digits, - _"
            )
        return LabelMatch(ScanKind.LOCATION, body)
    place = _bin(up, data) or _bare_location(up)
    if place is not None:
        return place
    if up.startswith("LPN") and (up == "LPN" or up[3:].isdigit()):
        return _lpn(up, data)
    word, dash, rest = up.partition("-")
    if not dash:
        return None
    if word == "TOTE":
        m = _TOTE.fullmatch(up)
        if not m or int(m.group(1)) == 0:
            raise _invalid(ScanKind.TOTE, data, "TOTE- and 4 to 6 digits, from 0001")
        return LabelMatch(ScanKind.TOTE, up, number=int(m.group(1)))
    if word == "POS":
        m = _CART_POSITION.fullmatch(up)
        if not m:
            raise _invalid(ScanKind.CART_POSITION, data, "POS- and a number 1 to 99")
        return LabelMatch(ScanKind.CART_POSITION, up, number=int(m.group(1)))
    if word == "BADGE":
        badge = data[len("BADGE-") :]
        if not _BADGE_ID.fullmatch(badge):
            raise _invalid(ScanKind.BADGE, data, "BADGE- and 3 to 32 letters, digits, - or _")
        return LabelMatch(ScanKind.BADGE, badge)
    if word in _DOC_KINDS:
        kind = _DOC_KINDS[word]
        if not _DOC_REF.fullmatch(rest):
            raise _invalid(kind, data, f"{word}- and 1 to 30 letters, digits, . _ / -")
        return LabelMatch(kind, rest)
    if word == "LPN":
        raise _invalid(ScanKind.LPN, data, "LPN and 9 digits, no dash")
    return None


def _lpn(up: str, data: str) -> LabelMatch:
    m = _LPN.fullmatch(up)
    if not m:
        raise _invalid(ScanKind.LPN, data, "LPN and 9 digits (8 serial digits, 1 check digit)")
    serial, check = m.groups()
    expected = gs1_check_digit(serial)
    if int(check) != expected:
        raise BarcodeError(
            ErrorCode.BARCODE_CHECK_DIGIT, {"kind": "lpn", "data": data, "expected": expected}
        )
    if int(serial) == 0:
        raise _invalid(ScanKind.LPN, data, "LPN serial starts at 1")
    return LabelMatch(ScanKind.LPN, up, number=int(serial))


def format_bin(block: str, aisle: int, bay: int, level: int, side: str) -> str:
    """`A03-07-2L`: block 1–2 capital letters, aisle and bay 1–99, level 1–99, side L or R."""
    code = BinCode(block, aisle, bay, level, side).code
    in_range = 1 <= aisle <= 99 and 1 <= bay <= 99 and 1 <= level <= 99
    if not in_range or not _BIN_SHAPE.fullmatch(code):
        raise ValueError(f"not a bin: {block!r} {aisle!r} {bay!r} {level!r} {side!r}")
    return code


def format_location(area: str, ident: str) -> str:
    """`DOCK-01`: area 2–8 capital letters (not a reserved word), id 1–8 capitals/digits.
    Such codes scan bare; any other layout code needs `location_label`."""
    code = f"{area}-{ident}"
    m = _LOCATION.fullmatch(code)
    if not m or area in RESERVED_WORDS:
        raise ValueError(f"not a location: {code!r}")
    return code


def location_label(code: str) -> str:
    """The text to print for any layout location code: the code itself when it scans bare
    as that bin or location, otherwise `L:` + code (e.g. `L:RETURNS`, `L:COLD_ROOM-2`)."""
    try:
        bare = parse_label(code)
    except BarcodeError:
        bare = None
    if bare is not None and bare.kind in (ScanKind.BIN, ScanKind.LOCATION) and bare.value == code:
        return code
    if not _EXPLICIT.fullmatch(code) or _BIN_SHAPE.fullmatch(code):
        raise ValueError(f"not a location code: {code!r}")
    return LOCATION_PREFIX + code


def format_lpn(serial: int) -> str:
    """`LPN` + 8-digit serial + GS1 mod-10 check digit, e.g. 1234 -> `LPN000012348`."""
    if not 1 <= serial <= LPN_MAX:
        raise ValueError(f"LPN serial must be 1..{LPN_MAX}, got {serial!r}")
    digits = f"{serial:08d}"
    return f"LPN{digits}{gs1_check_digit(digits)}"


def format_tote(number: int) -> str:
    """`TOTE-0001`: at least 4 digits, up to 6."""
    if not 1 <= number <= TOTE_MAX:
        raise ValueError(f"tote number must be 1..{TOTE_MAX}, got {number!r}")
    return f"TOTE-{number:04d}"


def format_cart_position(number: int) -> str:
    """`POS-3`: the label on a pick cart's slot (1 to 99, no leading zero)."""
    if isinstance(number, bool) or not 1 <= number <= CART_POSITION_MAX:
        raise ValueError(f"cart position must be 1..{CART_POSITION_MAX}, got {number!r}")
    return f"POS-{number}"


def format_badge(badge: str) -> str:
    """`BADGE-` + the user's badge as stored (3–32 letters, digits, - or _; case kept)."""
    if not _BADGE_ID.fullmatch(badge):
        raise ValueError(f"not a badge: {badge!r}")
    return f"BADGE-{badge}"


def _format_doc(word: str, ref: str) -> str:
    if not _DOC_REF.fullmatch(ref):
        raise ValueError(f"not a {word} number: {ref!r}")
    return f"{word}-{ref}"


def format_rma(ref: str) -> str:
    """`RMA-` + 1–30 capitals, digits, `.`, `_`, `/`, `-` (first a capital or digit)."""
    return _format_doc("RMA", ref)


def format_po(ref: str) -> str:
    """`PO-` + the purchase order number, same characters as an RMA."""
    return _format_doc("PO", ref)


def format_asn(ref: str) -> str:
    """`ASN-` + the advance shipping notice number, same characters as an RMA."""
    return _format_doc("ASN", ref)
