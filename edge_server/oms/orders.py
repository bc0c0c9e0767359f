"""Channel orders: intake (create or replace by the channel's order id), reservation at
intake, cancellation and address change before release, exchanges, history and events.

Every function that writes takes the caller's write transaction `w` (`with db.write() as
w`), so an order, its reservations, its history and its outbox events commit together or
not at all. The OMS order number is `<channel>-<channel order id>` (`WEB-1001`).

Statuses (`ORDER_STATUSES`, docs/oms-orders.md): an order is `received`, then at once
`reserved`, `partially_reserved` or `backordered`; these are the OPEN statuses, in which it
can still be replaced, re-addressed or cancelled. `released` and later belong to the
release/fulfilment code; `cancelled` is final.

Events (OMS outbox): `order.received`, `order.reserved`, `order.backordered`,
`order.updated`, `order.address_changed`, `order.cancelled`.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from sqlite_utils import Database as SUDatabase

from edge_server.errors import AislewayError
from edge_server.integration.outbox import emit
from edge_server.oms.migrations import CHANNEL_KINDS, ORDER_STATUSES
from edge_server.oms.reservations import (
    Chooser,
    ReserveResult,
    cancel_reservations,
    order_reservations,
    reserve_order,
)
from edge_server.timeutil import iso
from edge_server.wms.purchase_orders import Source, fetch_rows
from protocols.errors import ErrorCode
from protocols.orders import OrderIn, ShipTo, order_number

__all__ = [
    "CHANNEL_KINDS",
    "OPEN_STATUSES",
    "ORDER_STATUSES",
    "Outcome",
    "add_channel",
    "bind_key",
    "cancel_order",
    "change_address",
    "channel_of_key",
    "get_channel",
    "get_order",
    "list_orders",
    "order_id",
    "put_order",
    "record",
    "reserve",
]

Outcome = Literal["created", "updated", "unchanged", "cancelled"]

#: Before release: the order may still be replaced, re-addressed or cancelled, and the OMS
#: holds its reservations.
OPEN_STATUSES = ("received", "reserved", "partially_reserved", "backordered")


# -- channels -----------------------------------------------------------------------------
def get_channel(src: Source, code: str) -> dict[str, Any] | None:
    rows = fetch_rows(src, "SELECT * FROM channels WHERE code = ?", [code])
    return rows[0] if rows else None


def add_channel(
    w: SUDatabase, code: str, *, kind: str = "web", name: str | None = None
) -> Literal["created", "unchanged"]:
    """Create sales channel `code` (`WEB`, `AMAZON`, `B2B`) unless it exists."""
    if get_channel(w, code) is not None:
        return "unchanged"
    w.execute(
        "INSERT INTO channels (code, kind, name, created_at) VALUES (?,?,?,?)",
        [code, kind, name or code, iso()],
    )
    return "created"


def bind_key(w: SUDatabase, api_key_id: int, channel: str) -> None:
    """Make API key `api_key_id` speak for `channel` (its orders are that channel's)."""
    found = get_channel(w, channel)
    if found is None:
        raise AislewayError(ErrorCode.UNKNOWN_CHANNEL, details={"channel": channel})
    w.execute(
        "INSERT INTO channel_keys (api_key_id, channel_id) VALUES (?, ?) "
        "ON CONFLICT (api_key_id) DO UPDATE SET channel_id = excluded.channel_id",
        [api_key_id, found["id"]],
    )


def channel_of_key(src: Source, api_key_id: int) -> str | None:
    rows = fetch_rows(
        src,
        "SELECT c.code FROM channel_keys k JOIN channels c ON c.id = k.channel_id "
        "WHERE k.api_key_id = ?",
        [api_key_id],
    )
    return rows[0]["code"] if rows else None


# -- history and events ------------------------------------------------------------------
def _header(src: Source, number: str) -> dict[str, Any] | None:
    rows = fetch_rows(
        src,
        "SELECT o.*, c.code AS channel FROM orders o JOIN channels c ON c.id = o.channel_id "
        "WHERE o.number = ?",
        [number],
    )
    return rows[0] if rows else None


def order_id(src: Source, number: str) -> int:
    """The id of order `number`; ORDER_NOT_FOUND when there is none."""
    found = _header(src, number)
    if found is None:
        raise AislewayError(ErrorCode.ORDER_NOT_FOUND, details={"number": number})
    return int(found["id"])


def record(w: SUDatabase, order: dict[str, Any], event: str, detail: dict[str, Any]) -> None:
    """Add a history entry and emit `order.<event>` with the order's number, channel ids and
    current status plus `detail`. `order` is a header row (`_header`); its status is read
    fresh so the entry shows the status after the change."""
    status = fetch_rows(w, "SELECT status FROM orders WHERE id = ?", [order["id"]])[0]["status"]
    w.execute(
        "INSERT INTO order_history (order_id, at, event, status, detail_json) VALUES (?,?,?,?,?)",
        [order["id"], iso(), event, status, json.dumps(detail, separators=(",", ":"))],
    )
    emit(
        w,
        f"order.{event}",
        {
            "number": order["number"],
            "channel": order["channel"],
            "channel_order_id": order["channel_order_id"],
            "status": status,
            **detail,
        },
    )


def _set_status(w: SUDatabase, oid: int, status: str) -> None:
    w.execute("UPDATE orders SET status = ?, updated_at = ? WHERE id = ?", [status, iso(), oid])


# -- reserving ----------------------------------------------------------------------------
def reserve(w: SUDatabase, number: str, chooser: Chooser | None = None) -> ReserveResult:
    """Reserve what order `number` still needs (reservations.reserve_order), then set its
    status while it is open and record `order.reserved` (something was reserved) and
    `order.backordered` (lines left waiting at intake). Backorder filling calls this too."""
    order = _header(w, number)
    if order is None:
        raise AislewayError(ErrorCode.ORDER_NOT_FOUND, details={"number": number})
    was = order["status"]
    result = reserve_order(w, order["id"], chooser)
    if was in OPEN_STATUSES:
        totals = fetch_rows(
            w,
            "SELECT COALESCE(SUM(l.qty), 0) AS open, COALESCE(SUM(("
            "  SELECT SUM(r.qty) FROM reservations r WHERE r.line_id = l.id"
            "  AND r.status IN ('held', 'released'))), 0) AS reserved "
            "FROM order_lines l WHERE l.order_id = ? AND l.cancelled = 0",
            [order["id"]],
        )[0]
        if totals["reserved"] >= totals["open"]:
            status = "reserved"
        elif totals["reserved"] == 0:
            status = "backordered"
        else:
            status = "partially_reserved"
        if status != was:
            _set_status(w, order["id"], status)
    if result.reserved:
        record(w, order, "reserved", {"reserved": result.reserved})
    if result.backordered and was == "received":
        record(w, order, "backordered", {"backordered": result.backordered})
        # Imported here: backorders imports this module. Queues the customer's e-mail.
        from edge_server.oms.backorders import notify_backordered

        notify_backordered(w, number)
    return result


# -- intake -------------------------------------------------------------------------------
def _lines_of(w: SUDatabase, oid: int) -> list[tuple[int, str, int, str]]:
    return [
        (r["line_no"], r["sku"], r["qty"], r["unit_price"])
        for r in fetch_rows(
            w,
            "SELECT line_no, sku, qty, unit_price FROM order_lines "
            "WHERE order_id = ? AND cancelled = 0 ORDER BY line_no",
            [oid],
        )
    ]


def _body_lines(body: OrderIn) -> list[tuple[int, str, int, str]]:
    return sorted((ln.line_no, ln.sku, ln.qty, str(ln.unit_price)) for ln in body.lines)


def _dump(ship_to: ShipTo) -> str:
    return json.dumps(ship_to.model_dump(mode="json"), separators=(",", ":"))


def _header_values(w: SUDatabase, body: OrderIn) -> dict[str, Any]:
    original: int | None = None
    if body.exchange is not None and body.exchange.original_order is not None:
        found = _header(w, body.exchange.original_order)
        if found is None:
            raise AislewayError(
                ErrorCode.EXCHANGE_ORDER_UNKNOWN,
                details={"original_order": body.exchange.original_order},
            )
        original = int(found["id"])
    return {
        "ship_to_json": _dump(body.ship_to),
        "requested_service": body.requested_service,
        "payment_status": body.payment_status,
        "currency": body.currency,
        "promised_date": body.promised_date.isoformat() if body.promised_date else None,
        "customer_email": body.customer_email,
        "exchange_rma": body.exchange.rma if body.exchange else None,
        "original_order_id": original,
    }


def _refuse_unless_open(order: dict[str, Any]) -> None:
    if order["status"] == "cancelled":
        raise AislewayError(ErrorCode.ORDER_CANCELLED, details={"number": order["number"]})
    if order["status"] not in OPEN_STATUSES:
        raise AislewayError(
            ErrorCode.ORDER_RELEASED, details={"number": order["number"], "status": order["status"]}
        )


def put_order(
    w: SUDatabase,
    channel: str,
    channel_order_id: str,
    body: OrderIn,
    *,
    chooser: Chooser | None = None,
) -> tuple[Outcome, str]:
    """Create channel order `channel_order_id` of `channel` and reserve it at once, or
    replace it. Returns (outcome, OMS number).

    Replacing an open order: header changes are applied (a new ship-to records
    `order.address_changed`); changed lines give back the order's held reservations and
    reserve afresh (lines left out are kept as cancelled). After release, or once cancelled,
    only `payment_status` may still change; anything else is refused (ORDER_RELEASED,
    ORDER_CANCELLED). The same order again is `unchanged`."""
    chan = get_channel(w, channel)
    if chan is None or not chan["active"]:
        raise AislewayError(ErrorCode.UNKNOWN_CHANNEL, details={"channel": channel})
    number = order_number(channel, channel_order_id)
    values = _header_values(w, body)
    now = iso()
    order = _header(w, number)
    if order is None:
        cols = ", ".join(values)
        cur = w.execute(
            f"INSERT INTO orders (number, channel_id, channel_order_id, {cols}, received_at, "
            f"updated_at) VALUES (?,?,?,{','.join('?' * len(values))},?,?)",
            [number, chan["id"], channel_order_id, *values.values(), now, now],
        )
        oid = int(cur.lastrowid or 0)
        for line_no, sku, qty, price in _body_lines(body):
            w.execute(
                "INSERT INTO order_lines (order_id, line_no, sku, qty, unit_price) "
                "VALUES (?,?,?,?,?)",
                [oid, line_no, sku, qty, price],
            )
        order = _header(w, number)
        assert order is not None
        record(w, order, "received", _summary(w, oid))
        # Imported here: customer_emails reads orders' tables only. Queues the confirmation.
        from edge_server.oms.customer_emails import email_order_confirmation

        email_order_confirmation(w, order)
        reserve(w, number, chooser)
        return "created", number

    oid = int(order["id"])
    changed = [k for k, v in values.items() if order[k] != v]
    lines_changed = _lines_of(w, oid) != _body_lines(body)
    if not changed and not lines_changed:
        return "unchanged", number
    if lines_changed or set(changed) - {"payment_status"}:
        _refuse_unless_open(order)
    sets = ", ".join(f"{k} = ?" for k in changed)
    w.execute(
        f"UPDATE orders SET {sets + ', ' if sets else ''}updated_at = ? WHERE id = ?",
        [*(values[k] for k in changed), now, oid],
    )
    if lines_changed:
        cancel_reservations(w, oid)
        _replace_lines(w, oid, body)
    record(
        w,
        order,
        "updated",
        {"changed": sorted(changed) + (["lines"] if lines_changed else [])},
    )
    if "ship_to_json" in changed:
        record(w, order, "address_changed", {"ship_to": json.loads(values["ship_to_json"])})
    if lines_changed:
        w.execute("UPDATE orders SET status = 'received' WHERE id = ?", [oid])
        reserve(w, number, chooser)
    return "updated", number


def _replace_lines(w: SUDatabase, oid: int, body: OrderIn) -> None:
    named = {ln.line_no for ln in body.lines}
    for line_no, sku, qty, price in _body_lines(body):
        w.execute(
            "INSERT INTO order_lines (order_id, line_no, sku, qty, unit_price) VALUES (?,?,?,?,?) "
            "ON CONFLICT (order_id, line_no) DO UPDATE SET sku = excluded.sku, "
            "qty = excluded.qty, unit_price = excluded.unit_price, cancelled = 0",
            [oid, line_no, sku, qty, price],
        )
    marks = ",".join("?" * len(named))
    w.execute(
        f"UPDATE order_lines SET cancelled = 1 WHERE order_id = ? AND line_no NOT IN ({marks})",
        [oid, *sorted(named)],
    )


def _summary(w: SUDatabase, oid: int) -> dict[str, Any]:
    return {
        "lines": [
            {"line_no": n, "sku": s, "qty": q, "unit_price": p} for n, s, q, p in _lines_of(w, oid)
        ]
    }


# -- changes before release ---------------------------------------------------------------
def cancel_order(w: SUDatabase, number: str, reason: str = "") -> Outcome:
    """Cancel an open order: its held reservations go back to ATP, its backorders are
    dropped, `order.cancelled` is recorded. Cancelling a cancelled order is `unchanged`;
    after release it is refused (ORDER_RELEASED)."""
    order = _header(w, number)
    if order is None:
        raise AislewayError(ErrorCode.ORDER_NOT_FOUND, details={"number": number})
    if order["status"] == "cancelled":
        return "unchanged"
    _refuse_unless_open(order)
    given_back = cancel_reservations(w, order["id"])
    now = iso()
    w.execute(
        "UPDATE orders SET status = 'cancelled', cancelled_at = ?, cancel_reason = ?, "
        "updated_at = ? WHERE id = ?",
        [now, reason, now, order["id"]],
    )
    record(w, order, "cancelled", {"reason": reason, "units_given_back": given_back})
    return "cancelled"


def change_address(w: SUDatabase, number: str, ship_to: ShipTo) -> Outcome:
    """Ship an open order somewhere else; reservations stay as they are (sourcing may move
    them when it releases). Refused once released (ORDER_RELEASED) or cancelled."""
    order = _header(w, number)
    if order is None:
        raise AislewayError(ErrorCode.ORDER_NOT_FOUND, details={"number": number})
    new = _dump(ship_to)
    if order["ship_to_json"] == new:
        return "unchanged"
    _refuse_unless_open(order)
    w.execute(
        "UPDATE orders SET ship_to_json = ?, updated_at = ? WHERE id = ?",
        [new, iso(), order["id"]],
    )
    record(w, order, "address_changed", {"ship_to": json.loads(new)})
    return "updated"


# -- reading ------------------------------------------------------------------------------
def _header_out(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": r["number"],
        "channel": r["channel"],
        "channel_order_id": r["channel_order_id"],
        "status": r["status"],
        "payment_status": r["payment_status"],
        "requested_service": r["requested_service"],
        "currency": r["currency"],
        "promised_date": r["promised_date"],
        "customer_email": r["customer_email"],
        "ship_to": json.loads(r["ship_to_json"]),
        "received_at": r["received_at"],
        "updated_at": r["updated_at"],
        "cancelled_at": r["cancelled_at"],
        "cancel_reason": r["cancel_reason"],
    }


def get_order(src: Source, number: str) -> dict[str, Any] | None:
    """Order `number` with its lines (reserved, released and backordered per line, and
    where), its reservations per site, exchange link and history; None if unknown."""
    r = _header(src, number)
    if r is None:
        return None
    oid = r["id"]
    out = _header_out(r)
    original = (
        fetch_rows(src, "SELECT number FROM orders WHERE id = ?", [r["original_order_id"]])
        if r["original_order_id"]
        else []
    )
    out["exchange"] = (
        {"rma": r["exchange_rma"], "original_order": original[0]["number"] if original else None}
        if r["exchange_rma"]
        else None
    )
    reservations = order_reservations(src, oid)
    backorders = {
        b["line_no"]: b["qty"]
        for b in fetch_rows(
            src,
            "SELECT l.line_no, b.qty FROM backorders b JOIN order_lines l ON l.id = b.line_id "
            "WHERE b.order_id = ?",
            [oid],
        )
    }
    lines = []
    for ln in fetch_rows(
        src,
        "SELECT line_no, sku, qty, unit_price, cancelled FROM order_lines "
        "WHERE order_id = ? ORDER BY line_no",
        [oid],
    ):
        mine = [x for x in reservations if x["line_no"] == ln["line_no"]]
        lines.append(
            {
                "line_no": ln["line_no"],
                "sku": ln["sku"],
                "qty": ln["qty"],
                "unit_price": ln["unit_price"],
                "cancelled": bool(ln["cancelled"]),
                "qty_reserved": sum(x["qty"] for x in mine if x["status"] == "held"),
                "qty_released": sum(x["qty"] for x in mine if x["status"] == "released"),
                "qty_backordered": backorders.get(ln["line_no"], 0),
                "reservations": [
                    {"site": x["site"], "qty": x["qty"], "status": x["status"]} for x in mine
                ],
            }
        )
    out["lines"] = lines
    sites: dict[str, dict[str, int]] = {}
    for x in reservations:
        per = sites.setdefault(x["site"], {"held": 0, "released": 0})
        per[x["status"]] += x["qty"]
    out["sites"] = [{"site": s, **v} for s, v in sorted(sites.items())]
    out["qty_backordered"] = sum(backorders.values())
    out["history"] = [
        {"at": h["at"], "event": h["event"], "status": h["status"], **json.loads(h["detail_json"])}
        for h in fetch_rows(
            src,
            "SELECT at, event, status, detail_json FROM order_history "
            "WHERE order_id = ? ORDER BY id",
            [oid],
        )
    ]
    return out


def list_orders(
    src: Source,
    *,
    channel: str | None = None,
    status: str | None = None,
    sku: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """A page of orders, newest first (no lines), filtered by channel, status and SKU."""
    where: list[str] = []
    params: list[Any] = []
    if channel is not None:
        where.append("c.code = ?")
        params.append(channel)
    if status is not None:
        where.append("o.status = ?")
        params.append(status)
    if sku is not None:
        where.append("o.id IN (SELECT order_id FROM order_lines WHERE sku = ? AND cancelled = 0)")
        params.append(sku)
    cond = ("WHERE " + " AND ".join(where)) if where else ""
    base = "FROM orders o JOIN channels c ON c.id = o.channel_id " + cond
    total = fetch_rows(src, "SELECT COUNT(*) AS n " + base, params)[0]["n"]
    rows = fetch_rows(
        src,
        "SELECT o.*, c.code AS channel " + base + " ORDER BY o.received_at DESC, o.id DESC "
        "LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return {
        "items": [_header_out(r) for r in rows],
        "total": int(total),
        "limit": limit,
        "offset": offset,
    }
