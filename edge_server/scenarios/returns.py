"""The returns scenario: a receiver takes a customer's return in at the returns bench.

Flow (docs/scenarios/returns.md): scan the RMA label (`RMA-…`) or the prepaid return label's
tracking number → scan a product (GTIN, GS1 with lot/count) → quantity → lot when tracked →
condition (new / opened / damaged): the disposition rules decide restock, refurbish,
quarantine or scrap, and the units are posted → … → close (the OMS refunds on `return.closed`).

Items not on the RMA and more units than a line allows are refused (nothing is received): the
receiver puts them aside and the OMS amends the RMA (`PUT /returns/{rma}`) if they are to be
taken in. Every endpoint runs inside the caller's idempotent write transaction.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.access.policy import MANAGERS
from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.scenarios.base import ScenarioService, endpoint
from edge_server.timeutil import iso
from edge_server.wms import labor
from edge_server.wms import returns as rt
from edge_server.wms.items import find_by_gtin
from edge_server.wms.purchase_orders import Source, fetch_rows
from protocols.barcodes import BarcodeError, Scan, ScanKind, parse_scan
from protocols.envelope import MessageType
from protocols.errors import ErrorCode
from protocols.returns import (
    CloseIn,
    Condition,
    ConditionIn,
    LotIn,
    QuantityIn,
    ReturnReason,
    ScanIn,
    StartIn,
)
from protocols.returns import ReturnsState as S

__all__ = ["ReturnsScenario"]

Row = dict[str, Any]
Pending = dict[str, Any]
_WITH_PENDING = (S.SET_QUANTITY, S.SET_LOT, S.SET_CONDITION)


def _one(source: Source, sql: str, params: list[Any]) -> Row | None:
    rows = fetch_rows(source, sql, params)
    return rows[0] if rows else None


def _tracking_text(barcode: str) -> str:
    """The tracking number in a scanned label: the scan without its AIM id and suffixes."""
    text = barcode.strip()
    if len(text) > 3 and text.startswith("]"):
        text = text[3:]
    return text.strip()


class ReturnsScenario(ScenarioService):
    name = "returns"
    states = tuple(s.value for s in S)
    initial = S.START.value
    final = (S.DONE.value,)

    # == endpoints ===============================================================================
    @endpoint(from_=[S.START], to=[S.SCAN_ITEM])
    def start(self, w: SUDatabase, body: StartIn) -> dict[str, Any]:
        """Open (or resume) this receiver's job on an RMA, by label, tracking or number."""
        ret = self._find(w, body)
        if ret["status"] not in rt.OPEN:
            raise AislewayError(
                ErrorCode.RETURNS_RMA_CLOSED, details={"rma": ret["rma"], "status": ret["status"]}
            )
        location = rt.returns_location(w, self.site, body.location)
        mine = _one(
            w,
            "SELECT id FROM return_sessions WHERE return_id = ? AND status = 'open' "
            "AND user_id IS ? ORDER BY id DESC LIMIT 1",
            [ret["id"], self.user_id],
        )
        if mine is not None:  # a restarted handheld resumes its job, without what was half done
            session_id = int(mine["id"])
            w.execute(
                "UPDATE return_sessions SET state = ?, pending_json = NULL, location_id = ?, "
                "device_id = ? WHERE id = ?",
                [S.SCAN_ITEM.value, location["id"], self.device_id, session_id],
            )
        else:
            cur = w.execute(
                "INSERT INTO return_sessions (site_id, return_id, location_id, state, user_id, "
                "device_id, started_at) VALUES (?,?,?,?,?,?,?)",
                [
                    ret["site_id"],
                    ret["id"],
                    location["id"],
                    S.SCAN_ITEM.value,
                    self.user_id,
                    self.device_id,
                    iso(),
                ],
            )
            session_id = int(cur.lastrowid or 0)
        self._labor(w, self._load(w, session_id), "arrive")
        return self._response_for_scan_item(w, self._load(w, session_id))

    @endpoint(from_=[S.SCAN_ITEM, S.CONFIRM_CLOSE], to=[S.SET_QUANTITY, S.SET_LOT, S.SET_CONDITION])
    def scan(self, w: SUDatabase, body: ScanIn) -> dict[str, Any]:
        """A returned product: GTIN, or GS1 with lot (and count)."""
        sess = self._load(w, body.session_id, allowed=(S.SCAN_ITEM, S.CONFIRM_CLOSE))
        scan = parse_scan(
            body.barcode,
            symbology=body.symbology,
            gs_substitute=body.gs_substitute,
            expect={ScanKind.ITEM, ScanKind.ITEM_DATA},
        )
        pending = self._item_pending(w, sess, scan)
        self._labor(w, sess, "handle")
        return self._advance(w, sess, pending)

    @endpoint(from_=list(_WITH_PENDING), to=[S.SET_LOT, S.SET_CONDITION])
    def quantity(self, w: SUDatabase, body: QuantityIn) -> dict[str, Any]:
        """How many of the scanned unit came back (cases × case quantity for a case GTIN)."""
        sess = self._load(w, body.session_id, allowed=_WITH_PENDING)
        pending = self._pending(sess)
        qty = body.qty * int(pending["units_per_scan"])
        self._check_room(w, pending, qty)
        self._labor(w, sess, "handle")
        pending["qty"] = qty
        return self._advance(w, sess, pending)

    @endpoint(from_=[S.SET_LOT, S.SET_CONDITION], to=[S.SET_CONDITION])
    def lot(self, w: SUDatabase, body: LotIn) -> dict[str, Any]:
        """The lot of a lot-tracked item, keyed in."""
        sess = self._load(w, body.session_id, allowed=(S.SET_LOT, S.SET_CONDITION))
        pending = self._pending(sess)
        if pending["qty"] is None:
            raise AislewayError(ErrorCode.RETURNS_WRONG_STEP, details={"state": sess["state"]})
        self._labor(w, sess, "handle")
        pending["lot"] = body.lot
        return self._advance(w, sess, pending)

    @endpoint(from_=[S.SET_CONDITION], to=[S.SCAN_ITEM])
    def condition(self, w: SUDatabase, body: ConditionIn) -> dict[str, Any]:
        """The receiver's grading; the disposition rules decide what happens, and it posts."""
        sess = self._load(w, body.session_id, allowed=(S.SET_CONDITION,))
        pending = self._pending(sess)
        line = self._check_room(w, pending, int(pending["qty"]))
        ret = self._return(w, sess)
        location = _one(w, "SELECT id, code FROM locations WHERE id = ?", [sess["location_id"]])
        assert location is not None
        received = rt.post_units(
            w,
            self.site,
            ret=ret,
            line=line,
            qty=int(pending["qty"]),
            lot=pending["lot"] or "",
            expiry=pending.get("expiry"),
            condition=Condition(body.condition),
            location=location,
            session_id=sess["id"],
            actor=self.actor,
        )
        self._labor(w, sess, "handle", units=int(pending["qty"]), lines=1)
        self._save(w, sess["id"], S.SCAN_ITEM, None)
        return self._response_for_scan_item(
            w, self._load(w, sess["id"]), received=received, message=ErrorCode.RETURNS_RECEIVED
        )

    @endpoint(from_=list(_WITH_PENDING), to=[S.SCAN_ITEM])
    def cancel(self, w: SUDatabase, session_id: int) -> dict[str, Any]:
        """Drop what is being received; nothing is posted."""
        sess = self._load(w, session_id, allowed=_WITH_PENDING)
        self._save(w, sess["id"], S.SCAN_ITEM, None)
        return self._response_for_scan_item(w, self._load(w, sess["id"]))

    @endpoint(from_=[S.SCAN_ITEM, S.CONFIRM_CLOSE], to=[S.CONFIRM_CLOSE, S.DONE])
    def close(self, w: SUDatabase, body: CloseIn) -> dict[str, Any]:
        """Close the RMA with what arrived; lines not fully returned need `confirm`."""
        sess = self._load(w, body.session_id, allowed=(S.SCAN_ITEM, S.CONFIRM_CLOSE))
        ret = self._return(w, sess)
        self._labor(w, sess, "handle")
        lines = rt.return_lines(w, ret["id"])
        short = [ln for ln in lines if ln["qty_received"] < ln["qty_expected"]]
        if short and not body.confirm:
            self._save(w, sess["id"], S.CONFIRM_CLOSE, None)
            return self._response_for_confirm_close(w, self._load(w, sess["id"]))
        rt.close_return(w, self.site, ret, actor=self.actor)
        labor.finish_all(w, task_type="return", task_ref=f"return-{ret['rma']}")
        w.execute("UPDATE return_sessions SET state = ? WHERE id = ?", [S.DONE.value, sess["id"]])
        return self._response_for_done(w, self._load(w, sess["id"], closed_ok=True))

    def state(self, db: Database, session_id: int) -> dict[str, Any]:
        """Where a job is: the same answer its last endpoint gave (resume after a restart)."""
        sess = self._load(db, session_id, closed_ok=True)
        state = S(sess["state"])
        if state is S.DONE:
            return self._response_for_done(db, sess)
        if state is S.CONFIRM_CLOSE:
            return self._response_for_confirm_close(db, sess)
        if state is S.SCAN_ITEM or sess["status"] == "closed":
            return self._response_for_scan_item(db, sess)
        builder = getattr(self, f"_response_for_{state.value}")
        result: dict[str, Any] = builder(db, sess, self._pending(sess))
        return result

    # == the steps ===============================================================================
    def _find(self, w: SUDatabase, body: StartIn) -> Row:
        if body.rma:
            ret = rt.find_return(w, self.site, rma=body.rma.strip().upper())
            if ret is None:
                raise AislewayError(ErrorCode.RETURNS_RMA_UNKNOWN, details={"rma": body.rma})
            return ret
        if not body.barcode:
            raise AislewayError(
                ErrorCode.VALIDATION_FAILED,
                text="Scan the RMA label or the return label, or key in the RMA number.",
                details={"fields": {"barcode": "or rma"}},
            )
        try:
            scan: Scan | None = parse_scan(body.barcode, symbology=body.symbology)
        except BarcodeError:
            scan = None  # a carrier's tracking barcode is not in our grammar: look it up
        if scan is not None and scan.kind is ScanKind.RMA:
            ret = rt.find_return(w, self.site, rma=scan.value)
            if ret is None:
                raise AislewayError(ErrorCode.RETURNS_RMA_UNKNOWN, details={"rma": scan.value})
            return ret
        tracking = scan.data if scan is not None else _tracking_text(body.barcode)
        ret = rt.find_return(w, self.site, tracking=tracking)
        if ret is not None:
            return ret
        if scan is not None:  # e.g. a product or a bin label: not what this step takes
            raise BarcodeError(
                ErrorCode.BARCODE_UNEXPECTED,
                {"found": scan.kind.value, "expected": ["rma", "tracking"]},
            )
        raise AislewayError(ErrorCode.RETURNS_RMA_UNKNOWN, details={"tracking": tracking})

    def _item_pending(self, w: SUDatabase, sess: Row, scan: Scan) -> Pending:
        gtin = scan.gtin or scan.content_gtin
        if gtin is None:  # (10) alone: the label's other barcode names the item
            raise BarcodeError(
                ErrorCode.BARCODE_UNEXPECTED, {"found": "item_data", "expected": ["item"]}
            )
        match = find_by_gtin(w, gtin)
        if match is None:
            raise AislewayError(ErrorCode.UNKNOWN_ITEM, details={"gtin": gtin})
        item = match.item
        lines = [ln for ln in rt.return_lines(w, sess["return_id"]) if ln["item_id"] == item.id]
        if not lines:
            raise AislewayError(
                ErrorCode.RETURNS_ITEM_NOT_ON_RMA,
                details={"sku": item.sku, "rma": self._return(w, sess)["rma"]},
            )
        line = next((ln for ln in lines if ln["qty_received"] < ln["qty_expected"]), None)
        if line is None:
            raise AislewayError(
                ErrorCode.RETURNS_OVER_QTY,
                details={"sku": item.sku, "qty_open": 0, "line_no": lines[0]["line_no"]},
            )
        pending: Pending = {
            "line_id": line["id"],
            "line_no": line["line_no"],
            "sku": item.sku,
            "description": item.description,
            "reason": line["reason"],
            "gtin": match.gtin,
            "uom": match.uom,
            "units_per_scan": match.qty,
            "qty": None,
            "lot": scan.lot,
            "expiry": scan.expiry.isoformat() if scan.expiry else None,
            "lot_tracked": bool(item.lot_tracked),
        }
        if scan.count:
            qty = scan.count * match.qty
            self._check_room(w, pending, qty)
            pending["qty"] = qty
        return pending

    def _check_room(self, w: SUDatabase, pending: Pending, qty: int) -> Row:
        """The pending line, re-read: refuses RETURNS_OVER_QTY beyond what is still open."""
        line = _one(
            w,
            "SELECT rl.*, i.sku FROM return_lines rl JOIN items i ON i.id = rl.item_id "
            "WHERE rl.id = ?",
            [pending["line_id"]],
        )
        if line is None:  # the OMS dropped the line meanwhile
            raise AislewayError(ErrorCode.RETURNS_ITEM_NOT_ON_RMA, details={"sku": pending["sku"]})
        room = line["qty_expected"] - line["qty_received"]
        if qty > room:
            raise AislewayError(
                ErrorCode.RETURNS_OVER_QTY,
                details={
                    "sku": pending["sku"],
                    "line_no": line["line_no"],
                    "qty": qty,
                    "qty_open": room,
                },
            )
        return line

    def _advance(self, w: SUDatabase, sess: Row, pending: Pending) -> dict[str, Any]:
        if pending["qty"] is None:
            state = S.SET_QUANTITY
        elif pending["lot_tracked"] and not pending["lot"]:
            state = S.SET_LOT
        else:
            state = S.SET_CONDITION
        self._save(w, sess["id"], state, pending)
        builder = getattr(self, f"_response_for_{state.value}")
        result: dict[str, Any] = builder(w, self._load(w, sess["id"]), pending)
        return result

    # == labor (docs/labor.md) ====================================================================
    def _labor(
        self, w: SUDatabase, sess: Row, step: labor.Step, *, units: int = 0, lines: int = 0
    ) -> None:
        labor.record(
            w,
            self.settings,
            task_type="return",
            task_ref=f"return-{self._return(w, sess)['rma']}",
            actor=self.actor,
            step=step,
            units=units,
            lines=lines,
        )

    # == loading and saving ======================================================================
    def _load(
        self,
        source: Source,
        session_id: int,
        *,
        allowed: tuple[S, ...] | None = None,
        closed_ok: bool = False,
    ) -> Row:
        sess = _one(source, "SELECT * FROM return_sessions WHERE id = ?", [session_id])
        if sess is None:
            raise AislewayError(
                ErrorCode.RETURNS_SESSION_UNKNOWN, details={"session_id": session_id}
            )
        if not (self.role in MANAGERS or sess["user_id"] == self.user_id):
            raise AislewayError(
                ErrorCode.RETURNS_SESSION_OTHER_USER, details={"session_id": session_id}
            )
        if sess["status"] == "closed" and not closed_ok:
            raise AislewayError(
                ErrorCode.RETURNS_SESSION_CLOSED, details={"session_id": session_id}
            )
        if allowed is not None and sess["state"] not in allowed:
            raise AislewayError(
                ErrorCode.RETURNS_WRONG_STEP,
                details={"state": sess["state"], "allowed": sorted(s.value for s in allowed)},
            )
        return sess

    @staticmethod
    def _save(w: SUDatabase, session_id: int, state: S, pending: Pending | None) -> None:
        w.execute(
            "UPDATE return_sessions SET state = ?, pending_json = ? WHERE id = ?",
            [state.value, json.dumps(pending) if pending is not None else None, session_id],
        )

    @staticmethod
    def _pending(sess: Row) -> Pending:
        pending: Pending | None = json.loads(sess["pending_json"]) if sess["pending_json"] else None
        if not pending:
            raise AislewayError(ErrorCode.RETURNS_WRONG_STEP, details={"state": sess["state"]})
        return pending

    @staticmethod
    def _return(source: Source, sess: Row) -> Row:
        ret = _one(source, "SELECT * FROM returns WHERE id = ?", [sess["return_id"]])
        assert ret is not None
        return ret

    # == response builders, one per state =========================================================
    def _job_view(self, source: Source, sess: Row) -> Row:
        ret = self._return(source, sess)
        view = rt.get_return(source, self.site, ret["rma"])
        location = _one(source, "SELECT code FROM locations WHERE id = ?", [sess["location_id"]])
        return {
            "session_id": sess["id"],
            "rma": view["rma"],
            "order": view["order"],
            "customer": view["customer"],
            "tracking": view["tracking"],
            "status": view["status"],
            "location": location["code"] if location else None,
            "lines": view["lines"],
            "progress": view["progress"],
        }

    @staticmethod
    def _pending_view(pending: Pending) -> Row:
        return {
            "line_no": pending["line_no"],
            "sku": pending["sku"],
            "description": pending["description"],
            "reason": pending["reason"],
            "gtin": pending["gtin"],
            "uom": pending["uom"],
            "units_per_scan": pending["units_per_scan"],
            "qty": pending["qty"],
            "lot": pending["lot"],
            "lot_required": bool(pending["lot_tracked"]),
        }

    def _response_for_scan_item(
        self,
        source: Source,
        sess: Row,
        *,
        received: Row | None = None,
        message: ErrorCode | None = None,
    ) -> dict[str, Any]:
        data = self._job_view(source, sess) | {"received": received}
        return self.envelope(S.SCAN_ITEM, data, message)

    def _response_for_set_quantity(self, source: Source, sess: Row, pending: Pending) -> Row:
        data = {"session_id": sess["id"], "returning": self._pending_view(pending)}
        return self.envelope(S.SET_QUANTITY, data)

    def _response_for_set_lot(self, source: Source, sess: Row, pending: Pending) -> Row:
        data = {"session_id": sess["id"], "returning": self._pending_view(pending)}
        return self.envelope(S.SET_LOT, data)

    def _response_for_set_condition(self, source: Source, sess: Row, pending: Pending) -> Row:
        rules = rt.disposition_rules(source, self.site)
        reason = ReturnReason(pending["reason"])
        data = {
            "session_id": sess["id"],
            "returning": self._pending_view(pending),
            # What each grading would lead to, so the screen can say it before the press.
            "dispositions": {c.value: rules[(reason, c)].value for c in Condition},
        }
        return self.envelope(S.SET_CONDITION, data)

    def _response_for_confirm_close(self, source: Source, sess: Row) -> dict[str, Any]:
        view = self._job_view(source, sess)
        short = [ln for ln in view["lines"] if ln["qty_open"] > 0]
        data = {"session_id": sess["id"], "rma": view["rma"], "short_lines": short}
        return self.envelope(
            S.CONFIRM_CLOSE, data, ErrorCode.RETURNS_SHORT_LINES, kind=MessageType.WARNING
        )

    def _response_for_done(self, source: Source, sess: Row) -> dict[str, Any]:
        return self.envelope(S.DONE, self._job_view(source, sess), ErrorCode.RETURNS_CLOSED)
