"""A receiving site for tests: the example layout, GS1 items, POs and ASNs written directly.

POs and ASNs are inserted as rows (m010 tables) so these tests do not depend on the PO/ASN
API; the items go through the real item validation.
"""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from edge_server.services import Services
from edge_server.timeutil import iso
from edge_server.wms.items import upsert_item, validate_item
from edge_server.wms.layout import read_layout
from edge_server.wms.layout_store import load_layout
from protocols.barcodes import GS, gs1_check_digit

from conftest import Caller

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
PREFIX = "/api/v1/scenarios/receiving"
_keys = itertools.count(1)


def gtin13(ref: str) -> str:
    """An EAN-13 under company prefix 0614141."""
    body = "0614141" + ref.zfill(5)
    return body + str(gs1_check_digit(body))


def case_gtin14(ref: str) -> str:
    """The case-level GTIN-14 (indicator 1) of the same item reference."""
    body = "1" + "0614141" + ref.zfill(5)
    return body + str(gs1_check_digit(body))


def sscc(serial: int) -> str:
    body = "3" + "0614141" + f"{serial:09d}"
    return body + str(gs1_check_digit(body))


def yymmdd(d: date) -> str:
    return d.strftime("%y%m%d")


FUTURE = date.today() + timedelta(days=200)
PAST = date(2021, 1, 31)

ITEMS = {
    "SOAP-1": {"ref": "1", "case_qty": 12},
    "MILK-1": {"ref": "2", "lot_tracked": True, "expiry_tracked": True},
    "TEA-1": {"ref": "3", "lot_tracked": True},
    "ODD-1": {"ref": "4"},
}


def gs1_128(
    sku: str, *, lot: str | None = None, expiry: date | None = None, count: int | None = None
) -> str:
    text = "]C1" + "01" + gtin13(ITEMS[sku]["ref"]).zfill(14)
    if expiry is not None:
        text += "17" + yymmdd(expiry)
    if lot is not None:
        text += "10" + lot + (GS if count is not None else "")
    if count is not None:
        text += "37" + str(count)
    return text


def setup_site(services: Services) -> None:
    load_layout(services.db, read_layout(EXAMPLES / "layout-single-block.json"), site="CHI")
    with services.db.write() as w:
        for sku, spec in ITEMS.items():
            data: dict[str, Any] = {
                "sku": sku,
                "description": f"Item {sku}",
                "gtin": gtin13(spec["ref"]),
                "lot_tracked": spec.get("lot_tracked", False),
                "expiry_tracked": spec.get("expiry_tracked", False),
            }
            if spec.get("case_qty"):
                data |= {"case_qty": spec["case_qty"], "case_gtin": case_gtin14(spec["ref"])}
            item, _ = validate_item(data)
            upsert_item(w, item)


def make_po(
    services: Services,
    number: str,
    lines: list[tuple[str, int] | tuple[str, int, list[str]]],
    *,
    blind: bool | None = None,
) -> int:
    """A PO with lines (sku, qty_expected in eaches[, expected lots])."""
    with services.db.write() as w:
        site_id = w.execute("SELECT id FROM sites WHERE code = 'CHI'").fetchone()[0]
        po_id = w.execute(
            "INSERT INTO purchase_orders (site_id, number, supplier, blind, created_at, "
            "updated_at) VALUES (?,?,?,?,?,?)",
            [site_id, number, "ACME", None if blind is None else int(blind), iso(), iso()],
        ).lastrowid
        for n, line in enumerate(lines, start=1):
            sku, qty = line[0], line[1]
            lots = line[2] if len(line) > 2 else []  # type: ignore[misc]
            item_id = w.execute("SELECT id FROM items WHERE sku = ?", [sku]).fetchone()[0]
            w.execute(
                "INSERT INTO po_lines (po_id, line_no, item_id, qty_ordered, qty_expected, "
                "expected_lots_json) VALUES (?,?,?,?,?,?)",
                [po_id, n, item_id, qty, qty, json.dumps(lots)],
            )
    return int(po_id or 0)


def make_asn(
    services: Services,
    number: str,
    po_id: int,
    lines: list[tuple[str, int, str, date | None, str]],
) -> int:
    """An ASN for a PO with lines (sku, qty, lot, expiry, sscc)."""
    with services.db.write() as w:
        site_id = w.execute("SELECT id FROM sites WHERE code = 'CHI'").fetchone()[0]
        asn_id = w.execute(
            "INSERT INTO asns (site_id, number, po_id, created_at, updated_at) VALUES (?,?,?,?,?)",
            [site_id, number, po_id, iso(), iso()],
        ).lastrowid
        for n, (sku, qty, lot, expiry, code) in enumerate(lines, start=1):
            item_id = w.execute("SELECT id FROM items WHERE sku = ?", [sku]).fetchone()[0]
            po_line = w.execute(
                "SELECT id FROM po_lines WHERE po_id = ? AND item_id = ?", [po_id, item_id]
            ).fetchone()
            w.execute(
                "INSERT INTO asn_lines (asn_id, line_no, po_line_id, item_id, qty, lot, expiry, "
                "sscc) VALUES (?,?,?,?,?,?,?,?)",
                [
                    asn_id,
                    n,
                    po_line[0] if po_line else None,
                    item_id,
                    qty,
                    lot,
                    expiry.isoformat() if expiry else None,
                    code,
                ],
            )
    return int(asn_id or 0)


class Handheld:
    """A receiver's handheld talking to the edge server; records every answer."""

    def __init__(self, http: httpx.Client | Any, who: Caller) -> None:
        self.http = http
        self.who = who
        self.session_id: int | None = None
        self.answers: list[tuple[str, dict[str, Any]]] = []

    def post(self, step: str, body: dict[str, Any] | None = None, *, key: str | None = None) -> Any:
        body = dict(body or {})
        if step not in ("start",) and "session_id" not in body and self.session_id:
            body["session_id"] = self.session_id
        headers = {**self.who.headers, "Idempotency-Key": key or f"rcv-{next(_keys)}"}
        resp = self.http.post(f"{PREFIX}/{step}", json=body, headers=headers)
        if resp.status_code == 200:
            self.answers.append((step, resp.json()))
        return resp

    def step(
        self, step: str, body: dict[str, Any] | None = None, *, key: str | None = None
    ) -> dict[str, Any]:
        """A step that must succeed: returns the envelope."""
        resp = self.post(step, body, key=key)
        assert resp.status_code == 200, resp.text
        envelope: dict[str, Any] = resp.json()
        state = envelope["next_state"]
        assert set(envelope["data"]) == {state}, envelope
        if step == "start":
            self.session_id = envelope["data"][state].get("session_id")
        return envelope


def stock(services: Services, **where: str) -> dict[tuple[str, str, str, str], int]:
    """{(sku, lot, lpn, status): qty} in the dock (or as filtered)."""
    clauses = " AND ".join(f"{k} = ?" for k in where) or "1"
    rows = services.db.query(
        "SELECT i.sku, st.lot, st.lpn, st.status, st.qty, l.code AS location FROM stock st "
        "JOIN items i ON i.id = st.item_id JOIN locations l ON l.id = st.location_id "
        f"WHERE {clauses}",
        list(where.values()),
    )
    return {(r["sku"], r["lot"], r["lpn"], r["status"]): r["qty"] for r in rows}


def counts(services: Services) -> dict[str, int]:
    """Rows in the tables a refused scan must not touch."""
    return {
        t: services.db.query_one(f"SELECT COUNT(*) AS n FROM {t}")["n"]  # type: ignore[index]
        for t in ("movements", "stock", "receipt_lines", "receiving_discrepancies", "outbox")
    }


def events(services: Services, prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
    rows = services.db.query(
        "SELECT type, payload_json FROM outbox WHERE type LIKE ? ORDER BY id", [prefix + "%"]
    )
    return [(r["type"], json.loads(r["payload_json"])) for r in rows]
