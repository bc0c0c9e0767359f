"""The OMS and a site lose each other for minutes, both keep working, and they converge.

A real OMS and a real edge site (CHI), each under uvicorn on 127.0.0.1, talk to each other
only through two TCP links (`Link`, a forwarder on loopback): the OMS reaches the site's API
through one, the site's signed webhooks reach the OMS through the other. Cutting a link is a
network partition — connections reset, new ones refused — while the site's own workers still
reach their server directly (the WAN is down, the warehouse LAN is not).

Time passes on the real schedules, scaled by settings rather than slept: the site's relay
retries with its backoff (base and cap 1/200 of the defaults, the default 12 attempts), the
OMS's site loop retries releases with its own (`site_poll_seconds`,
`release_retry_max_seconds`, 1/200 of the defaults). In the first case the partition lasts until
the site's oldest event has been tried 8 times — past the 4-minute mark of the default
schedule; in the third it outlasts the relay's whole schedule (over 32 minutes by default).
The second case cuts the link after the receiver committed and before its answer got back.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from oms_site_support import (
    Edge,
    admin_key,
    channel_key,
    edge_keys,
    idem,
    make_edge,
    order_body,
    receive,
    register_site,
    serve,
)
from test_oms_foundation import oms_settings
from test_oms_split_e2e import _ship
from webhook_receiver import wait_until

from edge_server.app import create_app
from edge_server.oms.app import create_oms_app
from edge_server.oms.services import OmsServices, open_oms_services
from edge_server.wms.ledger import check_ledger
from edge_server.wms.outbound.allocation import availability_snapshot

from conftest import assert_response

#: The defaults (base 1 s, cap 900 s; site loop 5 s, release retry cap 300 s) at 1/200.
SCALE = 1 / 200
#: Attempts of the site's oldest event before the partition heals: 8 is ~4 min by default.
PARTITION_ATTEMPTS = 8


class Link:
    """A TCP forwarder on 127.0.0.1 in front of `port`: `cut()` resets every connection and
    refuses new ones until `heal()`; `lose_replies(n, to=prefix)` lets the next `n` requests
    starting with `prefix` reach the server but drops their answers (the connection is reset
    instead). `replies` keeps what the server answered and got through, `lost` what it
    answered and never arrived."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.up = True
        self.replies = bytearray()
        self.lost = bytearray()
        self._to_lose = 0
        self._lose_prefix = b""
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="link").start()

    # -- control --------------------------------------------------------------------------
    def cut(self) -> None:
        with self._lock:
            self.up = False
            for s in list(self._open):
                _reset(s)
            self._open.clear()

    def heal(self) -> None:
        with self._lock:
            self.up = True

    def lose_replies(self, n: int, to: bytes = b"") -> None:
        with self._lock:
            self._to_lose, self._lose_prefix = n, to

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._listener.close()

    # -- forwarding -----------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                up = self.up
            if not up:
                _reset(client)
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.port))
            except OSError:
                _reset(client)
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._open |= {client, server}
            request = bytearray()  # the latest request's first bytes on this connection
            threading.Thread(
                target=self._requests, args=(client, server, request), daemon=True
            ).start()
            threading.Thread(
                target=self._answers, args=(server, client, request), daemon=True
            ).start()

    def _requests(self, src: socket.socket, dst: socket.socket, request: bytearray) -> None:
        try:
            while data := src.recv(65536):
                if data[:1].isalpha():  # a new request line (bodies here are JSON)
                    request[:] = data[:200]
                dst.sendall(data)
        except OSError:
            pass
        self._drop(src, dst)

    def _answers(self, src: socket.socket, dst: socket.socket, request: bytearray) -> None:
        try:
            while data := src.recv(65536):
                with self._lock:
                    lose = self._to_lose > 0 and bytes(request).startswith(self._lose_prefix)
                    if lose:
                        self._to_lose -= 1
                if lose:  # the server did the work; its answer never arrives
                    self.lost += _rest(src, data)
                    break
                self.replies += data
                dst.sendall(data)
        except OSError:
            pass
        self._drop(src, dst)

    def _drop(self, a: socket.socket, b: socket.socket) -> None:
        with self._lock:
            self._open -= {a, b}
        _reset(a)
        _reset(b)


def _rest(s: socket.socket, first: bytes) -> bytes:
    """The rest of the answer that begins with `first` (by its content-length)."""
    data = first
    s.settimeout(5)
    with contextlib.suppress(OSError):
        while b"\r\n\r\n" not in data and (chunk := s.recv(65536)):
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: *(\d+)", head)
        while length and len(body) < int(length.group(1)) and (chunk := s.recv(65536)):
            body += chunk
            data += chunk
    return data


def _reset(s: socket.socket) -> None:
    """Reset the connection (a partition), waking whoever is blocked reading it."""
    with contextlib.suppress(OSError):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        s.close()


# -- the two systems ----------------------------------------------------------------------
@pytest.fixture
def relay_scale() -> float:
    """The site relay's backoff as a fraction of the defaults."""
    return SCALE


@pytest.fixture
def reconcile_seconds() -> float:
    """The OMS's reconciliation interval (0: never, the events alone must do)."""
    return 0


@pytest.fixture
def oms(tmp_path: Path, reconcile_seconds: float) -> Iterator[OmsServices]:
    services = open_oms_services(
        oms_settings(
            tmp_path,
            site_sync_enabled=True,
            site_poll_seconds=5.0 * SCALE,
            release_retry_max_seconds=300.0 * SCALE,
            site_reconcile_seconds=reconcile_seconds,
            auto_release=True,
            channel_sync_enabled=False,
        )
    )
    yield services
    services.db.close()


@pytest.fixture
def chi(tmp_path: Path, relay_scale: float) -> Iterator[Edge]:
    edge = make_edge(
        tmp_path,
        "CHI",
        webhook_backoff_base_seconds=1.0 * relay_scale,
        webhook_backoff_max_seconds=900.0 * relay_scale,
        webhook_max_attempts=12,
    )
    receive(edge, "A01-01-1L", "SOAP-1", 10)
    yield edge
    edge.services.db.close()


class World:
    """The OMS and CHI serving, wired through the two links."""

    def __init__(
        self, oms: OmsServices, chi: Edge, http: httpx.Client, to_site: Link, to_oms: Link
    ) -> None:
        self.oms, self.chi, self.http = oms, chi, http
        self.to_site, self.to_oms = to_site, to_oms
        self.admin = admin_key(oms)
        self.web = channel_key(oms, "WEB")

    def order(self, number: str, lines: list[tuple[str, int]]) -> dict[str, Any]:
        put = self.http.put(
            f"/api/v1/orders/{number}", json=order_body(lines), headers=idem(self.web)
        )
        found: dict[str, Any] = assert_response(put, 201)["order"]
        return found

    def oms_stock(self) -> dict[str, int]:
        return {
            r["sku"]: r["available"]
            for r in self.oms.db.query(
                "SELECT t.sku, t.available FROM site_stock t JOIN sites s ON s.id = t.site_id "
                "WHERE s.code = 'CHI' AND t.available > 0 ORDER BY t.sku"
            )
        }

    def site_atp(self) -> dict[str, int]:
        levels, _ = availability_snapshot(self.chi.services.db, "CHI")
        return {sku: n for sku, n in sorted(levels.items()) if n > 0}

    def release_states(self) -> dict[str, str]:
        return {
            r["number"]: r["release_state"]
            for r in self.oms.db.query("SELECT number, release_state FROM fulfillments")
        }

    def pending_deliveries(self) -> int:
        row = self.chi.services.db.query_one(
            "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'pending'"
        )
        assert row is not None
        return int(row["n"])

    def head_attempts(self) -> int:
        row = self.chi.services.db.query_one(
            "SELECT attempts FROM webhook_deliveries WHERE status = 'pending' "
            "ORDER BY outbox_id LIMIT 1"
        )
        return int(row["attempts"]) if row else 0

    def site_orders(self) -> list[dict[str, Any]]:
        return self.chi.services.db.query(
            "SELECT o.number, l.qty_ordered FROM fulfillment_orders o "
            "JOIN fo_lines l ON l.order_id = o.id ORDER BY o.number"
        )

    def order_status(self, number: str) -> str:
        row = self.oms.db.query_one("SELECT status FROM orders WHERE number = ?", [number])
        assert row is not None
        return str(row["status"])

    def settled(self) -> bool:
        return (
            self.pending_deliveries() == 0
            and all(s == "sent" for s in self.release_states().values())
            and self.oms_stock() == self.site_atp()
        )


@pytest.fixture
def world(oms: OmsServices, chi: Edge) -> Iterator[World]:
    with (
        serve(create_app(chi.services.settings, chi.services)) as chi_url,
        serve(create_oms_app(oms.settings, oms)) as oms_url,
        httpx.Client(base_url=oms_url, timeout=30) as http,
    ):
        to_site = Link(int(chi_url.rsplit(":", 1)[1]))
        to_oms = Link(int(oms_url.rsplit(":", 1)[1]))
        try:
            w = World(oms, chi, http, to_site, to_oms)
            integration, edge_admin = edge_keys(chi)
            register_site(http, w.admin, "CHI", to_site.url, integration)
            sub = http.post(
                "/api/v1/sites/CHI/subscribe",
                json={"public_url": to_oms.url, "admin_key": edge_admin},
                headers=idem(w.admin),
            )
            assert assert_response(sub, 200)["intake_url"].startswith(to_oms.url)
            receive(chi, "A01-01-1L", "SOAP-1", 1)  # an event after the subscription
            wait_until(lambda: w.oms_stock() == {"SOAP-1": 11}, what="CHI's stock at the OMS")
            yield w
        finally:
            to_site.close()
            to_oms.close()


def _assert_converged(w: World) -> None:
    """Nothing lost, nothing doubled, once both sides have delivered and retried."""
    chi, oms = w.chi.services.db, w.oms.db
    # the OMS promises exactly what the site can
    assert w.oms_stock() == w.site_atp()
    # nothing left in the site's outbox; nothing given up on
    statuses = {
        r["status"]: r["n"]
        for r in chi.query("SELECT status, COUNT(*) AS n FROM webhook_deliveries GROUP BY status")
    }
    assert set(statuses) == {"delivered"}, statuses
    # every event the site sent was taken exactly once by the OMS
    sent = {r["event_id"] for r in chi.query("SELECT event_id FROM outbox")}
    seen = oms.query("SELECT webhook_id FROM site_events_seen")
    assert len(seen) == len({r["webhook_id"] for r in seen})
    delivered = {
        r["event_id"]
        for r in chi.query(
            "SELECT o.event_id FROM webhook_deliveries d JOIN outbox o ON o.id = d.outbox_id"
        )
    }
    assert {r["webhook_id"] for r in seen} == delivered <= sent
    # every FO the OMS released is at the site exactly once, with what the OMS asked
    fos = oms.query("SELECT number, lines_json, release_state FROM fulfillments ORDER BY number")
    assert {f["release_state"] for f in fos} == {"sent"}
    site_fos = chi.query("SELECT number FROM fulfillment_orders ORDER BY number")
    assert [f["number"] for f in site_fos] == [f["number"] for f in fos]
    # the OMS holds no reservation the site holds too
    held = oms.query("SELECT COUNT(*) AS n FROM reservations WHERE status = 'held'")
    assert held == [{"n": 0}]
    assert check_ledger(chi).ok


def test_a_partition_of_minutes_heals_with_nothing_lost_or_doubled(world: World) -> None:
    w = world
    # -- before: WEB-1001 (2 soaps) goes to CHI by itself ------------------------------------
    w.order("1001", [("SOAP-1", 2)])
    wait_until(lambda: w.release_states() == {"WEB-1001-CHI": "sent"}, what="WEB-1001 released")
    wait_until(lambda: w.settled(), what="in step before the partition")
    assert w.oms_stock() == {"SOAP-1": 9}
    before = w.order_status("WEB-1001")
    assert before == "allocated"

    # -- the WAN goes down, both ways ---------------------------------------------------------
    w.to_site.cut()
    w.to_oms.cut()

    # the site works on: WEB-1001 is picked, packed and shipped; stock arrives
    tracking = _ship(w.chi, _site_url(w), "WEB-1001-CHI", 2)
    receive(w.chi, "A01-01-1L", "SOAP-1", 5)
    receive(w.chi, "A01-01-1L", "MUG-1", 4)
    # the OMS works on: new orders are reserved against what it last heard of CHI and their
    # releases wait, retried on the site loop's schedule
    assert w.order("1002", [("SOAP-1", 3)])["status"] == "reserved"
    assert w.order("1003", [("SOAP-1", 6), ("MUG-1", 1)])["status"] in (
        "partially_reserved",
        "backordered",
    )  # the OMS has not heard of the 5 soaps and 4 mugs that arrived: it cannot promise them
    wait_until(
        lambda: _release_attempts(w, "WEB-1002-CHI") >= 3, what="the OMS retrying the release"
    )
    wait_until(
        lambda: w.head_attempts() >= PARTITION_ATTEMPTS, what="the site retrying its oldest event"
    )

    # while apart: the site's events wait in order, nothing given up; the OMS still thinks
    # WEB-1001 is at the site and CHI has the soaps it had
    assert w.pending_deliveries() >= 10
    assert w.chi.services.db.query("SELECT 1 FROM webhook_deliveries WHERE status='failed'") == []
    assert w.order_status("WEB-1001") == before
    assert w.order_status("WEB-1002") == "released"  # on its way: no longer cancellable
    assert w.oms_stock() == {"SOAP-1": 9}
    fo = w.oms.db.query_one("SELECT * FROM fulfillments WHERE number = 'WEB-1002-CHI'")
    assert fo is not None and fo["release_state"] == "pending" and fo["last_error"]
    assert [o["number"] for o in w.site_orders()] == ["WEB-1001-CHI"]
    metrics = httpx.get(f"{_site_url(w)}/metrics").text
    assert _gauge(metrics, "aisleway_outbox_backlog_events") >= 10

    # -- the OMS's way to the site comes back first: its releases go through, and the
    # site's answer (the stock after allocation) is newer than every event still queued --
    w.to_site.heal()
    wait_until(lambda: w.release_states().get("WEB-1002-CHI") == "sent", what="WEB-1002 sent")
    assert w.oms_stock() == {"SOAP-1": 11}  # 10 + 1 + 5 received, 2 shipped, 3 allocated
    w.to_oms.heal()
    wait_until(w.settled, timeout=20, what="convergence after the partition")
    # the queued stock events of SOAP-1 were older than that answer: taken, not applied
    assert b'"sku":"SOAP-1","available":9,"recorded":false' in w.to_oms.replies
    assert b'"sku":"SOAP-1","available":14,"recorded":false' in w.to_oms.replies

    # the backorder of WEB-1003 filled from the stock the OMS had not heard of, and went too
    wait_until(lambda: w.order_status("WEB-1003") != "partially_reserved", what="WEB-1003")
    wait_until(w.settled, timeout=20, what="convergence after WEB-1003")
    _assert_converged(w)
    assert w.site_atp() == {"MUG-1": 3, "SOAP-1": 5}  # 16 soaps - 2 shipped - 3 - 6 allocated
    assert w.site_orders() == [
        {"number": "WEB-1001-CHI", "qty_ordered": 2},
        {"number": "WEB-1002-CHI", "qty_ordered": 3},
        {"number": "WEB-1003-CHI", "qty_ordered": 6},
        {"number": "WEB-1003-CHI", "qty_ordered": 1},
    ]
    assert w.order_status("WEB-1001") == "shipped"
    # the shipment is recorded once at the OMS
    oms = w.oms.db
    shipped = oms.query(
        "SELECT j.detail_json FROM journey j JOIN orders o ON o.id = j.order_id "
        "WHERE o.number = 'WEB-1001' AND j.event = 'shipment.created'"
    )
    assert len(shipped) == 1 and tracking in shipped[0]["detail_json"]
    lines = oms.query("SELECT sku, qty FROM shipped_lines")
    assert lines == [{"sku": "SOAP-1", "qty": 2}]
    changed = oms.query(
        "SELECT COUNT(*) AS n FROM order_history WHERE event = 'fulfillment_changed' "
        "AND detail_json LIKE '%shipment.created%'"
    )
    assert changed == [{"n": 1}]


def test_answers_lost_mid_delivery_change_nothing_when_resent(world: World) -> None:
    """The partition starts after the receiver committed and before its answer got back:
    the sender retries, the receiver recognises the retry, nothing is doubled."""
    w = world
    chi, oms = w.chi.services.db, w.oms.db
    # -- site → OMS: the OMS applies the event, its answer is lost, twice ----------------------
    w.to_oms.lose_replies(2)
    receive(w.chi, "A01-01-1L", "SOAP-1", 2)
    wait_until(lambda: w.pending_deliveries() == 0, what="the event delivered in the end")
    (delivery,) = chi.query(
        "SELECT o.event_id, d.attempts, d.status FROM webhook_deliveries d "
        "JOIN outbox o ON o.id = d.outbox_id ORDER BY d.id DESC LIMIT 1"
    )
    assert (delivery["attempts"], delivery["status"]) == (3, "delivered")
    assert w.to_oms.lost.count(b'"outcome":"applied"') == 1
    assert w.to_oms.lost.count(b'"outcome":"duplicate"') == 1
    assert b'"outcome":"duplicate"' in w.to_oms.replies
    taken = oms.query(
        "SELECT outcome FROM site_events_seen WHERE webhook_id = ?", [delivery["event_id"]]
    )
    assert taken == [{"outcome": "applied"}]
    assert w.oms_stock() == w.site_atp() == {"SOAP-1": 13}

    # -- OMS → site: the site stores the FO, the OMS never hears so, and sends it again ----------
    w.to_site.lose_replies(1, to=b"PUT /api/v1/fulfillment-orders/")
    w.order("1004", [("SOAP-1", 2)])
    wait_until(lambda: w.release_states() == {"WEB-1004-CHI": "sent"}, what="WEB-1004 sent")
    # -- and the site allocates it, and that answer is lost ------------------------------------
    w.to_site.lose_replies(1, to=b"POST /api/v1/fulfillment-orders/")
    w.order("1005", [("SOAP-1", 3)])
    wait_until(lambda: w.release_states().get("WEB-1005-CHI") == "sent", what="WEB-1005 sent")
    assert b"WEB-1004-CHI" in w.to_site.lost and b"WEB-1005-CHI" in w.to_site.lost
    attempts = {r["number"]: r["attempts"] for r in oms.query("SELECT * FROM fulfillments")}
    assert attempts == {"WEB-1004-CHI": 1, "WEB-1005-CHI": 1}
    assert w.site_orders() == [
        {"number": "WEB-1004-CHI", "qty_ordered": 2},
        {"number": "WEB-1005-CHI", "qty_ordered": 3},
    ]
    allocated = chi.query(
        "SELECT o.number, SUM(a.qty) AS qty FROM allocations a "
        "JOIN fo_lines l ON l.id = a.order_line_id JOIN fulfillment_orders o ON o.id = l.order_id "
        "GROUP BY o.number ORDER BY o.number"
    )
    assert allocated == [{"number": "WEB-1004-CHI", "qty": 2}, {"number": "WEB-1005-CHI", "qty": 3}]
    outcomes = [
        (e["data"]["number"], e["data"]["outcome"])
        for e in _events(w.chi, "fulfillment_order.changed")
    ]
    assert outcomes == [
        ("WEB-1004-CHI", "created"),
        ("WEB-1004-CHI", "allocated"),
        ("WEB-1005-CHI", "created"),
        ("WEB-1005-CHI", "allocated"),
    ]
    wait_until(w.settled, what="in step")
    _assert_converged(w)
    assert w.oms_stock() == {"SOAP-1": 8}


@pytest.mark.parametrize(("relay_scale", "reconcile_seconds"), [(1 / 20_000, 300 * SCALE)])
def test_a_partition_longer_than_the_relay_retries_loses_nothing(world: World) -> None:
    """Past the relay's last attempt (32 min by default) the site gives up on the oldest
    events (`failed`) and sends the later ones. The OMS's reconciliation takes what it
    missed from the site's event feed; a retry by hand afterwards is a duplicate."""
    w = world
    chi = w.chi.services.db
    w.order("1001", [("SOAP-1", 2)])
    wait_until(lambda: w.release_states() == {"WEB-1001-CHI": "sent"}, what="WEB-1001 released")
    wait_until(w.settled, what="in step before the partition")
    w.to_site.cut()
    w.to_oms.cut()
    tracking = _ship(w.chi, _site_url(w), "WEB-1001-CHI", 2)
    receive(w.chi, "A01-01-1L", "MUG-1", 4)
    shipment = chi.query_one("SELECT id FROM outbox WHERE type = 'shipment.created'")
    assert shipment is not None

    def given_up() -> bool:
        row = chi.query_one(
            "SELECT status FROM webhook_deliveries WHERE outbox_id = ?", [shipment["id"]]
        )
        return row is not None and row["status"] == "failed"

    wait_until(given_up, what="the relay giving up on shipment.created")
    metrics = httpx.get(f"{_site_url(w)}/metrics").text
    assert 'aisleway_webhook_deliveries{status="failed"}' in metrics

    w.to_site.heal()
    w.to_oms.heal()
    wait_until(lambda: w.order_status("WEB-1001") == "shipped", what="the shipment at the OMS")
    wait_until(w.settled, what="convergence")
    oms = w.oms.db

    def recovered() -> list[dict[str, Any]]:
        return oms.query("SELECT detail_json FROM journey WHERE event = 'shipment.created'")

    # within a reconciliation interval (AISLEWAY_OMS_SITE_RECONCILE_SECONDS, scaled)
    shipped = wait_until(recovered, what="the lost shipment.created recovered")
    assert len(shipped) == 1 and tracking in shipped[0]["detail_json"]
    assert oms.query("SELECT sku, qty FROM shipped_lines") == [{"sku": "SOAP-1", "qty": 2}]
    # every event the OMS subscribed to was taken once, delivered or not
    wanted = {
        r["event_id"]
        for r in chi.query(
            "SELECT o.event_id FROM webhook_deliveries d JOIN outbox o ON o.id = d.outbox_id"
        )
    }

    def taken() -> set[str]:
        return {r["webhook_id"] for r in oms.query("SELECT webhook_id FROM site_events_seen")}

    wait_until(lambda: taken() == wanted, what="every missed event taken")
    # reconciling again finds nothing more to take
    again = w.http.post("/api/v1/sites/CHI/reconcile", headers=idem(w.admin))
    assert assert_response(again, 200)["recovered"] == 0
    # the operator retries the failed deliveries: the OMS answers "duplicate"
    _, edge_admin = edge_keys(w.chi)
    failed = chi.query("SELECT id FROM webhook_deliveries WHERE status = 'failed'")
    assert failed
    for d in failed:
        retried = httpx.post(
            f"{_site_url(w)}/api/v1/webhooks/deliveries/{d['id']}/retry",
            headers=idem({"Authorization": f"Bearer {edge_admin}"}),
        )
        assert_response(retried, 200)
    wait_until(lambda: w.pending_deliveries() == 0, what="the retries delivered")
    assert w.to_oms.replies.count(b'"outcome":"duplicate"') >= len(failed)
    _assert_converged(w)


def _events(edge: Edge, kind: str) -> list[dict[str, Any]]:
    return [
        {"data": json.loads(r["payload_json"])}
        for r in edge.services.db.query(
            "SELECT payload_json FROM outbox WHERE type = ? ORDER BY id", [kind]
        )
    ]


def _release_attempts(w: World, number: str) -> int:
    row = w.oms.db.query_one("SELECT attempts FROM fulfillments WHERE number = ?", [number])
    return int(row["attempts"]) if row else 0


def _site_url(w: World) -> str:
    return f"http://127.0.0.1:{w.to_site.port}"


def _gauge(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")
