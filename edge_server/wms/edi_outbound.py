"""What the site sends its 3PL clients by EDI (docs/edi.md): a 997 for every interchange taken,
a 945 when an order that came from a 940 ships.

Both are rows of `edi_outbound`, written inside the transaction that causes them (the
interchange record, the ship confirm), with our ISA13/GS06 from the `edi_counters` table. The
client fetches them over the API (`GET /client/edi/outbound`); when `edi_outbox_dir` is set the
EDI loop also copies each one to a file there, once (`write_pending`).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.edi import Transaction, wrap, write_interchange
from edge_server.edi.common import Party
from edge_server.edi.ts945 import ShippedLine, ShippingAdvice, write_945
from edge_server.errors import AislewayError
from edge_server.timeutil import iso, utcnow
from edge_server.wms.purchase_orders import Source, fetch_rows
from protocols.errors import ErrorCode

__all__ = [
    "advise_shipment",
    "get_outbound",
    "list_outbound",
    "mark_picked_up",
    "next_control_number",
    "record",
    "write_pending",
]

_MAX_CONTROL = 999_999_999


def next_control_number(w: SUDatabase, name: str = "interchange") -> int:
    """The next outgoing control number of counter `name` (1, 2, ... wrapping after 9 digits)."""
    row = w.execute("SELECT value FROM edi_counters WHERE name = ?", [name]).fetchone()
    value = 1 if row is None else int(row[0]) % _MAX_CONTROL + 1
    w.execute(
        "INSERT INTO edi_counters (name, value) VALUES (?, ?) "
        "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        [name, value],
    )
    return value


def record(
    w: SUDatabase,
    *,
    client_id: int,
    kind: str,
    transactions: list[Transaction],
    sender: tuple[str, str],
    receiver: tuple[str, str],
    reference: str,
    interchange_id: int | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Wrap `transactions` in an interchange from `sender` to `receiver` under our next control
    number and store it as an outbound document; returns its view (with the text)."""
    control = next_control_number(w)
    now = at or utcnow()
    text = write_interchange(
        wrap(transactions, sender=sender, receiver=receiver, control_number=control, at=now)
    )
    file_name = f"{kind}_{receiver[1].strip()}_{control:09d}.edi"
    cur = w.execute(
        "INSERT INTO edi_outbound (client_id, kind, control_number, reference, interchange_id, "
        "file_name, text, created_at) VALUES (?,?,?,?,?,?,?,?)",
        [client_id, kind, control, reference, interchange_id, file_name, text, iso(now)],
    )
    return get_outbound(w, int(cur.lastrowid or 0))


_SELECT = (
    "SELECT o.id, c.code AS client, o.kind, o.control_number, o.reference, o.interchange_id, "
    "o.file_name, o.text, o.created_at, o.written_at, o.picked_up_at "
    "FROM edi_outbound o JOIN clients c ON c.id = o.client_id"
)


def get_outbound(source: Source, outbound_id: int, *, client: str | None = None) -> dict[str, Any]:
    """One outbound document; EDI_OUTBOUND_NOT_FOUND when missing or (with `client`) not
    that client's."""
    rows = fetch_rows(source, f"{_SELECT} WHERE o.id = ?", [outbound_id])
    if not rows or (client is not None and rows[0]["client"] != client):
        raise AislewayError(ErrorCode.EDI_OUTBOUND_NOT_FOUND, details={"id": outbound_id})
    return dict(rows[0])


def list_outbound(
    source: Source,
    *,
    client: str | None = None,
    kind: str | None = None,
    pending: bool = False,
    after_id: int = 0,
    limit: int = 50,
) -> dict[str, Any]:
    """Outbound documents in id order after `after_id`; `pending`: not yet picked up."""
    where: list[str] = ["o.id > ?"]
    params: list[object] = [after_id]
    if client is not None:
        where.append("c.code = ?")
        params.append(client)
    if kind is not None:
        where.append("o.kind = ?")
        params.append(kind)
    if pending:
        where.append("o.picked_up_at IS NULL")
    rows = fetch_rows(
        source,
        f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY o.id LIMIT ?",
        [*params, limit + 1],
    )
    page = [dict(r) for r in rows[:limit]]
    return {"documents": page, "next_after": page[-1]["id"] if len(rows) > limit else None}


def mark_picked_up(w: SUDatabase, outbound_id: int, client: str) -> dict[str, Any]:
    """The client has the document (idempotent: the first pick-up time stays)."""
    get_outbound(w, outbound_id, client=client)
    w.execute(
        "UPDATE edi_outbound SET picked_up_at = COALESCE(picked_up_at, ?) WHERE id = ?",
        [iso(), outbound_id],
    )
    return get_outbound(w, outbound_id, client=client)


# -- the 945 ------------------------------------------------------------------------------------
def _edi_order(w: SUDatabase, site_id: int, number: str) -> dict[str, Any] | None:
    rows = fetch_rows(
        w,
        "SELECT e.*, c.edi_qualifier, c.edi_id, i.receiver_qualifier, i.receiver_id "
        "FROM edi_orders e JOIN clients c ON c.id = e.client_id "
        "JOIN edi_interchanges i ON i.id = e.interchange_id "
        "WHERE e.site_id = ? AND e.order_number = ?",
        [site_id, number],
    )
    return rows[0] if rows else None


def advise_shipment(
    w: SUDatabase, site_id: int, number: str, shipment: dict[str, Any]
) -> dict[str, Any] | None:
    """Inside the ship confirm's transaction: when order `number` came from a 940, record the
    945 for it (one LX per order line and carton, with the carton's SSCC and tracking) and
    return it; None for orders that did not come by EDI. `shipment` is the `shipment.created`
    payload."""
    source = _edi_order(w, site_id, number)
    if source is None or source["edi_id"] is None:
        return None
    named: dict[str, dict[str, str]] = json.loads(source["lines_json"])
    order_row = w.execute(
        "SELECT id, ship_to_json FROM fulfillment_orders WHERE site_id = ? AND number = ?",
        [site_id, number],
    ).fetchone()
    ordered = {
        r["line_no"]: int(r["qty_ordered"])
        for r in fetch_rows(
            w,
            "SELECT line_no, qty_ordered FROM fo_lines WHERE order_id = ? "
            "AND status != 'cancelled'",
            [order_row["id"]],
        )
    }
    # carton contents per order line: (sscc, tracking, lot, qty), in carton order
    per_line: dict[int, list[tuple[str, str, str, int]]] = {n: [] for n in ordered}
    for carton in fetch_rows(
        w,
        "SELECT c.sscc, c.tracking, fl.line_no, cl.lot, cl.qty FROM cartons c "
        "JOIN carton_lines cl ON cl.carton_id = c.id JOIN fo_lines fl ON fl.id = cl.order_line_id "
        "WHERE c.order_id = ? AND c.status = 'shipped' ORDER BY c.carton_no, cl.id",
        [order_row["id"]],
    ):
        per_line.setdefault(carton["line_no"], []).append(
            (
                carton["sscc"] or "",
                carton["tracking"] or "",
                carton["lot"] or "",
                int(carton["qty"]),
            )
        )
    lines: list[ShippedLine] = []
    for line_no in sorted(per_line):
        ident = named.get(str(line_no), {"qualifier": "VN", "id": ""})
        remaining = ordered.get(line_no, 0)
        parts = per_line[line_no] or [("", "", "", 0)]
        for n, (sscc, tracking, lot, qty) in enumerate(parts, start=1):
            # the order line's quantity is spread over its cartons; the last carries the rest,
            # so the W12 difference (short) shows once, where the line ends
            share = remaining if n == len(parts) else min(qty, remaining)
            remaining -= share
            lines.append(
                ShippedLine(
                    line_no,
                    ident["id"],
                    share,
                    qty,
                    uom="EA",
                    sku_qualifier=ident["qualifier"],
                    lot=lot,
                    sscc=sscc,
                    tracking=tracking,
                )
            )
    ship_to = json.loads(order_row["ship_to_json"])
    party = Party(
        "ST",
        ship_to.get("name", "")[:60],
        address_lines=tuple(ship_to.get("address_lines", [])[:2]),
        city=ship_to.get("city", ""),
        postal_code=ship_to.get("postal_code") or "",
        country=ship_to.get("country", ""),
    )
    shipped_at = shipment.get("shipped_at") or iso()
    shipment_no = w.execute(
        "SELECT MAX(s.id) FROM shipments s WHERE s.order_id = ?", [order_row["id"]]
    ).fetchone()[0]
    weight = sum(float(c.get("weight_kg") or 0) for c in shipment.get("cartons", []))
    advice = ShippingAdvice(
        number,
        datetime.fromisoformat(shipped_at).date(),
        f"SHP-{shipment_no or 0:06d}",
        po_number=source["po_number"],
        parties=[party],
        scac=source["scac"],
        routing=source["routing"] or str(shipment.get("carrier_service", "")),
        lines=lines,
        weight=f"{weight:.2f}" if weight else "",
        cartons=len(shipment.get("cartons", [])),
    )
    doc = record(
        w,
        client_id=int(source["client_id"]),
        kind="945",
        transactions=[write_945(advice, "0001")],
        sender=(source["receiver_qualifier"], source["receiver_id"]),
        receiver=(source["edi_qualifier"], source["edi_id"]),
        reference=number,
    )
    w.execute("UPDATE edi_orders SET advice_id = ? WHERE id = ?", [doc["id"], source["id"]])
    return doc


# -- the outbox folder --------------------------------------------------------------------------
def write_pending(db: Any, outbox_dir: str | os.PathLike[str]) -> list[str]:
    """Copy every outbound document not yet written to `outbox_dir` (temp name, then rename, so
    a partner's poller never sees half a file); returns the file names written."""
    target = Path(outbox_dir)
    target.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    for row in db.query(
        "SELECT id, file_name, text FROM edi_outbound WHERE written_at IS NULL ORDER BY id"
    ):
        temp = target / f".{row['file_name']}.part"
        temp.write_text(row["text"], encoding="utf-8")
        os.replace(temp, target / row["file_name"])
        with db.write() as w:
            w.execute("UPDATE edi_outbound SET written_at = ? WHERE id = ?", [iso(), row["id"]])
        written.append(row["file_name"])
    return written
