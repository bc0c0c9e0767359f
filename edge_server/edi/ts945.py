"""945 Warehouse Shipping Advice (GS01 SW): `ShippingAdvice` → transaction, and a reader for
round trips and for partners who echo it back.

Written: W06 (reporting code W0601, depositor order number W0602, ship date W0603, shipment id
W0604, PO number W0606, master bill of lading W0607), N1 loops, G62 11 (shipped date), W27
(transport method W2701, SCAC W2702, routing W2703, payment W2704), one LX loop per shipped
line and carton: LX (sequence), MAN GM (SSCC), MAN CP (carrier tracking number), W12 (status
W1201 CC complete / PR partial, ordered W1202, shipped W1203, difference W1204, UOM W1205,
qualifier/id W1207/W1208, lot W1209), N9 LI (the 940 line number); W03 totals (units W0301,
weight W0302 with unit W0303, cartons W0306).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from edge_server.edi.common import Party, SetReader, party_segments
from edge_server.edi.x12 import Segment, Transaction, is_digits

__all__ = ["ShippedLine", "ShippingAdvice", "read_945", "write_945"]

ALLOWED = frozenset(
    {"W06", "N1", "N2", "N3", "N4", "PER", "G61", "N9", "G62", "W27", "LX", "MAN", "W12", "G69",
     "W03", "NTE", "W10"}
)  # fmt: skip


@dataclass
class ShippedLine:
    line_no: int  # the 940's line number (LX01 there)
    sku: str
    qty_ordered: int
    qty_shipped: int
    uom: str = "EA"
    sku_qualifier: str = "VN"
    lot: str = ""
    sscc: str = ""
    tracking: str = ""

    @property
    def status(self) -> str:
        return "CC" if self.qty_shipped >= self.qty_ordered else "PR"


@dataclass
class ShippingAdvice:
    order_number: str
    ship_date: date
    shipment_id: str
    po_number: str = ""
    bill_of_lading: str = ""
    reporting_code: str = "F"
    parties: list[Party] = field(default_factory=list)
    transport: str = "M"
    scac: str = ""
    routing: str = ""
    payment: str = "PP"
    lines: list[ShippedLine] = field(default_factory=list)
    weight: str = ""  # e.g. "12.5"
    weight_unit: str = "KG"
    cartons: int | None = None
    control_number: str = ""


def write_945(advice: ShippingAdvice, control_number: str) -> Transaction:
    if not advice.lines:
        raise ValueError("a 945 needs at least one shipped line")
    segs = [
        Segment.of(
            "W06",
            advice.reporting_code,
            advice.order_number,
            advice.ship_date.strftime("%Y%m%d"),
            advice.shipment_id,
            None,
            advice.po_number,
            advice.bill_of_lading,
        )
    ]
    for party in advice.parties:
        segs += party_segments(party)
    segs.append(Segment.of("G62", "11", advice.ship_date.strftime("%Y%m%d")))
    segs.append(Segment.of("W27", advice.transport, advice.scac, advice.routing, advice.payment))
    for n, line in enumerate(advice.lines, start=1):
        segs.append(Segment.of("LX", n))
        if line.sscc:
            segs.append(Segment.of("MAN", "GM", line.sscc))
        if line.tracking:
            segs.append(Segment.of("MAN", "CP", line.tracking))
        segs.append(
            Segment.of(
                "W12",
                line.status,
                line.qty_ordered,
                line.qty_shipped,
                line.qty_ordered - line.qty_shipped,
                line.uom,
                None,
                line.sku_qualifier,
                line.sku,
                line.lot,
            )
        )
        segs.append(Segment.of("N9", "LI", line.line_no))
    segs.append(
        Segment.of(
            "W03",
            sum(line.qty_shipped for line in advice.lines),
            advice.weight,
            advice.weight_unit if advice.weight else None,
            None,
            None,
            advice.cartons,
            "CTN" if advice.cartons is not None else None,
        )
    )
    return Transaction("945", control_number, segs)


def read_945(tx: Transaction) -> ShippingAdvice:
    r = SetReader(tx, ALLOWED)
    w06 = r.expect("W06", "warehouse shipment identification")
    advice = ShippingAdvice(
        r.required(w06, 2, "depositor order number", 22),
        r.date(w06, 3, "shipment date"),
        r.required(w06, 4, "shipment identification number", 30),
        po_number=w06.get(6).strip(),
        bill_of_lading=w06.get(7).strip(),
        reporting_code=r.required(w06, 1, "reporting code", 2),
        control_number=tx.control_number,
    )
    line: ShippedLine | None = None
    sscc = tracking = ""
    total: int | None = None
    while (seg := r.peek()) is not None:
        if seg.id == "N1":
            advice.parties.append(r.party())
            continue
        r.next()
        if seg.id == "W27":
            advice.transport = r.required(seg, 1, "transportation method", 2)
            advice.scac, advice.routing = seg.get(2).strip(), seg.get(3).strip()
            advice.payment = seg.get(4).strip()
        elif seg.id == "LX":
            r.required(seg, 1, "assigned number", 6)
            line, sscc, tracking = None, "", ""
        elif seg.id == "MAN":
            if seg.get(1) == "GM":
                sscc = r.required(seg, 2, "SSCC", 20)
            elif seg.get(1) == "CP":
                tracking = r.required(seg, 2, "tracking number", 48)
        elif seg.id == "W12":
            ordered = r.quantity(seg, 2, "quantity ordered", zero=True)
            shipped = r.quantity(seg, 3, "number of units shipped", zero=True)
            assert ordered is not None and shipped is not None
            line = ShippedLine(
                len(advice.lines) + 1,
                r.required(seg, 8, "product id", 48),
                ordered,
                shipped,
                r.required(seg, 5, "unit of measure", 2),
                r.required(seg, 7, "product id qualifier", 2),
                seg.get(9).strip(),
                sscc,
                tracking,
            )
            advice.lines.append(line)
        elif seg.id == "N9" and line is not None and seg.get(1) == "LI":
            text = r.required(seg, 2, "line number", 6)
            if not is_digits(text):
                raise r.error(
                    "ELEMENT_INVALID", seg, "N902 line number must be digits.", element=2, ak4="6"
                )
            line.line_no = int(text)
        elif seg.id == "W03":
            total = r.quantity(seg, 1, "number of units shipped", zero=True)
            advice.weight = seg.get(2).strip()
            advice.weight_unit = seg.get(3).strip() or advice.weight_unit
            advice.cartons = r.quantity(seg, 6, "lading quantity", required=False, zero=True)
            if total != sum(x.qty_shipped for x in advice.lines):
                raise r.error(
                    "TOTALS_MISMATCH",
                    seg,
                    f"W0301 says {total} units but the W12 lines add up to "
                    f"{sum(x.qty_shipped for x in advice.lines)}.",
                    element=1,
                    ak4="7",
                )
    if not advice.lines:
        raise r.missing("W12", "item detail for stock receipt")
    if total is None:
        raise r.missing("W03", "total shipment information")
    return advice
