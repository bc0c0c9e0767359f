"""The one way to reach a site's SQLite file.

One write connection, guarded by a lock, used only inside `BEGIN IMMEDIATE`; one read
connection per thread. No other module opens a write connection.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

BUSY_TIMEOUT_MS = 5000


def _connect(path: str, *, readonly: bool = False) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves; Python's implicit transactions
    # would otherwise open a deferred BEGIN behind our back.
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
    )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if readonly:
        conn.execute("PRAGMA query_only = ON")
    return conn


class Database:
    """A site database: WAL, synchronous=FULL, foreign keys, single writer."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._write_conn = _connect(self.path)
        # WAL lets readers run beside the writer; FULL makes an acknowledged commit survive
        # power loss, not just a process crash.
        self._write_conn.execute("PRAGMA journal_mode = WAL")
        self._write_conn.execute("PRAGMA synchronous = FULL")
        self._writer = sqlite_utils.Database(self._write_conn)
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._after_commit: list[Any] = []
        self._closed = False

    # -- writing -------------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """A write transaction: `BEGIN IMMEDIATE` … `COMMIT`, rolled back on any exception.

        Nested use on the same thread joins the outer transaction (through a savepoint).
        """
        with self._write_lock:
            conn = self._write_conn
            if conn.in_transaction:
                with self._writer.atomic():  # savepoint inside the outer transaction
                    yield self._writer
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        for hook in list(self._after_commit):
            hook()

    def on_commit(self, hook: Any) -> None:
        """Call `hook()` after every committed write transaction (e.g. wake the relay)."""
        self._after_commit.append(hook)

    # -- reading -------------------------------------------------------------------------
    @property
    def read(self) -> sqlite_utils.Database:
        """This thread's read connection."""
        reader: sqlite_utils.Database | None = getattr(self._local, "reader", None)
        if reader is None:
            conn = _connect(self.path, readonly=True)
            with self._readers_lock:
                self._readers.append(conn)
            reader = sqlite_utils.Database(conn)
            self._local.reader = reader
        return reader

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self.read.execute(sql, params).fetchall()]

    def query_one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        row = self.read.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    # -- lifecycle -----------------------------------------------------------------------
    def migrate(self, which: Migrations | None = None) -> list[str]:
        """Apply pending named migrations (the edge's unless `which` names another set, such
        as the OMS's); returns the names applied."""
        from edge_server.db.migrations import apply_migrations

        return apply_migrations(self, which)

    def integrity_check(self) -> list[str]:
        rows = self.read.execute("PRAGMA integrity_check").fetchall()
        return [r[0] for r in rows if r[0] != "ok"]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        with self._write_lock:
            self._write_conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
