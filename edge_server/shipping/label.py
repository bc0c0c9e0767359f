"""The 4x6 in shipping label: ZPL for the printer and a PNG/PDF preview of the same contents.

Ship-from, ship-to, carrier service and zone, carton n of m, weight and order; the tracking
number as Code 128 and the carton's SSCC as GS1-128 `(00)`. Built with the LPN label's ZPL
helpers (`edge_server/labels/zpl.py`: explicit Code 128 subsets, `^FH` escaping of free text)
and previewed with the same drawing helpers as LPN labels (`edge_server/labels/preview.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from PIL import Image

# The label modules' drawing primitives are private there; shipping labels are their only
# other user, and sharing them keeps every label's barcodes encoded the same way.
from edge_server.labels.preview import _barcode_image, _canvas, _paste_centred
from edge_server.labels.preview import _text as _draw_text
from edge_server.labels.zpl import LPN_LABEL, _barcode, _start, _text, zpl_text
from protocols.barcodes import format_gs1, format_gs1_hri
from protocols.outbound import ShipTo

__all__ = ["SHIPPING_LABEL", "ShippingLabel", "render_shipping_label", "shipping_label_zpl"]

SHIPPING_LABEL = LPN_LABEL  # 4 x 6 in at 203 dpi
_MARGIN = 30


@dataclass(frozen=True, slots=True)
class ShippingLabel:
    """What a carton's shipping label shows."""

    ship_from: tuple[str, ...]  # up to 3 lines: the site (and its address when configured)
    ship_to: ShipTo
    carrier: str
    service: str  # the carrier service's code
    service_name: str
    zone: str
    tracking: str
    sscc: str  # 18 digits
    order_number: str
    carton_no: int
    carton_count: int | None
    weight_kg: Decimal

    @property
    def carton_text(self) -> str:
        if self.carton_count is None:
            return str(self.carton_no)
        return f"{self.carton_no} OF {self.carton_count}"

    @property
    def weight_text(self) -> str:
        return f"{self.weight_kg.quantize(Decimal('0.01'))} KG"

    @property
    def service_text(self) -> str:
        name = self.service_name or self.service
        if name.casefold().startswith(self.carrier.casefold()):
            return name  # "UPS Ground", not "UPS UPS Ground"
        return f"{self.carrier} {name}"

    def ship_to_lines(self) -> list[str]:
        to = self.ship_to
        city = f"{to.city} {to.postal_code}".strip()
        return [*to.address_lines, city, to.country]

    @property
    def sscc_pairs(self) -> list[tuple[str, str]]:
        return [("00", self.sscc)]


def shipping_label_zpl(label: ShippingLabel) -> str:
    """The label in ZPL II. ValueError when the tracking number or SSCC cannot be encoded."""
    w = SHIPPING_LABEL.width
    m = _MARGIN
    inner = w - 2 * m
    parts = [_start(SHIPPING_LABEL)]
    parts.append(_text("FROM", x=m, y=20, size=22, width=inner))
    for i, line in enumerate(label.ship_from[:3]):
        parts.append(_text(zpl_text(line, 50), x=m, y=45 + 30 * i, size=26, width=inner))
    parts.append(f"^FO{m},140^GB{inner},4,4^FS")
    parts.append(_text("SHIP TO", x=m, y=150, size=22, width=inner))
    parts.append(_text(zpl_text(label.ship_to.name, 36), x=m, y=175, size=40, width=inner))
    for i, line in enumerate(label.ship_to_lines()):
        parts.append(_text(zpl_text(line, 44), x=m, y=220 + 36 * i, size=32, width=inner))
    parts.append(f"^FO{m},445^GB{inner},4,4^FS")
    parts.append(_text("SERVICE", x=m, y=460, size=22, width=520))
    parts.append(_text(zpl_text(label.service_text, 22), x=m, y=485, size=44, width=520))
    parts.append(_text("ZONE", x=580, y=460, size=22, width=200))
    parts.append(_text(zpl_text(label.zone, 8), x=580, y=485, size=44, width=200))
    parts.append(_text("CARTON", x=m, y=540, size=22, width=240))
    parts.append(_text(label.carton_text, x=m, y=565, size=40, width=240))
    parts.append(_text("WEIGHT", x=280, y=540, size=22, width=240))
    parts.append(_text(label.weight_text, x=280, y=565, size=40, width=240))
    parts.append(_text("ORDER", x=530, y=540, size=22, width=250))
    parts.append(_text(zpl_text(label.order_number, 14), x=530, y=568, size=32, width=250))
    parts.append(f"^FO{m},620^GB{inner},4,4^FS")
    parts.append(_text("TRACKING", x=m, y=635, size=24, width=inner))
    parts.append(_barcode(label.tracking, gs1=False, y=665, height=200, width=w))
    parts.append(_text(zpl_text(label.tracking), x=m, y=875, size=40, width=inner, align="C"))
    parts.append(f"^FO{m},935^GB{inner},4,4^FS")
    parts.append(_text("SSCC", x=m, y=945, size=22, width=inner))
    sscc = format_gs1(label.sscc_pairs)
    parts.append(_barcode(sscc, gs1=True, y=975, height=150, width=w, max_module=3))
    hri = zpl_text(format_gs1_hri(label.sscc_pairs))
    parts.append(_text(hri, x=m, y=1135, size=32, width=inner, align="C"))
    parts.append("^PQ1^XZ")
    return "\n".join(parts) + "\n"


def render_shipping_label(label: ShippingLabel) -> Image.Image:
    """A preview image of the label (same contents and barcodes; the printer's fonts differ)."""
    size = SHIPPING_LABEL
    image, draw = _canvas(size)
    w = size.width
    _draw_text(draw, "FROM", y=20, size=20, width=w)
    for i, line in enumerate(label.ship_from[:3]):
        _draw_text(draw, line, y=45 + 30 * i, size=24, width=w)
    draw.rectangle((_MARGIN, 140, w - _MARGIN, 143), fill=0)
    _draw_text(draw, "SHIP TO", y=150, size=20, width=w)
    _draw_text(draw, label.ship_to.name, y=175, size=38, width=w)
    for i, line in enumerate(label.ship_to_lines()):
        _draw_text(draw, line, y=220 + 36 * i, size=30, width=w)
    draw.rectangle((_MARGIN, 445, w - _MARGIN, 448), fill=0)
    _draw_text(draw, "SERVICE", y=460, size=20, width=560)
    _draw_text(draw, label.service_text, y=485, size=40, width=560)
    _draw_text(draw, "ZONE", y=460, size=20, width=w, x=580)
    _draw_text(draw, label.zone, y=485, size=40, width=w, x=580)
    _draw_text(draw, "CARTON", y=540, size=20, width=280)
    _draw_text(draw, label.carton_text, y=565, size=36, width=300)
    _draw_text(draw, "WEIGHT", y=540, size=20, width=560, x=280)
    _draw_text(draw, label.weight_text, y=565, size=36, width=560, x=280)
    _draw_text(draw, "ORDER", y=540, size=20, width=w, x=530)
    _draw_text(draw, label.order_number, y=568, size=30, width=w, x=530)
    draw.rectangle((_MARGIN, 620, w - _MARGIN, 623), fill=0)
    _draw_text(draw, "TRACKING", y=635, size=22, width=w)
    bars = _barcode_image(label.tracking, gs1=False, height=200, module=3)
    bottom = _paste_centred(image, bars, 665, w)
    _draw_text(draw, label.tracking, y=bottom + 8, size=38, width=w, centre=True)
    draw.rectangle((_MARGIN, 935, w - _MARGIN, 938), fill=0)
    _draw_text(draw, "SSCC", y=945, size=20, width=w)
    bars = _barcode_image(format_gs1(label.sscc_pairs), gs1=True, height=140, module=3)
    bottom = _paste_centred(image, bars, 975, w)
    hri = format_gs1_hri(label.sscc_pairs)
    _draw_text(draw, hri, y=min(bottom + 8, size.height - 45), size=30, width=w, centre=True)
    return image
