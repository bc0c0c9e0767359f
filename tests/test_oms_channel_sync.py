"""Availability pushed to the channels: every change reaches each listing channel as a
Standard Webhooks POST (verified by the independent `standardwebhooks` library in
tests/webhook_receiver.py) with that channel's buffered value and its own SKU names only;
changes to one SKU coalesce within the debounce window; a return restocked is pushed; the
reconciliation repairs a push the channel missed. Real app, relay, loopback HTTP."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_oms_foundation import oms_settings
from test_oms_orders import add_site, order_body
from webhook_receiver import Receiver, wait_until

from edge_server.integration.signing import signed_headers
from edge_server.oms import channel_sync, orders, reservations
from edge_server.oms.app import create_oms_app
from edge_server.oms.services import OmsServices, open_oms_services
from edge_server.oms.sites import SiteIn, put_site
from edge_server.timeutil import iso
from protocols.orders import OrderIn

from conftest import assert_response

_keys = itertools.count(1)


@dataclass
class Sync:
    services: OmsServices
    client: TestClient
    receiver: Receiver
    admin: dict[str, str]
    secrets: dict[str, str]

    def send(self, method: str, path: str, **kw: Any) -> Any:
        headers = {**self.admin, "Idempotency-Key": f"s{next(_keys)}"}
        return self.client.request(method, "/api/v1" + path, headers=headers, **kw)

    def channel(self, code: str, *, pct: str = "0", units: int = 0, **skus: str) -> str:
        """Create channel `code` pushing to the receiver at /<code>, listing `skus`
        (our SKU=channel SKU); returns its signing secret."""
        body = {
            "name": code,
            "endpoint_url": self.receiver.url(f"/{code}"),
            "buffer_pct": pct,
            "buffer_units": units,
        }
        secret: str = assert_response(self.send("PUT", f"/channels/{code}", json=body), 201)[
            "signing_secret"
        ]
        self.receiver.expect(f"/{code}", secret)
        self.secrets[code] = secret
        for sku, channel_sku in skus.items():
            self.list(code, sku.replace("_", "-"), channel_sku)
        self.settle(code)
        return secret

    def settle(self, code: str) -> None:
        """Deliver what listing the SKUs pushed (their current values), then forget it, so a
        test sees only the pushes its own changes make."""
        db = self.services.db
        if not self.services.settings.channel_sync_enabled:
            channel_sync.push_due(db, 0, now=time.time() + 1)
        wait_until(
            lambda: (
                db.query_one(
                    "SELECT (SELECT COUNT(*) FROM channel_sync_pending) + (SELECT COUNT(*) "
                    "FROM webhook_deliveries WHERE status = 'pending') AS n"
                )
                == {"n": 0}
            ),
            10,
            "the listing pushes",
        )
        with self.receiver._lock:
            self.receiver.received[:] = [r for r in self.receiver.received if r.path != f"/{code}"]

    def list(self, code: str, sku: str, channel_sku: str, **extra: Any) -> None:
        resp = self.send(
            "PUT", f"/channels/{code}/skus/{sku}", json={"channel_sku": channel_sku, **extra}
        )
        assert resp.status_code in (200, 201), resp.text

    def stock(self, site: str, sku: str, available: int) -> None:
        with self.services.db.write() as w:
            reservations.set_site_stock(w, site, sku, available, iso())

    def pushes(self, code: str) -> list[dict[str, Any]]:
        """The `data` of every push the channel accepted, oldest first."""
        with self.receiver._lock:
            return [r.body["data"] for r in self.receiver.received if r.path == f"/{code}"]

    def items(self, code: str) -> list[tuple[str, int]]:
        return [(i["channel_sku"], i["available"]) for p in self.pushes(code) for i in p["items"]]

    def wait_items(self, code: str, expected: list[tuple[str, int]]) -> None:
        wait_until(lambda: self.items(code) == expected, 10, f"{expected} at {code}")
        time.sleep(0.3)  # nothing more arrives (a debounce window and a relay pass later)
        assert self.items(code) == expected


def _make(tmp_path: Path, **overrides: Any) -> Iterator[Sync]:
    settings = oms_settings(
        tmp_path,
        relay_enabled=True,
        channel_debounce_seconds=0.05,
        channel_reconcile_interval_seconds=0,
        webhook_backoff_base_seconds=0.05,
        **overrides,
    )
    services = open_oms_services(settings)
    for code in ("CHI", "DAL"):
        add_site(services, code)
    receiver = Receiver().start()
    try:
        with TestClient(create_oms_app(settings, services)) as client:
            _, secret = services.api_keys.create("admin", role="admin")
            yield Sync(services, client, receiver, {"Authorization": f"Bearer {secret}"}, {})
    finally:
        receiver.stop()
        services.db.close()


@pytest.fixture
def sync(tmp_path: Path) -> Iterator[Sync]:
    yield from _make(tmp_path)


@pytest.fixture
def paused(tmp_path: Path) -> Iterator[Sync]:
    """The debounce loop not running: tests drive `push_due` with their own clock."""
    yield from _make(tmp_path, channel_sync_enabled=False)


def pending_since(s: Sync, sku: str) -> float:
    row = s.services.db.query_one("SELECT since FROM channel_sync_pending WHERE sku = ?", [sku])
    assert row is not None, f"{sku} is not pending"
    return float(row["since"])


def test_a_stock_change_reaches_the_channel_signed_with_its_buffered_value(sync: Sync) -> None:
    sync.channel("WEB", pct="10", SKU_1="W-1")
    sync.stock("CHI", "SKU-1", 10)
    sync.wait_items("WEB", [("W-1", 9)])  # 10 on hand, 10 % buffer: 9
    push = sync.pushes("WEB")[0]
    assert push["channel"] == "WEB" and push["reason"] == "change"
    assert push["items"] == [
        {"sku": "SKU-1", "channel_sku": "W-1", "listing_id": None, "available": 9}
    ]
    assert sync.receiver.types("/WEB") == ["inventory.availability"]
    assert sync.receiver.rejected == []
    # Both sites count; the pushed value is acknowledged in the mapping's view.
    sync.stock("DAL", "SKU-1", 10)
    sync.wait_items("WEB", [("W-1", 9), ("W-1", 18)])
    view = assert_response(sync.client.get("/api/v1/channels/WEB/skus", headers=sync.admin), 200)
    published = view["items"][0]["published"]
    assert published["available"] == 18 and published["atp"] == 20
    wait_until(
        lambda: assert_response(
            sync.client.get("/api/v1/channels/WEB/skus", headers=sync.admin), 200
        )["items"][0]["published"]["acknowledged"],
        5,
        "acknowledged",
    )


def test_a_receiver_with_another_secret_refuses_the_push_and_rotation_keeps_it_verifiable(
    sync: Sync,
) -> None:
    """OMS → channel: the channel verifies every push (here with the reference library)."""
    old = sync.channel("WEB", SKU_1="W-1")
    sync.receiver.expect("/WEB", "whsec_" + "B" * 44)  # the channel holds a wrong secret
    sync.stock("CHI", "SKU-1", 4)
    wait_until(lambda: sync.receiver.rejected, 5, "a refused push")
    assert sync.pushes("WEB") == []
    row = wait_until(
        lambda: sync.services.db.query_one(
            "SELECT status, last_status_code FROM webhook_deliveries WHERE last_status_code = 400"
        ),
        5,
        "the refusal recorded",
    )
    assert row == {"status": "pending", "last_status_code": 400}  # retried, never lost
    rotated = assert_response(sync.send("POST", "/channels/WEB/rotate-secret"), 200)
    new = rotated["signing_secret"]
    assert new != old and rotated["previous_secret_valid_until"]
    # During the grace period each push carries both signatures: each secret verifies alone.
    sync.receiver.expect("/WEB", old, new)
    sync.wait_items("WEB", [("W-1", 4)])


def test_changes_within_the_window_coalesce_into_one_push_of_the_latest_value(
    paused: Sync,
) -> None:
    paused.channel("WEB", SKU_1="W-1", SKU_2="W-2")
    events = paused.services.db.query("SELECT * FROM outbox")
    paused.stock("CHI", "SKU-1", 5)
    first = pending_since(paused, "SKU-1")
    paused.stock("CHI", "SKU-1", 7)
    paused.stock("CHI", "SKU-1", 3)
    assert pending_since(paused, "SKU-1") == first  # the window runs from the FIRST change
    window = 0.2
    wait = channel_sync.push_due(paused.services.db, window, now=first + window / 2)
    assert wait is not None and 0 < wait <= window / 2 + 1e-3
    assert paused.services.db.query("SELECT * FROM outbox") == events
    # A later SKU has its own window: at the first SKU's deadline only the first is due.
    paused.stock("CHI", "SKU-2", 6)
    second = pending_since(paused, "SKU-2")
    assert second > first
    channel_sync.push_due(paused.services.db, window, now=first + window)
    paused.wait_items("WEB", [("W-1", 3)])  # one push, the latest value
    channel_sync.push_due(paused.services.db, window, now=second + window)
    paused.wait_items("WEB", [("W-1", 3), ("W-2", 6)])
    assert paused.services.db.query("SELECT * FROM channel_sync_pending") == []


def test_an_unchanged_published_value_is_not_pushed_again(paused: Sync) -> None:
    paused.channel("WEB", units=5, SKU_1="W-1")
    db = paused.services.db
    for qty in (8, 2, 4, 5):  # shows 3, then 0, 0 and 0
        paused.stock("CHI", "SKU-1", qty)
        channel_sync.push_due(db, 0, now=time.time() + 1)
    paused.wait_items("WEB", [("W-1", 3), ("W-1", 0)])


def test_a_channel_never_receives_another_channels_skus(sync: Sync) -> None:
    sync.channel("WEB", SKU_1="W-1", SKU_2="W-2")
    sync.channel("AMAZON", pct="50", SKU_1="B00-SKU1")
    sync.stock("CHI", "SKU-1", 10)
    sync.stock("CHI", "SKU-2", 3)
    sync.stock("CHI", "SKU-3", 8)  # listed nowhere: pushed nowhere
    sync.wait_items("AMAZON", [("B00-SKU1", 5)])
    wait_until(lambda: sorted(sync.items("WEB")) == [("W-1", 10), ("W-2", 3)], 5, "WEB")
    for push in sync.pushes("AMAZON"):
        assert push["channel"] == "AMAZON"
        assert {i["sku"] for i in push["items"]} == {"SKU-1"}
    assert all(p["channel"] == "WEB" for p in sync.pushes("WEB"))


def test_an_unlisted_sku_is_not_pushed_and_listing_it_pushes_it(sync: Sync) -> None:
    sync.channel("WEB")
    sync.list("WEB", "SKU-1", "W-1", listed=False)
    sync.stock("CHI", "SKU-1", 6)
    time.sleep(0.3)
    assert sync.pushes("WEB") == []
    sync.list("WEB", "SKU-1", "W-1")
    sync.wait_items("WEB", [("W-1", 6)])


def test_an_order_reserving_stock_lowers_what_the_channel_sees(sync: Sync) -> None:
    sync.channel("WEB", SKU_1="W-1")
    sync.stock("CHI", "SKU-1", 10)
    sync.wait_items("WEB", [("W-1", 10)])
    with sync.services.db.write() as w:
        orders.put_order(w, "WEB", "1001", OrderIn.model_validate(order_body(("SKU-1", 4))))
    sync.wait_items("WEB", [("W-1", 10), ("W-1", 6)])
    with sync.services.db.write() as w:  # the reservation given back
        assert reservations.cancel_reservations(w, orders.order_id(w, "WEB-1001")) == 4
    sync.wait_items("WEB", [("W-1", 10), ("W-1", 6), ("W-1", 10)])


SITE_SECRET = "whsec_" + "C" * 44


def site_event(s: Sync, event_id: str, data: dict[str, Any], secret: str = SITE_SECRET) -> Any:
    """POST a site's signed webhook to the OMS intake, as the edge's relay does."""
    body = json.dumps(
        {"type": "inventory.changed", "id": event_id, "timestamp": iso(), "data": data},
        separators=(",", ":"),
    ).encode()
    headers = {**signed_headers(secret, event_id, body), "content-type": "application/json"}
    return s.client.post("/api/v1/sites/CHI/events", content=body, headers=headers)


def test_a_return_restocked_raises_availability_and_the_channel_receives_it(
    sync: Sync,
) -> None:
    """Both directions signed: the site's event is checked by the OMS intake (a forged one
    changes nothing), the push by the channel (the reference library)."""
    with sync.services.db.write() as w:
        put_site(
            w,
            "CHI",
            SiteIn(name="CHI", base_url="http://127.0.0.1:1", webhook_secret=SITE_SECRET),
            base_url="http://127.0.0.1:1",
        )
    sync.channel("WEB", pct="10", SKU_1="W-1")
    sync.stock("CHI", "SKU-1", 9)
    sync.wait_items("WEB", [("W-1", 8)])  # floor(8.1)
    # The site restocks one returned unit (a `return` movement): its event says ATP is 10.
    restock = {
        "site": "CHI",
        "sku": "SKU-1",
        "type": "return",
        "qty": 1,
        "to": {"location": "RET-01", "lpn": None, "status": "available"},
        "available": 10,
        "atp": 10,
    }
    forged = site_event(sync, "evt_forged", restock, secret="whsec_" + "D" * 44)
    assert_response(forged, 401 if forged.status_code == 401 else 403)
    assert forged.json()["message"]["code"] == "SITE_EVENT_SIGNATURE_INVALID"
    time.sleep(0.3)
    assert sync.items("WEB") == [("W-1", 8)]  # nothing changed, nothing pushed
    applied = assert_response(site_event(sync, "evt_restock", restock), 200)
    assert applied["changes"] == [{"sku": "SKU-1", "available": 10, "recorded": True}]
    sync.wait_items("WEB", [("W-1", 8), ("W-1", 9)])  # 10 with 10 %: 9
    assert sync.receiver.rejected == []


@pytest.fixture
def one_attempt(tmp_path: Path) -> Iterator[Sync]:
    """A push the channel does not acknowledge at once fails for good."""
    yield from _make(tmp_path, webhook_max_attempts=1)


def test_the_reconciliation_repairs_a_push_the_channel_missed(one_attempt: Sync) -> None:
    s = one_attempt
    s.channel("WEB", SKU_1="W-1", SKU_2="W-2")
    s.receiver.replies = [503]  # the channel is down for the first push: it fails for good
    s.stock("CHI", "SKU-1", 7)
    wait_until(
        lambda: s.services.db.query_one(
            "SELECT 1 AS x FROM webhook_deliveries WHERE status = 'failed'"
        ),
        5,
        "the failed push",
    )
    s.stock("CHI", "SKU-2", 2)
    s.wait_items("WEB", [("W-2", 2)])  # SKU-1's 7 was missed
    items = assert_response(s.client.get("/api/v1/channels/WEB/skus", headers=s.admin), 200)
    missed = {i["sku"]: i["published"]["acknowledged"] for i in items["items"]}
    assert missed == {"SKU-1": False, "SKU-2": True}
    done = assert_response(s.send("POST", "/channels/WEB/reconcile"), 202)
    assert done["skus"] == 2 and len(done["events"]) == 1
    s.wait_items("WEB", [("W-2", 2), ("W-1", 7), ("W-2", 2)])
    snapshot = s.pushes("WEB")[-1]
    assert snapshot["reason"] == "reconcile"
    assert snapshot["snapshot"]["part"] == snapshot["snapshot"]["parts"] == 1
    # The periodic reconciliation does the same for every channel that is due.
    assert channel_sync.reconcile_due(s.services.db, 0.0) == ["WEB"]
    s.wait_items("WEB", [("W-2", 2), ("W-1", 7), ("W-2", 2), ("W-1", 7), ("W-2", 2)])
    assert channel_sync.reconcile_due(s.services.db, 3600.0) == []


def test_a_new_buffer_is_pushed_and_a_resumed_channel_gets_every_sku_again(sync: Sync) -> None:
    sync.channel("WEB", SKU_1="W-1")
    sync.stock("CHI", "SKU-1", 20)
    sync.wait_items("WEB", [("W-1", 20)])
    body = {"name": "WEB", "endpoint_url": sync.receiver.url("/WEB"), "buffer_pct": "25"}
    assert_response(sync.send("PUT", "/channels/WEB", json=body), 200)
    sync.wait_items("WEB", [("W-1", 20), ("W-1", 15)])
    assert_response(sync.send("DELETE", "/channels/WEB"), 200)
    sync.stock("CHI", "SKU-1", 8)
    time.sleep(0.3)
    assert sync.items("WEB") == [("W-1", 20), ("W-1", 15)]  # switched off: nothing pushed
    assert_response(sync.send("PUT", "/channels/WEB", json=body), 200)
    sync.wait_items("WEB", [("W-1", 20), ("W-1", 15), ("W-1", 6)])
