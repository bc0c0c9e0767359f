"""Drive simulated handhelds at an edge server over loopback and measure what it sustains.

Each handheld is an asyncio task with its own HTTP connection. Before the timed windows every
handheld is paired (a supervisor's pairing code → `POST /devices/pair`), logs in (badge + PIN)
and downloads its tasks (through httpx). In a timed window each handheld sends a confirmed
scan — a committed stock move of 1 unit between its two bins (`POST /inventory/moves`, its
own Idempotency-Key, the key also as the movement's `ref`) — every `interval` seconds (at once
if the previous answer came later), over a lean keep-alive connection (bench/load/wire.py).
The same loop against the no-op endpoint gives the framework's figures.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.load.server import NOOP_PATH
from bench.load.site import PIN, SUPERVISOR_BADGE, Handheld
from bench.load.wire import Wire, WireError
from protocols.version import API_BASE_PATH

API = API_BASE_PATH
_run_ids = itertools.count(1)


@contextmanager
def edge_process(db_path: Path, *, start_timeout: float = 60) -> Iterator[tuple[str, int]]:
    """The load server in its own process; yields (base URL, pid); terminated at the end."""
    port_file = db_path.with_suffix(".port")
    port_file.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.load.server", str(db_path), str(port_file)], env=env
    )
    try:
        deadline = time.monotonic() + start_timeout
        while not port_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the load server did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port_file.read_text().strip()}", proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Session:
    """A paired, logged-in handheld."""

    hand: Handheld
    headers: dict[str, str]
    client: Wire  # its own keep-alive connection, as a real handheld has
    tasks_seen: int = 0


@dataclass
class Window:
    """The outcome of one timed window."""

    label: str
    handhelds: int
    seconds: float
    latencies: list[float] = field(default_factory=list)  # acknowledged, seconds
    errors: int = 0
    acked_refs: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0] * 1000
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return cuts[int(q) - 1] * 1000

    def row(self) -> str:
        return (
            f"{self.rate:9.0f}/s  p50 {self.pct(50):6.1f} ms  p99 {self.pct(99):6.1f} ms"
            f"  errors {self.errors}"
        )


def _json(resp: httpx.Response, status: int = 200) -> Any:
    if resp.status_code != status:
        raise RuntimeError(
            f"{resp.request.method} {resp.request.url}: {resp.status_code} {resp.text}"
        )
    return resp.json()["data"]


async def sign_on(
    client: httpx.AsyncClient, hands: list[Handheld], concurrency: int = 32
) -> list[Session]:
    """Pair and log in every handheld and download its tasks (what a shift start looks like)."""
    sup = _json(
        await client.post(f"{API}/auth/login", json={"badge": SUPERVISOR_BADGE, "pin": PIN})
    )
    sup_headers = {"Authorization": f"Bearer {sup['token']}"}
    gate = asyncio.Semaphore(concurrency)
    run = next(_run_ids)

    async def one(h: Handheld) -> Session:
        async with gate:
            code = _json(
                await client.post(
                    f"{API}/devices/pairing-codes",
                    headers={**sup_headers, "Idempotency-Key": f"pair-{run}-{h.n}"},
                ),
                201,
            )["code"]
            paired = _json(
                await client.post(f"{API}/devices/pair", json={"code": code, "name": f"hh-{h.n}"})
            )
            device = {"X-Device-Token": paired["device_token"]}
            login = _json(
                await client.post(
                    f"{API}/auth/login", json={"badge": h.badge, "pin": PIN}, headers=device
                )
            )
            headers = {**device, "Authorization": f"Bearer {login['token']}"}
            tasks = _json(
                await client.get(f"{API}/picking/tasks", params={"status": "open"}, headers=headers)
            )
            own = Wire(str(client.base_url), headers)
            return Session(h, headers, own, len(tasks["tasks"]))

    return list(await asyncio.gather(*(one(h) for h in hands)))


async def drive(
    sessions: list[Session],
    *,
    noop: bool,
    seconds: float,
    interval: float,
    tag: str,
) -> Window:
    """One timed window: every session sends a scan every `interval` s for `seconds` s."""
    label = "no-op" if noop else "scans"
    window = Window(label, len(sessions), seconds)
    path = NOOP_PATH if noop else f"{API}/inventory/moves"
    start = time.perf_counter()
    stop = start + seconds

    async def handheld(s: Session) -> None:
        # Spread the handhelds' first scans over one interval, as real ones are.
        await asyncio.sleep(interval * (s.hand.n % 97) / 97)
        for i in itertools.count():
            sent = time.perf_counter()
            if sent >= stop:
                return
            key = f"{tag}-{s.hand.n}-{i}"
            body = {
                "from_location": s.hand.from_bin,
                "to_location": s.hand.to_bin,
                "sku": s.hand.sku,
                "qty": 1,
                "ref": key,
            }
            try:
                status, _ = await s.client.post(path, body, {"Idempotency-Key": key})
            except WireError:
                window.errors += 1
                continue
            done = time.perf_counter()
            if status in (200, 201):
                if done <= stop:
                    window.latencies.append(done - sent)
                if not noop:
                    window.acked_refs.append(key)
            else:
                window.errors += 1
            wait = sent + interval - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)

    await asyncio.gather(*(handheld(s) for s in sessions))
    return window


async def close_sessions(sessions: list[Session]) -> None:
    await asyncio.gather(*(s.client.close() for s in sessions))


def ledger_count(db_path: Path, ref_prefix: str) -> int:
    """Movements whose ref starts with `ref_prefix` (read-only, beside the running server)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT count(*) FROM movements WHERE ref LIKE ? ESCAPE '\\'",
            [ref_prefix.replace("_", "\\_") + "-%"],
        ).fetchone()
        return int(row[0])
    finally:
        conn.close()


def client_for(url: str, connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=url, limits=limits, timeout=60)
