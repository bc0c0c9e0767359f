"""Returns receiving on the handheld (no Kivy): the server's returns scenario, checked locally.

Scanning the RMA label (`RMA-…`) or the prepaid return label's tracking barcode downloads the
RMA (`GET /returns/{rma}` or `?tracking=`) — its lines, every line item's GTINs and lot
tracking — and the site's disposition rules, then queues `start`; the job id the server will
hand out is not known yet, so every later command names it with
`Ref(start_seq, "data.scan_item.session_id")`, resolved by the replayer. Each product scan,
quantity, lot and condition is then checked here as `edge_server/scenarios/returns.py` would
check it (item not on the RMA, more units than the line has open, lot required), queued, and
the local state advances as the server's does; the disposition shown is the downloaded rules'
and the server's answer replaces it on replay.

Needs the server at once (the screen says so when offline): opening an RMA. A product not on
the RMA is refused offline too (`RETURNS_ITEM_NOT_ON_RMA`: put it aside).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from protocols.barcodes import BarcodeError, Scan, ScanKind, parse_scan
from protocols.errors import ErrorCode
from protocols.returns import MAX_RETURN_QTY, Condition
from protocols.returns import ReturnsState as S
from terminal.client.edge import EdgeError, Offline, Refused
from terminal.client.queue import Ref
from terminal.scanners.base import DecodedScan
from terminal.workflows.base import Feedback, Tone, View
from terminal.workflows.session import (
    QueuedWorkflow,
    Tracked,
    Work,
    bad,
    good,
    info,
    parse,
    refused,
    scan_body,
)

__all__ = ["ReturnsWorkflow"]

PREFIX = "/scenarios/returns"
_WITH_PENDING = (S.SET_QUANTITY, S.SET_LOT, S.SET_CONDITION)
_OPEN = ("expected", "receiving")


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


class ReturnsWorkflow(QueuedWorkflow):
    name = "returns"
    title = "Returns receiving"

    def __init__(self, work: Work, *, location: str | None = None) -> None:
        super().__init__(work)
        self.location = location  # the returns bench; None: the site's first one
        self.state: str = S.START.value
        self.rma: dict[str, Any] = {}
        self.rules: dict[tuple[str, str], str] = {}
        self.session: int | Ref | None = None
        self.pending: dict[str, Any] | None = None
        self.received: list[dict[str, Any]] = []  # postings, as the server answered them
        self.summary: dict[str, Any] = {}

    # == the screen's interface ==================================================================
    def view(self) -> View:
        self.reconcile()
        p = self.pending or {}
        last = self.received[-1] if self.received else None
        after = (
            f"{last['qty']} × {last['sku']} → {last['disposition']}. " if last is not None else ""
        )
        prompts = {
            S.START: "Scan the RMA label or the return label.",
            S.SCAN_ITEM: after + "Scan a returned item, or press Close.",
            S.SET_QUANTITY: f"How many of {p.get('sku')} came back?",
            S.SET_LOT: f"Enter the lot of {p.get('sku')}.",
            S.SET_CONDITION: f"Condition of {p.get('sku')}: New, Opened or Damaged?",
            S.CONFIRM_CLOSE: "Items are missing: Confirm to close, or scan more.",
            S.DONE: "Return closed. The refund follows.",
        }
        fields: dict[str, Any] = {
            "rma": self.rma.get("rma"),
            "order": self.rma.get("order"),
            "customer": self.rma.get("customer"),
        }
        if p:
            fields |= {k: p.get(k) for k in ("sku", "description", "reason", "qty", "lot")}
            fields["dispositions"] = self._dispositions(p)
        if last is not None:
            fields["last_received"] = last
        if self.summary:
            fields["summary"] = self.summary
        lines = [
            {
                "line_no": ln["line_no"],
                "sku": ln["sku"],
                "reason": ln["reason"],
                "qty_received": ln["qty_received"],
                "qty_expected": ln["qty_expected"],
                "done": ln["qty_received"] >= ln["qty_expected"],
                "current": bool(p) and ln["line_no"] == p.get("line_no"),
            }
            for ln in self.rma.get("lines", [])
        ]
        done = sum(1 for ln in lines if ln["done"])
        title = f"Returns — RMA {self.rma['rma']}" if self.rma else self.title
        return self.make_view(
            prompts[S(self.state)],
            self.state,
            title=title,
            fields=fields,
            lines=lines,
            progress=(done, len(lines)),
        )

    def on_scan(self, scan: DecodedScan) -> Feedback:
        news = self.reconcile()
        if news is not None and news.tone is Tone.BAD:
            return news
        if self.state in (S.START, S.DONE):
            return self._start_scan(scan)
        if self.state in (S.SCAN_ITEM, S.CONFIRM_CLOSE):
            return self._item(scan)
        if self.state == S.SET_LOT:
            parsed = parse(scan, {ScanKind.ITEM, ScanKind.ITEM_DATA})
            if isinstance(parsed, Feedback):
                return parsed
            if not parsed.lot:
                return bad(ErrorCode.LOT_REQUIRED, sku=(self.pending or {}).get("sku"))
            return self._lot(parsed.lot, scan=scan)
        return bad(ErrorCode.RETURNS_WRONG_STEP, state=self.state)

    def on_input(self, name: str, value: Any) -> Feedback:
        news = self.reconcile()
        if news is not None and news.tone is Tone.BAD:
            return news
        handlers: dict[str, Callable[[], Feedback]] = {
            "rma": lambda: self.start(rma=str(value or "").strip().upper()),
            "qty": lambda: self._quantity(value),
            "lot": lambda: self._lot(value),
            "condition": lambda: self._condition(value),
            "new": lambda: self._condition(Condition.NEW.value),
            "opened": lambda: self._condition(Condition.OPENED.value),
            "damaged": lambda: self._condition(Condition.DAMAGED.value),
            "cancel": self._cancel,
            "close": lambda: self._close(confirm=False),
            "confirm": lambda: self._close(confirm=True),
        }
        handler = handlers.get(name)
        return handler() if handler else self.unknown_input(name)

    # == starting: download the RMA and the rules, queue `start` =================================
    def _start_scan(self, scan: DecodedScan) -> Feedback:
        try:
            parsed: Scan | None = parse_scan(scan.text, symbology=scan.symbology)
        except BarcodeError:
            parsed = None  # a carrier's tracking barcode: the server knows it
        if parsed is not None and parsed.kind is ScanKind.RMA:
            return self.start(rma=parsed.value, scan=scan)
        tracking = parsed.data if parsed is not None else scan.text.strip()
        if len(tracking) > 3 and tracking.startswith("]"):
            tracking = tracking[3:]
        return self.start(
            tracking=tracking, scan=scan, scanned_kind=parsed.kind if parsed else None
        )

    def start(
        self,
        *,
        rma: str = "",
        tracking: str = "",
        scan: DecodedScan | None = None,
        scanned_kind: ScanKind | None = None,
    ) -> Feedback:
        """Open an RMA (by number or return-label tracking): download it and queue `start`."""
        if self.state not in (S.START, S.DONE):
            return bad(ErrorCode.RETURNS_WRONG_STEP, state=self.state)
        if not rma and not tracking:
            return bad(ErrorCode.VALIDATION_FAILED, fields={"rma": "scan or key in the RMA"})
        try:
            if rma:
                found = self.work.get(f"/returns/{rma}")["data"]
            else:
                page = (
                    self.work.get("/returns", {"tracking": tracking})["data"]
                    if len(tracking) <= 40
                    else {"items": []}
                )
                if not page["items"]:
                    if scanned_kind is not None:  # one of our labels, but not an RMA
                        return bad(
                            ErrorCode.BARCODE_UNEXPECTED,
                            found=scanned_kind.value,
                            expected=["rma", "tracking"],
                        )
                    return bad(ErrorCode.RETURNS_RMA_UNKNOWN, tracking=tracking)
                found = page["items"][0]
            if found["status"] not in _OPEN:
                return bad(ErrorCode.RETURNS_RMA_CLOSED, rma=found["rma"], status=found["status"])
            rules = self.work.get("/returns/disposition-rules")["data"]["rules"]
            self.work.load_items({ln["sku"] for ln in found["lines"]})
        except Refused as exc:
            if exc.code in (ErrorCode.NOT_FOUND.value, ErrorCode.VALIDATION_FAILED.value):
                return bad(ErrorCode.RETURNS_RMA_UNKNOWN, rma=rma)
            return refused(exc)
        except EdgeError as exc:
            return refused(exc)
        self.rma = {
            "rma": found["rma"],
            "order": found.get("order"),
            "customer": found.get("customer"),
            "lines": [
                {
                    "line_no": int(ln["line_no"]),
                    "sku": ln["sku"],
                    "description": ln.get("description", ""),
                    "reason": ln["reason"],
                    "qty_expected": int(ln["qty_expected"]),
                    "qty_received": int(ln["qty_received"]),
                }
                for ln in found["lines"]
            ],
        }
        self.rules = {(r["reason"], r["condition"]): r["disposition"] for r in rules}
        self.pending, self.received, self.summary = None, [], {}
        body: dict[str, Any] = scan_body(scan) if scan is not None else {"rma": found["rma"]}
        if self.location:
            body["location"] = self.location
        self.state = S.SCAN_ITEM.value
        command = self.work.enqueue(
            f"{PREFIX}/start",
            body,
            workflow=self.name,
            scanned_at=scan.scanned_at if scan else None,
        )
        self.session = Ref(command.seq, "data.scan_item.session_id")
        self.track(command, self.state, step="start")
        units = sum(ln["qty_expected"] - ln["qty_received"] for ln in self.rma["lines"])
        return good(text=f"RMA {found['rma']}: {units} units to receive. Scan the items.")

    # == the local state machine (mirrors edge_server/scenarios/returns.py) =====================
    def _queue(self, step: str, body: dict[str, Any], scan: DecodedScan | None) -> None:
        command = self.work.enqueue(
            f"{PREFIX}/{step}",
            {"session_id": self.session, **body},
            workflow=self.name,
            scanned_at=scan.scanned_at if scan else None,
        )
        self.track(command, self.state, step=step)

    def applied(self, tracked: Tracked, envelope: dict[str, Any]) -> None:
        state = envelope.get("next_state")
        data = (envelope.get("data") or {}).get(state) or {}
        if tracked.note.get("step") == "start" and data.get("session_id"):
            self.session = int(data["session_id"])
        if tracked.note.get("step") == "condition" and data.get("received"):
            # The server's posting replaces the one predicted here (its rules decide).
            # Commands replay in order: the oldest prediction is the one this answer decides.
            predicted = next((r for r in self.received if r.get("predicted")), None)
            if predicted is not None:
                self.received[self.received.index(predicted)] = data["received"]
            else:
                self.received.append(data["received"])
        if state == S.DONE:
            self.summary = data

    def _item(self, scan: DecodedScan) -> Feedback:
        parsed = parse(scan, {ScanKind.ITEM, ScanKind.ITEM_DATA})
        if isinstance(parsed, Feedback):
            return parsed
        gtin = parsed.gtin or parsed.content_gtin
        if gtin is None:
            return bad(ErrorCode.BARCODE_UNEXPECTED, found="item_data", expected=["item"])
        match = self.work.items.gtin(gtin)
        if match is None:
            try:
                match = self.work.lookup_gtin(gtin)
            except Offline:
                match = None  # not one of this RMA's items (all were downloaded), whatever it is
            except EdgeError as exc:
                return refused(exc)
            else:
                if match is None:
                    return bad(ErrorCode.UNKNOWN_ITEM, gtin=gtin)
        if match is None or match[0].sku not in {ln["sku"] for ln in self.rma["lines"]}:
            sku = match[0].sku if match else None
            return bad(ErrorCode.RETURNS_ITEM_NOT_ON_RMA, sku=sku, gtin=gtin, rma=self.rma["rma"])
        item, units = match
        line = next(
            (
                ln
                for ln in self.rma["lines"]
                if ln["sku"] == item.sku and ln["qty_received"] < ln["qty_expected"]
            ),
            None,
        )
        if line is None:
            return bad(ErrorCode.RETURNS_OVER_QTY, sku=item.sku, qty_open=0)
        pending: dict[str, Any] = {
            "line_no": line["line_no"],
            "sku": item.sku,
            "description": item.description,
            "reason": line["reason"],
            "units_per_scan": units,
            "qty": None,
            "lot": parsed.lot,
            "lot_tracked": item.lot_tracked,
        }
        if parsed.count:
            qty = parsed.count * units
            over = self._over(pending, qty)
            if over is not None:
                return over
            pending["qty"] = qty
        self.pending = pending
        self._advance()
        self._queue("scan", scan_body(scan), scan)
        return good(text=self.view().prompt, sku=item.sku, line_no=line["line_no"])

    def _line(self, line_no: int) -> dict[str, Any]:
        return next(ln for ln in self.rma["lines"] if ln["line_no"] == line_no)

    def _over(self, pending: dict[str, Any], qty: int) -> Feedback | None:
        line = self._line(pending["line_no"])
        room = line["qty_expected"] - line["qty_received"]
        if qty > room:
            return bad(
                ErrorCode.RETURNS_OVER_QTY,
                sku=pending["sku"],
                line_no=line["line_no"],
                qty=qty,
                qty_open=room,
            )
        return None

    def _advance(self) -> None:
        p = self.pending
        assert p is not None
        if p["qty"] is None:
            self.state = S.SET_QUANTITY.value
        elif p["lot_tracked"] and not p["lot"]:
            self.state = S.SET_LOT.value
        else:
            self.state = S.SET_CONDITION.value

    def _dispositions(self, p: dict[str, Any]) -> dict[str, str | None]:
        return {c.value: self.rules.get((p["reason"], c.value)) for c in Condition}

    def _quantity(self, value: Any) -> Feedback:
        if self.state not in _WITH_PENDING or self.pending is None:
            return bad(ErrorCode.RETURNS_WRONG_STEP, state=self.state)
        n = _int(value)
        if n is None or not 0 < n <= MAX_RETURN_QTY:
            return bad(ErrorCode.QUANTITY_INVALID, qty=value)
        qty = n * int(self.pending["units_per_scan"])
        over = self._over(self.pending, qty)
        if over is not None:
            return over
        self.pending["qty"] = qty
        self._advance()
        self._queue("quantity", {"qty": n}, None)
        return good(text=self.view().prompt, qty=qty)

    def _lot(self, value: Any, *, scan: DecodedScan | None = None) -> Feedback:
        p = self.pending
        if self.state not in (S.SET_LOT, S.SET_CONDITION) or p is None or p["qty"] is None:
            return bad(ErrorCode.RETURNS_WRONG_STEP, state=self.state)
        lot = str(value).strip() if value not in (None, "") else ""
        if not 1 <= len(lot) <= 20:
            return bad(ErrorCode.VALIDATION_FAILED, fields={"lot": "1 to 20 characters"})
        p["lot"] = lot
        self._advance()
        self._queue("lot", {"lot": lot}, scan)
        return good(text=self.view().prompt, lot=lot)

    def _condition(self, value: Any) -> Feedback:
        p = self.pending
        if self.state != S.SET_CONDITION or p is None:
            return bad(ErrorCode.RETURNS_WRONG_STEP, state=self.state)
        try:
            condition = Condition(str(value))
        except ValueError:
            return bad(ErrorCode.VALIDATION_FAILED, fields={"condition": "new, opened or damaged"})
        over = self._over(p, int(p["qty"]))
        if over is not None:
            return over
        disposition = self.rules.get((p["reason"], condition.value))
        line = self._line(p["line_no"])
        line["qty_received"] += int(p["qty"])
        posting = {
            "line_no": p["line_no"],
            "sku": p["sku"],
            "lot": p["lot"] or "",
            "qty": int(p["qty"]),
            "reason": p["reason"],
            "condition": condition.value,
            "disposition": disposition,
            "predicted": True,
        }
        self.received.append(posting)
        self.state, self.pending = S.SCAN_ITEM.value, None
        self._queue("condition", {"condition": condition.value}, None)
        return good(
            ErrorCode.RETURNS_RECEIVED,
            **{k: posting[k] for k in ("sku", "qty")},
            disposition=disposition,
        )

    def _cancel(self) -> Feedback:
        if self.state not in _WITH_PENDING:
            return bad(ErrorCode.RETURNS_WRONG_STEP, state=self.state)
        self.state, self.pending = S.SCAN_ITEM.value, None
        self._queue("cancel", {}, None)
        return info(text="Put aside, nothing received. Scan the next item.")

    def _close(self, *, confirm: bool) -> Feedback:
        allowed = (S.SCAN_ITEM, S.CONFIRM_CLOSE)
        if self.state not in allowed or (confirm and self.state != S.CONFIRM_CLOSE):
            return bad(ErrorCode.RETURNS_WRONG_STEP, state=self.state)
        short = [ln for ln in self.rma["lines"] if ln["qty_received"] < ln["qty_expected"]]
        if short and not confirm:
            self.state = S.CONFIRM_CLOSE.value
            self._queue("close", {"confirm": False}, None)
            return Feedback(
                Tone.INFO,
                ErrorCode.RETURNS_SHORT_LINES.value,
                bad(ErrorCode.RETURNS_SHORT_LINES).text,
                {"short_lines": [ln["line_no"] for ln in short]},
            )
        self.state = S.DONE.value
        self._queue("close", {"confirm": confirm}, None)
        return Feedback(
            Tone.DONE, ErrorCode.RETURNS_CLOSED.value, good(ErrorCode.RETURNS_CLOSED).text
        )

    # == resynchronising with the server =========================================================
    def resync(self) -> None:
        if not isinstance(self.session, int):
            # `start` itself was refused: nothing is open on the server.
            self.state, self.pending, self.session, self.rma = S.START.value, None, None, {}
            return
        envelope = self.work.get(f"{PREFIX}/sessions/{self.session}")
        state = str(envelope["next_state"])
        data = envelope["data"][state]
        self.state = state
        if "lines" in data:
            known = {ln["line_no"]: ln for ln in self.rma.get("lines", [])}
            for ln in data["lines"]:
                if ln["line_no"] in known:
                    known[ln["line_no"]]["qty_received"] = int(ln["qty_received"])
                    known[ln["line_no"]]["qty_expected"] = int(ln["qty_expected"])
        self.received = [r for r in self.received if not r.get("predicted")]
        if state == S.DONE:
            self.pending, self.summary = None, data
        elif "returning" in data:
            r = data["returning"]
            self.pending = {
                "line_no": r["line_no"],
                "sku": r["sku"],
                "description": r.get("description", ""),
                "reason": r["reason"],
                "units_per_scan": int(r.get("units_per_scan") or 1),
                "qty": r["qty"],
                "lot": r["lot"],
                "lot_tracked": bool(r["lot_required"]),
            }
        else:
            self.pending = None
