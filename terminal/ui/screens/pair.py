"""Pair this handheld with the chosen site using a supervisor's one-time code."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from terminal.scanners.base import DecodedScan
from terminal.ui.screens.base import TerminalScreen


class PairScreen(TerminalScreen):
    site = StringProperty("")

    def on_pre_enter(self, *_: Any) -> None:
        self.ids.code.text = ""
        self.note("Ask a supervisor for a pairing code.")

    def submit(self) -> None:
        code = self.ids.code.text.strip()
        if not code:
            self.ids.code.focus = True
            return
        self.note("Pairing…")
        self.app.run_async(
            lambda: self.app.backend.pair(code),
            lambda _: self.app.paired(),
            self._failed,
        )

    def _failed(self, exc: BaseException) -> None:
        self.ids.code.text = ""
        self.app.fail(self, exc)

    def on_scan(self, scan: DecodedScan) -> None:
        """The pairing code printed as a barcode pairs just like typing it."""
        self.ids.code.text = scan.text.strip()
        self.submit()
