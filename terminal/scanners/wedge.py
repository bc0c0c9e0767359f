"""Keyboard wedge: a scanner that types into the app window, told apart from a person typing
(pure logic, no Kivy; the UI feeds it keys and a clock).

Every character the window receives goes through `KeyboardWedge.feed(ch, t)` first, with
`t` a monotonic time in seconds taken when the key arrived. The wedge holds keys while they
could still be a scan and decides:

- **scan**: the keys came faster than `max_interkey_ms` apart, ended with the suffix, and
  hold at least `min_length` data characters (and start with the prefix, when one is set)
  → `on_scan(DecodedScan)`;
- **typing**: anything else → `on_typed(text)`, in order, for the UI to insert into the
  focused field (a `"\\r"` in it is the person's Enter).

A person's keys are therefore delivered late by at most `max_interkey_ms` (plus the poll
interval). With a prefix set, text that cannot start with it is released at once, and a
scan that started with the prefix tolerates slow frames (gaps up to ten times
`max_interkey_ms`), since the prefix already says it is a scanner. Without a suffix, a fast
burst of `min_length` or more keys that goes quiet is a scan; `poll(t)` ends it.

Kivy binding (done in `terminal/ui/`): call `feed(text, t)` from `Window.on_textinput`,
`feed_key(keycode, modifiers, t)` from `Window.on_key_down` (it takes Enter, Tab and
Ctrl+] = GS, and returns True for keys it consumed), and `poll(t)` from a Clock interval of
about `max_interkey_ms`. If the focused widget would also receive the keys, block them while
the wedge returns True.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection

from terminal.scanners.base import ScanHandler
from terminal.scanners.config import Framing, WedgeSettings
from terminal.scanners.framing import Framer, safe_call

__all__ = ["KeyboardWedge", "TypedHandler"]

log = logging.getLogger(__name__)

TypedHandler = Callable[[str], None]

# Kivy/SDL key codes the wedge handles in feed_key (the UI passes them through unchanged).
_ENTER = frozenset({13, 271})  # Enter, keypad Enter
_TAB = 9
# Editing and navigation keys: pending typing is released before the widget sees them.
_EDITING = frozenset({8, 27, 127, 273, 274, 275, 276, 278, 279, 280, 281})
_CTRL_CHARS = "@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_"


class KeyboardWedge:
    """`ScannerDriver` for a scanner typing into the window; keys come from `feed*`."""

    name = "wedge"

    def __init__(
        self,
        settings: WedgeSettings | None = None,
        framing: Framing | None = None,
        *,
        on_typed: TypedHandler | None = None,
        source: str = "wedge",
    ) -> None:
        self.settings = settings or WedgeSettings()
        self.framing = framing or Framing()
        self.framer = Framer(self.framing, source)
        self.on_typed = on_typed
        self._gap = self.settings.max_interkey_ms / 1000
        self._on_scan: ScanHandler | None = None
        self._keys: list[tuple[str, float]] = []

    # -- ScannerDriver -------------------------------------------------------------------
    def start(self, on_scan: ScanHandler) -> None:
        self._on_scan = on_scan

    def stop(self) -> None:
        self._release()
        self._on_scan = None

    @property
    def active(self) -> bool:
        return self._on_scan is not None

    @property
    def pending(self) -> str:
        """Keys held while the wedge decides."""
        return "".join(ch for ch, _ in self._keys)

    # -- input ---------------------------------------------------------------------------
    def feed(self, text: str, t: float) -> bool:
        """Characters the window received at time `t` (seconds, monotonic). Returns True:
        the wedge took them (they reach the UI through `on_typed` if they were typing).
        Returns False when the wedge is stopped: the UI handles the key itself."""
        if not self.active:
            return False
        for ch in text:
            self._feed_char(ch, t)
        return True

    def feed_key(self, keycode: int, modifiers: Collection[str], t: float) -> bool:
        """A key-down the window received (Kivy `on_key_down` keycode and modifiers). Takes
        Enter/keypad Enter (CR), Tab, Ctrl+] (GS) and, inside a burst of keys, Ctrl + `@ A–Z
        [ \\ ^ _` (ASCII 0–31) and returns True for them; returns False for every other
        key, after releasing pending typing before editing keys (Backspace, arrows...) so
        their order holds."""
        if not self.active:
            return False
        if keycode in _ENTER:
            return self.feed("\r", t)
        if keycode == _TAB:
            return self.feed("\t", t)
        if "ctrl" in modifiers and 32 < keycode < 128:
            up = chr(keycode).upper()
            # Ctrl+] (GS) always; other Ctrl keys only inside a burst, so that Ctrl+C/V
            # typed by a person stay shortcuts.
            if up in _CTRL_CHARS and (up == "]" or self._keys):
                return self.feed(chr(ord(up) - 64), t)
        if keycode in _EDITING:
            self._release()
        return False

    def poll(self, t: float) -> None:
        """Call regularly: keys quiet for longer than the gap are settled (typing, or a
        suffix-less scan)."""
        if self._keys and t - self._keys[-1][1] > self._allowed_gap():
            self._settle()

    # -- the decision --------------------------------------------------------------------
    def _allowed_gap(self) -> float:
        prefix = self.framing.prefix
        if prefix and self.pending.startswith(prefix):
            return self._gap * 10  # the prefix already says scanner: tolerate slow frames
        return self._gap

    def _feed_char(self, ch: str, t: float) -> None:
        if self._keys and t - self._keys[-1][1] > self._allowed_gap():
            self._settle()
        self._keys.append((ch, t))
        text = self.pending
        prefix, suffix = self.framing.prefix, self.framing.suffix
        if prefix and not (text.startswith(prefix) or prefix.startswith(text)):
            self._release()  # cannot be a scan: don't keep a person waiting
        elif suffix and text.endswith(suffix) and not self._scan(text):
            self._release()  # a suffix that ends no scan: a person pressed Enter

    def _settle(self) -> None:
        text = self.pending
        if self.framing.suffix or not self._scan(text):
            self._release()  # with a suffix, a burst that went quiet before it is typing

    def _scan(self, text: str) -> bool:
        prefix = self.framing.prefix
        if prefix and not text.startswith(prefix):
            return False
        if len(self.framer.strip(text)) < self.settings.min_length:
            return False
        self._keys.clear()
        scan = self.framer.decode(text.encode("utf-8"), text)
        if scan is not None and self._on_scan is not None:
            safe_call(self._on_scan, scan)
        return True

    def _release(self) -> None:
        text = self.pending
        self._keys.clear()
        if text and self.on_typed is not None:
            try:
                self.on_typed(text)
            except Exception:
                log.exception("typed-text handler failed")
