"""Receiving accuracy: lines that matched the PO without correction, per day and receiver."""

from datetime import UTC, datetime, timedelta

import pytest
from receiving_support import FUTURE, Handheld, gs1_128, gtin13, make_po, setup_site

from conftest import assert_response, login_as

KPI = "/api/v1/kpi/receiving-accuracy"


@pytest.fixture
def day(edge, services):
    """Two receivers' work: A 3 lines (1 corrected), B 2 lines (1 lot mismatch) + 1 short."""
    setup_site(services)
    make_po(services, "K1", [("SOAP-1", 10), ("MILK-1", 4)])
    make_po(services, "K2", [("TEA-1", 5, ["T1"]), ("SOAP-1", 2), ("ODD-1", 3)])
    a = Handheld(edge, login_as(services, "receiver", badge="REC-A"))
    a.step("start", {"po": "K1"})
    a.step("scan", {"barcode": gtin13("1")})
    a.step("quantity", {"qty": 5})
    a.step("lpn", {})
    a.step("scan", {"barcode": gtin13("1")})
    a.step("quantity", {"qty": 6})
    a.step("quantity", {"qty": 5})  # recounted: a correction
    a.step("lpn", {})
    a.step("scan", {"barcode": gs1_128("MILK-1", lot="M1", expiry=FUTURE, count=4)})
    a.step("lpn", {})
    a.step("close", {})
    b = Handheld(edge, login_as(services, "receiver", badge="REC-B"))
    b.step("start", {"po": "K2"})
    b.step("scan", {"barcode": gs1_128("TEA-1", lot="T7", count=5)})
    b.step("lpn", {})
    b.step("scan", {"barcode": gtin13("1")})
    b.step("quantity", {"qty": 2})
    b.step("lpn", {})
    b.step("close", {"confirm": True})  # ODD-1 short
    return services


def test_accuracy_per_receiver_and_overall(edge, day):
    sup = login_as(day, "supervisor")
    data = assert_response(edge.get(KPI, headers=sup.headers), 200)
    rows = {r["receiver"]: r for r in data["days"]}
    today = datetime.now(UTC).date().isoformat()
    assert rows["REC-A"] == {
        "day": today,
        "receiver": "REC-A",
        "lines": 3,
        "accurate": 2,
        "accuracy_pct": 66.67,
        "meets_target": False,
    }
    assert (rows["REC-B"]["lines"], rows["REC-B"]["accurate"]) == (3, 1)
    assert data["overall"] == {
        "lines": 6,
        "accurate": 3,
        "accuracy_pct": 50.0,
        "meets_target": False,
    }
    assert data["target_pct"] == 99.5


def test_filters_by_receiver_and_day(edge, day):
    sup = login_as(day, "integration")
    only_b = assert_response(edge.get(KPI, params={"receiver": "REC-B"}, headers=sup.headers), 200)
    assert [r["receiver"] for r in only_b["days"]] == ["REC-B"]
    # move A's lines to last week: they leave today's window and form their own day
    last_week = (datetime.now(UTC).date() - timedelta(days=7)).isoformat()
    with day.db.write() as w:
        w.execute(
            "UPDATE receipt_lines SET received_at = ? || substr(received_at, 11) WHERE user_id = "
            "(SELECT id FROM users WHERE badge = 'REC-A')",
            [last_week],
        )
    today = datetime.now(UTC).date().isoformat()
    data = assert_response(
        edge.get(KPI, params={"from": today, "to": today}, headers=sup.headers), 200
    )
    assert {r["receiver"] for r in data["days"]} == {"REC-B"}
    data = assert_response(
        edge.get(KPI, params={"from": last_week, "to": last_week}, headers=sup.headers), 200
    )
    assert [(r["receiver"], r["lines"]) for r in data["days"]] == [("REC-A", 3)]


def test_a_perfect_day_meets_the_target_and_receivers_cannot_read_it(edge, services):
    setup_site(services)
    make_po(services, "K3", [("SOAP-1", 3)])
    a = Handheld(edge, login_as(services, "receiver", badge="REC-C"))
    a.step("start", {"po": "K3"})
    a.step("scan", {"barcode": gtin13("1")})
    a.step("quantity", {"qty": 3})
    a.step("lpn", {})
    a.step("close", {})
    data = assert_response(edge.get(KPI, headers=login_as(services, "admin").headers), 200)
    assert data["overall"] == {
        "lines": 1,
        "accurate": 1,
        "accuracy_pct": 100.0,
        "meets_target": True,
    }
    assert_response(edge.get(KPI, headers=a.who.headers), 403, code="FORBIDDEN_ROLE")
    bad = edge.get(
        KPI,
        params={"from": "2026-02-02", "to": "2026-02-01"},
        headers=login_as(services, "admin").headers,
    )
    assert_response(bad, 422, code="VALIDATION_FAILED")
