"""ZPL for LPN and bin labels: exact field data, FNC1 placement, escaping, and that what the
printer would draw scans back through our own grammar."""

from __future__ import annotations

import re
from datetime import date

import pytest
from label_helpers import barcode_fields, scan_zpl_barcode, zpl_symbols

from edge_server.labels.zpl import (
    LpnLabel,
    bin_label_zpl,
    code128_field,
    lpn_label_zpl,
    zpl_text,
)
from protocols.barcodes import GS, ScanKind, format_gs1, parse_scan

GTIN = "09501101530003"
SSCC = "340123450000000000"


def _label(**kw: object) -> LpnLabel:
    values: dict[str, object] = {
        "lpn": "LPN000012348",
        "sscc": None,
        "sku": "SKU-1",
        "description": "Blue widget",
        "gtin": GTIN,
        "lot": "AB12",
        "expiry": date(2025, 1, 31),
        "qty": 12,
    }
    values.update(kw)
    return LpnLabel(**values)  # type: ignore[arg-type]


def _text_fields(zpl: str) -> list[str]:
    return re.findall(r"\^FH\^FD(.*?)\^FS", zpl)


def test_lpn_label_barcodes_are_exactly_the_lpn_and_gs1_content():
    zpl = lpn_label_zpl(_label())
    assert zpl.startswith("^XA^CI28^PW812^LL1218")
    assert zpl.rstrip().endswith("^XZ")
    lpn_fd, content_fd = barcode_fields(zpl)
    # Start B for "LPN0", then subset C for the 8 remaining digits.
    assert lpn_fd == ">:LPN0>500012348"
    # Start C + FNC1 (GS1-128), fixed fields, FNC1 after the variable (30), then the lot in B.
    assert content_fd == ">;>80109501101530003172501313012>810>6AB12"
    # Mode N and no interpretation line: we print the HRI ourselves, under each barcode.
    assert zpl.count("^BCN,220,N,N,N,N") == 1 and zpl.count("^BCN,240,N,N,N,N") == 1
    texts = _text_fields(zpl)
    assert "LPN000012348" in texts
    assert "(01)09501101530003(17)250131(30)12(10)AB12" in texts
    for expected in ("SKU-1", "Blue widget", "AB12", "2025-01-31", "12"):
        assert expected in texts


def test_fnc1_is_first_and_separates_only_variable_fields():
    pairs = [("01", GTIN), ("10", "1234567"), ("17", "250131"), ("37", "5")]
    fd = code128_field(format_gs1(pairs), gs1=True)
    assert fd.startswith(">;>8")
    symbols = zpl_symbols(fd)
    assert symbols[:2] == [105, 102]  # start C, FNC1 in first position
    # Exactly one FNC1 as separator: after the lot; (17) is fixed and (37) is last.
    assert symbols.count(102) == 2
    assert fd == ">;>8010950110153000310123456>67>81>57250131375"
    assert scan_zpl_barcode(fd).bytes.decode() == format_gs1(pairs)


def test_printed_gs1_barcode_scans_back_with_every_field():
    label = _label(lot="X>Y-9", qty=240)
    _, content_fd = barcode_fields(lpn_label_zpl(label))
    result = scan_zpl_barcode(content_fd)
    assert result.symbology_identifier == "]C1"
    data = result.bytes.decode("ascii")
    assert data == f"01{GTIN}17250131" + f"30240{GS}10X>Y-9"
    scan = parse_scan("]C1" + data)
    assert scan.kind is ScanKind.ITEM
    assert (scan.gtin, scan.lot, scan.expiry, scan.count) == (GTIN, "X>Y-9", date(2025, 1, 31), 240)


def test_sscc_label_is_gs1_128_with_ai_00_and_content_02_37():
    zpl = lpn_label_zpl(_label(lpn=None, sscc=SSCC))
    sscc_fd, content_fd = barcode_fields(zpl)
    assert sscc_fd == ">;>800340123450000000000"
    result = scan_zpl_barcode(sscc_fd)
    scan = parse_scan(result.symbology_identifier + result.bytes.decode())
    assert scan.kind is ScanKind.LPN and scan.sscc == SSCC
    content = scan_zpl_barcode(content_fd)
    scan = parse_scan(content.symbology_identifier + content.bytes.decode())
    assert scan.kind is ScanKind.ITEM_DATA
    assert (scan.content_gtin, scan.count, scan.lot) == (GTIN, 12, "AB12")
    assert "(00)340123450000000000" in _text_fields(zpl)


def test_lpn_code128_scans_back_as_the_lpn():
    lpn_fd = barcode_fields(lpn_label_zpl(_label()))[0]
    result = scan_zpl_barcode(lpn_fd)
    assert result.symbology_identifier == "]C0"
    assert parse_scan(result.text, symbology="]C0").value == "LPN000012348"


def test_no_gtin_means_no_content_barcode():
    zpl = lpn_label_zpl(_label(gtin=None))
    assert len(barcode_fields(zpl)) == 1


def test_user_text_cannot_break_out_of_its_field():
    nasty = "Evil ^XZ^XA~JA \\& under_score é"
    zpl = lpn_label_zpl(_label(sku="S^K~U", description=nasty))
    for text in _text_fields(zpl):
        assert not set(text) & set("^~\\"), text
    description = next(t for t in _text_fields(zpl) if t.startswith("Evil"))
    assert description == "Evil _5EXZ_5EXA_7EJA _5C& under_5Fscore _C3_A9"
    assert "S_5EK_7EU" in _text_fields(zpl)
    # Exactly one label format, whatever the text said.
    assert zpl.count("^XA") == 1 and zpl.count("^XZ") == 1


def test_long_description_is_truncated_and_control_characters_dropped():
    assert zpl_text("a\x00b\nc") == "a b c"
    long = "word " * 40
    out = zpl_text(long, 60)
    assert len(out) <= 60 and out.endswith("...")
    zpl = lpn_label_zpl(_label(description=long))
    assert any(t.endswith("...") and len(t) <= 60 for t in _text_fields(zpl))


def test_bin_label_prints_bare_codes_bare_and_odd_codes_with_prefix():
    zpl = bin_label_zpl("A03-07-2L", zone="PICK")
    assert zpl.startswith("^XA^CI28^PW812^LL406")
    assert barcode_fields(zpl) == [">:A03-07-2L"]
    texts = _text_fields(zpl)
    assert texts[0] == "A03-07-2L"  # the big text
    assert "A03-07-2L   zone PICK" in texts  # under the barcode
    odd = bin_label_zpl("COLD_ROOM-2")
    assert barcode_fields(odd) == [">:L:COLD_ROOM-2"]
    result = scan_zpl_barcode(barcode_fields(odd)[0])
    scan = parse_scan(result.text, symbology="]C0")
    assert (scan.kind, scan.value) == (ScanKind.LOCATION, "COLD_ROOM-2")
    assert _text_fields(odd)[0] == "COLD_5FROOM-2"


def test_digits_use_subset_c_only_when_it_is_shorter():
    assert code128_field("12345678") == ">;12345678"
    assert code128_field("A12") == ">:A12"
    assert code128_field("A123456") == ">:A>5123456"
    assert code128_field("A1234567") == ">:A1>5234567"
    with pytest.raises(ValueError):
        code128_field("BAD^FS")
    with pytest.raises(ValueError):
        code128_field("A" + GS + "B")  # GS only means FNC1 in a GS1 symbol
