"""The customer e-mails of the order journey, queued in the transaction of the step they tell
about (oms/notifications.py `notify`; docs/oms-notifications.md):

- order received (orders.put_order): `order_confirmation`, key `order:<number>:confirmed`;
- `shipment.created` from a site, per carton with a tracking number: `shipment`, key
  `order:<number>:shipped:<tracking>`;
- `return.received` from a site, per posting: `return_received`, key
  `rma:<rma>:received:<webhook id>`;
- the refund on `return.closed` (oms/returns.py): `refund`, key `refund:<rma>`.

Only for orders with a usable `customer_email`; an address the mailer's stricter rule would
refuse is skipped, never failing the order's transaction.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.oms.notifications import ADDRESS_RE, notify
from edge_server.wms.purchase_orders import fetch_rows

__all__ = [
    "customer_of",
    "email_order_confirmation",
    "email_refund",
    "email_return_received",
    "email_shipment",
]


def customer_of(order: dict[str, Any]) -> str | None:
    """The order's usable e-mail address, or None."""
    email = order.get("customer_email")
    if not email or not ADDRESS_RE.match(email) or ".." in email:
        return None
    return str(email)


def _key(text: str) -> str:
    """A dedupe key from outside text: printable ASCII without spaces, at most 200."""
    return re.sub(r"[^\x21-\x7e]", "_", text)[:200]


def _name(order: dict[str, Any]) -> str:
    try:
        return str(json.loads(order["ship_to_json"]).get("name") or "")[:200]
    except (KeyError, TypeError, ValueError):
        return ""


def email_order_confirmation(w: SUDatabase, order: dict[str, Any]) -> int | None:
    """`order_confirmation` for a just-received order (header row with `id`, `number`)."""
    to = customer_of(order)
    if to is None:
        return None
    rows = fetch_rows(
        w,
        "SELECT sku, qty, unit_price FROM order_lines WHERE order_id = ? AND cancelled = 0 "
        "ORDER BY line_no",
        [order["id"]],
    )
    if not rows:
        return None
    lines = [{"sku": r["sku"], "quantity": r["qty"], "unit_price": r["unit_price"]} for r in rows]
    total = sum((Decimal(r["unit_price"]) * r["qty"] for r in rows), Decimal(0))
    return notify(
        w,
        "order_confirmation",
        to,
        {
            "order_number": order["number"],
            "customer_name": _name(order),
            "lines": lines,
            "currency": order["currency"],
            "total": str(total),
        },
        dedupe_key=f"order:{order['number']}:confirmed",
    )


def email_shipment(w: SUDatabase, order: dict[str, Any], data: dict[str, Any]) -> list[int]:
    """One `shipment` e-mail per carton of a `shipment.created` payload that has a tracking
    number; its lines are the carton's contents (summed per SKU)."""
    to = customer_of(order)
    if to is None:
        return []
    service = str(data.get("carrier_service") or "")
    carrier = service.split("-")[0] or "Carrier"
    queued = []
    for carton in data.get("cartons") or []:
        tracking = carton.get("tracking") if isinstance(carton, dict) else None
        if not isinstance(tracking, str) or not tracking.strip():
            continue
        per_sku: dict[str, int] = defaultdict(int)
        for c in carton.get("contents") or []:
            if isinstance(c, dict) and isinstance(c.get("qty"), int) and c["qty"] > 0:
                per_sku[str(c.get("sku"))] += c["qty"]
        if not per_sku:
            continue
        queued.append(
            notify(
                w,
                "shipment",
                to,
                {
                    "order_number": order["number"],
                    "customer_name": _name(order),
                    "carrier": carrier[:64],
                    "service": service[:200],
                    "tracking_number": tracking.strip()[:64],
                    "package": str(carton.get("sscc") or "")[:200],
                    "lines": [{"sku": s, "quantity": q} for s, q in sorted(per_sku.items())],
                },
                dedupe_key=_key(f"order:{order['number']}:shipped:{tracking.strip()}"),
            )
        )
    return queued


def email_return_received(
    w: SUDatabase, order: dict[str, Any], rma: str, sku: str, qty: int, posting: str
) -> int | None:
    """`return_received` for one posting of a `return.received` event (`posting`: its
    webhook id, so each posting is told once)."""
    to = customer_of(order)
    if to is None or qty < 1:
        return None
    return notify(
        w,
        "return_received",
        to,
        {
            "order_number": order["number"],
            "customer_name": _name(order),
            "rma_number": rma,
            "lines": [{"sku": sku, "quantity": qty}],
        },
        dedupe_key=_key(f"rma:{rma}:received:{posting}"),
    )


def email_refund(
    w: SUDatabase, order: dict[str, Any], rma: str, amount: Decimal, currency: str
) -> int | None:
    """`refund` for RMA `rma` (nothing for an amount of 0)."""
    to = customer_of(order)
    if to is None or amount <= 0:
        return None
    return notify(
        w,
        "refund",
        to,
        {
            "order_number": order["number"],
            "customer_name": _name(order),
            "amount": str(amount),
            "currency": currency,
            "rma_number": rma,
            "reason": "return",
        },
        dedupe_key=f"refund:{rma}",
    )
