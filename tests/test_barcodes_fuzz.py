"""Properties of the barcode grammar: whatever comes in, only BarcodeError comes out, and
whatever we print (labels, GS1 strings built here by hand) reads back as printed."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import assume, example, given
from hypothesis import strategies as st

from protocols import ErrorCode
from protocols.barcodes import (
    GS,
    BarcodeError,
    BinCode,
    ScanKind,
    format_asn,
    format_badge,
    format_bin,
    format_location,
    format_lpn,
    format_po,
    format_rma,
    format_tote,
    location_label,
    parse_scan,
)

# --- nothing but BarcodeError ---------------------------------------------------------------

AIM_PREFIXES = ["", "]C1", "]d2", "]Q3", "]e0", "]E0", "]E4", "]A0", "]C0", "]Q1", "]I1", "]E3"]
FRAGMENTS = [
    *AIM_PREFIXES,
    *["00", "01", "02", "10", "11", "15", "17", "21", "30", "37", "3103", "91", "8006", "14"],
    *["09501101530003", "340123450000000000", "250100", "251301", "240229", "LOT", "ABC"],
    *[GS, GS, "|", "^", "~", "<GS>", "(", ")", "(01)", "(10)", " ", "\r\n", "\t", "\x00"],
    *["https://id.gs1.org/01/", "/10/", "?17=", "%2F", "%D9%A0", "http://["],
    *["LPN", "TOTE-", "BADGE-", "RMA-", "PO-", "ASN-", "L:", "A03-07-2L", "DOCK-01", "-"],
    *["0", "9", "é", "ſ", "\u0663", "\U0001f600", "]", "]Y", "]Y2ab"],
]
SUBSTITUTES = st.sampled_from([None, "", "|", "^", "~", "<GS>", "0", GS])
SYMBOLOGIES = st.sampled_from([None, "", "]C1", "C1", "]E0", "d2", "xx", "]", "]Y9", "Y0a"])

ai_ish = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=14).map(
    "".join
)


def only_barcode_errors(text: str, **kw: object) -> None:
    try:
        parse_scan(text, **kw)  # type: ignore[arg-type]
    except BarcodeError as err:
        assert isinstance(err.code, ErrorCode) and err.text


@given(st.text(), SYMBOLOGIES, SUBSTITUTES)
def test_any_text_only_raises_barcode_error(text: str, sym: str | None, sub: str | None) -> None:
    only_barcode_errors(text, symbology=sym, gs_substitute=sub)


@given(st.binary(max_size=200))
def test_any_bytes_as_latin1_only_raise_barcode_error(raw: bytes) -> None:
    only_barcode_errors(raw.decode("latin-1"))


@given(ai_ish, SYMBOLOGIES, SUBSTITUTES)
@example("]C101095011015300031017LOT1231725010110", None, None)
@example("]Y9" + "0" * 5, None, None)
def test_ai_fragments_only_raise_barcode_error(text: str, sym: str | None, sub: str | None) -> None:
    only_barcode_errors(text, symbology=sym, gs_substitute=sub)


# --- our labels round-trip ------------------------------------------------------------------

blocks = st.from_regex(r"[A-Z]{1,2}", fullmatch=True)
n99 = st.integers(1, 99)


@given(blocks, n99, n99, n99, st.sampled_from("LR"), st.booleans(), st.booleans())
def test_bin_codes_round_trip(
    block: str, aisle: int, bay: int, level: int, side: str, prefixed: bool, lower: bool
) -> None:
    code = format_bin(block, aisle, bay, level, side)
    text = ("L:" if prefixed else "") + code
    scan = parse_scan(text.lower() if lower else text, expect={ScanKind.BIN})
    assert scan.value == code
    assert scan.bin == BinCode(block, aisle, bay, level, side)


areas = st.from_regex(r"[A-Z]{2,8}", fullmatch=True).filter(
    lambda a: a not in {"LPN", "TOTE", "BADGE", "RMA", "PO", "ASN"}
)


@given(areas, st.from_regex(r"[A-Z0-9]{1,8}", fullmatch=True))
def test_locations_round_trip(area: str, ident: str) -> None:
    code = format_location(area, ident)
    assert parse_scan(code, expect={ScanKind.LOCATION}).value == code


# The layout file's rule for explicit location codes (edge_server/wms/layout.py).
layout_codes = st.from_regex(r"[A-Z0-9][A-Z0-9_-]{0,31}", fullmatch=True).filter(
    lambda c: not re.fullmatch(r"[A-Z]{1,2}[0-9]{2}-[0-9]{2}-[0-9]{1,2}[LR]", c)
)


@given(layout_codes)
def test_every_layout_location_code_has_a_label_that_scans_back(code: str) -> None:
    scan = parse_scan(location_label(code), expect={ScanKind.LOCATION})
    assert scan.value == code


@given(st.integers(1, 99_999_999))
def test_lpns_round_trip(serial: int) -> None:
    text = format_lpn(serial)
    scan = parse_scan(text, expect={ScanKind.LPN})
    assert (scan.value, scan.number) == (text, serial)


@given(st.integers(1, 99_999_999), st.integers(3, 11), st.integers(1, 9))
def test_any_single_digit_error_in_an_lpn_is_caught(serial: int, pos: int, delta: int) -> None:
    text = format_lpn(serial)
    wrong = text[:pos] + str((int(text[pos]) + delta) % 10) + text[pos + 1 :]
    try:
        scan = parse_scan(wrong)
    except BarcodeError as err:
        assert err.code in {ErrorCode.BARCODE_CHECK_DIGIT, ErrorCode.BARCODE_LABEL_INVALID}
    else:
        raise AssertionError(f"{wrong} read as {scan}")


@given(st.integers(1, 999_999))
def test_totes_round_trip(number: int) -> None:
    text = format_tote(number)
    scan = parse_scan(text, expect={ScanKind.TOTE})
    assert (scan.value, scan.number) == (text, number)


@given(st.from_regex(r"[A-Za-z0-9_-]{3,32}", fullmatch=True))
def test_badges_round_trip(badge: str) -> None:
    assert parse_scan(format_badge(badge), expect={ScanKind.BADGE}).value == badge


@given(
    st.sampled_from(
        [(format_rma, ScanKind.RMA), (format_po, ScanKind.PO), (format_asn, ScanKind.ASN)]
    ),
    st.from_regex(r"[A-Z0-9][A-Z0-9._/-]{0,29}", fullmatch=True),
)
def test_document_refs_round_trip(
    fmt_kind: tuple[Callable[[str], str], ScanKind], ref: str
) -> None:
    fmt, kind = fmt_kind
    assert parse_scan(fmt(ref), expect={kind}).value == ref


# --- GS1 built by hand round-trips ----------------------------------------------------------

CHARSET_82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
VARIABLE = {"10", "21", "30", "37"}
THIS_YEAR = dt.date.today().year


def check_digit(digits: str) -> str:
    """GS1 mod 10, written out here independently of the code under test."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


@st.composite
def gtins(draw: st.DrawFn) -> str:
    body = draw(st.from_regex(r"[0-9]{13}", fullmatch=True))
    return body + check_digit(body)


@st.composite
def expiries(draw: st.DrawFn) -> tuple[str, dt.date]:
    # Two-digit years are read within a window around today (GS1 7.12); stay well inside.
    year = draw(st.integers(THIS_YEAR - 30, THIS_YEAR + 30))
    month = draw(st.integers(1, 12))
    last = calendar.monthrange(year, month)[1]
    day = draw(st.integers(0, last))
    return f"{year % 100:02d}{month:02d}{day:02d}", dt.date(year, month, day or last)


free_text = st.text(alphabet=CHARSET_82, min_size=1, max_size=20)
counts = st.integers(1, 99_999_999).flatmap(
    lambda n: st.integers(len(str(n)), 8).map(lambda width: (f"{n:0{width}d}", n))
)

# Over-approximates what the lost-GS check reads as a swallowed field inside a lot or
# serial: a date AI with six digits, or a GTIN/SSCC AI with 14+ digits, after the first char.
TELLTALE_INSIDE = re.compile(r".(?:1[157][0-9]{6}|0[012][0-9]{14})")


@dataclass(frozen=True)
class Label:
    fields: list[tuple[str, str]]
    gtin: str
    lot: str | None
    serial: str | None
    expiry: dt.date | None
    count: int | None


@st.composite
def item_labels(draw: st.DrawFn) -> Label:
    gtin = draw(gtins())
    fields = [("01", gtin)]
    lot = draw(st.none() | free_text)
    serial = draw(st.none() | free_text)
    expiry = draw(st.none() | expiries())
    count = draw(st.none() | counts)
    count_ai = draw(st.sampled_from(["30", "37"]))
    if lot is not None:
        fields.append(("10", lot))
    if serial is not None:
        fields.append(("21", serial))
    if expiry is not None:
        fields.append(("17", expiry[0]))
    if count is not None:
        fields.append((count_ai, count[0]))
    fields = draw(st.permutations(fields))
    return Label(
        list(fields),
        gtin,
        lot,
        serial,
        expiry[1] if expiry else None,
        count[1] if count else None,
    )


def encode(fields: list[tuple[str, str]], sep: str = GS) -> str:
    """The element string a printer encodes: FNC1 (sent as GS) after each variable-length
    field that is not last."""
    out = []
    for i, (ai, value) in enumerate(fields):
        out.append(ai + value)
        if ai in VARIABLE and i < len(fields) - 1:
            out.append(sep)
    return "".join(out)


@given(
    item_labels(),
    st.sampled_from(["]C1", "]d2", "]Q3", ""]),
    st.sampled_from([None, "|", "^", "~", "<GS>"]),
    st.booleans(),
)
def test_gs1_item_labels_round_trip(
    label: Label, aim: str, sub: str | None, trailing_gs: bool
) -> None:
    for value in (label.lot, label.serial):
        assume(value is None or not TELLTALE_INSIDE.search(value))
        assume(value is None or sub is None or sub not in value)
    data = encode(label.fields, sep=sub or GS) + ((sub or GS) if trailing_gs else "")
    scan = parse_scan(aim + data, gs_substitute=sub, expect={ScanKind.ITEM})
    assert scan.gtin == label.gtin
    assert (scan.lot, scan.serial, scan.expiry, scan.count) == (
        label.lot,
        label.serial,
        label.expiry,
        label.count,
    )
    assert [(e.ai, e.value) for e in scan.elements] == label.fields


@given(
    gtins(),
    free_text,
    expiries(),
    st.none() | st.sampled_from([("21", "S1"), ("30", "5"), ("15", "260101")]),
)
def test_a_lot_that_loses_its_gs_before_the_expiry_is_always_refused(
    gtin: str, lot: str, expiry: tuple[str, dt.date], after: tuple[str, str] | None
) -> None:
    assume(not TELLTALE_INSIDE.search(lot))
    fields = [("01", gtin), ("10", lot), ("17", expiry[0])] + ([after] if after else [])
    good = "]C1" + encode(fields)
    assert parse_scan(good).lot == lot
    lost = good.replace(GS, "", 1)  # the GS right after the lot
    try:
        scan = parse_scan(lost)
    except BarcodeError as err:
        assert err.code is ErrorCode.BARCODE_GS1_SEPARATOR_MISSING
    else:
        raise AssertionError(f"lost GS read as lot {scan.lot!r}")


@given(gtins())
def test_any_single_digit_error_in_a_gtin_is_caught(gtin: str) -> None:
    for pos in range(len(gtin)):
        wrong = gtin[:pos] + str((int(gtin[pos]) + 1) % 10) + gtin[pos + 1 :]
        try:
            parse_scan(wrong)
        except BarcodeError as err:
            assert err.code is ErrorCode.BARCODE_CHECK_DIGIT
        else:
            raise AssertionError(wrong)
