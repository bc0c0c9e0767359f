"""GS1 through biip: bare GTINs and SSCCs, element strings (GS1-128, GS1 DataMatrix, ...),
keyed-in HRI `(01)...(10)...`, and Digital Link URIs.

biip knows the application identifiers and validates each field; this module walks the
element string itself so it knows where every field starts and ends, which is what the
lost-separator checks need (docs/barcodes.md, "Lost GS").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from biip import ParseConfig, ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_element_strings import GS1ElementString
from biip.gtin import Gtin
from biip.sscc import Sscc
from biip.upc import Upc

from protocols.barcodes.labels import gs1_check_digit
from protocols.barcodes.model import GS, BarcodeError, GS1Element
from protocols.errors import ErrorCode

__all__ = [
    "GS1Fields",
    "format_gs1",
    "format_gs1_hri",
    "is_first_field_error",
    "parse_bare_gtin",
    "parse_bare_sscc",
    "parse_digital_link",
    "parse_element_string",
    "parse_hri",
    "parse_upc_e",
]

_CONFIG = ParseConfig(separator_chars=(GS,))

# AIs whose data starts with a YYMMDD date (biip validates them).
_DATE_AIS = frozenset(
    {"11", "12", "13", "15", "16", "17", "4324", "4325", "4326", "7003", "7006", "7007"}
    | {"7011", "8008"}
)
# Fixed-length fields that commonly follow a lot or serial on a label and carry their own
# validation (GTIN/SSCC check digit, a real date). A variable-length field whose value ends
# with one of them is taken as a field that swallowed its neighbour (see `_swallowed`).
_TELLTALE_AIS = ("00", "01", "02", "11", "15", "17")

_HRI = re.compile(r"(?:\([0-9]{2,4}\)[^()]+)+")
_HRI_PART = re.compile(r"\(([0-9]{2,4})\)([^()]+)")


@dataclass(frozen=True, slots=True)
class GS1Fields:
    elements: tuple[GS1Element, ...]
    gtin: str | None = None
    content_gtin: str | None = None
    sscc: str | None = None
    lot: str | None = None
    expiry: dt.date | None = None
    serial: str | None = None
    count: int | None = None


class _FirstFieldError(BarcodeError):
    """The very first field did not parse: the caller may prefer "not recognised"."""


# --- walking an element string -------------------------------------------------------------


def _extract_ai(rest: str) -> GS1ApplicationIdentifier | None:
    try:
        return GS1ApplicationIdentifier.extract(rest)
    except ParseError:
        return None


def _extract(rest: str) -> GS1ElementString | None:
    # biip validates each field; any failure in it (ParseError or a bug on odd input) is a
    # field we refuse, never an exception out of parse_scan.
    try:
        return GS1ElementString.extract(rest, config=_CONFIG)
    except Exception:
        return None


def _field_error(ai: GS1ApplicationIdentifier, rest: str, position: int) -> BarcodeError:
    data = rest[len(ai.ai) :].split(GS, 1)[0]
    details = {"ai": ai.ai, "position": position, "data": data, "format": ai.format}
    head = data[:6]
    if ai.ai in _DATE_AIS and len(head) == 6 and head.isascii() and head.isdigit():
        return BarcodeError(ErrorCode.BARCODE_GS1_DATE_INVALID, details)
    return BarcodeError(ErrorCode.BARCODE_GS1_FIELD_INVALID, details)


def _walk(data: str) -> list[GS1ElementString]:
    """Split `data` into element strings; refuse on the first problem."""
    parsed: list[GS1ElementString] = []
    pos = 0
    while pos < len(data):
        if data[pos] == GS:
            pos += 1
            continue
        rest = data[pos:]
        error: BarcodeError
        ai = _extract_ai(rest)
        if ai is None:
            details: dict[str, object] = {"position": pos, "data": rest[:4]}
            if parsed and not rest[0].isdigit():
                # Every AI is digits: a symbol right after a field is most likely this
                # scanner's stand-in for GS that nobody configured as `gs_substitute`.
                details["hint"] = "GS substitute not configured?"
            error = BarcodeError(ErrorCode.BARCODE_GS1_UNKNOWN_AI, details)
            raise _first(error) if not parsed else error
        es = _extract(rest)
        if es is None:
            error = _field_error(ai, rest, pos)
            raise _first(error) if not parsed else error
        end = pos + len(es)
        if ai.separator_required and end < len(data) and data[end] != GS:
            # A field that must end with FNC1 runs straight into more data: it reached its
            # maximum length (so the GS was lost, or the field is too long for its AI) or it
            # stopped at a character its AI does not allow (e.g. an unmapped GS substitute).
            raise BarcodeError(
                ErrorCode.BARCODE_GS1_SEPARATOR_MISSING,
                {"ai": ai.ai, "value": es.value, "position": end, "found": data[end]},
            )
        parsed.append(es)
        pos = end
    return parsed


def _first(error: BarcodeError) -> _FirstFieldError:
    return _FirstFieldError(error.code, error.details)


def _inner_error(es: GS1ElementString) -> str | None:
    return es.gtin_error or es.sscc_error or es.gln_error


def _check_digit_error(es: GS1ElementString) -> BarcodeError:
    value = es.value
    details: dict[str, object] = {"ai": es.ai.ai, "data": value}
    if value.isascii() and value.isdigit() and len(value) > 1:
        details["expected"] = gs1_check_digit(value[:-1])
    return BarcodeError(ErrorCode.BARCODE_CHECK_DIGIT, details)


# --- lost separators inside a field ---------------------------------------------------------


def _swallowed(value: str, present: set[str]) -> str | None:
    """The telltale field (as HRI) hidden inside a variable-length field's value, or None.

    A telltale is a whole, validated field (`_TELLTALE_AIS`) that starts after the value's
    first character, whose AI the message does not carry elsewhere, and that ends the value
    or is followed by the start of a known AI (its data may be cut short, as in
    `...17250101` + `10`).
    """
    for i in range(1, len(value)):
        tail = value[i:]
        if not tail.startswith(_TELLTALE_AIS) or tail[:2] in present:
            continue
        es = _extract(tail)
        if es is None or _inner_error(es) is not None:
            continue
        after = tail[len(es) :]
        if not after:
            return es.as_hri()
        next_ai = _extract_ai(after)
        if next_ai is not None:
            return f"{es.as_hri()}({next_ai.ai}){after[len(next_ai.ai) :]}"
    return None


def _check_lost_separators(parsed: Sequence[GS1ElementString]) -> None:
    present = {es.ai.ai for es in parsed}
    for es in parsed:
        if ".." not in es.ai.format:  # fixed-length fields cannot swallow anything
            continue
        suspect = _swallowed(es.value, present)
        if suspect is not None:
            raise BarcodeError(
                ErrorCode.BARCODE_GS1_SEPARATOR_MISSING,
                {"ai": es.ai.ai, "value": es.value, "suspect": suspect},
            )


# --- typed fields ---------------------------------------------------------------------------


def _fields(elements: Iterable[GS1ElementString]) -> GS1Fields:
    seen: dict[str, str] = {}
    out: list[GS1Element] = []
    gtin = content_gtin = sscc = lot = serial = None
    expiry: dt.date | None = None
    count: int | None = None
    for es in elements:
        ai = es.ai.ai
        if not es.value.isascii():
            # biip's numeric patterns use \d, which also matches non-ASCII digits.
            raise BarcodeError(
                ErrorCode.BARCODE_GS1_FIELD_INVALID, {"ai": ai, "reason": "not ASCII"}
            )
        if ai in seen and seen[ai] != es.value:
            raise BarcodeError(
                ErrorCode.BARCODE_GS1_FIELD_INVALID,
                {"ai": ai, "reason": "conflicting values", "values": [seen[ai], es.value]},
            )
        seen[ai] = es.value
        out.append(GS1Element(ai=ai, value=es.value, title=es.ai.data_title))
        if _inner_error(es) is not None:
            raise _check_digit_error(es)
        if ai == "00" and es.sscc is not None:
            sscc = es.sscc.value
        elif ai == "01" and es.gtin is not None:
            gtin = es.gtin.as_gtin_14()
        elif ai == "02" and es.gtin is not None:
            content_gtin = es.gtin.as_gtin_14()
        elif ai == "10":
            lot = es.value
        elif ai == "21":
            serial = es.value
        elif ai == "17":
            expiry = es.date
        elif ai in ("30", "37"):
            if not es.value or int(es.value) == 0:
                raise BarcodeError(
                    ErrorCode.BARCODE_GS1_FIELD_INVALID,
                    {"ai": ai, "data": es.value, "reason": "count must be 1 or more"},
                )
            # (37) counts trade items in a logistic unit; (30) a variable count. A label
            # carrying both is odd; (37) wins, both stay in `elements`.
            if ai == "37" or count is None:
                count = int(es.value)
    return GS1Fields(
        elements=tuple(out),
        gtin=gtin,
        content_gtin=content_gtin,
        sscc=sscc,
        lot=lot,
        expiry=expiry,
        serial=serial,
        count=count,
    )


# --- entry points ---------------------------------------------------------------------------


def parse_element_string(data: str) -> GS1Fields:
    """A GS1 element string with GS (ASCII 29) between fields, no symbology identifier.

    Raises a `BarcodeError` subclass for a failing first field, so a caller that had no
    sign the data was GS1 at all can say "not recognised" instead.
    """
    parsed = _walk(data)
    if not parsed:
        raise BarcodeError(ErrorCode.BARCODE_UNREADABLE, {"reason": "empty"})
    _check_lost_separators(parsed)
    return _fields(parsed)


def is_first_field_error(error: BarcodeError) -> bool:
    return isinstance(error, _FirstFieldError)


def parse_hri(data: str) -> GS1Fields:
    """Keyed-in human-readable form, `(01)09501101530003(17)250100(10)AB12`; spaces ignored.

    The parentheses delimit every field, so no separator can be lost here.
    """
    text = data.replace(" ", "")
    if not _HRI.fullmatch(text):
        raise BarcodeError(ErrorCode.BARCODE_NOT_RECOGNISED, {"data": data})
    elements: list[GS1ElementString] = []
    for m in _HRI_PART.finditer(text):
        ai_text, value = m.groups()
        ai = _extract_ai(ai_text + value)
        if ai is None or ai.ai != ai_text:
            raise BarcodeError(ErrorCode.BARCODE_GS1_UNKNOWN_AI, {"data": f"({ai_text})"})
        try:
            elements.append(GS1ElementString.parse(ai_text + value, config=_CONFIG))
        except Exception as exc:  # biip on odd input: refuse, never crash (see _extract)
            raise _field_error(ai, ai_text + value, m.start()) from exc
    return _fields(elements)


def parse_digital_link(data: str) -> GS1Fields:
    """A GS1 Digital Link URI, e.g. `https://id.gs1.org/01/09501101530003/10/AB12`."""
    try:
        uri = GS1DigitalLinkURI.parse(data, config=_CONFIG)
    except Exception as exc:  # ParseError, or ValueError from URL parsing of odd input
        raise BarcodeError(
            ErrorCode.BARCODE_GS1_FIELD_INVALID, {"reason": "not a GS1 Digital Link URI"}
        ) from exc
    return _fields(uri.element_strings)


def parse_bare_gtin(digits: str) -> str:
    """A GTIN-8/12/13/14 as scanned from EAN/UPC/ITF-14; returns the GTIN-14."""
    try:
        return Gtin.parse(digits, config=_CONFIG).as_gtin_14()
    except Exception as exc:  # only a wrong check digit is left once length and digits hold
        raise BarcodeError(
            ErrorCode.BARCODE_CHECK_DIGIT,
            {"kind": "gtin", "data": digits, "expected": gs1_check_digit(digits[:-1])},
        ) from exc


def parse_upc_e(digits: str) -> str:
    """An 8-digit UPC-E (number system 0 or 1) expanded to its GTIN-14."""
    if digits[:1] not in ("0", "1"):
        raise BarcodeError(
            ErrorCode.BARCODE_UNREADABLE, {"reason": "UPC-E number system must be 0 or 1"}
        )
    try:
        return Upc.parse(digits, config=_CONFIG).as_gtin_14()
    except Exception as exc:
        raise BarcodeError(
            ErrorCode.BARCODE_CHECK_DIGIT, {"kind": "upc-e", "data": digits}
        ) from exc


def parse_bare_sscc(digits: str) -> str:
    """An 18-digit SSCC without its AI (00)."""
    try:
        return Sscc.parse(digits, config=_CONFIG).value
    except Exception as exc:
        raise BarcodeError(
            ErrorCode.BARCODE_CHECK_DIGIT,
            {"kind": "sscc", "data": digits, "expected": gs1_check_digit(digits[:-1])},
        ) from exc


# --- building element strings (labels, tests) ----------------------------------------------


def _validated(pairs: Iterable[tuple[str, str]]) -> list[GS1ElementString]:
    out = []
    for ai, value in pairs:
        try:
            es = GS1ElementString.parse(ai + value, config=_CONFIG)
        except Exception as exc:
            raise ValueError(f"not a valid GS1 field: ({ai}){value}") from exc
        if es.ai.ai != ai or _inner_error(es) is not None:
            raise ValueError(f"not a valid GS1 field: ({ai}){value}")
        out.append(es)
    return out


def format_gs1(pairs: Iterable[tuple[str, str]]) -> str:
    """The element string for `[(ai, value), ...]`, with GS after every field that needs
    FNC1 except the last. Print it as GS1-128/DataMatrix with FNC1 for each GS."""
    elements = _validated(pairs)
    parts: list[str] = []
    for i, es in enumerate(elements):
        parts.append(es.ai.ai + es.value)
        if es.ai.separator_required and i < len(elements) - 1:
            parts.append(GS)
    return "".join(parts)


def format_gs1_hri(pairs: Iterable[tuple[str, str]]) -> str:
    """The text printed under the barcode: `(01)09501101530003(10)AB12`."""
    return "".join(es.as_hri() for es in _validated(pairs))
