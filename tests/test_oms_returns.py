"""OMS returns over real HTTP on loopback: a live edge (CHI) and the OMS. An order is released
to CHI, a signed `shipment.created` ships it; the channel issues an RMA (refusals change
nothing), CHI is told to expect it (its own `GET /returns/{rma}` shows it), signed
`return.received` / `return.closed` events move the order and bring the refund event and
e-mails. A site that does not answer leaves the RMA pending until the site loop retries."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
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

from edge_server.app import create_app
from edge_server.integration.signing import generate_secret, signed_headers
from edge_server.oms.app import create_oms_app
from edge_server.oms.release import SiteLoop, release_order
from edge_server.oms.reservations import set_site_stock
from edge_server.oms.services import OmsServices, open_oms_services
from edge_server.timeutil import iso

from conftest import assert_response

SECRET = generate_secret()
_events = iter(range(1, 10_000))


@dataclass
class World:
    oms: OmsServices
    chi: Edge
    http: httpx.Client  # to the OMS
    edge: httpx.Client  # to CHI, with its integration key
    admin: dict[str, str]
    channel: dict[str, str]
    sent: dict[str | None, dict[str, Any]] = field(default_factory=dict)

    def event(self, kind: str, data: dict[str, Any], event_id: str | None = None) -> Any:
        if event_id in self.sent:  # a redelivery: the very same body
            body = self.sent[event_id]
        else:
            body = {
                "id": event_id or f"evt_{next(_events)}",
                "type": kind,
                "timestamp": iso(),
                "data": {"site": "CHI", **data},
            }
            self.sent[body["id"]] = body
        raw = json.dumps(body)
        headers = signed_headers(SECRET, body["id"], raw, timestamp=int(time.time()))
        answer = self.http.post(
            "/api/v1/sites/CHI/events",
            content=raw,
            headers={**headers, "content-type": "application/json"},
        )
        return assert_response(answer, 200)

    def order(self, coid: str, lines: list[tuple[str, int]], **extra: Any) -> str:
        body = order_body(lines)
        for ln in body["lines"]:
            ln["unit_price"] = "4.50"
        body.update({"customer_email": "ada@example.com", **extra})
        put = self.http.put(f"/api/v1/orders/{coid}", json=body, headers=idem(self.channel))
        number: str = assert_response(put, 201)["order"]["number"]
        return number

    def ship(self, number: str, cartons: list[tuple[str, int]]) -> str:
        """Release `number` to CHI, then CHI's signed `shipment.created` with `cartons`
        (tracking, units of SOAP-1); returns the FO number."""
        view = release_order(self.oms, number)
        (fo,) = view["fulfillment_orders"]
        assert fo["release_state"] == "sent"
        qty = sum(q for _, q in cartons)
        self.event(
            "shipment.created",
            {
                "number": fo["number"],
                "carrier_service": "UPS-GROUND",
                "shipped_at": iso(),
                "cartons": [
                    {
                        "sscc": f"00{i:016d}",
                        "tracking": t,
                        "contents": [{"sku": "SOAP-1", "qty": q}],
                    }
                    for i, (t, q) in enumerate(cartons, 1)
                ],
                "lines": [{"line_no": 1, "sku": "SOAP-1", "qty_ordered": qty, "qty_shipped": qty}],
            },
        )
        return str(fo["number"])

    def emails(self, kind: str | None = None) -> list[dict[str, Any]]:
        rows = self.oms.db.query(
            "SELECT dedupe_key, kind, to_addr, context_json FROM emails ORDER BY id"
        )
        return [r for r in rows if kind is None or r["kind"] == kind]

    def history(self, number: str) -> list[dict[str, Any]]:
        answer = self.http.get(f"/api/v1/orders/{number}", headers=self.admin)
        events: list[dict[str, Any]] = assert_response(answer, 200)["history"]
        return events


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    oms = open_oms_services(oms_settings(tmp_path, site_poll_seconds=0.05))
    chi = make_edge(tmp_path, "CHI")
    receive(chi, "A01-01-1L", "SOAP-1", 5)
    integration, _ = edge_keys(chi)
    with (
        serve(create_app(chi.services.settings, chi.services)) as chi_url,
        serve(create_oms_app(oms.settings, oms)) as oms_url,
        httpx.Client(base_url=oms_url, timeout=30) as http,
        httpx.Client(
            base_url=chi_url, timeout=30, headers={"Authorization": f"Bearer {integration}"}
        ) as edge,
    ):
        admin = admin_key(oms)
        register_site(http, admin, "CHI", chi_url, integration)
        put = http.put(
            "/api/v1/sites/CHI",
            json={"name": "CHI", "base_url": chi_url, "webhook_secret": SECRET},
            headers=idem(admin),
        )
        assert put.status_code == 200, put.text
        with oms.db.write() as w:
            set_site_stock(w, "CHI", "SOAP-1", 5, iso())
        yield World(oms, chi, http, edge, admin, channel_key(oms, "WEB"))
    oms.db.close()


def _snapshot(oms: OmsServices) -> tuple[Any, ...]:
    return tuple(
        oms.db.query(f"SELECT * FROM {table}")
        for table in ("returns", "return_lines", "order_history", "outbox", "emails", "journey")
    )


def test_an_rma_is_issued_and_the_site_expects_it_and_the_refund_follows_the_close(
    world: World,
) -> None:
    number = world.order("1001", [("SOAP-1", 3)])
    fo = world.ship(number, [("1Z0000000001", 3)])

    post = world.http.post(
        f"/api/v1/orders/{number}/returns",
        json={"lines": [{"sku": "SOAP-1", "qty": 2, "reason": "not_wanted"}]},
        headers=idem(world.channel),
    )
    rma = assert_response(post, 201)["return"]
    assert rma["site_state"] == "sent" and rma["status"] == "open"
    assert rma["fulfillment_order"] == fo and rma["site"] == "CHI"
    assert rma["label"]["barcode"] == f"RMA-{rma['rma']}"
    assert [(ln["sku"], ln["qty"], ln["reason"], ln["unit_price"]) for ln in rma["lines"]] == [
        ("SOAP-1", 2, "not_wanted", "4.50")
    ]

    # CHI expects it: its own returns API shows the RMA with the label and the lines
    at_site = assert_response(world.edge.get(f"/api/v1/returns/{rma['rma']}"), 200)
    assert at_site["status"] == "expected"
    assert at_site["tracking"] == rma["label"]["tracking"]
    assert at_site["order"] == fo
    assert [(ln["sku"], ln["qty_expected"]) for ln in at_site["lines"]] == [("SOAP-1", 2)]

    # the site receives one unit: journey step, RMA progress, one e-mail
    received = {
        "rma": rma["rma"],
        "order": fo,
        "line_no": 1,
        "sku": "SOAP-1",
        "qty": 1,
        "sellable_qty": 1,
        "disposition": "restock",
    }
    world.event("return.received", received, "evt_rr_1")
    world.event("return.received", received, "evt_rr_1")  # redelivered: nothing new
    view = assert_response(
        world.http.get(f"/api/v1/returns/{rma['rma']}", headers=world.admin), 200
    )
    assert view["status"] == "receiving" and view["lines"][0]["qty_received"] == 1
    journey = assert_response(
        world.http.get(f"/api/v1/orders/{number}/journey", headers=world.admin), 200
    )
    returned = next(s for s in journey["steps"] if s["step"] == "returned")
    assert returned["reached"] == "all"
    (mail,) = world.emails("return_received")
    assert mail["dedupe_key"] == f"rma:{rma['rma']}:received:evt_rr_1"
    assert json.loads(mail["context_json"])["lines"][0] == {
        "sku": "SOAP-1",
        "description": "",
        "quantity": 1,
        "unit_price": None,
    }

    # closed with 2 received (one not sellable): both are refunded at the line's price
    closed = {
        "rma": rma["rma"],
        "order": fo,
        "complete": True,
        "units_received": 2,
        "lines": [
            {"line_no": 1, "sku": "SOAP-1", "qty_expected": 2, "qty_received": 2, "qty_sellable": 1}
        ],
    }
    world.event("return.closed", closed, "evt_rc_1")
    world.event("return.closed", closed, "evt_rc_2")  # another delivery id: refunded once
    view = assert_response(
        world.http.get(f"/api/v1/returns/{rma['rma']}", headers=world.admin), 200
    )
    assert view["status"] == "closed" and view["refund_amount"] == "9.00"
    refunds = [
        json.loads(r["payload_json"])
        for r in world.oms.db.query(
            "SELECT payload_json FROM outbox WHERE type = 'order.refund_issued'"
        )
    ]
    assert len(refunds) == 1
    assert {k: refunds[0][k] for k in ("number", "rma", "amount", "currency", "units")} == {
        "number": number,
        "rma": rma["rma"],
        "amount": "9.00",
        "currency": "USD",
        "units": 2,
    }
    (refund,) = world.emails("refund")
    assert refund["dedupe_key"] == f"refund:{rma['rma']}"
    assert json.loads(refund["context_json"])["amount"] == "9.00"
    order = assert_response(world.http.get(f"/api/v1/orders/{number}", headers=world.admin), 200)
    assert order["status"] == "returned"


def test_refused_rmas_change_nothing(world: World) -> None:
    unshipped = world.order("2001", [("SOAP-1", 1)])
    number = world.order("2002", [("SOAP-1", 2)])
    world.ship(number, [("1Z0000000002", 2)])
    first = world.http.post(
        f"/api/v1/orders/{number}/returns",
        json={"lines": [{"sku": "SOAP-1", "qty": 1, "reason": "damaged"}]},
        headers=idem(world.channel),
    )
    assert_response(first, 201)
    before = _snapshot(world.oms)
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        (
            unshipped,
            {"lines": [{"sku": "SOAP-1", "qty": 1, "reason": "damaged"}]},
            409,
            "RETURN_NOT_SHIPPED",
        ),
        # 2 shipped, 1 already on an RMA
        (
            number,
            {"lines": [{"sku": "SOAP-1", "qty": 2, "reason": "damaged"}]},
            422,
            "RETURN_QTY_EXCEEDED",
        ),
        (
            number,
            {"lines": [{"sku": "MUG-9", "qty": 1, "reason": "damaged"}]},
            422,
            "RETURN_QTY_EXCEEDED",
        ),
        (
            number,
            {"lines": [{"sku": "SOAP-1", "qty": 1, "reason": "ugly"}]},
            422,
            "VALIDATION_FAILED",
        ),
        (number, {"lines": []}, 422, "VALIDATION_FAILED"),
        (
            number,
            {"lines": [{"sku": "SOAP-1", "qty": 1, "reason": "damaged"}] * 2},
            422,
            "VALIDATION_FAILED",
        ),
        (
            number,
            {"lines": [{"sku": "SOAP-1", "qty": 0, "reason": "damaged"}]},
            422,
            "VALIDATION_FAILED",
        ),
        (
            "WEB-9999",
            {"lines": [{"sku": "SOAP-1", "qty": 1, "reason": "damaged"}]},
            404,
            "ORDER_NOT_FOUND",
        ),
    ]
    for target, body, status, code in cases:
        answer = world.http.post(
            f"/api/v1/orders/{target}/returns", json=body, headers=idem(world.channel)
        )
        assert_response(answer, status, code=code)
    _, secret = world.oms.api_keys.create("reader", role="reader")
    reader = world.http.post(
        f"/api/v1/orders/{number}/returns",
        json={"lines": [{"sku": "SOAP-1", "qty": 1, "reason": "damaged"}]},
        headers=idem({"Authorization": f"Bearer {secret}"}),
    )
    assert_response(reader, 403, code="FORBIDDEN_ROLE")
    assert _snapshot(world.oms) == before
    unknown = world.http.get("/api/v1/returns/2026-999999", headers=world.admin)
    assert_response(unknown, 404, code="RETURN_UNKNOWN")


def test_an_unreachable_site_leaves_the_rma_pending_until_the_loop_sends_it(
    world: World,
) -> None:
    number = world.order("3001", [("SOAP-1", 1)])
    world.ship(number, [("1Z0000000003", 1)])
    site = world.oms.db.query("SELECT base_url FROM sites WHERE code = 'CHI'")[0]["base_url"]
    with world.oms.db.write() as w:  # CHI moves to an address where nothing answers
        w.execute("UPDATE sites SET base_url = 'http://127.0.0.1:9' WHERE code = 'CHI'")
    post = world.http.post(
        f"/api/v1/orders/{number}/returns",
        json={"lines": [{"sku": "SOAP-1", "qty": 1, "reason": "defective"}]},
        headers=idem(world.channel),
    )
    rma = assert_response(post, 201)["return"]
    assert rma["site_state"] == "pending" and rma["last_error"]
    missing = world.edge.get(f"/api/v1/returns/{rma['rma']}")
    assert_response(missing, 404, code="RETURNS_RMA_UNKNOWN")
    with world.oms.db.write() as w:
        w.execute("UPDATE sites SET base_url = ? WHERE code = 'CHI'", [site])
        w.execute("UPDATE returns SET next_attempt_at = ?", [iso()])
    result = SiteLoop(world.oms).run_once()
    assert result["returns_sent"] == {rma["rma"]: "sent"}
    assert assert_response(world.edge.get(f"/api/v1/returns/{rma['rma']}"), 200)["status"] == (
        "expected"
    )
