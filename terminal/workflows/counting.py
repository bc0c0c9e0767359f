"""Cycle counting on the handheld: the edge server has no counting API yet (count requests
are recorded by putaway and short picks, but nothing hands out count tasks), so this workflow
says so and queues nothing (see unavailable.py)."""

from __future__ import annotations

from terminal.workflows.unavailable import NotAvailableWorkflow

__all__ = ["CountingWorkflow"]


class CountingWorkflow(NotAvailableWorkflow):
    name = "counting"
    title = "Cycle counting"
    what = "Cycle counting"
