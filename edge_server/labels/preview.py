"""Label previews as PNG or PDF, for people without a printer (and for checking a layout).

The same label contents as the ZPL (`zpl.py`), drawn at the label's size and 203 dpi with
python-barcode (Code 128 and GS1-128, FNC1 included) and Pillow; the PDF is the same image
on a page of the label's size. The layout is close to the printed one, not identical: the
printer's fonts are its own.
"""

from __future__ import annotations

import io
from typing import Literal

from barcode.codex import Code128, Gs1_128
from barcode.writer import ImageWriter
from PIL import Image, ImageDraw, ImageFont

from edge_server.labels.zpl import (
    BIN_LABEL,
    DPI,
    LPN_LABEL,
    LabelSize,
    LpnLabel,
    gs1_item_pairs,
)
from protocols.barcodes import GS, format_gs1, format_gs1_hri, location_label

__all__ = ["Format", "encode", "render_bin_label", "render_lpn_label"]

Format = Literal["png", "pdf"]
MEDIA_TYPES = {"png": "image/png", "pdf": "application/pdf"}

_MM_PER_DOT = 25.4 / DPI


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _barcode_image(data: str, *, gs1: bool, height: int, module: int) -> Image.Image:
    """Code 128 (or GS1-128: FNC1 first and for every GS) as an image, bars only."""
    options = {
        # A hair over whole dots: python-barcode truncates mm to pixels, and 1.998 px bars
        # drift out of step over a long symbol.
        "module_width": (module + 0.01) * _MM_PER_DOT,
        "module_height": height * _MM_PER_DOT,
        "quiet_zone": 10 * module * _MM_PER_DOT,
        "dpi": DPI,
        "write_text": False,
        "background": "white",
        "foreground": "black",
    }
    symbol = (
        Gs1_128(data.replace(GS, Gs1_128.FNC1_CHAR), writer=ImageWriter())
        if gs1
        else Code128(data, writer=ImageWriter())
    )
    image = symbol.render(options)
    assert isinstance(image, Image.Image)
    return image.convert("L")


def _paste_centred(canvas: Image.Image, image: Image.Image, y: int, max_width: int) -> int:
    if image.width > max_width:
        # Only for very long data: squeezes the bars, which a preview may do (not a printer).
        image = image.resize((max_width, image.height), Image.Resampling.NEAREST)
    canvas.paste(image, ((canvas.width - image.width) // 2, y))
    return y + image.height


def _text(
    draw: ImageDraw.ImageDraw,
    text: str,
    *,
    y: int,
    size: int,
    width: int,
    x: int = 30,
    centre: bool = False,
) -> None:
    """Draw `text` at (`x`, `y`), cut with `...` to fit between `x` and `width` - 30, or
    centred on a `width`-wide label."""
    font = _font(size)
    room = (width - 60) if centre else (width - 30 - x)
    while len(text) > 3 and draw.textlength(text, font=font) > room:
        text = text[:-4].rstrip() + "..."
    left = int((width - draw.textlength(text, font=font)) // 2) if centre else x
    draw.text((left, y), text, fill=0, font=font)


def _canvas(size: LabelSize) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", (size.width, size.height), 255)
    return image, ImageDraw.Draw(image)


def render_lpn_label(label: LpnLabel) -> Image.Image:
    size = LPN_LABEL
    image, draw = _canvas(size)
    w = size.width
    if label.sscc:
        _text(draw, "SSCC", y=30, size=30, width=w)
        bars = _barcode_image(format_gs1([("00", label.sscc)]), gs1=True, height=220, module=3)
        hri = format_gs1_hri([("00", label.sscc)])
    else:
        _text(draw, "LPN", y=30, size=30, width=w)
        bars = _barcode_image(label.ref, gs1=False, height=220, module=3)
        hri = label.ref
    _paste_centred(image, bars, 70, w)
    _text(draw, hri, y=305, size=46, width=w, centre=True)
    draw.rectangle((30, 385, w - 30, 388), fill=0)
    _text(draw, "SKU", y=405, size=26, width=w)
    _text(draw, label.sku, y=440, size=64, width=w)
    _text(draw, label.description, y=530, size=34, width=w)
    _text(draw, "LOT", y=625, size=26, width=w)
    _text(draw, label.lot or "-", y=660, size=44, width=410)
    _text(draw, "EXPIRY", y=625, size=26, width=w, x=420)
    _text(draw, label.expiry.isoformat() if label.expiry else "-", y=660, size=44, width=w, x=420)
    _text(draw, "QTY", y=730, size=26, width=w)
    _text(draw, str(label.qty), y=765, size=64, width=w)
    pairs = gs1_item_pairs(label)
    if pairs is not None:
        try:
            content = format_gs1(pairs)
        except ValueError:
            content = None  # a lot outside GS1's character set: text only, as on the printer
        if content is not None:
            bars = _barcode_image(content, gs1=True, height=230, module=2)
            bottom = _paste_centred(image, bars, 860, w)
            _text(draw, format_gs1_hri(pairs), y=bottom + 10, size=28, width=w, centre=True)
    return image


def render_bin_label(code: str, *, zone: str | None = None) -> Image.Image:
    """ValueError for a code outside the layout's grammar."""
    data = location_label(code)
    size = BIN_LABEL
    image, draw = _canvas(size)
    w = size.width
    _text(draw, code, y=10, size=100, width=w, centre=True)
    bars = _barcode_image(data, gs1=False, height=160, module=3)
    bottom = _paste_centred(image, bars, 130, w)
    foot = data if not zone else f"{data}   zone {zone}"
    _text(draw, foot, y=min(bottom + 5, size.height - 45), size=34, width=w, centre=True)
    return image


def encode(image: Image.Image, fmt: Format) -> tuple[bytes, str]:
    """The image as PNG, or as a one-page PDF the size of the label; (bytes, media type)."""
    buffer = io.BytesIO()
    if fmt == "pdf":
        image.save(buffer, format="PDF", resolution=float(DPI))
    else:
        image.save(buffer, format="PNG", dpi=(DPI, DPI))
    return buffer.getvalue(), MEDIA_TYPES[fmt]
