"""The barcode grammar, example by example: our labels, GS1, AIM identifiers, GS handling,
lost separators and refusals. Fuzzing and round trips are in test_barcodes_fuzz.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from protocols import CATALOGUE, ErrorCode
from protocols.barcodes import (
    GS,
    PLACE_KINDS,
    BarcodeError,
    BinCode,
    Scan,
    ScanKind,
    SymbologyMode,
    format_asn,
    format_badge,
    format_bin,
    format_cart_position,
    format_gs1,
    format_gs1_hri,
    format_location,
    format_lpn,
    format_po,
    format_rma,
    format_tote,
    gs1_check_digit,
    location_label,
    parse_scan,
    symbology_for,
)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "barcodes.md"

GTIN = "09501101530003"  # GS1's example GTIN-13 0950110153000 as GTIN-14
SSCC = "340123450000000000"


def refused(text: str, **kw: Any) -> BarcodeError:
    with pytest.raises(BarcodeError) as info:
        parse_scan(text, **kw)
    return info.value


# --- our own labels -------------------------------------------------------------------------

LABELS = [
    # text, kind, value, extra fields
    ("A03-07-2L", ScanKind.BIN, "A03-07-2L", {"bin": BinCode("A", 3, 7, 2, "L")}),
    ("AB12-01-10R", ScanKind.BIN, "AB12-01-10R", {"bin": BinCode("AB", 12, 1, 10, "R")}),
    ("Z99-99-99R", ScanKind.BIN, "Z99-99-99R", {"bin": BinCode("Z", 99, 99, 99, "R")}),
    ("L:A03-07-2L", ScanKind.BIN, "A03-07-2L", {}),
    ("a03-07-2l", ScanKind.BIN, "A03-07-2L", {}),
    ("DOCK-01", ScanKind.LOCATION, "DOCK-01", {}),
    ("STAGE-A3", ScanKind.LOCATION, "STAGE-A3", {}),
    ("PACK-02", ScanKind.LOCATION, "PACK-02", {}),
    ("l:dock-01", ScanKind.LOCATION, "DOCK-01", {}),
    # any layout code scans after L:, even one that would not scan bare
    ("L:RETURNS", ScanKind.LOCATION, "RETURNS", {}),
    ("l:cold_room-2", ScanKind.LOCATION, "COLD_ROOM-2", {}),
    ("L:TOTE-0001", ScanKind.LOCATION, "TOTE-0001", {}),
    ("L:123", ScanKind.LOCATION, "123", {}),
    ("QUARANT-1", ScanKind.LOCATION, "QUARANT-1", {}),
    ("LPN000012348", ScanKind.LPN, "LPN000012348", {"number": 1234}),
    ("lpn000000017", ScanKind.LPN, "LPN000000017", {"number": 1}),
    ("TOTE-0001", ScanKind.TOTE, "TOTE-0001", {"number": 1}),
    ("TOTE-12345", ScanKind.TOTE, "TOTE-12345", {"number": 12345}),
    ("tote-0042", ScanKind.TOTE, "TOTE-0042", {"number": 42}),
    ("BADGE-picker-1", ScanKind.BADGE, "picker-1", {}),
    ("badge-Ann_07", ScanKind.BADGE, "Ann_07", {}),
    ("RMA-2024-0012", ScanKind.RMA, "2024-0012", {}),
    ("PO-4500012345", ScanKind.PO, "4500012345", {}),
    ("po-abc/7", ScanKind.PO, "ABC/7", {}),
    ("ASN-SHIP.77", ScanKind.ASN, "SHIP.77", {}),
]


@pytest.mark.parametrize(("text", "kind", "value", "extra"), LABELS)
def test_our_labels_parse(text: str, kind: ScanKind, value: str, extra: dict[str, Any]) -> None:
    scan = parse_scan(text)
    assert (scan.kind, scan.value) == (kind, value)
    for name, expected in extra.items():
        assert getattr(scan, name) == expected
    assert scan.elements == () and scan.gtin is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("LPN000012345", ErrorCode.BARCODE_CHECK_DIGIT),  # check digit is 8
        ("LPN12345", ErrorCode.BARCODE_LABEL_INVALID),
        ("LPN0000123480", ErrorCode.BARCODE_LABEL_INVALID),
        ("LPN000000000", ErrorCode.BARCODE_LABEL_INVALID),  # serial 0 is never issued
        ("LPN-000012348", ErrorCode.BARCODE_LABEL_INVALID),
        ("TOTE-1", ErrorCode.BARCODE_LABEL_INVALID),
        ("TOTE-0000", ErrorCode.BARCODE_LABEL_INVALID),
        ("TOTE-00001", ErrorCode.BARCODE_LABEL_INVALID),  # not canonical: would be TOTE-0001
        ("TOTE-1234567", ErrorCode.BARCODE_LABEL_INVALID),
        ("BADGE-ab", ErrorCode.BARCODE_LABEL_INVALID),
        ("BADGE-has space", ErrorCode.BARCODE_LABEL_INVALID),
        ("RMA-", ErrorCode.BARCODE_LABEL_INVALID),
        ("PO--1", ErrorCode.BARCODE_LABEL_INVALID),
        ("ASN-" + "9" * 31, ErrorCode.BARCODE_LABEL_INVALID),
        ("L:", ErrorCode.BARCODE_LABEL_INVALID),
        ("L:DOCK 1", ErrorCode.BARCODE_LABEL_INVALID),
        ("L:" + "X" * 33, ErrorCode.BARCODE_LABEL_INVALID),
        ("L:A03-07-02L", ErrorCode.BARCODE_LABEL_INVALID),
        ("A03-07-02L", ErrorCode.BARCODE_LABEL_INVALID),  # level is written without zero
        ("A00-07-2L", ErrorCode.BARCODE_LABEL_INVALID),  # aisle, bay, level start at 1
        ("A03-00-2L", ErrorCode.BARCODE_LABEL_INVALID),
        ("A03-07-0L", ErrorCode.BARCODE_LABEL_INVALID),
        ("A03-7-2L", ErrorCode.BARCODE_NOT_RECOGNISED),
        ("A03-07-2X", ErrorCode.BARCODE_NOT_RECOGNISED),
        ("ABC03-07-2L", ErrorCode.BARCODE_NOT_RECOGNISED),
        ("D-01", ErrorCode.BARCODE_NOT_RECOGNISED),  # area needs 2 letters
        ("HELLO", ErrorCode.BARCODE_NOT_RECOGNISED),
        ("PO-ſ1", ErrorCode.BARCODE_UNREADABLE),  # 'ſ'.upper() == 'S' must not sneak in
    ],
)
def test_damaged_or_foreign_labels_are_refused(text: str, code: ErrorCode) -> None:
    assert refused(text).code is code


def test_lpn_check_digit_error_says_what_was_expected() -> None:
    err = refused("LPN000012345")
    assert err.details == {"kind": "lpn", "data": "LPN000012345", "expected": 8}


def test_formatters_build_what_parses_back() -> None:
    assert format_bin("A", 3, 7, 2, "L") == "A03-07-2L"
    assert format_location("DOCK", "01") == "DOCK-01"
    assert format_lpn(1234) == "LPN000012348"
    assert format_tote(1) == "TOTE-0001"
    assert format_tote(123456) == "TOTE-123456"
    assert format_badge("picker-1") == "BADGE-picker-1"
    assert (format_cart_position(3), format_cart_position(99)) == ("POS-3", "POS-99")
    assert (format_rma("R1"), format_po("4500"), format_asn("A-1")) == (
        "RMA-R1",
        "PO-4500",
        "ASN-A-1",
    )
    assert location_label("A03-07-2L") == "A03-07-2L"
    assert location_label("DOCK-01") == "DOCK-01"
    assert location_label("RETURNS") == "L:RETURNS"  # would not scan bare
    assert location_label("TOTE-0001") == "L:TOTE-0001"  # would scan as a tote
    for text in ["A03-07-2L", "DOCK-01", "LPN000012348", "TOTE-0001"]:
        assert parse_scan(text).value == text
    assert parse_scan("BADGE-picker-1").value == "picker-1"


@pytest.mark.parametrize(
    "call",
    [
        lambda: format_bin("A", 100, 1, 1, "L"),
        lambda: format_bin("a", 1, 1, 1, "L"),
        lambda: format_bin("ABC", 1, 1, 1, "L"),
        lambda: format_bin("A", 1, 1, 1, "X"),
        lambda: format_bin("A", -1, 1, 1, "L"),
        lambda: format_bin("A", 0, 1, 1, "L"),
        lambda: format_bin("A", 1, 1, 0, "L"),
        lambda: location_label("A03-07-02L"),  # bin-shaped but not a bin
        lambda: location_label("dock-01"),
        lambda: location_label(""),
        lambda: format_location("TOTE", "1"),  # reserved word
        lambda: format_location("DOCK", "toolong99"),
        lambda: format_lpn(0),
        lambda: format_lpn(100_000_000),
        lambda: format_tote(0),
        lambda: format_tote(1_000_000),
        lambda: format_cart_position(0),
        lambda: format_cart_position(100),
        lambda: format_location("POS", "1"),  # reserved word
        lambda: format_badge("a b"),
        lambda: format_po("lower"),
        lambda: format_rma(""),
        lambda: format_gs1([("01", "09501101530004")]),  # wrong check digit
        lambda: format_gs1([("17", "251301")]),
        lambda: format_gs1([("14", "1")]),  # unknown AI
    ],
)
def test_formatters_refuse_values_outside_the_grammar(call: Any) -> None:
    with pytest.raises(ValueError):
        call()


def test_gs1_check_digit_matches_published_examples() -> None:
    assert gs1_check_digit("400638133393") == 1  # EAN-13 4006381333931
    assert gs1_check_digit("9638507") == 4  # GTIN-8 96385074
    assert gs1_check_digit("03600029145") == 2  # UPC-A 036000291452
    assert gs1_check_digit("34012345000000000") == 0  # SSCC 340123450000000000
    with pytest.raises(ValueError):
        gs1_check_digit("12a")


# --- GS1: bare GTINs and SSCCs --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "gtin"),
    [
        ("96385074", "00000096385074"),  # GTIN-8
        ("036000291452", "00036000291452"),  # GTIN-12 / UPC-A
        ("4006381333931", "04006381333931"),  # GTIN-13
        ("10012345678902", "10012345678902"),  # GTIN-14
        ("]E04006381333931", "04006381333931"),
        ("]E0036000291452", "00036000291452"),
        ("]E004252614", "00042100005264"),  # UPC-E, expanded
        ("]E496385074", "00000096385074"),
        ("]E3400638133393112", "04006381333931"),  # EAN-13 with a 2-digit add-on
        ("]I110012345678902", "10012345678902"),  # ITF-14
        ("]C04006381333931", "04006381333931"),  # plain Code 128 holding a GTIN
    ],
)
def test_bare_gtins(text: str, gtin: str) -> None:
    scan = parse_scan(text)
    assert (scan.kind, scan.value, scan.gtin) == (ScanKind.ITEM, gtin, gtin)
    assert scan.elements == ()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("96385075", ErrorCode.BARCODE_CHECK_DIGIT),
        ("036000291453", ErrorCode.BARCODE_CHECK_DIGIT),
        ("4006381333932", ErrorCode.BARCODE_CHECK_DIGIT),
        ("10012345678903", ErrorCode.BARCODE_CHECK_DIGIT),
        ("]E04006381333932", ErrorCode.BARCODE_CHECK_DIGIT),
        ("]E004252615", ErrorCode.BARCODE_CHECK_DIGIT),
        ("]E024252614", ErrorCode.BARCODE_UNREADABLE),  # UPC-E number system 2
        ("]E4400638133393", ErrorCode.BARCODE_UNREADABLE),  # EAN-8 symbol with 14 digits
        ("]E0ABC", ErrorCode.BARCODE_UNREADABLE),
        ("]I1123", ErrorCode.BARCODE_UNREADABLE),
        ("340123450000000001", ErrorCode.BARCODE_CHECK_DIGIT),  # SSCC
        ("]C100340123450000000001", ErrorCode.BARCODE_CHECK_DIGIT),
        ("]C10109501101530004", ErrorCode.BARCODE_CHECK_DIGIT),
        ("]C10209501101530004", ErrorCode.BARCODE_CHECK_DIGIT),
    ],
)
def test_check_digit_and_length_errors(text: str, code: ErrorCode) -> None:
    assert refused(text).code is code


def test_check_digit_error_reports_the_right_digit() -> None:
    assert refused("4006381333932").details["expected"] == 1
    assert refused("340123450000000001").details["expected"] == 0


@pytest.mark.parametrize("text", [SSCC, "00" + SSCC, "]C100" + SSCC, "]d200" + SSCC])
def test_sscc_is_a_license_plate(text: str) -> None:
    scan = parse_scan(text)
    assert (scan.kind, scan.value, scan.sscc) == (ScanKind.LPN, SSCC, SSCC)


# --- GS1: element strings -------------------------------------------------------------------

ELEMENT_STRINGS = [
    # data after ]C1, expected typed fields
    ("01" + GTIN, {"kind": ScanKind.ITEM, "gtin": GTIN}),
    ("00" + SSCC, {"kind": ScanKind.LPN, "sscc": SSCC}),
    (
        "00" + SSCC + "02" + GTIN + "37" + "48" + GS + "10" + "L42",
        {"kind": ScanKind.LPN, "sscc": SSCC, "content_gtin": GTIN, "count": 48, "lot": "L42"},
    ),
    (
        "02" + GTIN + "3712" + GS + "17260315",
        {"kind": ScanKind.ITEM_DATA, "content_gtin": GTIN, "count": 12},
    ),
    (
        "01" + GTIN + "17260315" + "10" + "AB-12/x",
        {"gtin": GTIN, "expiry": dt.date(2026, 3, 15), "lot": "AB-12/x"},
    ),
    ("01" + GTIN + "10" + "LOT7" + GS + "21" + "SN001", {"lot": "LOT7", "serial": "SN001"}),
    ("01" + GTIN + "21" + "12345" + GS + "10" + "9", {"serial": "12345", "lot": "9"}),
    ("01" + GTIN + "30" + "0005", {"count": 5}),
    ("01" + GTIN + "37" + "99999999", {"count": 99_999_999}),
    ("01" + GTIN + "11" + "250102" + "17" + "270102", {"expiry": dt.date(2027, 1, 2)}),
    ("10" + "LOT7" + GS + "17" + "261231", {"kind": ScanKind.ITEM_DATA, "lot": "LOT7"}),
    # day 00: the last day of the month, leap years included
    ("01" + GTIN + "17" + "250100", {"expiry": dt.date(2025, 1, 31)}),
    ("01" + GTIN + "17" + "240200", {"expiry": dt.date(2024, 2, 29)}),
    ("01" + GTIN + "17" + "250200", {"expiry": dt.date(2025, 2, 28)}),
    ("01" + GTIN + "17" + "250400", {"expiry": dt.date(2025, 4, 30)}),
    # other AIs are kept as elements, not refused
    ("01" + GTIN + "3103" + "001250" + "15" + "250601", {"gtin": GTIN}),
    ("01" + GTIN + "10" + "A" + GS + "91" + "INTERNAL-1", {"lot": "A"}),
    # a repeated AI with the same value is harmless
    ("01" + GTIN + "10" + "A" + GS + "10" + "A", {"lot": "A"}),
]


@pytest.mark.parametrize(("data", "expected"), ELEMENT_STRINGS)
def test_gs1_element_strings(data: str, expected: dict[str, Any]) -> None:
    scan = parse_scan("]C1" + data)
    expected = {"kind": ScanKind.ITEM, **expected}
    got = {name: getattr(scan, name) for name in expected}
    assert got == expected
    assert scan.data == data
    # The raw element list is there too, and reads back as HRI.
    assert scan.elements and scan.hri.startswith("(")


def test_gs1_elements_are_kept_in_order_with_titles() -> None:
    scan = parse_scan("]C101" + GTIN + "17260315" + "10" + "AB12" + GS + "21" + "S9")
    assert [(e.ai, e.value) for e in scan.elements] == [
        ("01", GTIN),
        ("17", "260315"),
        ("10", "AB12"),
        ("21", "S9"),
    ]
    assert scan.elements[2].title == "BATCH/LOT"
    assert scan.hri == f"(01){GTIN}(17)260315(10)AB12(21)S9"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("14" + "123456", ErrorCode.BARCODE_GS1_UNKNOWN_AI),
        ("01" + GTIN + "14" + "1", ErrorCode.BARCODE_GS1_UNKNOWN_AI),
        ("01" + GTIN + "17" + "251301", ErrorCode.BARCODE_GS1_DATE_INVALID),  # month 13
        ("01" + GTIN + "17" + "250230", ErrorCode.BARCODE_GS1_DATE_INVALID),  # 30 February
        ("01" + GTIN + "17" + "250001", ErrorCode.BARCODE_GS1_DATE_INVALID),  # month 00
        ("01" + GTIN + "17" + "2501", ErrorCode.BARCODE_GS1_FIELD_INVALID),  # too short
        ("01" + "0950110153", ErrorCode.BARCODE_GS1_FIELD_INVALID),
        ("01" + GTIN + "10", ErrorCode.BARCODE_GS1_FIELD_INVALID),  # lot with no data
        ("01" + GTIN + "30" + GS + "10A", ErrorCode.BARCODE_GS1_FIELD_INVALID),  # empty count
        ("01" + GTIN + "37" + "0", ErrorCode.BARCODE_GS1_FIELD_INVALID),  # count 0
        ("01" + GTIN + "10" + "A" + GS + "10" + "B", ErrorCode.BARCODE_GS1_FIELD_INVALID),
        ("01" + GTIN + "01" + "10012345678902", ErrorCode.BARCODE_GS1_FIELD_INVALID),
        ("A03-07-2L", ErrorCode.BARCODE_GS1_UNKNOWN_AI),  # ]C1 forces GS1: no own labels
    ],
)
def test_gs1_refusals(data: str, code: ErrorCode) -> None:
    assert refused("]C1" + data).code is code


def test_gs1_date_error_names_the_field() -> None:
    err = refused("]C101" + GTIN + "17251301")
    assert err.details["ai"] == "17" and err.details["data"] == "251301"


# --- AIM symbology identifiers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("aim", "name", "mode"),
    [
        ("]C1", "GS1-128", SymbologyMode.GS1),
        ("]d2", "GS1 DataMatrix", SymbologyMode.GS1),
        ("]Q3", "GS1 QR Code", SymbologyMode.GS1),
        ("]e0", "GS1 DataBar", SymbologyMode.GS1),
        ("]E0", "EAN-13 / UPC-A / UPC-E", SymbologyMode.GTIN),
        ("]E4", "EAN-8", SymbologyMode.GTIN),
        ("]A0", "Code 39", SymbologyMode.OTHER),
        ("]C0", "Code 128", SymbologyMode.OTHER),
        ("]Q1", "QR Code", SymbologyMode.OTHER),
        ("]d1", "Data Matrix", SymbologyMode.OTHER),
        ("]A4", "Code 39", SymbologyMode.OTHER),  # unnamed modifier: named by family
    ],
)
def test_aim_identifiers_are_stripped_and_recorded(
    aim: str, name: str, mode: SymbologyMode
) -> None:
    sym = symbology_for(aim)
    assert sym is not None and (sym.aim, sym.name, sym.mode) == (aim, name, mode)
    assert symbology_for(aim[1:]) == sym


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("]A0A03-07-2L", ScanKind.BIN),
        ("]C0LPN000012348", ScanKind.LPN),
        ("]Q1TOTE-0001", ScanKind.TOTE),
        ("]d1BADGE-picker-1", ScanKind.BADGE),
        ("]C10109501101530003", ScanKind.ITEM),
        ("]d20109501101530003", ScanKind.ITEM),
        ("]Q30109501101530003", ScanKind.ITEM),
        ("]e00109501101530003", ScanKind.ITEM),
    ],
)
def test_scan_with_aim_prefix(text: str, kind: ScanKind) -> None:
    scan = parse_scan(text)
    assert scan.kind is kind
    assert scan.symbology is not None and scan.symbology.aim == text[:3]
    assert scan.data == text[3:] and scan.raw == text


def test_plain_symbologies_never_read_as_gs1() -> None:
    # Code 128 without FNC1 or Code 39 holding AI-looking digits is not a GS1 message ...
    assert refused("]C00109501101530003").code is ErrorCode.BARCODE_NOT_RECOGNISED
    assert refused("]A0" + "0109501101530003").code is ErrorCode.BARCODE_NOT_RECOGNISED
    # ... and GS1 symbologies never read as our labels.
    assert refused("]C1LPN000012348").code is ErrorCode.BARCODE_GS1_UNKNOWN_AI
    assert refused("]E0A03-07-2L").code is ErrorCode.BARCODE_UNREADABLE


def test_symbology_passed_by_the_driver() -> None:
    scan = parse_scan("0109501101530003", symbology="]C1")
    assert scan.kind is ScanKind.ITEM and scan.symbology == symbology_for("C1")
    assert parse_scan("0109501101530003", symbology="C1").gtin == GTIN
    assert refused("0109501101530003", symbology="]C0").code is ErrorCode.BARCODE_NOT_RECOGNISED
    # An identifier in the data wins over the driver's.
    assert parse_scan("]C10109501101530003", symbology="]C0").kind is ScanKind.ITEM
    # Something that is not an identifier is ignored: the content decides.
    scan = parse_scan("A03-07-2L", symbology="EAN13")
    assert scan.kind is ScanKind.BIN and scan.symbology is None


def test_without_symbology_content_decides() -> None:
    assert parse_scan("0109501101530003").kind is ScanKind.ITEM  # GS1 message
    assert parse_scan("01" + GTIN + "10ABC").lot == "ABC"
    assert parse_scan("4006381333931").kind is ScanKind.ITEM  # bare EAN-13
    # No sign of GS1 and no first field: not recognised rather than "unknown AI".
    assert refused("12345").code is ErrorCode.BARCODE_NOT_RECOGNISED
    assert refused("]X").code is ErrorCode.BARCODE_NOT_RECOGNISED


# --- GS, substitutes, trimming --------------------------------------------------------------

LOT_THEN_EXPIRY = "01" + GTIN + "10" + "ABC" + "{gs}" + "17" + "260331"


@pytest.mark.parametrize("sub", ["|", "^", "~", "<GS>", "\x1e"])
def test_gs_substitutes_are_mapped_back(sub: str) -> None:
    scan = parse_scan("]C1" + LOT_THEN_EXPIRY.format(gs=sub), gs_substitute=sub)
    assert (scan.lot, scan.expiry) == ("ABC", dt.date(2026, 3, 31))
    assert GS in scan.data and sub not in scan.data


def test_real_gs_still_works_when_a_substitute_is_configured() -> None:
    scan = parse_scan("]C1" + LOT_THEN_EXPIRY.format(gs=GS), gs_substitute="|")
    assert scan.lot == "ABC"


def test_unconfigured_substitute_is_refused_not_swallowed() -> None:
    err = refused("]C1" + LOT_THEN_EXPIRY.format(gs="|"))
    assert err.code is ErrorCode.BARCODE_GS1_SEPARATOR_MISSING
    assert err.details["found"] == "|"
    err = refused("]C101" + GTIN + "|10ABC")
    assert err.code is ErrorCode.BARCODE_GS1_UNKNOWN_AI and "hint" in err.details


def test_substitute_never_touches_our_labels() -> None:
    assert parse_scan("BADGE-a-b-c", gs_substitute="-").value == "a-b-c"


def test_leading_and_trailing_gs_are_ignored() -> None:
    assert parse_scan("]d2" + GS + "01" + GTIN + "10AB" + GS).lot == "AB"


@pytest.mark.parametrize(
    "text",
    ["A03-07-2L\r\n", "A03-07-2L\n", "  A03-07-2L\t", "\r\nA03-07-2L\r", "]A0A03-07-2L\r\n"],
)
def test_whitespace_around_a_scan_is_trimmed(text: str) -> None:
    assert parse_scan(text).value == "A03-07-2L"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        (" \r\n", "empty"),
        ("]C1", "empty"),
        ("]C1" + GS + GS, "empty"),
        ("01" + GTIN + "10A\x00B", "control or non-ASCII character"),
        ("01" + GTIN + "10Aé", "control or non-ASCII character"),
        ("x" * 5000, "too long"),
    ],
)
def test_unreadable(text: str, reason: str) -> None:
    err = refused(text)
    assert err.code is ErrorCode.BARCODE_UNREADABLE and err.details["reason"] == reason


# --- the lost GS ----------------------------------------------------------------------------

LOST_GS = "]C101095011015300031017LOT1231725010110"


def test_lost_gs_lot_that_swallowed_the_expiry_is_refused() -> None:
    # Without GS biip alone would read lot "17LOT1231725010110" and no expiry.
    err = refused(LOST_GS)
    assert err.code is ErrorCode.BARCODE_GS1_SEPARATOR_MISSING
    assert err.details["ai"] == "10" and err.details["value"] == "17LOT1231725010110"
    assert err.details["suspect"] == "(17)250101(10)"


def test_same_label_with_its_gs() -> None:
    with_gs = "]C101095011015300031017LOT123" + GS + "1725010110"
    # With the GS the fields separate cleanly; the trailing "10" is a lot AI with no data.
    err = refused(with_gs)
    assert err.code is ErrorCode.BARCODE_GS1_FIELD_INVALID and err.details["ai"] == "10"
    # The label as meant, (01)(10)17LOT123 GS (17)250101, reads right.
    scan = parse_scan("]C101095011015300031017LOT123" + GS + "17250101")
    assert (scan.lot, scan.expiry) == ("17LOT123", dt.date(2025, 1, 1))


@pytest.mark.parametrize(
    "data",
    [
        "01" + GTIN + "10" + "LOT123" + "17250101",  # expiry at the end of the lot
        "01" + GTIN + "21" + "SN9" + "17250101" + "10AB",  # serial ate expiry and lot
        "10" + "B" + "01" + GTIN,  # lot ate the GTIN
        "02" + GTIN + "37" + "12" + "17250101",  # count longer than 8 digits
        "01" + GTIN + "10" + "ABCDEFGHIJKLMNOPQRSTU",  # lot longer than 20
        "01" + GTIN + "10" + "ABCDEFGHIJKLMNOPQRST" + "21X",  # full lot, then no GS
        "00" + SSCC + "10" + "X" + "15250101",  # best-before too
    ],
)
def test_lost_gs_cases_detected(data: str) -> None:
    err = refused("]C1" + data)
    assert err.code is ErrorCode.BARCODE_GS1_SEPARATOR_MISSING


def test_lost_gs_cases_not_detectable() -> None:
    # Documented limits: a lot that runs into a serial or a count reads as one longer lot,
    # and a lot ending in a date is trusted when the label has its own expiry field.
    assert parse_scan("]C101" + GTIN + "10LOT1" + "21SER1").lot == "LOT121SER1"
    assert parse_scan("]C101" + GTIN + "10LOT1" + "3712").lot == "LOT13712"
    assert parse_scan("]C101" + GTIN + "17260101" + "10B17250101").lot == "B17250101"


# --- keyed-in HRI and Digital Link ----------------------------------------------------------


def test_keyed_in_hri() -> None:
    scan = parse_scan(f"(01){GTIN}(17)250100(10)AB 12")
    assert (scan.gtin, scan.expiry, scan.lot) == (GTIN, dt.date(2025, 1, 31), "AB12")
    assert refused("(14)123").code is ErrorCode.BARCODE_GS1_UNKNOWN_AI
    assert refused(f"(01){GTIN}(17)251301").code is ErrorCode.BARCODE_GS1_DATE_INVALID
    assert refused("(01)").code is ErrorCode.BARCODE_NOT_RECOGNISED


def test_digital_link() -> None:
    scan = parse_scan(f"]Q1https://id.gs1.org/01/{GTIN}/10/AB12?17=260101")
    assert (scan.kind, scan.gtin, scan.lot, scan.expiry) == (
        ScanKind.ITEM,
        GTIN,
        "AB12",
        dt.date(2026, 1, 1),
    )
    err = refused("https://example.com/nothing-here")
    assert err.code is ErrorCode.BARCODE_GS1_FIELD_INVALID


# --- expect ---------------------------------------------------------------------------------


def test_unexpected_kind_is_refused_with_what_was_found() -> None:
    err = refused("4006381333931", expect={ScanKind.BIN})
    assert err.code is ErrorCode.BARCODE_UNEXPECTED
    assert err.details == {"found": "item", "expected": ["bin"]}
    err = refused("LPN000012348", expect=PLACE_KINDS)
    assert err.details == {"found": "lpn", "expected": ["bin", "location"]}


def test_expected_kind_passes() -> None:
    assert parse_scan("DOCK-01", expect=PLACE_KINDS).kind is ScanKind.LOCATION
    assert parse_scan(SSCC, expect={ScanKind.LPN}).sscc == SSCC


def test_a_malformed_scan_is_refused_for_what_it_is_even_when_unexpected() -> None:
    assert refused("4006381333932", expect={ScanKind.BIN}).code is ErrorCode.BARCODE_CHECK_DIGIT


# --- the result and the error ---------------------------------------------------------------


def test_scan_is_frozen() -> None:
    scan = parse_scan("A03-07-2L")
    with pytest.raises(dataclasses.FrozenInstanceError):
        scan.value = "B01-01-1L"  # type: ignore[misc]
    assert isinstance(scan, Scan)


def test_barcode_error_carries_catalogue_sentence_and_status() -> None:
    err = refused(LOST_GS)
    assert err.text == CATALOGUE[ErrorCode.BARCODE_GS1_SEPARATOR_MISSING].text
    assert err.status == 422


def test_format_gs1_puts_gs_only_where_needed() -> None:
    pairs = [("01", GTIN), ("10", "AB"), ("17", "260101"), ("21", "S1")]
    assert format_gs1(pairs) == f"01{GTIN}10AB{GS}17260101" + "21S1"
    assert format_gs1_hri(pairs) == f"(01){GTIN}(10)AB(17)260101(21)S1"
    scan = parse_scan("]C1" + format_gs1(pairs))
    assert (scan.lot, scan.serial) == ("AB", "S1")


# --- docs that cannot drift -----------------------------------------------------------------


def test_docs_cover_every_kind_code_and_named_aim() -> None:
    from protocols.barcodes import AIM_NAMES

    text = DOCS.read_text()
    for kind in ScanKind:
        assert f"`{kind.value}`" in text, kind
    for code in ErrorCode:
        if code.value.startswith("BARCODE_"):
            assert f"`{code.value}`" in text, code
    for aim in AIM_NAMES:
        assert re.search(re.escape(f"`{aim}`"), text), aim


def test_cart_position_labels_scan_with_their_number() -> None:
    scan = parse_scan("pos-7")
    assert (scan.kind, scan.value, scan.number) == (ScanKind.CART_POSITION, "POS-7", 7)
    assert parse_scan(format_cart_position(12)).number == 12
    for bad in ["POS-0", "POS-07", "POS-100", "POS-A"]:
        err = refused(bad)
        assert err.code is ErrorCode.BARCODE_LABEL_INVALID
        assert err.details["kind"] == "cart_position"
