"""A returns site for tests: the packing test site with a returns bench (RET-01), RMAs sent
through the real API, and a receiver's handheld talking to the returns scenario."""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

import httpx
import packing_support as ps

from edge_server.db import Database
from edge_server.services import Services
from edge_server.timeutil import iso
from edge_server.wms.items import upsert_item, validate_item
from edge_server.wms.layout import Layout
from edge_server.wms.layout_store import load_layout

from conftest import Caller

PREFIX = "/api/v1/scenarios/returns"
_keys = itertools.count(1)

LAYOUT: dict[str, Any] = copy.deepcopy(ps.LAYOUT)
LAYOUT["areas"].append(
    {"zone": "RET", "type": "returns", "bins": [{"code": "RET-01", "x": 6.0, "y": -4.0}]}
)
gtin13 = ps.gtin13
gs1 = ps.gs1


def setup_site(services: Services) -> None:
    """The layout with RET-01, the packing items (1 kg each), a carrier service, cartons."""
    db = services.db
    load_layout(db, Layout.parse(LAYOUT), site="CHI")
    with db.write() as w:
        for sku, (_, _, lot_tracked) in ps.ITEMS.items():
            item, _ = validate_item(
                {
                    "sku": sku,
                    "description": f"Item {sku}",
                    "gtin": ps.gtin13(sku),
                    "lot_tracked": lot_tracked,
                    "weight_kg": 1,
                }
            )
            upsert_item(w, item)
        site_id = w.execute("SELECT id FROM sites WHERE code = 'CHI'").fetchone()[0]
        w.execute(
            "INSERT INTO carrier_services (site_id, code, carrier, name, cutoff_local, "
            "rate_card_json, updated_at) VALUES (?, ?, 'ACME', 'Acme Ground', '17:00', ?, ?)",
            [site_id, ps.SERVICE, json.dumps(ps.RATE_CARD), iso()],
        )
        w.execute(
            "INSERT INTO carton_types (site_id, code, description, tare_kg, max_weight_kg, "
            "updated_at) VALUES (?, 'BOX-L', 'Box', 0.5, 30, ?)",
            [site_id, iso()],
        )


def rma_body(
    lines: list[tuple[str, int, str]],
    *,
    order: str | None = None,
    tracking: str | None = None,
    customer: str = "Ada Lovelace",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer": customer,
        "lines": [
            {"line_no": n, "sku": sku, "qty": qty, "reason": reason}
            for n, (sku, qty, reason) in enumerate(lines, 1)
        ],
    }
    if order is not None:
        body["order"] = order
    if tracking is not None:
        body |= {"tracking": tracking, "carrier": "ACME"}
    return body


def put_rma(http: Any, oms: Caller, rma: str, body: dict[str, Any]) -> Any:
    return http.put(f"/api/v1/returns/{rma}", json=body, headers=oms.with_key())


def shipped_order(http: Any, services: Services, number: str, sku: str = "MUG-1") -> None:
    """An order of 2 × `sku`, picked, packed in one carton and shipped (through the API)."""
    ps.stock_item(services.db, sku, 10)
    ps.picked_order(services.db, number, [(sku, 2)], [ps.Pick(1, "TOTE-0001")])
    from conftest import login_as

    packer = ps.Packer(http, login_as(services, "packer"))
    packer.step("start", {"barcode": "TOTE-0001"})
    packer.step("scan", {"barcode": ps.gs1(sku, count=2)})
    packer.step("close-carton", {"carton_type": "BOX-L", "weight_kg": 2.5})
    resp = http.post(
        f"/api/v1/shipments/{number}/confirm",
        json={},
        headers=login_as(services, "supervisor").with_key(),
    )
    assert resp.status_code == 200, resp.text


class Receiver:
    """A receiver's handheld on the returns scenario."""

    def __init__(self, http: httpx.Client | Any, who: Caller) -> None:
        self.http = http
        self.who = who
        self.session_id: int | None = None

    def post(self, step: str, body: dict[str, Any] | None = None, *, key: str | None = None) -> Any:
        body = dict(body or {})
        if step != "start" and "session_id" not in body and self.session_id:
            body["session_id"] = self.session_id
        headers = {**self.who.headers, "Idempotency-Key": key or f"ret-{next(_keys)}"}
        return self.http.post(f"{PREFIX}/{step}", json=body, headers=headers)

    def step(self, step: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        resp = self.post(step, body)
        assert resp.status_code == 200, resp.text
        envelope: dict[str, Any] = resp.json()
        state = envelope["next_state"]
        assert set(envelope["data"]) == {state}, envelope
        if step == "start":
            self.session_id = envelope["data"][state]["session_id"]
        return envelope

    def receive(self, barcode: str, qty: int | None, condition: str) -> dict[str, Any]:
        """Scan, quantity (unless the scan carried a count), condition: the posting."""
        env = self.step("scan", {"barcode": barcode})
        if env["next_state"] == "set_quantity":
            env = self.step("quantity", {"qty": qty})
        assert env["next_state"] == "set_condition", env
        done = self.step("condition", {"condition": condition})
        assert done["next_state"] == "scan_item"
        received: dict[str, Any] = done["data"]["scan_item"]["received"]
        return received


TABLES = (
    "movements",
    "stock",
    "returns",
    "return_lines",
    "return_receipts",
    "return_sessions",
    "return_disposition_rules",
    "stock_tasks",
    "wrong_shipments",
    "outbox",
)


def snapshot(db: Database) -> dict[str, Any]:
    """Everything a refused command must leave as it was."""
    return {t: db.query(f"SELECT * FROM {t} ORDER BY rowid") for t in TABLES}


def events(db: Database, event_type: str) -> list[dict[str, Any]]:
    return ps.events(db, event_type)


def stock(db: Database, location: str, sku: str) -> dict[str, int]:
    """{status: qty} of `sku` at `location`."""
    rows = db.query(
        "SELECT st.status, SUM(st.qty) AS qty FROM stock st JOIN items i ON i.id = st.item_id "
        "JOIN locations l ON l.id = st.location_id WHERE l.code = ? AND i.sku = ? "
        "GROUP BY st.status",
        [location, sku],
    )
    return {r["status"]: r["qty"] for r in rows}
