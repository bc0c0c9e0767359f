"""Returns receiving on the handheld: the edge server has no returns API yet (RMAs and
dispositions are not on the edge), so this workflow says so and queues nothing (see
unavailable.py)."""

from __future__ import annotations

from terminal.workflows.unavailable import NotAvailableWorkflow

__all__ = ["ReturnsWorkflow"]


class ReturnsWorkflow(NotAvailableWorkflow):
    name = "returns"
    title = "Returns receiving"
    what = "Returns receiving"
