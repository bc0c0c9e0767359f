"""Backorders filled oldest first when stock arrives, and the customer told.

Every site stock increase reaches the OMS as a stock event (a receipt, a return put back to
stock, a count correction) recorded with `reservations.set_site_stock`; the site-event intake
then calls the hooks in `site_events.on_stock_changed` with (w, site, sku) inside the same
transaction. `fill_backorders` is that hook: it walks the orders waiting for the SKU in queue
order (`backorders.created_at` = when the order first arrived, then line) and calls
`orders.reserve` for each while any active site has ATP of the SKU. `orders.reserve` reserves
only what an order still needs, so an event delivered twice fills nothing twice.

Customer e-mails (queued in the same transaction, dedupe keys so none is sent twice):
- `backorder` when lines are left waiting at intake (`notify_backordered`, called by
  `orders.reserve`), key `order:<number>:backordered:<n>` (n = its n-th backorder event);
- when a fill reserves units: a `backorder_filled` e-mail if the notifications module offers
  that kind; until then, when lines still wait, a `backorder` update listing what still waits
  (key `order:<number>:backordered:r<first reservation id>`). Every fill also records
  `order.backorder_filled` in the order's history and outbox.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Final

from sqlite_utils import Database as SUDatabase

from edge_server.oms import orders
from edge_server.oms.notifications import ADDRESS_RE, queue_email
from edge_server.oms.reservations import Chooser, atp_by_site
from edge_server.oms.sourcing_adapter import chooser_in
from edge_server.wms.purchase_orders import fetch_rows

__all__ = [
    "FILLED_KIND",
    "fill_backorders",
    "notify_backordered",
    "register_with_site_events",
    "waiting_orders",
]

#: The e-mail kind for "your backordered items are available and on their way".
FILLED_KIND: Final = "backorder_filled"


def waiting_orders(src: Any, sku: str) -> list[dict[str, Any]]:
    """Orders with a line waiting for `sku`, in queue order (oldest arrival first)."""
    return fetch_rows(
        src,
        "SELECT o.id, o.number, MIN(b.created_at) AS since, MIN(b.line_id) AS first_line "
        "FROM backorders b JOIN orders o ON o.id = b.order_id "
        "WHERE b.sku = ? AND o.status != 'cancelled' "
        "GROUP BY o.id ORDER BY since, first_line",
        [sku],
    )


def fill_backorders(
    w: SUDatabase, site: str, sku: str, *, chooser: Chooser | None = None
) -> list[dict[str, Any]]:
    """Reserve stock of `sku` (which just rose at `site`) for waiting orders, oldest first,
    until no active site has ATP of it. Each order reserves everything it still needs at the
    sites `chooser` picks (default: cost-based sourcing in this transaction). Returns
    `{"number", "reserved": [{line_no, sku, site, qty}], "still_backordered"}` per order that
    got something."""
    pick = chooser or chooser_in(w)
    filled: list[dict[str, Any]] = []
    for waiting in waiting_orders(w, sku):
        if not atp_by_site(w, [sku]).get(sku):
            break
        before = _last_reservation_id(w)
        result = orders.reserve(w, waiting["number"], pick)
        if not result.reserved:
            continue
        left = _backordered_lines(w, waiting["id"])
        _record_filled(w, waiting["number"], site, sku, result.reserved, left, before)
        filled.append(
            {
                "number": waiting["number"],
                "reserved": result.reserved,
                "still_backordered": sum(ln["quantity_backordered"] for ln in left),
            }
        )
    return filled


def register_with_site_events() -> bool:
    """Add `fill_backorders` to the site-event intake's `on_stock_changed` hooks (once).
    False when the intake module is not installed."""
    try:
        module = importlib.import_module("edge_server.oms.site_events")
    except ImportError:
        return False
    hooks: list[Callable[[SUDatabase, str, str], None]] | None = getattr(
        module, "on_stock_changed", None
    )
    if not isinstance(hooks, list):
        return False
    if _hook not in hooks:
        hooks.append(_hook)
    return True


def _hook(w: SUDatabase, site: str, sku: str) -> None:
    fill_backorders(w, site, sku)


# -- e-mails -----------------------------------------------------------------------------------
def _customer(w: SUDatabase, number: str) -> str | None:
    row = fetch_rows(w, "SELECT customer_email FROM orders WHERE number = ?", [number])
    email = row[0]["customer_email"] if row else None
    # notifications refuses an address its stricter rule does not accept: skip, never fail
    # the order's transaction for an e-mail.
    if not email or not ADDRESS_RE.match(email) or ".." in email:
        return None
    return str(email)


def _backordered_lines(w: SUDatabase, order_id: int) -> list[dict[str, Any]]:
    return [
        {"sku": r["sku"], "quantity_ordered": r["ordered"], "quantity_backordered": r["waiting"]}
        for r in fetch_rows(
            w,
            "SELECT l.sku, l.qty AS ordered, b.qty AS waiting FROM backorders b "
            "JOIN order_lines l ON l.id = b.line_id WHERE b.order_id = ? ORDER BY l.line_no",
            [order_id],
        )
    ]


def notify_backordered(w: SUDatabase, number: str) -> int | None:
    """Queue the `backorder` e-mail for order `number`'s waiting lines (after its
    `order.backordered` event); None when there is no usable address or nothing waits."""
    to = _customer(w, number)
    oid = orders.order_id(w, number)
    lines = _backordered_lines(w, oid)
    if to is None or not lines:
        return None
    n = fetch_rows(
        w,
        "SELECT COUNT(*) AS n FROM order_history WHERE order_id = ? AND event = 'backordered'",
        [oid],
    )[0]["n"]
    return queue_email(
        w,
        "backorder",
        to,
        {"order_number": number, "lines": lines},
        dedupe_key=f"order:{number}:backordered:{n}",
    )


def _last_reservation_id(w: SUDatabase) -> int:
    return int(fetch_rows(w, "SELECT COALESCE(MAX(id), 0) AS n FROM reservations")[0]["n"])


def _record_filled(
    w: SUDatabase,
    number: str,
    site: str,
    sku: str,
    reserved: list[dict[str, Any]],
    left: list[dict[str, Any]],
    before: int,
) -> None:
    order = fetch_rows(
        w,
        "SELECT o.*, c.code AS channel FROM orders o JOIN channels c ON c.id = o.channel_id "
        "WHERE o.number = ?",
        [number],
    )[0]
    orders.record(
        w,
        order,
        "backorder_filled",
        {
            "stock_arrived": {"site": site, "sku": sku},
            "filled": reserved,
            "still_backordered": left,
        },
    )
    to = _customer(w, number)
    if to is None:
        return
    first = fetch_rows(
        w,
        "SELECT MIN(id) AS id FROM reservations WHERE order_id = ? AND id > ?",
        [order["id"], before],
    )[0]["id"]
    units: dict[str, int] = {}
    for r in reserved:
        units[r["sku"]] = units.get(r["sku"], 0) + int(r["qty"])
    if not left:
        queue_email(
            w,
            FILLED_KIND,
            to,
            {
                "order_number": number,
                "lines": [{"sku": s, "quantity": q} for s, q in sorted(units.items())],
            },
            dedupe_key=f"order:{number}:backorder-filled:r{first}",
        )
        return
    if left:
        queue_email(
            w,
            "backorder",
            to,
            {"order_number": number, "lines": left},
            dedupe_key=f"order:{number}:backordered:r{first}",
        )
