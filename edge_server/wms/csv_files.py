"""What every CSV import shares: reading the bytes a spreadsheet saved, the header names, and
the per-line report (refused lines, JSON, a table for the terminal)."""

from __future__ import annotations

import codecs
import json
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
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


def problems_table(head: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Aligned lines: the first column right-aligned, the last one left as it is."""
    last = len(head) - 1
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(last)]
    out = [""]
    for r in [head, *rows]:
        cells = [r[i].rjust(widths[i]) if i == 0 else r[i].ljust(widths[i]) for i in range(last)]
        out.append("  " + "  ".join([*cells, r[last]]).rstrip())
    return out
