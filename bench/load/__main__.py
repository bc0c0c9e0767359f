"""`python -m bench.load [--levels 50,200,500] [--seconds 10] [--interval 0.2]` (docs/load.md)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.load.run import (
    Window,
    client_for,
    close_sessions,
    drive,
    edge_process,
    ledger_count,
    sign_on,
)
from bench.load.site import build_site, handheld

TARGET_RATE = 1000  # confirmed scans/s at 200 handhelds
TARGET_P99_MS = 100
TARGET_LEVEL = 200
TARGET_RATIO = 0.5  # of the no-op ceiling


async def group_commits(client: Any) -> tuple[float, float]:
    """(commits, commands) so far, from the server's /metrics."""
    text = (await client.get("/metrics")).text
    found = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in ("aisleway_db_group_commits_total", "aisleway_db_group_commit_commands_total"):
            found[name] = float(value)
    return (
        found.get("aisleway_db_group_commits_total", 0.0),
        found.get("aisleway_db_group_commit_commands_total", 0.0),
    )


def _per_commit(before: tuple[float, float], after: tuple[float, float]) -> str:
    commits, commands = after[0] - before[0], after[1] - before[1]
    return f"{commands / commits:.1f} scans per commit" if commits else "no commits"


async def _measure(db: Path, url: str, levels: list[int], seconds: float, interval: float) -> int:
    hands = max(levels)
    async with client_for(url, hands + 1) as client:
        t0 = time.perf_counter()
        sessions = await sign_on(client, [handheld(n) for n in range(1, hands + 1)])
        took = time.perf_counter() - t0
        print(
            f"sign-on: {hands} handhelds paired, logged in and downloaded tasks in {took:.1f} s"
            f" ({hands / took:.0f} handhelds/s)"
        )
        print(f"paced: each handheld scans every {interval * 1000:.0f} ms (or at once if late)\n")
        print(f"{'handhelds':>9}  {'what':<6}  {'confirmed/s':>11}  latency")
        failures = 0
        results: dict[int, tuple[Window, Window]] = {}
        for level in levels:
            noop = await drive(
                sessions[:level],
                noop=True,
                seconds=seconds,
                interval=interval,
                tag=f"noop{level}",
            )
            before = await group_commits(client)
            scans = await drive(
                sessions[:level],
                noop=False,
                seconds=seconds,
                interval=interval,
                tag=f"scan{level}",
            )
            per_commit = _per_commit(before, await group_commits(client))
            results[level] = (noop, scans)
            in_ledger = ledger_count(db, f"scan{level}")
            ratio = scans.rate / noop.rate if noop.rate else float("nan")
            print(f"{level:>9}  no-op   {noop.row()}")
            print(f"{level:>9}  scans   {scans.row()}   ratio {ratio:.2f} of no-op")
            exact = in_ledger == len(scans.acked_refs)
            print(
                f"{'':>9}  ledger: {in_ledger} movements for {len(scans.acked_refs)} acknowledged"
                f" scans ({'exact' if exact else 'MISMATCH'}); group commit: {per_commit}"
            )
            failures += 0 if exact else 1
        # The ceiling: the same handhelds with no pause between scans.
        ceiling_level = TARGET_LEVEL if TARGET_LEVEL in results else levels[-1]
        noop_c = await drive(
            sessions[:ceiling_level],
            noop=True,
            seconds=seconds,
            interval=0.0,
            tag="noopmax",
        )
        before = await group_commits(client)
        scans_c = await drive(
            sessions[:ceiling_level],
            noop=False,
            seconds=seconds,
            interval=0.0,
            tag="scanmax",
        )
        per_commit = _per_commit(before, await group_commits(client))
        print(f"\nceiling (no pause, {ceiling_level} handhelds):")
        print(f"{ceiling_level:>9}  no-op   {noop_c.row()}")
        print(
            f"{ceiling_level:>9}  scans   {scans_c.row()}   ratio "
            f"{scans_c.rate / noop_c.rate if noop_c.rate else float('nan'):.2f} of no-op"
            f"; {per_commit}"
        )
        print("\ntargets (issue 8):")
        if TARGET_LEVEL in results:
            _, at = results[TARGET_LEVEL]
            met = at.rate >= TARGET_RATE and at.pct(99) < TARGET_P99_MS
            print(
                f"  >= {TARGET_RATE} scans/s with p99 < {TARGET_P99_MS} ms at {TARGET_LEVEL}: "
                f"{at.rate:.0f}/s, p99 {at.pct(99):.1f} ms -> {'met' if met else 'MISSED'}"
            )
        half = scans_c.rate / noop_c.rate if noop_c.rate else 0.0
        print(
            f"  >= {TARGET_RATIO:.0%} of the no-op ceiling: {half:.0%} -> "
            f"{'met' if half >= TARGET_RATIO else 'MISSED'}"
        )
        await close_sessions(sessions)
        return failures


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    p.add_argument("--levels", default="50,200,500", help="handheld counts, comma-separated")
    p.add_argument("--seconds", type=float, default=10.0, help="length of each timed window")
    p.add_argument(
        "--interval", type=float, default=0.2, help="seconds between one handheld's scans"
    )
    p.add_argument("--db", type=Path, help="SQLite file to build (default: a temporary one)")
    args = p.parse_args(argv)
    levels = sorted(int(x) for x in args.levels.split(","))
    with tempfile.TemporaryDirectory(prefix="aisleway-load-") as tmp:
        db = args.db or Path(tmp) / "load.db"
        t0 = time.perf_counter()
        build_site(db, max(levels))
        print(
            f"load site: {max(levels)} handhelds built in {time.perf_counter() - t0:.1f} s ({db})"
        )
        with edge_process(db) as (url, pid):
            print(
                f"edge server pid {pid} at {url} (uvicorn, own process); client: asyncio "
                "(httpx for sign-on, bench/load/wire.py for the timed windows)"
            )
            failures = asyncio.run(_measure(db, url, levels, args.seconds, args.interval))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
