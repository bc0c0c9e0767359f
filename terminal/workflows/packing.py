"""Packing and verifying on the handheld (no Kivy): the server's packing scenario, checked
locally.

Scanning a tote (or typing the order number) starts — or resumes — the packing job on the
server (online, once): its answer is the download: what was picked for the order per line and
lot, the totes, the cartons. The site's carton types come with it (`GET /carton-types`). Each
item scan is then verified here as `edge_server/scenarios/packing.py` verifies it (not in the
order, wrong lot, several lots and none scanned, more than is left) and queued; sealing a
carton checks the carton type and the weight range before it is queued. The SSCC, tracking
number and label come back when the server has applied the seal.

A tote that is not one of the order's is refused here with `PACK_TOTE_OTHER_ORDER` (the
handheld cannot tell an empty tote from another order's; either way it is put aside).
"""

from __future__ import annotations

from typing import Any

from protocols.barcodes import ScanKind
from protocols.errors import ErrorCode
from protocols.packing import MAX_UNITS, MAX_WEIGHT_KG
from protocols.packing import PackingState as S
from terminal.client.edge import EdgeError, Offline
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

__all__ = ["PackingWorkflow"]

PREFIX = "/scenarios/packing"


class PackingWorkflow(QueuedWorkflow):
    name = "packing"
    title = "Packing"

    def __init__(self, work: Work, *, station: str | None = None) -> None:
        super().__init__(work)
        self.station = station
        self.state: str = S.START.value
        self.job: dict[str, Any] = {}  # the server's scan_item view, kept up to date locally
        self.open_units = 0  # units in the open carton
        self.carton_types: dict[str, dict[str, Any]] | None = None
        self.next_qty: int | None = None  # how many of the next scanned unit (default 1)
        self.sealed: list[dict[str, Any]] = []  # what the server sealed (SSCC, tracking)

    # == the screen's interface ==================================================================
    def view(self) -> View:
        self.reconcile()
        job = self.job
        prompt = {
            S.START: "Scan a tote, or type the order number.",
            S.SCAN_ITEM: "Scan each item into the carton, or seal the carton.",
            S.DONE: "Order packed. Take the cartons to shipping.",
        }[S(self.state)]
        if self.state == S.SCAN_ITEM and job.get("units_left") == 0:
            prompt = "Everything is in a carton: seal it (type and weight)."
        fields = {k: job.get(k) for k in ("order", "station", "carrier_service", "units_left")} | {
            "open_carton_units": self.open_units,
            "next_qty": self.next_qty,
        }
        fields["totes"] = [t["tote"] for t in job.get("totes", [])]
        fields["sealed"] = self.sealed
        # what the screen's "seal the carton" dialog offers (known once a job is started)
        fields["carton_types"] = [
            {k: c.get(k) for k in ("code", "description", "tare_kg", "max_weight_kg")}
            for c in (self.carton_types or {}).values()
            if c.get("active", True)
        ]
        contents = job.get("contents", [])
        units = sum(c["qty_picked"] for c in contents)
        packed = sum(c["qty_packed"] for c in contents)
        title = f"Packing — {job['order']}" if job.get("order") else self.title
        return self.make_view(
            prompt,
            self.state,
            title=title,
            fields=fields,
            lines=[dict(c) for c in contents],
            progress=(packed, units),
        )

    def on_scan(self, scan: DecodedScan) -> Feedback:
        news = self.reconcile()
        if news is not None and news.tone is Tone.BAD:
            return news
        if self.state in (S.START, S.DONE):
            parsed = parse(scan, {ScanKind.TOTE})
            if isinstance(parsed, Feedback):
                return parsed
            return self.start(barcode=scan)
        return self._scan(scan)

    def on_input(self, name: str, value: Any) -> Feedback:
        news = self.reconcile()
        if news is not None and news.tone is Tone.BAD:
            return news
        if name == "order":
            return self.start(order=str(value or ""))
        if name == "qty":
            return self._qty(value)
        if name == "close_carton":
            return self._close_carton(value)
        return self.unknown_input(name)

    # == starting: the server's answer is the download ===========================================
    def start(self, *, barcode: DecodedScan | None = None, order: str = "") -> Feedback:
        if self.state == S.SCAN_ITEM:
            return bad(ErrorCode.TERMINAL_WRONG_STEP, state=self.state)
        blocked = self.can_start()
        if blocked is not None:
            return blocked
        body: dict[str, Any] = scan_body(barcode) if barcode is not None else {"order": order}
        if self.station:
            body["station"] = self.station
        try:
            envelope = self.work.send_now(f"{PREFIX}/start", body)
            self._adopt(envelope)
            if self.carton_types is None:
                found = self.work.get("/carton-types")["data"]["carton_types"]
                self.carton_types = {c["code"]: c for c in found}
        except EdgeError as exc:
            return refused(exc)
        self.sealed = []
        return good(text=f"Order {self.job['order']}: {self.job['units_left']} units to pack.")

    def _adopt(self, envelope: dict[str, Any]) -> None:
        state = str(envelope["next_state"])
        data = envelope["data"][state]
        self.state = state
        if state == S.SCAN_ITEM:
            self.job = data
            self.work.load_items({c["sku"] for c in data["contents"]})
            opened = data.get("open_carton") or {}
            self.open_units = sum(int(x["qty"]) for x in opened.get("contents", []))
        else:
            self.job = {**self.job, **data, "units_left": 0}
            self.open_units = 0

    def resync(self) -> None:
        if self.job.get("session_id"):
            self._adopt(self.work.get(f"{PREFIX}/sessions/{self.job['session_id']}"))

    def applied(self, tracked: Tracked, envelope: dict[str, Any]) -> None:
        state = envelope.get("next_state")
        data = (envelope.get("data") or {}).get(state) or {}
        if tracked.note.get("step") == "close-carton":
            cartons = data.get("cartons") or []
            sealed = data.get("sealed") or (cartons[-1] if cartons else None)
            if sealed:
                self.sealed.append(
                    {k: sealed.get(k) for k in ("carton_no", "sscc", "tracking", "carrier")}
                )

    # == the local checks (mirror edge_server/scenarios/packing.py) ==============================
    def _queue(self, step: str, body: dict[str, Any], scan: DecodedScan | None) -> None:
        command = self.work.enqueue(
            f"{PREFIX}/{step}",
            {"session_id": self.job["session_id"], **body},
            workflow=self.name,
            scanned_at=scan.scanned_at if scan else None,
        )
        self.track(command, self.state, step=step)

    def _scan(self, scan: DecodedScan) -> Feedback:
        parsed = parse(scan, {ScanKind.ITEM, ScanKind.ITEM_DATA, ScanKind.TOTE})
        if isinstance(parsed, Feedback):
            return parsed
        if parsed.kind is ScanKind.TOTE:
            totes = {t["tote"]: t for t in self.job.get("totes", [])}
            if parsed.value not in totes:
                return bad(
                    ErrorCode.PACK_TOTE_OTHER_ORDER,
                    tote=parsed.value,
                    order_totes=sorted(totes),
                    checked="handheld",
                )
            totes[parsed.value]["here"] = True
            self._queue("scan", scan_body(scan), scan)
            return good(ErrorCode.PACK_TOTE_ADDED, tote=parsed.value)
        gtin = parsed.gtin or parsed.content_gtin
        if gtin is None:
            return bad(ErrorCode.BARCODE_UNEXPECTED, found="item_data", expected=["item", "tote"])
        match = self.work.items.gtin(gtin)
        if match is None:
            try:
                if self.work.lookup_gtin(gtin) is None:
                    return bad(ErrorCode.UNKNOWN_ITEM, gtin=gtin)
            except Offline:
                pass  # not one of the order's items, whatever it is
            except EdgeError as exc:
                return refused(exc)
            return bad(
                ErrorCode.PACK_ITEM_NOT_IN_ORDER, gtin=gtin, session_id=self.job["session_id"]
            )
        item, units = match
        qty = (self.next_qty or parsed.count or 1) * units
        refusal = self._verify(item.sku, parsed.lot, qty)
        if refusal is not None:
            return refusal
        body = scan_body(scan)
        if self.next_qty:
            body["qty"] = self.next_qty
        self.next_qty = None
        self._queue("scan", body, scan)
        return good(ErrorCode.PACK_VERIFIED, sku=item.sku, qty=qty, left=self.job["units_left"])

    def _verify(self, sku: str, lot: str | None, qty: int) -> Feedback | None:
        refused_details: dict[str, Any] = {
            "session_id": self.job["session_id"],
            "sku": sku,
            "qty": qty,
        }
        rows = [c for c in self.job["contents"] if c["sku"] == sku]
        if lot is not None:
            refused_details["lot"] = lot
            lots = sorted({c["lot"] for c in rows})
            rows = [c for c in rows if c["lot"] == lot]
            if not rows and lots:
                return bad(ErrorCode.PACK_ITEM_NOT_IN_ORDER, **refused_details, picked_lots=lots)
        if not rows:
            return bad(ErrorCode.PACK_ITEM_NOT_IN_ORDER, **refused_details)
        left = [c for c in rows if c["qty_picked"] - c["qty_packed"] > 0]
        if lot is None and len({c["lot"] for c in left}) > 1:
            return bad(ErrorCode.LOT_REQUIRED, sku=sku, lots=sorted({c["lot"] for c in left}))
        total = sum(c["qty_picked"] - c["qty_packed"] for c in left)
        if qty > total:
            return bad(ErrorCode.PACK_OVER_SCANNED, **refused_details, left=total)
        need = qty
        for c in sorted(left, key=lambda c: (c["line_no"], c["lot"])):
            take = min(need, c["qty_picked"] - c["qty_packed"])
            c["qty_packed"] += take
            need -= take
        self.job["units_left"] -= qty
        self.open_units += qty
        return None

    def _qty(self, value: Any) -> Feedback:
        if self.state != S.SCAN_ITEM:
            return bad(ErrorCode.TERMINAL_WRONG_STEP, state=self.state)
        n = value if isinstance(value, int) and not isinstance(value, bool) else None
        if isinstance(value, str) and value.strip().isdigit():
            n = int(value)
        if n is None or not 0 < n <= MAX_UNITS:
            return bad(ErrorCode.QUANTITY_INVALID, qty=value)
        self.next_qty = n
        return info(text=f"Next scan counts {n}.", qty=n)

    def _close_carton(self, value: Any) -> Feedback:
        """`value`: `{"carton_type": "BOX-M", "weight_kg": 2.4, "printer": optional}`."""
        if self.state != S.SCAN_ITEM:
            return bad(ErrorCode.TERMINAL_WRONG_STEP, state=self.state)
        if not isinstance(value, dict) or not value.get("carton_type"):
            return bad(ErrorCode.VALIDATION_FAILED, fields={"carton_type": "and weight_kg"})
        try:
            weight = float(value.get("weight_kg"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return bad(ErrorCode.VALIDATION_FAILED, fields={"weight_kg": "a number of kg"})
        if not 0 < weight <= MAX_WEIGHT_KG:
            return bad(ErrorCode.VALIDATION_FAILED, fields={"weight_kg": f"0–{MAX_WEIGHT_KG:g}"})
        if self.open_units == 0:
            return bad(ErrorCode.PACK_CARTON_EMPTY, session_id=self.job["session_id"])
        code = str(value["carton_type"])
        if self.carton_types is not None:
            ctype = self.carton_types.get(code)
            if ctype is None or not ctype.get("active", True):
                return bad(ErrorCode.PACK_CARTON_TYPE_UNKNOWN, carton_type=code)
            low, high = float(ctype["tare_kg"]), float(ctype["max_weight_kg"])
            if not low < weight <= high:
                return bad(
                    ErrorCode.PACK_WEIGHT_OUT_OF_RANGE,
                    weight_kg=weight,
                    carton_type=code,
                    above_kg=low,
                    max_kg=high,
                )
        body: dict[str, Any] = {"carton_type": code, "weight_kg": weight}
        if value.get("printer"):
            body["printer"] = str(value["printer"])
        self.open_units = 0
        done = self.job["units_left"] == 0
        self.state = S.DONE.value if done else S.SCAN_ITEM.value
        self._queue("close-carton", body, None)
        if done:
            return Feedback(
                Tone.DONE, ErrorCode.PACK_ORDER_PACKED.value, good(ErrorCode.PACK_ORDER_PACKED).text
            )
        return good(ErrorCode.PACK_CARTON_SEALED, left=self.job["units_left"])
