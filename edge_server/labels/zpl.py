"""ZPL II for our labels: LPN labels (4x6 in) and bin labels (4x2 in), 203 dpi.

Barcodes are Code 128 written with explicit Zebra invocation codes in `^BC` mode N, so the
printer encodes exactly the symbols computed here, on any firmware:

- `>;` start in subset C (digit pairs), `>:` start in subset B (ASCII),
- `>5` switch to C, `>6` switch to B, `>8` FNC1, `><` the character `>` in subset B.

A GS1-128 symbol is `>;>8` (start C, FNC1 in first position: that is what makes it GS1-128
and a scanner report `]C1`) followed by the element string, with `>8` for each GS that ends
a variable-length field (`protocols.barcodes.format_gs1` puts them). The printer's own
interpretation line is off: we print the human-readable text ourselves (GS1 HRI with
brackets), as the ZPL II guide recommends for AI data.

Free text (SKU, description, lot) goes through `^FH`: `_`, `^`, `~`, `\\` and anything
outside printable ASCII are written as `_XX` hex bytes (UTF-8, with `^CI28`), so no user
text can end a field or start a command.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from protocols.barcodes import (
    GS,
    ScanKind,
    format_gs1,
    format_gs1_hri,
    location_label,
    parse_scan,
)

__all__ = [
    "BIN_LABEL",
    "DPI",
    "LPN_LABEL",
    "LabelSize",
    "LpnLabel",
    "bin_label_zpl",
    "code128_field",
    "gs1_item_pairs",
    "lpn_label_zpl",
    "zpl_text",
]

DPI = 203


@dataclass(frozen=True, slots=True)
class LabelSize:
    width: int  # dots
    height: int  # dots


LPN_LABEL = LabelSize(4 * DPI, 6 * DPI)  # 812 x 1218
BIN_LABEL = LabelSize(4 * DPI, 2 * DPI)  # 812 x 406

DESCRIPTION_MAX = 60
SKU_MAX = 30
LOT_MAX = 20
QUIET_MODULES = 10

# Characters that must never reach a ^FD raw; `\` starts escapes inside ^FB field blocks.
_TEXT_SPECIAL = frozenset("_^~\\")


def zpl_text(text: str, max_length: int | None = None) -> str:
    """`text` ready for `^FH^FD…^FS`: control characters become spaces, it is cut to
    `max_length` characters (`...` marks the cut), and special or non-ASCII characters are
    hex-escaped as UTF-8 bytes (`_5F`, `_C3_A9`)."""
    clean = "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in text).strip()
    if max_length is not None and len(clean) > max_length:
        clean = clean[: max_length - 3].rstrip() + "..."
    out: list[str] = []
    for c in clean:
        if c in _TEXT_SPECIAL or not c.isascii():
            out.extend(f"_{b:02X}" for b in c.encode("utf-8"))
        else:
            out.append(c)
    return "".join(out)


def _digit_run(data: str, i: int) -> int:
    n = i
    while n < len(data) and data[n].isdigit():
        n += 1
    return n - i


def _code128_tokens(data: str, *, gs1: bool) -> list[str]:
    """One token per Code 128 symbol (start code and data; no check symbol, no stop)."""
    if not data:
        raise ValueError("empty barcode data")
    for c in data:
        if c == GS and gs1:
            continue
        if not 32 <= ord(c) <= 126 or c in "^~":
            raise ValueError(f"character {c!r} cannot be printed in this barcode")
    tokens: list[str] = []
    first_run = _digit_run(data, 0)
    if gs1:
        if first_run < 2:
            raise ValueError("a GS1 element string starts with an AI")
        tokens += [">;", ">8"]
        subset = "C"
    elif first_run >= 4 and first_run % 2 == 0:
        tokens.append(">;")
        subset = "C"
    else:
        tokens.append(">:")
        subset = "B"
    i = 0
    while i < len(data):
        c = data[i]
        if c == GS:
            tokens.append(">8")  # FNC1 exists in subsets B and C alike
            i += 1
            continue
        run = _digit_run(data, i)
        if subset == "C":
            if run >= 2:
                tokens.append(data[i : i + 2])
                i += 2
            else:
                tokens.append(">6")
                subset = "B"
            continue
        if run >= 4 and run % 2 == 0:
            # Four or more digits are shorter as pairs, even counting the switch.
            tokens.append(">5")
            subset = "C"
            continue
        tokens.append("><" if c == ">" else c)
        i += 1
    return tokens


def code128_field(data: str, *, gs1: bool = False) -> str:
    """The `^FD` data for Code 128 (`^BC` mode N). With `gs1`, `data` is a GS1 element string
    (GS between fields, as from `format_gs1`) and the symbol is GS1-128."""
    return "".join(_code128_tokens(data, gs1=gs1))


def _modules(tokens: list[str]) -> int:
    # Each symbol is 11 modules; plus the check symbol (11) and the stop pattern (13).
    return 11 * (len(tokens) + 1) + 13


def _barcode(data: str, *, gs1: bool, y: int, height: int, width: int, max_module: int = 4) -> str:
    """A centred Code 128 symbol at row `y`, module width as wide as fits (>= 2 dots)."""
    tokens = _code128_tokens(data, gs1=gs1)
    modules = _modules(tokens)
    module = max_module
    while module > 2 and (modules + 2 * QUIET_MODULES) * module > width:
        module -= 1
    x = max(0, (width - modules * module) // 2)
    return f"^BY{module},3,{height}^FO{x},{y}^BCN,{height},N,N,N,N^FD{''.join(tokens)}^FS"


def _text(
    text: str, *, x: int, y: int, size: int, width: int, lines: int = 1, align: str = "L"
) -> str:
    # ^FB keeps the text inside the label (wraps up to `lines`, then overprints the last line:
    # hence the truncation in zpl_text as well).
    return f"^FO{x},{y}^A0N,{size},{size}^FB{width},{lines},0,{align},0^FH^FD{text}^FS"


def _start(size: LabelSize) -> str:
    # ^CI28: field data is UTF-8 (what ^FH hex bytes decode as); ^LH0,0: origin at the corner.
    return f"^XA^CI28^PW{size.width}^LL{size.height}^LH0,0"


@dataclass(frozen=True, slots=True)
class LpnLabel:
    """What an LPN label shows. Exactly one of `lpn` (our `LPN…`) and `sscc` is set."""

    lpn: str | None
    sscc: str | None
    sku: str
    description: str = ""
    gtin: str | None = None  # GTIN-14 of one unit: enables the GS1-128 content barcode
    lot: str | None = None
    expiry: date | None = None
    qty: int = 1

    @property
    def ref(self) -> str:
        return self.lpn or self.sscc or ""


def normalise_lpn(lpn: str | None, sscc: str | None) -> tuple[str | None, str | None]:
    """Check an LPN or SSCC through the barcode grammar; BarcodeError if it would not scan."""
    if (lpn is None) == (sscc is None):
        raise ValueError("give exactly one of lpn and sscc")
    scan = parse_scan(lpn if lpn is not None else (sscc or ""), expect={ScanKind.LPN})
    if lpn is not None:
        if scan.sscc is not None:
            raise ValueError("an SSCC goes in `sscc`, not `lpn`")
        return scan.value, None
    if scan.sscc is None:
        raise ValueError("not an SSCC")
    return None, scan.sscc


def gs1_item_pairs(label: LpnLabel) -> list[tuple[str, str]] | None:
    """The GS1 content fields for the second barcode, or None without a GTIN.

    On a pallet with an SSCC the content is (02) + (37) (GS1's logistic label); on our own
    LPN it is (01) + (30), which the scan grammar reads as an item with a count. Fixed-length
    fields go first, the lot last, so at most one FNC1 separator is needed."""
    if not label.gtin:
        return None
    gtin = label.gtin.zfill(14)
    pairs = [("02", gtin)] if label.sscc else [("01", gtin)]
    if label.expiry is not None:
        pairs.append(("17", label.expiry.strftime("%y%m%d")))
    pairs.append(("37" if label.sscc else "30", str(label.qty)))
    if label.lot:
        pairs.append(("10", label.lot))
    return pairs


def lpn_label_zpl(label: LpnLabel) -> str:
    """A 4x6 in LPN label: LPN (Code 128) or SSCC (GS1-128), item, lot, expiry, quantity and,
    when the item has a GTIN, a GS1-128 barcode with the content."""
    size = LPN_LABEL
    w = size.width
    margin = 30
    inner = w - 2 * margin
    parts = [_start(size)]
    if label.sscc:
        parts.append(_text("SSCC", x=margin, y=30, size=34, width=inner))
        parts.append(
            _barcode(format_gs1([("00", label.sscc)]), gs1=True, y=80, height=220, width=w)
        )
        hri = format_gs1_hri([("00", label.sscc)])
    else:
        assert label.lpn is not None
        parts.append(_text("LPN", x=margin, y=30, size=34, width=inner))
        parts.append(_barcode(label.lpn, gs1=False, y=80, height=220, width=w))
        hri = label.lpn
    parts.append(_text(zpl_text(hri), x=margin, y=315, size=50, width=inner, align="C"))
    parts.append(f"^FO{margin},385^GB{inner},4,4^FS")
    parts.append(_text("SKU", x=margin, y=410, size=28, width=inner))
    parts.append(_text(zpl_text(label.sku, SKU_MAX), x=margin, y=445, size=70, width=inner))
    parts.append(
        _text(
            zpl_text(label.description, DESCRIPTION_MAX),
            x=margin,
            y=530,
            size=36,
            width=inner,
            lines=2,
        )
    )
    lot = zpl_text(label.lot, LOT_MAX) if label.lot else "-"
    expiry = label.expiry.isoformat() if label.expiry else "-"
    parts.append(_text("LOT", x=margin, y=625, size=28, width=370))
    parts.append(_text(lot, x=margin, y=660, size=48, width=370))
    parts.append(_text("EXPIRY", x=420, y=625, size=28, width=360))
    parts.append(_text(expiry, x=420, y=660, size=48, width=360))
    parts.append(_text("QTY", x=margin, y=730, size=28, width=inner))
    parts.append(_text(str(label.qty), x=margin, y=765, size=70, width=inner))
    pairs = gs1_item_pairs(label)
    if pairs is not None:
        parts.append(
            _barcode(format_gs1(pairs), gs1=True, y=860, height=240, width=w, max_module=3)
        )
        hri_item = zpl_text(format_gs1_hri(pairs))
        parts.append(_text(hri_item, x=margin, y=1115, size=30, width=inner, align="C"))
    parts.append("^PQ1^XZ")
    return "\n".join(parts) + "\n"


def bin_label_zpl(code: str, *, zone: str | None = None) -> str:
    """A 4x2 in bin label: the code in big letters, Code 128 of what the scanner must read
    (`location_label`: the code, or `L:` + code when it would not scan bare), its text
    under the barcode."""
    data = location_label(code)
    size = BIN_LABEL
    w = size.width
    margin = 20
    inner = w - 2 * margin
    parts = [_start(size)]
    parts.append(_text(zpl_text(code), x=margin, y=15, size=110, width=inner, align="C"))
    parts.append(_barcode(data, gs1=False, y=140, height=170, width=w))
    foot = data if not zone else f"{data}   zone {zone}"
    parts.append(_text(zpl_text(foot, 60), x=margin, y=330, size=36, width=inner, align="C"))
    parts.append("^PQ1^XZ")
    return "\n".join(parts) + "\n"
