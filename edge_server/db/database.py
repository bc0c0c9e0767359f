"""The one way to reach a site's SQLite file.

One write connection, guarded by a lock, used only inside `BEGIN IMMEDIATE`; one read
connection per thread. No other module opens a write connection.

Group commit: `run_write(fn)` is how commands write. The commands that are waiting for the
writer when it frees up run in ONE transaction, each inside its own savepoint (a command that
fails rolls back only its own work), and share one COMMIT — one fsync instead of one each.
Every command's result is handed back only after that COMMIT, so nothing is acknowledged
before it is durable. Under no contention a batch is one command: the same as `write()`.
"""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils
from sqlite_utils.migrations import Migrations

BUSY_TIMEOUT_MS = 5000
MAX_BATCH = 256  # commands per group commit; the rest wait for the next one

T = TypeVar("T")


@dataclass(eq=False)
class _Job:
    """One command waiting for the writer."""

    fn: Callable[[sqlite_utils.Database], Any]
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    done: bool = False
    result: Any = None
    error: BaseException | None = None
    on_done: Callable[[], object] | None = None  # an async caller's wake-up


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():  # the caller may have gone (cancelled); the command still ran
        future.set_result(None)


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
        # group commit: commands waiting for the writer, and whether one thread leads a batch
        self._queue: list[_Job] = []
        self._queue_cond = threading.Condition()
        self._leading = False
        self._leader_pool: ThreadPoolExecutor | None = None  # leads for async callers
        self.batches = 0  # group commits so far (for /metrics and the load bench)
        self.batched = 0  # commands they carried

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
            self._local.writing = True
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._writer
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                self._local.writing = False
        self._run_hooks()

    def run_write(self, fn: Callable[[sqlite_utils.Database], T]) -> T:
        """`fn(w)` in a write transaction, possibly shared with other threads' commands (group
        commit, see the module's docstring). Returns `fn`'s result — or raises its error —
        only once the transaction holding it has committed (or been rolled back).

        `fn` may run on another thread (the batch's leader), inside a copy of the caller's
        context; it must write only through `w` (and may read through `db.read`, which is the
        write connection while a transaction is open on a thread)."""
        if getattr(self._local, "writing", False):  # nested: join the open transaction
            with self.write() as w:
                return fn(w)
        job = _Job(fn)
        with self._queue_cond:
            self._queue.append(job)
            while not job.done and self._leading:
                self._queue_cond.wait()
            if not job.done:
                self._leading = True
        if not job.done:
            try:
                while not job.done:  # more than MAX_BATCH may be ahead of it
                    self._lead()
            finally:
                self._hand_off()
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[no-any-return]

    async def run_write_async(self, fn: Callable[[sqlite_utils.Database], T]) -> T:
        """`run_write` for a coroutine: the event loop is never blocked and no thread is
        taken per command — `fn` runs on the batch's leader thread (one per batch)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        job = _Job(fn, on_done=lambda: loop.call_soon_threadsafe(_settle, future))
        with self._queue_cond:
            self._queue.append(job)
            lead = not self._leading
            self._leading = True
        if lead:
            self._pool().submit(self._lead_and_hand_off)
        await future
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[no-any-return]

    def _pool(self) -> ThreadPoolExecutor:
        with self._queue_cond:
            if self._leader_pool is None:
                self._leader_pool = ThreadPoolExecutor(1, thread_name_prefix="db-writer")
            return self._leader_pool

    def _lead_and_hand_off(self) -> None:
        try:
            self._lead()
        finally:
            self._hand_off()

    def _hand_off(self) -> None:
        """After leading: commands still queued get the next leader (a thread of our own, so
        async callers' commands never wait for a sync caller that is not coming); else the
        writer is free and waiting threads may lead."""
        with self._queue_cond:
            more = bool(self._queue)
            self._leading = more
            self._queue_cond.notify_all()
        if more:
            self._pool().submit(self._lead_and_hand_off)

    @property
    def waiting(self) -> int:
        """Commands queued for the next group commit."""
        with self._queue_cond:
            return len(self._queue)

    def _lead(self) -> None:
        """Run the waiting commands (this thread's among them) as one transaction."""
        with self._queue_cond:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        conn = self._write_conn
        committed = False
        with self._write_lock:
            self._local.writing = True
            try:
                conn.execute("BEGIN IMMEDIATE")
                for job in batch:
                    conn.execute("SAVEPOINT aisleway_job")
                    try:
                        job.result = job.context.run(job.fn, self._writer)
                    except Exception as exc:
                        job.error = exc
                        if not conn.in_transaction:  # SQLite rolled the whole batch back
                            raise
                        conn.execute("ROLLBACK TO aisleway_job")
                    conn.execute("RELEASE aisleway_job")
                conn.execute("COMMIT")
                committed = True
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                for job in batch:  # nothing of this batch is durable: no command succeeded
                    job.result, job.error = None, job.error or exc
                if not isinstance(exc, Exception):
                    raise
            finally:
                self._local.writing = False
                self.batches += 1
                self.batched += len(batch)
                with self._queue_cond:
                    for job in batch:
                        job.done = True
                    self._queue_cond.notify_all()
                for job in batch:
                    if job.on_done is not None:
                        job.on_done()
        if committed:
            self._run_hooks()

    def _run_hooks(self) -> None:
        for hook in list(self._after_commit):
            hook()

    def on_commit(self, hook: Any) -> None:
        """Call `hook()` after every committed write transaction (e.g. wake the relay)."""
        self._after_commit.append(hook)

    # -- reading -------------------------------------------------------------------------
    @property
    def read(self) -> sqlite_utils.Database:
        """This thread's read connection — or the write connection while this thread is
        inside a write transaction, so a command reads its own (and its batch's) writes."""
        if getattr(self._local, "writing", False):
            return self._writer
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
        if self._leader_pool is not None:
            self._leader_pool.shutdown(wait=False)

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
