"""Writing a layout into a site's database: site, zones and locations in one transaction.

Loading the same file twice changes nothing. A changed file adds and updates locations and
deactivates the ones it no longer lists, unless one of those still holds stock: then the whole
load is refused and nothing changes. Locations are never deleted (movements point at them).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.timeutil import iso
from edge_server.wms.layout import Bin, Layout, layout_from_json
from protocols.errors import ErrorCode
from protocols.layout import LayoutLoadOut

__all__ = [
    "LoadSummary",
    "apply_layout",
    "check_site",
    "load_layout",
    "stored_layout",
    "stored_layout_info",
]

# Columns a layout decides, in this order, for comparing and writing a location.
_COLUMNS = (
    "zone_id",
    "type",
    "block",
    "aisle",
    "bay",
    "level",
    "side",
    "x",
    "y",
    "max_volume_cm3",
    "max_weight_kg",
    "max_skus",
    "temperature_class",
    "hazmat_allowed",
)
_REPORT_LIMIT = 50  # stocked bins listed in a refusal


# What a load did (or, with dry_run, would do): the API's response model, used as is.
LoadSummary = LayoutLoadOut


def _row(b: Bin, zone_id: int | None) -> tuple[Any, ...]:
    return (
        zone_id,
        b.type,
        b.block,
        b.aisle,
        b.bay,
        b.level,
        b.side,
        b.x,
        b.y,
        b.max_volume_cm3,
        b.max_weight_kg,
        b.max_skus,
        b.temperature_class,
        int(b.hazmat_allowed),
    )


def _zone_names(layout: Layout) -> dict[str, str]:
    names: dict[str, str] = {}
    for spec, block in zip(layout.file.blocks, layout.blocks, strict=True):
        names.setdefault(block.zone, spec.name or f"Block {block.id}")
    for area in layout.file.areas:
        names.setdefault(area.zone, area.name or area.zone)
    return names


def check_site(layout: Layout, site: str | None) -> None:
    """Refuse a file written for another site than the one this server runs."""
    if site is not None and layout.site != site:
        raise AislewayError(
            ErrorCode.LAYOUT_INVALID,
            details={
                "errors": [
                    {
                        "field": "site",
                        "reason": f"the file is for site {layout.site} but this edge server "
                        f"runs site {site}",
                    }
                ]
            },
        )


def apply_layout(
    w: SUDatabase, layout: Layout, *, site: str | None = None, dry_run: bool = False
) -> LoadSummary:
    """Load `layout` inside the caller's write transaction (see `load_layout`)."""
    check_site(layout, site)
    now = iso()
    changed = False
    depot_x, depot_y = layout.depot
    file_json = layout.file_json()

    row = w.execute(
        "SELECT id, name, depot_x, depot_y, layout_json FROM sites WHERE code = ?", [layout.site]
    ).fetchone()
    site_id: int | None = None if row is None else int(row["id"])
    site_values = (layout.file.name, depot_x, depot_y, file_json)
    if row is None or tuple(row)[1:] != site_values:
        changed = True

    zone_ids: dict[str, int] = {}
    if site_id is not None:
        zone_ids = {
            r["code"]: int(r["id"])
            for r in w.execute("SELECT id, code FROM zones WHERE site_id = ?", [site_id])
        }
    wanted_zones = _zone_names(layout)
    new_zones = [z for z in wanted_zones if z not in zone_ids]

    existing: dict[str, tuple[int, int, tuple[Any, ...]]] = {}
    if site_id is not None:
        cols = ", ".join(_COLUMNS)
        for r in w.execute(
            f"SELECT id, code, active, {cols} FROM locations WHERE site_id = ?", [site_id]
        ):
            existing[r["code"]] = (int(r["id"]), int(r["active"]), tuple(r)[3:])

    inserts: list[Bin] = []
    updates: list[tuple[int, Bin]] = []
    reactivated = unchanged = 0
    for b in layout.bins:
        old = existing.get(b.code)
        if old is None:
            inserts.append(b)
            continue
        loc_id, active, values = old
        if values != _row(b, zone_ids.get(b.zone)) or not active:
            updates.append((loc_id, b))
        else:
            unchanged += 1
        if not active:
            reactivated += 1
    removed = {
        code: loc_id
        for code, (loc_id, active, _) in existing.items()
        if active and code not in layout
    }

    if removed:
        stocked = [
            {"code": r["code"], "qty": int(r["qty"])}
            for r in w.execute(
                "SELECT l.code AS code, SUM(s.qty) AS qty FROM stock s "
                "JOIN locations l ON l.id = s.location_id "
                "WHERE l.site_id = ? AND s.qty > 0 GROUP BY l.code ORDER BY l.code",
                [site_id],
            )
            if r["code"] in removed
        ]
        if stocked:
            raise AislewayError(
                ErrorCode.LOCATION_HAS_STOCK,
                details={"locations": stocked[:_REPORT_LIMIT], "count": len(stocked)},
            )

    changed = changed or bool(new_zones or inserts or updates or removed)
    summary = LoadSummary(
        site=layout.site,
        changed=changed,
        dry_run=dry_run,
        bins=len(layout.bins),
        added=len(inserts),
        updated=len(updates) - reactivated,
        reactivated=reactivated,
        deactivated=len(removed),
        unchanged=unchanged,
        zones_added=len(new_zones),
        by_type=dict(sorted(Counter(b.type for b in layout.bins).items())),
        by_zone=dict(sorted(Counter(b.zone for b in layout.bins).items())),
    )
    if dry_run or not changed:
        return summary

    if site_id is None:
        cur = w.execute(
            "INSERT INTO sites (code, name, depot_x, depot_y, layout_json, created_at) "
            "VALUES (?,?,?,?,?,?)",
            [layout.site, *site_values, now],
        )
        assert cur.lastrowid is not None
        site_id = cur.lastrowid
    else:
        w.execute(
            "UPDATE sites SET name = ?, depot_x = ?, depot_y = ?, layout_json = ? WHERE id = ?",
            [*site_values, site_id],
        )
    for code in new_zones:
        cur = w.execute(
            "INSERT INTO zones (site_id, code, name) VALUES (?,?,?)",
            [site_id, code, wanted_zones[code]],
        )
        assert cur.lastrowid is not None
        zone_ids[code] = cur.lastrowid

    cols = ", ".join(_COLUMNS)
    marks = ", ".join("?" * len(_COLUMNS))
    w.conn.executemany(
        f"INSERT INTO locations (site_id, code, active, {cols}) VALUES (?, ?, 1, {marks})",
        [(site_id, b.code, *_row(b, zone_ids[b.zone])) for b in inserts],
    )
    sets = ", ".join(f"{c} = ?" for c in _COLUMNS)
    w.conn.executemany(
        f"UPDATE locations SET active = 1, {sets} WHERE id = ?",
        [(*_row(b, zone_ids[b.zone]), loc_id) for loc_id, b in updates],
    )
    w.conn.executemany(
        "UPDATE locations SET active = 0 WHERE id = ?", [(i,) for i in removed.values()]
    )
    return summary


def load_layout(
    db: Database, layout: Layout, *, site: str | None = None, dry_run: bool = False
) -> LoadSummary:
    """Write `layout` (site row, zones, locations) in one write transaction.

    `site`, when given, is the site this server runs: a file for another site is refused.
    Raises LOCATION_HAS_STOCK (nothing changed) if the file drops a bin that holds stock.
    With `dry_run` nothing is written; the summary says what would change.
    """
    with db.write() as w:
        return apply_layout(w, layout, site=site, dry_run=dry_run)


def stored_layout(db: Database, site: str) -> Layout | None:
    """The layout last loaded for `site`, or None."""
    row = db.query_one("SELECT layout_json FROM sites WHERE code = ?", [site])
    if row is None or not row["layout_json"]:
        return None
    return layout_from_json(row["layout_json"])


def stored_layout_info(db: Database, site: str) -> dict[str, Any]:
    """The site's layout summary, location counts and file; LAYOUT_NOT_LOADED if none."""
    layout = stored_layout(db, site)
    if layout is None:
        raise AislewayError(ErrorCode.LAYOUT_NOT_LOADED, details={"site": site})
    counts = db.query_one(
        "SELECT COALESCE(SUM(l.active), 0) AS active, COUNT(*) - COALESCE(SUM(l.active), 0) "
        "AS inactive FROM locations l JOIN sites s ON s.id = l.site_id WHERE s.code = ?",
        [site],
    )
    assert counts is not None
    return {
        "site": site,
        "summary": layout.summary(),
        "locations": {"active": int(counts["active"]), "inactive": int(counts["inactive"])},
        "file": layout.file_dict(),
    }
