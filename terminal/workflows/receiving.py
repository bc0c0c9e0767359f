"""Receiving on the handheld (no Kivy): the server's receiving scenario, checked locally.

Scanning the PO (`PO-…`) or the ASN (`ASN-…`) downloads the purchase order — its lines and
every line item's GTINs, lot and expiry tracking — and queues `start`; the session id the
server will hand out is not known yet, so every later command names it with
`Ref(start_seq, "data.scan_item.session_id")`, resolved by the replayer. Then each product
scan, quantity, lot/expiry and LPN is checked here as `edge_server/scenarios/receiving.py`
would check it (unknown barcode, expiry in the past, lot required, item not on the order and
over-receipt → supervisor), queued, and the local state advances as the server's does.

Needs the server at once (the screen says so when offline): opening a PO, an item that is not
on the PO (looked up by GTIN), the supervisor's badge + PIN (never written to the queue).
Pallet (SSCC) receiving is not on the handheld yet: scan the pallet's products.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from protocols.barcodes import Scan, ScanKind
from protocols.errors import ErrorCode
from protocols.receiving import MAX_QTY
from protocols.receiving import ReceivingState as S
from terminal.client.edge import EdgeError, Offline, Refused
from terminal.client.queue import Ref
from terminal.scanners.base import DecodedScan
from terminal.workflows.base import Feedback, Tone, View
from terminal.workflows.session import (
    ItemInfo,
    QueuedWorkflow,
    Tracked,
    Work,
    bad,
    good,
    parse,
    refused,
    scan_body,
)

__all__ = ["ReceivingWorkflow"]

PREFIX = "/scenarios/receiving"
_WITH_PENDING = (S.SET_QUANTITY, S.SET_LOT, S.SET_LPN)


def _today() -> date:
    return datetime.now(UTC).date()


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


class ReceivingWorkflow(QueuedWorkflow):
    name = "receiving"
    title = "Receiving"

    def __init__(self, work: Work, *, over_tolerance_pct: float = 5.0, dock: str | None = None):
        super().__init__(work)
        # The server's AISLEWAY_RECEIVING_OVER_TOLERANCE_PCT (default 5); when it differs the
        # server's answer wins on replay (override or not) and the screen follows it.
        self.over_tolerance_pct = over_tolerance_pct
        self.dock = dock
        self.state: str = S.START.value
        self.po: dict[str, Any] = {}
        self.asn: str | None = None
        self.session: int | Ref | None = None
        self.pending: dict[str, Any] | None = None
        self.received: list[dict[str, Any]] = []  # what the server posted (LPNs it handed out)
        self.summary: dict[str, Any] = {}

    # == the screen's interface ==================================================================
    def view(self) -> View:
        self.reconcile()
        p = self.pending or {}
        blind = bool(self.po.get("blind"))
        prompts = {
            S.START: "Scan the PO or ASN label.",
            S.SCAN_ITEM: "Scan a product, or press Close.",
            S.SET_QUANTITY: f"How many {p.get('uom', 'EA')} of {p.get('sku')}?",
            S.SET_LOT: f"Enter or scan the lot/expiry of {p.get('sku')}.",
            S.SET_LPN: "Scan an LPN label, or press New LPN.",
            S.OVERRIDE: "A supervisor must approve: badge + PIN, recount, or cancel.",
            S.CONFIRM_CLOSE: "Lines would close short: confirm, keep open, or scan more.",
            S.DONE: "Receiving closed. Take the pallets to putaway.",
        }
        fields: dict[str, Any] = {"po": self.po.get("number"), "asn": self.asn}
        if p:
            fields |= {k: p.get(k) for k in ("sku", "description", "qty", "lot", "expiry", "uom")}
            fields |= {"lpn": p.get("lpn"), "damaged": p.get("damaged", False)}
        if self.received:
            fields["last_received"] = self.received[-1]
        if self.summary:
            fields["summary"] = self.summary
        lines = []
        for ln in self.po.get("lines", []):
            shown = {k: ln[k] for k in ("line_no", "sku", "description", "qty_received") if k in ln}
            if not blind:  # a blind receiver never sees what is expected
                shown |= {"qty_expected": ln["qty_expected"], "status": ln["status"]}
            lines.append(shown)
        live = [ln for ln in self.po.get("lines", []) if ln["status"] != "cancelled"]
        done = sum(1 for ln in live if ln["qty_received"] >= ln["qty_expected"])
        title = f"Receiving — PO {self.po['number']}" if self.po else self.title
        return self.make_view(
            prompts[S(self.state)],
            self.state,
            title=title,
            fields=fields,
            lines=lines,
            progress=(0, 0) if blind else (done, len(live)),
        )

    def on_scan(self, scan: DecodedScan) -> Feedback:
        news = self.reconcile()
        if news is not None and news.tone is Tone.BAD:
            return news
        if self.state == S.START:
            return self._start_scan(scan)
        if self.state in (S.SCAN_ITEM, S.CONFIRM_CLOSE):
            return self._item(scan)
        if self.state == S.SET_LOT:
            return self._lot_scan(scan)
        if self.state == S.SET_LPN:
            parsed = parse(scan, {ScanKind.LPN, ScanKind.ITEM, ScanKind.ITEM_DATA})
            if isinstance(parsed, Feedback):
                return parsed
            if parsed.kind is ScanKind.LPN:
                return self._lpn(scan, parsed)
            return self._lot_scan(scan)  # set_lpn also takes the lot/expiry
        return bad(ErrorCode.RECEIVING_WRONG_STEP, state=self.state)

    def on_input(self, name: str, value: Any) -> Feedback:
        news = self.reconcile()
        if news is not None and news.tone is Tone.BAD:
            return news
        handlers: dict[str, Callable[[], Feedback]] = {
            "po": lambda: self.start(po=str(value or "")),
            "qty": lambda: self._quantity(value),
            "lot": lambda: self._lot(value),
            "new_lpn": lambda: self._lpn(None, None, printer=value),
            "damaged": lambda: self._damaged(True if value is None else bool(value)),
            "cancel": self._cancel,
            "override": lambda: self._override(value),
            "close": lambda: self._close(confirm=False, keep_open=False),
            "confirm": lambda: self._close(confirm=True, keep_open=False),
            "keep_open": lambda: self._close(confirm=False, keep_open=True),
        }
        handler = handlers.get(name)
        return handler() if handler else self.unknown_input(name)

    # == starting: download the PO, queue `start` ================================================
    def _start_scan(self, scan: DecodedScan) -> Feedback:
        parsed = parse(scan, {ScanKind.PO, ScanKind.ASN, ScanKind.LPN})
        if isinstance(parsed, Feedback):
            return parsed
        if parsed.kind is ScanKind.LPN:
            if not parsed.sscc:
                return bad(
                    ErrorCode.BARCODE_UNEXPECTED, found="lpn", expected=["po", "asn", "sscc"]
                )
            return bad(ErrorCode.TERMINAL_NOT_AVAILABLE, sscc=parsed.sscc, hint="scan the PO label")
        if parsed.kind is ScanKind.ASN:
            return self.start(asn=parsed.value, scan=scan)
        return self.start(po=parsed.value, scan=scan)

    def start(self, *, po: str = "", asn: str = "", scan: DecodedScan | None = None) -> Feedback:
        """Open a PO (or the PO of an ASN): download it and queue `start`."""
        if self.state not in (S.START, S.DONE):
            return bad(ErrorCode.RECEIVING_WRONG_STEP, state=self.state)
        if not po and not asn:
            return bad(ErrorCode.VALIDATION_FAILED, fields={"po": "scan or choose an order"})
        try:
            if asn:
                found = self.work.get(f"/asns/{asn}")["data"]
                found = found.get("asn", found)
                if found.get("status") in ("received", "cancelled"):
                    return bad(ErrorCode.RECEIVING_DOCUMENT_CLOSED, asn=asn, status=found["status"])
                if not found.get("po_number"):
                    return bad(ErrorCode.RECEIVING_ASN_WITHOUT_PO, asn=asn)
                po = str(found["po_number"])
            order = self.work.get(f"/purchase-orders/{po}")["data"]
            order = order.get("purchase_order", order)
            if order["status"] in ("closed", "cancelled"):
                return bad(ErrorCode.RECEIVING_DOCUMENT_CLOSED, po=po, status=order["status"])
            self.work.load_items({ln["sku"] for ln in order["lines"]})
        except Refused as exc:
            if exc.code in (ErrorCode.PO_NOT_FOUND.value, ErrorCode.ASN_NOT_FOUND.value):
                return bad(
                    ErrorCode.RECEIVING_DOCUMENT_UNKNOWN, **({"asn": asn} if asn else {"po": po})
                )
            return refused(exc)
        except EdgeError as exc:
            return refused(exc)
        blind = order.get("blind")
        self.po = {
            "number": order["number"],
            "supplier": order.get("supplier"),
            # None = the site's default, which the session's first answer tells: until then
            # nothing expected is shown.
            "blind": True if blind is None else bool(blind),
            "lines": [
                {
                    "line_no": ln["line_no"],
                    "sku": ln["sku"],
                    "description": ln.get("description", ""),
                    "qty_expected": int(ln["qty_expected"]),
                    "qty_received": int(ln["qty_received"]),
                    "status": ln["status"],
                }
                for ln in order["lines"]
            ],
        }
        self.asn, self.pending, self.received, self.summary = asn or None, None, [], {}
        body: dict[str, Any] = {"asn": asn} if asn else {"po": po}
        if scan is not None:
            body = scan_body(scan)
        if self.dock:
            body["dock"] = self.dock
        self.state = S.SCAN_ITEM.value
        command = self.work.enqueue(
            f"{PREFIX}/start",
            body,
            workflow=self.name,
            scanned_at=scan.scanned_at if scan else None,
        )
        self.session = Ref(command.seq, "data.scan_item.session_id")
        self.track(command, self.state, step="start")
        return good(text=f"PO {self.po['number']}: {len(self.po['lines'])} lines. Scan products.")

    # == the local state machine (mirrors edge_server/scenarios/receiving.py) ===================
    def _queue(
        self, step: str, body: dict[str, Any], scan: DecodedScan | None, **note: Any
    ) -> None:
        command = self.work.enqueue(
            f"{PREFIX}/{step}",
            {"session_id": self.session, **body},
            workflow=self.name,
            scanned_at=scan.scanned_at if scan else None,
        )
        self.track(command, self.state, step=step, **note)

    def applied(self, tracked: Tracked, envelope: dict[str, Any]) -> None:
        state = envelope.get("next_state")
        data = (envelope.get("data") or {}).get(state) or {}
        if tracked.note.get("step") == "start" and data.get("session_id"):
            self.session = int(data["session_id"])
            if "blind" in data:
                self.po["blind"] = bool(data["blind"])
        if state == S.SCAN_ITEM and data.get("received"):
            self.received.extend(data["received"])
        if state == S.DONE:
            self.summary = data

    def _item(self, scan: DecodedScan) -> Feedback:
        parsed = parse(scan, {ScanKind.ITEM, ScanKind.ITEM_DATA, ScanKind.LPN})
        if isinstance(parsed, Feedback):
            return parsed
        if parsed.kind is ScanKind.LPN:
            if not parsed.sscc:
                return bad(ErrorCode.BARCODE_UNEXPECTED, found="lpn", expected=["item", "sscc"])
            return bad(ErrorCode.TERMINAL_NOT_AVAILABLE, sscc=parsed.sscc, hint="scan the products")
        gtin = parsed.gtin or parsed.content_gtin
        if gtin is None:
            return bad(ErrorCode.BARCODE_UNEXPECTED, found="item_data", expected=["item", "sscc"])
        try:
            match = self.work.lookup_gtin(gtin)  # an item off the PO needs the server
        except Offline:
            return bad(ErrorCode.TERMINAL_OFFLINE, gtin=gtin)
        except EdgeError as exc:
            return refused(exc)
        if match is None:
            return bad(ErrorCode.UNKNOWN_ITEM, gtin=gtin)
        item, units = match
        expired = self._expired(parsed.expiry, item.sku)
        if expired is not None:
            return expired
        self.pending = self._new_pending(item, units, parsed, gtin)
        code = self._advance()
        self._queue("scan", scan_body(scan), scan)
        return self._answer(code, sku=item.sku)

    def _new_pending(self, item: ItemInfo, units: int, parsed: Scan, gtin: str) -> dict[str, Any]:
        return {
            "sku": item.sku,
            "description": item.description,
            "gtin": gtin,
            "uom": "CS" if units > 1 else "EA",
            "units_per_scan": units,
            "qty": parsed.count * units if parsed.count else None,
            "lot": parsed.lot,
            "expiry": parsed.expiry.isoformat() if parsed.expiry else None,
            "lot_tracked": item.lot_tracked,
            "expiry_tracked": item.expiry_tracked,
            "line_no": self._line_for(item.sku),
            "lpn": None,
            "damaged": False,
            "approved": False,
        }

    def _line_for(self, sku: str) -> int | None:
        """The PO line the server receives against: the first with room left, else the first."""
        lines = [ln for ln in self.po["lines"] if ln["sku"] == sku and ln["status"] != "cancelled"]
        for ln in lines:
            if ln["qty_received"] < ln["qty_expected"]:
                return int(ln["line_no"])
        return int(lines[0]["line_no"]) if lines else None

    def _line(self, line_no: int | None) -> dict[str, Any] | None:
        return next((ln for ln in self.po["lines"] if ln["line_no"] == line_no), None)

    def _override_reasons(self, p: dict[str, Any]) -> list[str]:
        line = self._line(p["line_no"])
        if line is None:
            return ["unexpected"]
        allowed = line["qty_expected"] + math.floor(
            line["qty_expected"] * self.over_tolerance_pct / 100
        )
        return ["over"] if line["qty_received"] + (p["qty"] or 0) > allowed else []

    def _advance(self) -> ErrorCode | None:
        """Ask for what is still missing, in order; when nothing is, post the receipt."""
        p = self.pending
        assert p is not None
        if p["qty"] is None:
            self.state = S.SET_QUANTITY.value
        elif not p["approved"] and self._override_reasons(p):
            self.state = S.OVERRIDE.value
            if "unexpected" in self._override_reasons(p):
                return ErrorCode.RECEIVING_ITEM_NOT_ON_ORDER
            return ErrorCode.RECEIVING_OVER_TOLERANCE
        elif (p["lot_tracked"] and not p["lot"]) or (p["expiry_tracked"] and not p["expiry"]):
            self.state = S.SET_LOT.value
        elif not p["lpn"]:
            self.state = S.SET_LPN.value
        else:
            line = self._line(p["line_no"])
            if line is not None:
                line["qty_received"] += p["qty"]
                r, e = line["qty_received"], line["qty_expected"]
                line["status"] = "over" if r > e else "complete" if r == e else "partial"
            self.state, self.pending = S.SCAN_ITEM.value, None
            return ErrorCode.RECEIVING_RECEIVED
        return None

    def _answer(self, code: ErrorCode | None, **details: Any) -> Feedback:
        if code in (ErrorCode.RECEIVING_ITEM_NOT_ON_ORDER, ErrorCode.RECEIVING_OVER_TOLERANCE):
            # Queued: the supervisor's approval is the next step, on this screen.
            return Feedback(Tone.INFO, code.value, bad(code).text, details)
        if code is not None:
            return good(code, **details)
        return good(text=self.view().prompt, **details)

    def _expired(self, expiry: date | None, sku: str) -> Feedback | None:
        if expiry is not None and expiry < _today():
            return bad(
                ErrorCode.RECEIVING_EXPIRY_PAST,
                sku=sku,
                expiry=expiry.isoformat(),
                today=_today().isoformat(),
            )
        return None

    def _quantity(self, value: Any) -> Feedback:
        if self.state not in (*_WITH_PENDING, S.OVERRIDE) or self.pending is None:
            return bad(ErrorCode.RECEIVING_WRONG_STEP, state=self.state)
        n = _int(value)
        if n is None or not 0 < n <= MAX_QTY:
            return bad(ErrorCode.QUANTITY_INVALID, qty=value)
        p = self.pending
        eaches = n * p["units_per_scan"]
        if p["qty"] != eaches:
            p["approved"] = False  # an approval was for the other quantity
        p["qty"] = eaches
        code = self._advance()
        self._queue("quantity", {"qty": n}, None)
        return self._answer(code, qty=eaches)

    def _lot_scan(self, scan: DecodedScan) -> Feedback:
        parsed = parse(scan, {ScanKind.ITEM, ScanKind.ITEM_DATA})
        if isinstance(parsed, Feedback):
            return parsed
        if parsed.lot is None and parsed.expiry is None:
            return bad(ErrorCode.LOT_REQUIRED, sku=(self.pending or {}).get("sku"))
        value: dict[str, Any] = {}
        if parsed.lot is not None:
            value["lot"] = parsed.lot
        if parsed.expiry is not None:
            value["expiry"] = parsed.expiry.isoformat()
        return self._lot(value, scan=scan)

    def _lot(self, value: Any, *, scan: DecodedScan | None = None) -> Feedback:
        """`value`: the lot text, or `{"lot": …, "expiry": "YYYY-MM-DD"}` (either may be left
        out; both in one step when the item tracks both)."""
        if self.state not in (S.SET_LOT, S.SET_LPN) or self.pending is None:
            return bad(ErrorCode.RECEIVING_WRONG_STEP, state=self.state)
        given = value if isinstance(value, dict) else {"lot": value}
        lot = given.get("lot")
        lot = str(lot).strip() if lot not in (None, "") else None
        if lot is not None and not 1 <= len(lot) <= 20:
            return bad(ErrorCode.VALIDATION_FAILED, fields={"lot": "1 to 20 characters"})
        expiry: date | None = None
        if given.get("expiry"):
            try:
                expiry = date.fromisoformat(str(given["expiry"]))
            except ValueError:
                return bad(ErrorCode.VALIDATION_FAILED, fields={"expiry": "a date YYYY-MM-DD"})
        p = self.pending
        expired = self._expired(expiry, p["sku"])
        if expired is not None:
            return expired
        new_lot = lot if lot is not None else p["lot"]
        new_expiry = expiry.isoformat() if expiry else p["expiry"]
        if p["lot_tracked"] and not new_lot:
            return bad(ErrorCode.LOT_REQUIRED, sku=p["sku"])
        if p["expiry_tracked"] and not new_expiry:
            return bad(ErrorCode.RECEIVING_EXPIRY_REQUIRED, sku=p["sku"])
        p["lot"], p["expiry"] = new_lot, new_expiry
        body: dict[str, Any] = {}
        if lot is not None:
            body["lot"] = lot
        if expiry is not None:
            body["expiry"] = expiry.isoformat()
        code = self._advance()
        self._queue("lot", body, scan)
        return self._answer(code, lot=new_lot, expiry=new_expiry)

    def _lpn(self, scan: DecodedScan | None, parsed: Scan | None, printer: Any = None) -> Feedback:
        if self.state != S.SET_LPN or self.pending is None:
            return bad(ErrorCode.RECEIVING_WRONG_STEP, state=self.state)
        body: dict[str, Any] = {}
        if scan is not None and parsed is not None:
            body = scan_body(scan)
            self.pending["lpn"] = parsed.value
        else:
            if printer:
                body["printer"] = str(printer)
            self.pending["lpn"] = "(new)"  # the server hands out the number on replay
        lpn, sku, qty = self.pending["lpn"], self.pending["sku"], self.pending["qty"]
        code = self._advance()
        self._queue("lpn", body, scan)
        return self._answer(code, lpn=lpn, sku=sku, qty=qty)

    def _damaged(self, damaged: bool) -> Feedback:
        if self.state != S.SET_LPN or self.pending is None:
            return bad(ErrorCode.RECEIVING_WRONG_STEP, state=self.state)
        self.pending["damaged"] = damaged
        self._queue("damaged", {"damaged": damaged}, None)
        return good(text="Marked damaged." if damaged else "Not damaged.", damaged=damaged)

    def _cancel(self) -> Feedback:
        if self.state not in (*_WITH_PENDING, S.OVERRIDE):
            return bad(ErrorCode.RECEIVING_WRONG_STEP, state=self.state)
        self.state, self.pending = S.SCAN_ITEM.value, None
        self._queue("cancel", {}, None)
        return Feedback(Tone.INFO, None, "Put aside, nothing received. Scan the next product.")

    def _override(self, value: Any) -> Feedback:
        """A supervisor's badge + PIN: sent at once (never queued: the PIN stays off disk)."""
        if self.state != S.OVERRIDE or self.pending is None:
            return bad(ErrorCode.RECEIVING_NOTHING_TO_APPROVE, state=self.state)
        if not isinstance(value, dict) or not value.get("badge") or not value.get("pin"):
            return bad(ErrorCode.VALIDATION_FAILED, fields={"badge": "and pin"})
        self.reconcile()
        if self.waiting or self.work.pending or not isinstance(self.session, int):
            blocked = self.can_start()
            return blocked or bad(ErrorCode.TERMINAL_SENDING, pending=self.waiting)
        body = {"session_id": self.session, "badge": str(value["badge"]), "pin": str(value["pin"])}
        try:
            envelope = self.work.send_now(f"{PREFIX}/override", body)
        except EdgeError as exc:
            return refused(exc)
        self.pending["approved"] = True
        code = self._advance()
        if envelope.get("next_state") != self.state:
            try:
                self.resync()
            except EdgeError:
                self._diverged = True
        return good(ErrorCode.RECEIVING_APPROVED, next=code.value if code else None)

    def _close(self, *, confirm: bool, keep_open: bool) -> Feedback:
        allowed = (S.SCAN_ITEM, S.CONFIRM_CLOSE)
        if self.state not in allowed or (confirm and self.state != S.CONFIRM_CLOSE):
            return bad(ErrorCode.RECEIVING_WRONG_STEP, state=self.state)
        shorts = [
            ln
            for ln in self.po["lines"]
            if ln["status"] != "cancelled" and ln["qty_received"] < ln["qty_expected"]
        ]
        body = {"confirm": confirm, "keep_open": keep_open}
        if shorts and not confirm and not keep_open:
            self.state = S.CONFIRM_CLOSE.value
            self._queue("close", body, None)
            return Feedback(
                Tone.INFO,
                ErrorCode.RECEIVING_SHORT_LINES.value,
                bad(ErrorCode.RECEIVING_SHORT_LINES).text,
                {"short_lines": [ln["line_no"] for ln in shorts]},
            )
        if not keep_open:
            for ln in shorts:
                ln["status"] = "short"
        self.state = S.DONE.value
        self._queue("close", body, None)
        return Feedback(
            Tone.DONE, ErrorCode.RECEIVING_CLOSED.value, good(ErrorCode.RECEIVING_CLOSED).text
        )

    # == resynchronising with the server =========================================================
    def resync(self) -> None:
        if not isinstance(self.session, int):
            # `start` itself was refused: nothing is open on the server.
            self.state, self.pending, self.session, self.po = S.START.value, None, None, {}
            return
        envelope = self.work.get(f"{PREFIX}/sessions/{self.session}")
        state = str(envelope["next_state"])
        data = envelope["data"][state]
        self.state = state
        if state == S.SCAN_ITEM:
            self.pending = None
            known = {ln["line_no"]: ln for ln in self.po.get("lines", [])}
            for ln in data.get("lines", []):
                if ln["line_no"] in known:
                    known[ln["line_no"]]["qty_received"] = ln["qty_received"]
                    if "status" in ln:
                        known[ln["line_no"]]["status"] = ln["status"]
        elif state == S.DONE:
            self.pending, self.summary = None, data
        elif "receiving" in data:
            r = data["receiving"]
            part = r["parts"][0]
            self.pending = {
                "sku": part["sku"],
                "description": part.get("description", ""),
                "gtin": r.get("gtin"),
                "uom": r.get("uom", "EA"),
                "units_per_scan": int(r.get("units_per_scan") or 1),
                "qty": part["qty"],
                "lot": part["lot"],
                "expiry": part["expiry"],
                "lot_tracked": bool(part["lot_required"]),
                "expiry_tracked": bool(part["expiry_required"]),
                "line_no": self._line_for(part["sku"]) if part.get("on_order") else None,
                "lpn": r.get("lpn"),
                "damaged": bool(r.get("damaged")),
                "approved": bool(r.get("approved")),
            }
