"""Backup and restore of a site database with SQLite's online backup API.

`backup` copies a live database (the server may keep writing) into one self-contained file: the
copy is a consistent snapshot taken in a single backup step under a read transaction, so WAL
writers carry on beside it. `restore` checks a backup (SQLite header, integrity, the ledger) on a
copy next to the target and only then swaps it in with one atomic rename. Both refuse with a
`BackupError` and change nothing when something is wrong. `backup_to_dir` writes dated backups
into a folder and keeps the newest N (the nightly timer, deploy/systemd/aisleway-edge-backup.*).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"
_SIDE_FILES = ("-wal", "-shm", "-journal")


class BackupError(Exception):
    """A backup or restore refused before changing anything; the message says why."""


@dataclass(frozen=True, slots=True)
class BackupInfo:
    path: Path
    size_bytes: int
    last_movement_id: int | None
    movements: int


def _require_sqlite_file(path: Path, what: str) -> None:
    if not path.exists():
        raise BackupError(f"{what} {path} does not exist")
    if not path.is_file():
        raise BackupError(f"{what} {path} is not a file")
    with path.open("rb") as f:
        header = f.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise BackupError(f"{what} {path} is not a SQLite database")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    for suffix in ("", *_SIDE_FILES):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _verify_copy(path: Path) -> tuple[int | None, int]:
    """Integrity of a standalone copy; returns (last movement id, movement count)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        problems = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        if problems != ["ok"]:
            raise BackupError(f"{path} fails SQLite's integrity check: {'; '.join(problems[:5])}")
        try:
            last, count = conn.execute("SELECT MAX(id), COUNT(*) FROM movements").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} is not an Aisleway site database ({exc})") from None
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database ({exc})") from None
    finally:
        conn.close()
    return last, count


def _copy(source: Path, dest: Path) -> None:
    """Copy a SQLite database (read only) into `dest` with the online backup API."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, isolation_level=None, timeout=5)
    try:
        dst = sqlite3.connect(dest, isolation_level=None)
        try:
            # pages=-1: the whole database in one step, i.e. under one read snapshot; a
            # step-wise copy would restart whenever the server commits.
            src.backup(dst, pages=-1)
            # One self-contained file: no -wal beside the copy.
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def backup(db_path: str | Path, to: str | Path, *, force: bool = False) -> BackupInfo:
    """Snapshot the site database at `db_path` into the single file `to` while it may be in use.

    The copy is written beside `to`, checked (`PRAGMA integrity_check`) and renamed into place,
    so `to` is either the old file or a complete, checked backup."""
    source, target = Path(db_path), Path(to)
    _require_sqlite_file(source, "database")
    if target.exists() and not force:
        raise BackupError(f"{target} already exists (use --force to replace it)")
    if target.resolve() == source.resolve():
        raise BackupError("the backup file must not be the database itself")
    if not target.parent.is_dir():
        raise BackupError(f"folder {target.parent} does not exist")
    partial = target.with_name(f".{target.name}.partial")
    _remove(partial)
    try:
        _copy(source, partial)
    except sqlite3.DatabaseError as exc:
        _remove(partial)
        raise BackupError(f"cannot back up {source}: {exc}") from None
    try:
        last, count = _verify_copy(partial)
        with partial.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(partial, target)
        _fsync_dir(target.parent)
    finally:
        _remove(partial)
    return BackupInfo(target, target.stat().st_size, last, count)


def in_use(db_path: str | Path) -> bool:
    """True when another connection (a running server, a CLI command) has the database open.

    In WAL mode an idle connection keeps a shared lock on the WAL index; taking the database
    in exclusive locking mode fails while any other connection exists."""
    path = Path(db_path)
    if not path.exists():
        return False
    conn = sqlite3.connect(path, isolation_level=None, timeout=0.2)
    try:
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()


def restore(source: str | Path, db_path: str | Path, *, force: bool = False) -> BackupInfo:
    """Replace the site database at `db_path` with the backup `source`.

    Refused while the database is open anywhere (stop the server first), and when it exists
    unless `force`. The backup is copied beside the target, checked there — integrity, foreign
    keys and stock == sum of movements (`check_ledger`) — and renamed over the target."""
    from edge_server.db import Database
    from edge_server.wms.ledger import check_ledger

    backup_file, target = Path(source), Path(db_path)
    _require_sqlite_file(backup_file, "backup")
    if target.exists():
        if in_use(target):
            raise BackupError(f"{target} is in use; stop the edge server before restoring")
        if not force:
            raise BackupError(f"{target} already exists (use --force to replace it)")
    if not target.parent.is_dir():
        raise BackupError(f"folder {target.parent} does not exist")
    staged = target.with_name(f".{target.name}.restoring")
    _remove(staged)
    try:
        try:
            _copy(backup_file, staged)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{backup_file} is not a readable SQLite database ({exc})") from None
        last, count = _verify_copy(staged)
        db = Database(staged)
        try:
            report = check_ledger(db)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{backup_file} is not an Aisleway site database ({exc})") from None
        finally:
            db.close()
        if not report.ok:
            raise BackupError(f"{backup_file} fails the ledger check: " + "; ".join(report.lines()))
        with staged.open("rb+") as f:
            os.fsync(f.fileno())
        if target.exists() and in_use(target):  # opened while we were checking
            raise BackupError(f"{target} is in use; stop the edge server before restoring")
        # The old database's side files belong to it, never to the restored one.
        for suffix in _SIDE_FILES:
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(staged, target)
        _fsync_dir(target.parent)
    finally:
        _remove(staged)
    return BackupInfo(target, target.stat().st_size, last, count)


# -- rotating backups into a folder (`aisleway edge backup --to-dir DIR --keep N`) -------------
_STAMP_FORMAT = "%Y%m%d-%H%M%S"
_STAMP_LENGTH = len("YYYYMMDD-HHMMSS")


def rotating_name(site: str, at: datetime) -> str:
    """`<site>-YYYYMMDD-HHMMSS.db` for the UTC time `at`."""
    if at.tzinfo is None:
        raise ValueError("the backup time must carry a time zone")
    return f"{site}-{at.astimezone(UTC).strftime(_STAMP_FORMAT)}.db"


def rotating_backups(directory: str | Path, site: str) -> list[Path]:
    """The backups of `site` in `directory` named by `rotating_name`, oldest first. Anything
    else in the folder (other sites' backups, hand-made copies, partial files) is not listed."""
    prefix = f"{site}-"
    found: list[Path] = []
    for path in Path(directory).iterdir():
        name = path.name
        if not (name.startswith(prefix) and name.endswith(".db") and path.is_file()):
            continue
        stamp = name[len(prefix) : -len(".db")]
        if len(stamp) != _STAMP_LENGTH:
            continue
        try:
            datetime.strptime(stamp, _STAMP_FORMAT)
        except ValueError:
            continue
        found.append(path)
    return sorted(found, key=lambda p: p.name)


def _require_writable(folder: Path) -> None:
    """Create and remove a probe file: permission bits alone miss read-only mounts and root."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".aisleway-probe-", dir=folder)
    except OSError as exc:
        raise BackupError(f"folder {folder} is not writable ({exc.strerror})") from None
    os.close(fd)
    Path(probe).unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class RotatedBackup:
    info: BackupInfo
    removed: list[Path]


def backup_to_dir(
    db_path: str | Path,
    directory: str | Path,
    site: str,
    *,
    keep: int | None = None,
    now: datetime | None = None,
) -> RotatedBackup:
    """Snapshot the site database into `directory` as `<site>-YYYYMMDD-HHMMSS.db` (UTC; written
    and checked beside it, then renamed into place, like `backup`), then — with `keep` — delete
    all but the newest `keep` backups of that site named that way. Other files are never touched.

    Refused with a `BackupError`, nothing written or deleted, when `keep` < 1, the folder is
    missing, not a folder or not writable, the site code cannot be part of a file name, or a
    backup with the same name (same second) exists already."""
    folder = Path(directory)
    if keep is not None and keep < 1:
        raise BackupError(f"--keep must be at least 1 (got {keep})")
    if not site or "/" in site or "\0" in site or site.startswith("."):
        raise BackupError(f"site code {site!r} cannot be part of a file name")
    if not folder.exists():
        raise BackupError(f"folder {folder} does not exist")
    if not folder.is_dir():
        raise BackupError(f"{folder} is not a folder")
    _require_writable(folder)
    name = rotating_name(site, now if now is not None else datetime.now(UTC))
    info = backup(db_path, folder / name)
    removed: list[Path] = []
    if keep is not None:
        # The new backup always stays, even if the clock went back and older names sort later.
        others = [p for p in rotating_backups(folder, site) if p.name != name]
        stale = others[: max(0, len(others) - (keep - 1))]
        for path in stale:
            path.unlink(missing_ok=True)
            removed.append(path)
        if removed:
            _fsync_dir(folder)
    return RotatedBackup(info, removed)
