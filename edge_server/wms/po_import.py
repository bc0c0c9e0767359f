"""Importing purchase orders from a CSV file, with a validation report.

One row per PO line; rows with the same `po_number` make one PO. Like the item import
(edge_server/wms/item_import.py, whose file reading this reuses) it has two steps:

1. `read_pos_csv(data)` decodes and parses the file and checks every row and every PO on its
   own (no database). A file that cannot be read at all raises `AislewayError(IMPORT_INVALID)`.
2. `apply_po_import(w, parsed, site)` runs inside one write transaction: it checks SKUs and
   case sizes, then creates or replaces each PO through `purchase_orders.write_po`.

A PO is all or nothing: one refused row refuses the whole PO (its other rows are reported as
PO_REFUSED), because receiving half an order is worse than fixing one line and importing
again. Other POs in the file still import. A re-import of the same file changes nothing. A PO
in the file replaces the stored one (lines missing from the file are cancelled), except its
`blind` flag and notes, which the file does not carry and are kept.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.wms.csv_files import (
    ReportMethods,
    read_csv_table,
    refuse_whole_documents,
)
from edge_server.wms.item_import import MAX_IMPORT_BYTES
from edge_server.wms.purchase_orders import (
    PoHeader,
    PoIssue,
    fetch_rows,
    plan_lines,
    site_id,
    write_po,
)
from protocols.errors import ErrorCode
from protocols.inbound import DOC_NUMBER_PATTERN, LOT_PATTERN, MAX_QTY, PoLineIn

__all__ = [
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "ParsedPos",
    "PoImportCounts",
    "PoImportProblem",
    "PoImportReport",
    "apply_po_import",
    "import_pos",
    "read_pos_csv",
    "read_pos_csv_file",
]

REQUIRED_COLUMNS = ("po_number", "supplier", "line_no", "sku", "qty")
OPTIONAL_COLUMNS = ("due_date", "uom", "expected_lots")
PO_REFUSED = "PO_REFUSED"
PROGRESS_EVERY = 2000
_NUMBER = re.compile(DOC_NUMBER_PATTERN)

Progress = Callable[[int, int], None]
Severity = Literal["refused", "warning"]


class PoImportProblem(BaseModel):
    line: int  # physical line of the file (header = 1); 0 = the whole file
    po_number: str
    field: str
    code: str
    severity: Severity
    reason: str


class PoImportCounts(BaseModel):
    rows: int = 0  # data rows read
    pos: int = 0  # distinct PO numbers
    imported: int = 0  # POs created + updated + unchanged
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0  # POs refused as a whole
    refused_rows: int = 0  # rows not imported (their own problem or their PO's)


class PoImportReport(ReportMethods, BaseModel):
    source: str
    sha256: str
    dry_run: bool
    delimiter: str
    encoding: str
    counts: PoImportCounts
    problems: list[PoImportProblem]

    @property
    def ok(self) -> bool:
        return self.counts.refused_rows == 0

    def table(self) -> str:
        """The report as text for a terminal."""
        c = self.counts
        return self.render(
            "PO import",
            f"rows {c.rows}, POs {c.pos}: imported {c.imported} (created {c.created}, "
            f"updated {c.updated}, unchanged {c.unchanged}), refused {c.refused} "
            f"({c.refused_rows} rows)",
            "po_number",
        )


@dataclass(slots=True)
class _Row:
    line: int
    po_number: str
    supplier: str = ""
    due_date: date | None = None
    po_line: PoLineIn | None = None
    refusals: list[tuple[str, str, str]] = field(default_factory=list)  # (field, code, reason)

    def refuse(self, field_name: str, code: str, reason: str) -> None:
        self.refusals.append((field_name, code, reason))


@dataclass
class ParsedPos:
    """A checked file, ready for `apply_po_import`."""

    source: str
    sha256: str
    delimiter: str
    encoding: str
    rows: list[_Row]
    orders: dict[str, list[_Row]]  # po_number -> its rows, in file order
    file_warnings: list[PoImportProblem]


def _invalid(text: str, **details: Any) -> AislewayError:
    return AislewayError(ErrorCode.IMPORT_INVALID, text, details=details)


def _whole_number(text: str) -> int | None:
    try:
        value = float(text.replace(" ", ""))
    except ValueError:
        return None
    return int(value) if value.is_integer() else None


def _check_row(line: int, cells: dict[str, str]) -> _Row:
    number = cells.get("po_number", "")
    row = _Row(line, number, supplier=" ".join(cells.get("supplier", "").split()))
    if not _NUMBER.match(number):
        row.refuse(
            "po_number",
            PoIssue.PO_NUMBER_INVALID,
            f"PO number {number!r} must be 1-30 capitals, digits, '.', '_' or '-'.",
        )
    if len(row.supplier) > 100:
        row.refuse("supplier", PoIssue.SUPPLIER_MISSING, "the supplier is over 100 characters.")
    due = cells.get("due_date", "")
    if due:
        try:
            row.due_date = date.fromisoformat(due)
        except ValueError:
            row.refuse("due_date", PoIssue.DATE_INVALID, f"{due!r} is not a date like 2025-03-31.")
    line_no = _whole_number(cells.get("line_no", ""))
    if line_no is None or not 1 <= line_no <= 99_999:
        reason = f"line_no {cells.get('line_no', '')!r} is not a whole number from 1 to 99999."
        row.refuse("line_no", PoIssue.LINE_NO_INVALID, reason)
    sku = cells.get("sku", "")
    if not sku or len(sku) > 64:
        row.refuse("sku", PoIssue.UNKNOWN_SKU, "the SKU is empty or too long.")
    qty = _whole_number(cells.get("qty", ""))
    if qty is None or not 0 < qty <= MAX_QTY:
        reason = f"qty {cells.get('qty', '')!r} is not a whole number above zero."
        row.refuse("qty", PoIssue.QTY_INVALID, reason)
    uom = cells.get("uom", "").upper() or "EA"
    if uom not in ("EA", "CS"):
        reason = f"uom {cells.get('uom', '')!r} is not EA (eaches) or CS (cases)."
        row.refuse("uom", PoIssue.UOM_INVALID, reason)
    lots = [lot.strip() for lot in cells.get("expected_lots", "").split(";") if lot.strip()]
    bad_lots = [lot for lot in lots if not LOT_PATTERN.match(lot)]
    if bad_lots:
        reason = f"lot {bad_lots[0]!r} is not 1-20 printable characters without spaces."
        row.refuse("expected_lots", PoIssue.LOT_INVALID, reason)
    if not row.refusals:
        assert line_no is not None and qty is not None
        row.po_line = PoLineIn.model_validate(
            {"line_no": line_no, "sku": sku, "qty": qty, "uom": uom, "expected_lots": lots}
        )
    return row


def _check_orders(orders: dict[str, list[_Row]]) -> None:
    """Rules across the rows of one PO: distinct line numbers, one supplier, one due date."""
    for number, rows in orders.items():
        by_line_no: dict[int, list[_Row]] = defaultdict(list)
        for row in rows:
            if row.po_line is not None:
                by_line_no[row.po_line.line_no].append(row)
        for line_no, same in by_line_no.items():
            if len(same) > 1:
                lines = ", ".join(str(r.line) for r in same)
                for row in same:
                    reason = f"line_no {line_no} of PO {number} is on lines {lines}."
                    row.refuse("line_no", PoIssue.LINE_NO_DUPLICATE, reason)
        suppliers = sorted({r.supplier for r in rows if r.supplier})
        if len(suppliers) > 1:
            for row in rows:
                reason = f"PO {number} names several suppliers: {', '.join(suppliers)}."
                row.refuse("supplier", PoIssue.SUPPLIER_MIXED, reason)
        elif not suppliers:
            for row in rows:
                row.refuse("supplier", PoIssue.SUPPLIER_MISSING, f"PO {number} has no supplier.")
        dates = sorted({r.due_date.isoformat() for r in rows if r.due_date})
        if len(dates) > 1:
            for row in rows:
                reason = f"PO {number} has several due dates: {', '.join(dates)}."
                row.refuse("due_date", PoIssue.DUE_DATE_MIXED, reason)


def read_pos_csv(data: bytes, *, source: str = "", progress: Progress | None = None) -> ParsedPos:
    """Decode, parse and check a PO CSV. Raises `AislewayError(IMPORT_INVALID)` when the file
    cannot be read at all (not text, too big, no header, missing required columns)."""
    table = read_csv_table(
        data,
        required=REQUIRED_COLUMNS,
        max_bytes=MAX_IMPORT_BYTES,
        progress=progress,
    )
    sha256, encoding, delimiter = table.sha256, table.encoding, table.delimiter
    file_warnings = [
        PoImportProblem(
            line=line, po_number="", field=f, code=code, severity="warning", reason=reason
        )
        for line, f, code, reason in table.file_warnings(
            set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS), "a PO"
        )
    ]
    rows: list[_Row] = []
    for raw_row in table.rows:
        row = _check_row(raw_row.line, raw_row.values)
        shape = table.misshapen(raw_row)
        if shape is not None:
            row.refuse("", "ROW_SHAPE", shape)
            row.po_line = None
        rows.append(row)
    orders: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        if _NUMBER.match(row.po_number):
            orders[row.po_number].append(row)
    _check_orders(orders)
    return ParsedPos(
        source=source,
        sha256=sha256,
        delimiter=delimiter,
        encoding=encoding.replace("-sig", ""),
        rows=rows,
        orders=dict(orders),
        file_warnings=file_warnings,
    )


def read_pos_csv_file(path: str | Path, *, progress: Progress | None = None) -> ParsedPos:
    """`read_pos_csv` on a file; a missing or unreadable file is IMPORT_INVALID."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise _invalid(f"The file {str(path)!r} cannot be read: {exc.strerror}.") from None
    return read_pos_csv(data, source=str(path), progress=progress)


class _DryRun(Exception):
    """Raised to roll back the savepoint of a dry run."""


def apply_po_import(
    w: SUDatabase, parsed: ParsedPos, site: str, *, dry_run: bool = False
) -> PoImportReport:
    """Write the POs of `parsed` whose rows are all fine, inside the caller's transaction.

    A dry run does the same work in a savepoint and rolls it back, so its report is exactly
    what the real import would say. LAYOUT_NOT_LOADED (no site yet) refuses the whole file."""
    sid = site_id(w, site)
    # Per-row refusals found while applying (unknown SKU, no case size, PO state), by line.
    late: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    counts = PoImportCounts(rows=len(parsed.rows), pos=len(parsed.orders))
    try:
        with w.atomic():
            for number, rows in parsed.orders.items():
                if any(r.refusals for r in rows):
                    continue
                lines = [r.po_line for r in rows if r.po_line is not None]
                planned, problems = plan_lines(w, lines)
                if problems:
                    by_line_no = {r.po_line.line_no: r.line for r in rows if r.po_line}
                    for p in problems:
                        late[by_line_no[p["line_no"]]].append((p["field"], p["code"], p["reason"]))
                    continue
                stored = fetch_rows(
                    w,
                    "SELECT blind, notes FROM purchase_orders WHERE site_id = ? AND number = ?",
                    [sid, number],
                )
                blind = stored[0]["blind"] if stored else None
                header = PoHeader(
                    supplier=next(r.supplier for r in rows if r.supplier),
                    due_date=next((r.due_date for r in rows if r.due_date), None),
                    blind=None if blind is None else bool(blind),
                    notes=str(stored[0]["notes"]) if stored else "",
                )
                try:
                    with w.atomic():
                        outcome = write_po(w, site, number, header, planned)
                except AislewayError as exc:
                    reason = f"{exc.text} {json.dumps(exc.details, default=str)}"
                    for r in rows:
                        late[r.line].append(("", exc.code.value, reason))
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
    parsed: ParsedPos,
    late: dict[int, list[tuple[str, str, str]]],
    counts: PoImportCounts,
    dry_run: bool,
) -> PoImportReport:
    problems = list(parsed.file_warnings)
    refusals = refuse_whole_documents(
        [(r.line, r.po_number, [*r.refusals, *late.get(r.line, [])]) for r in parsed.rows],
        parsed.orders,
        kind="PO",
        refused_code=PO_REFUSED,
    )
    problems += [
        PoImportProblem(
            line=line, po_number=number, field=f, code=code, severity="refused", reason=reason
        )
        for line, number, f, code, reason in refusals.entries
    ]
    counts.refused = len(refusals.documents)
    counts.refused_rows = refusals.rows
    return PoImportReport(
        source=parsed.source,
        sha256=parsed.sha256,
        dry_run=dry_run,
        delimiter=parsed.delimiter,
        encoding=parsed.encoding,
        counts=counts,
        problems=problems,
    )


def import_pos(
    db: Database, data: bytes | ParsedPos, site: str, *, source: str = "", dry_run: bool = False
) -> PoImportReport:
    """Read (unless already parsed) and import a PO CSV in one write transaction."""
    parsed = data if isinstance(data, ParsedPos) else read_pos_csv(data, source=source)
    with db.write() as w:
        return apply_po_import(w, parsed, site, dry_run=dry_run)
