"""856 Ship Notice/Manifest (GS01 SH) → `Asn`; and back, for round trips.

Read: BSN (purpose BSN01, shipment id = ASN number BSN02, date/time BSN03/04, structure
BSN05), then the HL hierarchy (HL01 id, HL02 parent, HL03 level S shipment, O order, T tare,
P pack, I item). Shipment level: TD1, TD5 (SCAC TD503, routing TD505), TD3, REF (BM bill of
lading, CN pro number), DTM (011 shipped, 017 estimated delivery), N1 loops. Order level: PRF
(PO number PRF01). Tare/pack level: MAN GM (SSCC). Item level: LIN (LIN01 = PO line when
numeric; qualifier/id pairs; LT = lot), SN1 (SN101 assigned id, SN102 qty, SN103 UOM), PO4,
PID (description), REF LT (lot), DTM 036 (expiry), MAN GM (item-level SSCC). An item's SSCC
is its own MAN GM, else the nearest pack/tare above it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from edge_server.edi.common import Party, SetReader, choose_sku, item_id_pairs, party_segments
from edge_server.edi.x12 import Segment, Transaction, is_digits, parse_x12_time

__all__ = ["Asn", "AsnLine", "read_856", "write_856"]

ALLOWED = frozenset(
    {
        "BSN",
        "DTM",
        "HL",
        "TD1",
        "TD5",
        "TD3",
        "TD4",
        "REF",
        "N1",
        "N2",
        "N3",
        "N4",
        "PER",
        "FOB",
        "PRF",
        "PID",
        "MEA",
        "PO4",
        "PKG",
        "MAN",
        "LIN",
        "SN1",
        "SLN",
        "CTT",
        "PAL",
        "G61",
        "LM",
        "LQ",
        "NTE",
    }
)
LEVELS = ("S", "O", "T", "P", "I")
_LIN_PAIRS = tuple((q, q + 1) for q in range(2, 31, 2))


@dataclass
class AsnLine:
    line_no: int
    sku: str
    qty: int
    uom: str
    item_ids: dict[str, str]
    lot: str = ""
    expiry: date | None = None
    sscc: str = ""
    po_number: str = ""
    po_line: int | None = None
    description: str = ""


@dataclass
class Asn:
    control_number: str
    purpose: str  # BSN01: 00 original, 05 replace, 01 cancel
    asn_number: str  # BSN02
    date: date
    time: time | None = None
    structure: str = ""
    shipped_at: datetime | None = None
    expected_at: datetime | None = None
    scac: str = ""
    routing: str = ""
    references: dict[str, str] = field(default_factory=dict)
    parties: dict[str, Party] = field(default_factory=dict)
    lines: list[AsnLine] = field(default_factory=list)

    @property
    def po_numbers(self) -> list[str]:
        return list(dict.fromkeys(line.po_number for line in self.lines if line.po_number))


@dataclass
class _Node:
    id: str
    parent: _Node | None
    level: str
    seg: Segment
    sscc: str = ""
    po_number: str = ""


def _when(r: SetReader, seg: Segment) -> datetime:
    day = r.date(seg, 2, "date")
    return datetime.combine(day, parse_x12_time(seg.get(3)) or time(0))


def read_856(tx: Transaction) -> Asn:
    r = SetReader(tx, ALLOWED)
    bsn = r.expect("BSN", "beginning segment for ship notice")
    asn = Asn(
        tx.control_number,
        r.code(bsn, 1, "transaction set purpose code", ("00", "01", "05", "06", "07")),
        r.required(bsn, 2, "shipment identification", 30),
        r.date(bsn, 3, "date"),
        parse_x12_time(bsn.get(4)),
        bsn.get(5).strip(),
    )
    while (dtm := r.take("DTM")) is not None:
        _header_date(r, dtm, asn)
    nodes: dict[str, _Node] = {}
    node: _Node | None = None
    item: AsnLine | None = None
    item_hl = bsn
    while (seg := r.next()) is not None:
        if seg.id == "HL":
            hl_id = r.required(seg, 1, "hierarchical id number", 12)
            if hl_id in nodes:
                raise r.error(
                    "ELEMENT_INVALID", seg, f"HL01 {hl_id!r} is used twice.", element=1, ak4="7"
                )
            parent_id = seg.get(2).strip()
            if parent_id and parent_id not in nodes:
                raise r.error(
                    "ELEMENT_INVALID",
                    seg,
                    f"HL02 parent {parent_id!r} is not an earlier HL.",
                    element=2,
                    ak4="7",
                    value=parent_id,
                )
            level = r.code(seg, 3, "hierarchical level code", LEVELS)
            if (level == "S") != (not nodes):
                raise r.error(
                    "ELEMENT_INVALID",
                    seg,
                    "the first HL, and only the first, is the shipment level (HL03 = S).",
                    element=3,
                    ak4="7",
                    value=level,
                )
            parent = nodes.get(parent_id) if parent_id else None
            if level != "S" and parent is None:
                raise r.error(
                    "MANDATORY_MISSING",
                    seg,
                    f"HL {hl_id} needs a parent (HL02).",
                    element=2,
                    ak4="1",
                )
            node = nodes[hl_id] = _Node(hl_id, parent, level, seg)
            if parent is not None:
                node.sscc, node.po_number = parent.sscc, parent.po_number
            if item is not None:
                _finish_item(r, item, item_hl, asn)
            item = None
            if level == "I":
                item_hl = seg
                item = AsnLine(
                    len(asn.lines) + 1, "", 0, "", {}, sscc=node.sscc, po_number=node.po_number
                )
            continue
        if node is None:
            raise r.error("SEGMENT_UNEXPECTED", seg, f"{seg.id} must follow an HL.", ak3="7")
        if seg.id == "N1":
            r.i -= 1
            party = r.party()
            asn.parties.setdefault(party.code, party)
        elif seg.id in ("N2", "N3", "N4"):
            raise r.error("SEGMENT_UNEXPECTED", seg, f"{seg.id} must follow an N1.", ak3="7")
        elif seg.id == "TD5" and node.level == "S":
            asn.scac, asn.routing = seg.get(3).strip(), seg.get(5).strip()
        elif seg.id == "REF":
            qualifier = r.required(seg, 1, "reference qualifier", 3)
            if item is not None and qualifier == "LT":
                item.lot = r.required(seg, 2, "lot number", 20)
            elif node.level == "S":
                asn.references.setdefault(qualifier, seg.get(2).strip())
        elif seg.id == "DTM":
            qualifier = r.required(seg, 1, "date/time qualifier", 3)
            if item is not None and qualifier == "036":
                item.expiry = r.date(seg, 2, "expiration date")
            elif node.level == "S":
                _header_date(r, seg, asn)
        elif seg.id == "PRF":
            node.po_number = r.required(seg, 1, "purchase order number", 22)
            if item is not None:
                item.po_number = node.po_number
        elif seg.id == "MAN" and seg.get(1) == "GM":
            node.sscc = r.required(seg, 2, "SSCC", 20)
            if item is not None:
                item.sscc = node.sscc
        elif seg.id == "LIN" and item is not None:
            if item.item_ids:
                raise r.error("SEGMENT_UNEXPECTED", seg, "one LIN per item level.", ak3="5")
            item.item_ids = item_id_pairs(seg, _LIN_PAIRS)
            item.lot = item.item_ids.pop("LT", item.lot)
            item.sku = choose_sku(item.item_ids)
            if not item.sku:
                raise r.error(
                    "MANDATORY_MISSING",
                    seg,
                    "LIN names no item (give a qualifier/id pair such as VN, SK or UP).",
                    element=3,
                    ak4="1",
                )
            if is_digits(seg.get(1)) and int(seg.get(1)) > 0:
                item.po_line = int(seg.get(1))
        elif seg.id == "SN1" and item is not None:
            if item.qty:
                raise r.error("SEGMENT_UNEXPECTED", seg, "one SN1 per item level.", ak3="5")
            qty = r.quantity(seg, 2, "number of units shipped")
            assert qty is not None
            item.qty, item.uom = qty, r.required(seg, 3, "unit of measure", 2)
        elif seg.id == "PID" and item is not None:
            item.description = seg.get(5).strip()
        elif seg.id in ("LIN", "SN1"):
            raise r.error(
                "SEGMENT_UNEXPECTED",
                seg,
                f"{seg.id} belongs at the item level (HL03 = I).",
                ak3="2",
            )
    if item is not None:
        _finish_item(r, item, item_hl, asn)
    if not nodes:
        raise r.missing("HL", "shipment level")
    if not asn.lines:
        raise r.missing("HL", "an item level, HL03 = I")
    return asn


def _header_date(r: SetReader, seg: Segment, asn: Asn) -> None:
    qualifier = r.required(seg, 1, "date/time qualifier", 3)
    if qualifier == "011":
        asn.shipped_at = _when(r, seg)
    elif qualifier in ("017", "067"):
        asn.expected_at = _when(r, seg)


def _finish_item(r: SetReader, item: AsnLine, hl: Segment, asn: Asn) -> None:
    missing = (
        ("LIN", bool(item.item_ids), "item identification"),
        ("SN1", bool(item.qty), "item detail (shipment)"),
    )
    for seg_id, ok, what in missing:
        if not ok:
            raise r.error(
                "MANDATORY_MISSING",
                hl,
                f"the item level HL {hl.get(1)} has no {seg_id} ({what}).",
                ak3="3",
            )
    asn.lines.append(item)


def write_856(asn: Asn, control_number: str | None = None) -> Transaction:
    segs = [
        Segment.of(
            "BSN",
            asn.purpose,
            asn.asn_number,
            asn.date.strftime("%Y%m%d"),
            asn.time.strftime("%H%M") if asn.time else "0000",
            asn.structure or "0001",
        )
    ]
    hl = 1
    segs.append(Segment.of("HL", hl, None, "S"))
    if asn.scac or asn.routing:
        segs.append(Segment.of("TD5", None, "2" if asn.scac else None, asn.scac, None, asn.routing))
    segs += [Segment.of("REF", q, v) for q, v in asn.references.items()]
    for qualifier, when in (("011", asn.shipped_at), ("017", asn.expected_at)):
        if when is not None:
            segs.append(
                Segment.of("DTM", qualifier, when.strftime("%Y%m%d"), when.strftime("%H%M"))
            )
    for party in asn.parties.values():
        segs += party_segments(party)
    order_hl: dict[str, int] = {}
    pack_hl: dict[tuple[str, str], int] = {}
    for line in asn.lines:
        parent = 1
        if line.po_number:
            if line.po_number not in order_hl:
                hl += 1
                order_hl[line.po_number] = hl
                segs += [Segment.of("HL", hl, 1, "O"), Segment.of("PRF", line.po_number)]
            parent = order_hl[line.po_number]
        if line.sscc:
            if (line.po_number, line.sscc) not in pack_hl:
                hl += 1
                pack_hl[(line.po_number, line.sscc)] = hl
                segs += [Segment.of("HL", hl, parent, "P"), Segment.of("MAN", "GM", line.sscc)]
            parent = pack_hl[(line.po_number, line.sscc)]
        hl += 1
        segs.append(Segment.of("HL", hl, parent, "I"))
        pairs = [x for q, v in line.item_ids.items() for x in (q, v)]
        segs.append(Segment.of("LIN", line.po_line, *pairs))
        segs.append(Segment.of("SN1", None, line.qty, line.uom))
        if line.description:
            segs.append(Segment.of("PID", "F", None, None, None, line.description))
        if line.lot:
            segs.append(Segment.of("REF", "LT", line.lot))
        if line.expiry:
            segs.append(Segment.of("DTM", "036", line.expiry.strftime("%Y%m%d")))
    segs.append(Segment.of("CTT", hl))
    return Transaction("856", control_number or asn.control_number, segs)
