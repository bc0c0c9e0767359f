"""The load generator against a real edge server process: handhelds pair, log in and download
tasks over HTTP, and every scan it counts as confirmed is in the ledger exactly once."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bench.load.run import client_for, close_sessions, drive, edge_process, ledger_count, sign_on
from bench.load.site import STOCK_PER_HANDHELD, build_site


def test_handhelds_sign_on_and_every_confirmed_scan_is_in_the_ledger(tmp_path: Path) -> None:
    db = tmp_path / "load.db"
    hands = build_site(db, 5)

    async def scenario(url: str) -> tuple[int, int, list[str], int]:
        async with client_for(url, 6) as client:
            sessions = await sign_on(client, hands)
            assert [s.hand.n for s in sessions] == [1, 2, 3, 4, 5]
            assert all(s.headers["Authorization"].startswith("Bearer ") for s in sessions)
            noop = await drive(sessions, noop=True, seconds=0.5, interval=0.05, tag="n")
            scans = await drive(sessions, noop=False, seconds=1, interval=0.05, tag="s")
            await close_sessions(sessions)
            return noop.errors, len(noop.latencies), scans.acked_refs, scans.errors

    with edge_process(db) as (url, _pid):
        noop_errors, noop_count, acked, scan_errors = asyncio.run(scenario(url))
        assert ledger_count(db, "s") == len(acked)

    assert noop_errors == 0 and scan_errors == 0
    assert noop_count > 0 and len(acked) > 5
    assert ledger_count(db, "n") == 0  # the no-op endpoint writes nothing
    conn = sqlite3.connect(db)
    try:
        refs = [r[0] for r in conn.execute("SELECT ref FROM movements WHERE type = 'move'")]
        assert sorted(refs) == sorted(acked)
        moved = conn.execute(
            "SELECT sum(s.qty) FROM stock s JOIN locations l ON l.id = s.location_id "
            "WHERE l.code LIKE 'L%-B'"
        ).fetchone()[0]
        assert moved == len(acked)
        left = conn.execute(
            "SELECT sum(s.qty) FROM stock s JOIN locations l ON l.id = s.location_id "
            "WHERE l.code LIKE 'L%-A'"
        ).fetchone()[0]
        assert left == 5 * STOCK_PER_HANDHELD - len(acked)
    finally:
        conn.close()
