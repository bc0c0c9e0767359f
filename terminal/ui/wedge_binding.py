"""Binds the keyboard wedge (`terminal.scanners.wedge.KeyboardWedge`, pure logic) to the Kivy
window: every key the window gets is shown to the wedge first; scans go to the app's scan entry
point, a person's typing goes to the focused text field, or to the screen (PIN pad, quantity
pad) when no field has focus.

Kivy calls the handlers bound last first, and a handler returning True stops the event: this
binding is made after the window's own keyboard, so a focused TextInput never sees the keys
the wedge holds (it gets them back, in order, through `_typed`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.textinput import TextInput
from kivy.uix.widget import Widget

from terminal.scanners.base import ScanHandler
from terminal.scanners.wedge import KeyboardWedge

__all__ = ["WedgeBinding", "focused_text_input"]

_BACKSPACE = 8
_ENTER = frozenset({13, 271})


def focused_text_input(root: Widget | None) -> TextInput | None:
    if root is None:
        return None
    stack = [root]
    while stack:
        widget = stack.pop()
        if isinstance(widget, TextInput) and widget.focus:
            return widget
        stack.extend(widget.children)
    return None


class WedgeBinding:
    """`bind()` / `unbind()` the window events; `clock` is injectable so a test can type
    "slowly" without sleeping."""

    def __init__(
        self,
        on_scan: ScanHandler,
        on_key: Callable[[str], Any],
        current_root: Callable[[], Widget | None],
        *,
        wedge: KeyboardWedge | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.wedge = wedge or KeyboardWedge()
        self.wedge.on_typed = self._typed
        self._on_scan = on_scan
        self._on_key = on_key
        self._root = current_root
        self.clock = clock
        self._poller: Any = None

    def bind(self) -> None:
        self.wedge.start(self._on_scan)
        Window.bind(on_key_down=self._key_down, on_textinput=self._textinput)
        interval = self.wedge.settings.max_interkey_ms / 1000
        self._poller = Clock.schedule_interval(lambda _dt: self.poll(), interval)

    def unbind(self) -> None:
        Window.unbind(on_key_down=self._key_down, on_textinput=self._textinput)
        if self._poller is not None:
            self._poller.cancel()
            self._poller = None
        self.wedge.stop()

    def poll(self) -> None:
        self.wedge.poll(self.clock())

    # -- window events (Kivy thread) ---------------------------------------------------------
    def _textinput(self, _window: Any, text: str) -> bool:
        return self.wedge.feed(text, self.clock())

    def _key_down(
        self, _window: Any, keycode: int, _scancode: int, _text: str | None, modifiers: Any
    ) -> bool:
        if self.wedge.feed_key(keycode, list(modifiers or ()), self.clock()):
            return True
        if keycode == _BACKSPACE and focused_text_input(self._root()) is None:
            self._on_key("backspace")
            return True
        return False

    # -- typing released by the wedge --------------------------------------------------------
    def _typed(self, text: str) -> None:
        field = focused_text_input(self._root())
        for ch in text:
            if field is not None:
                if ch in "\r\n":
                    field.dispatch("on_text_validate")
                elif ch != "\t":
                    field.insert_text(ch)
            elif ch in "\r\n":
                self._on_key("enter")
            elif ch.isprintable():
                self._on_key(ch)
