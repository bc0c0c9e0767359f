"""Returns (RMAs) on the OMS side: issue an RMA with a prepaid return label against what one
fulfillment order shipped, tell that site to expect it, follow the site's `return.received`
postings and refund on `return.closed` (docs/oms-returns.md).

1. `create_return(w, number, body)` (the caller's write transaction): checks the lines against
   what was shipped (less what earlier RMAs of the order already cover), picks the
   fulfillment order (FO) they came from, stores the RMA `pending` and records
   `order.return_requested`. Any refusal changes nothing.
2. `send_return(oms, rma)` (no transaction during HTTP): `PUT /returns/{rma}` on the FO's
   site with `Idempotency-Key: oms-rma-{rma}`. An unreachable site leaves it `pending`,
   retried by the site loop (`send_due_returns`) with a growing wait, as a release is; a
   refusal (4xx) makes it `refused`.
3. `on_return_event` (from site_events.take_event, in the event's transaction):
   `return.received` adds the posting to the RMA line and queues the `return_received`
   e-mail; `return.closed` takes the site's final quantities, computes the refund (every unit
   received, sellable or not, at its order line's unit price), records
   `order.refund_issued` (amount, currency, RMA) and queues the `refund` e-mail.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlite_utils import Database as SUDatabase

from edge_server.errors import AislewayError
from edge_server.oms import orders
from edge_server.oms.customer_emails import email_refund, email_return_received, email_shipment
from edge_server.oms.services import OmsServices
from edge_server.oms.site_client import SiteClient, SiteRefused, SiteUnreachable
from edge_server.oms.site_events import _order_header, journey_add
from edge_server.oms.sites import Site, get_site
from edge_server.timeutil import iso, utcnow
from edge_server.wms.purchase_orders import Source, fetch_rows
from protocols.errors import ErrorCode
from protocols.status import OmsStatus, rank

__all__ = [
    "ReturnIn",
    "ReturnLineIn",
    "create_return",
    "get_return",
    "on_return_event",
    "on_shipment",
    "order_returns",
    "send_due_returns",
    "send_return",
]

log = logging.getLogger(__name__)

Reason = Literal["damaged", "wrong_item", "not_wanted", "defective"]


class ReturnLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=64)
    qty: int = Field(ge=1, le=10_000_000)
    reason: Reason


class ReturnIn(BaseModel):
    """`POST /orders/{number}/returns`."""

    model_config = ConfigDict(extra="forbid")

    lines: list[ReturnLineIn] = Field(min_length=1, max_length=500)
    fulfillment_order: str | None = Field(
        default=None,
        max_length=64,
        description="The shipment (fulfillment order) the goods came from; default: the "
        "first of the order's shipped ones that holds every line.",
    )

    @model_validator(mode="after")
    def _one_line_per_sku(self) -> ReturnIn:
        skus = [ln.sku for ln in self.lines]
        if len(set(skus)) != len(skus):
            raise ValueError("name each SKU once")
        return self


# -- what may be returned -------------------------------------------------------------------
def _shipped(w: Source, fo: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """FO `fo`'s shipped quantity per order line: what `shipment.created` said, else (an
    event without lines) what the FO asked for once it counts as shipped."""
    rows = fetch_rows(
        w, "SELECT line_no, sku, qty FROM shipped_lines WHERE fulfillment_id = ?", [fo["id"]]
    )
    if rows:
        return {r["line_no"]: {"sku": r["sku"], "qty": r["qty"]} for r in rows}
    if fo["status"] == OmsStatus.CANCELLED.value or rank(OmsStatus(fo["status"])) < rank(
        OmsStatus.SHIPPED
    ):
        return {}
    return {
        ln["line_no"]: {"sku": ln["sku"], "qty": ln["qty"]} for ln in json.loads(fo["lines_json"])
    }


def _returnable(w: Source, fo: dict[str, Any]) -> dict[int, dict[str, Any]]:
    left = _shipped(w, fo)
    for r in fetch_rows(
        w,
        "SELECT l.order_line_no, SUM(l.qty) AS qty FROM return_lines l "
        "JOIN returns r ON r.id = l.return_id WHERE r.fulfillment_id = ? "
        "AND r.status != 'cancelled' GROUP BY l.order_line_no",
        [fo["id"]],
    ):
        if r["order_line_no"] in left:
            left[r["order_line_no"]]["qty"] -= r["qty"]
    return {n: v for n, v in left.items() if v["qty"] > 0}


def _fit(left: dict[int, dict[str, Any]], body: ReturnIn) -> list[dict[str, Any]] | None:
    """The RMA lines (`order_line_no`, sku, qty, reason) taking `body` from the order lines
    in `left`, or None when they do not hold it."""
    out = []
    for want in body.lines:
        need = want.qty
        for line_no in sorted(left):
            if left[line_no]["sku"] != want.sku or need == 0:
                continue
            take = min(need, left[line_no]["qty"])
            out.append(
                {"order_line_no": line_no, "sku": want.sku, "qty": take, "reason": want.reason}
            )
            need -= take
        if need:
            return None
    return out


def _rma_number(w: SUDatabase) -> str:
    """`<year>-<6 digits>`: the ref of an `RMA-…` label (docs/barcodes.md)."""
    n = int(fetch_rows(w, "SELECT COALESCE(MAX(id), 0) + 1 AS n FROM returns")[0]["n"])
    return f"{utcnow().year}-{n:06d}"


# -- 1. issuing ---------------------------------------------------------------------------
def create_return(w: SUDatabase, number: str, body: ReturnIn) -> str:
    """Issue an RMA for order `number` (see the module docstring); returns its number.
    ORDER_NOT_FOUND, RETURN_NOT_SHIPPED, RETURN_QTY_EXCEEDED."""
    order = fetch_rows(
        w,
        "SELECT o.*, c.code AS channel FROM orders o JOIN channels c ON c.id = o.channel_id "
        "WHERE o.number = ?",
        [number],
    )
    if not order:
        raise AislewayError(ErrorCode.ORDER_NOT_FOUND, details={"number": number})
    header = order[0]
    fos = fetch_rows(w, "SELECT * FROM fulfillments WHERE order_id = ? ORDER BY id", [header["id"]])
    returnable = {fo["number"]: (fo, _returnable(w, fo)) for fo in fos}
    returnable = {k: v for k, v in returnable.items() if _shipped(w, v[0])}
    if not returnable:
        raise AislewayError(ErrorCode.RETURN_NOT_SHIPPED, details={"number": number})
    candidates = (
        [body.fulfillment_order] if body.fulfillment_order is not None else list(returnable)
    )
    chosen: tuple[dict[str, Any], list[dict[str, Any]]] | None = None
    for name in candidates:
        if name in returnable:
            lines = _fit(returnable[name][1], body)
            if lines is not None:
                chosen = (returnable[name][0], lines)
                break
    if chosen is None:
        raise AislewayError(
            ErrorCode.RETURN_QTY_EXCEEDED,
            details={
                "number": number,
                "returnable": {
                    name: _per_sku(left) for name, (_, left) in sorted(returnable.items())
                },
            },
        )
    fo, lines = chosen
    prices = {
        r["line_no"]: r["unit_price"]
        for r in fetch_rows(
            w, "SELECT line_no, unit_price FROM order_lines WHERE order_id = ?", [header["id"]]
        )
    }
    rma = _rma_number(w)
    now = iso()
    carrier = str(fo["carrier_service"]).split("-")[0] or "CARRIER"
    cur = w.execute(
        "INSERT INTO returns (number, order_id, fulfillment_id, next_attempt_at, label_carrier, "
        "label_tracking, currency, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
        [
            rma,
            header["id"],
            fo["id"],
            now,
            carrier,
            "AWR" + rma.replace("-", ""),
            header["currency"],
            now,
            now,
        ],
    )
    rid = int(cur.lastrowid or 0)
    for n, ln in enumerate(lines, 1):
        w.execute(
            "INSERT INTO return_lines (return_id, line_no, order_line_no, sku, qty, reason, "
            "unit_price) VALUES (?,?,?,?,?,?,?)",
            [
                rid,
                n,
                ln["order_line_no"],
                ln["sku"],
                ln["qty"],
                ln["reason"],
                prices.get(ln["order_line_no"], "0"),
            ],
        )
    detail = {"rma": rma, "fulfillment_order": fo["number"], "label": "AWR" + rma.replace("-", "")}
    journey_add(w, header["id"], fo["id"], None, fo["status"], "return.requested", now, detail)
    orders.record(w, header, "return_requested", {**detail, "lines": _public_lines(lines)})
    return rma


def _per_sku(left: dict[int, dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for v in left.values():
        out[v["sku"]] += v["qty"]
    return dict(sorted(out.items()))


def _public_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: ln[k] for k in ("sku", "qty", "reason")} for ln in lines]


# -- 2. telling the site --------------------------------------------------------------------
def _row(src: Source, rma: str) -> dict[str, Any]:
    rows = fetch_rows(
        src,
        "SELECT r.*, o.number AS order_number, o.ship_to_json, f.number AS fo_number, "
        "f.site_id, s.code AS site FROM returns r JOIN orders o ON o.id = r.order_id "
        "JOIN fulfillments f ON f.id = r.fulfillment_id JOIN sites s ON s.id = f.site_id "
        "WHERE r.number = ?",
        [rma],
    )
    if not rows:
        raise AislewayError(ErrorCode.RETURN_UNKNOWN, details={"rma": rma})
    return rows[0]


def _lines(src: Source, rid: int) -> list[dict[str, Any]]:
    return fetch_rows(
        src,
        "SELECT line_no, order_line_no, sku, qty, reason, unit_price, qty_received, "
        "qty_sellable FROM return_lines WHERE return_id = ? ORDER BY line_no",
        [rid],
    )


def _site_body(src: Source, r: dict[str, Any]) -> dict[str, Any]:
    name = str(json.loads(r["ship_to_json"]).get("name") or r["order_number"])[:200]
    return {
        "order": r["fo_number"],
        "customer": name,
        "tracking": r["label_tracking"],
        "carrier": r["label_carrier"],
        "lines": [
            {"line_no": ln["line_no"], "sku": ln["sku"], "qty": ln["qty"], "reason": ln["reason"]}
            for ln in _lines(src, r["id"])
        ],
    }


def send_return(oms: OmsServices, rma: str) -> str:
    """Tell the RMA's site to expect it; returns `site_state` afterwards."""
    r = _row(oms.db, rma)
    if r["site_state"] != "pending":
        return str(r["site_state"])
    site = get_site(oms.db, r["site"])
    assert site is not None
    body = _site_body(oms.db, r)
    try:
        with SiteClient(site, timeout=oms.settings.site_timeout_seconds) as client:
            client.put_return(rma, body, key=f"oms-rma-{rma}")
    except SiteUnreachable as exc:
        attempts = int(r["attempts"]) + 1
        wait = min(
            oms.settings.site_poll_seconds * 2 ** (attempts - 1),
            oms.settings.release_retry_max_seconds,
        )
        _site_state(oms, r["id"], "pending", exc.reason, attempts, wait)
        return "pending"
    except SiteRefused as exc:
        reason = f"{exc.edge_status} {exc.edge_code}: {exc.edge_text}"
        _site_state(oms, r["id"], "refused", reason, int(r["attempts"]) + 1, 0)
        return "refused"
    _site_state(oms, r["id"], "sent", None, int(r["attempts"]) + 1, 0)
    return "sent"


def _site_state(
    oms: OmsServices, rid: int, state: str, error: str | None, attempts: int, wait: float
) -> None:
    with oms.db.write() as w:
        w.execute(
            "UPDATE returns SET site_state = ?, last_error = ?, attempts = ?, "
            "next_attempt_at = ?, updated_at = ? WHERE id = ? AND site_state = 'pending'",
            [
                state,
                error[:500] if error else None,
                attempts,
                iso(utcnow() + timedelta(seconds=wait)),
                iso(),
                rid,
            ],
        )


def send_due_returns(oms: OmsServices, *, now: str | None = None) -> dict[str, str]:
    """Send every pending RMA whose next attempt is due; `{rma: state after}`."""
    due = fetch_rows(
        oms.db,
        "SELECT number FROM returns WHERE site_state = 'pending' AND next_attempt_at <= ? "
        "ORDER BY next_attempt_at",
        [now or iso()],
    )
    return {r["number"]: send_return(oms, r["number"]) for r in due}


# -- 3. what the site tells -----------------------------------------------------------------
def on_shipment(w: SUDatabase, fo: dict[str, Any], data: dict[str, Any]) -> None:
    """A `shipment.created` for FO `fo`: keep what shipped per line; queue the customer's
    shipment e-mail per tracked carton."""
    for ln in data.get("lines") or []:
        if not isinstance(ln, dict):
            continue
        line_no, sku, qty = ln.get("line_no"), ln.get("sku"), ln.get("qty_shipped")
        if isinstance(line_no, int) and isinstance(sku, str) and isinstance(qty, int):
            w.execute(
                "INSERT INTO shipped_lines (fulfillment_id, line_no, sku, qty) VALUES (?,?,?,?) "
                "ON CONFLICT (fulfillment_id, line_no) DO UPDATE SET qty = excluded.qty",
                [fo["id"], line_no, sku, max(qty, 0)],
            )
    email_shipment(w, _order_header(w, int(fo["order_id"])), data)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def on_return_event(
    w: SUDatabase, site: Site, webhook_id: str, kind: str, data: dict[str, Any], at: str
) -> list[dict[str, Any]]:
    """Apply a `return.*` event of `site` to the OMS's RMA it names (none: nothing)."""
    rma = data.get("rma")
    if not isinstance(rma, str):
        return []
    found = fetch_rows(
        w,
        "SELECT r.* FROM returns r JOIN fulfillments f ON f.id = r.fulfillment_id "
        "WHERE r.number = ? AND f.site_id = ?",
        [rma, site.id],
    )
    if not found:
        return []  # an RMA the OMS did not issue
    r = found[0]
    order = _order_header(w, int(r["order_id"]))
    if r["status"] in ("closed", "cancelled"):
        return []
    now = iso()
    if kind == "return.received":
        qty, sellable = _int(data.get("qty")), _int(data.get("sellable_qty"))
        w.execute(
            "UPDATE return_lines SET qty_received = qty_received + ?, "
            "qty_sellable = qty_sellable + ? WHERE return_id = ? AND line_no = ?",
            [qty, sellable, r["id"], data.get("line_no")],
        )
        w.execute(
            "UPDATE returns SET status = 'receiving', updated_at = ? WHERE id = ?", [now, r["id"]]
        )
        sku = data.get("sku")
        if isinstance(sku, str) and sku:
            email_return_received(w, order, rma, sku, qty, webhook_id)
        return [{"rma": rma, "status": "receiving", "qty": qty}]
    if kind == "return.cancelled":
        w.execute(
            "UPDATE returns SET status = 'cancelled', updated_at = ? WHERE id = ?", [now, r["id"]]
        )
        return [{"rma": rma, "status": "cancelled"}]
    if kind != "return.closed":
        return []
    for ln in data.get("lines") or []:
        if isinstance(ln, dict) and isinstance(ln.get("line_no"), int):
            w.execute(
                "UPDATE return_lines SET qty_received = ?, qty_sellable = ? "
                "WHERE return_id = ? AND line_no = ?",
                [
                    _int(ln.get("qty_received")),
                    _int(ln.get("qty_sellable")),
                    r["id"],
                    ln["line_no"],
                ],
            )
    lines = _lines(w, r["id"])
    amount = sum(
        (Decimal(ln["unit_price"]) * min(ln["qty_received"], ln["qty"]) for ln in lines),
        Decimal(0),
    ).quantize(Decimal("0.01"))
    w.execute(
        "UPDATE returns SET status = 'closed', refund_amount = ?, closed_at = ?, updated_at = ? "
        "WHERE id = ?",
        [str(amount), at, now, r["id"]],
    )
    units = sum(min(ln["qty_received"], ln["qty"]) for ln in lines)
    orders.record(
        w,
        order,
        "refund_issued",
        {"rma": rma, "amount": str(amount), "currency": r["currency"], "units": units},
    )
    email_refund(w, order, rma, amount, r["currency"])
    return [{"rma": rma, "status": "closed", "refund": str(amount)}]


# -- reading ------------------------------------------------------------------------------
def _view(src: Source, r: dict[str, Any]) -> dict[str, Any]:
    return {
        "rma": r["number"],
        "label": {
            "barcode": f"RMA-{r['number']}",
            "carrier": r["label_carrier"],
            "tracking": r["label_tracking"],
        },
        "order": r["order_number"],
        "fulfillment_order": r["fo_number"],
        "site": r["site"],
        "status": r["status"],
        "site_state": r["site_state"],
        "last_error": r["last_error"],
        "currency": r["currency"],
        "refund_amount": r["refund_amount"],
        "created_at": r["created_at"],
        "closed_at": r["closed_at"],
        "lines": [
            {
                k: ln[k]
                for k in (
                    "line_no",
                    "sku",
                    "qty",
                    "reason",
                    "unit_price",
                    "qty_received",
                    "qty_sellable",
                )
            }
            for ln in _lines(src, r["id"])
        ],
    }


def get_return(src: Source, rma: str) -> dict[str, Any]:
    """RMA `rma` with its label, lines and refund; RETURN_UNKNOWN."""
    return _view(src, _row(src, rma))


def order_returns(src: Source, number: str) -> list[dict[str, Any]]:
    """Every RMA of order `number`, oldest first."""
    rows = fetch_rows(
        src,
        "SELECT r.number FROM returns r JOIN orders o ON o.id = r.order_id "
        "WHERE o.number = ? ORDER BY r.id",
        [number],
    )
    return [get_return(src, row["number"]) for row in rows]
