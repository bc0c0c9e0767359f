"""Importing advance shipping notices (ASNs) from a CSV file, with a validation report.

One row per ASN line; rows with the same `asn_number` make one ASN. It works like the PO
import (edge_server/wms/po_import.py), in two steps:

1. `read_asns_csv(data)` decodes and parses the file and checks every row and every ASN on its
   own (no database): numbers, dates, quantities, lots, SSCC check digits, one supplier / PO /
   expected date per ASN, distinct line numbers, an SSCC on only one ASN of the file. A file
   that cannot be read at all raises `AislewayError(IMPORT_INVALID)`.
2. `apply_asn_import(w, parsed, site)` runs inside one write transaction and creates or
   replaces each ASN through `asns.put_asn`, which checks what needs the database (known SKUs,
   the PO and its lines, an SSCC already on another open ASN, received lines) and emits
   `asn.changed`.

An ASN is all or nothing: one refused row refuses the whole ASN (its other rows are reported
as ASN_REFUSED), because a pallet list with holes would be received as if it were complete.
Other ASNs in the file still import. A re-import of the same file changes nothing. An ASN in
the file replaces the stored one like a PUT (lines missing from the file are removed).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError
from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.wms.asns import put_asn
from edge_server.wms.csv_files import (
    ReportMethods,
    invalid_file,
    read_csv_table,
    refuse_whole_documents,
)
from edge_server.wms.item_import import MAX_IMPORT_BYTES
from edge_server.wms.purchase_orders import site_id
from protocols.errors import ErrorCode
from protocols.inbound import (
    DOC_NUMBER_PATTERN,
    LOT_PATTERN,
    MAX_QTY,
    AsnIn,
    AsnLineIn,
    normalise_sscc,
)

__all__ = [
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "AsnImportCounts",
    "AsnImportProblem",
    "AsnImportReport",
    "AsnIssue",
    "ParsedAsns",
    "apply_asn_import",
    "import_asns",
    "read_asns_csv",
    "read_asns_csv_file",
]

REQUIRED_COLUMNS = ("asn_number", "supplier", "line_no", "sku", "qty")
OPTIONAL_COLUMNS = ("po_number", "expected_at", "lot", "expiry", "sscc", "po_line_no")
_NUMBER = re.compile(DOC_NUMBER_PATTERN)

Severity = Literal["refused", "warning"]


class AsnIssue(StrEnum):
    """Why an ASN row is refused (the report's `code`). The database checks of `put_asn`
    add their own codes: UNKNOWN_SKU, PO_LINE_UNKNOWN, PO_LINE_ITEM_MISMATCH,
    SSCC_ON_OTHER_ASN, ASN_LINE_RECEIVED, ASN_CLOSED, PO_NOT_FOUND, PO_CLOSED."""

    ASN_NUMBER_INVALID = "ASN_NUMBER_INVALID"
    PO_NUMBER_INVALID = "PO_NUMBER_INVALID"
    PO_NUMBER_MIXED = "PO_NUMBER_MIXED"
    PO_NUMBER_MISSING = "PO_NUMBER_MISSING"
    SUPPLIER_MISSING = "SUPPLIER_MISSING"
    SUPPLIER_MIXED = "SUPPLIER_MIXED"
    EXPECTED_AT_MIXED = "EXPECTED_AT_MIXED"
    DATE_INVALID = "DATE_INVALID"
    LINE_NO_INVALID = "LINE_NO_INVALID"
    LINE_NO_DUPLICATE = "LINE_NO_DUPLICATE"
    PO_LINE_NO_INVALID = "PO_LINE_NO_INVALID"
    UNKNOWN_SKU = "UNKNOWN_SKU"
    QTY_INVALID = "QTY_INVALID"
    LOT_INVALID = "LOT_INVALID"
    SSCC_INVALID = "SSCC_INVALID"
    SSCC_CHECK_DIGIT = "SSCC_CHECK_DIGIT"
    SSCC_ON_OTHER_ASN = "SSCC_ON_OTHER_ASN"
    ROW_SHAPE = "ROW_SHAPE"
    ASN_REFUSED = "ASN_REFUSED"


class AsnImportProblem(BaseModel):
    line: int  # physical line of the file (header = 1); 0 = the whole file
    asn_number: str
    field: str
    code: str
    severity: Severity
    reason: str


class AsnImportCounts(BaseModel):
    rows: int = 0  # data rows read
    asns: int = 0  # distinct ASN numbers
    imported: int = 0  # ASNs created + updated + unchanged
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0  # ASNs refused as a whole
    refused_rows: int = 0  # rows not imported (their own problem or their ASN's)


class AsnImportReport(ReportMethods, BaseModel):
    source: str
    sha256: str
    dry_run: bool
    delimiter: str
    encoding: str
    counts: AsnImportCounts
    problems: list[AsnImportProblem]

    @property
    def ok(self) -> bool:
        return self.counts.refused_rows == 0

    def table(self) -> str:
        """The report as text for a terminal."""
        c = self.counts
        return self.render(
            "ASN import",
            f"rows {c.rows}, ASNs {c.asns}: imported {c.imported} (created {c.created}, "
            f"updated {c.updated}, unchanged {c.unchanged}), refused {c.refused} "
            f"({c.refused_rows} rows)",
            "asn_number",
        )


Refusal = tuple[str, str, str]  # (field, code, reason)


@dataclass(slots=True)
class _Row:
    line: int
    asn_number: str
    po_number: str = ""
    supplier: str = ""
    expected_at: datetime | None = None
    asn_line: AsnLineIn | None = None
    refusals: list[Refusal] = field(default_factory=list)

    def refuse(self, field_name: str, code: str, reason: str) -> None:
        self.refusals.append((field_name, code, reason))


@dataclass
class ParsedAsns:
    """A checked file, ready for `apply_asn_import`."""

    source: str
    sha256: str
    delimiter: str
    encoding: str
    rows: list[_Row]
    notices: dict[str, list[_Row]]  # asn_number -> its rows, in file order
    file_warnings: list[AsnImportProblem]


def _whole_number(text: str) -> int | None:
    try:
        value = float(text.replace(" ", ""))
    except ValueError:
        return None
    return int(value) if value.is_integer() else None


def _expected_at(text: str) -> datetime:
    """`YYYY-MM-DD` (that day, 00:00) or a full ISO date and time; ValueError otherwise."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        if "T" not in text and " " not in text:
            raise
        return datetime.fromisoformat(text)
    return datetime(day.year, day.month, day.day)


def _check_row(line: int, cells: dict[str, str]) -> _Row:
    number = cells.get("asn_number", "")
    row = _Row(
        line,
        number,
        po_number=cells.get("po_number", ""),
        supplier=" ".join(cells.get("supplier", "").split()),
    )
    if not _NUMBER.match(number):
        row.refuse(
            "asn_number",
            AsnIssue.ASN_NUMBER_INVALID,
            f"ASN number {number!r} must be 1-30 capitals, digits, '.', '_' or '-'.",
        )
    if row.po_number and not _NUMBER.match(row.po_number):
        row.refuse(
            "po_number",
            AsnIssue.PO_NUMBER_INVALID,
            f"PO number {row.po_number!r} must be 1-30 capitals, digits, '.', '_' or '-'.",
        )
    if len(row.supplier) > 100:
        row.refuse("supplier", AsnIssue.SUPPLIER_MISSING, "the supplier is over 100 characters.")
    expected = cells.get("expected_at", "")
    if expected:
        try:
            row.expected_at = _expected_at(expected)
        except ValueError:
            reason = f"{expected!r} is not a date like 2025-03-31."
            row.refuse("expected_at", AsnIssue.DATE_INVALID, reason)
    line_no = _whole_number(cells.get("line_no", ""))
    if line_no is None or not 1 <= line_no <= 99_999:
        reason = f"line_no {cells.get('line_no', '')!r} is not a whole number from 1 to 99999."
        row.refuse("line_no", AsnIssue.LINE_NO_INVALID, reason)
    sku = cells.get("sku", "")
    if not sku or len(sku) > 64:
        row.refuse("sku", AsnIssue.UNKNOWN_SKU, "the SKU is empty or too long.")
    qty = _whole_number(cells.get("qty", ""))
    if qty is None or not 0 < qty <= MAX_QTY:
        reason = f"qty {cells.get('qty', '')!r} is not a whole number of eaches above zero."
        row.refuse("qty", AsnIssue.QTY_INVALID, reason)
    lot = cells.get("lot", "")
    if lot and not LOT_PATTERN.match(lot):
        reason = f"lot {lot!r} is not 1-20 printable characters without spaces."
        row.refuse("lot", AsnIssue.LOT_INVALID, reason)
    expiry: date | None = None
    if cells.get("expiry", ""):
        try:
            expiry = date.fromisoformat(cells["expiry"])
        except ValueError:
            reason = f"{cells['expiry']!r} is not a date like 2027-01-31."
            row.refuse("expiry", AsnIssue.DATE_INVALID, reason)
    sscc: str | None = None
    if cells.get("sscc", ""):
        try:
            sscc = normalise_sscc(cells["sscc"])
        except ValueError as exc:
            code = AsnIssue.SSCC_CHECK_DIGIT if "check digit" in str(exc) else AsnIssue.SSCC_INVALID
            row.refuse("sscc", code, str(exc))
    po_line_no: int | None = None
    if cells.get("po_line_no", ""):
        po_line_no = _whole_number(cells["po_line_no"])
        if po_line_no is None or not 1 <= po_line_no <= 99_999:
            reason = f"po_line_no {cells['po_line_no']!r} is not a whole number from 1 to 99999."
            row.refuse("po_line_no", AsnIssue.PO_LINE_NO_INVALID, reason)
    if not row.refusals:
        row.asn_line = AsnLineIn.model_validate(
            {
                "line_no": line_no,
                "sku": sku,
                "qty": qty,
                "lot": lot,
                "expiry": expiry,
                "sscc": sscc,
                "po_line_no": po_line_no,
            }
        )
    return row


def _one_value(rows: list[_Row], values: list[str], field_name: str, code: str, what: str) -> None:
    """Refuse every row of an ASN whose rows name more than one (non-blank) value."""
    distinct = sorted({v for v in values if v})
    if len(distinct) > 1:
        for row in rows:
            row.refuse(field_name, code, f"{what}: {', '.join(distinct)}.")


def _check_notices(notices: dict[str, list[_Row]]) -> None:
    """Rules across the rows of one ASN (distinct line numbers; one supplier, PO and expected
    date; a supplier or a PO; po_line_no only with a PO) and across the file (an SSCC travels
    with one ASN)."""
    for number, rows in notices.items():
        by_line_no: dict[int, list[_Row]] = defaultdict(list)
        for row in rows:
            if row.asn_line is not None:
                by_line_no[row.asn_line.line_no].append(row)
        for line_no, same in by_line_no.items():
            if len(same) > 1:
                lines = ", ".join(str(r.line) for r in same)
                for row in same:
                    reason = f"line_no {line_no} of ASN {number} is on lines {lines}."
                    row.refuse("line_no", AsnIssue.LINE_NO_DUPLICATE, reason)
        what = f"ASN {number} names several"
        suppliers = [r.supplier for r in rows]
        _one_value(rows, suppliers, "supplier", AsnIssue.SUPPLIER_MIXED, f"{what} suppliers")
        po_numbers = [r.po_number for r in rows]
        _one_value(rows, po_numbers, "po_number", AsnIssue.PO_NUMBER_MIXED, f"{what} POs")
        dates = [r.expected_at.isoformat() if r.expected_at else "" for r in rows]
        _one_value(rows, dates, "expected_at", AsnIssue.EXPECTED_AT_MIXED, f"{what} dates")
        if not any(po_numbers):
            if not any(suppliers):
                reason = f"ASN {number} names neither a supplier nor a PO."
                for row in rows:
                    row.refuse("supplier", AsnIssue.SUPPLIER_MISSING, reason)
            for row in rows:
                if row.asn_line is not None and row.asn_line.po_line_no is not None:
                    reason = f"po_line_no is given but ASN {number} names no po_number."
                    row.refuse("po_line_no", AsnIssue.PO_NUMBER_MISSING, reason)
    on_asns: dict[str, dict[str, None]] = defaultdict(dict)
    for number, rows in notices.items():
        for row in rows:
            if row.asn_line is not None and row.asn_line.sscc:
                on_asns[row.asn_line.sscc][number] = None
    for sscc, numbers in on_asns.items():
        if len(numbers) < 2:
            continue
        listed = ", ".join(numbers)
        reason = f"SSCC {sscc} is on ASNs {listed} in this file; a pallet travels on one ASN."
        for number in numbers:
            for row in notices[number]:
                if row.asn_line is not None and row.asn_line.sscc == sscc:
                    row.refuse("sscc", AsnIssue.SSCC_ON_OTHER_ASN, reason)


def read_asns_csv(data: bytes, *, source: str = "") -> ParsedAsns:
    """Decode, parse and check an ASN CSV. Raises `AislewayError(IMPORT_INVALID)` when the
    file cannot be read at all (not text, too big, no header, missing required columns)."""
    table = read_csv_table(
        data,
        required=REQUIRED_COLUMNS,
        max_bytes=MAX_IMPORT_BYTES,
    )
    sha256, encoding, delimiter = table.sha256, table.encoding, table.delimiter
    file_warnings = [
        AsnImportProblem(
            line=line, asn_number="", field=f, code=code, severity="warning", reason=reason
        )
        for line, f, code, reason in table.file_warnings(
            set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS), "an ASN"
        )
    ]
    rows: list[_Row] = []
    for raw_row in table.rows:
        row = _check_row(raw_row.line, raw_row.values)
        shape = table.misshapen(raw_row)
        if shape is not None:
            row.refuse("", AsnIssue.ROW_SHAPE, shape)
            row.asn_line = None
        rows.append(row)
    notices: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        if _NUMBER.match(row.asn_number):
            notices[row.asn_number].append(row)
    _check_notices(notices)
    return ParsedAsns(
        source=source,
        sha256=sha256,
        delimiter=delimiter,
        encoding=encoding.replace("-sig", ""),
        rows=rows,
        notices=dict(notices),
        file_warnings=file_warnings,
    )


def read_asns_csv_file(path: str | Path) -> ParsedAsns:
    """`read_asns_csv` on a file; a missing or unreadable file is IMPORT_INVALID."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise invalid_file(f"The file {str(path)!r} cannot be read: {exc.strerror}.") from None
    return read_asns_csv(data, source=str(path))


class _DryRun(Exception):
    """Raised to roll back the savepoint of a dry run."""


def _asn_document(rows: list[_Row]) -> AsnIn:
    return AsnIn(
        po_number=next((r.po_number for r in rows if r.po_number), None),
        supplier=next((r.supplier for r in rows if r.supplier), ""),
        expected_at=next((r.expected_at for r in rows if r.expected_at), None),
        lines=[r.asn_line for r in rows if r.asn_line is not None],
    )


def _refusals_of(exc: AislewayError, rows: list[_Row]) -> dict[int, list[Refusal]]:
    """Which rows `put_asn`'s refusal is about: {file line: [(field, code, reason)]}."""
    found: dict[int, list[Refusal]] = defaultdict(list)
    by_line_no = {r.asn_line.line_no: r for r in rows if r.asn_line is not None}
    details = exc.details or {}
    if exc.code == ErrorCode.ASN_INVALID and details.get("problems"):
        for p in details["problems"]:
            found[by_line_no[p["line_no"]].line].append((p["field"], p["code"], p["reason"]))
        return found
    if exc.code == ErrorCode.SSCC_ON_OTHER_ASN:
        other = {o["sscc"]: o["asn"] for o in details.get("ssccs", [])}
        for r in rows:
            sscc = r.asn_line.sscc if r.asn_line is not None else None
            if sscc in other:
                reason = f"SSCC {sscc} is already on open ASN {other[sscc]}."
                found[r.line].append(("sscc", exc.code.value, reason))
        if found:
            return found
    if exc.code == ErrorCode.ASN_LINE_RECEIVED:
        left_out = []
        for n in details.get("line_nos", []):
            if n in by_line_no:
                reason = f"line {n} of ASN {details.get('number')} was received; it cannot change."
                found[by_line_no[n].line].append(("line_no", exc.code.value, reason))
            else:
                left_out.append(str(n))
        if not left_out:
            return found
        reason = f"received lines {', '.join(left_out)} cannot be left out of the ASN."
        for r in rows:
            found[r.line].append(("line_no", exc.code.value, reason))
        return found
    field_name = "po_number" if exc.code in (ErrorCode.PO_NOT_FOUND, ErrorCode.PO_CLOSED) else ""
    reason = f"{exc.text} {json.dumps(details, default=str)}"
    for r in rows:
        found[r.line].append((field_name, exc.code.value, reason))
    return found


def apply_asn_import(
    w: SUDatabase, parsed: ParsedAsns, site: str, *, dry_run: bool = False
) -> AsnImportReport:
    """Write the ASNs of `parsed` whose rows are all fine, inside the caller's transaction.

    A dry run does the same work in a savepoint and rolls it back, so its report is exactly
    what the real import would say. LAYOUT_NOT_LOADED (no site yet) refuses the whole file."""
    site_id(w, site)
    # Per-row refusals found while applying (the database checks of put_asn), by file line.
    late: dict[int, list[Refusal]] = defaultdict(list)
    counts = AsnImportCounts(rows=len(parsed.rows), asns=len(parsed.notices))
    try:
        with w.atomic():
            for number, rows in parsed.notices.items():
                if any(r.refusals for r in rows):
                    continue
                try:
                    document = _asn_document(rows)
                except ValidationError as exc:  # e.g. more lines than one ASN may have
                    reason = "; ".join(e["msg"] for e in exc.errors())
                    for r in rows:
                        late[r.line].append(("", ErrorCode.ASN_INVALID.value, reason))
                    continue
                try:
                    with w.atomic():
                        outcome = put_asn(w, site, number, document)
                except AislewayError as exc:
                    for line, refusals in _refusals_of(exc, rows).items():
                        late[line].extend(refusals)
                    continue
                counts.imported += 1
                if outcome == "created":
                    counts.created += 1
                elif outcome == "updated":
                    counts.updated += 1
                else:
                    counts.unchanged += 1
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return _report(parsed, late, counts, dry_run)


def _report(
    parsed: ParsedAsns,
    late: dict[int, list[Refusal]],
    counts: AsnImportCounts,
    dry_run: bool,
) -> AsnImportReport:
    problems = list(parsed.file_warnings)
    refusals = refuse_whole_documents(
        [(r.line, r.asn_number, [*r.refusals, *late.get(r.line, [])]) for r in parsed.rows],
        parsed.notices,
        kind="ASN",
        refused_code=AsnIssue.ASN_REFUSED,
    )
    problems += [
        AsnImportProblem(
            line=line, asn_number=number, field=f, code=code, severity="refused", reason=reason
        )
        for line, number, f, code, reason in refusals.entries
    ]
    counts.refused = len(refusals.documents)
    counts.refused_rows = refusals.rows
    return AsnImportReport(
        source=parsed.source,
        sha256=parsed.sha256,
        dry_run=dry_run,
        delimiter=parsed.delimiter,
        encoding=parsed.encoding,
        counts=counts,
        problems=problems,
    )


def import_asns(
    db: Database, data: bytes | ParsedAsns, site: str, *, source: str = "", dry_run: bool = False
) -> AsnImportReport:
    """Read (unless already parsed) and import an ASN CSV in one write transaction."""
    parsed = data if isinstance(data, ParsedAsns) else read_asns_csv(data, source=source)
    with db.write() as w:
        return apply_asn_import(w, parsed, site, dry_run=dry_run)
