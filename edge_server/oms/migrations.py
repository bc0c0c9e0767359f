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
# -- end m010..m019 ---------------------------------------------------------------------------
# -- m020..m029: sourcing -------------------------------------------------------------------
# -- end m020..m029 ---------------------------------------------------------------------------
# -- m030..m039: customer notifications (e-mail outbox) -------------------------------------
# -- end m030..m039 ---------------------------------------------------------------------------
# -- m040..m049: channels and inventory sync -------------------------------------------------
# -- end m040..m049 ---------------------------------------------------------------------------
