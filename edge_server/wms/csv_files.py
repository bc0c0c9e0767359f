"""What every CSV import shares: reading the bytes a spreadsheet saved, the header names, and
the per-line report (refused lines, JSON, a table for the terminal)."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from edge_server.errors import AislewayError
from protocols.errors import ErrorCode


def invalid_file(text: str, **details: Any) -> AislewayError:
    return AislewayError(ErrorCode.IMPORT_INVALID, text, details=details)


def decode_csv(data: bytes) -> tuple[str, str]:
    """The text and its encoding: UTF-16 with a BOM (Excel's "Unicode text"), UTF-8 (with or
    without BOM) or Windows-1252; a binary file is refused."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8-sig", "cp1252"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text, encoding
    raise invalid_file("The file is not a CSV text file (it looks binary). Save it as CSV.")


def sniff_delimiter(first_line: str) -> str:
    """`,`, `;` (European Excel) or a tab: whichever the header line uses most."""
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def column_name(raw: str, aliases: Mapping[str, str] | None = None) -> str:
    """A header cell as a field name: lower case, spaces and dashes as `_`, BOM dropped."""
    name = re.sub(r"[\s\-]+", "_", raw.replace("\ufeff", "").strip().lower())
    return (aliases or {}).get(name, name)


class ReportMethods:
    """Shared by the import reports (pydantic models with `problems` carrying line,
    severity and code)."""

    problems: Sequence[Any]

    def refused_lines(self) -> dict[int, list[str]]:
        """{line: [codes]} of the refused rows."""
        found: dict[int, list[str]] = defaultdict(list)
        for p in self.problems:
            if p.severity == "refused":
                found[p.line].append(p.code)
        return dict(found)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2)  # type: ignore[attr-defined]

    def render(self, what: str, summary: str, key: str) -> str:
        """The report as text for a terminal: a title, the `summary` counts line, then one
        row per problem with the problem's `key` attribute (sku, PO or ASN number)."""
        state = "dry run, nothing was written" if getattr(self, "dry_run", False) else "applied"
        source = getattr(self, "source", "") or "upload"
        lines = [f"{what} of {source} ({state})", f"  {summary}"]
        if not self.problems:
            lines.append("  no problems found")
            return "\n".join(lines)
        head = ("line", key.split("_")[0], "field", "status", "code", "reason")
        rows = [
            (
                str(p.line) if p.line else "file",
                getattr(p, key),
                p.field,
                "REFUSED" if p.severity == "refused" else "warning",
                p.code,
                p.reason,
            )
            for p in self.problems
        ]
        return "\n".join(lines + problems_table(head, rows))


def problems_table(head: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Aligned lines: the first column right-aligned, the last one left as it is."""
    last = len(head) - 1
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(last)]
    out = [""]
    for r in [head, *rows]:
        cells = [r[i].rjust(widths[i]) if i == 0 else r[i].ljust(widths[i]) for i in range(last)]
        out.append("  " + "  ".join([*cells, r[last]]).rstrip())
    return out


@dataclass(frozen=True, slots=True)
class CsvRow:
    line: int  # the row's first physical line (the header is line 1)
    values: dict[str, str]  # by column name, cells stripped
    cells: int  # how many cells the row had (the header's count, when well formed)


@dataclass(frozen=True, slots=True)
class CsvTable:
    """A CSV file read into named rows, before any field is checked."""

    sha256: str
    encoding: str  # as decoded: utf-8-sig, cp1252 or utf-16
    delimiter: str
    header_line: int
    raw_columns: list[str]
    columns: list[str]  # normalised names, in file order
    rows: list[CsvRow]

    def unknown_columns(self, known: Collection[str]) -> list[str]:
        """The header cells (as written) whose names are not in `known`."""
        return [
            raw.strip()
            for raw, name in zip(self.raw_columns, self.columns, strict=True)
            if name and name not in known
        ]

    def file_warnings(self, known: Collection[str], what: str) -> list[tuple[int, str, str, str]]:
        """(line, field, code, reason) for each ignored column and a Windows-1252 file."""
        found = [
            (
                self.header_line,
                raw,
                "COLUMN_IGNORED",
                f"column {raw!r} is not {what} field; ignored.",
            )
            for raw in self.unknown_columns(known)
        ]
        if self.encoding == "cp1252":
            reason = "the file is not UTF-8; it was read as Windows-1252 (check accents)."
            found.append((0, "", "ENCODING_CP1252", reason))
        return found

    def misshapen(self, row: CsvRow) -> str | None:
        """Why `row` does not line up with the header, or None."""
        if row.cells == len(self.columns):
            return None
        return f"the row has {row.cells} cells but the header has {len(self.columns)}."


def read_csv_table(
    data: bytes,
    *,
    required: Sequence[str],
    max_bytes: int,
    aliases: Mapping[str, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    progress_every: int = 1000,
) -> CsvTable:
    """Decode and split a CSV upload; blank lines are skipped, line numbers kept physical.

    Refuses IMPORT_INVALID (nothing to report line by line) when the file is too big, not
    text, empty, not CSV, or lacks a required column."""
    if len(data) > max_bytes:
        raise invalid_file(
            f"The file is larger than {max_bytes // (1024 * 1024)} MB; split it.", size=len(data)
        )
    sha256 = hashlib.sha256(data).hexdigest()
    text, encoding = decode_csv(data)
    if not text.strip():
        raise invalid_file("The file is empty.")
    delimiter = sniff_delimiter(text.lstrip("\r\n").splitlines()[0])
    total_lines = text.count("\n") + 1
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: tuple[int, list[str], list[str]] | None = None
    rows: list[CsvRow] = []
    previous_end = 0
    try:
        for cells in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                names = [column_name(c, aliases) for c in cells]
                missing = [c for c in required if c not in names]
                if missing:
                    raise invalid_file(
                        "The file lacks required columns.",
                        missing_columns=missing,
                        found_columns=[n for n in names if n],
                    )
                header = (start, cells, names)
                continue
            values = {n: c.strip() for n, c in zip(header[2], cells, strict=False) if n}
            rows.append(CsvRow(line=start, values=values, cells=len(cells)))
            if progress is not None and len(rows) % progress_every == 0:
                progress(previous_end, total_lines)
    except csv.Error as exc:
        raise invalid_file(
            f"The file is not valid CSV near line {reader.line_num}: {exc}.", line=reader.line_num
        ) from None
    if header is None:
        raise invalid_file("The file is empty.")
    if progress is not None:
        progress(total_lines, total_lines)
    return CsvTable(
        sha256=sha256,
        encoding=encoding,
        delimiter=delimiter,
        header_line=header[0],
        raw_columns=header[1],
        columns=header[2],
        rows=rows,
    )


@dataclass(frozen=True, slots=True)
class DocumentRefusals:
    """What a document import refused: one entry per refusal, the documents, the rows."""

    entries: list[tuple[int, str, str, str, str]]  # (line, document, field, code, reason)
    documents: set[str]
    rows: int


def refuse_whole_documents(
    rows: Sequence[tuple[int, str, Sequence[tuple[str, str, str]]]],
    documents: Collection[str],
    *,
    kind: str,
    refused_code: str,
) -> DocumentRefusals:
    """A document (PO, ASN) with any refused row is refused whole: its other rows are
    reported as `refused_code` naming the bad lines. `rows` are (line, document number,
    the row's own refusals as (field, code, reason)); `documents` the numbers that parsed."""
    bad_lines: dict[str, list[int]] = defaultdict(list)
    for line, number, own in rows:
        if own:
            bad_lines[number].append(line)
    entries: list[tuple[int, str, str, str, str]] = []
    refused: set[str] = set()
    refused_rows = 0
    for line, number, own in rows:
        notes = list(own)
        if not notes and number in bad_lines:
            bad = ", ".join(str(n) for n in bad_lines[number])
            notes = [
                (
                    "",
                    refused_code,
                    f"{kind} {number} was not imported: it has refused lines ({bad}).",
                )
            ]
        if notes:
            refused_rows += 1
            if number in documents:
                refused.add(number)
        entries.extend((line, number, f, str(code), reason) for f, code, reason in notes)
    return DocumentRefusals(entries=entries, documents=refused, rows=refused_rows)
