"""Workflows the edge server has no API for yet (no Kivy) — none today: counting, the last one,
is a real workflow now (counting.py), as returns became before it.

It opens, says plainly that this server does not offer the work yet
(`TERMINAL_NOT_AVAILABLE`), and queues nothing: a scan is never confirmed for work the server
cannot take. When the server's API exists, it becomes a real workflow like picking.py.
"""

from __future__ import annotations

from typing import Any

from protocols.errors import ErrorCode
from terminal.scanners.base import DecodedScan
from terminal.workflows.base import Feedback, View
from terminal.workflows.session import QueuedWorkflow, bad

__all__ = ["NotAvailableWorkflow"]

UNAVAILABLE = "not_available"


class NotAvailableWorkflow(QueuedWorkflow):
    """Honest placeholder: every scan and key answers TERMINAL_NOT_AVAILABLE."""

    what = ""

    def view(self) -> View:
        return self.make_view(
            f"{self.what} is not available on this server yet. Ask a supervisor.",
            UNAVAILABLE,
            fields={"workflow": self.name},
        )

    def on_scan(self, scan: DecodedScan) -> Feedback:
        return bad(ErrorCode.TERMINAL_NOT_AVAILABLE, workflow=self.name)

    def on_input(self, name: str, value: Any) -> Feedback:
        return bad(ErrorCode.TERMINAL_NOT_AVAILABLE, workflow=self.name, input=name)
