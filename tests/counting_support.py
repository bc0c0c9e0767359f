"""Helpers for the cycle counting tests: the picking site (layout, GS1 items), stock, users
with known ids, and the counting API driven over HTTP."""

from __future__ import annotations

import itertools
from typing import Any

from picking_support import picking_site, put_stock

from edge_server.services import Services
from edge_server.wms.ledger import check_ledger

from conftest import Caller, assert_response, login_as

API = "/api/v1/counts"
_badges = itertools.count(1)


class Worker:
    """A logged-in user with their id."""

    def __init__(self, services: Services, role: str) -> None:
        badge = f"{role}-c{next(_badges)}"
        self.caller: Caller = login_as(services, role, badge=badge)
        row = services.db.query_one("SELECT id FROM users WHERE badge = ?", [badge])
        assert row is not None
        self.id: int = row["id"]
        self.badge = badge

    @property
    def headers(self) -> dict[str, str]:
        return self.caller.headers

    def with_key(self, key: str | None = None) -> dict[str, str]:
        return self.caller.with_key(key)


def counting_site(services: Services, stock: dict[tuple[str, str], int] | None = None) -> None:
    """The picking test site with stock {(bin, sku): qty}."""
    picking_site(services)
    for (location, sku), qty in (stock or {}).items():
        put_stock(services, location, sku, qty)


def set_cost(services: Services, sku: str, cost: str | None) -> None:
    with services.db.write() as w:
        w.execute("UPDATE items SET unit_cost = ? WHERE sku = ?", [cost, sku])


def create(edge: Any, who: Worker, status: int = 201, code: str | None = None, **body: Any) -> Any:
    resp = edge.post(f"{API}/tasks", json=body, headers=who.with_key())
    data = assert_response(resp, status, code=code)
    return data.get("task", data) if data else data


def claim(edge: Any, who: Worker, task_id: int, status: int = 200, code: str | None = None) -> Any:
    resp = edge.post(f"{API}/tasks/{task_id}/claim", json={}, headers=who.with_key())
    return assert_response(resp, status, code=code)


def line(
    edge: Any, who: Worker, task_id: int, status: int = 201, code: str | None = None, **body: Any
) -> Any:
    resp = edge.post(f"{API}/tasks/{task_id}/lines", json=body, headers=who.with_key())
    return assert_response(resp, status, code=code)


def submit(edge: Any, who: Worker, task_id: int, status: int = 200, code: str | None = None) -> Any:
    resp = edge.post(f"{API}/tasks/{task_id}/submit", json={}, headers=who.with_key())
    return assert_response(resp, status, code=code)


def count_bin(edge: Any, who: Worker, task_id: int, counts: list[dict[str, Any]]) -> dict[str, Any]:
    """Claim, count each line, submit; returns the submit answer."""
    claim(edge, who, task_id)
    for body in counts:
        line(edge, who, task_id, **body)
    result: dict[str, Any] = submit(edge, who, task_id)
    return result


def variances(edge: Any, who: Worker, status: str = "all", **params: Any) -> list[Any]:
    resp = edge.get(f"{API}/variances", params={"status": status, **params}, headers=who.headers)
    items: list[Any] = assert_response(resp, 200)["items"]
    return items


def stock_of(services: Services, location: str, sku: str) -> int:
    row = services.db.query_one(
        "SELECT COALESCE(SUM(st.qty), 0) AS q FROM stock st JOIN locations l "
        "ON l.id = st.location_id JOIN items i ON i.id = st.item_id "
        "WHERE l.code = ? AND i.sku = ?",
        [location, sku],
    )
    assert row is not None
    return int(row["q"])


def count_movements(services: Services) -> list[dict[str, Any]]:
    return services.db.query(
        "SELECT m.qty, m.from_location_id IS NOT NULL AS out, m.reason, m.ref, i.sku "
        "FROM movements m JOIN items i ON i.id = m.item_id WHERE m.type = 'count' ORDER BY m.id"
    )


def snapshot(services: Services) -> dict[str, Any]:
    """What a refused counting command must leave alone."""
    q = services.db.query
    return {
        "stock": q("SELECT location_id, item_id, lot, lpn, status, qty FROM stock ORDER BY id"),
        "movements": q("SELECT COUNT(*) AS n FROM movements"),
        "tasks": q("SELECT * FROM count_tasks ORDER BY id"),
        "bins": q("SELECT * FROM count_task_bins ORDER BY task_id, seq"),
        "lines": q("SELECT * FROM count_lines ORDER BY id"),
        "variances": q("SELECT * FROM count_variances ORDER BY id"),
        "outbox": q("SELECT COUNT(*) AS n FROM outbox"),
        "labor": q("SELECT COUNT(*) AS n FROM labor_scans"),
    }


def ledger_ok(services: Services) -> None:
    report = check_ledger(services.db)
    assert report.ok, list(report.lines())
