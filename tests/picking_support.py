"""A picking site for tests (and for packing/waves tests to reuse): the putaway test layout
(block A in zone A, block C in zone COLD, PACK-01 packing), GS1 items, stock in bins,
allocated orders and pick tasks, all through the real domain code; and a `Picker` that drives
the handheld endpoints over HTTP.

    site = picking_site(services)                 # layout + items
    put_stock(services, "A01-01-1L", "SOAP-1", 10)
    order_id = make_order(services, "SO-1", [("SOAP-1", 3)])
    task_id = make_task(services, [order_id])     # discrete
    picker = Picker(edge, login_as(services, "picker"))
    picker.claim(); picker.bind("TOTE-0001"); picker.pick_all()
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from putaway_support import LAYOUT

from edge_server.services import Services
from edge_server.wms import inventory
from edge_server.wms.items import upsert_item, validate_item
from edge_server.wms.layout import Layout
from edge_server.wms.layout_store import load_layout
from edge_server.wms.ledger import Actor
from edge_server.wms.outbound import orders
from edge_server.wms.outbound.allocation import allocate_order
from edge_server.wms.outbound.pick_tasks import Strategy, create_pick_task
from protocols.barcodes import GS, gs1_check_digit
from protocols.inventory import ReceiptIn
from protocols.outbound import FulfillmentOrderIn

from conftest import Caller

PREFIX = "/api/v1/picking"
FUTURE = (date.today() + timedelta(days=300)).isoformat()
_keys = itertools.count(1)

ITEMS: dict[str, dict[str, Any]] = {
    "SOAP-1": {"ref": "11", "case_qty": 6},
    "TEA-1": {"ref": "12", "lot_tracked": True},
    "MUG-1": {"ref": "13"},
    "JAM-1": {"ref": "14"},
}


def gtin13(sku: str) -> str:
    body = "0614141" + ITEMS[sku]["ref"].zfill(5)
    return body + str(gs1_check_digit(body))


def case_gtin14(sku: str) -> str:
    body = "1" + "0614141" + ITEMS[sku]["ref"].zfill(5)
    return body + str(gs1_check_digit(body))


def gs1(sku: str, *, lot: str | None = None, count: int | None = None) -> str:
    """A GS1-128 scan of the item with a lot (AI 10) and/or a count (AI 37)."""
    text = "]C1" + "01" + gtin13(sku).zfill(14)
    if lot is not None:
        text += "10" + lot + (GS if count is not None else "")
    if count is not None:
        text += "37" + str(count)
    return text


def picking_site(services: Services) -> Layout:
    """Load the layout and the items (GTINs under company prefix 0614141)."""
    layout = Layout.parse(LAYOUT)
    load_layout(services.db, layout, site="CHI")
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
    return layout


def put_stock(
    services: Services,
    location: str,
    sku: str,
    qty: int,
    *,
    lot: str = "",
    lpn: str = "",
    expiry: str | None = None,
) -> None:
    """Receive stock straight into a bin (a receipt movement, so the ledger stays whole)."""
    if ITEMS.get(sku, {}).get("lot_tracked") and not lot:
        lot = "L1"
    with services.db.write() as w:
        inventory.receive(
            w,
            "CHI",
            ReceiptIn.model_validate(
                {
                    "location": location,
                    "sku": sku,
                    "qty": qty,
                    "lot": lot,
                    "lpn": lpn,
                    "expiry": expiry,
                }
            ),
            Actor(),
        )


def make_order(
    services: Services,
    number: str,
    lines: Sequence[tuple[str, int]],
    *,
    priority: int = 0,
    allocate: bool = True,
) -> int:
    """A fulfillment order (lines: sku, qty), allocated unless told; returns its id."""
    body = FulfillmentOrderIn.model_validate(
        {
            "ship_to": {
                "name": "Ada Lovelace",
                "address_lines": ["12 St James's Square"],
                "city": "London",
                "postal_code": "SW1Y 4JH",
                "country": "gb",
            },
            "carrier_service": "UPS-GROUND",
            "priority": priority,
            "lines": [
                {"line_no": n, "sku": sku, "qty": qty} for n, (sku, qty) in enumerate(lines, 1)
            ],
        }
    )
    with services.db.write() as w:
        orders.put_order(w, "CHI", number, body)
        if allocate:
            allocate_order(w, "CHI", number)
        return int(
            w.execute("SELECT id FROM fulfillment_orders WHERE number = ?", [number]).fetchone()[0]
        )


def make_task(
    services: Services,
    order_ids: Sequence[int],
    *,
    strategy: Strategy | None = None,
    zone: str | None = None,
    wave_id: int | None = None,
) -> int:
    """A pick task (discrete for one order, batch for several, zone when a zone is given)."""
    chosen: Strategy = strategy or (
        "zone" if zone else ("discrete" if len(order_ids) == 1 else "batch")
    )
    with services.db.write() as w:
        return create_pick_task(
            w, "CHI", strategy=chosen, order_ids=order_ids, wave_id=wave_id, zone=zone
        )


def one_order_task(services: Services, *, qty: int = 3, stock: int = 10) -> int:
    """The smallest picking setup: site, SOAP-1 in A01-01-1L, order SO-1 for `qty`, a
    discrete task; returns the task id."""
    picking_site(services)
    put_stock(services, "A01-01-1L", "SOAP-1", stock)
    return make_task(services, [make_order(services, "SO-1", [("SOAP-1", qty)])])


# -- reading back ------------------------------------------------------------------------------
def snapshot(services: Services) -> dict[str, Any]:
    """Everything a refused command must leave alone: stock, allocations, lines, tasks,
    orders, movements, outbox and count requests."""
    q = services.db.query
    return {
        "stock": q("SELECT location_id, item_id, lot, lpn, status, qty FROM stock ORDER BY id"),
        "allocations": q("SELECT * FROM allocations ORDER BY id"),
        "pick_lines": q("SELECT * FROM pick_lines ORDER BY id"),
        "pick_tasks": q("SELECT * FROM pick_tasks ORDER BY id"),
        "pick_task_orders": q("SELECT * FROM pick_task_orders ORDER BY task_id, position"),
        "orders": q("SELECT id, status FROM fulfillment_orders ORDER BY id"),
        "fo_lines": q("SELECT * FROM fo_lines ORDER BY id"),
        "movements": q("SELECT COUNT(*) AS n FROM movements"),
        "outbox": q("SELECT COUNT(*) AS n FROM outbox"),
        "count_requests": q("SELECT COUNT(*) AS n FROM count_requests"),
    }


def pick_events(services: Services, kind: str | None = None) -> list[dict[str, Any]]:
    rows = services.db.query("SELECT * FROM pick_events ORDER BY id")
    return [
        r | {"detail": json.loads(r["detail_json"])}
        for r in rows
        if kind is None or r["kind"] == kind
    ]


def outbox(services: Services, event_type: str) -> list[dict[str, Any]]:
    rows = services.db.query(
        "SELECT payload_json FROM outbox WHERE type = ? ORDER BY id", [event_type]
    )
    return [json.loads(r["payload_json"]) for r in rows]


def stock_at(services: Services, location: str, sku: str, *, lpn: str | None = None) -> int:
    sql = (
        "SELECT COALESCE(SUM(st.qty), 0) AS q FROM stock st JOIN locations l "
        "ON l.id = st.location_id JOIN items i ON i.id = st.item_id WHERE l.code = ? "
        "AND i.sku = ?"
    )
    params: list[Any] = [location, sku]
    if lpn is not None:
        sql += " AND st.lpn = ?"
        params.append(lpn)
    row = services.db.query_one(sql, params)
    assert row is not None
    return int(row["q"])


# -- the handheld ------------------------------------------------------------------------------
class Picker:
    """Drives the picking endpoints for one logged-in picker over a TestClient/httpx client."""

    def __init__(self, http: Any, who: Caller) -> None:
        self.http = http
        self.who = who
        self.task_id: int | None = None
        self.last: dict[str, Any] = {}

    def post(self, step: str, body: dict[str, Any], *, key: str | None = None) -> Any:
        if self.task_id is not None and step != "next":
            body = {"task_id": self.task_id, **body}
        return self.http.post(
            f"{PREFIX}/{step}", json=body, headers=self.who.with_key(key or f"pk-{next(_keys)}")
        )

    def step(self, step: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        resp = self.post(step, body or {})
        assert resp.status_code == 200, resp.text
        self.last = resp.json()
        return self.last

    def claim(self, task_id: int | None = None) -> dict[str, Any]:
        answer = self.step("next", {"task_id": task_id} if task_id else {})
        self.task_id = answer["data"][answer["next_state"]]["task_id"]
        return answer

    @property
    def state(self) -> str:
        return str(self.last["next_state"])

    @property
    def view(self) -> dict[str, Any]:
        data: dict[str, Any] = self.last["data"][self.state]
        return data

    def bind(self, *totes: str) -> dict[str, Any]:
        for tote in totes:
            self.step("bind-tote", {"barcode": tote})
        return self.last

    def pick_current(self, qty: int | None = None) -> dict[str, Any]:
        """Pick the current line in full (or `qty`): bin, item, quantity, tote."""
        line = self.view["line"]
        if self.state == "scan_bin":
            self.step("scan-bin", {"barcode": line["bin"]})
        self.step("scan-item", {"barcode": gtin13(line["sku"])})
        self.step("quantity", {"qty": qty or line["qty_remaining"]})
        return self.step("tote", {"barcode": line["tote"]})

    def pick_all(self) -> list[dict[str, Any]]:
        """Pick every line as shown, in the order shown; returns the lines picked."""
        picked = []
        while self.state in ("scan_bin", "scan_item"):
            picked.append(self.view["line"])
            self.pick_current()
        return picked
