"""The EDI folders (docs/edi.md#the-watched-folder): interchanges dropped in
`settings.edi_inbox_dir` are taken like `POST /edi/interchanges`, and our 997s and 945s are
written to `settings.edi_outbox_dir`.

A file is taken when it is complete: names starting with '.' or ending in `.part`, `.tmp`
or `.partial` are skipped (write under such a name, then rename), and so is a file changed
less than `SETTLE_SECONDS` ago. Once taken it moves to `processed/` (accepted, partial, or a
repeat of one already taken) or `rejected/` (refused, or every set rejected) with
`<name>.json` beside it holding the result or the error. A crash between the commit and the
move only means the file is read again: the interchange key answers the stored result.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from edge_server.background import BackgroundLoop
from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.settings import Settings
from edge_server.wms import edi_inbound, edi_outbound

__all__ = ["SETTLE_SECONDS", "EdiFolders", "take_file"]

log = logging.getLogger(__name__)

SETTLE_SECONDS = 2.0
_PARTIAL_SUFFIXES = (".part", ".tmp", ".partial")
_MAX_BYTES = 10 * 1024 * 1024


def _complete(path: Path, now: float) -> bool:
    name = path.name
    if name.startswith(".") or name.lower().endswith(_PARTIAL_SUFFIXES) or not path.is_file():
        return False
    return now - path.stat().st_mtime >= SETTLE_SECONDS


def _move(path: Path, folder: Path, result: dict[str, Any]) -> Path:
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    n = 1
    while target.exists() or target.with_name(target.name + ".json").exists():
        target = folder / f"{path.stem}.{n}{path.suffix}"
        n += 1
    target.with_name(target.name + ".json").write_text(json.dumps(result, indent=2) + "\n")
    os.replace(path, target)
    return target


def take_file(db: Database, site: str, path: Path) -> Path:
    """Take one inbox file; returns where it went (`processed/...` or `rejected/...`)."""
    data = path.read_bytes()
    if len(data) > _MAX_BYTES:
        result: dict[str, Any] = {
            "error": {"code": "EDI_BODY_INVALID", "text": f"larger than {_MAX_BYTES} bytes"}
        }
        return _move(path, path.parent / "rejected", result)
    try:
        received = db.run_write(
            lambda w: edi_inbound.receive(
                w, site, data, source="folder", file_name=path.name, submitted_by="folder"
            )
        )
    except AislewayError as err:
        result = {"error": {"code": err.code.value, "text": err.text, "details": err.details}}
        return _move(path, path.parent / "rejected", result)
    view = received.interchange
    result = {"duplicate": not received.created, "interchange": view}
    folder = "rejected" if view["status"] == "rejected" else "processed"
    return _move(path, path.parent / folder, result)


class EdiFolders(BackgroundLoop):
    """Each pass: take the complete inbox files (oldest first), then write pending outbound
    documents to the outbox."""

    thread_name = "edi-folders"

    def __init__(self, db: Database, settings: Settings) -> None:
        super().__init__(settings.edi_poll_seconds)
        self.db = db
        self.site = settings.site
        self.inbox = Path(settings.edi_inbox_dir) if settings.edi_inbox_dir else None
        self.outbox = Path(settings.edi_outbox_dir) if settings.edi_outbox_dir else None

    def tick(self) -> float | None:
        if self.inbox is not None and self.inbox.is_dir():
            now = time.time()
            files = sorted(
                (p for p in self.inbox.iterdir() if _complete(p, now)),
                key=lambda p: (p.stat().st_mtime, p.name),
            )
            for path in files:
                try:
                    where = take_file(self.db, self.site, path)
                    log.info("edi file taken", extra={"file": path.name, "to": str(where)})
                except OSError:
                    log.exception("edi file %s could not be taken", path.name)
        if self.outbox is not None:
            edi_outbound.write_pending(self.db, self.outbox)
        return None
