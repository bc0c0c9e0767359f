"""The OMS half of `aisleway demo`: a second site DAL next to CHI, and the OMS in front of
both, in one process (three uvicorn servers in threads, all on 127.0.0.1).

Seeding (`seed_oms`, once, on an empty OMS database) writes what an administrator would set
up: an API key on each edge for the OMS, the OMS's webhook subscription on each edge (so their
signed events reach the OMS intake), both sites in the OMS with their sourcing data (handling
costs, capacity, the edges' carrier services, item weights), and a `WEB` sales channel with
its key. After start-up a simulated web store (`simulate_channel`) pulls each site's stock
snapshot through the OMS and places a few orders over the OMS API; their sourcing decisions
(`GET /api/v1/orders/{number}/sourcing`) are printed.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import FrameType

import httpx
import uvicorn

from edge_server.integration.subscriptions import create_subscriber
from edge_server.integration.url_guard import check_webhook_url
from edge_server.oms import orders as oms_orders
from edge_server.oms import sites
from edge_server.oms.services import OmsServices
from edge_server.oms.settings import OmsSettings
from edge_server.oms.site_events import intake_url
from edge_server.oms.sourcing_adapter import (
    SiteSourcingIn,
    SourcingSettingsIn,
    put_item,
    put_site_sourcing,
    put_sourcing_settings,
    upsert_site_carrier_service,
)
from edge_server.services import Services
from edge_server.timeutil import iso

__all__ = ["OMS_PORT", "SITE_SOURCING", "OmsDemoInfo", "demo_oms_settings", "seed_oms"]

log = logging.getLogger("aisleway.demo")

OMS_PORT = 8100
#: Handling per order, per line, orders a day: DAL is cheaper per order, CHI per line.
SITE_SOURCING = {"CHI": ("1.00", "0.25", 500), "DAL": ("0.60", "0.40", 500)}
SPLIT_PENALTY = "4.00"
DEMO_SHIP_TO = {
    "name": "Grace Hopper",
    "address_lines": ["101 Main St"],
    "city": "Chicago",
    "postal_code": "60611",
    "country": "US",
}


@dataclass
class OmsDemoInfo:
    created: bool
    admin_key: str | None = None
    channel_key: str | None = None


def demo_oms_settings(directory: Path, port: int = OMS_PORT) -> OmsSettings:
    return OmsSettings(
        db_path=directory / "oms.db",
        host="127.0.0.1",
        port=port,
        public_url=f"http://127.0.0.1:{port}",
        webhook_allow_private=True,  # the sites are on this machine
        site_poll_seconds=1.0,
        log_json=False,
    )


def seed_oms(
    oms: OmsServices, edges: dict[str, tuple[Services, str]], carriers: bytes
) -> OmsDemoInfo:
    """Register `edges` ({code: (services, base URL)}) with the OMS, once. `carriers` is the
    carrier-services file both edges loaded (their `carrier_service.changed` data)."""
    db = oms.db
    if db.query_one("SELECT 1 FROM sites LIMIT 1"):
        _, admin = oms.api_keys.create("demo driver", role="admin")
        return OmsDemoInfo(created=False, admin_key=admin)
    public_url = oms.settings.public_url
    services = json.loads(carriers)["services"]
    stamp = iso()
    weights: dict[str, Decimal] = {}
    for code, (edge, base_url) in edges.items():
        _, key = edge.api_keys.create("demo OMS site link")
        target = intake_url(public_url, code)
        with edge.db.write() as w:
            sub = create_subscriber(
                w, check_webhook_url(target, allow_private=True), ["*"], "demo OMS"
            )
        body = sites.SiteIn(name=code, base_url=base_url, api_key=key, webhook_secret=sub["secret"])
        url = sites.check_site_url(base_url, allow_private=True)
        per_order, per_line, capacity = SITE_SOURCING[code]
        with db.write() as w:
            sites.put_site(w, code, body, base_url=url)
            sid = sites.site_id(w, code)
            w.execute(
                "INSERT INTO site_links (site_id, subscriber_id, intake_url, subscribed_at) "
                "VALUES (?,?,?,?)",
                [sid, sub["id"], target, stamp],
            )
            put_site_sourcing(
                w,
                code,
                SiteSourcingIn(
                    handling_per_order=Decimal(per_order),
                    handling_per_line=Decimal(per_line),
                    daily_capacity=capacity,
                    timezone="America/Chicago",
                ),
            )
            for svc in services:
                upsert_site_carrier_service(w, code, {**svc, "updated_at": stamp})
        for row in edge.db.query("SELECT sku, weight_kg FROM items WHERE weight_kg IS NOT NULL"):
            weights[row["sku"]] = Decimal(str(row["weight_kg"])).quantize(Decimal("0.001"))
    with db.write() as w:
        for sku, weight in sorted(weights.items()):
            put_item(w, sku, weight)
        put_sourcing_settings(w, SourcingSettingsIn(split_penalty=Decimal(SPLIT_PENALTY)))
    web_key, channel_secret = oms.api_keys.create("demo web store", role="channel")
    with db.write() as w:
        oms_orders.add_channel(w, "WEB", kind="web", name="Demo web store")
        oms_orders.bind_key(w, web_key.id, "WEB")
    _, admin = oms.api_keys.create("demo driver", role="admin")
    return OmsDemoInfo(created=True, admin_key=admin, channel_key=channel_secret)


# -- the simulated web store ---------------------------------------------------------------------
def simulate_channel(
    oms_url: str,
    admin_key: str,
    channel_key: str | None,
    skus: list[str],
    say: Callable[[str], None],
) -> list[str]:
    """Reconcile both sites' stock into the OMS, then place three web orders (one SKU both
    sites hold, one only CHI holds, and more of a SKU than either site holds alone); `say`
    each order's sourcing explanation. Returns the order numbers."""
    admin = {"Authorization": f"Bearer {admin_key}"}
    placed: list[str] = []
    with httpx.Client(base_url=f"{oms_url}/api/v1", timeout=30) as http:
        for code in ("CHI", "DAL"):
            http.post(
                f"/sites/{code}/reconcile",
                headers={**admin, "Idempotency-Key": f"demo-{uuid.uuid4().hex}"},
            ).raise_for_status()
        if channel_key is None:  # a rerun: the web store's key was shown the first time
            return placed
        web = {"Authorization": f"Bearer {channel_key}"}
        atp: dict[str, dict[str, int]] = {}
        for sku in skus:
            view = http.get("/inventory/atp", params={"sku": sku}, headers=admin).json()["data"]
            atp[sku] = {s["site"]: s["atp"] for s in view["sites"]}
        both = [k for k, v in sorted(atp.items()) if v.get("CHI", 0) > 1 and v.get("DAL", 0) > 1]
        chi_only = [k for k, v in sorted(atp.items()) if v.get("CHI", 0) > 1 and not v.get("DAL")]
        baskets: list[list[tuple[str, int]]] = []
        if both:
            baskets.append([(both[0], 1)])
            big = max(both[1:] or both, key=lambda k: min(atp[k].values()))
            baskets.append([(big, max(atp[big].values()) + 1)])
        if chi_only:
            baskets.append([(chi_only[0], 1)])
        stamp = time.strftime("%H%M%S")
        for n, lines in enumerate(baskets, start=1):
            body = {
                "ship_to": DEMO_SHIP_TO,
                "requested_service": "UPS-GROUND",
                "payment_status": "paid",
                "lines": [{"line_no": k, "sku": s, "qty": q} for k, (s, q) in enumerate(lines, 1)],
            }
            put = http.put(
                f"/orders/D{stamp}-{n}",
                json=body,
                headers={**web, "Idempotency-Key": f"demo-{uuid.uuid4().hex}"},
            )
            if put.status_code >= 300:
                say(f"  order refused: {put.text[:200]}")
                continue
            number = put.json()["data"]["order"]["number"]
            placed.append(number)
            decisions = http.get(f"/orders/{number}/sourcing", headers=web).json()["data"]
            text = decisions["decisions"][-1]["explanation"] if decisions["decisions"] else "-"
            what = ", ".join(f"{q} x {s}" for s, q in lines)
            say(f"  {number:<16} {what}: {text}")
    return placed


# -- serving three apps in one process ------------------------------------------------------------
class Network:
    """uvicorn servers in threads, stopped together on Ctrl-C / SIGTERM."""

    def __init__(self) -> None:
        self.servers: list[uvicorn.Server] = []
        self.threads: list[threading.Thread] = []
        self.stopping = threading.Event()

    def add(self, server: uvicorn.Server, name: str) -> None:
        self.servers.append(server)
        self.threads.append(threading.Thread(target=server.run, name=name, daemon=True))

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def wait_started(self, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while not all(s.started for s in self.servers):
            if time.monotonic() > deadline or any(not t.is_alive() for t in self.threads):
                return False
            time.sleep(0.05)
        return True

    def stop(self, signum: int = 0, frame: FrameType | None = None) -> None:
        self.stopping.set()
        for server in self.servers:
            server.should_exit = True

    def run_until_stopped(self) -> None:
        previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not self.stopping.is_set() and all(t.is_alive() for t in self.threads):
                self.stopping.wait(0.2)
        finally:
            self.stop()
            for thread in self.threads:
                thread.join(timeout=15)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
