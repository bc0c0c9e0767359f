"""The picking scenario: a picker walks a routed pick task, scan by scan.

Flow (docs/scenarios/picking.md): claim a task → bind a tote to each cart position → for each
line in route order: scan the bin → scan the product (GTIN, GS1 with lot and count) or the
LPN → quantity → scan the order's tote, which posts the pick → … → done. A short pick reports
what the bin held; the rest is reallocated from other bins or backordered.

Every endpoint runs inside the caller's idempotent write transaction (`Mutation.run`). The
task row remembers the state, the current line and the scan in progress (`pending_json`), so a
handheld resumes after a restart (`GET /picking/tasks/{id}/state`, or claiming again).

A refused scan (wrong bin, item, lot, tote, over-pick) raises `PickRefused`: the transaction
rolls back, so nothing changes; the caller then records the mis-scan with `record_refusal` in
a transaction of its own, for the pick accuracy KPI.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.access.policy import MANAGERS
from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.integration.outbox import emit
from edge_server.scenarios import picking_repo as repo
from edge_server.scenarios.base import ScenarioService, endpoint
from edge_server.timeutil import iso, utcnow
from edge_server.wms import labor, ledger
from edge_server.wms.counting.tasks import low_after_pick
from edge_server.wms.items import find_by_gtin
from edge_server.wms.ledger import StockKey
from edge_server.wms.outbound import allocation
from edge_server.wms.outbound.pick_tasks import resequence_open_lines
from edge_server.wms.purchase_orders import Source, fetch_rows
from edge_server.wms.putaway.count_hook import request_count
from protocols.barcodes import PLACE_KINDS, ScanKind, parse_scan
from protocols.envelope import MessageType
from protocols.errors import ErrorCode
from protocols.picking import ClaimIn, MisScanIn, PickEventKind, QuantityIn, ScanIn, ShortIn
from protocols.picking import PickingState as S

__all__ = ["PICK_TASK_DONE", "PickRefused", "PickingScenario"]

PICK_TASK_DONE = "pick_task.done"
Pending = dict[str, Any]
_AT_BIN = (S.SCAN_ITEM, S.SET_QUANTITY, S.SCAN_TOTE)


class PickRefused(AislewayError):
    """A refused scan that counts as a mis-scan caught (`pick_events.kind`)."""

    def __init__(
        self,
        code: ErrorCode,
        kind: PickEventKind,
        *,
        site_id: int,
        task_id: int,
        line_id: int | None,
        qty: int = 0,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code, details=details)
        self.kind = kind
        self.site_id = site_id
        self.task_id = task_id
        self.line_id = line_id
        self.qty = qty


def _today() -> str:
    return utcnow().date().isoformat()


def _insert_allocation(
    w: SUDatabase, ln: dict[str, Any], location_id: int, lot: str, lpn: str, qty: int
) -> None:
    """Reserve a stock key for the pick line's order line."""
    w.execute(
        "INSERT INTO allocations (order_line_id, location_id, item_id, lot, lpn, qty, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [ln["order_line_id"], location_id, ln["item_id"], lot, lpn, qty, iso()],
    )


def _insert_line(
    w: SUDatabase,
    task_id: int,
    ln: dict[str, Any],
    location_id: int,
    lot: str,
    lpn: str,
    qty: int,
) -> int:
    """A new pick line for the same order line (a substitute lot, or stock from another bin
    after a short pick), placed at `ln`'s stop until the task is routed again."""
    cur = w.execute(
        "INSERT INTO pick_lines (task_id, seq, order_line_id, location_id, item_id, lot, lpn, "
        "qty) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [task_id, ln["seq"], ln["order_line_id"], location_id, ln["item_id"], lot, lpn, qty],
    )
    return int(cur.lastrowid or 0)


class PickingScenario(ScenarioService):
    name = "picking"
    states = tuple(s.value for s in S)
    initial = S.START.value
    final = (S.DONE.value,)

    # == endpoints ===============================================================================
    @endpoint(from_=[S.START], to=[S.BIND_TOTE, S.SCAN_BIN, *_AT_BIN])
    def claim(self, w: SUDatabase, body: ClaimIn) -> dict[str, Any]:
        """The picker's own task in progress, else the next open task: of a released wave or
        of no wave, the highest order priority first, then the oldest. A named task is resumed
        (or, by a supervisor, taken over)."""
        if body.task_id is not None:
            t = self._load(w, body.task_id, claiming=True)
        else:
            t = self._own_task(w) or self._next_open_task(w)
        if t["status"] == "in_progress":
            return self._respond(w, t)
        now = iso()
        first = self._unbound_position(w, t["id"])
        w.execute(
            "UPDATE pick_tasks SET status = 'in_progress', assigned_to = ?, device_id = ?, "
            "started_at = COALESCE(started_at, ?), state = ?, pending_json = ? WHERE id = ?",
            [
                self.user_id,
                self.device_id,
                now,
                S.BIND_TOTE.value,
                json.dumps({"position": first}),
                t["id"],
            ],
        )
        return self._respond(w, repo.task(w, t["id"]))

    @endpoint(from_=[S.BIND_TOTE], to=[S.BIND_TOTE, S.SCAN_BIN])
    def bind_tote(self, w: SUDatabase, body: ScanIn) -> dict[str, Any]:
        """Scan an empty tote for the cart position shown (one per order)."""
        t = self._load(w, body.task_id, allowed=(S.BIND_TOTE,))
        tote = self._scan_tote(body)
        position = int(repo.pending(t)["position"])
        orders = {o["position"]: o for o in repo.task_orders(w, t["id"])}
        order = orders[position]
        self._check_tote_free(w, t, tote, order["order_id"])
        w.execute(
            "UPDATE pick_task_orders SET tote = ? WHERE task_id = ? AND position = ?",
            [tote, t["id"], position],
        )
        self._labor(w, t["id"], "handle")
        nxt = self._unbound_position(w, t["id"])
        if nxt is not None:
            self._save(w, t["id"], S.BIND_TOTE, {"position": nxt})
        else:
            self._to_next_line(w, t["id"], after=None)
        return self._respond(w, repo.task(w, t["id"]), message=ErrorCode.PICK_TOTE_BOUND)

    @endpoint(from_=[S.SCAN_BIN, S.SCAN_ITEM], to=[S.SCAN_ITEM])
    def scan_bin(self, w: SUDatabase, body: ScanIn) -> dict[str, Any]:
        """The bin label: it must be the current line's bin."""
        t = self._load(w, body.task_id, allowed=(S.SCAN_BIN, S.SCAN_ITEM))
        ln = self._current(w, t)
        scan = parse_scan(
            body.barcode,
            symbology=body.symbology,
            gs_substitute=body.gs_substitute,
            expect=PLACE_KINDS,
        )
        if scan.value != ln["bin"]:
            raise self._refused(
                t,
                ln,
                ErrorCode.PICK_WRONG_BIN,
                PickEventKind.WRONG_BIN,
                {"scanned": scan.value, "expected": ln["bin"]},
            )
        self._labor(w, t["id"], "arrive")
        self._save(w, t["id"], S.SCAN_ITEM, {"bin_ok": True})
        return self._respond(w, repo.task(w, t["id"]))

    @endpoint(from_=[S.SCAN_ITEM], to=[S.SET_QUANTITY, S.SCAN_TOTE])
    def scan_item(self, w: SUDatabase, body: ScanIn) -> dict[str, Any]:
        """The product (GTIN; GS1 with lot and count) or the LPN the line picks from. A GS1 lot
        other than the line's is accepted only as an allowed substitute; a GS1 count sets the
        quantity."""
        t = self._load(w, body.task_id, allowed=(S.SCAN_ITEM,))
        ln = self._current(w, t)
        remaining = ln["qty"] - ln["qty_picked"] - ln["qty_short"]
        scan = parse_scan(
            body.barcode,
            symbology=body.symbology,
            gs_substitute=body.gs_substitute,
            expect={ScanKind.ITEM, ScanKind.LPN},
        )
        pending: Pending = {"bin_ok": True, "units_per_scan": 1, "qty": None}
        message: ErrorCode | None = None
        if scan.kind is ScanKind.LPN:
            if not ln["lpn"] or scan.value != ln["lpn"]:
                raise self._refused(
                    t,
                    ln,
                    ErrorCode.PICK_WRONG_ITEM,
                    PickEventKind.WRONG_ITEM,
                    {"scanned_lpn": scan.value, "expected_sku": ln["sku"], "lpn": ln["lpn"]},
                )
        else:
            gtin = scan.gtin
            match = find_by_gtin(w, gtin) if gtin else None
            if match is None or match.item.id != ln["item_id"]:
                raise self._refused(
                    t,
                    ln,
                    ErrorCode.PICK_WRONG_ITEM,
                    PickEventKind.WRONG_ITEM,
                    {
                        "scanned_gtin": gtin,
                        "scanned_sku": match.item.sku if match else None,
                        "expected_sku": ln["sku"],
                    },
                )
            pending["units_per_scan"] = match.qty
            if match.item.lot_tracked and scan.lot is not None and scan.lot != ln["lot"]:
                ln = self._substitute(w, t, ln, scan.lot, remaining)
                message = ErrorCode.PICK_LOT_SUBSTITUTED
            if scan.count:
                qty = scan.count * match.qty
                if qty > remaining:
                    raise self._refused(
                        t,
                        ln,
                        ErrorCode.PICK_OVER_PICK,
                        PickEventKind.OVER_PICK,
                        {"qty": qty, "remaining": remaining, "from": "gs1_count"},
                        qty=qty,
                    )
                pending["qty"] = qty
        self._labor(w, t["id"], "handle")
        state = S.SCAN_TOTE if pending["qty"] else S.SET_QUANTITY
        self._save(w, t["id"], state, pending, line_id=ln["id"])
        return self._respond(
            w,
            repo.task(w, t["id"]),
            message=message,
            kind=MessageType.WARNING if message else MessageType.SUCCESS,
        )

    @endpoint(from_=[S.SET_QUANTITY, S.SCAN_TOTE], to=[S.SCAN_TOTE])
    def quantity(self, w: SUDatabase, body: QuantityIn) -> dict[str, Any]:
        """How many were taken: of the scanned unit (cases for a case GTIN)."""
        t = self._load(w, body.task_id, allowed=(S.SET_QUANTITY, S.SCAN_TOTE))
        ln = self._current(w, t)
        pending = repo.pending(t)
        qty = body.qty * int(pending.get("units_per_scan") or 1)
        remaining = ln["qty"] - ln["qty_picked"] - ln["qty_short"]
        if qty > remaining:
            raise self._refused(
                t,
                ln,
                ErrorCode.PICK_OVER_PICK,
                PickEventKind.OVER_PICK,
                {"qty": qty, "remaining": remaining},
                qty=qty,
            )
        pending["qty"] = qty
        self._labor(w, t["id"], "handle")
        self._save(w, t["id"], S.SCAN_TOTE, pending)
        return self._respond(w, repo.task(w, t["id"]))

    @endpoint(from_=[S.SCAN_TOTE], to=[S.SCAN_BIN, S.SCAN_ITEM, S.DONE])
    def tote(self, w: SUDatabase, body: ScanIn) -> dict[str, Any]:
        """The tote of the line's order: posts the pick (stock moves into the tote at the
        drop location), then on to the next line, or the task is done."""
        t = self._load(w, body.task_id, allowed=(S.SCAN_TOTE,))
        ln = self._current(w, t)
        tote = self._line_tote(t, ln, body)
        qty = int(repo.pending(t)["qty"])
        self._pick(w, t, ln, qty, tote)
        line_done = repo.line(w, ln["id"])["status"] != "open"
        self._labor(w, t["id"], "handle", units=qty, lines=int(line_done))
        # Opportunistic count: the bin is (nearly) empty of the item, the picker is there.
        remaining = low_after_pick(
            w,
            self.site,
            self.settings.count_low_remaining_threshold,
            ln["location_id"],
            ln["item_id"],
            self.user_id,
        )
        answer = self._after_line(w, t["id"], ln, message=ErrorCode.PICK_PICKED)
        answer["data"][answer["next_state"]]["confirm_remaining"] = remaining
        return answer

    @endpoint(from_=list(_AT_BIN), to=[S.SCAN_BIN, S.SCAN_ITEM, S.DONE])
    def short(self, w: SUDatabase, body: ShortIn) -> dict[str, Any]:
        """The bin holds less than the line asks for. What was found is picked into the
        order's tote; the rest of the allocation is released, the bin gets a count request,
        and the rest is allocated from other bins (new lines in this task) or backordered."""
        t = self._load(w, body.task_id, allowed=_AT_BIN)
        ln = self._current(w, t)
        remaining = ln["qty"] - ln["qty_picked"] - ln["qty_short"]
        if body.qty_found >= remaining:
            raise AislewayError(
                ErrorCode.PICK_SHORT_QTY_INVALID,
                details={"qty_found": body.qty_found, "max": remaining - 1},
            )
        if body.qty_found > 0:
            if t["state"] == S.SCAN_ITEM:  # nothing identified yet: scan the product first
                raise AislewayError(
                    ErrorCode.PICK_WRONG_STEP,
                    details={"state": t["state"], "reason": "scan the product before"},
                )
            if not body.barcode:
                raise AislewayError(
                    ErrorCode.PICK_SHORT_QTY_INVALID,
                    details={"qty_found": body.qty_found, "barcode": "scan the tote"},
                )
            tote = self._line_tote(t, ln, ScanIn(task_id=t["id"], barcode=body.barcode))
            self._pick(w, t, ln, body.qty_found, tote)
        self._short(w, t, repo.line(w, ln["id"]), remaining - body.qty_found, body.qty_found)
        self._labor(w, t["id"], "handle", units=body.qty_found, lines=1)
        return self._after_line(w, t["id"], ln, message=ErrorCode.PICK_SHORT_RECORDED)

    @endpoint(from_=S, to=S, in_diagram=False)
    def state(self, db: Database, task_id: int) -> dict[str, Any]:
        """Where a task is: the same answer its last endpoint gave (resume after restart)."""
        t = repo.task(db, task_id)
        self._check_owner(t)
        return self._respond(db, t)

    # == refusals ================================================================================
    def _refused(
        self,
        t: repo.Row,
        ln: repo.Row,
        code: ErrorCode,
        kind: PickEventKind,
        details: dict[str, Any],
        *,
        qty: int = 0,
    ) -> PickRefused:
        return PickRefused(
            code,
            kind,
            site_id=t["site_id"],
            task_id=t["id"],
            line_id=ln["id"],
            qty=qty,
            details={"task_id": t["id"], "line_id": ln["id"], **details},
        )

    def record_refusal(
        self, w: SUDatabase, refused: PickRefused, *, request_key: str | None
    ) -> None:
        """Count a refused scan, in a write transaction of its own (the refused one rolled
        back: run it with `db.run_write`). A retry of the same request (same idempotency key)
        is counted once."""
        detail = {**refused.details, "code": refused.code.value, "request": request_key}
        if request_key is not None and fetch_rows(
            w,
            "SELECT 1 FROM pick_events WHERE task_id = ? AND kind = ? AND user_id IS ? "
            "AND json_extract(detail_json, '$.request') = ?",
            [refused.task_id, refused.kind.value, self.user_id, request_key],
        ):
            return
        self._event(
            w,
            site_id=refused.site_id,
            task_id=refused.task_id,
            line_id=refused.line_id,
            kind=refused.kind,
            qty=refused.qty,
            detail=detail,
        )

    def report_misscan(self, w: SUDatabase, body: MisScanIn) -> dict[str, Any]:
        """Count a mis-scan the handheld caught locally (it may arrive late, replayed from
        its offline queue, so the task may be closed by now). The line must be the task's."""
        t = repo.task(w, body.task_id)
        site = repo.one(w, "SELECT code FROM sites WHERE id = ?", [t["site_id"]])
        if site is None or site["code"] != self.site:
            raise AislewayError(ErrorCode.PICK_TASK_NOT_FOUND, details={"task_id": body.task_id})
        if body.line_id is not None and not fetch_rows(
            w,
            "SELECT 1 FROM pick_lines WHERE id = ? AND task_id = ?",
            [body.line_id, body.task_id],
        ):
            raise AislewayError(
                ErrorCode.VALIDATION_FAILED,
                details={"line_id": body.line_id, "reason": "not a line of this task"},
            )
        detail = {
            "code": body.code,
            "scanned": body.scanned,
            "caught": "handheld",
            "caught_at": body.caught_at.isoformat() if body.caught_at else None,
        }
        self._event(
            w,
            site_id=t["site_id"],
            task_id=t["id"],
            line_id=body.line_id,
            kind=PickEventKind(body.kind),
            qty=0,
            detail=detail,
        )
        return {"task_id": t["id"], "kind": body.kind, "recorded": True}

    # == posting =================================================================================
    def _event(
        self,
        w: SUDatabase,
        *,
        site_id: int,
        task_id: int,
        line_id: int | None,
        kind: PickEventKind,
        qty: int,
        detail: dict[str, Any],
    ) -> None:
        w.execute(
            "INSERT INTO pick_events (site_id, task_id, pick_line_id, kind, qty, detail_json, "
            "user_id, device_id, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            [
                site_id,
                task_id,
                line_id,
                kind.value,
                qty,
                json.dumps(detail, separators=(",", ":")),
                self.user_id,
                self.device_id,
                iso(),
            ],
        )

    @staticmethod
    def _release(w: SUDatabase, ln: repo.Row, qty: int) -> int:
        """Take `qty` off the line's allocations (its order line on its stock key), newest
        first; returns what was released."""
        rows = fetch_rows(
            w,
            "SELECT id, qty FROM allocations WHERE order_line_id = ? AND location_id = ? "
            "AND item_id = ? AND lot = ? AND lpn = ? ORDER BY id DESC",
            [ln["order_line_id"], ln["location_id"], ln["item_id"], ln["lot"], ln["lpn"]],
        )
        left = qty
        for r in rows:
            if left <= 0:
                break
            if r["qty"] <= left:
                w.execute("DELETE FROM allocations WHERE id = ?", [r["id"]])
                left -= r["qty"]
            else:
                w.execute("UPDATE allocations SET qty = qty - ? WHERE id = ?", [left, r["id"]])
                left = 0
        return qty - left

    def _pick(self, w: SUDatabase, t: repo.Row, ln: repo.Row, qty: int, tote: str) -> None:
        """Allocation first (the stock_keeps_allocations trigger), then the ledger move into
        the tote at the drop location, the line and the `picked` event."""
        self._release(w, ln, qty)
        movement = ledger.move(
            w,
            StockKey(ln["location_id"], ln["item_id"], ln["lot"], ln["lpn"], "available"),
            t["drop_location_id"],
            qty,
            to_lpn=tote,
            movement_type="pick",
            ref=f"pick-task-{t['id']} {ln['order_number']}",
            actor=self.actor,
        )
        picked = ln["qty_picked"] + qty
        done = picked + ln["qty_short"] >= ln["qty"]
        w.execute(
            "UPDATE pick_lines SET qty_picked = ?, status = ?, tote = ?, picked_at = ?, "
            "picked_by = ? WHERE id = ?",
            [picked, "picked" if done else "open", tote, iso(), self.user_id, ln["id"]],
        )
        self._event(
            w,
            site_id=t["site_id"],
            task_id=t["id"],
            line_id=ln["id"],
            kind=PickEventKind.PICKED,
            qty=qty,
            detail={"tote": tote, "bin": ln["bin"], "sku": ln["sku"], "movement_id": movement.id},
        )

    def _substitute(self, w: SUDatabase, t: repo.Row, ln: repo.Row, lot: str, qty: int) -> repo.Row:
        """Move the line (what is left of it) to another lot of the same item in the same bin,
        when that lot has free, available, unexpired stock for all of it; else PICK_WRONG_LOT.
        Returns the line to go on with."""
        keys = fetch_rows(
            w,
            "SELECT st.lpn, st.qty - COALESCE((SELECT SUM(a.qty) FROM allocations a "
            "WHERE a.location_id = st.location_id AND a.item_id = st.item_id "
            "AND a.lot = st.lot AND a.lpn = st.lpn), 0) AS free FROM stock st "
            "LEFT JOIN lots lo ON lo.item_id = st.item_id AND lo.lot = st.lot "
            "WHERE st.location_id = ? AND st.item_id = ? AND st.lot = ? "
            "AND st.status = 'available' AND (lo.expiry IS NULL OR lo.expiry >= ?)",
            [ln["location_id"], ln["item_id"], lot, _today()],
        )
        if not self._lot_allowed(w, ln, lot):
            keys = []  # the client's picking rules refuse this lot for this line
        fits = sorted(
            (k for k in keys if k["free"] >= qty),
            key=lambda k: (k["lpn"] != ln["lpn"], k["lpn"] != "", k["lpn"]),
        )
        if not fits:
            raise self._refused(
                t,
                ln,
                ErrorCode.PICK_WRONG_LOT,
                PickEventKind.WRONG_LOT,
                {
                    "scanned_lot": lot,
                    "expected_lot": ln["lot"],
                    "free": max((k["free"] for k in keys), default=0),
                    "needed": qty,
                },
            )
        lpn = fits[0]["lpn"]
        self._release(w, ln, qty)
        _insert_allocation(w, ln, ln["location_id"], lot, lpn, qty)
        if ln["qty_picked"] == 0 and ln["qty_short"] == 0:
            w.execute("UPDATE pick_lines SET lot = ?, lpn = ? WHERE id = ?", [lot, lpn, ln["id"]])
            line_id = ln["id"]
        else:  # part of it was picked from the first lot: that part closes as picked
            w.execute(
                "UPDATE pick_lines SET qty = qty_picked + qty_short, status = 'picked' "
                "WHERE id = ?",
                [ln["id"]],
            )
            line_id = _insert_line(w, t["id"], ln, ln["location_id"], lot, lpn, qty)
        self._event(
            w,
            site_id=t["site_id"],
            task_id=t["id"],
            line_id=line_id,
            kind=PickEventKind.SUBSTITUTE,
            qty=qty,
            detail={"from_lot": ln["lot"], "to_lot": lot, "lpn": lpn, "bin": ln["bin"]},
        )
        return repo.line(w, line_id)

    @staticmethod
    def _lot_allowed(w: SUDatabase, ln: repo.Row, lot: str) -> bool:
        """The order's client's picking rules allow `lot` for the rest of the line: not
        blocked, enough shelf life and, with single lot per line, no other lot picked or
        planned for the order line."""
        rules = allocation.order_lot_rules(w, ln["order_id"])
        found = repo.one(
            w, "SELECT expiry FROM lots WHERE item_id = ? AND lot = ?", [ln["item_id"], lot]
        )
        if not rules.allows(lot, found["expiry"] if found else None):
            return False
        if not rules.single_lot:
            return True
        others = fetch_rows(
            w,
            "SELECT 1 FROM pick_lines WHERE order_line_id = ? AND lot != ? "
            "AND (qty_picked > 0 OR (status = 'open' AND id != ?)) LIMIT 1",
            [ln["order_line_id"], lot, ln["id"]],
        )
        return not others

    def _short(self, w: SUDatabase, t: repo.Row, ln: repo.Row, missing: int, found: int) -> None:
        """Close the line short by `missing`, release that allocation, ask for a count of the
        bin and reallocate the rest from other bins, else backorder it."""
        self._release(w, ln, missing)
        w.execute(
            "UPDATE pick_lines SET qty_short = qty_short + ?, status = 'short' WHERE id = ?",
            [missing, ln["id"]],
        )
        request_count(
            w,
            site_id=t["site_id"],
            location_id=ln["location_id"],
            item_id=ln["item_id"],
            reason="short_pick",
            ref=f"pick-task-{t['id']}",
            requested_by="picking",
        )
        item = repo.one(w, "SELECT expiry_tracked FROM items WHERE id = ?", [ln["item_id"]])
        assert item is not None
        rules = allocation.order_lot_rules(w, ln["order_id"])  # the client's, like allocation
        chosen = allocation.plan(
            [
                c
                for c in allocation.candidates(w, t["site_id"], ln["item_id"])
                if c.location_id != ln["location_id"]
            ],
            missing,
            fefo=bool(item["expiry_tracked"]),
            rules=rules,
            lot=allocation.locked_lot(w, rules, ln["order_line_id"]),
        )
        new_lines: list[dict[str, Any]] = []
        for cand, qty in chosen:
            _insert_allocation(w, ln, cand.location_id, cand.lot, cand.lpn, qty)
            _insert_line(w, t["id"], ln, cand.location_id, cand.lot, cand.lpn, qty)
            new_lines.append({"bin": cand.location_code, "lot": cand.lot, "qty": qty})
        backordered = missing - sum(n["qty"] for n in new_lines)
        self._event(
            w,
            site_id=t["site_id"],
            task_id=t["id"],
            line_id=ln["id"],
            kind=PickEventKind.SHORT,
            qty=missing,
            detail={
                "bin": ln["bin"],
                "sku": ln["sku"],
                "found": found,
                "reallocated": new_lines,
                "backordered": backordered,
            },
        )
        if new_lines:
            resequence_open_lines(w, self.site, t["id"])
        if backordered > 0:
            w.execute(
                "UPDATE fo_lines SET qty_short = qty_short + ?, status = 'short' WHERE id = ?",
                [backordered, ln["order_line_id"]],
            )
            emit(
                w,
                allocation.FO_BACKORDERED,
                {
                    "site": self.site,
                    "number": ln["order_number"],
                    "lines": [{"line_no": ln["line_no"], "sku": ln["sku"], "short": backordered}],
                },
            )

    # == moving on ===============================================================================
    def _after_line(
        self, w: SUDatabase, task_id: int, ln: repo.Row, *, message: ErrorCode
    ) -> dict[str, Any]:
        now = repo.line(w, ln["id"])
        if now["status"] == "open":  # picked part of it: the rest from the same bin
            self._save(w, task_id, S.SCAN_ITEM, {"bin_ok": True}, line_id=now["id"])
        else:
            self._to_next_line(w, task_id, after=now)
        t = repo.task(w, task_id)
        if t["state"] == S.DONE:
            return self._respond(w, t, message=ErrorCode.PICK_TASK_DONE)
        return self._respond(w, t, message=message)

    def _to_next_line(self, w: SUDatabase, task_id: int, *, after: repo.Row | None) -> None:
        """The next open line in route order: scan its bin (its item, when it is in the bin
        just confirmed); none left: the task is done."""
        todo = repo.open_lines(w, task_id)
        if not todo:
            self._finish(w, task_id)
            return
        nxt = todo[0]
        if after is not None and nxt["location_id"] == after["location_id"]:
            self._save(w, task_id, S.SCAN_ITEM, {"bin_ok": True}, line_id=nxt["id"])
        else:
            self._save(w, task_id, S.SCAN_BIN, {}, line_id=nxt["id"])

    def _finish(self, w: SUDatabase, task_id: int) -> None:
        w.execute(
            "UPDATE pick_tasks SET status = 'done', state = ?, current_line_id = NULL, "
            "pending_json = '{}', finished_at = ? WHERE id = ?",
            [S.DONE.value, iso(), task_id],
        )
        labor.finish_all(w, task_type="pick", task_ref=f"pick-{task_id}")
        t = repo.task(w, task_id)
        if t["wave_id"] is not None:
            from edge_server.wms.outbound.waves import refresh_wave_status

            refresh_wave_status(w, t["wave_id"])
        view = repo.task_view(w, t)
        emit(
            w,
            PICK_TASK_DONE,
            {
                "site": self.site,
                "task_id": task_id,
                "wave": view["wave"],
                "strategy": view["strategy"],
                "zone": view["zone"],
                "drop_location": view["drop_location"],
                "orders": view["orders"],
                "units_picked": view["progress"]["units_picked"],
                "units_short": view["progress"]["units_short"],
            },
        )

    def _labor(
        self, w: SUDatabase, task_id: int, step: labor.Step, *, units: int = 0, lines: int = 0
    ) -> None:
        """One scan of the picker's labor on this task (docs/labor.md)."""
        labor.record(
            w,
            self.settings,
            task_type="pick",
            task_ref=f"pick-{task_id}",
            actor=self.actor,
            step=step,
            units=units,
            lines=lines,
        )

    @staticmethod
    def _save(
        w: SUDatabase, task_id: int, state: S, pending: Pending, *, line_id: int | None = None
    ) -> None:
        if line_id is None:
            w.execute(
                "UPDATE pick_tasks SET state = ?, pending_json = ? WHERE id = ?",
                [state.value, json.dumps(pending), task_id],
            )
        else:
            w.execute(
                "UPDATE pick_tasks SET state = ?, pending_json = ?, current_line_id = ? "
                "WHERE id = ?",
                [state.value, json.dumps(pending), line_id, task_id],
            )

    # == loading and checking ====================================================================
    def _own_task(self, w: SUDatabase) -> repo.Row | None:
        row = repo.one(
            w,
            "SELECT t.id FROM pick_tasks t JOIN sites s ON s.id = t.site_id "
            "WHERE s.code = ? AND t.status = 'in_progress' AND t.assigned_to IS ? "
            "ORDER BY t.started_at, t.id LIMIT 1",
            [self.site, self.user_id],
        )
        return repo.task(w, row["id"]) if row else None

    def _next_open_task(self, w: SUDatabase) -> repo.Row:
        row = repo.one(
            w,
            "SELECT t.id FROM pick_tasks t JOIN sites s ON s.id = t.site_id "
            "LEFT JOIN waves wv ON wv.id = t.wave_id "
            "WHERE s.code = ? AND t.status = 'open' "
            "AND (t.wave_id IS NULL OR wv.status = 'released') "
            "ORDER BY (SELECT MAX(fo.priority) FROM pick_task_orders pto "
            "JOIN fulfillment_orders fo ON fo.id = pto.order_id WHERE pto.task_id = t.id) DESC, "
            "t.created_at, t.id LIMIT 1",
            [self.site],
        )
        if row is None:
            raise AislewayError(ErrorCode.PICK_NO_TASK)
        return repo.task(w, row["id"])

    def _load(
        self,
        w: SUDatabase,
        task_id: int,
        *,
        allowed: tuple[S, ...] | None = None,
        claiming: bool = False,
    ) -> repo.Row:
        """The task, refusing PICK_TASK_CLOSED, PICK_TASK_NOT_YOURS and PICK_WRONG_STEP. A
        supervisor working someone else's task takes it over."""
        t = repo.task(w, task_id)
        site = repo.one(w, "SELECT code FROM sites WHERE id = ?", [t["site_id"]])
        if site is None or site["code"] != self.site:
            raise AislewayError(ErrorCode.PICK_TASK_NOT_FOUND, details={"task_id": task_id})
        if t["status"] in ("done", "cancelled"):
            raise AislewayError(
                ErrorCode.PICK_TASK_CLOSED, details={"task_id": task_id, "status": t["status"]}
            )
        if t["status"] == "open":
            if claiming:
                if t["wave_id"] is not None and t["wave_status"] != "released":
                    raise AislewayError(
                        ErrorCode.PICK_NO_TASK,
                        details={"task_id": task_id, "reason": "its wave is not released"},
                    )
                return t
            raise AislewayError(
                ErrorCode.PICK_WRONG_STEP,
                details={"task_id": task_id, "state": S.START.value, "reason": "claim it first"},
            )
        self._check_owner(t)
        if t["assigned_to"] != self.user_id:  # a supervisor takes the task over
            w.execute(
                "UPDATE pick_tasks SET assigned_to = ?, device_id = ? WHERE id = ?",
                [self.user_id, self.device_id, task_id],
            )
            t = repo.task(w, task_id)
        if allowed is not None and t["state"] not in allowed:
            raise AislewayError(
                ErrorCode.PICK_WRONG_STEP,
                details={"state": t["state"], "allowed": sorted(s.value for s in allowed)},
            )
        return t

    def _check_owner(self, t: repo.Row) -> None:
        if t["assigned_to"] is None or t["assigned_to"] == self.user_id or self.role in MANAGERS:
            return
        raise AislewayError(ErrorCode.PICK_TASK_NOT_YOURS, details={"task_id": t["id"]})

    @staticmethod
    def _current(w: SUDatabase, t: repo.Row) -> repo.Row:
        assert t["current_line_id"] is not None, t["id"]
        return repo.line(w, t["current_line_id"])

    @staticmethod
    def _unbound_position(w: SUDatabase, task_id: int) -> int | None:
        row = repo.one(
            w,
            "SELECT MIN(position) AS p FROM pick_task_orders WHERE task_id = ? AND tote IS NULL",
            [task_id],
        )
        return int(row["p"]) if row and row["p"] is not None else None

    @staticmethod
    def _scan_tote(body: ScanIn) -> str:
        return parse_scan(
            body.barcode,
            symbology=body.symbology,
            gs_substitute=body.gs_substitute,
            expect={ScanKind.TOTE},
        ).value

    def _line_tote(self, t: repo.Row, ln: repo.Row, body: ScanIn) -> str:
        """The tote the line's units go into, from a scan of that tote or of its cart slot's
        label (`POS-n`); anything else is a wrong tote, refused and counted."""
        scan = parse_scan(
            body.barcode,
            symbology=body.symbology,
            gs_substitute=body.gs_substitute,
            expect={ScanKind.TOTE, ScanKind.CART_POSITION},
        )
        if scan.kind is ScanKind.CART_POSITION:
            right = scan.number == ln["position"]
        else:
            right = scan.value == ln["position_tote"]
        if not right:
            raise self._refused(
                t,
                ln,
                ErrorCode.PICK_WRONG_TOTE,
                PickEventKind.WRONG_TOTE,
                {
                    "scanned": scan.value,
                    "expected": ln["position_tote"],
                    "position": ln["position"],
                },
            )
        return str(ln["position_tote"])

    @staticmethod
    def _check_tote_free(w: SUDatabase, t: repo.Row, tote: str, order_id: int) -> None:
        """A tote may hold only this order's goods and be bound in no other open task (nor at
        another cart position of this one)."""
        bound = fetch_rows(
            w,
            "SELECT pto.task_id, pto.position FROM pick_task_orders pto "
            "JOIN pick_tasks pt ON pt.id = pto.task_id "
            "WHERE pto.tote = ? AND pt.status IN ('open', 'in_progress')",
            [tote],
        )
        if bound:
            raise AislewayError(
                ErrorCode.PICK_TOTE_IN_USE,
                details={"tote": tote, "task_id": bound[0]["task_id"], "reason": "bound"},
            )
        holds = fetch_rows(
            w, "SELECT COALESCE(SUM(qty), 0) AS n FROM stock WHERE lpn = ? AND qty > 0", [tote]
        )[0]["n"]
        if not holds:
            return
        owners = {
            r["order_id"]
            for r in fetch_rows(
                w,
                "SELECT DISTINCT fl.order_id FROM pick_lines pl "
                "JOIN fo_lines fl ON fl.id = pl.order_line_id "
                "JOIN fulfillment_orders fo ON fo.id = fl.order_id "
                "WHERE pl.tote = ? AND pl.qty_picked > 0 "
                "AND fo.status NOT IN ('shipped', 'cancelled')",
                [tote],
            )
        }
        if owners != {order_id}:
            raise AislewayError(
                ErrorCode.PICK_TOTE_IN_USE, details={"tote": tote, "reason": "holds goods"}
            )

    # == response builders, one per state ========================================================
    def _respond(
        self,
        src: Source,
        t: repo.Row,
        *,
        message: ErrorCode | None = None,
        kind: MessageType = MessageType.SUCCESS,
    ) -> dict[str, Any]:
        state = S(t["state"]) if t["state"] else S.START
        builder = getattr(self, f"_response_for_{state.value}")
        result: dict[str, Any] = builder(src, t, message=message, kind=kind)
        return result

    def _line_data(self, src: Source, t: repo.Row) -> dict[str, Any]:
        data = repo.task_view(src, t)
        ln = repo.line(src, t["current_line_id"])
        pending = repo.pending(t)
        data["line"] = repo.line_view(ln)
        data["units_per_scan"] = pending.get("units_per_scan", 1)
        data["qty"] = pending.get("qty")
        return data

    def _response_for_start(
        self, src: Source, t: repo.Row, *, message: ErrorCode | None, kind: MessageType
    ) -> dict[str, Any]:
        return self.envelope(S.START, repo.task_view(src, t), message, kind=kind)

    def _response_for_bind_tote(
        self, src: Source, t: repo.Row, *, message: ErrorCode | None, kind: MessageType
    ) -> dict[str, Any]:
        data = repo.task_view(src, t)
        position = repo.pending(t)["position"]
        data["position"] = position
        data["order"] = next(o["order"] for o in data["orders"] if o["position"] == position)
        return self.envelope(S.BIND_TOTE, data, message, kind=kind)

    def _response_for_scan_bin(
        self, src: Source, t: repo.Row, *, message: ErrorCode | None, kind: MessageType
    ) -> dict[str, Any]:
        return self.envelope(S.SCAN_BIN, self._line_data(src, t), message, kind=kind)

    def _response_for_scan_item(
        self, src: Source, t: repo.Row, *, message: ErrorCode | None, kind: MessageType
    ) -> dict[str, Any]:
        return self.envelope(S.SCAN_ITEM, self._line_data(src, t), message, kind=kind)

    def _response_for_set_quantity(
        self, src: Source, t: repo.Row, *, message: ErrorCode | None, kind: MessageType
    ) -> dict[str, Any]:
        return self.envelope(S.SET_QUANTITY, self._line_data(src, t), message, kind=kind)

    def _response_for_scan_tote(
        self, src: Source, t: repo.Row, *, message: ErrorCode | None, kind: MessageType
    ) -> dict[str, Any]:
        return self.envelope(S.SCAN_TOTE, self._line_data(src, t), message, kind=kind)

    def _response_for_done(
        self, src: Source, t: repo.Row, *, message: ErrorCode | None, kind: MessageType
    ) -> dict[str, Any]:
        return self.envelope(S.DONE, repo.task_view(src, t), message, kind=kind)
