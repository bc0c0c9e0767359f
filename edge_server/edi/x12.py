"""X12 tokenizer, envelope reader and writer (ISA/IEA, GS/GE, ST/SE).

Pure functions over text: no database, no files. See docs/edi.md for integrators.

Reading::

    interchange = parse_interchange(data)   # bytes or str; X12Error on an envelope error

`parse_interchange` raises `X12Error` for anything wrong with the interchange or group
envelopes (ISA, IEA, GS, GE, segments outside a transaction): the whole interchange is then
rejected and nothing may be applied. Problems inside one transaction set (ST/SE counts and
control numbers, a missing SE) do not raise: they are listed in `Transaction.errors`, so that
only that set is rejected and the 997 reports it. `edge_server.edi.reader.read_interchange`
goes on to read each set into a typed document.

Writing::

    text = write_interchange(interchange, separators=Separators())

takes the same dataclasses (segment counts, group counts and trailers are computed; ISA fields
are padded to their fixed widths).

Positions follow the 997 convention: `Segment.position` counts from 1 at ISA across the whole
interchange; inside a transaction set, ST is position 1 (`Transaction.position_of`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

__all__ = [
    "DEFAULT_SEPARATORS",
    "ENVELOPE_CODES",
    "FUNCTIONAL_IDS",
    "TRANSACTION_CODES",
    "FunctionalGroup",
    "Interchange",
    "Segment",
    "Separators",
    "Transaction",
    "X12Error",
    "is_digits",
    "parse_interchange",
    "parse_x12_date",
    "parse_x12_time",
    "wrap",
    "write_interchange",
]

#: Machine codes carried by `X12Error.code` (documented in docs/edi.md).
ENVELOPE_CODES = frozenset(
    {
        "EMPTY_INPUT",
        "NOT_X12",
        "ISA_INVALID",
        "IEA_MISSING",
        "IEA_MISMATCH",
        "GS_INVALID",
        "GE_MISSING",
        "GE_MISMATCH",
        "SEGMENT_INVALID",
        "SEGMENT_UNEXPECTED",
    }
)
TRANSACTION_CODES = frozenset(
    {
        "ST_INVALID",
        "SE_MISSING",
        "SE_COUNT",
        "SE_MISMATCH",
        "UNSUPPORTED_SET",
        "SEGMENT_UNEXPECTED",
        "MANDATORY_MISSING",
        "ELEMENT_INVALID",
        "TOTALS_MISMATCH",
    }
)


class X12Error(Exception):
    """A clear refusal of (part of) an interchange.

    - `code`: machine code, e.g. `ISA_INVALID`, `SE_COUNT` (docs/edi.md lists them);
    - `position`: 1-based segment position in the interchange (ISA = 1), or None;
    - `set_position`: 1-based position inside the transaction set (ST = 1), or None;
    - `segment_id`, `element`: the segment and 1-based element position at fault, if known;
    - `message`: a plain-English sentence;
    - `ak3`/`ak4`: the standard 997 segment / element syntax error codes (set by set readers).
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        position: int | None = None,
        set_position: int | None = None,
        segment_id: str = "",
        element: int | None = None,
        ak3: str = "",
        ak4: str = "",
        bad_value: str = "",
    ) -> None:
        self.code = code
        self.message = message
        self.position = position
        self.set_position = set_position
        self.segment_id = segment_id
        self.element = element
        self.ak3 = ak3
        self.ak4 = ak4
        self.bad_value = bad_value
        where = []
        if segment_id:
            where.append(f"segment {segment_id}")
        if position is not None:
            where.append(f"at position {position}")
        if element is not None:
            where.append(f"element {element:02d}")
        super().__init__(f"{code}: {message}" + (f" ({', '.join(where)})" if where else ""))

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "position": self.position,
            "set_position": self.set_position,
            "segment_id": self.segment_id,
            "element": self.element,
        }


@dataclass(frozen=True)
class Separators:
    """Delimiters of an interchange. `repetition` is "" for versions before 00402, where
    ISA11 is the standards identifier `U` instead. `suffix` is written after each segment
    terminator (e.g. a newline); readers tolerate CR, LF or CRLF there."""

    element: str = "*"
    component: str = ">"
    segment: str = "~"
    repetition: str = "^"
    suffix: str = "\n"

    def check(self) -> None:
        chars = [self.element, self.component, self.segment]
        if self.repetition:
            chars.append(self.repetition)
        if any(len(c) != 1 or c.isalnum() or c == " " for c in chars) or len(set(chars)) != len(
            chars
        ):
            raise ValueError(f"separators must be distinct single non-alphanumeric chars: {self}")
        if self.suffix not in ("", "\n", "\r\n", "\r"):
            raise ValueError("the segment suffix is '', CR, LF or CRLF")


DEFAULT_SEPARATORS = Separators()


@dataclass(frozen=True)
class Segment:
    """One segment: `id` and its elements (`elements[0]` is element 01)."""

    id: str
    elements: tuple[str, ...] = ()
    position: int = 0

    def get(self, n: int) -> str:
        """Element `n` (1-based), "" when absent."""
        return self.elements[n - 1] if 0 < n <= len(self.elements) else ""

    @staticmethod
    def of(seg_id: str, *elements: str | int | None) -> Segment:
        """A segment for writing; None/"" elements are empty and trailing empties dropped."""
        values = ["" if e is None else str(e) for e in elements]
        while values and values[-1] == "":
            values.pop()
        return Segment(seg_id, tuple(values))


@dataclass
class Transaction:
    """One transaction set between ST and SE. `segments` are the body (ST and SE excluded)."""

    set_id: str
    control_number: str
    segments: list[Segment] = field(default_factory=list)
    implementation_ref: str = ""
    #: interchange position of the ST segment (0 when built for writing)
    start: int = 0
    #: structural problems found by the envelope reader (SE count, SE02, missing SE...)
    errors: list[X12Error] = field(default_factory=list)

    def position_of(self, segment: Segment) -> int:
        """1-based position of `segment` inside this set (ST = 1)."""
        return segment.position - self.start + 1


@dataclass
class FunctionalGroup:
    functional_id: str
    sender_id: str
    receiver_id: str
    control_number: int
    date: date
    time: time
    version: str = "004010"
    agency: str = "X"
    transactions: list[Transaction] = field(default_factory=list)
    start: int = 0


@dataclass
class Interchange:
    """An ISA..IEA interchange. `(sender_qualifier, sender_id, control_number)` identifies it
    (the idempotency key for inbound files)."""

    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    control_number: int
    date: date
    time: time
    usage: str = "P"
    version: str = "00401"
    ack_requested: bool = False
    auth_qualifier: str = "00"
    auth_info: str = ""
    security_qualifier: str = "00"
    security_info: str = ""
    groups: list[FunctionalGroup] = field(default_factory=list)
    separators: Separators = DEFAULT_SEPARATORS

    @property
    def key(self) -> str:
        """Idempotency key: sender qualifier/id and control number."""
        return f"{self.sender_qualifier}:{self.sender_id}:{self.control_number:09d}"


# --- reading ---------------------------------------------------------------------------------

ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
ISA_LENGTH = 106  # 105 characters and the segment terminator
_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
_DIGITS = re.compile(r"^[0-9]+$")


def is_digits(text: str) -> bool:
    """Only ASCII digits (str.isdigit also accepts '²' and other Unicode digits)."""
    return _DIGITS.fullmatch(text) is not None


def parse_x12_date(text: str) -> date | None:
    """CCYYMMDD or YYMMDD (YY < 50 is 20YY), None when not a date."""
    if not _DIGITS.fullmatch(text) or len(text) not in (6, 8):
        return None
    if len(text) == 6:
        text = ("20" if int(text[:2]) < 50 else "19") + text
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def parse_x12_time(text: str) -> time | None:
    """HHMM, HHMMSS or HHMMSSd.., None when not a time."""
    if not _DIGITS.fullmatch(text) or len(text) not in (4, 6, 7, 8):
        return None
    try:
        return time(int(text[:2]), int(text[2:4]), int(text[4:6] or 0))
    except ValueError:
        return None


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _isa_error(message: str, element: int | None = None, value: str = "") -> X12Error:
    return X12Error(
        "ISA_INVALID", message, position=1, segment_id="ISA", element=element, bad_value=value
    )


def _read_isa(text: str) -> tuple[list[str], Separators]:
    if len(text) < ISA_LENGTH:
        raise _isa_error(
            f"the ISA segment is fixed width ({ISA_LENGTH} characters with its terminator); "
            f"the file has only {len(text)} characters."
        )
    element = text[3]
    if element.isalnum() or element in " \r\n":
        raise _isa_error(f"the element separator {element!r} (4th character) is not usable.")
    parts = text.split(element, 16)
    if len(parts) < 17:
        raise _isa_error(f"the ISA segment must have 16 elements; found {len(parts) - 1}.")
    for n, (value, width) in enumerate(zip(parts[1:16], ISA_WIDTHS, strict=False), start=1):
        if len(value) != width:
            raise _isa_error(
                f"ISA{n:02d} must be exactly {width} characters (padded with spaces); "
                f"it is {len(value)}: {value[:20]!r}.",
                n,
                value,
            )
    parts[16] = parts[16][:1]
    component, segment = text[104], text[105]
    version = parts[12]
    if not _DIGITS.fullmatch(version):
        raise _isa_error(f"ISA12 version {version!r} is not 5 digits.", 12, version)
    repetition = ""
    if version >= "00402":
        repetition = parts[11]
    elif parts[11] != "U":
        raise _isa_error(
            f"ISA11 must be 'U' in version {version} (the repetition separator exists from 00402).",
            11,
            parts[11],
        )
    seps = Separators(element, component, segment, repetition, suffix="")
    try:
        seps.check()
    except ValueError:
        raise _isa_error(
            "the separators (ISA 4th character, ISA11, ISA16 and the segment terminator) must "
            f"be distinct non-alphanumeric characters; got {element!r}, {repetition!r}, "
            f"{component!r}, {segment!r}."
        ) from None
    return parts, seps


def _tokenize(text: str, seps: Separators, first: int) -> list[Segment]:
    raw = text.split(seps.segment)
    tail = raw.pop()  # after the last terminator: only line breaks/blank allowed
    segments: list[Segment] = []
    for n, chunk in enumerate(raw, start=first):
        if seps.segment not in "\r\n":
            chunk = chunk.lstrip("\r\n")
        elif seps.segment == "\n":
            chunk = chunk.lstrip("\r").rstrip("\r")
        if not chunk:
            raise X12Error(
                "SEGMENT_INVALID",
                f"empty segment (two segment terminators {seps.segment!r} in a row).",
                position=n,
            )
        parts = chunk.split(seps.element)
        seg_id = parts[0]
        if not _SEGMENT_ID.fullmatch(seg_id):
            raise X12Error(
                "SEGMENT_INVALID",
                f"{seg_id[:10]!r} is not a segment id (2-3 capital letters/digits, starting "
                "with a letter); is a segment terminator missing?",
                position=n,
                segment_id=seg_id[:3],
            )
        segments.append(Segment(seg_id, tuple(parts[1:]), n))
    if tail.strip(" \r\n\x00\x1a"):
        raise X12Error(
            "SEGMENT_INVALID",
            f"text after the last segment terminator {seps.segment!r} is not a terminated "
            f"segment: {tail.strip()[:20]!r}.",
            position=len(raw) + first,
        )
    return segments


def _number(value: str, max_len: int) -> int | None:
    return int(value) if _DIGITS.fullmatch(value) and len(value) <= max_len else None


def _check_trailer(seg: Segment, element: int, width: int, expected: int, problem: str) -> None:
    """A GE or IEA element (a count or a control number) must equal `expected`: else
    `GE_MISMATCH` / `IEA_MISMATCH` naming the element, what it holds and `problem`."""
    if _number(seg.get(element), width) != expected:
        raise X12Error(
            f"{seg.id}_MISMATCH",
            f"{seg.id}{element:02d} {seg.get(element)!r}: {problem}",
            position=seg.position,
            segment_id=seg.id,
            element=element,
        )


def _read_gs(seg: Segment) -> FunctionalGroup:
    def bad(n: int, what: str) -> X12Error:
        return X12Error(
            "GS_INVALID",
            f"GS{n:02d} {what}; got {seg.get(n)!r}.",
            position=seg.position,
            segment_id="GS",
            element=n,
            bad_value=seg.get(n),
        )

    if not re.fullmatch(r"[A-Z]{2}", seg.get(1)):
        raise bad(1, "(functional identifier code) must be two letters, e.g. OW, SH, SW, FA")
    for n in (2, 3):
        if not 2 <= len(seg.get(n).strip()) <= 15:
            raise bad(n, "(application sender/receiver code) must be 2-15 characters")
    gs_date = parse_x12_date(seg.get(4)) if len(seg.get(4)) == 8 else None
    if gs_date is None:
        raise bad(4, "(date) must be CCYYMMDD")
    gs_time = parse_x12_time(seg.get(5))
    if gs_time is None:
        raise bad(5, "(time) must be HHMM or HHMMSS")
    control = _number(seg.get(6), 9)
    if control is None:
        raise bad(6, "(group control number) must be 1-9 digits")
    if seg.get(7) not in ("X", "T"):
        raise bad(7, "(responsible agency) must be X")
    if not seg.get(8):
        raise bad(8, "(version) is required, e.g. 004010")
    return FunctionalGroup(
        seg.get(1),
        seg.get(2).strip(),
        seg.get(3).strip(),
        control,
        gs_date,
        gs_time,
        seg.get(8),
        seg.get(7),
        start=seg.position,
    )


def _close_transaction(tx: Transaction, se: Segment | None, end_position: int) -> None:
    if se is None:
        tx.errors.append(
            X12Error(
                "SE_MISSING",
                f"transaction set {tx.set_id} {tx.control_number!r} has no SE trailer.",
                position=end_position,
                segment_id="ST",
            )
        )
        return
    count = len(tx.segments) + 2
    if se.get(2) != tx.control_number:
        tx.errors.append(
            X12Error(
                "SE_MISMATCH",
                f"SE02 {se.get(2)!r} does not repeat the ST02 control number "
                f"{tx.control_number!r}.",
                position=se.position,
                set_position=count,
                segment_id="SE",
                element=2,
                bad_value=se.get(2),
            )
        )
    if se.get(1) != str(count) and _number(se.get(1), 10) != count:
        tx.errors.append(
            X12Error(
                "SE_COUNT",
                f"SE01 says {se.get(1)!r} segments but the set has {count} (ST to SE inclusive).",
                position=se.position,
                set_position=count,
                segment_id="SE",
                element=1,
                bad_value=se.get(1),
            )
        )


def parse_interchange(data: bytes | str) -> Interchange:
    """Read one interchange; X12Error for an envelope error (see the module docstring)."""
    text = _decode(data).lstrip("\ufeff \t\r\n")
    if not text:
        raise X12Error("EMPTY_INPUT", "the file is empty.")
    if not text.startswith("ISA"):
        raise X12Error(
            "NOT_X12",
            f"an X12 interchange starts with 'ISA'; this starts with {text[:10]!r}.",
            position=1,
        )
    isa_parts, seps = _read_isa(text)
    isa = isa_parts[1:]
    isa_date = parse_x12_date(isa[8])
    if isa_date is None:
        raise _isa_error(f"ISA09 {isa[8]!r} is not a YYMMDD date.", 9, isa[8])
    isa_time = parse_x12_time(isa[9])
    if isa_time is None:
        raise _isa_error(f"ISA10 {isa[9]!r} is not an HHMM time.", 10, isa[9])
    control = _number(isa[12], 9)
    if control is None:
        raise _isa_error(f"ISA13 control number {isa[12]!r} must be 9 digits.", 13, isa[12])
    if isa[13] not in ("0", "1"):
        raise _isa_error(f"ISA14 (acknowledgment requested) must be 0 or 1; got {isa[13]!r}.", 14)
    if isa[14] not in ("P", "T"):
        raise _isa_error(f"ISA15 (usage) must be P (production) or T (test); got {isa[14]!r}.", 15)
    interchange = Interchange(
        sender_qualifier=isa[4],
        sender_id=isa[5].strip(),
        receiver_qualifier=isa[6],
        receiver_id=isa[7].strip(),
        control_number=control,
        date=isa_date,
        time=isa_time,
        usage=isa[14],
        version=isa[11],
        ack_requested=isa[13] == "1",
        auth_qualifier=isa[0],
        auth_info=isa[1].rstrip(),
        security_qualifier=isa[2],
        security_info=isa[3].rstrip(),
        separators=seps,
    )
    segments = [Segment("ISA", tuple(isa), 1), *_tokenize(text[ISA_LENGTH:], seps, 2)]
    _read_structure(interchange, segments)
    return interchange


def _unexpected(seg: Segment, where: str) -> X12Error:
    return X12Error(
        "SEGMENT_UNEXPECTED",
        f"segment {seg.id} is not allowed {where}.",
        position=seg.position,
        segment_id=seg.id,
    )


def _read_structure(ix: Interchange, segments: list[Segment]) -> None:
    i, n = 1, len(segments)
    iea: Segment | None = None
    while i < n:
        seg = segments[i]
        if seg.id == "IEA":
            iea = seg
            i += 1
            break
        if seg.id != "GS":
            raise _unexpected(seg, "between groups (expected GS or IEA)")
        group = _read_gs(seg)
        i += 1
        ge: Segment | None = None
        while i < n:
            seg = segments[i]
            if seg.id == "GE":
                ge = seg
                i += 1
                break
            if seg.id != "ST":
                if seg.id in ("GS", "IEA", "ISA"):
                    break
                raise _unexpected(seg, "between transaction sets (expected ST or GE)")
            tx = Transaction(
                seg.get(1), seg.get(2), implementation_ref=seg.get(3), start=seg.position
            )
            if not re.fullmatch(r"[0-9]{3}", tx.set_id) or not 4 <= len(tx.control_number) <= 9:
                tx.errors.append(
                    X12Error(
                        "ST_INVALID",
                        "ST01 must be a 3-digit set id and ST02 a 4-9 character control number; "
                        f"got {tx.set_id!r} and {tx.control_number!r}.",
                        position=seg.position,
                        set_position=1,
                        segment_id="ST",
                    )
                )
            i += 1
            se: Segment | None = None
            while i < n:
                seg = segments[i]
                if seg.id == "SE":
                    se = seg
                    i += 1
                    break
                if seg.id in ("ST", "GE", "GS", "IEA", "ISA"):
                    break
                tx.segments.append(seg)
                i += 1
            _close_transaction(tx, se, segments[min(i, n - 1)].position)
            group.transactions.append(tx)
        if ge is None:
            raise X12Error(
                "GE_MISSING",
                f"functional group {group.control_number} (GS at position {group.start}) has "
                "no GE trailer.",
                position=group.start,
                segment_id="GS",
            )
        _check_trailer(
            ge,
            2,
            9,
            group.control_number,
            f"does not repeat the GS06 group control number {group.control_number}.",
        )
        _check_trailer(
            ge,
            1,
            6,
            len(group.transactions),
            f"transaction sets are counted but group {group.control_number} has "
            f"{len(group.transactions)}.",
        )
        ix.groups.append(group)
    if iea is None:
        raise X12Error(
            "IEA_MISSING",
            "the interchange has no IEA trailer.",
            position=segments[-1].position + 1,
            segment_id="IEA",
        )
    if i < n:
        raise _unexpected(segments[i], "after IEA (one interchange per file)")
    _check_trailer(
        iea,
        2,
        9,
        ix.control_number,
        f"does not repeat the ISA13 control number {ix.control_number:09d}.",
    )
    _check_trailer(
        iea,
        1,
        5,
        len(ix.groups),
        f"functional groups are counted but the interchange has {len(ix.groups)}.",
    )


# --- writing ---------------------------------------------------------------------------------


def _fixed(value: str, width: int, name: str) -> str:
    if len(value) > width:
        raise ValueError(f"{name} {value!r} is longer than {width} characters")
    return value.ljust(width)


def _check_value(value: str, seps: Separators, where: str) -> None:
    bad = {seps.element, seps.segment, seps.component, seps.repetition} - {""}
    if any(c in value for c in bad) or "\r" in value or "\n" in value:
        raise ValueError(f"{where} {value!r} contains a separator character")


def _segment_text(seg: Segment, seps: Separators) -> str:
    for n, value in enumerate(seg.elements, start=1):
        _check_value(value, seps, f"{seg.id}{n:02d}")
    return seps.element.join((seg.id, *seg.elements)) + seps.segment + seps.suffix


def write_interchange(ix: Interchange, separators: Separators | None = None) -> str:
    """The interchange as text. Counts and trailers are computed; ValueError for a value that
    does not fit (too long for its ISA field, or containing a separator)."""
    seps = separators or DEFAULT_SEPARATORS
    seps.check()
    version = ix.version
    if version >= "00402" and not seps.repetition:
        raise ValueError(f"version {version} needs a repetition separator")
    isa11 = seps.repetition if version >= "00402" else "U"
    fields = [
        _fixed(ix.auth_qualifier, 2, "ISA01"),
        _fixed(ix.auth_info, 10, "ISA02"),
        _fixed(ix.security_qualifier, 2, "ISA03"),
        _fixed(ix.security_info, 10, "ISA04"),
        _fixed(ix.sender_qualifier, 2, "ISA05"),
        _fixed(ix.sender_id, 15, "ISA06"),
        _fixed(ix.receiver_qualifier, 2, "ISA07"),
        _fixed(ix.receiver_id, 15, "ISA08"),
        ix.date.strftime("%y%m%d"),
        ix.time.strftime("%H%M"),
        isa11,
        _fixed(version, 5, "ISA12"),
        f"{ix.control_number:09d}",
        "1" if ix.ack_requested else "0",
        ix.usage,
        seps.component,
    ]
    if not 0 <= ix.control_number <= 999_999_999 or ix.usage not in ("P", "T"):
        raise ValueError("the control number is 0-999999999 and usage P or T")
    for n, value in enumerate(fields[:-1], start=1):
        if n != 11:
            _check_value(value, seps, f"ISA{n:02d}")
    out = [seps.element.join(("ISA", *fields)) + seps.segment + seps.suffix]
    for group in ix.groups:
        out.append(
            _segment_text(
                Segment.of(
                    "GS",
                    group.functional_id,
                    group.sender_id,
                    group.receiver_id,
                    group.date.strftime("%Y%m%d"),
                    group.time.strftime("%H%M"),
                    group.control_number,
                    group.agency,
                    group.version,
                ),
                seps,
            )
        )
        for tx in group.transactions:
            out.append(_transaction_text(tx, seps))
        out.append(
            _segment_text(Segment.of("GE", len(group.transactions), group.control_number), seps)
        )
    out.append(_segment_text(Segment.of("IEA", len(ix.groups), f"{ix.control_number:09d}"), seps))
    return "".join(out)


def _transaction_text(tx: Transaction, seps: Separators) -> str:
    body: Sequence[Segment] = tx.segments
    parts = [
        _segment_text(Segment.of("ST", tx.set_id, tx.control_number, tx.implementation_ref), seps)
    ]
    parts.extend(_segment_text(seg, seps) for seg in body)
    parts.append(_segment_text(Segment.of("SE", len(body) + 2, tx.control_number), seps))
    return "".join(parts)


#: GS01 functional identifier code of each supported transaction set.
FUNCTIONAL_IDS = {"940": "OW", "856": "SH", "945": "SW", "997": "FA"}


def wrap(
    transactions: Sequence[Transaction],
    *,
    sender: tuple[str, str],
    receiver: tuple[str, str],
    control_number: int,
    at: datetime,
    group_control_number: int | None = None,
    usage: str = "P",
    version: str = "00401",
    group_version: str = "004010",
    ack_requested: bool = False,
) -> Interchange:
    """One interchange with one functional group holding `transactions` (all of one set id;
    GS01 from FUNCTIONAL_IDS). `sender`/`receiver` are (qualifier, id), e.g. ("ZZ", "ACME3PL");
    the GS application codes are the same ids."""
    set_ids = {tx.set_id for tx in transactions}
    if len(set_ids) != 1 or next(iter(set_ids)) not in FUNCTIONAL_IDS:
        raise ValueError(f"one supported set id per group; got {sorted(set_ids)}")
    group = FunctionalGroup(
        FUNCTIONAL_IDS[next(iter(set_ids))],
        sender[1],
        receiver[1],
        group_control_number if group_control_number is not None else control_number,
        at.date(),
        at.time().replace(second=0, microsecond=0),
        version=group_version,
        transactions=list(transactions),
    )
    return Interchange(
        sender[0],
        sender[1],
        receiver[0],
        receiver[1],
        control_number,
        at.date(),
        at.time().replace(second=0, microsecond=0),
        usage=usage,
        version=version,
        ack_requested=ack_requested,
        groups=[group],
    )
