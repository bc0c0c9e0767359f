"""AIM symbology identifiers (ISO/IEC 15424): `]` + code character + modifier.

Scanners configured to transmit them put e.g. `]C1` in front of the data; drivers that learn
the symbology out of band (Android intents, some serial protocols) pass it separately.
"""

from __future__ import annotations

from protocols.barcodes.model import Symbology, SymbologyMode

__all__ = ["AIM_NAMES", "split_aim", "symbology_for"]

# Code characters ISO/IEC 15424 defines; a `]` followed by anything else is not an identifier.
_CODE_CHARS = frozenset("ABCDEFGHIKLMNOPQRSTUXYZcdeopsz")
_MODIFIER_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

#: Names of the identifiers a warehouse meets; others are still accepted, named by family.
AIM_NAMES: dict[str, str] = {
    "]A0": "Code 39",
    "]C0": "Code 128",
    "]C1": "GS1-128",
    "]C2": "Code 128 (AIM, FNC1 in second position)",
    "]E0": "EAN-13 / UPC-A / UPC-E",
    "]E1": "EAN two-digit add-on",
    "]E2": "EAN five-digit add-on",
    "]E3": "EAN-13 / UPC with add-on",
    "]E4": "EAN-8",
    "]I0": "Interleaved 2 of 5",
    "]I1": "ITF-14",
    "]F0": "Codabar",
    "]G0": "Code 93",
    "]L0": "PDF417",
    "]Q1": "QR Code",
    "]Q3": "GS1 QR Code",
    "]d1": "Data Matrix",
    "]d2": "GS1 DataMatrix",
    "]e0": "GS1 DataBar",
    "]e1": "GS1 Composite",
    "]e2": "GS1 Composite",
    "]J1": "GS1 DotCode",
    "]z0": "Aztec Code",
}

_FAMILY = {
    "A": "Code 39",
    "B": "Telepen",
    "C": "Code 128",
    "D": "Code One",
    "E": "EAN/UPC",
    "F": "Codabar",
    "G": "Code 93",
    "H": "Code 11",
    "I": "Interleaved 2 of 5",
    "K": "Code 16K",
    "L": "PDF417",
    "M": "MSI",
    "N": "Anker",
    "O": "Codablock",
    "P": "Plessey",
    "Q": "QR Code",
    "R": "Straight 2 of 5",
    "S": "Straight 2 of 5",
    "T": "Code 49",
    "U": "MaxiCode",
    "X": "Other",
    "Y": "System expansion",
    "Z": "Non-barcode",
    "c": "Channel Code",
    "d": "Data Matrix",
    "e": "GS1 DataBar",
    "o": "OCR",
    "p": "PosiCode",
    "s": "SuperCode",
    "z": "Aztec Code",
}

# Identifiers whose data is a GS1 element string, and those whose data is a bare GTIN.
# `]J1` is DotCode with FNC1 first; ITF-14 (`]I1`) carries a GTIN-14.
_GS1_AIMS = frozenset({"]C1", "]d2", "]Q3", "]e0", "]e1", "]e2", "]J1"})
_GTIN_AIMS = frozenset({"]E0", "]E3", "]E4", "]I1"})


def _aim_length(text: str) -> int:
    """Length of the identifier at the start of `text`, or 0 if there is none."""
    if len(text) < 3 or text[0] != "]" or text[1] not in _CODE_CHARS:
        return 0
    if text[1] == "Y":
        # System expansion: the first modifier digit says how many more follow.
        if not ("0" <= text[2] <= "9"):
            return 0
        length = 3 + int(text[2]) + 1
        if len(text) < length or not all(c in _MODIFIER_CHARS for c in text[3:length]):
            return 0
        return length
    return 3 if text[2] in _MODIFIER_CHARS else 0


def symbology_for(aim: str) -> Symbology | None:
    """The symbology for an identifier given as `]C1` or `C1`; None if it is not one."""
    if not aim.startswith("]"):
        aim = "]" + aim
    if _aim_length(aim) != len(aim):
        return None
    if aim in _GS1_AIMS:
        mode = SymbologyMode.GS1
    elif aim in _GTIN_AIMS:
        mode = SymbologyMode.GTIN
    else:
        mode = SymbologyMode.OTHER
    return Symbology(aim=aim, name=AIM_NAMES.get(aim, _FAMILY[aim[1]]), mode=mode)


def split_aim(text: str) -> tuple[Symbology | None, str]:
    """Split a leading identifier off `text`: (symbology or None, the data)."""
    length = _aim_length(text)
    if not length:
        return None, text
    return symbology_for(text[:length]), text[length:]
