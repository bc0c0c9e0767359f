"""Named schema migrations. Each applies once; its record commits with it.

Append new migrations at the end; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from sqlite_utils import Database as SUDatabase
from sqlite_utils.migrations import Migrations

if TYPE_CHECKING:
    from edge_server.db.database import Database

migrations = Migrations("aisleway-edge")

LOCATION_TYPES = (
    "pick_face",
    "reserve",
    "receiving_dock",
    "staging",
    "packing",
    "shipping_dock",
    "returns",
    "quarantine",
)
STOCK_STATUSES = ("available", "quarantine", "damaged")
MOVEMENT_TYPES = (
    "receipt",
    "putaway",
    "move",
    "replenish",
    "pick",
    "adjustment",
    "count",
    "ship",
    "return",
    "disposition",
    "status_change",
)
ROLES = ("picker", "receiver", "counter", "packer", "supervisor", "admin", "integration")


def run_script(db: SUDatabase, sql: str) -> None:
    """Run several statements inside the caller's transaction.

    `executescript()` would COMMIT first and break the migration's atomicity, so statements
    are split with `sqlite3.complete_statement` (which understands trigger bodies).
    """
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            db.execute(buffer)
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement in migration: {buffer!r}")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def apply_migrations(database: Database, which: Migrations | None = None) -> list[str]:
    """Apply what is pending of `which` (default: the edge's set) inside one write
    transaction; return the names applied."""
    chosen = migrations if which is None else which
    with database.write() as w:
        pending = [m.name for m in chosen.pending(w)]
        # Inside our BEGIN IMMEDIATE, sqlite-utils' atomic() nests as savepoints, so each
        # migration and its record commit together with the rest, or not at all.
        chosen.apply(w)
    return pending


# -- the migrations, in the order they apply; append new ones at the END of the file ------
@migrations()
def m001_meta(db: SUDatabase) -> None:
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


@migrations()
def m002_warehouse(db: SUDatabase) -> None:
    run_script(
        db,
        f"""
        CREATE TABLE sites (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL DEFAULT '',
            depot_x REAL NOT NULL DEFAULT 0,
            depot_y REAL NOT NULL DEFAULT 0,
            layout_json TEXT,
            created_at TEXT NOT NULL
        );
        CREATE TABLE zones (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            code TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            UNIQUE (site_id, code)
        );
        CREATE TABLE locations (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            zone_id INTEGER REFERENCES zones(id),
            code TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN {_in(LOCATION_TYPES)}),
            block TEXT,
            aisle INTEGER,
            bay INTEGER,
            level INTEGER,
            side TEXT CHECK (side IS NULL OR side IN ('L', 'R')),
            x REAL NOT NULL DEFAULT 0,
            y REAL NOT NULL DEFAULT 0,
            max_volume_cm3 REAL,
            max_weight_kg REAL,
            max_skus INTEGER,
            temperature_class TEXT NOT NULL DEFAULT 'ambient',
            hazmat_allowed INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 1,
            UNIQUE (site_id, code)
        );
        CREATE INDEX idx_locations_code ON locations(code);
        """,
    )


@migrations()
def m003_items(db: SUDatabase) -> None:
    run_script(
        db,
        """
        CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            sku TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT '',
            uom TEXT NOT NULL DEFAULT 'EA',
            case_qty INTEGER NOT NULL DEFAULT 1 CHECK (case_qty >= 1),
            weight_kg REAL CHECK (weight_kg IS NULL OR weight_kg > 0),
            length_cm REAL CHECK (length_cm IS NULL OR length_cm > 0),
            width_cm REAL CHECK (width_cm IS NULL OR width_cm > 0),
            height_cm REAL CHECK (height_cm IS NULL OR height_cm > 0),
            lot_tracked INTEGER NOT NULL DEFAULT 0,
            expiry_tracked INTEGER NOT NULL DEFAULT 0,
            serial_tracked INTEGER NOT NULL DEFAULT 0,
            velocity TEXT NOT NULL DEFAULT 'C' CHECK (velocity IN ('A', 'B', 'C')),
            owner TEXT NOT NULL DEFAULT '',
            size TEXT NOT NULL DEFAULT '',
            colour TEXT NOT NULL DEFAULT '',
            attributes_json TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE item_gtins (
            gtin TEXT PRIMARY KEY,
            item_id INTEGER NOT NULL REFERENCES items(id),
            uom TEXT NOT NULL DEFAULT 'EA',
            qty INTEGER NOT NULL DEFAULT 1 CHECK (qty >= 1)
        );
        CREATE INDEX idx_item_gtins_item ON item_gtins(item_id);
        CREATE TABLE lots (
            item_id INTEGER NOT NULL REFERENCES items(id),
            lot TEXT NOT NULL,
            expiry TEXT,
            PRIMARY KEY (item_id, lot)
        );
        """,
    )


@migrations()
def m004_ledger(db: SUDatabase) -> None:
    run_script(
        db,
        f"""
        CREATE TABLE stock (
            id INTEGER PRIMARY KEY,
            location_id INTEGER NOT NULL REFERENCES locations(id),
            item_id INTEGER NOT NULL REFERENCES items(id),
            lot TEXT NOT NULL DEFAULT '',
            lpn TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL CHECK (status IN {_in(STOCK_STATUSES)}),
            qty INTEGER NOT NULL CHECK (qty >= 0),
            updated_at TEXT NOT NULL,
            UNIQUE (location_id, item_id, lot, lpn, status)
        );
        CREATE INDEX idx_stock_item ON stock(item_id);
        CREATE INDEX idx_stock_lpn ON stock(lpn) WHERE lpn != '';
        CREATE TABLE movements (
            id INTEGER PRIMARY KEY,
            ts TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN {_in(MOVEMENT_TYPES)}),
            item_id INTEGER NOT NULL REFERENCES items(id),
            lot TEXT NOT NULL DEFAULT '',
            lpn TEXT NOT NULL DEFAULT '',
            qty INTEGER NOT NULL CHECK (qty > 0),
            from_location_id INTEGER REFERENCES locations(id),
            from_status TEXT CHECK (from_status IS NULL OR from_status IN {_in(STOCK_STATUSES)}),
            to_location_id INTEGER REFERENCES locations(id),
            to_status TEXT CHECK (to_status IS NULL OR to_status IN {_in(STOCK_STATUSES)}),
            to_lpn TEXT,
            reason TEXT NOT NULL DEFAULT '',
            ref TEXT NOT NULL DEFAULT '',
            user_id INTEGER,
            device_id INTEGER,
            CHECK (from_location_id IS NOT NULL OR to_location_id IS NOT NULL),
            CHECK ((from_location_id IS NULL) = (from_status IS NULL)),
            CHECK ((to_location_id IS NULL) = (to_status IS NULL))
        );
        CREATE INDEX idx_movements_from ON movements(from_location_id, item_id);
        CREATE INDEX idx_movements_to ON movements(to_location_id, item_id);
        CREATE INDEX idx_movements_ts ON movements(ts);
        -- The ledger is append-only: a movement is never edited or removed.
        CREATE TRIGGER movements_no_update BEFORE UPDATE ON movements
            BEGIN SELECT RAISE(ABORT, 'movements are append-only'); END;
        CREATE TRIGGER movements_no_delete BEFORE DELETE ON movements
            BEGIN SELECT RAISE(ABORT, 'movements are append-only'); END;
        """,
    )


@migrations()
def m005_access(db: SUDatabase) -> None:
    run_script(
        db,
        f"""
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            badge TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL CHECK (role IN {_in(ROLES)}),
            pin_hash TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            failed_attempts INTEGER NOT NULL DEFAULT 0,
            locked_until TEXT,
            created_at TEXT NOT NULL
        );
        CREATE TABLE devices (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '',
            secret_hash TEXT NOT NULL UNIQUE,
            paired_at TEXT NOT NULL,
            paired_by INTEGER REFERENCES users(id),
            last_seen_at TEXT,
            revoked_at TEXT
        );
        CREATE TABLE pairing_codes (
            id INTEGER PRIMARY KEY,
            code_hash TEXT NOT NULL UNIQUE,
            created_by INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT,
            device_id INTEGER REFERENCES devices(id)
        );
        CREATE TABLE api_keys (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            prefix TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL DEFAULT 'integration' CHECK (role IN {_in(ROLES)}),
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        """,
    )


@migrations()
def m006_integration(db: SUDatabase) -> None:
    run_script(
        db,
        """
        CREATE TABLE idempotency (
            principal TEXT NOT NULL,
            key TEXT NOT NULL,
            method TEXT NOT NULL,
            path TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            status_code INTEGER NOT NULL,
            response_json TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (principal, key)
        );
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            event_id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            payload_json TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE webhook_subscribers (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL,
            secret TEXT NOT NULL,
            event_types_json TEXT NOT NULL DEFAULT '["*"]',
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL
        );
        CREATE TABLE webhook_deliveries (
            id INTEGER PRIMARY KEY,
            outbox_id INTEGER NOT NULL REFERENCES outbox(id),
            subscriber_id INTEGER NOT NULL REFERENCES webhook_subscribers(id),
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'delivered', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_status_code INTEGER,
            last_error TEXT,
            delivered_at TEXT,
            UNIQUE (outbox_id, subscriber_id)
        );
        CREATE INDEX idx_deliveries_due ON webhook_deliveries(status, next_attempt_at);
        """,
    )


@migrations()
def m007_webhook_relay(db: SUDatabase) -> None:
    run_script(
        db,
        """
        ALTER TABLE webhook_subscribers ADD COLUMN description TEXT NOT NULL DEFAULT '';
        ALTER TABLE webhook_subscribers ADD COLUMN deactivated_at TEXT;
        -- During a secret rotation deliveries are signed with both secrets until this time.
        ALTER TABLE webhook_subscribers ADD COLUMN previous_secret TEXT;
        ALTER TABLE webhook_subscribers ADD COLUMN previous_secret_until TEXT;
        ALTER TABLE webhook_deliveries ADD COLUMN last_attempt_at TEXT;
        -- The relay walks each subscriber's pending deliveries in event order.
        CREATE INDEX idx_deliveries_queue
            ON webhook_deliveries(status, subscriber_id, outbox_id);
        """,
    )


@migrations()
def m010_purchase_orders(db: SUDatabase) -> None:
    run_script(
        db,
        """
        CREATE TABLE purchase_orders (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            number TEXT NOT NULL,
            supplier TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'receiving', 'closed', 'cancelled')),
            due_date TEXT,
            blind INTEGER,  -- NULL: the site's default; 0/1: this PO's choice
            notes TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            closed_at TEXT,
            UNIQUE (site_id, number)
        );
        CREATE TABLE po_lines (
            id INTEGER PRIMARY KEY,
            po_id INTEGER NOT NULL REFERENCES purchase_orders(id),
            line_no INTEGER NOT NULL CHECK (line_no >= 1),
            item_id INTEGER NOT NULL REFERENCES items(id),
            uom TEXT NOT NULL DEFAULT 'EA' CHECK (uom IN ('EA', 'CS')),
            qty_ordered INTEGER NOT NULL CHECK (qty_ordered > 0),  -- in `uom`
            units_per_uom INTEGER NOT NULL DEFAULT 1 CHECK (units_per_uom >= 1),
            qty_expected INTEGER NOT NULL CHECK (qty_expected > 0),  -- in eaches
            expected_lots_json TEXT NOT NULL DEFAULT '[]',
            qty_received INTEGER NOT NULL DEFAULT 0 CHECK (qty_received >= 0),  -- eaches
            status TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'partial', 'complete', 'over', 'short', 'cancelled')),
            UNIQUE (po_id, line_no)
        );
        CREATE INDEX idx_po_lines_item ON po_lines(item_id);
        CREATE TABLE asns (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            number TEXT NOT NULL,
            po_id INTEGER REFERENCES purchase_orders(id),
            supplier TEXT NOT NULL DEFAULT '',
            expected_at TEXT,
            status TEXT NOT NULL DEFAULT 'expected'
                CHECK (status IN ('expected', 'receiving', 'received', 'cancelled')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (site_id, number)
        );
        CREATE TABLE asn_lines (
            id INTEGER PRIMARY KEY,
            asn_id INTEGER NOT NULL REFERENCES asns(id),
            line_no INTEGER NOT NULL CHECK (line_no >= 1),
            po_line_id INTEGER REFERENCES po_lines(id),
            item_id INTEGER NOT NULL REFERENCES items(id),
            qty INTEGER NOT NULL CHECK (qty > 0),  -- eaches
            lot TEXT NOT NULL DEFAULT '',
            expiry TEXT,
            sscc TEXT,  -- the pallet or case this line travels on (GS1 AI 00)
            received_at TEXT,
            UNIQUE (asn_id, line_no)
        );
        CREATE INDEX idx_asn_lines_sscc ON asn_lines(sscc) WHERE sscc IS NOT NULL;
        """,
    )


@migrations()
def m030_printing(db: SUDatabase) -> None:
    run_script(
        db,
        """
        -- Label printers on the site's LAN: raw TCP (port 9100), ZPL. `site` is the site code
        -- (no FK: printers may be set up before a layout is loaded).
        CREATE TABLE printers (
            id INTEGER PRIMARY KEY,
            site TEXT NOT NULL,
            name TEXT NOT NULL,
            host TEXT NOT NULL,
            port INTEGER NOT NULL DEFAULT 9100 CHECK (port BETWEEN 1 AND 65535),
            kind TEXT NOT NULL DEFAULT 'zpl' CHECK (kind IN ('zpl')),
            description TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (site, name)
        );
        -- One row per label sent (or to be sent): kept until sent, retried with backoff.
        CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY,
            printer_id INTEGER NOT NULL REFERENCES printers(id),
            label TEXT NOT NULL,  -- 'lpn' | 'bin': what was printed, for people reading lists
            ref TEXT NOT NULL DEFAULT '',  -- the LPN, SSCC or bin code
            zpl TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'sent', 'failed', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            last_attempt_at TEXT,
            sent_at TEXT
        );
        CREATE INDEX idx_print_jobs_due ON print_jobs(status, next_attempt_at);
        CREATE INDEX idx_print_jobs_printer ON print_jobs(printer_id, status);
        """,
    )


@migrations()
def m040_putaway_replenishment(db: SUDatabase) -> None:
    run_script(
        db,
        f"""
        -- Storage rules an item brings to slotting (see docs/putaway.md).
        ALTER TABLE items ADD COLUMN temperature_class TEXT NOT NULL DEFAULT 'ambient';
        ALTER TABLE items ADD COLUMN hazmat INTEGER NOT NULL DEFAULT 0;
        -- Directed moves a worker confirms by scanning the bin: putaway from a dock, and
        -- replenishment of a pick face from reserve. An open task reserves `qty` of room in
        -- `to_location_id` (and, for replenishment, of stock in the source) until it closes.
        CREATE TABLE stock_tasks (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            kind TEXT NOT NULL CHECK (kind IN ('putaway', 'replenish')),
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
            item_id INTEGER NOT NULL REFERENCES items(id),
            lot TEXT NOT NULL DEFAULT '',
            lpn TEXT NOT NULL DEFAULT '',
            stock_status TEXT NOT NULL DEFAULT 'available'
                CHECK (stock_status IN {_in(STOCK_STATUSES)}),
            qty INTEGER NOT NULL CHECK (qty > 0),
            from_location_id INTEGER NOT NULL REFERENCES locations(id),
            to_location_id INTEGER REFERENCES locations(id),  -- the suggestion; NULL: none fits
            reason TEXT NOT NULL DEFAULT '',  -- why that bin, in words
            alternates_json TEXT NOT NULL DEFAULT '[]',
            excluded_json TEXT NOT NULL DEFAULT '[]',  -- bins reported full for this task
            ref TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            created_by INTEGER,
            confirmed_location_id INTEGER REFERENCES locations(id),
            override_reason TEXT,  -- set when the worker chose another bin than suggested
            confirmed_at TEXT,
            confirmed_by INTEGER,
            device_id INTEGER,
            movement_id INTEGER REFERENCES movements(id)
        );
        CREATE INDEX idx_stock_tasks_open ON stock_tasks(site_id, kind, status);
        CREATE INDEX idx_stock_tasks_to ON stock_tasks(to_location_id) WHERE status = 'open';
        CREATE INDEX idx_stock_tasks_from ON stock_tasks(from_location_id, item_id)
            WHERE status = 'open';
        CREATE INDEX idx_stock_tasks_done ON stock_tasks(kind, confirmed_at)
            WHERE status = 'done';
        CREATE TABLE replenishment_rules (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            location_id INTEGER NOT NULL REFERENCES locations(id),
            item_id INTEGER NOT NULL REFERENCES items(id),
            min_qty INTEGER NOT NULL CHECK (min_qty >= 0),
            max_qty INTEGER NOT NULL CHECK (max_qty > min_qty),
            updated_at TEXT NOT NULL,
            UNIQUE (location_id, item_id)
        );
        -- Opportunistic counts asked for by other workflows; the counting module turns them
        -- into count tasks (requested_by: 'putaway', reason: 'nth_putaway' or 'bin_full').
        CREATE TABLE count_requests (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            location_id INTEGER NOT NULL REFERENCES locations(id),
            item_id INTEGER REFERENCES items(id),
            requested_by TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            ref TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'taken', 'cancelled')),
            created_at TEXT NOT NULL
        );
        CREATE INDEX idx_count_requests_open ON count_requests(site_id, status);
        """,
    )


@migrations()
def m020_receiving(db: SUDatabase) -> None:
    run_script(
        db,
        f"""
        -- One receiver working one PO (or ASN) at one dock door; see docs/scenarios/receiving.md.
        CREATE TABLE receiving_sessions (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            po_id INTEGER NOT NULL REFERENCES purchase_orders(id),
            asn_id INTEGER REFERENCES asns(id),
            dock_location_id INTEGER NOT NULL REFERENCES locations(id),
            blind INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
            state TEXT NOT NULL DEFAULT 'scan_item',
            pending_json TEXT,  -- what is being received right now (scan, qty, lot, lpn)
            user_id INTEGER REFERENCES users(id),
            device_id INTEGER,
            started_at TEXT NOT NULL,
            closed_at TEXT,
            closed_by INTEGER REFERENCES users(id),
            summary_json TEXT
        );
        CREATE INDEX idx_receiving_sessions_po ON receiving_sessions(po_id, status);
        -- Supervisor approvals of an over-receipt or an unexpected item.
        CREATE TABLE receiving_overrides (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES receiving_sessions(id),
            reasons TEXT NOT NULL,  -- comma-separated: over, unexpected
            details_json TEXT NOT NULL DEFAULT '{{}}',
            approved_by INTEGER NOT NULL REFERENCES users(id),
            method TEXT NOT NULL CHECK (method IN ('badge_pin', 'supervisor')),
            note TEXT NOT NULL DEFAULT '',
            approved_at TEXT NOT NULL
        );
        -- One posted receipt: one item and lot onto one LPN in the dock.
        CREATE TABLE receipt_lines (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES receiving_sessions(id),
            po_line_id INTEGER REFERENCES po_lines(id),  -- NULL: not on the PO (unexpected)
            asn_line_id INTEGER REFERENCES asn_lines(id),
            item_id INTEGER NOT NULL REFERENCES items(id),
            qty INTEGER NOT NULL CHECK (qty > 0),  -- eaches
            lot TEXT NOT NULL DEFAULT '',
            expiry TEXT,
            lpn TEXT NOT NULL,
            sscc TEXT,
            stock_status TEXT NOT NULL CHECK (stock_status IN {_in(STOCK_STATUSES)}),
            reasons TEXT NOT NULL DEFAULT '',  -- comma-separated discrepancy reasons; '' clean
            corrected INTEGER NOT NULL DEFAULT 0,  -- qty or lot re-entered before posting
            override_id INTEGER REFERENCES receiving_overrides(id),
            movement_id INTEGER NOT NULL REFERENCES movements(id),
            user_id INTEGER,
            device_id INTEGER,
            received_at TEXT NOT NULL
        );
        CREATE INDEX idx_receipt_lines_session ON receipt_lines(session_id);
        CREATE INDEX idx_receipt_lines_day ON receipt_lines(received_at, user_id);
        -- Every discrepancy, one row per reason: on a receipt line, or a PO line closed short.
        CREATE TABLE receiving_discrepancies (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES receiving_sessions(id),
            receipt_line_id INTEGER REFERENCES receipt_lines(id),
            po_line_id INTEGER REFERENCES po_lines(id),
            item_id INTEGER NOT NULL REFERENCES items(id),
            reason TEXT NOT NULL
                CHECK (reason IN ('over', 'unexpected', 'short', 'damaged', 'lot_mismatch')),
            qty INTEGER NOT NULL DEFAULT 0,  -- units concerned (over by, short by, damaged)
            details_json TEXT NOT NULL DEFAULT '{{}}',
            user_id INTEGER,
            created_at TEXT NOT NULL
        );
        CREATE INDEX idx_receiving_discrepancies_day ON receiving_discrepancies(created_at);
        """,
    )


@migrations()
def m050_fulfillment_orders(db: SUDatabase) -> None:
    run_script(
        db,
        """
        -- Outbound orders sent by the OMS (PUT by number), their lines, and the stock reserved
        -- for each line. See docs/outbound.md.
        CREATE TABLE fulfillment_orders (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            number TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'allocated',
                'backordered', 'picking', 'packed', 'shipped', 'cancelled')),
            ship_to_json TEXT NOT NULL,
            carrier_service TEXT NOT NULL,
            priority INTEGER NOT NULL DEFAULT 0,
            promised_ship_date TEXT,
            owner TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            cancelled_at TEXT,
            UNIQUE (site_id, number)
        );
        CREATE INDEX idx_fulfillment_orders_status ON fulfillment_orders(site_id, status);
        CREATE TABLE fo_lines (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES fulfillment_orders(id),
            line_no INTEGER NOT NULL,
            item_id INTEGER NOT NULL REFERENCES items(id),
            qty_ordered INTEGER NOT NULL CHECK (qty_ordered > 0),  -- eaches
            qty_short INTEGER NOT NULL DEFAULT 0 CHECK (qty_short >= 0),
            status TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'allocated', 'short', 'cancelled')),
            UNIQUE (order_id, line_no)
        );
        -- Stock reserved for an order line: one stock key (always status 'available').
        CREATE TABLE allocations (
            id INTEGER PRIMARY KEY,
            order_line_id INTEGER NOT NULL REFERENCES fo_lines(id),
            location_id INTEGER NOT NULL REFERENCES locations(id),
            item_id INTEGER NOT NULL REFERENCES items(id),
            lot TEXT NOT NULL DEFAULT '',
            lpn TEXT NOT NULL DEFAULT '',
            qty INTEGER NOT NULL CHECK (qty > 0),
            created_at TEXT NOT NULL
        );
        CREATE INDEX idx_allocations_line ON allocations(order_line_id);
        CREATE INDEX idx_allocations_key ON allocations(location_id, item_id, lot, lpn);
        -- Last line of defence: never reserve more than the stock key holds.
        CREATE TRIGGER allocations_within_stock BEFORE INSERT ON allocations
        WHEN NEW.qty + (SELECT COALESCE(SUM(a.qty), 0) FROM allocations a
                        WHERE a.location_id = NEW.location_id AND a.item_id = NEW.item_id
                          AND a.lot = NEW.lot AND a.lpn = NEW.lpn)
             > (SELECT COALESCE(SUM(st.qty), 0) FROM stock st
                WHERE st.location_id = NEW.location_id AND st.item_id = NEW.item_id
                  AND st.lot = NEW.lot AND st.lpn = NEW.lpn AND st.status = 'available')
        BEGIN SELECT RAISE(ABORT, 'allocation exceeds stock on hand'); END;
        """,
    )


@migrations()
def m060_waves_picking(db: SUDatabase) -> None:
    run_script(
        db,
        """
        -- Carrier services the site ships with: the daily cutoff in site-local time and the
        -- rate card (zone x weight) the carrier adapter prices and labels with.
        CREATE TABLE carrier_services (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            code TEXT NOT NULL,  -- what fulfillment orders name in carrier_service
            carrier TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            cutoff_local TEXT NOT NULL,  -- 'HH:MM', site-local (settings.site_timezone)
            ship_days TEXT NOT NULL DEFAULT '12345',  -- ISO weekdays with a carrier pickup
            rate_card_json TEXT NOT NULL DEFAULT '{}',
            active INTEGER NOT NULL DEFAULT 1,
            updated_at TEXT NOT NULL,
            UNIQUE (site_id, code)
        );
        -- A wave: orders for one carrier service and cutoff, released together.
        CREATE TABLE waves (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            number TEXT NOT NULL,
            carrier_service TEXT NOT NULL,
            cutoff_at TEXT NOT NULL,  -- UTC ISO
            release_at TEXT NOT NULL,  -- UTC ISO: cutoff minus the release lead time
            status TEXT NOT NULL DEFAULT 'planned'
                CHECK (status IN ('planned', 'released', 'done', 'cancelled')),
            release_mode TEXT CHECK (release_mode IS NULL OR release_mode IN
                ('supervisor', 'auto')),
            released_at TEXT,
            released_by INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL,
            UNIQUE (site_id, number)
        );
        CREATE INDEX idx_waves_status ON waves(site_id, status, release_at);
        ALTER TABLE fulfillment_orders ADD COLUMN wave_id INTEGER REFERENCES waves(id);
        CREATE INDEX idx_fulfillment_orders_wave ON fulfillment_orders(wave_id);
        -- A picker's trip: one order (discrete), several orders on one cart (batch, one tote
        -- per cart position), or one zone's share of several orders (zone).
        CREATE TABLE pick_tasks (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            wave_id INTEGER REFERENCES waves(id),
            strategy TEXT NOT NULL CHECK (strategy IN ('discrete', 'batch', 'zone')),
            zone TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
            state TEXT NOT NULL DEFAULT '',  -- the picking scenario's state, for resume
            current_line_id INTEGER,
            pending_json TEXT NOT NULL DEFAULT '{}',
            assigned_to INTEGER REFERENCES users(id),
            device_id INTEGER,
            drop_location_id INTEGER REFERENCES locations(id),  -- where picked totes go
            route_length_m REAL,
            route_method TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT
        );
        CREATE INDEX idx_pick_tasks_status ON pick_tasks(site_id, status);
        CREATE INDEX idx_pick_tasks_wave ON pick_tasks(wave_id);
        -- The orders a task picks for, each at a cart position with the tote bound to it.
        CREATE TABLE pick_task_orders (
            task_id INTEGER NOT NULL REFERENCES pick_tasks(id),
            order_id INTEGER NOT NULL REFERENCES fulfillment_orders(id),
            position INTEGER NOT NULL CHECK (position >= 1),
            tote TEXT,
            PRIMARY KEY (task_id, order_id),
            UNIQUE (task_id, position)
        );
        CREATE INDEX idx_pick_task_orders_order ON pick_task_orders(order_id);
        -- One stop of a task: take qty of a stock key for an order line, in route order.
        CREATE TABLE pick_lines (
            id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL REFERENCES pick_tasks(id),
            seq INTEGER NOT NULL,
            order_line_id INTEGER NOT NULL REFERENCES fo_lines(id),
            location_id INTEGER NOT NULL REFERENCES locations(id),
            item_id INTEGER NOT NULL REFERENCES items(id),
            lot TEXT NOT NULL DEFAULT '',
            lpn TEXT NOT NULL DEFAULT '',
            qty INTEGER NOT NULL CHECK (qty > 0),
            qty_picked INTEGER NOT NULL DEFAULT 0 CHECK (qty_picked >= 0),
            qty_short INTEGER NOT NULL DEFAULT 0 CHECK (qty_short >= 0),
            status TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'picked', 'short', 'cancelled')),
            tote TEXT,
            picked_at TEXT,
            picked_by INTEGER REFERENCES users(id),
            CHECK (qty_picked + qty_short <= qty)
        );
        CREATE INDEX idx_pick_lines_task ON pick_lines(task_id, seq);
        CREATE INDEX idx_pick_lines_order_line ON pick_lines(order_line_id);
        -- What happened at each stop, for pick accuracy and labor: good picks, shorts and
        -- every refused scan (recorded even though the refused command changed nothing).
        CREATE TABLE pick_events (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            task_id INTEGER REFERENCES pick_tasks(id),
            pick_line_id INTEGER REFERENCES pick_lines(id),
            kind TEXT NOT NULL CHECK (kind IN ('picked', 'short', 'substitute', 'wrong_bin',
                'wrong_item', 'wrong_lot', 'wrong_tote', 'over_pick')),
            qty INTEGER NOT NULL DEFAULT 0,
            detail_json TEXT NOT NULL DEFAULT '{}',
            user_id INTEGER REFERENCES users(id),
            device_id INTEGER,
            created_at TEXT NOT NULL
        );
        CREATE INDEX idx_pick_events_kind ON pick_events(site_id, kind, created_at);
        -- Allocated stock stays where it is: no movement may take a stock key below what
        -- orders have reserved on it (picking releases the allocation before it moves).
        CREATE TRIGGER stock_keeps_allocations BEFORE UPDATE OF qty ON stock
        WHEN NEW.qty < OLD.qty AND NEW.status = 'available'
             AND NEW.qty < (SELECT COALESCE(SUM(a.qty), 0) FROM allocations a
                            WHERE a.location_id = NEW.location_id AND a.item_id = NEW.item_id
                              AND a.lot = NEW.lot AND a.lpn = NEW.lpn)
        BEGIN SELECT RAISE(ABORT, 'stock is allocated to orders'); END;
        """,
    )


# == appended by parallel work: keep each range in its own section, add at its end ===========
# -- m061..m064: waves and pick strategies ---------------------------------------------------
@migrations()
def m061_wave_order_decisions(db: SUDatabase) -> None:
    run_script(
        db,
        """
        -- Why each order of a released wave was picked the way it was (docs/waves.md).
        CREATE TABLE wave_order_decisions (
            wave_id INTEGER NOT NULL REFERENCES waves(id),
            order_id INTEGER NOT NULL REFERENCES fulfillment_orders(id),
            strategy TEXT NOT NULL CHECK (strategy IN ('discrete', 'batch', 'zone')),
            rule TEXT NOT NULL,
            reason TEXT NOT NULL,
            PRIMARY KEY (wave_id, order_id)
        );
        CREATE INDEX idx_wave_order_decisions_order ON wave_order_decisions(order_id);
        """,
    )


# -- end m061..m064 ---------------------------------------------------------------------------
# -- m065..m069: pick tasks and the picking scenario -----------------------------------------
@migrations()
def m065_picking_totes(db: SUDatabase) -> None:
    run_script(
        db,
        """
        -- Binding a tote checks it is in no other open task and holds no other order's goods.
        CREATE INDEX idx_pick_task_orders_tote ON pick_task_orders(tote) WHERE tote IS NOT NULL;
        CREATE INDEX idx_pick_lines_tote ON pick_lines(tote) WHERE tote IS NOT NULL;
        """,
    )


# -- end m065..m069 ---------------------------------------------------------------------------
# -- m070..m074: carriers, rate cards, shipping labels ---------------------------------------
@migrations()
def m070_tracking_numbers(db: SUDatabase) -> None:
    run_script(
        db,
        """
        -- One tracking-number sequence per carrier service (docs/shipping.md#tracking-numbers).
        -- It only ever rises, so a number issued by a committed label is never issued again.
        CREATE TABLE tracking_sequences (
            service_id INTEGER PRIMARY KEY REFERENCES carrier_services(id),
            last_seq INTEGER NOT NULL CHECK (last_seq >= 1)
        );
        CREATE TRIGGER tracking_sequences_only_rise BEFORE UPDATE OF last_seq
        ON tracking_sequences WHEN NEW.last_seq <= OLD.last_seq
        BEGIN SELECT RAISE(ABORT, 'tracking sequences never go back'); END;
        CREATE TRIGGER tracking_sequences_kept BEFORE DELETE ON tracking_sequences
        BEGIN SELECT RAISE(ABORT, 'tracking sequences are never deleted'); END;
        -- Every tracking number issued, with the carton it labels and what it cost.
        CREATE TABLE tracking_numbers (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            service_id INTEGER NOT NULL REFERENCES carrier_services(id),
            seq INTEGER NOT NULL,
            tracking TEXT NOT NULL UNIQUE,
            order_number TEXT NOT NULL,
            sscc TEXT NOT NULL,
            carton_no INTEGER NOT NULL,
            weight_kg REAL NOT NULL,
            zone TEXT NOT NULL,
            price TEXT NOT NULL,  -- decimal string, in `currency`
            currency TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (service_id, seq)
        );
        CREATE INDEX idx_tracking_numbers_sscc ON tracking_numbers(sscc);
        CREATE INDEX idx_tracking_numbers_order ON tracking_numbers(site_id, order_number);
        CREATE TRIGGER tracking_numbers_kept BEFORE DELETE ON tracking_numbers
        BEGIN SELECT RAISE(ABORT, 'issued tracking numbers are never deleted'); END;
        """,
    )


# -- end m070..m074 ---------------------------------------------------------------------------
# -- m075..m079: packing and shipping --------------------------------------------------------
@migrations()
def m075_packing_shipping(db: SUDatabase) -> None:
    run_script(
        db,
        """
        -- Cartons a packer may choose at a site (docs/packing.md#carton-types).
        CREATE TABLE carton_types (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            code TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            length_cm REAL CHECK (length_cm IS NULL OR length_cm > 0),
            width_cm REAL CHECK (width_cm IS NULL OR width_cm > 0),
            height_cm REAL CHECK (height_cm IS NULL OR height_cm > 0),
            tare_kg REAL NOT NULL DEFAULT 0 CHECK (tare_kg >= 0),
            max_weight_kg REAL NOT NULL CHECK (max_weight_kg > 0),
            active INTEGER NOT NULL DEFAULT 1,
            updated_at TEXT NOT NULL,
            UNIQUE (site_id, code)
        );
        -- One packer packing one order at one packing station; see docs/scenarios/packing.md.
        CREATE TABLE pack_sessions (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            order_id INTEGER NOT NULL REFERENCES fulfillment_orders(id),
            station_location_id INTEGER NOT NULL REFERENCES locations(id),
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
            state TEXT NOT NULL DEFAULT 'scan_item',
            totes_json TEXT NOT NULL DEFAULT '[]',  -- totes scanned at the station
            user_id INTEGER REFERENCES users(id),
            device_id INTEGER,
            started_at TEXT NOT NULL,
            finished_at TEXT
        );
        CREATE INDEX idx_pack_sessions_order ON pack_sessions(order_id, status);
        -- A carton of an order: `open` while items are verified into it, `sealed` with its
        -- SSCC (the LPN its stock lies under), label and tracking, `shipped` at ship confirm.
        CREATE TABLE cartons (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            order_id INTEGER NOT NULL REFERENCES fulfillment_orders(id),
            session_id INTEGER NOT NULL REFERENCES pack_sessions(id),
            carton_no INTEGER NOT NULL CHECK (carton_no >= 1),
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'sealed', 'shipped')),
            carton_type TEXT,
            weight_kg REAL CHECK (weight_kg IS NULL OR weight_kg > 0),
            sscc TEXT UNIQUE,
            location_id INTEGER REFERENCES locations(id),
            carrier_service TEXT,
            carrier TEXT,
            tracking TEXT,
            price TEXT,
            currency TEXT,
            label_zpl TEXT,
            print_job_id INTEGER,
            created_at TEXT NOT NULL,
            sealed_at TEXT,
            sealed_by INTEGER REFERENCES users(id),
            shipped_at TEXT,
            CHECK (status = 'open' OR (sscc IS NOT NULL AND tracking IS NOT NULL)),
            UNIQUE (order_id, carton_no)
        );
        CREATE INDEX idx_cartons_order ON cartons(order_id, status);
        -- What was verified into a carton: from which tote, for which order line.
        CREATE TABLE carton_lines (
            id INTEGER PRIMARY KEY,
            carton_id INTEGER NOT NULL REFERENCES cartons(id),
            order_line_id INTEGER NOT NULL REFERENCES fo_lines(id),
            item_id INTEGER NOT NULL REFERENCES items(id),
            lot TEXT NOT NULL DEFAULT '',
            tote TEXT NOT NULL,
            from_location_id INTEGER NOT NULL REFERENCES locations(id),
            qty INTEGER NOT NULL CHECK (qty > 0),
            UNIQUE (carton_id, order_line_id, item_id, lot, tote, from_location_id)
        );
        CREATE INDEX idx_carton_lines_carton ON carton_lines(carton_id);
        -- Packing's share of pick accuracy: verified scans and every refused one (recorded
        -- after the refused command rolled back; `idem` keeps a replayed refusal to one row).
        CREATE TABLE pack_events (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            session_id INTEGER REFERENCES pack_sessions(id),
            order_id INTEGER REFERENCES fulfillment_orders(id),
            kind TEXT NOT NULL CHECK (kind IN ('verified', 'not_in_order', 'over_scanned',
                'sealed')),
            sku TEXT NOT NULL DEFAULT '',
            lot TEXT NOT NULL DEFAULT '',
            qty INTEGER NOT NULL DEFAULT 0,
            detail_json TEXT NOT NULL DEFAULT '{}',
            user_id INTEGER REFERENCES users(id),
            device_id INTEGER,
            idem TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX idx_pack_events_kind ON pack_events(site_id, kind, created_at);
        CREATE UNIQUE INDEX idx_pack_events_idem ON pack_events(idem) WHERE idem IS NOT NULL;
        -- One confirmed shipment per order, with the event sent to the OMS.
        CREATE TABLE shipments (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            order_id INTEGER NOT NULL UNIQUE REFERENCES fulfillment_orders(id),
            carrier_service TEXT NOT NULL,
            cartons INTEGER NOT NULL,
            units INTEGER NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            payload_json TEXT NOT NULL,
            shipped_at TEXT NOT NULL,
            shipped_by INTEGER REFERENCES users(id)
        );
        CREATE INDEX idx_shipments_day ON shipments(site_id, shipped_at);
        -- Wrong items that left with a shipment, reported later (through returns).
        CREATE TABLE wrong_shipments (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            shipment_id INTEGER NOT NULL REFERENCES shipments(id),
            item_id INTEGER NOT NULL REFERENCES items(id),
            qty INTEGER NOT NULL CHECK (qty > 0),
            note TEXT NOT NULL DEFAULT '',
            reported_by TEXT NOT NULL DEFAULT '',  -- principal id (user:N, key:N)
            reported_at TEXT NOT NULL
        );
        CREATE INDEX idx_wrong_shipments_day ON wrong_shipments(site_id, reported_at);
        -- Serial references of the SSCCs this site gives its cartons.
        CREATE TABLE sscc_serials (
            site_id INTEGER PRIMARY KEY REFERENCES sites(id),
            last_serial INTEGER NOT NULL DEFAULT 0
        );
        """,
    )


# -- end m075..m079 ---------------------------------------------------------------------------
# -- m080..m084: handheld reports (queue health, refused replays) -----------------------------
@migrations()
def m080_terminal_reports(db: SUDatabase) -> None:
    run_script(
        db,
        """
        -- A command a handheld queued offline and the edge refused when it was replayed: kept
        -- for supervisors until acknowledged. One row per device and command key.
        CREATE TABLE terminal_rejections (
            id INTEGER PRIMARY KEY,
            device_id INTEGER NOT NULL REFERENCES devices(id),
            command_key TEXT NOT NULL,
            seq INTEGER NOT NULL,
            workflow TEXT NOT NULL DEFAULT '',
            method TEXT NOT NULL,
            path TEXT NOT NULL,
            body_json TEXT NOT NULL,
            code TEXT NOT NULL,
            text TEXT NOT NULL,
            details_json TEXT NOT NULL DEFAULT '{}',
            http_status INTEGER,
            scanned_at TEXT NOT NULL,
            scanned_by INTEGER REFERENCES users(id),
            reported_by INTEGER REFERENCES users(id),
            reported_at TEXT NOT NULL,
            acknowledged_at TEXT,
            acknowledged_by INTEGER REFERENCES users(id),
            note TEXT NOT NULL DEFAULT '',
            UNIQUE (device_id, command_key)
        );
        CREATE INDEX idx_terminal_rejections_open
            ON terminal_rejections(acknowledged_at, reported_at);
        -- The last heartbeat of each handheld: who, queue depth, app version.
        CREATE TABLE terminal_heartbeats (
            device_id INTEGER PRIMARY KEY REFERENCES devices(id),
            user_id INTEGER REFERENCES users(id),
            pending INTEGER NOT NULL,
            rejected INTEGER NOT NULL,
            app_version TEXT NOT NULL DEFAULT '',
            seen_at TEXT NOT NULL
        );
        """,
    )


# -- end m080..m084 ---------------------------------------------------------------------------
# -- m085..m089: returns ----------------------------------------------------------------------
@migrations()
def m085_returns(db: SUDatabase) -> None:
    run_script(
        db,
        f"""
        -- Expected returns (RMAs) the OMS sends (PUT by number); see docs/returns.md.
        CREATE TABLE returns (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            rma TEXT NOT NULL,
            order_id INTEGER REFERENCES fulfillment_orders(id),
            customer TEXT NOT NULL,
            tracking TEXT,  -- the prepaid return label's tracking number
            carrier TEXT,
            status TEXT NOT NULL DEFAULT 'expected'
                CHECK (status IN ('expected', 'receiving', 'closed', 'cancelled')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            closed_at TEXT,
            closed_by INTEGER REFERENCES users(id),
            UNIQUE (site_id, rma)
        );
        CREATE INDEX idx_returns_tracking ON returns(site_id, tracking) WHERE tracking IS NOT NULL;
        CREATE INDEX idx_returns_status ON returns(site_id, status);
        CREATE TABLE return_lines (
            id INTEGER PRIMARY KEY,
            return_id INTEGER NOT NULL REFERENCES returns(id),
            line_no INTEGER NOT NULL,
            item_id INTEGER NOT NULL REFERENCES items(id),
            qty_expected INTEGER NOT NULL CHECK (qty_expected > 0),
            qty_received INTEGER NOT NULL DEFAULT 0 CHECK (qty_received >= 0),
            reason TEXT NOT NULL
                CHECK (reason IN ('damaged', 'wrong_item', 'not_wanted', 'defective')),
            UNIQUE (return_id, line_no),
            CHECK (qty_received <= qty_expected)
        );
        -- One receiver taking one RMA in at one returns area; docs/scenarios/returns.md.
        CREATE TABLE return_sessions (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            return_id INTEGER NOT NULL REFERENCES returns(id),
            location_id INTEGER NOT NULL REFERENCES locations(id),
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
            state TEXT NOT NULL DEFAULT 'scan_item',
            pending_json TEXT,  -- what is being received right now (item, qty, lot)
            user_id INTEGER REFERENCES users(id),
            device_id INTEGER,
            started_at TEXT NOT NULL,
            closed_at TEXT
        );
        CREATE INDEX idx_return_sessions_return ON return_sessions(return_id, status);
        -- Each posting: units of one item and lot, their grading and what the rules decided.
        CREATE TABLE return_receipts (
            id INTEGER PRIMARY KEY,
            return_id INTEGER NOT NULL REFERENCES returns(id),
            line_id INTEGER NOT NULL REFERENCES return_lines(id),
            session_id INTEGER REFERENCES return_sessions(id),
            item_id INTEGER NOT NULL REFERENCES items(id),
            lot TEXT NOT NULL DEFAULT '',
            qty INTEGER NOT NULL CHECK (qty > 0),
            condition TEXT NOT NULL CHECK (condition IN ('new', 'opened', 'damaged')),
            disposition TEXT NOT NULL
                CHECK (disposition IN ('restock', 'refurbish', 'quarantine', 'scrap')),
            sellable_qty INTEGER NOT NULL DEFAULT 0,
            location_id INTEGER NOT NULL REFERENCES locations(id),
            stock_status TEXT NOT NULL CHECK (stock_status IN {_in(STOCK_STATUSES)}),
            movement_id INTEGER NOT NULL REFERENCES movements(id),
            disposition_movement_id INTEGER REFERENCES movements(id),
            putaway_task_ids TEXT NOT NULL DEFAULT '[]',
            wrong_shipment_id INTEGER REFERENCES wrong_shipments(id),
            user_id INTEGER,
            device_id INTEGER,
            received_at TEXT NOT NULL
        );
        CREATE INDEX idx_return_receipts_return ON return_receipts(return_id);
        -- A site's changes to the default disposition table (protocols/returns.py).
        CREATE TABLE return_disposition_rules (
            site_id INTEGER NOT NULL REFERENCES sites(id),
            reason TEXT NOT NULL
                CHECK (reason IN ('damaged', 'wrong_item', 'not_wanted', 'defective')),
            condition TEXT NOT NULL CHECK (condition IN ('new', 'opened', 'damaged')),
            disposition TEXT NOT NULL
                CHECK (disposition IN ('restock', 'refurbish', 'quarantine', 'scrap')),
            updated_at TEXT NOT NULL,
            PRIMARY KEY (site_id, reason, condition)
        );
        """,
    )


# -- end m085..m089 ---------------------------------------------------------------------------
# -- m090..m094: cycle counting ---------------------------------------------------------------
@migrations()
def m090_counting(db: SUDatabase) -> None:
    run_script(
        db,
        """
        -- What one unit of an item is worth (a decimal string, e.g. '12.50'), for count
        -- variance values; NULL = unknown (value checks are skipped). docs/counting.md.
        ALTER TABLE items ADD COLUMN unit_cost TEXT;
        -- A count: one bin, every bin holding one item, or one LPN. Blind: no quantity here.
        CREATE TABLE count_tasks (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            kind TEXT NOT NULL CHECK (kind IN ('bin', 'item', 'lpn')),
            status TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'in_progress', 'counted', 'closed', 'cancelled')),
            reason TEXT NOT NULL CHECK (reason IN ('schedule', 'nth_putaway', 'bin_full',
                'short_pick', 'low_after_pick', 'recount', 'manual')),
            location_id INTEGER REFERENCES locations(id),
            item_id INTEGER REFERENCES items(id),
            lpn TEXT,
            assigned_to INTEGER REFERENCES users(id),
            excluded_user INTEGER REFERENCES users(id),  -- a recount's first counter
            recount_of INTEGER REFERENCES count_tasks(id),
            request_id INTEGER REFERENCES count_requests(id),
            outcome TEXT,
            created_by INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT
        );
        CREATE INDEX idx_count_tasks_status ON count_tasks(site_id, status);
        CREATE INDEX idx_count_tasks_location ON count_tasks(location_id, status);
        -- The bins a task visits, in walk order (fixed when the task is made).
        CREATE TABLE count_task_bins (
            task_id INTEGER NOT NULL REFERENCES count_tasks(id),
            location_id INTEGER NOT NULL REFERENCES locations(id),
            seq INTEGER NOT NULL,
            PRIMARY KEY (task_id, location_id)
        );
        CREATE INDEX idx_count_task_bins_location ON count_task_bins(location_id);
        -- One counted stock key. `book_qty_at_count` is the ledger's qty of that key when the
        -- line was recorded, so moves during an open count do not make false variances.
        CREATE TABLE count_lines (
            id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL REFERENCES count_tasks(id),
            location_id INTEGER NOT NULL REFERENCES locations(id),
            item_id INTEGER NOT NULL REFERENCES items(id),
            lot TEXT NOT NULL DEFAULT '',
            expiry TEXT,
            lpn TEXT NOT NULL DEFAULT '',
            stock_status TEXT NOT NULL DEFAULT 'available',
            status TEXT NOT NULL DEFAULT 'counted' CHECK (status IN ('counted', 'replaced')),
            counted_qty INTEGER NOT NULL CHECK (counted_qty >= 0),
            book_qty_at_count INTEGER NOT NULL CHECK (book_qty_at_count >= 0),
            counted_by INTEGER REFERENCES users(id),
            device_id INTEGER,
            counted_at TEXT NOT NULL
        );
        CREATE INDEX idx_count_lines_task ON count_lines(task_id, status);
        -- The result per stock key of a submitted count. status: accurate (no difference),
        -- recount (beyond tolerance on a first count: a recount decides), awaiting_approval,
        -- posted (adjusted; decided_by set when a supervisor approved it), rejected.
        CREATE TABLE count_variances (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            task_id INTEGER NOT NULL REFERENCES count_tasks(id),
            location_id INTEGER NOT NULL REFERENCES locations(id),
            item_id INTEGER NOT NULL REFERENCES items(id),
            lot TEXT NOT NULL DEFAULT '',
            expiry TEXT,
            lpn TEXT NOT NULL DEFAULT '',
            stock_status TEXT NOT NULL DEFAULT 'available',
            book_qty INTEGER NOT NULL,
            counted_qty INTEGER NOT NULL,
            delta INTEGER NOT NULL,
            unit_cost TEXT,
            value TEXT,
            within_tolerance INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN
                ('accurate', 'recount', 'awaiting_approval', 'posted', 'rejected')),
            counted_by INTEGER REFERENCES users(id),
            movement_id INTEGER REFERENCES movements(id),
            created_at TEXT NOT NULL,
            decided_by INTEGER REFERENCES users(id),
            decided_at TEXT,
            note TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX idx_count_variances_status ON count_variances(site_id, status, id);
        CREATE INDEX idx_count_variances_created ON count_variances(site_id, created_at);
        CREATE INDEX idx_count_variances_key ON count_variances(location_id, item_id);
        -- Count intervals per velocity class (days); missing rows use the settings.
        CREATE TABLE count_schedule (
            site_id INTEGER NOT NULL REFERENCES sites(id),
            velocity TEXT NOT NULL CHECK (velocity IN ('A', 'B', 'C')),
            interval_days INTEGER NOT NULL CHECK (interval_days >= 1),
            updated_at TEXT NOT NULL,
            PRIMARY KEY (site_id, velocity)
        );
        """,
    )


@migrations()
def m091_count_cancellation(db: SUDatabase) -> None:
    run_script(
        db,
        """
        -- Why a supervisor called a count off (POST /counts/tasks/{id}/cancel).
        ALTER TABLE count_tasks ADD COLUMN cancel_reason TEXT;
        """,
    )


# -- end m090..m094 ---------------------------------------------------------------------------
# -- m095..m099: labor tracking ---------------------------------------------------------------


@migrations()
def m095_labor(db: SUDatabase) -> None:
    run_script(
        db,
        """
        -- One row per worker per task they worked on (a pick task, a PO being received, a
        -- count, a packing order, ...): who, on which handheld, when it started and ended,
        -- what was done, and the time between scans split into travel, handling and idle.
        CREATE TABLE labor_tasks (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            task_type TEXT NOT NULL CHECK (task_type IN
                ('receive', 'putaway', 'replenish', 'pick', 'pack', 'count', 'return')),
            task_ref TEXT NOT NULL,
            user_id INTEGER NOT NULL REFERENCES users(id),
            device_id INTEGER REFERENCES devices(id),
            started_at TEXT NOT NULL,
            last_scan_at TEXT NOT NULL,
            ended_at TEXT,
            scans INTEGER NOT NULL DEFAULT 0 CHECK (scans >= 0),
            units INTEGER NOT NULL DEFAULT 0 CHECK (units >= 0),
            lines INTEGER NOT NULL DEFAULT 0 CHECK (lines >= 0),
            travel_seconds REAL NOT NULL DEFAULT 0 CHECK (travel_seconds >= 0),
            handling_seconds REAL NOT NULL DEFAULT 0 CHECK (handling_seconds >= 0),
            idle_seconds REAL NOT NULL DEFAULT 0 CHECK (idle_seconds >= 0)
        );
        CREATE UNIQUE INDEX idx_labor_tasks_open
            ON labor_tasks(task_type, task_ref, user_id) WHERE ended_at IS NULL;
        CREATE INDEX idx_labor_tasks_user ON labor_tasks(user_id, started_at);
        CREATE INDEX idx_labor_tasks_started ON labor_tasks(site_id, started_at);
        -- Every scan that did work, in the order the handheld scanned them. `gap_seconds` is
        -- the time since the worker's previous scan on this task; `gap_kind` says what it was.
        CREATE TABLE labor_scans (
            id INTEGER PRIMARY KEY,
            labor_task_id INTEGER NOT NULL REFERENCES labor_tasks(id),
            ts TEXT NOT NULL,
            step TEXT NOT NULL CHECK (step IN ('arrive', 'handle')),
            units INTEGER NOT NULL DEFAULT 0 CHECK (units >= 0),
            lines INTEGER NOT NULL DEFAULT 0 CHECK (lines >= 0),
            gap_seconds REAL NOT NULL DEFAULT 0 CHECK (gap_seconds >= 0),
            gap_kind TEXT NOT NULL CHECK (gap_kind IN ('start', 'travel', 'handling', 'idle'))
        );
        CREATE INDEX idx_labor_scans_task ON labor_scans(labor_task_id, ts);
        """,
    )


@migrations()
def m096_labor_standards(db: SUDatabase) -> None:
    run_script(
        db,
        """
        -- The expected rate of each task type, in its unit (docs/labor.md); performance % is
        -- the rate reached divided by this. Seeded with the documented defaults.
        CREATE TABLE labor_standards (
            task_type TEXT PRIMARY KEY CHECK (task_type IN
                ('receive', 'putaway', 'replenish', 'pick', 'pack', 'count', 'return')),
            unit TEXT NOT NULL CHECK (unit IN ('units', 'lines', 'tasks')),
            per_hour REAL NOT NULL CHECK (per_hour > 0),
            updated_at TEXT,
            updated_by INTEGER REFERENCES users(id)
        );
        INSERT INTO labor_standards (task_type, unit, per_hour) VALUES
            ('pick', 'units', 120), ('receive', 'lines', 60), ('pack', 'tasks', 30),
            ('putaway', 'tasks', 40), ('replenish', 'tasks', 30), ('count', 'lines', 80),
            ('return', 'units', 20);
        -- A worker's latest scan on any task: the previous scan a new scan is timed from.
        CREATE INDEX idx_labor_tasks_user_last ON labor_tasks(user_id, last_scan_at);
        CREATE INDEX idx_labor_scans_ts ON labor_scans(ts);
        """,
    )


# -- end m095..m099 ---------------------------------------------------------------------------
# -- m100..m104: supervisors' web page --------------------------------------------------------
# -- end m100..m104 ---------------------------------------------------------------------------
# -- m105..m109: operations report and task assignment ----------------------------------------
@migrations()
def m105_task_assignment(db: SUDatabase) -> None:
    run_script(
        db,
        """
        -- Who a putaway task is handed to (NULL: whoever takes it); see docs/reports.md.
        ALTER TABLE stock_tasks ADD COLUMN assigned_to INTEGER REFERENCES users(id);
        -- Every hand-over a supervisor made (pick, putaway, count tasks), for audit.
        CREATE TABLE task_assignments (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            kind TEXT NOT NULL CHECK (kind IN ('pick', 'putaway', 'count')),
            task_id INTEGER NOT NULL,
            from_user INTEGER REFERENCES users(id),
            to_user INTEGER NOT NULL REFERENCES users(id),
            task_status TEXT NOT NULL,  -- the task's status when it was handed over
            reason TEXT NOT NULL DEFAULT '',
            assigned_by TEXT NOT NULL,  -- principal id (user:N)
            assigned_at TEXT NOT NULL
        );
        CREATE INDEX idx_task_assignments_task ON task_assignments(kind, task_id);
        """,
    )


# -- end m105..m109 ---------------------------------------------------------------------------
# -- m125..m129: 3PL clients (owners) ---------------------------------------------------------
#: Roles an API key may have: the users' roles, plus `client` — a 3PL client's own key, which
#: reaches only the client API (`/api/v1/client/...`) and only that client's data.
KEY_ROLES = (*ROLES, "client")


@migrations()
def m125_clients(db: SUDatabase) -> None:
    run_script(
        db,
        f"""
        -- The 3PL's clients: who owns items, stock and orders (docs/clients.md). `code` is
        -- what items.owner, fulfillment_orders.owner, purchase_orders.owner and asns.owner hold
        -- ('' = the house's own).
        CREATE TABLE clients (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            edi_qualifier TEXT,  -- ISA05/07 of the client's interchanges, e.g. 'ZZ'
            edi_id TEXT,  -- ISA06/08
            edi_carrier_service TEXT NOT NULL DEFAULT '',  -- for 940s naming no service we know
            picking_json TEXT NOT NULL DEFAULT '{{}}',  -- protocols.clients.PickingRules
            branding_json TEXT NOT NULL DEFAULT '{{}}',  -- protocols.clients.Branding
            billing_json TEXT NOT NULL DEFAULT '{{}}',  -- protocols.clients.BillingRates
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            CHECK ((edi_qualifier IS NULL) = (edi_id IS NULL))
        );
        CREATE UNIQUE INDEX idx_clients_edi ON clients(edi_qualifier, edi_id)
            WHERE edi_id IS NOT NULL;
        -- Owners already written on items become clients (named by their code), and an
        -- order's owner becomes its items' owner (it was a free label before).
        INSERT INTO clients (code, name, created_at, updated_at)
            SELECT DISTINCT owner, owner, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),
                   strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
            FROM items WHERE owner != '';
        UPDATE fulfillment_orders SET owner = COALESCE((
            SELECT MIN(i.owner) FROM fo_lines l JOIN items i ON i.id = l.item_id
            WHERE l.order_id = fulfillment_orders.id), '');
        ALTER TABLE purchase_orders ADD COLUMN owner TEXT NOT NULL DEFAULT '';
        ALTER TABLE asns ADD COLUMN owner TEXT NOT NULL DEFAULT '';
        CREATE INDEX idx_items_owner ON items(owner);
        CREATE INDEX idx_fulfillment_orders_owner ON fulfillment_orders(site_id, owner);
        -- API keys may now belong to a client (role 'client'): the table is rebuilt because
        -- SQLite cannot change a CHECK constraint in place.
        CREATE TABLE api_keys_new (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            prefix TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL DEFAULT 'integration' CHECK (role IN {_in(KEY_ROLES)}),
            client_id INTEGER REFERENCES clients(id),
            created_at TEXT NOT NULL,
            revoked_at TEXT,
            CHECK ((role = 'client') = (client_id IS NOT NULL))
        );
        INSERT INTO api_keys_new (id, name, prefix, key_hash, role, created_at, revoked_at)
            SELECT id, name, prefix, key_hash, role, created_at, revoked_at FROM api_keys;
        DROP TABLE api_keys;
        ALTER TABLE api_keys_new RENAME TO api_keys;
        """,
    )


# -- end m125..m129 ---------------------------------------------------------------------------
# -- m130..m134: EDI interchanges ---------------------------------------------------------------
@migrations()
def m130_edi_interchanges(db: SUDatabase) -> None:
    run_script(
        db,
        """
        -- Every inbound X12 interchange taken (docs/edi.md): exactly once per key
        -- (ISA05:ISA06:ISA13). A repeat with the same bytes answers this row; other bytes under
        -- the same key are refused. Envelope errors store nothing.
        CREATE TABLE edi_interchanges (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            client_id INTEGER NOT NULL REFERENCES clients(id),
            receiver_qualifier TEXT NOT NULL,  -- ISA07/08: who it was addressed to (us); the
            receiver_id TEXT NOT NULL,         -- sender of our 997 and 945 replies
            received_at TEXT NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('api', 'folder')),
            file_name TEXT NOT NULL DEFAULT '',
            submitted_by TEXT NOT NULL DEFAULT '',  -- principal id, or 'folder'
            sha256 TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('accepted', 'partial', 'rejected')),
            sets_json TEXT NOT NULL,  -- per transaction set: document, number, outcome, errors
            ack_997 TEXT NOT NULL
        );
        CREATE INDEX idx_edi_interchanges_client ON edi_interchanges(client_id, id);
        -- What we send back: 997s for interchanges, 945s for shipped EDI orders. `written_at`:
        -- copied to settings.edi_outbox_dir; `picked_up_at`: the client acknowledged it.
        CREATE TABLE edi_outbound (
            id INTEGER PRIMARY KEY,
            client_id INTEGER NOT NULL REFERENCES clients(id),
            kind TEXT NOT NULL CHECK (kind IN ('997', '945')),
            control_number INTEGER NOT NULL,  -- our ISA13
            reference TEXT NOT NULL,  -- the interchange key (997) or the order number (945)
            interchange_id INTEGER REFERENCES edi_interchanges(id),
            file_name TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL,
            written_at TEXT,
            picked_up_at TEXT
        );
        CREATE INDEX idx_edi_outbound_client ON edi_outbound(client_id, id);
        CREATE INDEX idx_edi_outbound_unwritten ON edi_outbound(id) WHERE written_at IS NULL;
        -- Outgoing control numbers (ISA13/GS06), one counter per name.
        CREATE TABLE edi_counters (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        );
        -- Fulfillment orders that came from a 940: what the 945 must echo back.
        CREATE TABLE edi_orders (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id),
            order_number TEXT NOT NULL,
            client_id INTEGER NOT NULL REFERENCES clients(id),
            interchange_id INTEGER NOT NULL REFERENCES edi_interchanges(id),
            po_number TEXT NOT NULL DEFAULT '',
            scac TEXT NOT NULL DEFAULT '',
            routing TEXT NOT NULL DEFAULT '',
            lines_json TEXT NOT NULL,  -- {line_no: {qualifier, id}} as the 940 named the item
            advice_id INTEGER REFERENCES edi_outbound(id),  -- the 945, once shipped
            UNIQUE (site_id, order_number)
        );
        """,
    )


# -- end m130..m134 -----------------------------------------------------------------------------
