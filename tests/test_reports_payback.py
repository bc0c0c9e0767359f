"""The payback estimate: a pure function, checked against the arithmetic done by hand with
fractions (docs/reports.md#payback-estimate)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest

from edge_server.wms.reports.payback import PaybackInputs, payback

BASE = PaybackInputs(
    days=7,
    shipments=700,
    wrong_items_shipped=2,
    labor_hours=400.0,
    labor_cost_per_hour=Decimal("22.00"),
    cost_per_error=Decimal("45.00"),
    system_cost=Decimal("60000"),
    monthly_running_cost=Decimal("500.00"),
    baseline_error_rate_pct=2.0,
    baseline_labor_hours_factor=1.3,
)


def test_savings_and_months_to_payback() -> None:
    month = Fraction(36525, 1200) / 7  # 365.25 / 12 days a month, measured over 7 days
    errors = (Fraction(2, 100) * 700 * month - 2 * month) * 45
    labor = (Fraction(13, 10) - 1) * 400 * month * 22
    net = errors + labor - 500
    out = payback(BASE)
    assert Decimal(out["error_savings_per_month"]) == Decimal(round(errors * 100)) / 100
    assert Decimal(out["labor_savings_per_month"]) == Decimal(round(labor * 100)) / 100
    assert Decimal(out["net_savings_per_month"]) == Decimal(round(net * 100)) / 100
    assert out["running_cost_per_month"] == "500.00"
    assert out["months_to_payback"] == round(float(60000 / net), 1) == 4.5
    assert out["why_no_payback"] is None
    assert out["measured_error_rate_pct"] == round(100 * 2 / 700, 3)
    assert out["shipments_per_month"] == round(float(700 * month), 1)
    assert out["labor_hours_per_month"] == round(float(400 * month), 1)
    assert set(out["explain"]) == {
        "period",
        "error_savings_per_month",
        "labor_savings_per_month",
        "net_savings_per_month",
        "months_to_payback",
    }


def test_no_savings_means_no_payback_and_says_why() -> None:
    out = payback(replace(BASE, baseline_error_rate_pct=0.0, baseline_labor_hours_factor=1.0))
    # no labor saved, and the 2 wrong items shipped cost more than the baseline's none
    assert Decimal(out["labor_savings_per_month"]) == 0
    assert Decimal(out["error_savings_per_month"]) < 0
    assert Decimal(out["net_savings_per_month"]) < 0
    assert out["months_to_payback"] is None
    assert "not more than zero" in out["why_no_payback"]
    assert out["net_savings_per_month"] in out["why_no_payback"]


def test_savings_that_only_cover_the_running_cost_never_pay_back() -> None:
    # one day, one labor hour: 0.3 h saved x 30.4375 days x 22.00 = 200.8875 a month
    out = payback(
        replace(
            BASE,
            days=1,
            shipments=0,
            wrong_items_shipped=0,
            labor_hours=1.0,
            monthly_running_cost=Decimal("200.8875"),
        )
    )
    assert out["labor_savings_per_month"] == "200.89"
    assert out["net_savings_per_month"] == "0.00"
    assert out["months_to_payback"] is None
    assert "not more than zero" in out["why_no_payback"]


def test_nothing_measured_says_so() -> None:
    out = payback(replace(BASE, shipments=0, wrong_items_shipped=0, labor_hours=0.0))
    assert out["months_to_payback"] is None
    assert out["measured_error_rate_pct"] is None
    assert out["why_no_payback"].startswith("Nothing was shipped")


def test_a_free_system_pays_back_at_once() -> None:
    assert payback(replace(BASE, system_cost=Decimal("0")))["months_to_payback"] == 0.0


@pytest.mark.parametrize(
    "bad",
    [
        {"days": 0},
        {"shipments": -1},
        {"wrong_items_shipped": -1},
        {"labor_hours": -0.5},
    ],
)
def test_impossible_inputs_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        payback(replace(BASE, **bad))  # type: ignore[arg-type]
