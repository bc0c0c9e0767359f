"""A packing site for tests: orders picked into totes, built with the ledger and m060 rows.

Picking's contract (docs/packing.md#what-packing-expects-from-picking): each picked pick line
has status `picked` (or `short`), its `tote` and `qty_picked`; the goods lie at the task's
`drop_location_id` (a packing location) under lpn = the tote code, status available; the
order's allocation of them is gone and the order is `picking`. `picked_order` builds exactly
that: real stock received into pick faces, allocated by the real allocator, the allocation
released and the stock moved with movement type `pick`, and the pick rows inserted.
"""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from putaway_support import LAYOUT as PUTAWAY_LAYOUT

from edge_server.db import Database
from edge_server.services import Services
from edge_server.timeutil import iso
from edge_server.wms import inventory
from edge_server.wms.items import upsert_item, validate_item
from edge_server.wms.layout import Layout
from edge_server.wms.layout_store import load_layout
from edge_server.wms.ledger import Actor, StockKey, move
from edge_server.wms.outbound import allocation, orders
from protocols.barcodes import GS, gs1_check_digit
from protocols.inventory import ReceiptIn
from protocols.outbound import FulfillmentOrderIn

from conftest import Caller

PREFIX = "/api/v1/scenarios/packing"
SERVICE = "GROUND"
_keys = itertools.count(1)

# The putaway test site (block A ambient, block C zone COLD, PACK-01) with a second station.
LAYOUT: dict[str, Any] = copy.deepcopy(PUTAWAY_LAYOUT)
for _area in LAYOUT["areas"]:
    if _area["zone"] == "PACK":
        _area["bins"].append({"code": "PACK-02", "x": 0.0, "y": -3.0})

# sku: (item reference for the GTIN, pick face it is stocked in, lot-tracked)
ITEMS: dict[str, tuple[str, str, bool]] = {
    "MUG-1": ("11", "A01-01-1L", False),
    "CUP-1": ("12", "A01-02-1L", False),
    "TEA-1": ("13", "A02-01-1L", True),
    "MILK-1": ("14", "C01-01-1L", True),
    "SPOON-1": ("15", "A03-01-1L", False),  # stocked, never ordered: the wrong item
}

SHIP_TO = {
    "name": "Ada Lovelace",
    "address_lines": ["12 Analytical St"],
    "city": "Chicago",
    "postal_code": "60612",
    "country": "US",
}

RATE_CARD = {
    "currency": "USD",
    "weight_breaks_kg": ["1", "5", "30"],
    "zones": [{"name": "US", "country": "US", "prices": ["5.00", "8.00", "15.00"]}],
}


def gtin13(sku: str) -> str:
    body = "0614141" + ITEMS[sku][0].zfill(5)
    return body + str(gs1_check_digit(body))


def gs1(sku: str, *, lot: str | None = None, count: int | None = None) -> str:
    """A GS1-128 scan of the item, with lot and count when given."""
    text = "]C1" + "01" + gtin13(sku).zfill(14)
    if lot is not None:
        text += "10" + lot + (GS if count is not None else "")
    if count is not None:
        text += "37" + str(count)
    return text


def setup_site(services: Services, *, carrier_service: bool = True) -> None:
    """The layout, the items (1 kg each), a carrier service and two carton types."""
    db = services.db
    load_layout(db, Layout.parse(LAYOUT), site="CHI")
    with db.write() as w:
        for sku, (_, _, lot_tracked) in ITEMS.items():
            item, _ = validate_item(
                {
                    "sku": sku,
                    "description": f"Item {sku}",
                    "gtin": gtin13(sku),
                    "lot_tracked": lot_tracked,
                    "weight_kg": 1,
                }
            )
            upsert_item(w, item)
        site_id = w.execute("SELECT id FROM sites WHERE code = 'CHI'").fetchone()[0]
        if carrier_service:
            w.execute(
                "INSERT INTO carrier_services (site_id, code, carrier, name, cutoff_local, "
                "rate_card_json, updated_at) VALUES (?, ?, 'ACME', 'Acme Ground', '17:00', ?, ?)",
                [site_id, SERVICE, json.dumps(RATE_CARD), iso()],
            )
        for code, tare, max_kg in (("BOX-S", 0.2, 10.0), ("BOX-L", 0.5, 30.0)):
            w.execute(
                "INSERT INTO carton_types (site_id, code, description, tare_kg, max_weight_kg, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                [site_id, code, f"Box {code}", tare, max_kg, iso()],
            )


def stock_item(db: Database, sku: str, qty: int, *, lot: str = "") -> None:
    """Receive `qty` of `sku` straight into its pick face."""
    with db.write() as w:
        inventory.receive(
            w,
            "CHI",
            ReceiptIn.model_validate(
                {"location": ITEMS[sku][1], "sku": sku, "qty": qty, "lot": lot, "ref": "test"}
            ),
            Actor(),
        )


@dataclass
class Pick:
    """One pick line to record: `qty` of an order line's allocation; `picked` of it went into
    `tote` (the rest short), or nothing yet when `open`."""

    line_no: int
    tote: str
    picked: int | None = None  # default: all of it
    zone: str = ""
    open: bool = False


@dataclass
class PickedOrder:
    number: str
    order_id: int
    task_ids: list[int] = field(default_factory=list)


def put_order(db: Database, number: str, lines: list[tuple[str, int]]) -> int:
    body = FulfillmentOrderIn.model_validate(
        {
            "ship_to": SHIP_TO,
            "carrier_service": SERVICE,
            "lines": [{"line_no": n, "sku": s, "qty": q} for n, (s, q) in enumerate(lines, 1)],
        }
    )
    with db.write() as w:
        orders.put_order(w, "CHI", number, body)
        allocation.allocate_order(w, "CHI", number)
        return int(
            w.execute("SELECT id FROM fulfillment_orders WHERE number = ?", [number]).fetchone()[0]
        )


def picked_order(
    db: Database,
    number: str,
    lines: list[tuple[str, int]],
    picks: list[Pick],
    *,
    drop: str = "PACK-01",
    strategy: str = "discrete",
) -> PickedOrder:
    """An allocated order whose allocations `picks` took (one task per distinct tote, as zone
    picking would do; `drop` is where the totes go). Each Pick takes the whole allocation of
    its line (split over several Picks of one line in the order given, `picked` each)."""
    order_id = put_order(db, number, lines)
    out = PickedOrder(number, order_id)
    with db.write() as w:
        site_id = w.execute("SELECT id FROM sites WHERE code = 'CHI'").fetchone()[0]
        drop_id = w.execute("SELECT id FROM locations WHERE code = ?", [drop]).fetchone()[0]
        tasks: dict[str, int] = {}
        allocs: dict[int, list[dict[str, Any]]] = {}
        for row in w.execute(
            "SELECT a.*, fl.line_no FROM allocations a JOIN fo_lines fl "
            "ON fl.id = a.order_line_id WHERE fl.order_id = ? ORDER BY a.id",
            [order_id],
        ).fetchall():
            allocs.setdefault(row["line_no"], []).append(dict(row))
        seq = itertools.count(1)
        for pick in picks:
            if pick.tote not in tasks:
                cur = w.execute(
                    "INSERT INTO pick_tasks (site_id, strategy, zone, status, drop_location_id, "
                    "created_at, started_at, finished_at) VALUES (?,?,?,?,?,?,?,?)",
                    [site_id, strategy, pick.zone, "done", drop_id, iso(), iso(), iso()],
                )
                tasks[pick.tote] = int(cur.lastrowid or 0)
                w.execute(
                    "INSERT INTO pick_task_orders (task_id, order_id, position, tote) "
                    "VALUES (?,?,1,?)",
                    [tasks[pick.tote], order_id, pick.tote],
                )
            alloc = allocs[pick.line_no].pop(0)
            qty = alloc["qty"]
            picked = 0 if pick.open else (qty if pick.picked is None else pick.picked)
            status = "open" if pick.open else ("picked" if picked == qty else "short")
            w.execute(
                "INSERT INTO pick_lines (task_id, seq, order_line_id, location_id, item_id, lot, "
                "lpn, qty, qty_picked, qty_short, status, tote, picked_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    tasks[pick.tote],
                    next(seq),
                    alloc["order_line_id"],
                    alloc["location_id"],
                    alloc["item_id"],
                    alloc["lot"],
                    alloc["lpn"],
                    qty,
                    picked,
                    0 if pick.open else qty - picked,
                    status,
                    pick.tote,
                    None if pick.open else iso(),
                ],
            )
            if pick.open:
                continue
            # Picking releases the allocation before it moves the stock (m060 trigger).
            w.execute("DELETE FROM allocations WHERE id = ?", [alloc["id"]])
            if picked:
                move(
                    w,
                    StockKey(alloc["location_id"], alloc["item_id"], alloc["lot"], alloc["lpn"]),
                    drop_id,
                    picked,
                    to_lpn=pick.tote,
                    movement_type="pick",
                    ref=number,
                )
        w.execute("UPDATE fulfillment_orders SET status = 'picking' WHERE id = ?", [order_id])
        out.task_ids = list(tasks.values())
    return out


class Packer:
    """A packer's handheld talking to the edge server."""

    def __init__(self, http: httpx.Client | Any, who: Caller) -> None:
        self.http = http
        self.who = who
        self.session_id: int | None = None

    def post(self, step: str, body: dict[str, Any] | None = None, *, key: str | None = None) -> Any:
        body = dict(body or {})
        if step != "start" and "session_id" not in body and self.session_id:
            body["session_id"] = self.session_id
        headers = {**self.who.headers, "Idempotency-Key": key or f"pack-{next(_keys)}"}
        return self.http.post(f"{PREFIX}/{step}", json=body, headers=headers)

    def step(
        self, step: str, body: dict[str, Any] | None = None, *, key: str | None = None
    ) -> dict[str, Any]:
        resp = self.post(step, body, key=key)
        assert resp.status_code == 200, resp.text
        envelope: dict[str, Any] = resp.json()
        state = envelope["next_state"]
        assert set(envelope["data"]) == {state}, envelope
        if step == "start":
            self.session_id = envelope["data"][state]["session_id"]
        return envelope


def stock_rows(db: Database) -> dict[tuple[str, str, str, str], int]:
    """{(location, sku, lot, lpn): qty} of all stock."""
    rows = db.query(
        "SELECT l.code, i.sku, st.lot, st.lpn, st.qty FROM stock st "
        "JOIN items i ON i.id = st.item_id JOIN locations l ON l.id = st.location_id"
    )
    return {(r["code"], r["sku"], r["lot"], r["lpn"]): r["qty"] for r in rows}


TABLES = (
    "movements",
    "stock",
    "cartons",
    "carton_lines",
    "pack_sessions",
    "shipments",
    "wrong_shipments",
    "outbox",
    "print_jobs",
    "fulfillment_orders",
)


def snapshot(db: Database) -> dict[str, Any]:
    """Everything a refused command must leave as it was (rows of the tables above)."""
    return {t: db.query(f"SELECT * FROM {t} ORDER BY rowid") for t in TABLES}


def events(db: Database, event_type: str) -> list[dict[str, Any]]:
    return [
        json.loads(r["payload_json"])
        for r in db.query(
            "SELECT payload_json FROM outbox WHERE type = ? ORDER BY id", [event_type]
        )
    ]


def pack_events(db: Database) -> list[tuple[str, str, int]]:
    return [
        (r["kind"], r["sku"], r["qty"])
        for r in db.query("SELECT kind, sku, qty FROM pack_events ORDER BY id")
    ]
