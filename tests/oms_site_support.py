"""Real edge servers and a real OMS on 127.0.0.1 for the OMS⇄site tests.

    with serve(create_app(settings, services)) as url: ...     # any ASGI app, real HTTP
    chi = make_edge(tmp_path, "CHI")                           # layout, items, carrier service
    receive(chi, "A01-01-1L", "SOAP-1", 3)                     # stock through the ledger

Setup data goes in through the domain code; what the OMS and the sites do to each other goes
over HTTP.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from picking_support import ITEMS, case_gtin14, gtin13
from putaway_support import LAYOUT

from edge_server.oms import orders
from edge_server.oms.services import OmsServices
from edge_server.services import Services, open_services
from edge_server.shipping.services import put_service
from edge_server.wms import inventory
from edge_server.wms.items import upsert_item, validate_item
from edge_server.wms.layout import Layout
from edge_server.wms.layout_store import load_layout
from edge_server.wms.ledger import Actor
from edge_server.wms.outbound.packing import put_carton_type
from edge_server.wms.purchase_orders import site_id
from protocols.inventory import ReceiptIn
from protocols.packing import CartonTypeIn
from protocols.rates import CarrierServiceIn

from conftest import make_settings

_keys = itertools.count(1)
SERVICE = "UPS-GROUND"
RATE_CARD = {
    "currency": "USD",
    "weight_breaks_kg": ["1", "5", "30"],
    "zones": [
        {"name": "US", "country": "US", "prices": ["9.00", "14.00", "30.00"], "transit_days": 3}
    ],
}


@contextmanager
def serve(app: Any, port: int = 0) -> Iterator[str]:
    """Serve `app` over real HTTP on 127.0.0.1 (lifespan included); yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="oms-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Edge:
    code: str
    services: Services


def make_edge(tmp_path: Path, code: str, **overrides: Any) -> Edge:
    """A site's edge server (not yet serving): its own DB file, the test layout, the items,
    carrier service UPS-GROUND; the relay on with quick retries."""
    values: dict[str, Any] = {
        "db_path": tmp_path / f"{code.lower()}.db",
        "site": code,
        "relay_enabled": True,
        "webhook_backoff_base_seconds": 0.05,
        "webhook_backoff_max_seconds": 0.2,
    }
    values.update(overrides)
    services = open_services(make_settings(tmp_path, **values))
    load_layout(services.db, Layout.parse({**LAYOUT, "site": code}), site=code)
    with services.db.write() as w:
        for sku, spec in ITEMS.items():
            data: dict[str, Any] = {
                "sku": sku,
                "description": f"Item {sku}",
                "gtin": gtin13(sku),
                "lot_tracked": spec.get("lot_tracked", False),
            }
            if spec.get("case_qty"):
                data |= {"case_qty": spec["case_qty"], "case_gtin": case_gtin14(sku)}
            item, _ = validate_item(data)
            upsert_item(w, item)
        service = {
            "carrier": "UPS",
            "name": "UPS Ground",
            "cutoff_local": "23:59",
            "ship_days": "1234567",
            "rate_card": RATE_CARD,
        }
        put_service(w, code, SERVICE, CarrierServiceIn.model_validate(service))
        box = {"description": "Small box", "tare_kg": 0.2, "max_weight_kg": 20}
        put_carton_type(w, site_id(w, code), "BOX-S", CartonTypeIn.model_validate(box))
    return Edge(code, services)


def receive(edge: Edge, location: str, sku: str, qty: int) -> None:
    """Stock into a bin through the ledger (emits `inventory.changed` with its `atp`)."""
    with edge.services.db.write() as w:
        inventory.receive(
            w,
            edge.code,
            ReceiptIn.model_validate({"location": location, "sku": sku, "qty": qty}),
            Actor(),
        )


def channel_key(oms: OmsServices, channel: str = "WEB") -> dict[str, str]:
    """Headers of a channel key bound to `channel` (created if needed)."""
    key, secret = oms.api_keys.create(f"{channel} store", role="channel")
    with oms.db.write() as w:
        orders.add_channel(w, channel)
        orders.bind_key(w, key.id, channel)
    return {"Authorization": f"Bearer {secret}"}


def admin_key(oms: OmsServices) -> dict[str, str]:
    _, secret = oms.api_keys.create("admin", role="admin")
    return {"Authorization": f"Bearer {secret}"}


def idem(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Idempotency-Key": f"oms-test-{next(_keys)}"}


def order_body(lines: list[tuple[str, int]], *, payment: str = "paid") -> dict[str, Any]:
    return {
        "ship_to": {
            "name": "Grace Hopper",
            "address_lines": ["1 Main St"],
            "city": "Springfield",
            "postal_code": "62701",
            "country": "US",
        },
        "requested_service": SERVICE,
        "payment_status": payment,
        "lines": [{"line_no": n, "sku": sku, "qty": qty} for n, (sku, qty) in enumerate(lines, 1)],
    }


def register_site(
    http: httpx.Client, admin: dict[str, str], code: str, url: str, api_key: str
) -> None:
    resp = http.put(
        f"/api/v1/sites/{code}",
        json={"name": code, "base_url": url, "api_key": api_key},
        headers=idem(admin),
    )
    assert resp.status_code in (200, 201), resp.text


def edge_keys(edge: Edge) -> tuple[str, str]:
    """(integration key for orders and stock, admin key for webhooks) on the edge."""
    _, integration = edge.services.api_keys.create("oms")
    _, admin = edge.services.api_keys.create("oms-admin", role="admin")
    return integration, admin
