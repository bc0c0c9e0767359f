"""Log in: scan the badge (or type it), then the PIN on the big pad."""

from __future__ import annotations

from typing import Any

from kivy.properties import NumericProperty, StringProperty

from terminal.scanners.base import DecodedScan
from terminal.ui.screens.base import TerminalScreen
from terminal.ui.session import BackendError, User, badge_from_scan, badge_from_text
from terminal.workflows.base import Feedback, Tone

MAX_PIN = 8


class LoginScreen(TerminalScreen):
    site = StringProperty("")
    pin_length = NumericProperty(0)  # the screen shows dots, never the digits

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pin = ""

    def on_pre_enter(self, *_: Any) -> None:
        self.clear()
        self.note("Scan your badge.")

    def clear(self) -> None:
        self.ids.badge.text = ""
        self._set_pin("")

    def _set_pin(self, pin: str) -> None:
        self._pin = pin
        self.pin_length = len(pin)

    # -- input -------------------------------------------------------------------------------
    def on_scan(self, scan: DecodedScan) -> None:
        try:
            badge = badge_from_scan(scan.text, scan.symbology)
        except BackendError as exc:
            self.show(Feedback(Tone.BAD, exc.code, exc.text))
            return
        self.ids.badge.text = badge
        self._set_pin("")
        self.show(Feedback(Tone.GOOD, None, "Badge read. Enter your PIN."))

    def press(self, key: str) -> None:
        """A PIN pad key: a digit, "del" or "ok"."""
        if key == "ok":
            self.submit()
        elif key == "del":
            self._set_pin(self._pin[:-1])
        elif key.isdigit() and len(self._pin) < MAX_PIN:
            self._set_pin(self._pin + key)

    def on_typed(self, key: str) -> bool:
        if key == "enter":
            self.submit()
        elif key == "backspace":
            self.press("del")
        elif key.isdigit():
            self.press(key)
        else:
            return False
        return True

    def submit(self) -> None:
        text = self.ids.badge.text
        pin = self._pin
        if not text.strip():
            self.note("Scan your badge first.")
            return
        if not pin:
            self.note("Enter your PIN.")
            return
        try:
            badge = badge_from_text(text)
        except BackendError as exc:
            self.show(Feedback(Tone.BAD, exc.code, exc.text))
            return
        self.note("Logging in…")
        self.app.run_async(lambda: self.app.backend.login(badge, pin), self._done, self._failed)

    def _done(self, user: User) -> None:
        self._set_pin("")
        self.app.logged_in(user)

    def _failed(self, exc: BaseException) -> None:
        self._set_pin("")
        self.app.fail(self, exc)
