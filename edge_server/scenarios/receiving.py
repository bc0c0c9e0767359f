"""The receiving scenario: a receiver takes a delivery in at a dock door, scan by scan.

Flow (docs/scenarios/receiving.md): scan the PO, ASN or a pallet's SSCC → scan products
(GTIN, GS1-128/DataMatrix with lot, expiry and count; an SSCC receives a whole ASN pallet)
→ quantity → lot/expiry when tracked → LPN → posted → … → close.

Every endpoint runs inside the caller's idempotent write transaction (`Mutation.run`): the
receipt line, the ledger movement, the PO line, the discrepancies, the outbox events and the
idempotency record commit together. The session row remembers the state and the receipt in
progress (`pending`), so the handheld can resume after a restart (`GET …/sessions/{id}`).

Blind mode: nothing built here for the handheld names an expected or ordered quantity.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.access.policy import MANAGERS
from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.integration.outbox import emit
from edge_server.labels.printers import printer_row, queue_lpn_label
from edge_server.scenarios import receiving_repo as repo
from edge_server.scenarios.base import ScenarioService, endpoint
from edge_server.timeutil import utcnow
from edge_server.wms import inventory, labor
from edge_server.wms.items import find_by_gtin
from edge_server.wms.ledger import Actor
from edge_server.wms.putaway.tasks import create_putaway_tasks
from protocols.barcodes import BarcodeError, Scan, ScanKind, format_lpn, parse_scan
from protocols.envelope import MessageType
from protocols.errors import ErrorCode
from protocols.inventory import ReceiptIn, StockStatus
from protocols.receiving import (
    CloseIn,
    DamagedIn,
    LotIn,
    LpnIn,
    QuantityIn,
    Reason,
    ScanIn,
    StartIn,
)
from protocols.receiving import ReceivingState as S

__all__ = [
    "LINE_RECEIVED",
    "LPN_RECEIVED",
    "RECEIVING_CLOSED",
    "ReceivingScenario",
]

LINE_RECEIVED = "receiving.line_received"
LPN_RECEIVED = "receiving.lpn_received"
RECEIVING_CLOSED = "receiving.closed"

Pending = dict[str, Any]
_WITH_PENDING = (S.SET_QUANTITY, S.SET_LOT, S.SET_LPN)


def _today() -> date:
    return utcnow().date()


def _check_expiry(expiry: date | None, sku: str) -> None:
    if expiry is not None and expiry < _today():
        raise AislewayError(
            ErrorCode.RECEIVING_EXPIRY_PAST,
            details={"sku": sku, "expiry": expiry.isoformat(), "today": _today().isoformat()},
        )


class ReceivingScenario(ScenarioService):
    name = "receiving"
    states = tuple(s.value for s in S)
    initial = S.START.value
    final = (S.DONE.value,)

    # == endpoints ===============================================================================
    @endpoint(from_=[S.START], to=[S.SCAN_ITEM, S.OVERRIDE])
    def start(self, w: SUDatabase, body: StartIn) -> dict[str, Any]:
        """Open a session for a PO, an ASN, or the ASN a scanned pallet (SSCC) belongs to."""
        site_id = repo.site_id(w, self.site)
        if site_id is None:
            raise AislewayError(ErrorCode.LAYOUT_NOT_LOADED)
        po_number, asn_number, sscc = body.po, body.asn, None
        if body.barcode:
            scan = parse_scan(
                body.barcode,
                symbology=body.symbology,
                gs_substitute=body.gs_substitute,
                expect={ScanKind.PO, ScanKind.ASN, ScanKind.LPN},
            )
            if scan.kind is ScanKind.PO:
                po_number = scan.value
            elif scan.kind is ScanKind.ASN:
                asn_number = scan.value
            elif scan.sscc:
                sscc = scan.sscc
            else:  # one of our own LPN labels: not a delivery
                raise BarcodeError(
                    ErrorCode.BARCODE_UNEXPECTED,
                    {"found": "lpn", "expected": ["po", "asn", "sscc"]},
                )
        asn: repo.Row | None = None
        if sscc is not None:
            lines = repo.sscc_lines(w, site_id, sscc)
            if not lines:
                raise AislewayError(ErrorCode.RECEIVING_SSCC_NOT_EXPECTED, details={"sscc": sscc})
            asn = repo.asn_by_id(w, lines[0]["asn_id"])
        elif asn_number is not None:
            asn = repo.asn_by_number(w, site_id, asn_number)
            if asn is None:
                raise AislewayError(
                    ErrorCode.RECEIVING_DOCUMENT_UNKNOWN, details={"asn": asn_number}
                )
        if asn is not None:
            if asn["status"] in ("received", "cancelled") and sscc is None:
                raise AislewayError(
                    ErrorCode.RECEIVING_DOCUMENT_CLOSED,
                    details={"asn": asn["number"], "status": asn["status"]},
                )
            if asn["po_id"] is None:
                raise AislewayError(
                    ErrorCode.RECEIVING_ASN_WITHOUT_PO, details={"asn": asn["number"]}
                )
            po = repo.po_by_id(w, asn["po_id"])
        elif po_number is not None:
            found = repo.po_by_number(w, site_id, po_number)
            if found is None:
                raise AislewayError(ErrorCode.RECEIVING_DOCUMENT_UNKNOWN, details={"po": po_number})
            po = found
        else:
            raise AislewayError(
                ErrorCode.VALIDATION_FAILED,
                text="Scan the order, delivery or pallet label, or choose an order.",
                details={"fields": {"barcode": "or po, or asn"}},
            )
        if po["status"] in ("closed", "cancelled"):
            raise AislewayError(
                ErrorCode.RECEIVING_DOCUMENT_CLOSED,
                details={"po": po["number"], "status": po["status"]},
            )
        dock = repo.dock(w, site_id, body.dock)
        if dock is None and not body.dock:
            raise AislewayError(ErrorCode.RECEIVING_NO_DOCK)
        if dock is None or dock["type"] != "receiving_dock":
            raise AislewayError(ErrorCode.RECEIVING_DOCK_INVALID, details={"dock": body.dock})
        blind = (
            bool(po["blind"]) if po["blind"] is not None else self.settings.receiving_blind_default
        )
        session_id = repo.create_session(
            w,
            site_id=site_id,
            po_id=po["id"],
            asn_id=asn["id"] if asn else None,
            dock_location_id=dock["id"],
            blind=int(blind),
            state=S.SCAN_ITEM.value,
            user_id=self.user_id,
            device_id=self.actor.device_id,
        )
        if po["status"] == "open":
            repo.mark_po(w, po["id"], "receiving")
        if asn is not None and asn["status"] == "expected":
            repo.mark_asn(w, asn["id"], "receiving")
        sess = self._load(w, session_id)
        if sscc is not None:
            return self._advance(w, sess, self._sscc_pending(w, sess, sscc), labor_step="arrive")
        self._labor(w, sess, "arrive")
        return self._response_for_scan_item(w, sess)

    @endpoint(
        from_=[S.SCAN_ITEM, S.CONFIRM_CLOSE],
        to=[S.SET_QUANTITY, S.SET_LOT, S.SET_LPN, S.OVERRIDE, S.SCAN_ITEM],
    )
    def scan(self, w: SUDatabase, body: ScanIn) -> dict[str, Any]:
        """A product (GTIN, GS1 with lot/expiry/count) or a pallet (SSCC) from the ASN."""
        sess = self._load(w, body.session_id, allowed=(S.SCAN_ITEM, S.CONFIRM_CLOSE))
        scan = parse_scan(
            body.barcode,
            symbology=body.symbology,
            gs_substitute=body.gs_substitute,
            expect={ScanKind.ITEM, ScanKind.ITEM_DATA, ScanKind.LPN},
        )
        if scan.kind is ScanKind.LPN:
            if not scan.sscc:  # our own LPN label: it is assigned later, not received
                raise BarcodeError(
                    ErrorCode.BARCODE_UNEXPECTED, {"found": "lpn", "expected": ["item", "sscc"]}
                )
            return self._advance(w, sess, self._sscc_pending(w, sess, scan.sscc))
        return self._advance(w, sess, self._item_pending(w, sess, scan))

    @endpoint(
        from_=[S.SET_QUANTITY, S.SET_LOT, S.SET_LPN, S.OVERRIDE],
        to=[S.SET_LOT, S.SET_LPN, S.OVERRIDE],
    )
    def quantity(self, w: SUDatabase, body: QuantityIn) -> dict[str, Any]:
        """How many of the scanned unit arrived (cases for a case GTIN: × case_qty eaches)."""
        sess = self._load(w, body.session_id, allowed=(*_WITH_PENDING, S.OVERRIDE))
        pending = self._pending(sess, kind="item")
        part = pending["parts"][0]
        eaches = body.qty * pending["units_per_scan"]
        if part["qty"] is not None and part["qty"] != eaches:
            pending["corrections"] += 1
        if part["qty"] != eaches:
            pending["override_id"] = None  # an approval was for the other quantity
        part["qty"] = eaches
        return self._advance(w, sess, pending)

    @endpoint(from_=[S.SET_LOT, S.SET_LPN], to=[S.SET_LPN, S.OVERRIDE])
    def lot(self, w: SUDatabase, body: LotIn) -> dict[str, Any]:
        """The lot and/or expiry, keyed in or read from another label."""
        sess = self._load(w, body.session_id, allowed=(S.SET_LOT, S.SET_LPN))
        pending = self._pending(sess, kind="item")
        part = pending["parts"][0]
        _check_expiry(body.expiry, part["sku"])
        if body.lot is not None:
            if part["lot"] and part["lot"] != body.lot:
                pending["corrections"] += 1
            part["lot"] = body.lot
        if body.expiry is not None:
            part["expiry"] = body.expiry.isoformat()
        if part["lot_tracked"] and not part["lot"]:
            raise AislewayError(ErrorCode.LOT_REQUIRED, details={"sku": part["sku"]})
        if part["expiry_tracked"] and not part["expiry"]:
            raise AislewayError(ErrorCode.RECEIVING_EXPIRY_REQUIRED, details={"sku": part["sku"]})
        return self._advance(w, sess, pending)

    @endpoint(from_=[S.SET_LPN], to=[S.SCAN_ITEM, S.OVERRIDE])
    def lpn(self, w: SUDatabase, body: LpnIn) -> dict[str, Any]:
        """A scanned pre-printed LPN (or SSCC) label, or none: the server hands out the next."""
        sess = self._load(w, body.session_id, allowed=(S.SET_LPN,))
        pending = self._pending(sess)
        if body.barcode:
            value = parse_scan(body.barcode, symbology=body.symbology, expect={ScanKind.LPN}).value
            if repo.lpn_used_elsewhere(w, value, sess["id"], sess["dock_location_id"]):
                raise AislewayError(ErrorCode.RECEIVING_LPN_IN_USE, details={"lpn": value})
        else:
            value = format_lpn(repo.next_lpn_serial(w))
            while repo.lpn_stock_exists(w, value):  # a label printed by hand with that number
                value = format_lpn(repo.next_lpn_serial(w))
            if body.printer:
                printer_row(w, self.site, body.printer)  # PRINTER_UNKNOWN before posting
                pending["printer"] = body.printer
        pending["lpn"] = value
        return self._advance(w, sess, pending)

    @endpoint(from_=[S.SET_LPN], to=[S.SET_LPN, S.OVERRIDE])
    def damaged(self, w: SUDatabase, body: DamagedIn) -> dict[str, Any]:
        """Mark what is being received as damaged, just before it gets its LPN: it goes into
        the dock with stock status `damaged`."""
        sess = self._load(w, body.session_id, allowed=(S.SET_LPN,))
        pending = self._pending(sess)
        pending["damaged"] = body.damaged
        return self._advance(w, sess, pending)

    @endpoint(from_=[*_WITH_PENDING, S.OVERRIDE], to=[S.SCAN_ITEM])
    def cancel(self, w: SUDatabase, session_id: int) -> dict[str, Any]:
        """Drop what is being received (put aside, not received); back to scanning."""
        sess = self._load(w, session_id, allowed=(*_WITH_PENDING, S.OVERRIDE))
        repo.save_session(w, sess["id"], S.SCAN_ITEM, None)
        return self._response_for_scan_item(w, self._load(w, sess["id"]))

    @endpoint(from_=[S.OVERRIDE], to=[S.SET_LOT, S.SET_LPN, S.SCAN_ITEM])
    def override(
        self,
        w: SUDatabase,
        session_id: int,
        *,
        approver_id: int,
        approver_role: str,
        method: str,
        note: str = "",
    ) -> dict[str, Any]:
        """A supervisor approves the over-receipt or unexpected item waiting in the session:
        with badge and PIN on the receiver's handheld, or from their own session."""
        if approver_role not in MANAGERS:
            raise AislewayError(ErrorCode.RECEIVING_OVERRIDE_NOT_ALLOWED)
        sess = self._load(w, session_id, any_user=method == "supervisor")
        if sess["state"] != S.OVERRIDE or not sess["pending_json"]:
            raise AislewayError(ErrorCode.RECEIVING_NOTHING_TO_APPROVE)
        pending = self._pending(sess)
        reasons, details = self._override_reasons(w, sess, pending, blind=False)
        pending["override_id"] = repo.insert_override(
            w,
            session_id=sess["id"],
            reasons=reasons,
            details=details,
            approved_by=approver_id,
            method=method,
            note=note,
        )
        pending["approved_by"] = approver_id
        return self._advance(
            w, sess, pending, message=ErrorCode.RECEIVING_APPROVED, labor_step=None
        )

    @endpoint(from_=[S.SCAN_ITEM, S.CONFIRM_CLOSE], to=[S.CONFIRM_CLOSE, S.DONE])
    def close(self, w: SUDatabase, body: CloseIn) -> dict[str, Any]:
        """Finish the delivery. PO lines still below their expected quantity close `short`
        (after a confirmation) unless `keep_open` says more deliveries will come."""
        sess = self._load(w, body.session_id, allowed=(S.SCAN_ITEM, S.CONFIRM_CLOSE))
        self._labor(w, sess, "handle")
        last_session = repo.other_open_sessions(w, sess["po_id"], sess["id"]) == 0
        closes_po = last_session and not body.keep_open
        shorts = [
            line
            for line in repo.po_lines(w, sess["po_id"])
            if line["status"] != "cancelled" and line["qty_received"] < line["qty_expected"]
        ]
        if closes_po and shorts and not body.confirm:
            repo.save_session(w, sess["id"], S.CONFIRM_CLOSE, None)
            return self._response_for_confirm_close(w, self._load(w, sess["id"]), shorts)
        if closes_po:
            for line in shorts:
                w.execute("UPDATE po_lines SET status = 'short' WHERE id = ?", [line["id"]])
                repo.insert_discrepancy(
                    w,
                    session_id=sess["id"],
                    item_id=line["item_id"],
                    reason=Reason.SHORT,
                    qty=line["qty_expected"] - line["qty_received"],
                    user_id=self.user_id,
                    po_line_id=line["id"],
                    details={"line_no": line["line_no"]},
                )
            repo.mark_po(w, sess["po_id"], "closed")
        if sess["asn_id"] is not None:
            repo.mark_asn(w, sess["asn_id"], "received")
        summary = self._summary(w, sess, po_closed=closes_po)
        repo.close_session(w, sess["id"], self.user_id, summary)
        for worker in {self.actor, self._owner(sess)}:
            labor.finish(w, task_type="receive", task_ref=self._labor_ref(w, sess), actor=worker)
        emit(w, RECEIVING_CLOSED, {"site": self.site, **summary})
        return self._response_for_done(w, sess, summary)

    @endpoint(from_=S, to=S, in_diagram=False)
    def state(self, db: Database, session_id: int) -> dict[str, Any]:
        """Where a session is: the same answer its last endpoint gave (resume after restart)."""
        sess = repo.session(db, session_id)
        if sess is None:
            raise AislewayError(
                ErrorCode.RECEIVING_SESSION_UNKNOWN, details={"session_id": session_id}
            )
        self._check_owner(sess, any_user=False)
        state = S(sess["state"])
        if state is S.DONE:
            return self._response_for_done(db, sess, repo.json_loads(sess["summary_json"]))
        if state is S.CONFIRM_CLOSE:
            shorts = [
                line
                for line in repo.po_lines(db, sess["po_id"])
                if line["status"] != "cancelled" and line["qty_received"] < line["qty_expected"]
            ]
            return self._response_for_confirm_close(db, sess, shorts)
        if state is S.SCAN_ITEM:
            return self._response_for_scan_item(db, sess)
        pending = self._pending(sess)
        return self._respond_pending(db, sess, state, pending)

    # == the step machine =========================================================================
    def _advance(
        self,
        w: SUDatabase,
        sess: repo.Row,
        pending: Pending,
        *,
        message: ErrorCode | None = None,
        labor_step: labor.Step | None = "handle",
    ) -> dict[str, Any]:
        """Ask for what is still missing, in order; when nothing is, post the receipt. The
        scan is recorded as `labor_step` (None: an approval, no worker's scan)."""
        parts = pending["parts"]
        if any(p["qty"] is None for p in parts):
            state = S.SET_QUANTITY
        elif pending["override_id"] is None and self._override_reasons(w, sess, pending)[0]:
            state = S.OVERRIDE
        elif any(
            (p["lot_tracked"] and not p["lot"]) or (p["expiry_tracked"] and not p["expiry"])
            for p in parts
        ):
            state = S.SET_LOT
        elif not pending["lpn"]:
            state = S.SET_LPN
        else:
            return self._post(w, sess, pending, labor_step)
        if labor_step is not None:
            self._labor(w, sess, labor_step)
        repo.save_session(w, sess["id"], state, pending)
        return self._respond_pending(w, sess, state, pending, message=message)

    def _override_reasons(
        self,
        w: SUDatabase | Database,
        sess: repo.Row,
        pending: Pending,
        *,
        blind: bool | None = None,
    ) -> tuple[list[str], dict[str, Any]]:
        """Why a supervisor must approve (unexpected item, over tolerance), with details;
        expected quantities are left out of the details in blind mode."""
        blind = bool(sess["blind"]) if blind is None else blind
        reasons: list[str] = []
        details: dict[str, Any] = {"lines": []}
        adding: dict[int, int] = {}
        for part in pending["parts"]:
            if part["po_line_id"] is None:
                if Reason.UNEXPECTED not in reasons:
                    reasons.append(Reason.UNEXPECTED)
                details["lines"].append({"sku": part["sku"], "qty": part["qty"], "on_order": False})
            else:
                adding[part["po_line_id"]] = adding.get(part["po_line_id"], 0) + (part["qty"] or 0)
        pct = self.settings.receiving_over_tolerance_pct
        for po_line_id, qty in adding.items():
            line = repo.one(w, "SELECT * FROM po_lines WHERE id = ?", [po_line_id])
            assert line is not None
            allowed = line["qty_expected"] + math.floor(line["qty_expected"] * pct / 100)
            if line["qty_received"] + qty > allowed:
                if Reason.OVER not in reasons:
                    reasons.append(Reason.OVER)
                entry: dict[str, Any] = {"line_no": line["line_no"], "qty": qty, "on_order": True}
                if not blind:
                    entry |= {
                        "qty_expected": line["qty_expected"],
                        "qty_received": line["qty_received"],
                        "qty_allowed": allowed,
                    }
                details["lines"].append(entry)
        return reasons, details

    def _post(
        self, w: SUDatabase, sess: repo.Row, pending: Pending, labor_step: labor.Step | None
    ) -> dict[str, Any]:
        """Post every part: ledger movement into the dock, receipt line, PO line, discrepancies
        and events, all in the caller's transaction. The labor (units, receipt lines) goes to
        the scan's worker, or to the session's receiver when a supervisor's approval posts."""
        po = repo.po_by_id(w, sess["po_id"])
        dock_code = repo.one(
            w, "SELECT code FROM locations WHERE id = ?", [sess["dock_location_id"]]
        )
        assert dock_code is not None
        status = "damaged" if pending["damaged"] else "available"
        received: list[dict[str, Any]] = []
        any_mismatch = False
        for part in pending["parts"]:
            reasons: list[str] = []
            over_by = 0
            if part["po_line_id"] is not None:
                line = repo.add_received(w, part["po_line_id"], part["qty"])
                if line["qty_received"] > line["qty_expected"]:
                    reasons.append(Reason.OVER)
                    over_by = min(part["qty"], line["qty_received"] - line["qty_expected"])
            else:
                reasons.append(Reason.UNEXPECTED)
            lots = repo.expected_lots(w, part["po_line_id"], sess["asn_id"], part["item_id"])
            if part["lot"] and lots and part["lot"] not in lots:
                reasons.append(Reason.LOT_MISMATCH)
                any_mismatch = True
            if pending["damaged"]:
                reasons.append(Reason.DAMAGED)
            movement = inventory.receive(
                w,
                self.site,
                ReceiptIn(
                    location=dock_code["code"],
                    sku=part["sku"],
                    qty=part["qty"],
                    lot=part["lot"] or "",
                    expiry=date.fromisoformat(part["expiry"]) if part["expiry"] else None,
                    lpn=pending["lpn"],
                    status=StockStatus(status),
                    reason=",".join(reasons),
                    ref=f"PO {po['number']}",
                ),
                self.actor,
            )
            line_id = repo.insert_receipt_line(
                w,
                session_id=sess["id"],
                po_line_id=part["po_line_id"],
                asn_line_id=part.get("asn_line_id"),
                item_id=part["item_id"],
                qty=part["qty"],
                lot=part["lot"] or "",
                expiry=part["expiry"],
                lpn=pending["lpn"],
                sscc=pending.get("sscc"),
                stock_status=status,
                reasons=",".join(reasons),
                corrected=int(pending["corrections"] > 0),
                override_id=pending["override_id"],
                movement_id=movement["movement_id"],
                user_id=self.user_id,
                device_id=self.actor.device_id,
            )
            for reason in reasons:
                qty = over_by if reason == Reason.OVER else part["qty"]
                repo.insert_discrepancy(
                    w,
                    session_id=sess["id"],
                    item_id=part["item_id"],
                    reason=reason,
                    qty=qty,
                    user_id=self.user_id,
                    receipt_line_id=line_id,
                    po_line_id=part["po_line_id"],
                    details={"lot": part["lot"] or "", "expected_lots": sorted(lots)}
                    if reason == Reason.LOT_MISMATCH
                    else {"override_id": pending["override_id"]},
                )
            if part.get("asn_line_id"):
                repo.mark_asn_line_received(w, part["asn_line_id"])
            view = {
                "receipt_line_id": line_id,
                "sku": part["sku"],
                "qty": part["qty"],
                "lot": part["lot"] or "",
                "expiry": part["expiry"],
                "lpn": pending["lpn"],
                "status": status,
                "location": dock_code["code"],
                "reasons": reasons,
            }
            received.append(view)
            emit(
                w,
                LINE_RECEIVED,
                {
                    "site": self.site,
                    "session_id": sess["id"],
                    "po": po["number"],
                    "asn": self._asn_number(w, sess),
                    "sscc": pending.get("sscc"),
                    "movement_id": movement["movement_id"],
                    "user_id": self.user_id,
                    "override_id": pending["override_id"],
                    **view,
                },
            )
            # Directed putaway starts here: the tasks (with their chosen bins and reserved
            # room) exist as soon as the receipt does, in the same transaction.
            view["putaway_task_ids"] = create_putaway_tasks(
                w,
                self.site,
                location=dock_code["code"],
                lpn=pending["lpn"],
                sku=part["sku"],
                lot=part["lot"] or "",
                qty=part["qty"],
                status=status,
                ref=f"PO {po['number']}",
                actor=self.actor,
            )
            if pending.get("printer"):
                # Queued in this transaction; the spooler sends it once the receipt commits.
                view["print_job_id"] = queue_lpn_label(
                    w,
                    self.site,
                    pending["printer"],
                    lpn=pending["lpn"],
                    sku=part["sku"],
                    lot=part["lot"] or None,
                    expiry=date.fromisoformat(part["expiry"]) if part["expiry"] else None,
                    qty=part["qty"],
                )
            emit(
                w,
                LPN_RECEIVED,
                {
                    "site": self.site,
                    "lpn": pending["lpn"],
                    "sku": part["sku"],
                    "lot": part["lot"] or "",
                    "qty": part["qty"],
                    "status": status,
                    "location": dock_code["code"],
                    "putaway_task_ids": view["putaway_task_ids"],
                },
            )
        self._labor(
            w,
            sess,
            labor_step or "handle",
            units=sum(int(r["qty"]) for r in received),
            lines=len(received),
            actor=self.actor if labor_step is not None else self._owner(sess),
        )
        repo.save_session(w, sess["id"], S.SCAN_ITEM, None)
        message = ErrorCode.RECEIVING_LOT_MISMATCH if any_mismatch else ErrorCode.RECEIVING_RECEIVED
        return self._response_for_scan_item(
            w,
            self._load(w, sess["id"]),
            received=received,
            message=message,
            kind=MessageType.WARNING if any_mismatch else MessageType.SUCCESS,
        )

    # == building a receipt in progress ===========================================================
    def _item_pending(self, w: SUDatabase, sess: repo.Row, scan: Scan) -> Pending:
        gtin = scan.gtin or scan.content_gtin
        if gtin is None:  # e.g. (10)+(17) alone: that label's other barcode names the item
            raise BarcodeError(
                ErrorCode.BARCODE_UNEXPECTED, {"found": "item_data", "expected": ["item", "sscc"]}
            )
        match = find_by_gtin(w, gtin)
        if match is None:
            raise AislewayError(ErrorCode.UNKNOWN_ITEM, details={"gtin": gtin})
        item = match.item
        _check_expiry(scan.expiry, item.sku)
        return self._new_pending(
            kind="item",
            parts=[
                {
                    "item_id": item.id,
                    "sku": item.sku,
                    "description": item.description,
                    "po_line_id": self._po_line_for(w, sess, item.id),
                    "asn_line_id": None,
                    "qty": scan.count * match.qty if scan.count else None,
                    "lot": scan.lot,
                    "expiry": scan.expiry.isoformat() if scan.expiry else None,
                    "lot_tracked": item.lot_tracked,
                    "expiry_tracked": item.expiry_tracked,
                }
            ],
            gtin=match.gtin,
            uom=match.uom,
            units_per_scan=match.qty,
        )

    def _sscc_pending(self, w: SUDatabase, sess: repo.Row, sscc: str) -> Pending:
        lines = [
            line
            for line in repo.sscc_lines(w, sess["site_id"], sscc)
            if line["po_id"] == sess["po_id"]
        ]
        if not lines:
            raise AislewayError(ErrorCode.RECEIVING_SSCC_NOT_EXPECTED, details={"sscc": sscc})
        todo = [line for line in lines if line["received_at"] is None]
        if not todo:
            raise AislewayError(ErrorCode.RECEIVING_SSCC_ALREADY_RECEIVED, details={"sscc": sscc})
        if repo.lpn_used_elsewhere(w, sscc, sess["id"], sess["dock_location_id"]):
            raise AislewayError(ErrorCode.RECEIVING_LPN_IN_USE, details={"lpn": sscc})
        parts = []
        for line in todo:
            flags = repo.one(
                w,
                "SELECT lot_tracked, expiry_tracked, description FROM items WHERE id = ?",
                [line["item_id"]],
            )
            assert flags is not None
            expiry = date.fromisoformat(line["expiry"][:10]) if line["expiry"] else None
            _check_expiry(expiry, line["sku"])
            if flags["lot_tracked"] and not line["lot"]:
                raise AislewayError(
                    ErrorCode.LOT_REQUIRED, details={"sscc": sscc, "sku": line["sku"]}
                )
            parts.append(
                {
                    "item_id": line["item_id"],
                    "sku": line["sku"],
                    "description": flags["description"],
                    "po_line_id": line["po_line_id"] or self._po_line_for(w, sess, line["item_id"]),
                    "asn_line_id": line["id"],
                    "qty": line["qty"],
                    "lot": line["lot"] or None,
                    "expiry": expiry.isoformat() if expiry else None,
                    "lot_tracked": bool(flags["lot_tracked"]),
                    "expiry_tracked": bool(flags["expiry_tracked"]),
                }
            )
        pending = self._new_pending(kind="sscc", parts=parts, units_per_scan=1, uom="EA")
        pending["sscc"] = pending["lpn"] = sscc
        return pending

    @staticmethod
    def _new_pending(
        *,
        kind: str,
        parts: list[dict[str, Any]],
        units_per_scan: int,
        uom: str,
        gtin: str | None = None,
    ) -> Pending:
        return {
            "kind": kind,
            "parts": parts,
            "gtin": gtin,
            "uom": uom,
            "units_per_scan": units_per_scan,
            "sscc": None,
            "lpn": None,
            "damaged": False,
            "override_id": None,
            "approved_by": None,
            "corrections": 0,
        }

    @staticmethod
    def _po_line_for(w: SUDatabase, sess: repo.Row, item_id: int) -> int | None:
        """The PO line an item is received against: the first with room left, else the first."""
        lines = [
            line
            for line in repo.po_lines(w, sess["po_id"])
            if line["item_id"] == item_id and line["status"] != "cancelled"
        ]
        for line in lines:
            if line["qty_received"] < line["qty_expected"]:
                return int(line["id"])
        return int(lines[0]["id"]) if lines else None

    # == labor (docs/labor.md) ====================================================================
    def _labor_ref(self, w: SUDatabase, sess: repo.Row) -> str:
        asn = self._asn_number(w, sess)
        return f"ASN-{asn}" if asn else f"PO-{repo.po_by_id(w, sess['po_id'])['number']}"

    def _owner(self, sess: repo.Row) -> Actor:
        """The session's receiver, timed by this request's scan time."""
        return Actor(
            user_id=sess["user_id"], device_id=sess["device_id"], scanned_at=self.actor.scanned_at
        )

    def _labor(
        self,
        w: SUDatabase,
        sess: repo.Row,
        step: labor.Step,
        *,
        units: int = 0,
        lines: int = 0,
        actor: Actor | None = None,
    ) -> None:
        labor.record(
            w,
            self.settings,
            task_type="receive",
            task_ref=self._labor_ref(w, sess),
            actor=actor or self.actor,
            step=step,
            units=units,
            lines=lines,
        )

    # == loading and checking =====================================================================
    def _load(
        self,
        w: SUDatabase,
        session_id: int,
        *,
        allowed: tuple[S, ...] | None = None,
        any_user: bool = False,
    ) -> repo.Row:
        sess = repo.session(w, session_id)
        if sess is None:
            raise AislewayError(
                ErrorCode.RECEIVING_SESSION_UNKNOWN, details={"session_id": session_id}
            )
        if sess["status"] == "closed":
            raise AislewayError(
                ErrorCode.RECEIVING_SESSION_CLOSED, details={"session_id": session_id}
            )
        self._check_owner(sess, any_user=any_user)
        if allowed is not None and sess["state"] not in allowed:
            raise AislewayError(
                ErrorCode.RECEIVING_WRONG_STEP,
                details={"state": sess["state"], "allowed": sorted(s.value for s in allowed)},
            )
        return sess

    def _check_owner(self, sess: repo.Row, *, any_user: bool) -> None:
        if any_user or self.role in MANAGERS or sess["user_id"] == self.user_id:
            return
        raise AislewayError(
            ErrorCode.RECEIVING_SESSION_OTHER_USER, details={"session_id": sess["id"]}
        )

    @staticmethod
    def _pending(sess: repo.Row, kind: str | None = None) -> Pending:
        pending: Pending | None = repo.json_loads(sess["pending_json"])
        if not pending or (kind is not None and pending["kind"] != kind):
            raise AislewayError(
                ErrorCode.RECEIVING_WRONG_STEP,
                details={
                    "state": sess["state"],
                    "receiving": pending.get("kind") if pending else None,
                },
            )
        return pending

    @staticmethod
    def _asn_number(w: SUDatabase | Database, sess: repo.Row) -> str | None:
        if sess["asn_id"] is None:
            return None
        asn = repo.asn_by_id(w, sess["asn_id"])
        return asn["number"] if asn else None

    def _summary(self, w: SUDatabase, sess: repo.Row, *, po_closed: bool) -> dict[str, Any]:
        receipts = repo.session_receipts(w, sess["id"])
        found = repo.session_discrepancies(w, sess["id"])
        counts = {r.value: 0 for r in Reason}
        for d in found:
            counts[d["reason"]] += 1
        po = repo.po_by_id(w, sess["po_id"])
        return {
            "session_id": sess["id"],
            "po": po["number"],
            "asn": self._asn_number(w, sess),
            "po_closed": po_closed,
            "lines": len(receipts),
            "units": sum(r["qty"] for r in receipts),
            "lpns": sorted({r["lpn"] for r in receipts}),
            "discrepancies": counts,
            "short": [
                {"sku": d["sku"], "qty": d["qty"]} for d in found if d["reason"] == Reason.SHORT
            ],
        }

    # == response builders, one per state =========================================================
    def _session_view(self, w: SUDatabase | Database, sess: repo.Row) -> dict[str, Any]:
        po = repo.po_by_id(w, sess["po_id"])
        dock = repo.one(w, "SELECT code FROM locations WHERE id = ?", [sess["dock_location_id"]])
        blind = bool(sess["blind"])
        lines = []
        for line in repo.po_lines(w, sess["po_id"]):
            view: dict[str, Any] = {
                "line_no": line["line_no"],
                "sku": line["sku"],
                "description": line["description"],
                "qty_received": line["qty_received"],
            }
            if not blind:  # the status alone would tell a blind receiver when to stop
                view |= {"qty_expected": line["qty_expected"], "status": line["status"]}
            lines.append(view)
        return {
            "session_id": sess["id"],
            "po": po["number"],
            "supplier": po["supplier"],
            "asn": self._asn_number(w, sess),
            "dock": dock["code"] if dock else None,
            "blind": blind,
            "lines": lines,
        }

    @staticmethod
    def _pending_view(pending: Pending) -> dict[str, Any]:
        return {
            "kind": pending["kind"],
            "gtin": pending["gtin"],
            "uom": pending["uom"],
            "units_per_scan": pending["units_per_scan"],
            "sscc": pending["sscc"],
            "lpn": pending["lpn"],
            "damaged": pending["damaged"],
            "approved": pending["override_id"] is not None,
            "parts": [
                {
                    "sku": p["sku"],
                    "description": p["description"],
                    "qty": p["qty"],
                    "lot": p["lot"],
                    "expiry": p["expiry"],
                    "lot_required": bool(p["lot_tracked"]),
                    "expiry_required": bool(p["expiry_tracked"]),
                    "on_order": p["po_line_id"] is not None,
                }
                for p in pending["parts"]
            ],
        }

    def _respond_pending(
        self,
        w: SUDatabase | Database,
        sess: repo.Row,
        state: S,
        pending: Pending,
        *,
        message: ErrorCode | None = None,
    ) -> dict[str, Any]:
        builder = getattr(self, f"_response_for_{state.value}")
        result: dict[str, Any] = builder(w, sess, pending, message=message)
        return result

    def _response_for_scan_item(
        self,
        w: SUDatabase | Database,
        sess: repo.Row,
        *,
        received: list[dict[str, Any]] | None = None,
        message: ErrorCode | None = None,
        kind: MessageType = MessageType.SUCCESS,
    ) -> dict[str, Any]:
        data = self._session_view(w, sess) | {"received": received or []}
        return self.envelope(S.SCAN_ITEM, data, message, kind=kind)

    def _response_for_set_quantity(
        self, w: Any, sess: repo.Row, pending: Pending, *, message: ErrorCode | None = None
    ) -> dict[str, Any]:
        data = {"session_id": sess["id"], "receiving": self._pending_view(pending)}
        return self.envelope(S.SET_QUANTITY, data, message)

    def _response_for_set_lot(
        self, w: Any, sess: repo.Row, pending: Pending, *, message: ErrorCode | None = None
    ) -> dict[str, Any]:
        data = {"session_id": sess["id"], "receiving": self._pending_view(pending)}
        return self.envelope(S.SET_LOT, data, message)

    def _response_for_set_lpn(
        self, w: Any, sess: repo.Row, pending: Pending, *, message: ErrorCode | None = None
    ) -> dict[str, Any]:
        data = {"session_id": sess["id"], "receiving": self._pending_view(pending)}
        return self.envelope(S.SET_LPN, data, message)

    def _response_for_override(
        self, w: Any, sess: repo.Row, pending: Pending, *, message: ErrorCode | None = None
    ) -> dict[str, Any]:
        reasons, details = self._override_reasons(w, sess, pending)
        code = (
            ErrorCode.RECEIVING_ITEM_NOT_ON_ORDER
            if Reason.UNEXPECTED in reasons
            else ErrorCode.RECEIVING_OVER_TOLERANCE
        )
        data = {
            "session_id": sess["id"],
            "receiving": self._pending_view(pending),
            "reasons": reasons,
            **details,
        }
        return self.envelope(S.OVERRIDE, data, code, kind=MessageType.WARNING)

    def _response_for_confirm_close(
        self, w: SUDatabase | Database, sess: repo.Row, shorts: list[repo.Row]
    ) -> dict[str, Any]:
        blind = bool(sess["blind"])
        short_view = []
        for line in shorts:
            view: dict[str, Any] = {
                "line_no": line["line_no"],
                "sku": line["sku"],
                "qty_received": line["qty_received"],
            }
            if not blind:
                view["qty_expected"] = line["qty_expected"]
            short_view.append(view)
        data = {"session_id": sess["id"], "short_lines": short_view}
        return self.envelope(
            S.CONFIRM_CLOSE, data, ErrorCode.RECEIVING_SHORT_LINES, kind=MessageType.WARNING
        )

    def _response_for_done(
        self, w: SUDatabase | Database, sess: repo.Row, summary: dict[str, Any]
    ) -> dict[str, Any]:
        view = dict(summary)
        if sess["blind"]:
            view["short"] = [{"sku": s["sku"]} for s in summary.get("short", [])]
        return self.envelope(S.DONE, view, ErrorCode.RECEIVING_CLOSED)
