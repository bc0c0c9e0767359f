"""Importing the item master from a CSV file, with a validation report.

Two steps, so the slow part never holds the write lock:

1. `read_items_csv(data)` decodes and parses the file and checks every row (no database):
   each row is refused (with reasons) or accepted (possibly with warnings); duplicate SKUs and
   GTINs shared by several SKUs are resolved across the whole file. A file that cannot be read
   at all raises `AislewayError(IMPORT_INVALID)`.
2. `apply_import(w, parsed)` runs inside one write transaction: it refuses rows whose GTIN
   belongs to another item already stored, then upserts every accepted row in bulk. Anything
   unexpected raises and the whole transaction rolls back, so a file is never half-written.

`import_items(db, data)` does both. Line numbers are physical lines of the file, the header
being line 1 (a quoted cell may span lines; a row is numbered by the line it starts on).
The decisions behind each refusal and warning are in docs/items.md.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import hashlib
import io
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.integration.outbox import emit
from edge_server.wms.csv_files import (
    ReportMethods,
    column_name,
    decode_csv,
    invalid_file,
    sniff_delimiter,
)
from edge_server.wms.items import (
    Issue,
    Item,
    Loaded,
    Note,
    canonical_gtin,
    gtin_owners,
    load_records,
    merge_record,
    problems_from,
    record_gtins,
    upsert_items,
)

__all__ = [
    "ITEMS_IMPORTED",
    "MAX_IMPORT_BYTES",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "ImportCounts",
    "ImportProblem",
    "ImportReport",
    "ParsedFile",
    "Progress",
    "apply_import",
    "import_items",
    "read_items_csv",
    "read_items_csv_file",
]

ITEMS_IMPORTED = "item.imported"
MAX_IMPORT_BYTES = 32 * 1024 * 1024  # ~200,000 rows; a checked row holds ~2.5 KB in memory
PROGRESS_EVERY = 2000
EVENT_SKU_LIMIT = 1000

REQUIRED_COLUMNS = (
    "sku",
    "description",
    "gtin",
    "uom",
    "case_qty",
    "weight_kg",
    "length_cm",
    "width_cm",
    "height_cm",
    "lot_tracked",
    "expiry_tracked",
    "velocity",
    "size",
    "colour",
)
OPTIONAL_COLUMNS = (
    "owner",
    "serial_tracked",
    "case_gtin",
    "alt_gtins",
    "temperature_class",
    "hazmat",
    "unit_cost",
)
HEADER_ALIASES = {"color": "colour", "alt_gtin": "alt_gtins"}
ATTRIBUTE_PREFIX = "attr_"
GTIN_COLUMNS = ("gtin", "alt_gtins", "case_gtin")
FILE_LINE = 0  # problems about the whole file (its encoding)

#: `progress(done, total)`: physical lines read so far out of the file's line count.
Progress = Callable[[int, int], None]
Severity = Literal["refused", "warning"]


class ImportProblem(BaseModel):
    line: int
    sku: str
    field: str
    code: str
    severity: Severity
    reason: str


class ImportCounts(BaseModel):
    rows: int = 0  # data rows read (blank lines are not rows)
    imported: int = 0  # created + updated + unchanged
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0  # rows not imported because of a refusal
    skipped: int = 0  # exact repeats of an earlier row (imported once)
    warnings: int = 0


class ImportReport(ReportMethods, BaseModel):
    source: str
    sha256: str
    dry_run: bool
    delimiter: str
    encoding: str
    counts: ImportCounts
    problems: list[ImportProblem]

    @property
    def ok(self) -> bool:
        """True when every row was imported (warnings allowed)."""
        return self.counts.refused == 0

    def table(self) -> str:
        """The report as text for a terminal."""
        c = self.counts
        return self.render(
            "Item import",
            f"rows {c.rows}: imported {c.imported} (created {c.created}, updated {c.updated}, "
            f"unchanged {c.unchanged}), refused {c.refused}, skipped {c.skipped} repeated, "
            f"warnings {c.warnings}",
            "sku",
        )


@dataclass(slots=True)
class ParsedRow:
    line: int
    sku: str
    item: Item | None
    refusals: list[Note] = field(default_factory=list)
    warnings: list[Note] = field(default_factory=list)
    claims: list[tuple[str, str]] = field(default_factory=list)  # (column, GTIN-14)
    skipped: bool = False

    @property
    def accepted(self) -> bool:
        return self.item is not None and not self.refusals and not self.skipped


@dataclass
class ParsedFile:
    """A checked file, ready for `apply_import`."""

    source: str
    sha256: str
    delimiter: str
    encoding: str
    fields: frozenset[str]  # item fields the file sets (absent optional columns are kept)
    attribute_keys: frozenset[str]
    rows: list[ParsedRow]
    file_warnings: list[ImportProblem]


@contextmanager
def _bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector during bulk work.

    A 100,000-row file makes millions of long-lived objects; the collector's full passes over
    them would double the import time, and nothing here builds cycles that need collecting
    mid-way. The collector resumes (and catches up) afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_invalid = invalid_file


# -- reading ----------------------------------------------------------------------------------
def _column_name(raw: str) -> str:
    return column_name(raw, HEADER_ALIASES)


@dataclass(frozen=True)
class _Header:
    columns: list[str | None]  # per cell: item field, "attr_<key>", or None (ignored)
    fields: frozenset[str]
    attribute_keys: frozenset[str]
    ignored: list[str]


def _header(cells: list[str]) -> _Header:
    names = [_column_name(c) for c in cells]
    repeated = sorted(n for n, count in Counter(names).items() if n and count > 1)
    if repeated:
        raise _invalid("The header names a column twice.", duplicate_columns=repeated)
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise _invalid(
            "The file lacks required columns.",
            missing_columns=missing,
            found_columns=[n for n in names if n],
        )
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    columns: list[str | None] = []
    ignored: list[str] = []
    attribute_keys: set[str] = set()
    for raw, name in zip(cells, names, strict=True):
        if name in known:
            columns.append(name)
        elif name.startswith(ATTRIBUTE_PREFIX) and len(name) > len(ATTRIBUTE_PREFIX):
            columns.append(name)
            attribute_keys.add(name[len(ATTRIBUTE_PREFIX) :])
        else:
            columns.append(None)
            if name:
                ignored.append(raw.strip())
    fields = {c for c in columns if c in known}
    if attribute_keys:
        fields.add("attributes")
    return _Header(columns, frozenset(fields), frozenset(attribute_keys), ignored)


def _check_row(line: int, cells: list[str], header: _Header, decimal_comma: bool) -> ParsedRow:
    width = len(header.columns)
    raw: dict[str, Any] = {}
    attributes: dict[str, str] = {}
    for name, cell in zip(header.columns, cells, strict=False):
        if name is None:
            continue
        if name.startswith(ATTRIBUTE_PREFIX):
            attributes[name[len(ATTRIBUTE_PREFIX) :]] = cell
        else:
            raw[name] = cell
    if attributes:
        raw["attributes"] = attributes
    sku = " ".join(str(raw.get("sku", "")).split())
    if len(cells) != width:
        # Even blank extra cells are refused: an unquoted decimal comma (1,25 in a , file)
        # shifts every later cell right, and the last one falling off is often blank.
        reason = f"the row has {len(cells)} cells but the header has {width}: a separator "
        reason += 'is missing or extra (quote decimal commas: "1,25").'
        notes = [Note("", Issue.ROW_SHAPE, reason)]
        return ParsedRow(line, sku, None, notes, claims=_raw_claims(raw))
    warnings: list[Note] = []
    try:
        item = Item.model_validate(
            raw, context={"warnings": warnings, "decimal_comma": decimal_comma}
        )
    except ValidationError as exc:
        return ParsedRow(line, sku, None, problems_from(exc), claims=_raw_claims(raw))
    return ParsedRow(line, item.sku, item, warnings=warnings, claims=item.gtin_fields())


def _raw_claims(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """The valid GTINs of a refused row. They still count: a file giving one GTIN to two SKUs
    contradicts itself whichever of the rows is otherwise fine."""
    claims: list[tuple[str, str]] = []
    for column in GTIN_COLUMNS:
        for value in str(raw.get(column, "")).replace("|", " ").split():
            with contextlib.suppress(ValueError):
                claims.append((column, canonical_gtin(value)))
    return claims


def _resolve_duplicates(rows: list[ParsedRow]) -> None:
    """A SKU on several rows: identical rows import once (later ones skipped with a warning);
    rows that differ are all refused, since the file does not say which is right. A GTIN on
    rows of different SKUs: all those rows are refused, since a scan must find one item."""
    by_sku: dict[str, list[ParsedRow]] = defaultdict(list)
    for row in rows:
        if row.sku:
            by_sku[row.sku].append(row)
    for sku, group in by_sku.items():
        if len(group) < 2:
            continue
        first = group[0]
        if all(r.item is not None and not r.refusals for r in group) and all(
            r.item == first.item for r in group[1:]
        ):
            for row in group[1:]:
                row.skipped = True
                row.warnings = [
                    Note("sku", Issue.DUPLICATE_ROW, f"same as line {first.line}; imported once.")
                ]
            continue
        lines = ", ".join(str(r.line) for r in group)
        for row in group:
            row.refusals.append(
                Note(
                    "sku",
                    Issue.DUPLICATE_SKU,
                    f"SKU {sku} is on lines {lines} with different data.",
                )
            )

    by_gtin: dict[str, list[tuple[ParsedRow, str]]] = defaultdict(list)
    for row in rows:
        if not row.skipped:
            for column, gtin in dict.fromkeys(row.claims):
                by_gtin[gtin].append((row, column))
    for gtin, claims in by_gtin.items():
        owners = {row.sku or f"line {row.line}" for row, _ in claims}
        if len(owners) < 2:
            continue
        for row, column in claims:
            others = "; ".join(
                f"line {o.line} (SKU {o.sku or '?'})" for o, _ in claims if o.sku != row.sku
            )
            row.refusals.append(
                Note(column, Issue.GTIN_DUPLICATE, f"GTIN {gtin} is also on {others}.")
            )


@_bulk()
def read_items_csv(
    data: bytes, *, source: str = "", progress: Progress | None = None
) -> ParsedFile:
    """Decode, parse and check an item CSV. Raises `AislewayError(IMPORT_INVALID)` when the
    file cannot be read at all (not text, no header, missing required columns)."""
    if len(data) > MAX_IMPORT_BYTES:
        raise _invalid(
            f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB; split it.",
            size=len(data),
        )
    sha256 = hashlib.sha256(data).hexdigest()
    text, encoding = decode_csv(data)
    if not text.strip():
        raise _invalid("The file is empty.")
    delimiter = sniff_delimiter(text.lstrip("\r\n").splitlines()[0])
    total_lines = text.count("\n") + 1
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: _Header | None = None
    header_line = 0
    rows: list[ParsedRow] = []
    previous_end = 0
    try:
        for cells in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue  # blank line
            if header is None:
                header, header_line = _header(cells), start
                continue
            rows.append(_check_row(start, cells, header, delimiter == ";"))
            if progress is not None and len(rows) % PROGRESS_EVERY == 0:
                progress(previous_end, total_lines)
    except csv.Error as exc:
        raise _invalid(
            f"The file is not valid CSV near line {reader.line_num}: {exc}.", line=reader.line_num
        ) from None
    if header is None:
        raise _invalid("The file is empty.")
    if progress is not None:
        progress(total_lines, total_lines)
    _resolve_duplicates(rows)
    file_warnings: list[ImportProblem] = []
    if encoding == "cp1252":
        file_warnings.append(
            ImportProblem(
                line=FILE_LINE,
                sku="",
                field="",
                code=Issue.ENCODING_CP1252,
                severity="warning",
                reason="the file is not UTF-8; it was read as Windows-1252 (check accents).",
            )
        )
    for name in header.ignored:
        file_warnings.append(
            ImportProblem(
                line=header_line,
                sku="",
                field=name,
                code=Issue.COLUMN_IGNORED,
                severity="warning",
                reason=f"column {name!r} is not an item field; it was ignored.",
            )
        )
    return ParsedFile(
        source=source,
        sha256=sha256,
        delimiter=delimiter,
        encoding=encoding.replace("-sig", ""),
        fields=header.fields,
        attribute_keys=header.attribute_keys,
        rows=rows,
        file_warnings=file_warnings,
    )


def read_items_csv_file(path: str | Path, *, progress: Progress | None = None) -> ParsedFile:
    """`read_items_csv` on a file; a missing or unreadable file is IMPORT_INVALID."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise _invalid(f"The file {str(path)!r} cannot be read: {exc.strerror}.") from None
    return read_items_csv(data, source=str(path), progress=progress)


# -- applying ---------------------------------------------------------------------------------
class _DryRun(Exception):
    """Raised to roll back the savepoint of a dry run."""


def _refuse_taken_gtins(
    w: SUDatabase, parsed: ParsedFile
) -> tuple[dict[str, Loaded], dict[int, Note]]:
    """Refuse accepted rows whose GTIN stays with an item this file does not free it from.
    Returns the stored items read (for the upsert) and the refusals by line."""
    active = {r.sku: r for r in parsed.rows if r.accepted}
    loaded = load_records(w, list(active))
    wanted: dict[str, set[str]] = {}
    for sku, row in active.items():
        assert row.item is not None
        record = merge_record(loaded.get(sku), row.item, parsed.fields, parsed.attribute_keys)
        wanted[sku] = set(record_gtins(record))
    owners = gtin_owners(w, [g for gtins in wanted.values() for g in gtins])
    refused: dict[int, Note] = {}
    while True:  # a refused row keeps its stored GTINs, which may block another row
        newly: list[str] = []
        for sku in list(active):
            for gtin in sorted(wanted[sku]):
                owner = owners.get(gtin)
                if owner is None or owner == sku:
                    continue
                if owner in active and gtin not in wanted[owner]:
                    continue  # this file gives the owner other GTINs: this one moves
                row = active[sku]
                column = next((c for c, g in row.claims if g == gtin), "gtin")
                reason = f"GTIN {gtin} already belongs to item {owner}."
                refused[row.line] = Note(column, Issue.GTIN_TAKEN, reason)
                newly.append(sku)
                break
        if not newly:
            return loaded, refused
        for sku in newly:
            del active[sku]


def _refuse_unknown_owners(
    w: SUDatabase, parsed: ParsedFile, taken: dict[int, Note]
) -> dict[int, Note]:
    """Rows naming an owner that is not a client of the site (docs/clients.md)."""
    rows = [
        r
        for r in parsed.rows
        if r.accepted and r.line not in taken and r.item is not None and r.item.owner
    ]
    named = sorted({r.item.owner for r in rows if r.item is not None})
    known = {
        row["code"]
        for start in range(0, len(named), 500)
        for row in w.execute(
            "SELECT code FROM clients WHERE code IN "
            f"({','.join('?' * len(named[start : start + 500]))})",
            named[start : start + 500],
        ).fetchall()
    }
    refused: dict[int, Note] = {}
    for r in rows:
        assert r.item is not None
        if r.item.owner not in known:
            reason = f"Owner {r.item.owner} is not a client of this site; add the client first."
            refused[r.line] = Note("owner", Issue.OWNER_UNKNOWN, reason)
    return refused


def _report(
    parsed: ParsedFile, taken: dict[int, Note], counts: ImportCounts, dry_run: bool
) -> ImportReport:
    problems = list(parsed.file_warnings)
    for row in parsed.rows:
        refusals = [*row.refusals, taken[row.line]] if row.line in taken else row.refusals
        for note in refusals or row.warnings:
            problems.append(
                ImportProblem(
                    line=row.line,
                    sku=row.sku,
                    field=note.field,
                    code=str(note.code),
                    severity="refused" if refusals else "warning",
                    reason=note.reason,
                )
            )
    counts.rows = len(parsed.rows)
    counts.refused = sum(1 for r in parsed.rows if r.refusals or r.line in taken)
    counts.skipped = sum(1 for r in parsed.rows if r.skipped and not r.refusals)
    counts.warnings = sum(1 for p in problems if p.severity == "warning")
    return ImportReport(
        source=parsed.source,
        sha256=parsed.sha256,
        dry_run=dry_run,
        delimiter=parsed.delimiter,
        encoding=parsed.encoding,
        counts=counts,
        problems=problems,
    )


@_bulk()
def apply_import(w: SUDatabase, parsed: ParsedFile, *, dry_run: bool = False) -> ImportReport:
    """Write the accepted rows of `parsed` inside the caller's write transaction.

    A dry run does the same work in a savepoint and rolls it back, so its report (created,
    updated, unchanged, GTINs taken) is exactly what the real import would say."""
    # `parsed` is not changed, so it can be applied again (a dry run, then for real).
    loaded, taken = _refuse_taken_gtins(w, parsed)
    taken.update(_refuse_unknown_owners(w, parsed, taken))
    accepted = [r for r in parsed.rows if r.accepted and r.line not in taken]
    items = [r.item for r in accepted if r.item is not None]
    counts = ImportCounts()
    try:
        with w.atomic():
            outcomes = upsert_items(
                w,
                items,
                fields=parsed.fields,
                attribute_keys=parsed.attribute_keys,
                loaded=loaded,
            )
            counts.created = outcomes.count("created")
            counts.updated = outcomes.count("updated")
            counts.unchanged = outcomes.count("unchanged")
            counts.imported = len(outcomes)
            changed = [i.sku for i, o in zip(items, outcomes, strict=True) if o != "unchanged"]
            if changed:
                emit(
                    w,
                    ITEMS_IMPORTED,
                    {
                        "sha256": parsed.sha256,
                        "created": counts.created,
                        "updated": counts.updated,
                        "skus": changed[:EVENT_SKU_LIMIT],
                        "more_skus": len(changed) > EVENT_SKU_LIMIT,
                    },
                )
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return _report(parsed, taken, counts, dry_run)


def import_items(
    db: Database,
    data: bytes | ParsedFile,
    *,
    source: str = "",
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Read (unless already parsed) and import an item CSV in one write transaction."""
    parsed = (
        data
        if isinstance(data, ParsedFile)
        else read_items_csv(data, source=source, progress=progress)
    )
    with db.write() as w:
        return apply_import(w, parsed, dry_run=dry_run)
