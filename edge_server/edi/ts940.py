"""940 Warehouse Shipping Order (GS01 OW) → `ShippingOrder`; and back, for round trips.

Read: W05 (order status, depositor order number W0502, purchase order W0503), N1 loops
(ST ship-to, BT bill-to, SF ship-from, ... with N2/N3/N4), N9 references, G62 dates
(qualifier 10 requested ship date, 02 delivery requested, 37 ship not before, 38 ship no
later than), W66 carrier (payment W6601, transport W6602, routing/service W6605, SCAC W6610),
LX/W01 lines (qty W0101, UOM W0102, UPC case code W0103, qualifier/id pairs W0104/05,
W0106/07, W0115/16; G69 description, line N9 refs, e.g. LT lot), W76 totals (W7601 must equal
the sum of W0101). NTE, G61, PER, FOB, W09, AT8, W20 are accepted and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from edge_server.edi.common import Party, SetReader, choose_sku, item_id_pairs, party_segments
from edge_server.edi.x12 import Segment, Transaction, is_digits

__all__ = ["OrderLine", "ShippingOrder", "read_940", "write_940"]

ALLOWED = frozenset(
    {
        "W05",
        "N1",
        "N2",
        "N3",
        "N4",
        "PER",
        "G61",
        "N9",
        "G62",
        "NTE",
        "W66",
        "FOB",
        "W09",
        "AT8",
        "LX",
        "W01",
        "G69",
        "W20",
        "W76",
        "LM",
        "LQ",
        "QTY",
    }
)


@dataclass
class OrderLine:
    line_no: int
    qty: int
    uom: str
    item_ids: dict[str, str]
    sku: str
    description: str = ""
    references: dict[str, str] = field(default_factory=dict)

    @property
    def lot(self) -> str:
        return self.references.get("LT", "")


@dataclass
class ShippingOrder:
    control_number: str
    status: str  # W0501: N new, F (replace), C cancel, R ...
    order_number: str  # W0502 depositor order number
    po_number: str = ""
    parties: dict[str, Party] = field(default_factory=dict)
    dates: dict[str, date] = field(default_factory=dict)
    references: dict[str, str] = field(default_factory=dict)
    payment: str = ""
    transport: str = ""
    routing: str = ""
    scac: str = ""
    lines: list[OrderLine] = field(default_factory=list)
    total_qty: int | None = None

    @property
    def ship_date(self) -> date | None:
        for qualifier in ("10", "37", "38", "02"):
            if qualifier in self.dates:
                return self.dates[qualifier]
        return None

    @property
    def ship_to(self) -> Party | None:
        return self.parties.get("ST")


def read_940(tx: Transaction) -> ShippingOrder:
    r = SetReader(tx, ALLOWED)
    w05 = r.expect("W05", "shipping order identification")
    order = ShippingOrder(
        tx.control_number,
        r.code(w05, 1, "order status code", ("N", "F", "C", "R", "H", "S", "D")),
        r.required(w05, 2, "depositor order number", 22),
        w05.get(3).strip(),
    )
    while (seg := r.peek()) is not None and seg.id not in ("LX", "W01", "W76"):
        if seg.id == "N1":
            party = r.party()
            order.parties.setdefault(party.code, party)
            continue
        r.next()
        if seg.id == "N9":
            order.references.setdefault(
                r.required(seg, 1, "reference qualifier", 3), seg.get(2).strip()
            )
        elif seg.id == "G62":
            qualifier = r.required(seg, 1, "date qualifier", 2)
            order.dates[qualifier] = r.date(seg, 2, "date")
        elif seg.id == "W66":
            order.payment = r.required(seg, 1, "shipment method of payment", 2)
            order.transport = seg.get(2).strip()
            order.routing = seg.get(5).strip()
            order.scac = seg.get(10).strip()
        elif seg.id in ("N2", "N3", "N4"):
            raise r.error("SEGMENT_UNEXPECTED", seg, f"{seg.id} must follow an N1.", ak3="7")
    used: set[int] = set()
    lx_no: int | None = None
    while (seg := r.next()) is not None:
        if seg.id == "LX":
            text = r.required(seg, 1, "assigned number", 6)
            lx_no = int(text) if is_digits(text) and int(text) > 0 else None
        elif seg.id == "W01":
            qty = r.quantity(seg, 1, "quantity ordered")
            assert qty is not None
            ids = item_id_pairs(seg, ((4, 5), (6, 7), (15, 16)))
            if seg.get(3):
                ids.setdefault("UC", seg.get(3).strip())
            sku = choose_sku(ids)
            if not ids:
                raise r.error(
                    "MANDATORY_MISSING",
                    seg,
                    "W01 names no item: give W0103 or a qualifier/id pair (W0104/W0105).",
                    element=5,
                    ak4="2",
                )
            line_no = lx_no if lx_no is not None and lx_no not in used else max(used, default=0) + 1
            used.add(line_no)
            line = OrderLine(line_no, qty, r.required(seg, 2, "unit of measure", 2), ids, sku)
            while (sub := r.take("G69", "N9", "W20", "QTY", "AT8")) is not None:
                if sub.id == "G69":
                    line.description = sub.get(1).strip()
                elif sub.id == "N9":
                    line.references.setdefault(
                        r.required(sub, 1, "reference qualifier", 3), sub.get(2).strip()
                    )
            order.lines.append(line)
        elif seg.id == "W76":
            order.total_qty = r.quantity(seg, 1, "total quantity ordered")
            if order.total_qty != sum(line.qty for line in order.lines):
                raise r.error(
                    "TOTALS_MISMATCH",
                    seg,
                    f"W7601 says {order.total_qty} units but the W01 lines add up to "
                    f"{sum(line.qty for line in order.lines)}.",
                    element=1,
                    ak4="7",
                    value=seg.get(1),
                )
            if r.peek() is not None:
                raise r.error("SEGMENT_UNEXPECTED", r.peek(), "nothing may follow W76.", ak3="7")
        else:
            raise r.error(
                "SEGMENT_UNEXPECTED", seg, f"{seg.id} is not allowed among the lines.", ak3="7"
            )
    if not order.lines:
        raise r.missing("W01", "line item detail")
    if "ST" not in order.parties:
        raise r.missing("N1", "ship-to party, N101 = ST")
    return order


def write_940(order: ShippingOrder, control_number: str | None = None) -> Transaction:
    segs = [Segment.of("W05", order.status, order.order_number, order.po_number)]
    for party in order.parties.values():
        segs += party_segments(party)
    segs += [Segment.of("N9", q, v) for q, v in order.references.items()]
    segs += [Segment.of("G62", q, d.strftime("%Y%m%d")) for q, d in order.dates.items()]
    if order.payment or order.scac:
        segs.append(
            Segment.of(
                "W66",
                order.payment or "PP",
                order.transport or "M",
                None,
                None,
                order.routing,
                None,
                None,
                None,
                None,
                order.scac,
            )
        )
    for line in order.lines:
        segs.append(Segment.of("LX", line.line_no))
        ids = [(q, v) for q, v in line.item_ids.items() if q != "UC"]
        extra = ids[2:3]
        segs.append(
            Segment.of(
                "W01",
                line.qty,
                line.uom,
                line.item_ids.get("UC"),
                *(ids[0] if ids else ("", "")),
                *(ids[1] if len(ids) > 1 else ("", "")),
                *([""] * 7 if extra else []),
                *(extra[0] if extra else ()),
            )
        )
        if line.description:
            segs.append(Segment.of("G69", line.description))
        segs += [Segment.of("N9", q, v) for q, v in line.references.items()]
    segs.append(Segment.of("W76", sum(line.qty for line in order.lines)))
    return Transaction("940", control_number or order.control_number, segs)
