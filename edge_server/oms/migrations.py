"""The OMS database's named migrations (its own file, its own set: `oms_migrations`).

The integration tables (idempotency, outbox, webhook subscribers and deliveries, API keys)
have the same shape as the edge server's, so the same idempotency, outbox and webhook relay
code serves both. Append new migrations at the END of their section.
"""

from __future__ import annotations

from sqlite_utils import Database as SUDatabase
from sqlite_utils.migrations import Migrations

from edge_server.db.migrations import run_script

__all__ = ["OMS_ROLES", "oms_migrations"]

oms_migrations = Migrations("aisleway-oms")

#: Who calls the OMS API with a key: a sales channel (web store, marketplace, B2B portal),
#: an administrator (sites, channels, settings) or a read-only integration.
OMS_ROLES = ("channel", "admin", "reader")


@oms_migrations()
def m001_base(db: SUDatabase) -> None:
    roles = ", ".join(f"'{r}'" for r in OMS_ROLES)
    run_script(
        db,
        f"""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE api_keys (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            prefix TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL DEFAULT 'channel' CHECK (role IN ({roles})),
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
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
            created_at TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            deactivated_at TEXT,
            previous_secret TEXT,
            previous_secret_until TEXT
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
            last_attempt_at TEXT,
            UNIQUE (outbox_id, subscriber_id)
        );
        CREATE INDEX idx_deliveries_due ON webhook_deliveries(status, next_attempt_at);
        CREATE INDEX idx_deliveries_queue
            ON webhook_deliveries(status, subscriber_id, outbox_id);
        """,
    )


# == appended by parallel work: keep each range in its own section, add at its end ===========
# -- m010..m019: sites, orders, available-to-promise, reservations ---------------------------
#: An OMS order's status (docs/oms-orders.md). Kept in the `order_statuses` table, which
#: `orders.status` references: a later migration adds a status with one INSERT.
ORDER_STATUSES = (
    "received",
    "backordered",
    "partially_reserved",
    "reserved",
    "released",
    "short_at_site",
    "allocated",
    "wave_planned",
    "picking",
    "packed",
    "partially_shipped",
    "shipped",
    "delivered",
    "return_received",
    "returned",
    "cancelled",
)  # the same values as protocols.status.OmsStatus (tests/test_oms_orders.py checks)
#: What kind of sales channel a channel is.
CHANNEL_KINDS = ("web", "marketplace", "b2b", "edi", "pos", "other")


@oms_migrations()
def m010_sites_and_channels(db: SUDatabase) -> None:
    kinds = ", ".join(f"'{k}'" for k in CHANNEL_KINDS)
    run_script(
        db,
        f"""
        -- The sites' edge servers this OMS fulfils from. `api_key` is the key the OMS sends
        -- to the site's integration API, `webhook_secret` verifies the site's signed events:
        -- both must be usable, so they are stored as given and never returned by the API.
        CREATE TABLE sites (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            base_url TEXT NOT NULL,
            api_key TEXT NOT NULL DEFAULT '',
            webhook_secret TEXT NOT NULL DEFAULT '',
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE channels (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL DEFAULT 'web' CHECK (kind IN ({kinds})),
            name TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at TEXT NOT NULL
        );
        -- A `channel` API key speaks for one channel: its orders are that channel's.
        CREATE TABLE channel_keys (
            api_key_id INTEGER PRIMARY KEY REFERENCES api_keys(id),
            channel_id INTEGER NOT NULL REFERENCES channels(id)
        );
        """,
    )


@oms_migrations()
def m011_orders(db: SUDatabase) -> None:
    statuses = ", ".join(f"('{s}')" for s in ORDER_STATUSES)
    run_script(
        db,
        f"""
        CREATE TABLE order_statuses (status TEXT PRIMARY KEY);
        INSERT INTO order_statuses (status) VALUES {statuses};
        CREATE TABLE orders (
            id INTEGER PRIMARY KEY,
            number TEXT NOT NULL UNIQUE,
            channel_id INTEGER NOT NULL REFERENCES channels(id),
            channel_order_id TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'received' REFERENCES order_statuses(status),
            ship_to_json TEXT NOT NULL,
            requested_service TEXT NOT NULL,
            payment_status TEXT NOT NULL DEFAULT 'pending'
                CHECK (payment_status IN ('pending', 'authorized', 'paid', 'refunded')),
            currency TEXT NOT NULL,
            promised_date TEXT,
            customer_email TEXT,
            exchange_rma TEXT,
            original_order_id INTEGER REFERENCES orders(id),
            received_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            cancelled_at TEXT,
            cancel_reason TEXT,
            UNIQUE (channel_id, channel_order_id)
        );
        CREATE INDEX idx_orders_status ON orders(status, received_at);
        CREATE INDEX idx_orders_rma ON orders(exchange_rma) WHERE exchange_rma IS NOT NULL;
        -- A line left out of a replacing PUT is kept with cancelled = 1 (its reservations and
        -- history point at it); naming its line_no again revives it.
        CREATE TABLE order_lines (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            line_no INTEGER NOT NULL,
            sku TEXT NOT NULL,
            qty INTEGER NOT NULL CHECK (qty > 0),
            unit_price TEXT NOT NULL DEFAULT '0',
            cancelled INTEGER NOT NULL DEFAULT 0 CHECK (cancelled IN (0, 1)),
            UNIQUE (order_id, line_no)
        );
        CREATE INDEX idx_order_lines_sku ON order_lines(sku);
        CREATE TABLE order_history (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            at TEXT NOT NULL,
            event TEXT NOT NULL,
            status TEXT NOT NULL,
            detail_json TEXT NOT NULL DEFAULT '{{}}'
        );
        CREATE INDEX idx_order_history_order ON order_history(order_id, id);
        """,
    )


@oms_migrations()
def m012_atp_and_reservations(db: SUDatabase) -> None:
    run_script(
        db,
        """
        -- What each site reports it can still promise of a SKU (`available`, from its stock
        -- events and reconciliation snapshots), and what OMS orders hold there and have not
        -- been released to the site yet (`reserved`, kept by the triggers below).
        -- ATP = available - reserved. A site may report less than is reserved (damage, a
        -- count): that is recorded as it is, ATP is then 0, never negative.
        CREATE TABLE site_stock (
            site_id INTEGER NOT NULL REFERENCES sites(id),
            sku TEXT NOT NULL,
            available INTEGER NOT NULL DEFAULT 0 CHECK (available >= 0),
            reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
            as_of TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (site_id, sku)
        ) WITHOUT ROWID;
        CREATE INDEX idx_site_stock_sku ON site_stock(sku);
        -- Raising `reserved` past `available` is impossible, whoever writes.
        CREATE TRIGGER site_stock_no_over_reservation
        BEFORE UPDATE OF reserved ON site_stock
        WHEN NEW.reserved > OLD.reserved AND NEW.reserved > NEW.available
        BEGIN
            SELECT RAISE(ABORT, 'OVER_RESERVATION');
        END;

        -- held: counts against the site's ATP; released: handed to the site (its own
        -- allocation now holds the stock); cancelled: given back.
        CREATE TABLE reservations (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            line_id INTEGER NOT NULL REFERENCES order_lines(id),
            site_id INTEGER NOT NULL REFERENCES sites(id),
            sku TEXT NOT NULL,
            qty INTEGER NOT NULL CHECK (qty > 0),
            status TEXT NOT NULL DEFAULT 'held'
                CHECK (status IN ('held', 'released', 'cancelled')),
            created_at TEXT NOT NULL,
            released_at TEXT,
            cancelled_at TEXT
        );
        CREATE INDEX idx_reservations_order ON reservations(order_id, status);
        CREATE INDEX idx_reservations_line ON reservations(line_id, status);
        CREATE INDEX idx_reservations_site_sku ON reservations(site_id, sku, status);
        CREATE TRIGGER reservations_need_atp
        BEFORE INSERT ON reservations WHEN NEW.status = 'held'
        BEGIN
            SELECT RAISE(ABORT, 'OVER_RESERVATION') WHERE NOT EXISTS (
                SELECT 1 FROM site_stock
                WHERE site_id = NEW.site_id AND sku = NEW.sku
                  AND available - reserved >= NEW.qty
            );
        END;
        CREATE TRIGGER reservations_hold
        AFTER INSERT ON reservations WHEN NEW.status = 'held'
        BEGIN
            UPDATE site_stock SET reserved = reserved + NEW.qty
            WHERE site_id = NEW.site_id AND sku = NEW.sku;
        END;
        CREATE TRIGGER reservations_unhold
        AFTER UPDATE OF status ON reservations
        WHEN OLD.status = 'held' AND NEW.status != 'held'
        BEGIN
            UPDATE site_stock SET reserved = reserved - OLD.qty
            WHERE site_id = OLD.site_id AND sku = OLD.sku;
        END;
        CREATE TRIGGER reservations_final
        BEFORE UPDATE ON reservations
        WHEN (OLD.status != 'held' AND NEW.status != OLD.status)
          OR NEW.qty != OLD.qty OR NEW.site_id != OLD.site_id OR NEW.sku != OLD.sku
          OR NEW.line_id != OLD.line_id OR NEW.order_id != OLD.order_id
        BEGIN
            SELECT RAISE(ABORT, 'RESERVATION_IMMUTABLE');
        END;
        CREATE TRIGGER reservations_keep
        BEFORE DELETE ON reservations
        BEGIN
            SELECT RAISE(ABORT, 'RESERVATION_IMMUTABLE');
        END;

        -- The unreserved remainder of each order line, waiting for stock. `created_at` is
        -- when the order first arrived, so filling oldest first keeps a replaced order's
        -- place in the queue.
        CREATE TABLE backorders (
            line_id INTEGER PRIMARY KEY REFERENCES order_lines(id),
            order_id INTEGER NOT NULL REFERENCES orders(id),
            sku TEXT NOT NULL,
            qty INTEGER NOT NULL CHECK (qty > 0),
            created_at TEXT NOT NULL
        );
        CREATE INDEX idx_backorders_sku ON backorders(sku, created_at, line_id);
        CREATE INDEX idx_backorders_order ON backorders(order_id);
        """,
    )


# -- end m010..m019 ---------------------------------------------------------------------------
# -- m020..m029: sourcing -------------------------------------------------------------------
@oms_migrations()
def m020_sourcing_data(db: SUDatabase) -> None:
    # What cost-based sourcing needs about each site (oms/sourcing_adapter.py,
    # docs/sourcing.md#wiring): handling costs and daily capacity set by an administrator,
    # carrier services as the site's edge reports them (`carrier_service.changed`), item
    # weights, and every decision taken, so an order shows why it ships from where.
    run_script(
        db,
        """
        CREATE TABLE site_sourcing (
            site_id INTEGER PRIMARY KEY REFERENCES sites(id),
            handling_per_order TEXT NOT NULL DEFAULT '0',
            handling_per_line TEXT NOT NULL DEFAULT '0',
            daily_capacity INTEGER CHECK (daily_capacity IS NULL OR daily_capacity >= 0),
            timezone TEXT NOT NULL DEFAULT 'UTC',
            updated_at TEXT NOT NULL
        );
        -- `updated_at` is the edge's own time of the change: an older card never replaces a
        -- newer one (events may arrive out of order).
        CREATE TABLE site_carrier_services (
            site_id INTEGER NOT NULL REFERENCES sites(id),
            code TEXT NOT NULL,
            carrier TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            cutoff_local TEXT NOT NULL,
            ship_days TEXT NOT NULL,
            rate_card_json TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            updated_at TEXT NOT NULL,
            received_at TEXT NOT NULL,
            PRIMARY KEY (site_id, code)
        );
        CREATE TABLE items (
            sku TEXT PRIMARY KEY,
            weight_kg TEXT NOT NULL,
            updated_at TEXT NOT NULL
        ) WITHOUT ROWID;
        -- One row: the split penalty (per shipment beyond the first, in the order's
        -- currency) and the most sites an order is split into.
        CREATE TABLE sourcing_settings (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            split_penalty TEXT NOT NULL DEFAULT '5.00',
            max_sites INTEGER NOT NULL DEFAULT 3 CHECK (max_sites BETWEEN 1 AND 10),
            updated_at TEXT
        );
        INSERT INTO sourcing_settings (id) VALUES (1);
        CREATE TABLE order_sourcing (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            at TEXT NOT NULL,
            method TEXT NOT NULL CHECK (method IN ('exact', 'heuristic', 'fallback')),
            explanation TEXT NOT NULL,
            decision_json TEXT NOT NULL
        );
        CREATE INDEX idx_order_sourcing_order ON order_sourcing(order_id, id);
        -- capacity: orders held or released at a site today
        CREATE INDEX idx_reservations_site_day ON reservations(site_id, status, created_at);
        """,
    )


# -- end m020..m029 ---------------------------------------------------------------------------
# -- m030..m039: customer notifications (e-mail outbox) -------------------------------------
@oms_migrations()
def m030_emails(db: SUDatabase) -> None:
    # One row per customer e-mail, rendered when queued (edge_server/oms/notifications.py);
    # the mailer (oms/mailer.py) sends it. `attempt_started_at` is set before each SMTP
    # attempt and cleared with its result, so a row with it set and no result after a crash
    # is an interrupted attempt (resent with the same Message-ID).
    run_script(
        db,
        """
        CREATE TABLE emails (
            id INTEGER PRIMARY KEY,
            dedupe_key TEXT NOT NULL UNIQUE,
            message_id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('order_confirmation', 'shipment', 'backorder',
                                               'backorder_filled', 'return_received',
                                               'refund')),
            to_addr TEXT NOT NULL,
            locale TEXT NOT NULL DEFAULT 'en',
            subject TEXT NOT NULL,
            body_text TEXT NOT NULL,
            body_html TEXT NOT NULL,
            context_json TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            interrupted_attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            attempt_started_at TEXT,
            claimed_until TEXT,
            last_attempt_at TEXT,
            last_error TEXT,
            last_smtp_code INTEGER,
            created_at TEXT NOT NULL,
            sent_at TEXT
        );
        CREATE INDEX idx_emails_due ON emails(status, next_attempt_at);
        INSERT OR IGNORE INTO meta (key, value)
            VALUES ('mail.instance', lower(hex(randomblob(16))));
        """,
    )


# -- end m030..m039 ---------------------------------------------------------------------------
# -- m040..m049: channels and inventory sync -------------------------------------------------
#: Unix seconds (ms precision) in SQL, for the debounce clock of channel_sync_pending.
_SQL_NOW = "((julianday('now') - 2440587.5) * 86400.0)"


@oms_migrations()
def m040_channel_sync(db: SUDatabase) -> None:
    # docs/oms-channels.md. A channel's buffer is basis points (1 % = 100) and units; its
    # webhook endpoint is a subscriber of its own (`subscriber_id`), which receives only the
    # events addressed to it (event types `[]`), so one channel never sees another's SKUs.
    run_script(
        db,
        f"""
        ALTER TABLE channels ADD COLUMN buffer_bp INTEGER NOT NULL DEFAULT 0
            CHECK (buffer_bp BETWEEN 0 AND 10000);
        ALTER TABLE channels ADD COLUMN buffer_units INTEGER NOT NULL DEFAULT 0
            CHECK (buffer_units >= 0);
        ALTER TABLE channels ADD COLUMN subscriber_id INTEGER REFERENCES webhook_subscribers(id);
        ALTER TABLE channels ADD COLUMN updated_at TEXT;
        ALTER TABLE channels ADD COLUMN reconciled_at TEXT;
        -- Our SKU as the channel lists it. No row, or listed = 0: the SKU is not pushed.
        CREATE TABLE channel_skus (
            channel_id INTEGER NOT NULL REFERENCES channels(id),
            sku TEXT NOT NULL,
            channel_sku TEXT NOT NULL,
            listing_id TEXT,
            listed INTEGER NOT NULL DEFAULT 1 CHECK (listed IN (0, 1)),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (channel_id, sku)
        ) WITHOUT ROWID;
        CREATE UNIQUE INDEX idx_channel_skus_channel_sku ON channel_skus(channel_id, channel_sku);
        -- The last value pushed per channel and SKU (the outbox event that carried it).
        CREATE TABLE channel_published (
            channel_id INTEGER NOT NULL REFERENCES channels(id),
            sku TEXT NOT NULL,
            available INTEGER NOT NULL,
            atp INTEGER NOT NULL,
            event_id TEXT NOT NULL,
            published_at TEXT NOT NULL,
            PRIMARY KEY (channel_id, sku)
        ) WITHOUT ROWID;
        -- SKUs whose availability changed and is not pushed yet; `since` (unix seconds) is
        -- the FIRST change, so a burst is pushed once, at most the debounce window later.
        -- The triggers below fill it whoever writes (stock events, snapshots, reservations,
        -- a site switched off), in the same transaction as the change. (Not INSERT OR
        -- IGNORE: inside a trigger the outer statement's conflict policy would override it.)
        CREATE TABLE channel_sync_pending (
            sku TEXT PRIMARY KEY,
            since REAL NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX idx_channel_sync_pending_since ON channel_sync_pending(since);
        CREATE TRIGGER site_stock_insert_sync AFTER INSERT ON site_stock
        BEGIN
            INSERT INTO channel_sync_pending (sku, since) SELECT NEW.sku, {_SQL_NOW}
            WHERE NOT EXISTS (SELECT 1 FROM channel_sync_pending WHERE sku = NEW.sku);
        END;
        CREATE TRIGGER site_stock_update_sync AFTER UPDATE OF available, reserved ON site_stock
        WHEN max(NEW.available - NEW.reserved, 0) != max(OLD.available - OLD.reserved, 0)
        BEGIN
            INSERT INTO channel_sync_pending (sku, since) SELECT NEW.sku, {_SQL_NOW}
            WHERE NOT EXISTS (SELECT 1 FROM channel_sync_pending WHERE sku = NEW.sku);
        END;
        CREATE TRIGGER site_stock_delete_sync AFTER DELETE ON site_stock
        BEGIN
            INSERT INTO channel_sync_pending (sku, since) SELECT OLD.sku, {_SQL_NOW}
            WHERE NOT EXISTS (SELECT 1 FROM channel_sync_pending WHERE sku = OLD.sku);
        END;
        CREATE TRIGGER sites_active_sync AFTER UPDATE OF active ON sites
        WHEN NEW.active != OLD.active
        BEGIN
            INSERT INTO channel_sync_pending (sku, since)
                SELECT st.sku, {_SQL_NOW} FROM site_stock st WHERE st.site_id = NEW.id
                AND NOT EXISTS (SELECT 1 FROM channel_sync_pending p WHERE p.sku = st.sku);
        END;
        """,
    )


# -- end m040..m049 ---------------------------------------------------------------------------
# -- m050..m059: site integration ------------------------------------------------------------
@oms_migrations()
def m050_site_integration(db: SUDatabase) -> None:
    # The statuses of protocols/status.py are all in `order_statuses` since m011 (tests check);
    # an INSERT OR IGNORE keeps this true should m011's list ever be trimmed.
    statuses = ", ".join(f"('{s}')" for s in ORDER_STATUSES)
    run_script(
        db,
        f"""
        INSERT OR IGNORE INTO order_statuses (status) VALUES {statuses};
        -- The OMS's webhook subscription on each site (docs/oms-sites.md): the subscriber id
        -- the edge gave, where the site sends its events, and the last reconciliation.
        CREATE TABLE site_links (
            site_id INTEGER PRIMARY KEY REFERENCES sites(id),
            subscriber_id INTEGER,
            intake_url TEXT NOT NULL DEFAULT '',
            subscribed_at TEXT,
            reconciled_at TEXT,
            reconcile_error TEXT
        );
        -- Every signed site event taken in, by webhook id: a redelivery (same id, same body)
        -- changes nothing; the same id with another body is refused. Pruned after 7 days.
        CREATE TABLE site_events_seen (
            site_id INTEGER NOT NULL REFERENCES sites(id),
            webhook_id TEXT NOT NULL,
            body_sha256 TEXT NOT NULL,
            event_type TEXT NOT NULL,
            outcome TEXT NOT NULL,
            received_at TEXT NOT NULL,
            PRIMARY KEY (site_id, webhook_id)
        ) WITHOUT ROWID;
        CREATE INDEX idx_site_events_seen_at ON site_events_seen(received_at);
        -- One fulfillment order (FO) per order and site (`seq` > 1 only when more is reserved
        -- there after the first FO started picking). `lines_json` is what version `version`
        -- asks of the site; `release_state` says whether the site has accepted that version.
        CREATE TABLE fulfillments (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            site_id INTEGER NOT NULL REFERENCES sites(id),
            seq INTEGER NOT NULL DEFAULT 1,
            number TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL DEFAULT 'reserved' REFERENCES order_statuses(status),
            version INTEGER NOT NULL DEFAULT 1,
            lines_json TEXT NOT NULL,
            carrier_service TEXT NOT NULL,
            release_state TEXT NOT NULL DEFAULT 'pending'
                CHECK (release_state IN ('pending', 'sent', 'refused')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT,
            requested_at TEXT NOT NULL,
            sent_at TEXT,
            updated_at TEXT NOT NULL,
            UNIQUE (order_id, site_id, seq)
        );
        CREATE INDEX idx_fulfillments_due ON fulfillments(release_state, next_attempt_at);
        CREATE INDEX idx_fulfillments_order ON fulfillments(order_id);
        -- Each step of an order's journey at a site, with when it happened there.
        CREATE TABLE journey (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            fulfillment_id INTEGER REFERENCES fulfillments(id),
            step TEXT,
            status TEXT NOT NULL,
            event TEXT NOT NULL,
            at TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            detail_json TEXT NOT NULL DEFAULT '{{}}'
        );
        CREATE INDEX idx_journey_order ON journey(order_id, id);
        -- Orders with reservations waiting for release (the site loop's auto-release).
        CREATE INDEX idx_reservations_held ON reservations(order_id) WHERE status = 'held';
        """,
    )


# -- end m050..m059 ---------------------------------------------------------------------------
# -- m060..m069: returns ----------------------------------------------------------------------
@oms_migrations()
def m060_returns(db: SUDatabase) -> None:
    run_script(
        db,
        """
        -- What each fulfillment order shipped, per order line (from `shipment.created`'s
        -- `lines`): what a customer may return.
        CREATE TABLE shipped_lines (
            fulfillment_id INTEGER NOT NULL REFERENCES fulfillments(id),
            line_no INTEGER NOT NULL,
            sku TEXT NOT NULL,
            qty INTEGER NOT NULL CHECK (qty >= 0),
            PRIMARY KEY (fulfillment_id, line_no)
        ) WITHOUT ROWID;
        -- One RMA per return of one fulfillment order (docs/oms-returns.md). `site_state`:
        -- whether the site has been told to expect it (`PUT /returns/{number}`), retried
        -- like a release while `pending`.
        CREATE TABLE returns (
            id INTEGER PRIMARY KEY,
            number TEXT NOT NULL UNIQUE,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            fulfillment_id INTEGER NOT NULL REFERENCES fulfillments(id),
            status TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'receiving', 'closed', 'cancelled')),
            site_state TEXT NOT NULL DEFAULT 'pending'
                CHECK (site_state IN ('pending', 'sent', 'refused')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT,
            label_carrier TEXT NOT NULL,
            label_tracking TEXT NOT NULL UNIQUE,
            currency TEXT NOT NULL,
            refund_amount TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            closed_at TEXT
        );
        CREATE INDEX idx_returns_order ON returns(order_id);
        CREATE INDEX idx_returns_due ON returns(site_state, next_attempt_at);
        CREATE TABLE return_lines (
            return_id INTEGER NOT NULL REFERENCES returns(id),
            line_no INTEGER NOT NULL,
            order_line_no INTEGER NOT NULL,
            sku TEXT NOT NULL,
            qty INTEGER NOT NULL CHECK (qty > 0),
            reason TEXT NOT NULL
                CHECK (reason IN ('damaged', 'wrong_item', 'not_wanted', 'defective')),
            unit_price TEXT NOT NULL,
            qty_received INTEGER NOT NULL DEFAULT 0,
            qty_sellable INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (return_id, line_no)
        ) WITHOUT ROWID;
        """,
    )


# -- end m060..m069 ---------------------------------------------------------------------------
