"""The barcode grammar: GS1 (through biip) and our own labels, for terminal and server alike.

Call `parse_scan` for every scan; print labels with the `format_*` helpers so what is printed
always parses back. The grammar, AIM identifiers, GS handling and error codes are in
docs/barcodes.md.
"""

from protocols.barcodes.aim import AIM_NAMES, symbology_for
from protocols.barcodes.gs1 import format_gs1, format_gs1_hri
from protocols.barcodes.labels import (
    LOCATION_PREFIX,
    format_asn,
    format_badge,
    format_bin,
    format_cart_position,
    format_location,
    format_lpn,
    format_po,
    format_rma,
    format_tote,
    gs1_check_digit,
    location_label,
)
from protocols.barcodes.model import (
    GS,
    PLACE_KINDS,
    BarcodeError,
    BinCode,
    GS1Element,
    Scan,
    ScanKind,
    Symbology,
    SymbologyMode,
)
from protocols.barcodes.scan import MAX_SCAN_LENGTH, parse_scan

__all__ = [
    "AIM_NAMES",
    "GS",
    "LOCATION_PREFIX",
    "MAX_SCAN_LENGTH",
    "PLACE_KINDS",
    "BarcodeError",
    "BinCode",
    "GS1Element",
    "Scan",
    "ScanKind",
    "Symbology",
    "SymbologyMode",
    "format_asn",
    "format_badge",
    "format_bin",
    "format_cart_position",
    "format_gs1",
    "format_gs1_hri",
    "format_location",
    "format_lpn",
    "format_po",
    "format_rma",
    "format_tote",
    "gs1_check_digit",
    "location_label",
    "parse_scan",
    "symbology_for",
]
