"""The payback estimate of the operations report: a pure function of measured figures and the
site's cost assumptions (docs/reports.md#payback-estimate).

Savings per month compare what was measured with what a site without the system would see:


- errors: the baseline error rate (wrong items per shipment) applied to the shipments of a
  month, less the wrong items measured in a month, times the cost of one error;
- labor: the hours a site without the system would need (measured hours × the baseline
  factor) less the hours measured, times the cost of an hour.

Less the monthly running cost that is the net saving; the one-off system cost divided by it is
the months to pay back. A net saving of zero or less never pays back: `months_to_payback` is
None and `why_no_payback` says why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["DAYS_PER_MONTH", "PaybackInputs", "payback"]

DAYS_PER_MONTH = Decimal("30.4375")  # 365.25 / 12
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class PaybackInputs:
    """Measured over `days` days, and the cost assumptions (settings `report_*`)."""

    days: int
    shipments: int
    wrong_items_shipped: int
    labor_hours: float
    labor_cost_per_hour: Decimal
    cost_per_error: Decimal
    system_cost: Decimal
    monthly_running_cost: Decimal
    baseline_error_rate_pct: float
    baseline_labor_hours_factor: float


def _money(value: Decimal) -> str:
    return str(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def _num(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def payback(inp: PaybackInputs) -> dict[str, Any]:
    """Monthly savings and months to pay back, every figure with a sentence saying how it was
    worked out. Money is returned as decimal strings (2 places)."""
    if inp.days < 1:
        raise ValueError("the measured period must be at least one day")
    if inp.shipments < 0 or inp.wrong_items_shipped < 0 or inp.labor_hours < 0:
        raise ValueError("measured figures cannot be negative")
    per_month = DAYS_PER_MONTH / inp.days
    shipments_pm = inp.shipments * per_month
    errors_pm = inp.wrong_items_shipped * per_month
    baseline_rate = _num(inp.baseline_error_rate_pct) / 100
    baseline_errors_pm = baseline_rate * shipments_pm
    error_savings = (baseline_errors_pm - errors_pm) * inp.cost_per_error
    hours_pm = _num(inp.labor_hours) * per_month
    factor = _num(inp.baseline_labor_hours_factor)
    baseline_hours_pm = hours_pm * factor
    labor_savings = (baseline_hours_pm - hours_pm) * inp.labor_cost_per_hour
    gross = error_savings + labor_savings
    net = gross - inp.monthly_running_cost
    measured_rate = (
        round(100.0 * inp.wrong_items_shipped / inp.shipments, 3) if inp.shipments else None
    )

    months: float | None
    why: str | None = None
    if net > 0:
        months = round(float(inp.system_cost / net), 1)
    else:
        months = None
        if inp.shipments == 0 and inp.labor_hours == 0:
            why = (
                "Nothing was shipped and no labor hours were recorded in the period, so there "
                "are no savings to measure and no payback can be estimated."
            )
        else:
            why = (
                f"The net saving is {_money(net)} a month (savings {_money(gross)} less running "
                f"costs {_money(inp.monthly_running_cost)}), which is not more than zero: at "
                "the measured error rate and labor hours the system does not earn back its cost."
            )

    explain = {
        "period": (
            f"Measured over {inp.days} day(s); a month is {DAYS_PER_MONTH} days, so period "
            f"figures are multiplied by {DAYS_PER_MONTH}/{inp.days} to get monthly figures."
        ),
        "error_savings_per_month": (
            f"Baseline {inp.baseline_error_rate_pct}% of {shipments_pm:.1f} shipments a month = "
            f"{baseline_errors_pm:.2f} wrong items, less the {errors_pm:.2f} measured a month, "
            f"times {_money(inp.cost_per_error)} per error."
        ),
        "labor_savings_per_month": (
            f"{hours_pm:.1f} labor hours measured a month; without the system "
            f"{inp.baseline_labor_hours_factor} × as many ({baseline_hours_pm:.1f}); the "
            f"difference times {_money(inp.labor_cost_per_hour)} per hour."
        ),
        "net_savings_per_month": (
            "Error savings plus labor savings, less the monthly running cost of "
            f"{_money(inp.monthly_running_cost)}."
        ),
        "months_to_payback": (
            f"The one-off system cost {_money(inp.system_cost)} divided by the net saving per "
            "month; none when the net saving is zero or less."
        ),
    }
    return {
        "inputs": {k: (_money(v) if isinstance(v, Decimal) else v) for k, v in asdict(inp).items()},
        "measured_error_rate_pct": measured_rate,
        "shipments_per_month": round(float(shipments_pm), 1),
        "labor_hours_per_month": round(float(hours_pm), 1),
        "error_savings_per_month": _money(error_savings),
        "labor_savings_per_month": _money(labor_savings),
        "running_cost_per_month": _money(inp.monthly_running_cost),
        "net_savings_per_month": _money(net),
        "months_to_payback": months,
        "why_no_payback": why,
        "explain": explain,
    }
