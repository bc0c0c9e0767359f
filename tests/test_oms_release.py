"""Releasing OMS orders to a site's edge server over real HTTP: each site's share becomes one
fulfillment order, sent and allocated exactly once even when an answer is lost or the site is
down for a while; a refusal is kept, not retried blindly; paid orders go by themselves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from oms_site_support import (
    Edge,
    admin_key,
    channel_key,
    edge_keys,
    idem,
    make_edge,
    order_body,
    receive,
    serve,
)
from test_oms_foundation import oms_settings
from webhook_receiver import free_port

from edge_server.app import create_app
from edge_server.oms import release
from edge_server.oms.app import create_oms_app
from edge_server.oms.reservations import atp_view, set_site_stock
from edge_server.oms.services import OmsServices, open_oms_services
from edge_server.oms.sites import SiteIn, put_site

from conftest import assert_response


@pytest.fixture
def oms(tmp_path: Path) -> Iterator[OmsServices]:
    services = open_oms_services(
        oms_settings(tmp_path, site_sync_enabled=False, site_reconcile_seconds=0)
    )
    yield services
    services.db.close()


@pytest.fixture
def chi(tmp_path: Path) -> Iterator[Edge]:
    edge = make_edge(tmp_path, "CHI", relay_enabled=False)
    receive(edge, "A01-01-1L", "SOAP-1", 10)
    yield edge
    edge.services.db.close()


def add_site(oms: OmsServices, edge: Edge, url: str) -> None:
    key, _ = edge_keys(edge)
    with oms.db.write() as w:
        put_site(w, edge.code, SiteIn(name=edge.code, base_url=url, api_key=key), base_url=url)
        # what the site's stock events would have said
        set_site_stock(w, edge.code, "SOAP-1", 10, "2020-01-01T00:00:00+00:00")


def place(client: TestClient, headers: dict[str, str], number: str, qty: int, **kw: Any) -> Any:
    body = order_body([("SOAP-1", qty)], **kw)
    return assert_response(
        client.put(f"/api/v1/orders/{number}", json=body, headers=idem(headers)), 201
    )


def edge_orders(edge: Edge) -> list[dict[str, Any]]:
    return edge.services.db.query(
        "SELECT o.number, o.status, l.qty_ordered FROM fulfillment_orders o "
        "JOIN fo_lines l ON l.order_id = o.id ORDER BY o.number"
    )


def test_release_sends_the_order_to_its_site_once(oms: OmsServices, chi: Edge) -> None:
    with serve(create_app(chi.services.settings, chi.services)) as url:
        add_site(oms, chi, url)
        with TestClient(create_oms_app(oms.settings, oms)) as client:
            web = channel_key(oms)
            place(client, web, "1001", 4, payment="pending")
            key = idem(web)
            answer = assert_response(
                client.post("/api/v1/orders/WEB-1001/release", headers=key), 200
            )
            (fo,) = answer["fulfillment_orders"]
            assert fo | {"sent_at": None} == {
                "number": "WEB-1001-CHI",
                "site": "CHI",
                "status": "released",
                "release_state": "sent",
                "version": 1,
                "lines": [{"line_no": 1, "sku": "SOAP-1", "qty": 4}],
                "carrier_service": "UPS-GROUND",
                "attempts": 0,
                "next_attempt_at": None,
                "last_error": None,
                "sent_at": None,
            }
            assert answer["status"] == "released"
            assert edge_orders(chi) == [
                {"number": "WEB-1001-CHI", "status": "allocated", "qty_ordered": 4}
            ]
            # the OMS no longer holds the 4: the site's allocation does, and its ATP says so
            view = atp_view(oms.db, "SOAP-1")
            assert (view["sites"][0]["reserved"], view["sites"][0]["available"]) == (0, 6)
            # the same request again, and a new one: nothing more is sent
            again = client.post("/api/v1/orders/WEB-1001/release", headers=key)
            assert assert_response(again, 200)["fulfillment_orders"][0]["version"] == 1
            fresh = client.post("/api/v1/orders/WEB-1001/release", headers=idem(web))
            assert_response(fresh, 409, code="ORDER_NOT_RELEASABLE")
            # once released, the OMS can no longer cancel it
            cancel = client.post("/api/v1/orders/WEB-1001/cancel", headers=idem(web))
            assert_response(cancel, 409, code="ORDER_RELEASED")
        # the OMS lost the answer (crash before recording): sending again changes nothing
        with oms.db.write() as w:
            w.execute("UPDATE fulfillments SET release_state = 'pending'")
        assert release.send_fulfillment(oms, "WEB-1001-CHI") == "sent"
    assert edge_orders(chi) == [{"number": "WEB-1001-CHI", "status": "allocated", "qty_ordered": 4}]
    allocated = chi.services.db.query_one("SELECT SUM(qty) AS n FROM allocations")
    assert allocated == {"n": 4}
    assert atp_view(oms.db, "SOAP-1")["atp"] == 6


def test_a_site_that_is_down_keeps_the_release_pending_until_it_is_back(
    oms: OmsServices, chi: Edge
) -> None:
    port = free_port()
    add_site(oms, chi, f"http://127.0.0.1:{port}")
    with TestClient(create_oms_app(oms.settings, oms)) as client:
        web = channel_key(oms)
        place(client, web, "1002", 3, payment="paid")
        answer = client.post("/api/v1/orders/WEB-1002/release", headers=idem(web))
        (fo,) = assert_response(answer, 200)["fulfillment_orders"]
        assert (fo["release_state"], fo["attempts"]) == ("pending", 1)
        assert fo["last_error"].startswith("ConnectError")
        assert answer.json()["data"]["status"] == "released"  # on its way: no cancel any more
    # still held by the OMS: nobody else can promise those 3
    assert atp_view(oms.db, "SOAP-1")["sites"][0]["reserved"] == 3
    loop = release.SiteLoop(oms)
    assert loop.run_once()["sent"] == {}  # not due yet (backoff)
    assert release.send_due(oms, now="9999") == {"WEB-1002-CHI": "pending"}  # still down
    with serve(create_app(chi.services.settings, chi.services), port=port):
        assert release.send_due(oms, now="9999") == {"WEB-1002-CHI": "sent"}
        assert release.send_due(oms, now="9999") == {}
    assert edge_orders(chi) == [{"number": "WEB-1002-CHI", "status": "allocated", "qty_ordered": 3}]
    assert atp_view(oms.db, "SOAP-1")["sites"][0]["reserved"] == 0


def test_a_release_the_site_refuses_is_kept_with_the_reason(
    oms: OmsServices, chi: Edge, tmp_path: Path
) -> None:
    with serve(create_app(chi.services.settings, chi.services)) as url:
        add_site(oms, chi, url)
        with oms.db.write() as w:
            set_site_stock(w, "CHI", "UNKNOWN-9", 5, "2020-01-01T00:00:00+00:00")
        with TestClient(create_oms_app(oms.settings, oms)) as client:
            web = channel_key(oms)
            body = order_body([("UNKNOWN-9", 2)])
            client.put("/api/v1/orders/1003", json=body, headers=idem(web))
            answer = client.post("/api/v1/orders/WEB-1003/release", headers=idem(web))
            (fo,) = assert_response(answer, 200)["fulfillment_orders"]
            assert fo["release_state"] == "refused"
            assert fo["last_error"].startswith("FO_INVALID")
            journey = assert_response(
                client.get("/api/v1/orders/WEB-1003/journey", headers=web), 200
            )
            assert [e["event"] for e in journey["events"]] == ["release.refused"]
            # the loop does not retry a refusal by itself; an admin's release does
            assert release.send_due(oms, now="9999") == {}
            again = client.post("/api/v1/orders/WEB-1003/release", headers=idem(admin_key(oms)))
            assert assert_response(again, 200)["fulfillment_orders"][0]["attempts"] == 2
    assert edge_orders(chi) == []


def test_paid_fully_reserved_orders_are_released_by_the_loop(oms: OmsServices, chi: Edge) -> None:
    with serve(create_app(chi.services.settings, chi.services)) as url:
        add_site(oms, chi, url)
        loop = release.SiteLoop(oms)
        with TestClient(create_oms_app(oms.settings, oms)) as client:
            web = channel_key(oms)
            place(client, web, "1004", 2, payment="pending")
            place(client, web, "1005", 20, payment="paid")  # 10 reserved, 10 backordered
            assert loop.run_once()["released"] == []
            body = order_body([("SOAP-1", 2)], payment="authorized")
            client.put("/api/v1/orders/1004", json=body, headers=idem(web))
            assert loop.run_once() == {
                "released": ["WEB-1004"],
                "sent": {"WEB-1004-CHI": "sent"},
                "reconciled": {},
            }
            assert loop.run_once()["released"] == []
    assert [o["number"] for o in edge_orders(chi)] == ["WEB-1004-CHI"]


def test_release_refusals(oms: OmsServices, chi: Edge) -> None:
    add_site(oms, chi, "http://127.0.0.1:9")
    with oms.db.write() as w:
        w.execute("UPDATE site_stock SET available = 0")
    with TestClient(create_oms_app(oms.settings, oms)) as client:
        web = channel_key(oms)
        place(client, web, "1006", 2)  # backordered: nothing to release
        resp = client.post("/api/v1/orders/WEB-1006/release", headers=idem(web))
        assert_response(resp, 409, code="ORDER_NOT_RELEASABLE")
        resp = client.post("/api/v1/orders/WEB-404/release", headers=idem(web))
        assert_response(resp, 404, code="ORDER_NOT_FOUND")
        other = channel_key(oms, "AMAZON")
        resp = client.post("/api/v1/orders/WEB-1006/release", headers=idem(other))
        assert_response(resp, 404, code="ORDER_NOT_FOUND")
        resp = client.get("/api/v1/orders/WEB-1006/journey", headers=other)
        assert_response(resp, 404, code="ORDER_NOT_FOUND")
        resp = client.post("/api/v1/orders/WEB-1006/release", headers=web)
        assert_response(resp, 400, code="IDEMPOTENCY_KEY_REQUIRED")
    assert oms.db.query("SELECT * FROM fulfillments") == []


def test_the_site_client_sorts_failures_into_retry_and_refused() -> None:
    from edge_server.oms.site_client import SiteClient, SiteRefused, SiteUnreachable
    from edge_server.oms.sites import Site

    site = Site(1, "CHI", "CHI", "http://edge.test", "awk_x", "", True)

    def answer(status: int, body: Any) -> httpx.MockTransport:
        return httpx.MockTransport(lambda request: httpx.Response(status, json=body))

    refusal = {"data": None, "message": {"type": "error", "code": "FO_INVALID", "text": "no"}}
    with (
        SiteClient(site, transport=answer(422, refusal)) as client,
        pytest.raises(SiteRefused) as r,
    ):
        client.allocate("X", "k")
    assert (r.value.edge_status, r.value.edge_code) == (422, "FO_INVALID")
    for status, body in (
        (503, {}),
        (429, {}),
        (409, {"message": {"code": "IDEMPOTENCY_IN_PROGRESS"}}),
    ):
        with (
            SiteClient(site, transport=answer(status, body)) as client,
            pytest.raises(SiteUnreachable),
        ):
            client.allocate("X", "k")
