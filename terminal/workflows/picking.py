"""Picking on the handheld (no Kivy): the server's picking scenario, checked locally.

"Next task" claims a task from the server (online, once) and downloads it: every line in
route order with bin, SKU, lot, LPN, quantity, cart position and tote, and each SKU's GTINs.
From then on every scan is checked here against that download — wrong bin, item, LPN, tote,
tote already bound at another position, over-pick, short quantity — with the server's own
code and sentence, and a good scan is queued (the exact `/picking/...` body) before the screen
confirms. The local state moves as `edge_server/scenarios/picking.py` would move (docs/
scenarios/picking.md). What only the server can decide (a substitute lot's free stock, a tote
in use by another task, where a short pick is reallocated) is decided on replay: a refusal is
shown and reported, and a different answer makes the workflow reload the task.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from protocols.barcodes import PLACE_KINDS, ScanKind
from protocols.errors import ErrorCode
from protocols.picking import PickingState as S
from terminal.client.edge import EdgeError
from terminal.scanners.base import DecodedScan
from terminal.workflows.base import Feedback, Tone, View
from terminal.workflows.counting import suggest_count
from terminal.workflows.session import (
    QueuedWorkflow,
    Tracked,
    Work,
    bad,
    good,
    parse,
    refused,
    scan_body,
)

__all__ = ["PickingWorkflow"]

PREFIX = "/picking"
#: Mis-scans the handheld catches itself, reported as `POST /picking/mis-scans` kinds.
_MISSCAN_KINDS: dict[ErrorCode, str] = {
    ErrorCode.PICK_WRONG_BIN: "wrong_bin",
    ErrorCode.PICK_WRONG_ITEM: "wrong_item",
    ErrorCode.PICK_WRONG_LOT: "wrong_lot",
    ErrorCode.PICK_WRONG_TOTE: "wrong_tote",
    ErrorCode.PICK_OVER_PICK: "over_pick",
}


def _confirm_remaining(data: Any) -> dict[str, Any] | None:
    """The count the server asks for after a pick (`confirm_remaining`), at the top of the
    answer's data or in its step's data."""
    if not isinstance(data, dict):
        return None
    for part in (data, *(v for v in data.values() if isinstance(v, dict))):
        asked = part.get("confirm_remaining")
        if isinstance(asked, dict) and asked.get("count_task_id") is not None:
            return asked
    return None


def _qty(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if str(number) == str(value).strip() or isinstance(value, int) else None


class PickingWorkflow(QueuedWorkflow):
    name = "picking"
    title = "Picking"

    def __init__(self, work: Work) -> None:
        super().__init__(work)
        self.state: str = S.START.value
        self.task: dict[str, Any] = {}
        self.lines: list[dict[str, Any]] = []
        self.current: dict[str, Any] | None = None
        self.position: int | None = None  # bind_tote: the cart position to bind
        self.units_per_scan = 1
        self.qty: int | None = None  # eaches taken, waiting for the tote scan
        self.short_found: int | None = None  # a short pick waiting for its tote scan
        # Bins the server asked this picker to count after a pick (`confirm_remaining`)
        self.count_requests: list[dict[str, Any]] = []

    # == the screen's interface ==================================================================
    def view(self) -> View:
        self.reconcile()
        ln = self.current or {}
        fields: dict[str, Any] = {}
        prompt = "Press Next task."
        if self.state == S.BIND_TOTE:
            order = self._order_at(self.position)
            prompt = f"Scan an empty tote for cart position {self.position} (order {order})."
            fields = {"position": self.position, "order": order}
        elif self.state in (S.SCAN_BIN, S.SCAN_ITEM, S.SET_QUANTITY, S.SCAN_TOTE) and ln:
            fields = {
                k: ln.get(k)
                for k in ("bin", "sku", "description", "lot", "lpn", "position", "tote", "order")
            } | {"qty_remaining": self._remaining(ln), "qty": self.qty}
            if self.state == S.SCAN_BIN:
                prompt = f"Go to {ln['bin']} and scan the bin."
            elif self.state == S.SCAN_ITEM:
                lot = f" lot {ln['lot']}" if ln.get("lot") else ""
                prompt = f"Take {self._remaining(ln)} × {ln['sku']}{lot}: scan the product."
            elif self.state == S.SET_QUANTITY:
                prompt = f"How many {ln['sku']} did you take? ({self._remaining(ln)} to pick)"
            if self.short_found is not None:
                fields["short_found"] = self.short_found
                prompt = f"Short: put {self.short_found} into {ln['tote']} and scan the tote."
            elif self.state == S.SCAN_TOTE:
                prompt = (
                    f"Put {self.qty} into {ln['tote']} (position {ln['position']}) "
                    "and scan the tote."
                )
        elif self.state == S.DONE:
            prompt = f"Task done. Take the totes to {self.task.get('drop_location')}."
        if self.count_requests:  # the count is first in the Cycle counting list
            asked = self.count_requests[-1]
            fields["count"] = f"Count what is left in {asked['location']}"
            if self.state == S.DONE:
                prompt += f" Then count what is left in {asked['location']} (Cycle counting)."
        done = sum(1 for x in self.lines if x["status"] != "open")
        title = f"Picking — task {self.task['task_id']}" if self.task else self.title
        return self.make_view(
            prompt,
            self.state,
            title=title,
            fields=fields,
            lines=[dict(x) for x in self.lines],
            progress=(done, len(self.lines)),
        )

    def on_scan(self, scan: DecodedScan) -> Feedback:
        news = self.reconcile()
        if news is not None and news.tone is Tone.BAD:
            return news
        if self.state == S.BIND_TOTE:
            return self._bind_tote(scan)
        if self.state == S.SCAN_BIN:
            return self._scan_bin(scan)
        if self.state == S.SCAN_ITEM:
            placed = parse(scan, {*PLACE_KINDS, ScanKind.ITEM, ScanKind.LPN})
            if not isinstance(placed, Feedback) and placed.kind in PLACE_KINDS:
                return self._scan_bin(scan)  # the server takes a bin again at this step
            return self._scan_item(scan)
        if self.state in (S.SCAN_TOTE, S.SET_QUANTITY) and self.short_found is not None:
            return self._tote(scan)
        if self.state == S.SCAN_TOTE:
            return self._tote(scan)
        return bad(ErrorCode.TERMINAL_WRONG_STEP, state=self.state)

    def on_input(self, name: str, value: Any) -> Feedback:
        news = self.reconcile()
        if news is not None and news.tone is Tone.BAD:
            return news
        if name == "next":
            return self.claim(_qty(value) if value is not None else None)
        if name == "qty":
            return self._quantity(value)
        if name == "short":
            return self._short(value)
        if name == "refresh":
            return self._refresh()
        return self.unknown_input(name)

    # == starting: the one step that needs the server ============================================
    def claim(self, task_id: int | None = None) -> Feedback:
        """Claim the next task (or resume/take over `task_id`) and download it."""
        if self.state not in (S.START, S.DONE):
            return bad(ErrorCode.TERMINAL_WRONG_STEP, state=self.state)
        blocked = self.can_start()
        if blocked is not None:
            return blocked
        body = {"task_id": task_id} if task_id else {}
        try:
            envelope = self.work.send_now(f"{PREFIX}/next", body)
            self._adopt(envelope)
        except EdgeError as exc:
            return refused(exc)
        return good(text=f"Task {self.task['task_id']}: {len(self.lines)} lines.")

    def _refresh(self) -> Feedback:
        if not self.task:
            return bad(ErrorCode.TERMINAL_WRONG_STEP, state=self.state)
        blocked = self.can_start()
        if blocked is not None:
            return blocked
        try:
            self.resync()
        except EdgeError as exc:
            return refused(exc)
        return good(ErrorCode.TERMINAL_RESYNCED)

    def resync(self) -> None:
        task_id = self.task["task_id"]
        self._adopt(self.work.get(f"{PREFIX}/tasks/{task_id}/state"))

    def _adopt(self, envelope: dict[str, Any]) -> None:
        """Take the server's answer as the truth: the task, its lines, the step."""
        state = str(envelope["next_state"])
        data = envelope["data"][state]
        task = self.work.get(f"{PREFIX}/tasks/{data['task_id']}")["data"]
        self.work.load_items({ln["sku"] for ln in task["lines"]})
        self.task = task
        self.lines = sorted(task["lines"], key=lambda x: (x["seq"], x["line_id"]))
        self.state = state
        line_id = (data.get("line") or {}).get("line_id")
        self.current = next((x for x in self.lines if x["line_id"] == line_id), None)
        self.position = data.get("position")
        self.units_per_scan = int(data.get("units_per_scan") or 1)
        self.qty = data.get("qty")
        self.short_found = None

    # == the local state machine (mirrors edge_server/scenarios/picking.py) =====================
    def _queue(
        self, step: str, body: dict[str, Any], scan: DecodedScan | None, **note: Any
    ) -> None:
        command = self.work.enqueue(
            f"{PREFIX}/{step}",
            {"task_id": self.task["task_id"], **body},
            workflow=self.name,
            scanned_at=scan.scanned_at if scan else None,
        )
        self.track(command, self.state, **note)  # self.state is already the next state

    def applied(self, tracked: Tracked, envelope: dict[str, Any]) -> None:
        if tracked.note.get("resync"):
            self._diverged = True  # ids or lines only the server knows (split, reallocation)
        asked = _confirm_remaining(envelope.get("data"))
        if asked is not None:
            self.count_requests.append(asked)
            suggest_count(self.work.conn, int(asked["count_task_id"]))

    def _bind_tote(self, scan: DecodedScan) -> Feedback:
        parsed = parse(scan, {ScanKind.TOTE})
        if isinstance(parsed, Feedback):
            return parsed
        tote = parsed.value
        for o in self.task["orders"]:
            if o["tote"] == tote:
                return bad(
                    ErrorCode.PICK_TOTE_IN_USE,
                    tote=tote,
                    task_id=self.task["task_id"],
                    reason="bound",
                    position=o["position"],
                )
        position = self.position
        for o in self.task["orders"]:
            if o["position"] == position:
                o["tote"] = tote
        for ln in self.lines:
            if ln["position"] == position:
                ln["tote"] = tote
        unbound = sorted(o["position"] for o in self.task["orders"] if not o["tote"])
        if unbound:
            self.state, self.position = S.BIND_TOTE.value, unbound[0]
        else:
            self.position = None
            self._to_next_line(after=None)
        self._queue("bind-tote", scan_body(scan), scan)
        return good(ErrorCode.PICK_TOTE_BOUND, tote=tote, position=position)

    def _scan_bin(self, scan: DecodedScan) -> Feedback:
        ln = self.current
        assert ln is not None
        parsed = parse(scan, PLACE_KINDS)
        if isinstance(parsed, Feedback):
            return parsed
        if parsed.value != ln["bin"]:
            return self._wrong(ErrorCode.PICK_WRONG_BIN, scanned=parsed.value, expected=ln["bin"])
        self.state, self.units_per_scan, self.qty = S.SCAN_ITEM.value, 1, None
        self._queue("scan-bin", scan_body(scan), scan)
        return good(text=f"{ln['bin']}: scan {ln['sku']}.")

    def _scan_item(self, scan: DecodedScan) -> Feedback:
        ln = self.current
        assert ln is not None
        parsed = parse(scan, {ScanKind.ITEM, ScanKind.LPN})
        if isinstance(parsed, Feedback):
            return parsed
        remaining = self._remaining(ln)
        units, qty, note = 1, None, {}
        message: ErrorCode | None = None
        if parsed.kind is ScanKind.LPN:
            if not ln["lpn"] or parsed.value != ln["lpn"]:
                return self._wrong(
                    ErrorCode.PICK_WRONG_ITEM,
                    scanned_lpn=parsed.value,
                    expected_sku=ln["sku"],
                    lpn=ln["lpn"],
                )
        else:
            match = self.work.items.gtin(parsed.gtin or "")
            if match is None or match[0].sku != ln["sku"]:
                return self._wrong(
                    ErrorCode.PICK_WRONG_ITEM,
                    scanned_gtin=parsed.gtin,
                    scanned_sku=match[0].sku if match else None,
                    expected_sku=ln["sku"],
                )
            item, units = match
            if item.lot_tracked and parsed.lot is not None and parsed.lot != ln["lot"]:
                # Only the server knows whether that lot has free stock here: it decides on
                # replay (PICK_WRONG_LOT is then shown as a refusal).
                ln = self._substitute(ln, parsed.lot, remaining)
                message, note = ErrorCode.PICK_LOT_SUBSTITUTED, {"resync": True}
            if parsed.count:
                qty = parsed.count * units
                if qty > remaining:
                    return self._wrong(
                        ErrorCode.PICK_OVER_PICK,
                        qty=qty,
                        remaining=remaining,
                        **{"from": "gs1_count"},
                    )
        self.units_per_scan, self.qty = units, qty
        self.state = S.SCAN_TOTE.value if qty else S.SET_QUANTITY.value
        self._queue("scan-item", scan_body(scan), scan, **note)
        if message is not None:
            return good(message, lot=ln["lot"])
        return good(text=f"{ln['sku']} OK.", units_per_scan=units)

    def _quantity(self, value: Any) -> Feedback:
        if self.state not in (S.SET_QUANTITY, S.SCAN_TOTE) or self.short_found is not None:
            return bad(ErrorCode.PICK_WRONG_STEP, state=self.state)
        n = _qty(value)
        if n is None or n <= 0 or n > 10_000_000:
            return bad(ErrorCode.QUANTITY_INVALID, qty=value)
        ln = self.current
        assert ln is not None
        qty, remaining = n * self.units_per_scan, self._remaining(ln)
        if qty > remaining:
            return self._wrong(ErrorCode.PICK_OVER_PICK, qty=qty, remaining=remaining)
        self.qty, self.state = qty, S.SCAN_TOTE.value
        self._queue("quantity", {"qty": n}, None)
        return good(text=f"{qty} taken: scan tote {ln['tote']}.")

    def _tote(self, scan: DecodedScan) -> Feedback:
        ln = self.current
        assert ln is not None
        parsed = parse(scan, {ScanKind.TOTE, ScanKind.CART_POSITION})
        if isinstance(parsed, Feedback):
            return parsed
        if parsed.kind is ScanKind.CART_POSITION:
            right = parsed.number == ln["position"]
        else:
            right = parsed.value == ln["tote"]
        if not right:
            return self._wrong(
                ErrorCode.PICK_WRONG_TOTE,
                scanned=parsed.value,
                expected=ln["tote"],
                position=ln["position"],
            )
        if self.short_found is not None:
            found, remaining = self.short_found, self._remaining(ln)
            self._pick(ln, found)
            self._close_short(ln, remaining - found)
            self._queue("short", {"qty_found": found, **scan_body(scan)}, scan, resync=True)
            return good(ErrorCode.PICK_SHORT_RECORDED, qty_found=found)
        qty = int(self.qty or 0)
        self._pick(ln, qty)
        code = self._after_line(ln)
        self._queue("tote", scan_body(scan), scan)
        return good(code, qty=qty, tote=ln["tote"])

    def _short(self, value: Any) -> Feedback:
        if self.state not in (S.SCAN_ITEM, S.SET_QUANTITY, S.SCAN_TOTE):
            return bad(ErrorCode.PICK_WRONG_STEP, state=self.state)
        ln = self.current
        assert ln is not None
        found = _qty(value)
        remaining = self._remaining(ln)
        if found is None or found < 0 or found >= remaining:
            return bad(ErrorCode.PICK_SHORT_QTY_INVALID, qty_found=value, max=remaining - 1)
        if found > 0:
            if self.state == S.SCAN_ITEM:
                return bad(
                    ErrorCode.PICK_WRONG_STEP, state=self.state, reason="scan the product before"
                )
            self.short_found = found  # the tote scan sends it
            return Feedback(
                Tone.INFO, None, f"Put the {found} found into {ln['tote']} and scan it."
            )
        self._close_short(ln, remaining)
        self._queue("short", {"qty_found": 0}, None, resync=True)
        return good(ErrorCode.PICK_SHORT_RECORDED, qty_found=0)

    # -- helpers --------------------------------------------------------------------------------
    def _wrong(self, code: ErrorCode, **details: Any) -> Feedback:
        """A mis-scan caught here: BAD feedback at once, and a report queued so the server's
        pick accuracy counts it like one it refused (the scan itself is never sent)."""
        ln = self.current or {}
        kind = _MISSCAN_KINDS.get(code)
        if kind is not None and self.task.get("task_id") is not None:
            scanned = details.get("scanned") or details.get("scanned_gtin") or ""
            self.work.enqueue(
                f"{PREFIX}/mis-scans",
                {
                    "task_id": self.task["task_id"],
                    "line_id": ln.get("line_id"),
                    "kind": kind,
                    "code": code.value,
                    "scanned": str(scanned or details.get("scanned_lpn") or "")[:200],
                    "caught_at": datetime.now(UTC).isoformat(),
                },
                workflow=self.name,
            )
        return bad(code, task_id=self.task.get("task_id"), line_id=ln.get("line_id"), **details)

    @staticmethod
    def _remaining(ln: dict[str, Any]) -> int:
        return int(ln["qty"]) - int(ln["qty_picked"]) - int(ln["qty_short"])

    def _order_at(self, position: int | None) -> str | None:
        return next(
            (o["order"] for o in self.task.get("orders", []) if o["position"] == position), None
        )

    def _substitute(self, ln: dict[str, Any], lot: str, remaining: int) -> dict[str, Any]:
        if ln["qty_picked"] == 0 and ln["qty_short"] == 0:
            ln["lot"] = lot
            return ln
        new = copy.deepcopy(ln)  # part was picked from the first lot: that part closes
        ln["qty"], ln["status"] = ln["qty_picked"] + ln["qty_short"], "picked"
        new.update(line_id=None, lot=lot, qty=remaining, qty_picked=0, qty_short=0)
        self.lines.insert(self.lines.index(ln) + 1, new)
        self.current = new
        return new

    def _pick(self, ln: dict[str, Any], qty: int) -> None:
        ln["qty_picked"] += qty
        done = ln["qty_picked"] + ln["qty_short"] >= ln["qty"]
        ln["status"] = "picked" if done else "open"
        ln["qty_remaining"] = self._remaining(ln)

    def _close_short(self, ln: dict[str, Any], missing: int) -> None:
        ln["qty_short"] += missing
        ln["status"], ln["qty_remaining"] = "short", self._remaining(ln)
        self.short_found = None
        self._to_next_line(after=ln)

    def _after_line(self, ln: dict[str, Any]) -> ErrorCode:
        self.short_found = None
        if ln["status"] == "open":
            self.state, self.units_per_scan, self.qty = S.SCAN_ITEM.value, 1, None
            return ErrorCode.PICK_PICKED
        self._to_next_line(after=ln)
        return ErrorCode.PICK_TASK_DONE if self.state == S.DONE else ErrorCode.PICK_PICKED

    def _to_next_line(self, *, after: dict[str, Any] | None) -> None:
        self.units_per_scan, self.qty = 1, None
        todo = [x for x in self.lines if x["status"] == "open"]
        if not todo:
            self.state, self.current = S.DONE.value, None
            return
        nxt = todo[0]
        same_bin = after is not None and nxt["bin"] == after["bin"]
        self.state = S.SCAN_ITEM.value if same_bin else S.SCAN_BIN.value
        self.current = nxt
