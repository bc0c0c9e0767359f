"""End to end over real HTTP on loopback: the OMS sends fulfillment orders, a supervisor plans
and releases a wave, the pickers walk batched, routed tasks, the packer packs and the dock
ships — and the `shipment.created` events reach the OMS's webhook endpoint, signed.

Setup data (layout, items, stock) goes in through the domain code; everything a user or an
integration does afterwards goes through the HTTP API of a live server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from picking_support import Picker, gtin13, picking_site, put_stock
from webhook_receiver import Receiver, wait_until

from edge_server.services import Services
from edge_server.settings import Settings
from edge_server.wms.layout_store import stored_layout
from edge_server.wms.ledger import check_ledger
from edge_server.wms.routing.router import route

from conftest import Caller, LiveEdge, assert_response, login_as, make_settings

SERVICE = "UPS-GROUND"
RATE_CARD = {
    "currency": "USD",
    "weight_breaks_kg": ["1", "5", "30"],
    "zones": [
        {"name": "UK", "country": "GB", "prices": ["9.00", "14.00", "30.00"], "transit_days": 4}
    ],
}
# Four small orders (batch picking: one cart, one tote each) and one for a cold item.
ORDERS: dict[str, list[tuple[str, int]]] = {
    "SO-101": [("SOAP-1", 2), ("MUG-1", 1)],
    "SO-102": [("JAM-1", 3)],
    "SO-103": [("SOAP-1", 1), ("JAM-1", 1), ("MUG-1", 2)],
    "SO-104": [("MUG-1", 1)],
}
STOCK = [
    ("A01-01-1L", "SOAP-1", 20),
    ("A03-05-1R", "MUG-1", 20),
    ("A02-04-1L", "JAM-1", 20),
]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The live server runs its webhook relay (the default test settings turn it off)."""
    return make_settings(
        tmp_path,
        relay_enabled=True,
        webhook_backoff_base_seconds=0.05,
        webhook_backoff_max_seconds=0.2,
    )


@pytest.fixture
def site(services: Services) -> Services:
    picking_site(services)
    for location, sku, qty in STOCK:
        put_stock(services, location, sku, qty)
    return services


@pytest.fixture
def oms_endpoint() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def body_of(resp: httpx.Response, status: int = 200) -> dict[str, Any]:
    return assert_response(resp, status)


def order_body(lines: list[tuple[str, int]]) -> dict[str, Any]:
    return {
        "ship_to": {
            "name": "Grace Hopper",
            "address_lines": ["1 Poultry"],
            "city": "London",
            "postal_code": "EC2R 8EJ",
            "country": "GB",
        },
        "carrier_service": SERVICE,
        "lines": [{"line_no": n, "sku": sku, "qty": qty} for n, (sku, qty) in enumerate(lines, 1)],
    }


def test_order_to_shipment_over_http(
    site: Services, live_edge: LiveEdge, oms_endpoint: Receiver
) -> None:
    admin = login_as(site, "admin")
    oms = login_as(site, "integration")
    supervisor = login_as(site, "supervisor")
    picker_who = login_as(site, "picker")
    packer_who = login_as(site, "packer")
    with httpx.Client(base_url=live_edge.url, timeout=30) as http:
        # -- set-up an integrator and a supervisor do once --------------------------------------
        sub = body_of(
            http.post(
                "/api/v1/webhooks/subscribers",
                json={"url": oms_endpoint.url("/oms"), "event_types": ["shipment.*"]},
                headers=admin.with_key(),
            ),
            201,
        )
        oms_endpoint.expect("/oms", sub["secret"])
        service = {
            "carrier": "UPS",
            "name": "UPS Ground",
            "cutoff_local": "23:59",
            "ship_days": "1234567",
            "rate_card": RATE_CARD,
        }
        body_of(
            http.put(f"/api/v1/carrier-services/{SERVICE}", json=service, headers=admin.with_key()),
            201,
        )
        box = {"description": "Small box", "tare_kg": 0.2, "max_weight_kg": 20}
        body_of(http.put("/api/v1/carton-types/BOX-S", json=box, headers=admin.with_key()), 201)

        # -- the OMS sends and allocates the orders ---------------------------------------------
        for number, lines in ORDERS.items():
            fo = f"/api/v1/fulfillment-orders/{number}"
            body_of(http.put(fo, json=order_body(lines), headers=oms.with_key()), 201)
            allocated = body_of(http.post(f"{fo}/allocate", headers=oms.with_key()))
            assert allocated["outcome"] == "allocated"

        # -- a supervisor plans and releases the wave -------------------------------------------
        plan = body_of(http.post("/api/v1/waves/plan", headers=supervisor.with_key()))
        assert plan["unplanned"] == []
        (wave,) = plan["waves"]
        number = wave["number"]
        released = body_of(
            http.post(f"/api/v1/waves/{number}/release", headers=supervisor.with_key())
        )
        assert released["wave"]["status"] == "released"
        tasks = body_of(
            http.get("/api/v1/picking/tasks", params={"wave": number}, headers=supervisor.headers)
        )["tasks"]
        assert [t["strategy"] for t in tasks] == ["batch"]  # four small orders, one cart

        # the task is routed: its bins in the order the router walks them
        task = body_of(
            http.get(f"/api/v1/picking/tasks/{tasks[0]['task_id']}", headers=supervisor.headers)
        )
        bins = [line["bin"] for line in task["lines"]]
        layout = stored_layout(site.db, "CHI")
        assert layout is not None
        walked = route(layout, bins)
        assert list(dict.fromkeys(bins)) == walked.sequence
        assert task["route_length_m"] == pytest.approx(walked.length)

        # -- the picker walks it: one tote per order ---------------------------------------------
        picker = Picker(http, picker_who)
        picker.claim()
        picker.bind(*(f"TOTE-{n:04d}" for n in range(1, len(ORDERS) + 1)))
        picked = picker.pick_all()
        assert picker.state == "done"
        assert sum(line["qty_remaining"] for line in picked) == sum(
            q for lines in ORDERS.values() for _, q in lines
        )
        progress = body_of(http.get(f"/api/v1/waves/{number}", headers=supervisor.headers))
        assert progress["status"] == "done"

        # -- packing: every item verified, one carton per order ----------------------------------
        task = body_of(
            http.get(f"/api/v1/picking/tasks/{tasks[0]['task_id']}", headers=supervisor.headers)
        )
        for position in task["orders"]:
            order_no, tote = position["order"], position["tote"]
            packer = _Packer(http, packer_who)
            packer.step("start", {"barcode": tote})
            for sku, qty in ORDERS[order_no]:
                for _ in range(qty):
                    packer.step("scan", {"barcode": gtin13(sku)})
            done = packer.step("close-carton", {"carton_type": "BOX-S", "weight_kg": 1.5})
            assert done["next_state"] == "done"

        # -- the dock ships; the OMS hears of it --------------------------------------------------
        for order_no in ORDERS:
            shipped = body_of(
                http.post(
                    f"/api/v1/shipments/{order_no}/confirm", json={}, headers=packer_who.with_key()
                )
            )
            assert shipped["shipment"]["cartons"][0]["tracking"]
        for order_no in ORDERS:
            fo = body_of(http.get(f"/api/v1/fulfillment-orders/{order_no}", headers=oms.headers))
            assert fo["status"] == "shipped"
        events = wait_until(
            lambda: len(oms_endpoint.received) >= len(ORDERS) and oms_endpoint.received,
            what="shipment events at the OMS",
        )
    assert oms_endpoint.rejected == []
    by_order = {e.body["data"]["number"]: e.body["data"] for e in events}
    assert set(by_order) == set(ORDERS)
    for order_no, lines in ORDERS.items():
        (carton,) = by_order[order_no]["cartons"]
        assert carton["tracking"].startswith("AW")
        contents = {(c["sku"], c["qty"]) for c in carton["contents"]}
        assert contents == set(lines)
    assert check_ledger(site.db).ok
    # nothing left at the packing station: all stock shipped, the rest still in its bins
    left = {
        (r["code"], r["sku"]): r["qty"]
        for r in site.db.query(
            "SELECT l.code, i.sku, st.qty FROM stock st JOIN locations l ON l.id = st.location_id "
            "JOIN items i ON i.id = st.item_id"
        )
    }
    shipped_units = {sku: 0 for _, sku, _ in STOCK}
    for lines in ORDERS.values():
        for sku, qty in lines:
            shipped_units[sku] += qty
    assert left == {(loc, sku): qty - shipped_units[sku] for loc, sku, qty in STOCK}


class _Packer:
    def __init__(self, http: httpx.Client, who: Caller) -> None:
        self.http, self.who, self.session_id = http, who, None

    def step(self, step: str, body: dict[str, Any]) -> dict[str, Any]:
        if self.session_id is not None:
            body = {"session_id": self.session_id, **body}
        resp = self.http.post(
            f"/api/v1/scenarios/packing/{step}", json=body, headers=self.who.with_key()
        )
        assert resp.status_code == 200, resp.text
        envelope: dict[str, Any] = resp.json()
        if step == "start":
            self.session_id = envelope["data"][envelope["next_state"]]["session_id"]
        return envelope
