"""`parse_scan`: one function the terminal and the server both call for every scan."""

from __future__ import annotations

from collections.abc import Collection

from protocols.barcodes import gs1
from protocols.barcodes.aim import split_aim, symbology_for
from protocols.barcodes.labels import parse_label
from protocols.barcodes.model import GS, BarcodeError, Scan, ScanKind, Symbology, SymbologyMode
from protocols.errors import ErrorCode

__all__ = ["MAX_SCAN_LENGTH", "parse_scan"]

#: Longer input is refused before any parsing (a GS1 DataMatrix holds at most ~2,300 chars).
MAX_SCAN_LENGTH = 3000

# Outer whitespace a scanner or keyboard wedge adds (CR/LF/TAB suffixes). GS is not in it:
# str.strip() with no argument would eat ASCII 29, which Python counts as whitespace.
_TRIM = " \t\r\n\x0b\x0c"
_GTIN_LENGTHS = (8, 12, 13, 14)


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _unreadable(**details: object) -> BarcodeError:
    return BarcodeError(ErrorCode.BARCODE_UNREADABLE, dict(details))


def parse_scan(
    text: str,
    *,
    symbology: str | None = None,
    gs_substitute: str | None = None,
    expect: Collection[ScanKind] | None = None,
) -> Scan:
    """Classify one scan and return it typed, or raise `BarcodeError` (and nothing else).

    - `symbology`: the AIM identifier (`"]C1"` or `"C1"`) when the driver knows it out of
      band; an identifier at the start of `text` wins. Unreadable values are ignored.
    - `gs_substitute`: what this scanner sends instead of GS (ASCII 29), e.g. `"|"` or
      `"<GS>"`; mapped back to GS before GS1 parsing (never inside our own labels).
    - `expect`: the kinds acceptable at this step; another kind raises BARCODE_UNEXPECTED.
    """
    scan = _classify(text, symbology, gs_substitute)
    if expect is not None and scan.kind not in expect:
        raise BarcodeError(
            ErrorCode.BARCODE_UNEXPECTED,
            {"found": scan.kind.value, "expected": sorted(k.value for k in expect)},
        )
    return scan


def _classify(text: str, symbology: str | None, gs_substitute: str | None) -> Scan:
    if not isinstance(text, str):
        raise _unreadable(reason="not text")
    if len(text) > MAX_SCAN_LENGTH:
        raise _unreadable(reason="too long", length=len(text))
    sym, data = split_aim(text.strip(_TRIM))
    if sym is None and isinstance(symbology, str):
        sym = symbology_for(symbology)
    data = data.strip(_TRIM)
    mode = sym.mode if sym is not None else None

    if mode is not SymbologyMode.GS1 and mode is not SymbologyMode.GTIN:
        label = parse_label(data)
        if label is not None:
            return Scan(
                kind=label.kind,
                value=label.value,
                raw=text,
                data=data,
                symbology=sym,
                bin=label.bin,
                number=label.number,
            )

    if isinstance(gs_substitute, str) and gs_substitute:
        data = data.replace(gs_substitute, GS)
    # A leading GS is FNC1-in-first-position sent as data; a trailing one is harmless.
    data = data.strip(GS)
    if not data:
        raise _unreadable(reason="empty")
    for i, ch in enumerate(data):
        if not (" " <= ch <= "~" or ch == GS):
            raise _unreadable(reason="control or non-ASCII character", position=i, char=ord(ch))

    if sym is not None and mode is SymbologyMode.GTIN:
        return _item(text, data, sym, _gtin_for_symbology(sym, data))
    if _digits(data) and mode is not SymbologyMode.GS1:
        if len(data) in _GTIN_LENGTHS:
            return _item(text, data, sym, gs1.parse_bare_gtin(data))
        if len(data) == 18:
            sscc = gs1.parse_bare_sscc(data)
            return Scan(ScanKind.LPN, sscc, text, data, sym, sscc=sscc)
    if data.startswith(("http://", "https://")) and mode is not SymbologyMode.GS1:
        return _gs1_scan(text, data, sym, gs1.parse_digital_link(data))
    if mode is SymbologyMode.OTHER:
        # A plain symbology (Code 128 without FNC1, Code 39, ...) never carries GS1 fields.
        raise BarcodeError(
            ErrorCode.BARCODE_NOT_RECOGNISED, {"symbology": sym.aim if sym else None}
        )
    if mode is None and data.startswith("("):
        return _gs1_scan(text, data, sym, gs1.parse_hri(data))
    try:
        fields = gs1.parse_element_string(data)
    except BarcodeError as exc:
        if mode is None and gs1.is_first_field_error(exc):
            # Nothing said this was GS1 and not even its first field reads as one.
            raise BarcodeError(ErrorCode.BARCODE_NOT_RECOGNISED, {"gs1": exc.details}) from None
        raise BarcodeError(exc.code, exc.details) from None
    return _gs1_scan(text, data, sym, fields)


def _gtin_for_symbology(sym: Symbology, data: str) -> str:
    """EAN/UPC/ITF-14 data: a bare GTIN of the length the symbology carries."""
    if sym.aim == "]E3" and _digits(data) and len(data) in (15, 18):
        data = data[:13]  # EAN-13 + 2- or 5-digit add-on; the add-on is not part of the GTIN
    if not _digits(data):
        raise _unreadable(reason="EAN/UPC data must be digits", symbology=sym.aim)
    if sym.aim == "]E0" and len(data) == 8:
        return gs1.parse_upc_e(data)
    allowed = {"]E0": (12, 13), "]E3": (12, 13), "]E4": (8,), "]I1": (14,)}[sym.aim]
    if len(data) not in allowed:
        raise _unreadable(reason="wrong length for symbology", symbology=sym.aim, length=len(data))
    return gs1.parse_bare_gtin(data)


def _item(text: str, data: str, sym: Symbology | None, gtin: str) -> Scan:
    # A bare EAN/UPC/ITF-14 carries no GS1 element strings: `elements` stays empty.
    return Scan(ScanKind.ITEM, gtin, text, data, sym, gtin=gtin)


def _gs1_scan(text: str, data: str, sym: Symbology | None, f: gs1.GS1Fields) -> Scan:
    if f.sscc is not None:
        kind, value = ScanKind.LPN, f.sscc
    elif f.gtin is not None:
        kind, value = ScanKind.ITEM, f.gtin
    else:
        kind, value = ScanKind.ITEM_DATA, "".join(e.hri for e in f.elements)
    return Scan(
        kind=kind,
        value=value,
        raw=text,
        data=data,
        symbology=sym,
        gtin=f.gtin,
        content_gtin=f.content_gtin,
        sscc=f.sscc,
        lot=f.lot,
        expiry=f.expiry,
        serial=f.serial,
        count=f.count,
        elements=f.elements,
    )
