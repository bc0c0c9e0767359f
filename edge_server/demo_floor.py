"""A morning on the demo floor, so the supervisors' page has something true to show.

Two pickers on paired handhelds work a released wave (one quicker than the other, one
mis-scan caught), and two counters count a bin that is short, which takes a recount and then
waits for a supervisor's approval. Every call goes through the edge's HTTP API exactly as a
handheld's replayed queue would send it, with `X-Scanned-At` times spread over the last hours,
so labor rates, pick accuracy, IRA and the approvals list are computed by the real code.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx

from edge_server.db import Database
from edge_server.timeutil import utcnow

API = "/api/v1"
TOTES = itertools.count(9001)


class DemoFloorError(RuntimeError):
    """The simulated floor could not go on (the servers stay usable)."""


def _check(resp: httpx.Response) -> dict[str, Any]:
    if resp.status_code >= 400:
        raise DemoFloorError(f"{resp.request.method} {resp.request.url.path}: {resp.text[:300]}")
    body: dict[str, Any] = resp.json()
    return body


class Desk:
    """The supervisor at the web page (no handheld)."""

    def __init__(self, http: httpx.Client, badge: str, pin: str) -> None:
        self.http = http
        answer = _check(http.post(f"{API}/auth/login", json={"badge": badge, "pin": pin}))
        self.headers = {"Authorization": f"Bearer {answer['data']['token']}"}

    def get(self, path: str, **params: Any) -> Any:
        return _check(self.http.get(API + path, params=params, headers=self.headers))["data"]

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        headers = {**self.headers, "Idempotency-Key": f"demo-{uuid.uuid4()}"}
        return _check(self.http.post(API + path, json=body or {}, headers=headers))


class Handheld:
    """A paired handheld with a worker logged in; `clock` is the worker's scan time."""

    def __init__(self, desk: Desk, name: str, badge: str, pin: str, start: datetime) -> None:
        self.http = desk.http
        code = desk.post("/devices/pairing-codes")["data"]["code"]
        paired = _check(self.http.post(f"{API}/devices/pair", json={"code": code, "name": name}))
        device = {"X-Device-Token": paired["data"]["device_token"]}
        login = _check(
            self.http.post(f"{API}/auth/login", json={"badge": badge, "pin": pin}, headers=device)
        )
        self.headers = {**device, "Authorization": f"Bearer {login['data']['token']}"}
        self.clock = start
        self.last: dict[str, Any] = {}

    def send(self, path: str, body: dict[str, Any], *, after: float) -> httpx.Response:
        """One scan `after` seconds after the previous one."""
        self.clock += timedelta(seconds=after)
        headers = {
            **self.headers,
            "Idempotency-Key": f"demo-{uuid.uuid4()}",
            "X-Scanned-At": self.clock.isoformat(),
        }
        return self.http.post(API + path, json=body, headers=headers)

    def step(self, path: str, body: dict[str, Any], *, after: float) -> dict[str, Any]:
        self.last = _check(self.send(path, body, after=after))
        return self.last

    def heartbeat(self) -> None:
        """What the handheld's replayer sends when idle: its queue is empty."""
        headers = {**self.headers, "Idempotency-Key": f"demo-{uuid.uuid4()}"}
        body = {"pending": 0, "rejected": 0, "app_version": "demo"}
        _check(self.http.post(f"{API}/devices/me/heartbeat", json=body, headers=headers))

    @property
    def state(self) -> str:
        return str(self.last.get("next_state", ""))

    @property
    def view(self) -> dict[str, Any]:
        data: dict[str, Any] = self.last["data"][self.state]
        return data


def _gtins(db: Database) -> dict[str, str]:
    rows = db.query(
        "SELECT i.sku, MIN(g.gtin) AS gtin FROM items i JOIN item_gtins g ON g.item_id = i.id "
        "AND g.qty = 1 GROUP BY i.sku"
    )
    return {r["sku"]: r["gtin"] for r in rows}


def pick_a_task(hand: Handheld, gtins: dict[str, str], pace: float, *, mis_scan: bool) -> int:
    """Claim the next pick task and pick it in full; `pace` stretches every gap (1 = brisk).
    Returns the units picked."""
    resp = hand.send("/picking/next", {}, after=30 * pace)
    if resp.status_code >= 400 and resp.json()["message"]["code"] == "PICK_NO_TASK":
        return 0
    hand.last = _check(resp)
    task = {"task_id": hand.view["task_id"]}
    while hand.state == "bind_tote":
        hand.step("/picking/bind-tote", {**task, "barcode": f"TOTE-{next(TOTES)}"}, after=4)
    units = 0
    while hand.state in ("scan_bin", "scan_item"):
        line = hand.view["line"]
        if hand.state == "scan_bin":
            hand.step("/picking/scan-bin", {**task, "barcode": line["bin"]}, after=24 * pace)
        if mis_scan:  # the neighbour's product: refused, counted as a mis-scan caught
            wrong = next(g for sku, g in gtins.items() if sku != line["sku"])
            hand.send("/picking/scan-item", {**task, "barcode": wrong}, after=5 * pace)
            mis_scan = False
        hand.step("/picking/scan-item", {**task, "barcode": gtins[line["sku"]]}, after=5 * pace)
        if hand.state == "set_quantity":
            hand.step("/picking/quantity", {**task, "qty": line["qty_remaining"]}, after=3 * pace)
        units += int(line["qty_remaining"])
        hand.step("/picking/tote", {**task, "barcode": line["tote"]}, after=3 * pace)
    return units


def count_short_bin(db: Database, desk: Desk, first: Handheld, second: Handheld) -> str:
    """A bin whose books say more than is there: counted, recounted by another counter, and
    left for the supervisor because it is worth more than the approval limit."""
    row = db.query_one(
        "SELECT l.code AS bin, i.sku, s.qty, g.gtin FROM stock s "
        "JOIN locations l ON l.id = s.location_id JOIN items i ON i.id = s.item_id "
        "JOIN item_gtins g ON g.item_id = i.id AND g.qty = 1 "
        "WHERE s.status = 'available' AND s.lot = '' AND s.lpn = '' AND s.qty >= 8 "
        "AND l.type IN ('pick_face', 'reserve') AND i.unit_cost IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM allocations a WHERE a.location_id = s.location_id "
        "AND a.item_id = s.item_id) ORDER BY CAST(i.unit_cost AS REAL) DESC, l.code LIMIT 1"
    )
    if row is None:
        raise DemoFloorError("no stocked bin to count")
    task = desk.post("/counts/tasks", {"kind": "bin", "location": row["bin"]})["data"]
    task_id = task["task"]["id"]
    found = int(row["qty"]) - 6
    for hand in (first, second):
        hand.step(f"/counts/tasks/{task_id}/claim", {}, after=40)
        hand.step(
            f"/counts/tasks/{task_id}/lines",
            {"location": row["bin"], "gtin": row["gtin"], "qty": found},
            after=70,  # walking there, then counting a shelf of boxes
        )
        answer = hand.step(f"/counts/tasks/{task_id}/submit", {}, after=15)["data"]
        if answer.get("outcome") != "recount":
            break
        task_id = answer["recount_task_id"]
    return f"{row['bin']} ({row['sku']}): books {row['qty']}, counted {found} twice"


def simulate_floor(base_url: str, db: Database, say: Callable[[str], None]) -> None:
    """Run the morning against the edge at `base_url` (its database `db` is read only to find
    GTINs and a bin worth counting, as a worker would read labels)."""
    start = utcnow() - timedelta(hours=2)
    with httpx.Client(base_url=base_url, timeout=30.0) as http:
        desk = Desk(http, "SUP01", "2222")
        planned = desk.get("/waves", status="planned")["items"]
        for wave in planned:
            desk.post(f"/waves/{wave['number']}/release")
        gtins = _gtins(db)
        quick = Handheld(desk, "demo-hh-1", "PICK01", "1234", start)
        steady = Handheld(desk, "demo-hh-2", "PICK02", "1234", start + timedelta(minutes=3))
        picked = {"PICK01": 0, "PICK02": 0}
        for round_ in range(3):
            picked["PICK01"] += pick_a_task(quick, gtins, 1.0, mis_scan=round_ == 1)
            picked["PICK02"] += pick_a_task(steady, gtins, 1.6, mis_scan=False)
        say(f"  pickers: PICK01 picked {picked['PICK01']} units, PICK02 {picked['PICK02']}")
        counter = Handheld(desk, "demo-hh-3", "CNT01", "1234", start + timedelta(minutes=20))
        checker = Handheld(desk, "demo-hh-4", "CNT02", "1234", start + timedelta(minutes=50))
        say(f"  count: {count_short_bin(db, desk, counter, checker)} → awaiting approval")
        for hand in (quick, steady, counter, checker):
            hand.heartbeat()
