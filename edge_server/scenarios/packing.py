"""The packing scenario: a packer verifies an order's picked goods into cartons and seals them.

Flow (docs/scenarios/packing.md): scan a tote (or type the order number) → the order's picked
contents and the totes still to bring → scan each item (GTIN, GS1 with lot and count) into the
open carton → seal the carton with its type and weight: SSCC, stock moved from the totes onto
the SSCC at the station, shipping label from the carrier adapter (tracking), printed when a
printer is named → … → everything picked is in sealed cartons: the order is `packed`.

Every endpoint runs inside the caller's idempotent write transaction (`Mutation.run`). A
scan of an item that is not in the order, or of more than was picked, is refused and changes
nothing; the route records it as a caught mis-scan in its own transaction afterwards
(`record_refused_scan`), so pick accuracy sees it.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.access.policy import MANAGERS
from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.integration.outbox import emit
from edge_server.labels.packing_slip import ship_from_lines
from edge_server.labels.printers import enqueue_job, printer_row
from edge_server.scenarios.base import ScenarioService, endpoint
from edge_server.shipping.carriers import LabelRequest, adapter_for
from edge_server.timeutil import iso
from edge_server.wms import inventory, labor
from edge_server.wms.items import find_by_gtin
from edge_server.wms.ledger import Actor
from edge_server.wms.outbound import packing as pk
from edge_server.wms.outbound.allocation import FO_CHANGED
from edge_server.wms.purchase_orders import Source, fetch_rows, site_id
from protocols.barcodes import BarcodeError, ScanKind, parse_scan
from protocols.errors import ErrorCode
from protocols.inventory import MoveIn
from protocols.packing import CloseCartonIn, PackScanIn, PackStartIn
from protocols.packing import PackingState as S

__all__ = ["MIS_SCANS", "PackingScenario", "record_refused_scan"]

Row = dict[str, Any]
#: Refusals that count as a mis-scan caught at packing (pack_events kind by code).
MIS_SCANS = {
    ErrorCode.PACK_ITEM_NOT_IN_ORDER: "not_in_order",
    ErrorCode.PACK_OVER_SCANNED: "over_scanned",
}


def record_refused_scan(
    db: Database, site: str, exc: AislewayError, *, actor: Actor, idem: str
) -> None:
    """After a refused scan rolled back: keep it as a caught mis-scan (once per command)."""
    kind = MIS_SCANS.get(exc.code)
    if kind is None:
        return
    d = exc.details
    with db.write() as w:
        sid = site_id(w, site)
        pk.record_pack_event(
            w,
            site_id=sid,
            kind=kind,
            session_id=d.get("session_id"),
            order_id=d.get("order_id"),
            sku=str(d.get("sku") or ""),
            lot=str(d.get("lot") or ""),
            qty=int(d.get("qty") or 0),
            detail={k: v for k, v in d.items() if k not in ("session_id", "order_id")},
            user_id=actor.user_id,
            device_id=actor.device_id,
            idem=idem,
        )


class PackingScenario(ScenarioService):
    name = "packing"
    states = tuple(s.value for s in S)
    initial = S.START.value
    final = (S.DONE.value,)

    # == endpoints ===============================================================================
    @endpoint(from_=[S.START], to=[S.SCAN_ITEM])
    def start(self, w: SUDatabase, body: PackStartIn) -> dict[str, Any]:
        """Open (or resume) the packing of an order, found by a tote or its number."""
        sid = site_id(w, self.site)
        tote: str | None = None
        if body.barcode:
            tote = parse_scan(body.barcode, symbology=body.symbology, expect={ScanKind.TOTE}).value
            order_id = pk.order_for_tote(w, sid, tote)
            if order_id is None:
                raise AislewayError(ErrorCode.PACK_TOTE_UNKNOWN, details={"tote": tote})
            order = pk.order_by_id(w, order_id)
        elif body.order:
            found = pk.order_by_number(w, sid, body.order)
            if found is None:
                raise AislewayError(ErrorCode.FO_NOT_FOUND, details={"number": body.order})
            order = found
        else:
            raise AislewayError(
                ErrorCode.VALIDATION_FAILED,
                text="Scan a tote, or type the order number.",
                details={"fields": {"barcode": "or order"}},
            )
        self._check_ready(w, order)
        self._labor(w, order["id"], "arrive")
        rows = pk.remaining(w, order["id"])
        if tote is not None and not any(r.tote == tote for r in rows):
            tote = None  # bound to the order but nothing picked into it (all short)
        session = self._open_session_for(w, order["id"])
        if session is not None:
            if tote is not None:
                self._add_tote(w, session, tote)
            return self._response_for_scan_item(w, self._load(w, session["id"]))
        station = self._station(w, sid, body.station, rows, tote)
        cur = w.execute(
            "INSERT INTO pack_sessions (site_id, order_id, station_location_id, state, "
            "totes_json, user_id, device_id, started_at) VALUES (?,?,?,?,?,?,?,?)",
            [
                sid,
                order["id"],
                station,
                S.SCAN_ITEM.value,
                json.dumps([tote] if tote else []),
                self.user_id,
                self.actor.device_id,
                iso(),
            ],
        )
        return self._response_for_scan_item(w, self._load(w, int(cur.lastrowid or 0)))

    @endpoint(from_=[S.SCAN_ITEM], to=[S.SCAN_ITEM])
    def scan(self, w: SUDatabase, body: PackScanIn) -> dict[str, Any]:
        """An item into the open carton (verified against what was picked), or another tote
        of the order arriving at the station."""
        sess = self._load(w, body.session_id)
        scan = parse_scan(
            body.barcode,
            symbology=body.symbology,
            gs_substitute=body.gs_substitute,
            expect={ScanKind.ITEM, ScanKind.ITEM_DATA, ScanKind.TOTE},
        )
        if scan.kind is ScanKind.TOTE:
            rows = pk.remaining(w, sess["order_id"])
            if not any(r.tote == scan.value for r in rows):
                other = pk.order_for_tote(w, sess["site_id"], scan.value)
                if other is not None:
                    raise AislewayError(
                        ErrorCode.PACK_TOTE_OTHER_ORDER,
                        details={
                            "tote": scan.value,
                            "order": pk.order_by_id(w, other)["number"],
                        },
                    )
                raise AislewayError(ErrorCode.PACK_TOTE_UNKNOWN, details={"tote": scan.value})
            self._labor(w, sess["order_id"], "arrive")
            self._add_tote(w, sess, scan.value)
            return self._response_for_scan_item(
                w, self._load(w, sess["id"]), message=ErrorCode.PACK_TOTE_ADDED
            )
        gtin = scan.gtin or scan.content_gtin
        if gtin is None:
            raise BarcodeError(
                ErrorCode.BARCODE_UNEXPECTED, {"found": "item_data", "expected": ["item", "tote"]}
            )
        match = find_by_gtin(w, gtin)
        if match is None:
            raise AislewayError(ErrorCode.UNKNOWN_ITEM, details={"gtin": gtin})
        qty = (body.qty or scan.count or 1) * match.qty
        verified = self._verify(w, sess, match.item.id, match.item.sku, scan.lot, qty)
        self._labor(w, sess["order_id"], "handle", units=qty)
        return self._response_for_scan_item(
            w, self._load(w, sess["id"]), message=ErrorCode.PACK_VERIFIED, verified=verified
        )

    @endpoint(from_=[S.SCAN_ITEM], to=[S.SCAN_ITEM, S.DONE])
    def close_carton(self, w: SUDatabase, body: CloseCartonIn) -> dict[str, Any]:
        """Seal the open carton: type, weight, SSCC, stock onto the SSCC, label and tracking;
        the last carton packs the order."""
        sess = self._load(w, body.session_id)
        order = pk.order_by_id(w, sess["order_id"])
        carton = self._open_carton(w, sess)
        contents = (
            fetch_rows(w, "SELECT * FROM carton_lines WHERE carton_id = ?", [carton["id"]])
            if carton
            else []
        )
        if carton is None or not contents:
            raise AislewayError(ErrorCode.PACK_CARTON_EMPTY, details={"session_id": sess["id"]})
        ctype = pk.carton_type(w, sess["site_id"], body.carton_type)
        low, high = float(ctype["tare_kg"]), float(ctype["max_weight_kg"])
        if not low < body.weight_kg <= high:
            raise AislewayError(
                ErrorCode.PACK_WEIGHT_OUT_OF_RANGE,
                details={
                    "weight_kg": body.weight_kg,
                    "carton_type": body.carton_type,
                    "above_kg": low,
                    "max_kg": high,
                },
            )
        if body.printer:
            printer_row(w, self.site, body.printer)  # PRINTER_UNKNOWN before anything moves
        sscc = pk.next_sscc(w, sess["site_id"], self.settings.gs1_company_prefix)
        station = self._code(w, sess["station_location_id"])
        for line in contents:
            sku = fetch_rows(w, "SELECT sku FROM items WHERE id = ?", [line["item_id"]])[0]["sku"]
            inventory.move(
                w,
                self.site,
                MoveIn(
                    from_location=self._code(w, line["from_location_id"]),
                    to_location=station,
                    sku=sku,
                    qty=line["qty"],
                    lot=line["lot"],
                    lpn=line["tote"],
                    to_lpn=sscc,
                    ref=order["number"],
                ),
                self.actor,
            )
        service = order["carrier_service"]
        label = adapter_for(w, self.site, service).label(
            w,
            LabelRequest(
                site=self.site,
                order_number=order["number"],
                service=service,
                ship_to=json.loads(order["ship_to_json"]),
                sscc=sscc,
                weight_kg=body.weight_kg,
                carton_no=carton["carton_no"],
                carton_count=None,
                ship_from=ship_from_lines(w, order["owner"]),  # a client's: its branding
            ),
        )
        job_id = (
            enqueue_job(w, self.site, body.printer, label="shipping", ref=sscc, zpl=label.zpl)
            if body.printer
            else None
        )
        now = iso()
        w.execute(
            "UPDATE cartons SET status = 'sealed', carton_type = ?, weight_kg = ?, sscc = ?, "
            "location_id = ?, carrier_service = ?, carrier = ?, tracking = ?, price = ?, "
            "currency = ?, label_zpl = ?, print_job_id = ?, sealed_at = ?, sealed_by = ? "
            "WHERE id = ?",
            [
                body.carton_type,
                body.weight_kg,
                sscc,
                sess["station_location_id"],
                service,
                label.quote.carrier,
                label.tracking,
                str(label.quote.price),
                label.quote.currency,
                label.zpl,
                job_id,
                now,
                self.user_id,
                carton["id"],
            ],
        )
        pk.record_pack_event(
            w,
            site_id=sess["site_id"],
            kind="sealed",
            session_id=sess["id"],
            order_id=order["id"],
            qty=sum(line["qty"] for line in contents),
            detail={"sscc": sscc, "tracking": label.tracking, "carton_no": carton["carton_no"]},
            user_id=self.user_id,
            device_id=self.actor.device_id,
        )
        self._labor(w, order["id"], "handle")
        sealed = self._carton_view(
            w, next(c for c in pk.cartons(w, order["id"]) if c["id"] == carton["id"])
        )
        if any(r.left > 0 for r in pk.remaining(w, order["id"])):
            return self._response_for_scan_item(
                w, self._load(w, sess["id"]), message=ErrorCode.PACK_CARTON_SEALED, sealed=sealed
            )
        w.execute(
            "UPDATE fulfillment_orders SET status = 'packed', updated_at = ? WHERE id = ?",
            [now, order["id"]],
        )
        w.execute(
            "UPDATE pack_sessions SET status = 'done', state = ?, finished_at = ? WHERE id = ?",
            [S.DONE.value, now, sess["id"]],
        )
        labor.finish_all(w, task_type="pack", task_ref=f"pack-{order['number']}")
        emit(
            w,
            FO_CHANGED,
            {"site": self.site, "number": order["number"], "status": "packed", "outcome": "packed"},
        )
        return self._response_for_done(w, self._load(w, sess["id"], open_only=False))

    @endpoint(from_=S, to=S, in_diagram=False)
    def state(self, db: Database, session_id: int) -> dict[str, Any]:
        """Where a session is: the same answer its last endpoint gave (resume after restart)."""
        sess = self._load(db, session_id, open_only=False)
        if sess["state"] == S.DONE:
            return self._response_for_done(db, sess)
        return self._response_for_scan_item(db, sess)

    # == rules ====================================================================================
    def _check_ready(self, w: Source, order: Row) -> None:
        details: dict[str, Any] = {"number": order["number"], "status": order["status"]}
        if order["status"] in ("packed", "shipped", "cancelled"):
            raise AislewayError(ErrorCode.PACK_ORDER_CLOSED, details=details)
        missing = pk.missing_picks(w, order["id"])
        if order["status"] != "picking" or missing["open_picks"] or missing["allocated"]:
            raise AislewayError(ErrorCode.PACK_ORDER_NOT_READY, details=details | missing)
        if not any(r.left > 0 for r in pk.remaining(w, order["id"])) and not self._open_lines(
            w, order["id"]
        ):
            raise AislewayError(
                ErrorCode.PACK_ORDER_NOT_READY, details=details | {"picked": 0} | missing
            )

    def _verify(
        self, w: SUDatabase, sess: Row, item_id: int, sku: str, lot: str | None, qty: int
    ) -> list[Row]:
        """Put `qty` of the item (and lot) into the open carton, taken from the order's totes
        (those at the station first); PACK_ITEM_NOT_IN_ORDER / PACK_OVER_SCANNED otherwise."""
        refused = {"session_id": sess["id"], "order_id": sess["order_id"], "sku": sku, "qty": qty}
        rows = [r for r in pk.remaining(w, sess["order_id"]) if r.item_id == item_id]
        if lot is not None:
            refused["lot"] = lot
            lots = sorted({r.lot for r in rows})
            rows = [r for r in rows if r.lot == lot]
            if not rows and lots:
                raise AislewayError(
                    ErrorCode.PACK_ITEM_NOT_IN_ORDER, details=refused | {"picked_lots": lots}
                )
        if not rows:
            raise AislewayError(ErrorCode.PACK_ITEM_NOT_IN_ORDER, details=refused)
        left = [r for r in rows if r.left > 0]
        if lot is None and len({r.lot for r in left}) > 1:
            raise AislewayError(
                ErrorCode.LOT_REQUIRED, details={"sku": sku, "lots": sorted({r.lot for r in left})}
            )
        total = sum(r.left for r in left)
        if qty > total:
            raise AislewayError(ErrorCode.PACK_OVER_SCANNED, details=refused | {"left": total})
        present = json.loads(sess["totes_json"])
        left.sort(key=lambda r: (r.tote not in present, r.line_no, r.tote))
        carton = self._open_carton(w, sess) or self._new_carton(w, sess)
        need, out = qty, list[Row]()
        for r in left:
            take = min(need, r.left)
            if take <= 0:
                break
            w.execute(
                "INSERT INTO carton_lines (carton_id, order_line_id, item_id, lot, tote, "
                "from_location_id, qty) VALUES (?,?,?,?,?,?,?) "
                "ON CONFLICT (carton_id, order_line_id, item_id, lot, tote, from_location_id) "
                "DO UPDATE SET qty = qty + excluded.qty",
                [carton["id"], r.order_line_id, item_id, r.lot, r.tote, r.location_id, take],
            )
            out.append(
                {"line_no": r.line_no, "sku": sku, "lot": r.lot, "tote": r.tote, "qty": take}
            )
            need -= take
        for v in out:  # goods scanned out of a tote: that tote is at the station
            self._add_tote(w, self._load(w, sess["id"]), str(v["tote"]))
        pk.record_pack_event(
            w,
            site_id=sess["site_id"],
            kind="verified",
            session_id=sess["id"],
            order_id=sess["order_id"],
            sku=sku,
            lot=lot or "",
            qty=qty,
            user_id=self.user_id,
            device_id=self.actor.device_id,
        )
        return out

    # == labor (docs/labor.md) ====================================================================
    def _labor(self, w: SUDatabase, order_id: int, step: labor.Step, *, units: int = 0) -> None:
        labor.record(
            w,
            self.settings,
            task_type="pack",
            task_ref=f"pack-{pk.order_by_id(w, order_id)['number']}",
            actor=self.actor,
            step=step,
            units=units,
        )

    # == sessions and cartons =====================================================================
    def _open_session_for(self, w: SUDatabase, order_id: int) -> Row | None:
        found = fetch_rows(
            w,
            "SELECT * FROM pack_sessions WHERE order_id = ? AND status = 'open' "
            "ORDER BY id DESC LIMIT 1",
            [order_id],
        )
        if not found:
            return None
        self._check_owner(found[0])
        return found[0]

    def _station(
        self, w: SUDatabase, sid: int, code: str | None, rows: list[pk.Remaining], tote: str | None
    ) -> int:
        if code is not None:
            found = fetch_rows(
                w,
                "SELECT id, type FROM locations WHERE site_id = ? AND code = ? AND active = 1",
                [sid, code],
            )
            if not found or found[0]["type"] != "packing":
                raise AislewayError(ErrorCode.PACK_STATION_INVALID, details={"station": code})
            return int(found[0]["id"])
        mine = [r for r in rows if r.tote == tote] or rows
        return mine[0].location_id

    def _add_tote(self, w: SUDatabase, sess: Row, tote: str) -> None:
        totes = json.loads(sess["totes_json"])
        if tote not in totes:
            totes.append(tote)
            w.execute(
                "UPDATE pack_sessions SET totes_json = ? WHERE id = ?",
                [json.dumps(totes), sess["id"]],
            )

    @staticmethod
    def _open_carton(w: Source, sess: Row) -> Row | None:
        found = fetch_rows(
            w,
            "SELECT * FROM cartons WHERE order_id = ? AND status = 'open' ORDER BY id LIMIT 1",
            [sess["order_id"]],
        )
        return found[0] if found else None

    @staticmethod
    def _open_lines(w: Source, order_id: int) -> int:
        row = fetch_rows(
            w,
            "SELECT COUNT(*) AS n FROM carton_lines cl JOIN cartons c ON c.id = cl.carton_id "
            "WHERE c.order_id = ? AND c.status = 'open'",
            [order_id],
        )
        return int(row[0]["n"])

    @staticmethod
    def _new_carton(w: SUDatabase, sess: Row) -> Row:
        number = fetch_rows(
            w,
            "SELECT COALESCE(MAX(carton_no), 0) + 1 AS n FROM cartons WHERE order_id = ?",
            [sess["order_id"]],
        )[0]["n"]
        cur = w.execute(
            "INSERT INTO cartons (site_id, order_id, session_id, carton_no, created_at) "
            "VALUES (?,?,?,?,?)",
            [sess["site_id"], sess["order_id"], sess["id"], number, iso()],
        )
        return fetch_rows(w, "SELECT * FROM cartons WHERE id = ?", [cur.lastrowid])[0]

    @staticmethod
    def _code(w: Source, location_id: int) -> str:
        return str(
            fetch_rows(w, "SELECT code FROM locations WHERE id = ?", [location_id])[0]["code"]
        )

    def _load(self, w: Source, session_id: int, *, open_only: bool = True) -> Row:
        found = fetch_rows(w, "SELECT * FROM pack_sessions WHERE id = ?", [session_id])
        if not found:
            raise AislewayError(ErrorCode.PACK_SESSION_UNKNOWN, details={"session_id": session_id})
        sess = found[0]
        self._check_owner(sess)
        if open_only and sess["status"] != "open":
            raise AislewayError(ErrorCode.PACK_SESSION_CLOSED, details={"session_id": session_id})
        return sess

    def _check_owner(self, sess: Row) -> None:
        if self.role in MANAGERS or sess["user_id"] == self.user_id:
            return
        raise AislewayError(ErrorCode.PACK_SESSION_OTHER_USER, details={"session_id": sess["id"]})

    # == views and response builders =============================================================
    @staticmethod
    def _carton_view(w: Source, carton: Row) -> Row:
        return {
            "carton_no": carton["carton_no"],
            "status": carton["status"],
            "sscc": carton["sscc"],
            "carton_type": carton["carton_type"],
            "weight_kg": carton["weight_kg"],
            "tracking": carton["tracking"],
            "carrier": carton["carrier"],
            "print_job_id": carton["print_job_id"],
            "contents": pk.carton_lines(w, carton["id"]),
        }

    def _session_view(self, w: Source, sess: Row) -> Row:
        order = pk.order_by_id(w, sess["order_id"])
        rows = pk.remaining(w, sess["order_id"])
        present = json.loads(sess["totes_json"])
        contents: dict[tuple[int, str], Row] = {}
        for r in rows:
            view = contents.setdefault(
                (r.line_no, r.lot),
                {
                    "line_no": r.line_no,
                    "sku": r.sku,
                    "description": r.description,
                    "lot": r.lot,
                    "qty_picked": 0,
                    "qty_packed": 0,
                },
            )
            view["qty_picked"] += r.picked
            view["qty_packed"] += r.packed
        totes = pk.tote_view(rows, present)
        cartons = [self._carton_view(w, c) for c in pk.cartons(w, sess["order_id"])]
        return {
            "session_id": sess["id"],
            "order": order["number"],
            "carrier_service": order["carrier_service"],
            "station": self._code(w, sess["station_location_id"]),
            "contents": sorted(contents.values(), key=lambda v: (v["line_no"], v["lot"])),
            "totes": totes,
            "totes_to_bring": [t["tote"] for t in totes if not t["here"] and t["units_left"]],
            "units_left": sum(r.left for r in rows),
            "open_carton": next((c for c in cartons if c["status"] == "open"), None),
            "cartons": [c for c in cartons if c["status"] != "open"],
        }

    def _response_for_scan_item(
        self,
        w: Source,
        sess: Row,
        *,
        message: ErrorCode | None = None,
        verified: list[Row] | None = None,
        sealed: Row | None = None,
    ) -> dict[str, Any]:
        data = self._session_view(w, sess) | {"verified": verified or [], "sealed": sealed}
        return self.envelope(S.SCAN_ITEM, data, message)

    def _response_for_done(self, w: Source, sess: Row) -> dict[str, Any]:
        order = pk.order_by_id(w, sess["order_id"])
        cartons = [self._carton_view(w, c) for c in pk.cartons(w, sess["order_id"])]
        data = {
            "session_id": sess["id"],
            "order": order["number"],
            "status": order["status"],
            "cartons": cartons,
            "units": sum(line["qty"] for c in cartons for line in c["contents"]),
        }
        return self.envelope(S.DONE, data, ErrorCode.PACK_ORDER_PACKED)
