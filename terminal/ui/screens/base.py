"""What every screen shares: the message line, scan and typing entry points, and the app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kivy.properties import ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from protocols.errors import ErrorCode, message_for
from terminal.scanners.base import DecodedScan
from terminal.ui import theme
from terminal.workflows.base import Feedback, Tone

if TYPE_CHECKING:
    from terminal.ui.app import TerminalApp


class TerminalScreen(Screen):  # type: ignore[misc]  # Kivy is untyped
    """A thin view: it shows what it is given and hands scans, keys and buttons on.

    `app` is set by `TerminalApp.build` (screens never call `App.get_running_app()`, so a test
    can build the tree without running the app).
    """

    message = StringProperty("")
    message_rgba = ListProperty(list(theme.MUTED))

    app: TerminalApp

    def show(self, feedback: Feedback) -> None:
        """Show the sentence in the tone's colour, flash and beep."""
        self.message = feedback.text
        self.message_rgba = list(theme.rgba(feedback.tone))
        self.app.signal(feedback.tone)

    def note(self, text: str) -> None:
        """A neutral line (no sound): "Searching…"."""
        self.message = text
        self.message_rgba = list(theme.MUTED)

    def on_scan(self, scan: DecodedScan) -> None:
        """Default: this screen expects no scan."""
        self.show(
            Feedback(
                Tone.BAD,
                ErrorCode.BARCODE_UNEXPECTED.value,
                message_for(ErrorCode.BARCODE_UNEXPECTED).text,
            )
        )

    def on_typed(self, key: str) -> bool:
        """A key typed (not scanned) while no text field has focus: a digit, "backspace" or
        "enter". Return True when the screen used it."""
        return False

    def refresh(self, *_: Any) -> None:
        """Re-read what the screen shows (called after each action and once a second)."""
