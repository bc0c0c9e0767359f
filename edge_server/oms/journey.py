"""An order's journey: payment, reserved, released, wave planned, picking, packed, shipped
(with tracking numbers), delivered, returned — when each was reached, per site.

Built from the order (payment, history), its reservations and the `journey` rows the site
events and the release write (oms/site_events.py, oms/release.py). Steps follow
`protocols.status.JOURNEY_STEPS`; a step is `reached` `all` when every live fulfillment order
(FO) of the order reached it (`at`: the last of them), `some` when only some did.
"""

from __future__ import annotations

import json
from typing import Any

from edge_server.errors import AislewayError
from edge_server.wms.purchase_orders import Source, fetch_rows
from protocols.errors import ErrorCode
from protocols.status import JOURNEY_STEPS

__all__ = ["order_journey"]


def _payment(src: Source, order: dict[str, Any]) -> dict[str, Any]:
    status = order["payment_status"]
    at = None
    if status in ("authorized", "paid", "refunded"):
        at = order["received_at"]
        for h in fetch_rows(
            src,
            "SELECT at, detail_json FROM order_history WHERE order_id = ? AND event = 'updated' "
            "ORDER BY id",
            [order["id"]],
        ):
            if "payment_status" in json.loads(h["detail_json"]).get("changed", []):
                at = h["at"]
    return {"step": "payment", "status": status, "reached": "all" if at else "none", "at": at}


def _reserved(src: Source, order: dict[str, Any]) -> dict[str, Any]:
    first = fetch_rows(
        src,
        "SELECT MIN(at) AS at FROM order_history WHERE order_id = ? AND event = 'reserved'",
        [order["id"]],
    )[0]["at"]
    sites = [
        {"site": r["site"], "qty": r["qty"]}
        for r in fetch_rows(
            src,
            "SELECT s.code AS site, SUM(r.qty) AS qty FROM reservations r "
            "JOIN sites s ON s.id = r.site_id WHERE r.order_id = ? AND r.status != 'cancelled' "
            "GROUP BY s.code ORDER BY s.code",
            [order["id"]],
        )
    ]
    backordered = fetch_rows(
        src, "SELECT COALESCE(SUM(qty), 0) AS n FROM backorders WHERE order_id = ?", [order["id"]]
    )[0]["n"]
    return {
        "step": "reserved",
        "reached": ("some" if backordered else "all") if first else "none",
        "at": first,
        "backordered": int(backordered),
        "sites": sites,
    }


def order_journey(src: Source, number: str) -> dict[str, Any]:
    """The journey of order `number` (ORDER_NOT_FOUND when unknown)."""
    found = fetch_rows(src, "SELECT * FROM orders WHERE number = ?", [number])
    if not found:
        raise AislewayError(ErrorCode.ORDER_NOT_FOUND, details={"number": number})
    order = found[0]
    fos = fetch_rows(
        src,
        "SELECT f.id, f.number, f.status, f.release_state, s.code AS site FROM fulfillments f "
        "JOIN sites s ON s.id = f.site_id WHERE f.order_id = ? ORDER BY s.code, f.seq",
        [order["id"]],
    )
    live = {f["id"] for f in fos if f["status"] != "cancelled"}
    rows = fetch_rows(
        src,
        "SELECT j.*, f.number AS fo, s.code AS site FROM journey j "
        "LEFT JOIN fulfillments f ON f.id = j.fulfillment_id LEFT JOIN sites s ON s.id = f.site_id "
        "WHERE j.order_id = ? ORDER BY j.at, j.id",
        [order["id"]],
    )
    steps: list[dict[str, Any]] = [_payment(src, order), _reserved(src, order)]
    for step in JOURNEY_STEPS[2:]:
        per_fo: dict[int, dict[str, Any]] = {}
        for r in rows:
            if r["step"] != step or r["fulfillment_id"] is None:
                continue
            entry = per_fo.setdefault(
                r["fulfillment_id"],
                {"site": r["site"], "fulfillment_order": r["fo"], "at": r["at"]},
            )
            detail = json.loads(r["detail_json"])
            if detail.get("tracking"):
                entry.setdefault("tracking", []).extend(detail["tracking"])
            if step == "returned":
                entry.setdefault("events", []).append(
                    {"event": r["event"], "at": r["at"], **detail}
                )
        reached_ids = set(per_fo) & live if live else set(per_fo)
        if live and reached_ids == live:
            reached, at = "all", max(per_fo[i]["at"] for i in reached_ids)
        elif per_fo:
            reached, at = "some", None
        else:
            reached, at = "none", None
        item: dict[str, Any] = {
            "step": step,
            "reached": reached,
            "at": at,
            "sites": [per_fo[i] for i in sorted(per_fo, key=lambda i: per_fo[i]["site"])],
        }
        if step == "shipped":
            item["tracking"] = [t for e in item["sites"] for t in e.get("tracking", [])]
        steps.append(item)
    return {
        "number": number,
        "status": order["status"],
        "payment_status": order["payment_status"],
        "steps": steps,
        "fulfillment_orders": [
            {
                "number": f["number"],
                "site": f["site"],
                "status": f["status"],
                "release_state": f["release_state"],
            }
            for f in fos
        ],
        "events": [
            {
                "at": r["at"],
                "site": r["site"],
                "fulfillment_order": r["fo"],
                "event": r["event"],
                "step": r["step"],
                "status": r["status"],
                "detail": json.loads(r["detail_json"]),
            }
            for r in rows
        ],
    }
