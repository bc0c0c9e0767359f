"""Build a load site in a fresh SQLite file: one site, two bins and one SKU per handheld (stock
in the first bin), a picker per handheld and one supervisor who issues the pairing codes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.load.server import load_settings
from edge_server.services import open_services
from edge_server.timeutil import iso
from edge_server.wms import ledger
from edge_server.wms.ledger import StockKey

PIN = "4321"
SUPERVISOR_BADGE = "SUP-LOAD"
STOCK_PER_HANDHELD = 1_000_000


@dataclass(frozen=True)
class Handheld:
    """What a simulated handheld knows before it starts: its worker's badge and its bins."""

    n: int
    badge: str
    sku: str
    from_bin: str
    to_bin: str


def handheld(n: int) -> Handheld:
    return Handheld(n, f"PK-{n:04d}", f"LOAD-{n:04d}", f"L{n:04d}-A", f"L{n:04d}-B")


def build_site(db_path: Path, handhelds: int) -> list[Handheld]:
    """Create the load site for `handhelds` handhelds; returns them."""
    services = open_services(load_settings(db_path))
    db = services.db
    hands = [handheld(n) for n in range(1, handhelds + 1)]
    try:
        services.users.create(badge=SUPERVISOR_BADGE, pin=PIN, role="supervisor")
        for h in hands:
            services.users.create(badge=h.badge, pin=PIN, role="picker")
        with db.write() as w:
            w.execute(
                "INSERT OR IGNORE INTO sites (code, name, created_at) VALUES (?, ?, ?)",
                ["CHI", "CHI", iso()],
            )
            site_id = w.execute("SELECT id FROM sites WHERE code = 'CHI'").fetchone()[0]
            for h in hands:
                ids = []
                for code in (h.from_bin, h.to_bin):
                    cur = w.execute(
                        "INSERT INTO locations (site_id, code, type) VALUES (?, ?, 'reserve')",
                        [site_id, code],
                    )
                    ids.append(int(cur.lastrowid or 0))
                cur = w.execute(
                    "INSERT INTO items (sku, description, lot_tracked, created_at, updated_at) "
                    "VALUES (?, ?, 0, ?, ?)",
                    [h.sku, f"Load item {h.n}", iso(), iso()],
                )
                item = int(cur.lastrowid or 0)
                ledger.receive(w, StockKey(ids[0], item, "", ""), STOCK_PER_HANDHELD, ref="load")
    finally:
        db.close()
    return hands
