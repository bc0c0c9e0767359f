"""Pure mappings from EDI documents to the edge server's own documents.

- `to_fulfillment_order(order, owner=..., carrier_service=...)` → (order number,
  `protocols.outbound.FulfillmentOrderIn`). The caller maps the 940's carrier (W66 SCAC
  `order.scac`, routing `order.routing`) to one of its carrier service codes, and may map the
  SKU per owner with `sku_for(line)`.
- `to_asn(asn, ...)` → (ASN number, `protocols.inbound.AsnIn`).

Quantities become eaches: UOMs in `EACH_UOMS` pass as they are; any other UOM needs
`case_qty(sku, uom)` to return how many eaches one unit holds. Anything missing or invalid
raises `MappingError` naming the field and saying what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from edge_server.edi.ts856 import Asn, AsnLine
from edge_server.edi.ts940 import OrderLine, ShippingOrder
from protocols.inbound import DOC_NUMBER_PATTERN, AsnIn
from protocols.outbound import FulfillmentOrderIn

__all__ = ["EACH_UOMS", "MappingError", "to_asn", "to_fulfillment_order"]

EACH_UOMS = frozenset({"EA", "EACH", "UN", "PC", "PCS"})
#: X12 country codes are ISO 3166 alpha-2; these common alpha-3 spellings are accepted too.
_ALPHA3 = {"USA": "US", "CAN": "CA", "MEX": "MX", "GBR": "GB", "DEU": "DE", "FRA": "FR"}
_DOC_NUMBER = re.compile(DOC_NUMBER_PATTERN)

M = TypeVar("M", bound=BaseModel)
CaseQty = Callable[[str, str], int | None]


class MappingError(ValueError):
    """A document that reads as valid X12 but cannot become one of ours."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def _eaches(sku: str, qty: int, uom: str, case_qty: CaseQty | None, where: str) -> int:
    if uom.upper() in EACH_UOMS:
        return qty
    per = case_qty(sku, uom) if case_qty else None
    if not per or per <= 0:
        raise MappingError(
            f"{where}.uom",
            f"unit of measure {uom!r} for SKU {sku!r} is not eaches and no case quantity is known.",
        )
    return qty * per


def _country(code: str, default: str | None) -> str:
    value = (code.strip() or default or "").upper()
    value = _ALPHA3.get(value, value)
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise MappingError(
            "ship_to.country",
            f"country {code!r} is not a two-letter ISO 3166-1 code"
            + ("" if code else " (N404 is empty and no default country was given)")
            + ".",
        )
    return value


def _doc_number(value: str, field: str) -> str:
    number = value.strip().upper()
    if not _DOC_NUMBER.fullmatch(number):
        raise MappingError(
            field,
            f"{value!r} is not usable as a document number (1-30 of A-Z, 0-9, '.', '_', '-').",
        )
    return number


def to_fulfillment_order(
    order: ShippingOrder,
    *,
    owner: str,
    carrier_service: str,
    sku_for: Callable[[OrderLine], str] | None = None,
    case_qty: CaseQty | None = None,
    default_country: str | None = None,
    priority: int = 0,
) -> tuple[str, FulfillmentOrderIn]:
    """The 940 as (order number, FulfillmentOrderIn). Order number = W0502, upper-cased."""
    number = _doc_number(order.order_number, "order_number")
    party = order.ship_to
    if party is None:
        raise MappingError("ship_to", "the 940 has no N1*ST (ship-to) loop.")
    if not party.name:
        raise MappingError("ship_to.name", "the ship-to N1 has no name (N102).")
    if not party.address_lines:
        raise MappingError("ship_to.address_lines", "the ship-to has no N3 address line.")
    if not party.city:
        raise MappingError("ship_to.city", "the ship-to has no city (N401).")
    lines: list[dict[str, object]] = []
    for line in order.lines:
        sku = sku_for(line) if sku_for else line.sku
        if not sku:
            raise MappingError(f"lines[{line.line_no}].sku", "the line names no SKU.")
        qty = _eaches(sku, line.qty, line.uom, case_qty, f"lines[{line.line_no}]")
        lines.append({"line_no": line.line_no, "sku": sku, "qty": qty})
    data = {
        "ship_to": {
            "name": party.name[:100],
            "address_lines": list(party.address_lines[:4]),
            "city": party.city,
            "postal_code": party.postal_code,
            "country": _country(party.country, default_country),
        },
        "carrier_service": carrier_service,
        "priority": priority,
        "promised_ship_date": order.ship_date,
        "owner": owner,
        "lines": lines,
    }
    return number, _validate(FulfillmentOrderIn, data)


def to_asn(
    asn: Asn,
    *,
    sku_for: Callable[[AsnLine], str] | None = None,
    case_qty: CaseQty | None = None,
) -> tuple[str, AsnIn]:
    """The 856 as (ASN number, AsnIn). ASN number = BSN02, upper-cased; the PO is the one PRF01
    of the order levels (an ASN spanning several POs is refused); supplier = N1*SF name."""
    number = _doc_number(asn.asn_number, "asn_number")
    pos = asn.po_numbers
    if len(pos) > 1:
        raise MappingError(
            "po_number", f"the ASN covers {len(pos)} purchase orders ({', '.join(pos)}); one only."
        )
    po_number = _doc_number(pos[0], "po_number") if pos else None
    supplier = asn.parties.get("SF")
    lines: list[dict[str, object]] = []
    for line in asn.lines:
        sku = sku_for(line) if sku_for else line.sku
        if not sku:
            raise MappingError(f"lines[{line.line_no}].sku", "the line names no SKU.")
        lines.append(
            {
                "line_no": line.line_no,
                "sku": sku,
                "qty": _eaches(sku, line.qty, line.uom, case_qty, f"lines[{line.line_no}]"),
                "lot": line.lot,
                "expiry": line.expiry,
                "sscc": line.sscc or None,
                "po_line_no": line.po_line if po_number else None,
            }
        )
    data = {
        "po_number": po_number,
        "supplier": supplier.name[:100] if supplier else "",
        "expected_at": asn.expected_at,
        "lines": lines,
    }
    return number, _validate(AsnIn, data)


def _validate(model: type[M], data: Mapping[str, object]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise MappingError(where or "document", first["msg"]) from None
