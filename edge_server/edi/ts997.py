"""997 Functional Acknowledgment (GS01 FA): built from a `ParseResult`, written, and read back.

One 997 per functional group received: AK1 (the group's GS01 and GS06), per set AK2 (ST01,
ST02), AK3 (segment id, position in the set with ST = 1, error code) with AK4 (element
position, error code, copy of the bad data), AK5 (A accepted / R rejected, with set error
codes), AK9 (A all accepted / P partially / R rejected, sets included, received, accepted).

Codes used (X12 4010): AK3 1 unrecognized segment id, 2 unexpected segment, 3 mandatory
segment missing, 5 segment exceeds maximum use, 7 segment not in proper sequence, 8 segment has
data element errors. AK4 1 mandatory element missing, 2 conditional element missing, 5 too
long, 6 invalid character, 7 invalid code value, 8 invalid date. AK5 1 set not supported,
2 trailer missing, 3 control numbers differ, 4 segment count wrong, 5 segments in error,
6 invalid set identifier.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edge_server.edi.common import SetReader
from edge_server.edi.results import ParseResult
from edge_server.edi.x12 import Segment, Transaction, X12Error

__all__ = [
    "ElementError",
    "GroupAck",
    "SegmentError",
    "SetAck",
    "acknowledge",
    "read_997",
    "write_997",
]

ALLOWED = frozenset({"AK1", "AK2", "AK3", "AK4", "AK5", "AK9"})
_SET_CODES = {
    "UNSUPPORTED_SET": "1",
    "SE_MISSING": "2",
    "SE_MISMATCH": "3",
    "SE_COUNT": "4",
    "ST_INVALID": "6",
}


@dataclass
class ElementError:
    position: int
    code: str
    bad_value: str = ""


@dataclass
class SegmentError:
    segment_id: str
    position: int
    code: str
    elements: list[ElementError] = field(default_factory=list)


@dataclass
class SetAck:
    set_id: str
    control_number: str
    status: str  # A accepted, E accepted with errors, R rejected
    codes: list[str] = field(default_factory=list)
    segments: list[SegmentError] = field(default_factory=list)


@dataclass
class GroupAck:
    functional_id: str
    control_number: int
    status: str  # A, E, P, R
    included: int
    received: int
    accepted: int
    sets: list[SetAck] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)


def _set_ack(tx: Transaction, errors: list[X12Error]) -> SetAck:
    # ST01/ST02 are echoed; a malformed ST may hold characters a 997 cannot carry
    set_id, control = _printable(tx.set_id)[:9], _printable(tx.control_number)[:9]
    if not errors:
        return SetAck(set_id, control, "A")
    ack = SetAck(set_id, control, "R")
    for err in errors:
        set_code = _SET_CODES.get(err.code)
        if set_code is not None:
            ack.codes.append(set_code)
            continue
        ack.codes.append("5")
        seg_code = err.ak3 or ("3" if err.code == "MANDATORY_MISSING" else "8")
        seg = SegmentError(err.segment_id or "SE", err.set_position or 1, seg_code)
        if err.element is not None and err.ak4:
            seg.elements.append(ElementError(err.element, err.ak4, _printable(err.bad_value)[:99]))
        ack.segments.append(seg)
    ack.codes = list(dict.fromkeys(ack.codes))[:5]
    return ack


def acknowledge(result: ParseResult) -> list[GroupAck]:
    """One GroupAck per functional group of the interchange read."""
    acks: list[GroupAck] = []
    for group in result.interchange.groups:
        sets = [s for s in result.sets if s.group is group]
        set_acks = [_set_ack(s.transaction, s.errors) for s in sets]
        accepted = sum(1 for a in set_acks if a.status in ("A", "E"))
        status = "A" if accepted == len(sets) else ("R" if accepted == 0 else "P")
        acks.append(
            GroupAck(
                group.functional_id,
                group.control_number,
                status,
                len(sets),
                len(sets),
                accepted,
                set_acks,
            )
        )
    return acks


def write_997(ack: GroupAck, control_number: str) -> Transaction:
    segs = [Segment.of("AK1", ack.functional_id, ack.control_number)]
    for s in ack.sets:
        segs.append(Segment.of("AK2", s.set_id, s.control_number))
        for seg in s.segments:
            segs.append(Segment.of("AK3", seg.segment_id, seg.position, None, seg.code))
            segs += [
                Segment.of("AK4", e.position, None, e.code, _printable(e.bad_value))
                for e in seg.elements
            ]
        segs.append(Segment.of("AK5", s.status, *s.codes[:5]))
    segs.append(
        Segment.of("AK9", ack.status, ack.included, ack.received, ack.accepted, *ack.codes[:5])
    )
    return Transaction("997", control_number, segs)


def _printable(value: str) -> str:
    # the copy of bad data must not carry a separator of the reply
    return "".join(c for c in value if c.isalnum() or c in " .-_/")


def read_997(tx: Transaction) -> GroupAck:
    r = SetReader(tx, ALLOWED)
    ak1 = r.expect("AK1", "functional group response header")
    group_control = r.quantity(ak1, 2, "group control number", zero=True)
    assert group_control is not None
    ack = GroupAck(r.required(ak1, 1, "functional identifier code", 2), group_control, "", 0, 0, 0)
    current: SetAck | None = None
    while (seg := r.next()) is not None:
        if seg.id == "AK2":
            # echoed as received, even when the set's own ST was malformed
            current = SetAck(seg.get(1), seg.get(2), "")
        elif seg.id == "AK3" and current is not None:
            pos = r.quantity(seg, 2, "segment position", zero=True)
            assert pos is not None
            current.segments.append(
                SegmentError(r.required(seg, 1, "segment id", 3), pos, seg.get(4))
            )
        elif seg.id == "AK4" and current is not None and current.segments:
            pos = r.quantity(seg, 1, "element position")
            assert pos is not None
            current.segments[-1].elements.append(
                ElementError(pos, r.required(seg, 3, "element error code", 3), seg.get(4))
            )
        elif seg.id == "AK5" and current is not None:
            current.status = r.code(
                seg, 1, "set acknowledgment code", ("A", "E", "M", "R", "W", "X")
            )
            current.codes = [c for c in seg.elements[1:] if c]
            ack.sets.append(current)
            current = None
        elif seg.id == "AK9":
            ack.status = r.code(
                seg, 1, "group acknowledgment code", ("A", "E", "M", "P", "R", "W", "X")
            )
            counts = [r.quantity(seg, n, "count", zero=True) for n in (2, 3, 4)]
            ack.included, ack.received, ack.accepted = (c or 0 for c in counts)
            ack.codes = [c for c in seg.elements[4:] if c]
            if r.peek() is not None:
                raise r.error("SEGMENT_UNEXPECTED", r.peek(), "nothing may follow AK9.", ak3="7")
        else:
            raise r.error("SEGMENT_UNEXPECTED", seg, f"{seg.id} is out of place here.", ak3="7")
    if current is not None:
        raise r.missing("AK5", "transaction set response trailer")
    if not ack.status:
        raise r.missing("AK9", "functional group response trailer")
    return ack
