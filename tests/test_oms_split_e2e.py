"""End to end over real HTTP on loopback: two sites' edge servers (CHI, DAL, each its own
database, layout, items and stock) and the OMS. The OMS subscribes itself to both sites, hears
their stock through signed `inventory.changed` webhooks, takes a channel order that neither
site can fill alone, reserves it split, releases a fulfillment order to each site on its own
(payment is `paid`), each site plans a wave, picks, packs and ships over its HTTP API, and
the signed `shipment.created` events bring the order to `shipped` with both tracking numbers
in its journey. A forged and a stale site webhook are refused on the way.
"""

from __future__ import annotations

import json
import time
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
from picking_support import Picker, gtin13
from test_oms_foundation import oms_settings
from webhook_receiver import wait_until

from edge_server.app import create_app
from edge_server.integration.signing import generate_secret, signed_headers
from edge_server.oms.app import create_oms_app
from edge_server.oms.reservations import most_atp_first
from edge_server.oms.services import OmsServices, open_oms_services
from edge_server.wms.ledger import check_ledger

from conftest import Caller, assert_response, login_as

#: CHI holds 3 soaps, DAL 5: an order for 6 needs both (the most stock first: 5 + 1).
STOCK = {"CHI": 3, "DAL": 5}
ORDER_QTY = 6
SHARE = {"CHI": 1, "DAL": 5}


@pytest.fixture
def oms(tmp_path: Path) -> Iterator[OmsServices]:
    services = open_oms_services(
        oms_settings(
            tmp_path,
            site_sync_enabled=True,
            site_poll_seconds=0.1,
            site_reconcile_seconds=0,
            auto_release=True,
        )
    )
    # The split is the point here, whichever chooser sourcing plugs in: pin the default one.
    services.choose_sites = most_atp_first
    yield services
    services.db.close()


def _post_event(http: httpx.Client, code: str, secret: str, body: dict[str, Any], **kw: Any) -> Any:
    raw = json.dumps(body)
    headers = signed_headers(secret, body["id"], raw, **kw)
    return http.post(
        f"/api/v1/sites/{code}/events",
        content=raw,
        headers={**headers, "content-type": "application/json"},
    )


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


def _ship(edge: Edge, url: str, number: str, qty: int) -> str:
    """Drive one fulfillment order through wave, pick, pack and ship over the edge's HTTP
    API; returns the tracking number."""
    supervisor = login_as(edge.services, "supervisor")
    picker_who = login_as(edge.services, "picker")
    packer_who = login_as(edge.services, "packer")
    with httpx.Client(base_url=url, timeout=30) as http:
        plan = assert_response(http.post("/api/v1/waves/plan", headers=supervisor.with_key()), 200)
        (wave,) = plan["waves"]
        assert wave["added"] == [number]
        released = http.post(
            f"/api/v1/waves/{wave['number']}/release", headers=supervisor.with_key()
        )
        assert assert_response(released, 200)["wave"]["status"] == "released"
        picker = Picker(http, picker_who)
        picker.claim()
        picker.bind("TOTE-0001")
        picker.pick_all()
        assert picker.state == "done"
        packer = _Packer(http, packer_who)
        packer.step("start", {"barcode": "TOTE-0001"})
        for _ in range(qty):
            packer.step("scan", {"barcode": gtin13("SOAP-1")})
        done = packer.step("close-carton", {"carton_type": "BOX-S", "weight_kg": 1.5})
        assert done["next_state"] == "done"
        shipped = assert_response(
            http.post(
                f"/api/v1/shipments/{number}/confirm", json={}, headers=packer_who.with_key()
            ),
            200,
        )
    tracking: str = shipped["shipment"]["cartons"][0]["tracking"]
    assert tracking
    return tracking


def test_a_split_order_ships_from_two_sites_and_the_oms_follows(
    tmp_path: Path, oms: OmsServices
) -> None:
    chi, dal = make_edge(tmp_path, "CHI"), make_edge(tmp_path, "DAL")
    admin, channel = admin_key(oms), channel_key(oms, "WEB")
    with (
        serve(create_app(chi.services.settings, chi.services)) as chi_url,
        serve(create_app(dal.services.settings, dal.services)) as dal_url,
        serve(create_oms_app(oms.settings, oms)) as oms_url,
        httpx.Client(base_url=oms_url, timeout=30) as http,
    ):
        # -- the sites are registered and the OMS subscribes itself to each -------------------
        urls = {"CHI": chi_url, "DAL": dal_url}
        for edge in (chi, dal):
            integration, edge_admin = edge_keys(edge)
            register_site(http, admin, edge.code, urls[edge.code], integration)
            sub = http.post(
                f"/api/v1/sites/{edge.code}/subscribe",
                json={"public_url": oms_url, "admin_key": edge_admin},
                headers=idem(admin),
            )
            link = assert_response(sub, 200)
            assert link["intake_url"] == f"{oms_url}/api/v1/sites/{edge.code}/events"
            (subscriber,) = edge.services.db.query("SELECT url FROM webhook_subscribers")
            assert subscriber["url"] == link["intake_url"]

        # -- stock arrives at both sites; their signed events tell the OMS --------------------
        receive(chi, "A01-01-1L", "SOAP-1", STOCK["CHI"])
        receive(dal, "A01-01-1L", "SOAP-1", STOCK["DAL"])

        def atp() -> dict[str, int]:
            view = assert_response(
                http.get("/api/v1/inventory/atp", params={"sku": "SOAP-1"}, headers=admin), 200
            )
            return {s["site"]: s["atp"] for s in view["sites"]}

        wait_until(lambda: atp() == STOCK, what="stock events at the OMS")

        # -- a forged and a stale site event are refused, and change nothing ------------------
        forged = {
            "id": "evt_forged",
            "type": "inventory.changed",
            "timestamp": "2030-01-01T00:00:00+00:00",
            "data": {"site": "CHI", "sku": "SOAP-1", "atp": 500, "available": 500},
        }
        answer = _post_event(http, "CHI", generate_secret(), forged)
        assert_response(answer, 401, code="SITE_EVENT_SIGNATURE_INVALID")
        secret = oms.db.query_one("SELECT webhook_secret FROM sites WHERE code = 'CHI'")
        assert secret is not None
        stale = _post_event(
            http, "CHI", secret["webhook_secret"], forged, timestamp=int(time.time()) - 301
        )
        assert_response(stale, 401, code="SITE_EVENT_STALE")
        assert atp() == STOCK

        # -- a channel order for 6: reserved split, released to both sites by itself ----------
        body = order_body([("SOAP-1", ORDER_QTY)])
        put = http.put("/api/v1/orders/1001", json=body, headers=idem(channel))
        order = assert_response(put, 201)["order"]
        assert order["number"] == "WEB-1001" and order["status"] == "reserved"
        reserved = {s["site"]: s["held"] + s["released"] for s in order["sites"]}
        assert reserved == SHARE

        def journey() -> dict[str, Any]:
            answer = http.get("/api/v1/orders/WEB-1001/journey", headers=channel)
            return assert_response(answer, 200)

        def fo_states() -> dict[str, str]:
            return {f["site"]: f["release_state"] for f in journey()["fulfillment_orders"]}

        wait_until(lambda: fo_states() == {"CHI": "sent", "DAL": "sent"}, what="release")
        numbers = {f["site"]: f["number"] for f in journey()["fulfillment_orders"]}
        assert numbers == {"CHI": "WEB-1001-CHI", "DAL": "WEB-1001-DAL"}
        for edge in (chi, dal):
            (fo,) = edge.services.db.query("SELECT number, status FROM fulfillment_orders")
            assert fo == {"number": numbers[edge.code], "status": "allocated"}
            lines = edge.services.db.query(
                "SELECT i.sku, l.qty_ordered FROM fo_lines l JOIN items i ON i.id = l.item_id"
            )
            assert lines == [{"sku": "SOAP-1", "qty_ordered": SHARE[edge.code]}]
        # released: the sites' own allocations hold the units now, nothing is counted twice
        assert atp() == {code: STOCK[code] - SHARE[code] for code in STOCK}

        # -- each site ships its part ---------------------------------------------------------
        tracking = {
            "CHI": _ship(chi, chi_url, numbers["CHI"], SHARE["CHI"]),
            "DAL": _ship(dal, dal_url, numbers["DAL"], SHARE["DAL"]),
        }

        def shipped() -> dict[str, Any] | None:
            found = journey()
            return found if found["status"] == "shipped" else None

        final = wait_until(shipped, what="the order shipped at the OMS")
        # every event reached the OMS and was taken: none failed or is still being retried
        for edge in (chi, dal):
            wait_until(
                lambda edge=edge: (
                    not edge.services.db.query(
                        "SELECT 1 FROM webhook_deliveries WHERE status = 'pending'"
                    )
                ),
                what=f"{edge.code}'s events delivered",
            )
            failed = edge.services.db.query(
                "SELECT last_error FROM webhook_deliveries WHERE status = 'failed'"
            )
            assert failed == []
            assert check_ledger(edge.services.db).ok

    steps = {s["step"]: s for s in final["steps"]}
    assert steps["payment"]["status"] == "paid" and steps["payment"]["reached"] == "all"
    assert steps["reserved"]["reached"] == "all"
    for step in ("released", "wave_planned", "picking", "packed", "shipped"):
        assert steps[step]["reached"] == "all", step
        assert {s["site"] for s in steps[step]["sites"]} == {"CHI", "DAL"}, step
    assert sorted(steps["shipped"]["tracking"]) == sorted(tracking.values())
    by_site = {s["site"]: s["tracking"] for s in steps["shipped"]["sites"]}
    assert by_site == {code: [t] for code, t in tracking.items()}
    assert steps["delivered"]["reached"] == "none"
    history = [h["event"] for h in oms.db.query("SELECT event FROM order_history ORDER BY id")]
    assert "release_requested" in history and "fulfillment_changed" in history
