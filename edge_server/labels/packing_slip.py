"""Packing slips and the ship-from block of shipping labels, branded per client.

A client's `Branding` (protocols.clients; docs/client-rules.md) names the sender on its
paperwork: display name (else the client's name), return address, a message and an accent
colour. House orders (owner '') keep the site's name. The slip is one self-contained HTML page
(inline print CSS, no scripts, no external assets); every value from an order, an item or a
client is HTML-escaped by Jinja2's autoescape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jinja2

from edge_server.errors import AislewayError
from edge_server.timeutil import iso
from edge_server.wms.purchase_orders import Source, fetch_rows
from protocols.clients import Branding
from protocols.errors import ErrorCode

__all__ = [
    "PackingSlip",
    "SlipLine",
    "brand_of",
    "packing_slip",
    "render_packing_slip",
    "ship_from_lines",
]

#: The shipping label's ship-from block holds three lines.
LABEL_FROM_LINES = 3
_DEFAULT_ACCENT = Branding().accent_colour


@dataclass(frozen=True, slots=True)
class Brand:
    """Who the paperwork says the parcel is from."""

    name: str
    return_address: tuple[str, ...] = ()
    message: str = ""
    accent: str = _DEFAULT_ACCENT


@dataclass(frozen=True, slots=True)
class SlipLine:
    line_no: int
    sku: str
    description: str
    qty_ordered: int
    qty_shipped: int  # packed into sealed (or shipped) cartons
    lots: tuple[tuple[str, int], ...] = ()  # (lot, qty) packed, for lot-tracked stock
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class Carton:
    carton_no: int
    sscc: str
    tracking: str
    status: str


@dataclass(frozen=True, slots=True)
class PackingSlip:
    number: str
    site: str
    status: str
    owner: str
    carrier_service: str
    ship_to: dict[str, Any]
    brand: Brand
    lines: list[SlipLine] = field(default_factory=list)
    cartons: list[Carton] = field(default_factory=list)
    printed_at: str = ""


def _client_brand(source: Source, owner: str) -> Brand | None:
    rows = fetch_rows(source, "SELECT name, branding_json FROM clients WHERE code = ?", [owner])
    if not owner or not rows:
        return None
    b = Branding.model_validate(json.loads(rows[0]["branding_json"]))
    return Brand(
        name=b.display_name or rows[0]["name"],
        return_address=tuple(line for line in b.return_address if line),
        message=b.slip_message,
        accent=b.accent_colour,
    )


def brand_of(source: Source, owner: str, site: str) -> Brand:
    """The client's branding; the house (or a client since removed): the site's name."""
    found = _client_brand(source, owner)
    if found is not None:
        return found
    rows = fetch_rows(source, "SELECT name FROM sites WHERE code = ?", [site])
    name = str(rows[0]["name"] or "") if rows else ""
    return Brand(name=name or f"Aisleway site {site}")


def ship_from_lines(source: Source, owner: str) -> tuple[str, ...]:
    """The shipping label's ship-from block for `owner`'s orders: the client's display name
    and return address, folded into the label's three lines (the last address lines joined
    with ", "); () for the house, whose labels show the site as before."""
    brand = _client_brand(source, owner)
    if brand is None:
        return ()
    lines = [brand.name, *brand.return_address]
    if len(lines) > LABEL_FROM_LINES:
        keep = LABEL_FROM_LINES - 1
        lines = [*lines[:keep], ", ".join(lines[keep:])]
    return tuple(lines)


def packing_slip(
    source: Source, site: str, number: str, *, owner: str | None = None
) -> PackingSlip:
    """The slip of order `number`; FO_NOT_FOUND when there is none (or, with `owner`, none of
    that owner's — another client's order looks like no order)."""
    found = fetch_rows(
        source,
        "SELECT o.id, o.number, o.status, o.owner, o.carrier_service, o.ship_to_json "
        "FROM fulfillment_orders o JOIN sites s ON s.id = o.site_id "
        "WHERE s.code = ? AND o.number = ?",
        [site, number],
    )
    if not found or (owner is not None and found[0]["owner"] != owner):
        raise AislewayError(ErrorCode.FO_NOT_FOUND, details={"number": number})
    order = found[0]
    packed: dict[int, dict[str, int]] = {}
    for r in fetch_rows(
        source,
        "SELECT cl.order_line_id, cl.lot, SUM(cl.qty) AS qty FROM carton_lines cl "
        "JOIN cartons c ON c.id = cl.carton_id WHERE c.order_id = ? "
        "AND c.status IN ('sealed', 'shipped') GROUP BY cl.order_line_id, cl.lot "
        "ORDER BY cl.order_line_id, cl.lot",
        [order["id"]],
    ):
        packed.setdefault(r["order_line_id"], {})[r["lot"]] = int(r["qty"])
    lines = [
        SlipLine(
            line_no=r["line_no"],
            sku=r["sku"],
            description=r["description"] or "",
            qty_ordered=int(r["qty_ordered"]),
            qty_shipped=sum(packed.get(r["id"], {}).values()),
            lots=tuple((lot, q) for lot, q in packed.get(r["id"], {}).items() if lot),
            cancelled=r["status"] == "cancelled",
        )
        for r in fetch_rows(
            source,
            "SELECT fl.id, fl.line_no, fl.qty_ordered, fl.status, i.sku, i.description "
            "FROM fo_lines fl JOIN items i ON i.id = fl.item_id WHERE fl.order_id = ? "
            "ORDER BY fl.line_no",
            [order["id"]],
        )
    ]
    cartons = [
        Carton(r["carton_no"], r["sscc"] or "", r["tracking"] or "", r["status"])
        for r in fetch_rows(
            source,
            "SELECT carton_no, sscc, tracking, status FROM cartons WHERE order_id = ? "
            "AND status IN ('sealed', 'shipped') ORDER BY carton_no",
            [order["id"]],
        )
    ]
    return PackingSlip(
        number=order["number"],
        site=site,
        status=order["status"],
        owner=order["owner"],
        carrier_service=order["carrier_service"],
        ship_to=json.loads(order["ship_to_json"]),
        brand=brand_of(source, order["owner"], site),
        lines=lines,
        cartons=cartons,
        printed_at=iso(),
    )


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("edge_server.labels", "templates"),
        autoescape=True,  # everything from an order, item or client is escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_packing_slip(slip: PackingSlip) -> str:
    """The slip as one self-contained, printable HTML page."""
    return _environment().get_template("packing_slip.html").render(slip=slip)
