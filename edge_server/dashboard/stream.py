"""The live dashboard: server-sent events carrying the summary whenever the data changed.

Change detection is `PRAGMA data_version` on one dedicated read-only connection: SQLite bumps
it whenever any *other* connection (our writer, the CLI in another process) commits, so one
cheap pragma every poll says "something was written". Only then is the summary rebuilt, and it
is sent only when it differs from the last one sent. Every `REFRESH_SECONDS` it is rebuilt
anyway: minutes to cutoff and handhelds going offline change with time alone.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from anyio import to_thread

__all__ = [
    "KEEPALIVE_SECONDS",
    "POLL_SECONDS",
    "REFRESH_SECONDS",
    "ChangeWatch",
    "format_event",
    "summary_events",
]

POLL_SECONDS = 0.2
KEEPALIVE_SECONDS = 15.0
REFRESH_SECONDS = 30.0
#: A stream ends after this long; the page reconnects (bounds any one connection's life).
MAX_STREAM_SECONDS = 3600.0


class ChangeWatch:
    """`version()` changes whenever another connection committed to the database file."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._commits = 0  # fallback for an in-memory database (no file to watch)

    def note_commit(self) -> None:
        """`Database.on_commit` hook: in-process commits, counted without any query."""
        self._commits += 1

    def version(self) -> tuple[int, int]:
        with self._lock:
            if self._path == ":memory:":
                return (0, self._commits)
            if self._conn is None:
                uri = f"file:{self._path}?mode=ro"
                self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            return (int(self._conn.execute("PRAGMA data_version").fetchone()[0]), self._commits)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def format_event(event: str, data: Any, event_id: int | None = None) -> str:
    """One SSE message (`data` as compact JSON on a single line)."""
    head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return head + "data: " + json.dumps(data, separators=(",", ":")) + "\n\n"


def _comparable(summary: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in summary.items() if k != "generated_at"}, sort_keys=True)


async def summary_events(
    compute: Callable[[], dict[str, Any]],
    watch: ChangeWatch,
    *,
    stopping: Callable[[], bool],
    poll_seconds: float = POLL_SECONDS,
) -> AsyncIterator[str]:
    """`summary` at once, then again after each change; keep-alive comments in between.

    Ends when `stopping()` says the server is going down; a client disconnect cancels it
    (Starlette's StreamingResponse watches for `http.disconnect`)."""
    yield "retry: 3000\n\n"
    started = last_sent_at = last_built_at = time.monotonic()
    version = await to_thread.run_sync(watch.version)
    summary = await to_thread.run_sync(compute)
    sent = _comparable(summary)
    seq = 1
    yield format_event("summary", summary, seq)
    while not stopping():
        await anyio.sleep(poll_seconds)
        if stopping():
            break
        now = time.monotonic()
        if now - started > MAX_STREAM_SECONDS:
            break
        current = await to_thread.run_sync(watch.version)
        if current != version or now - last_built_at >= REFRESH_SECONDS:
            version, last_built_at = current, now
            summary = await to_thread.run_sync(compute)
            body = _comparable(summary)
            if body != sent:
                sent, seq, last_sent_at = body, seq + 1, now
                yield format_event("summary", summary, seq)
                continue
        if now - last_sent_at >= KEEPALIVE_SECONDS:
            last_sent_at = now
            yield ": keep-alive\n\n"
