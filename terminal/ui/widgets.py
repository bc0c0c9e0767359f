"""Widgets the .kv rules build on (registered with Kivy's Factory on import)."""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory
from kivy.uix.label import Label

__all__ = ["FreshLabel"]


class FreshLabel(Label):  # type: ignore[misc]  # Kivy is untyped
    """A Label that draws changed text into a new texture rather than over the one on screen.

    Kivy re-fills a label's texture in place when the new text has the same pixel size
    ("OFFLINE 7 pending" → "OFFLINE 8 pending"). A GL driver must then finish every frame that
    still reads the old texture before it may write it: on Mesa's llvmpipe (software GL) that
    stalled the frame 8–27 ms per such label, and a scan changes several (prompt, message,
    fields, status, the current line; bench/screen_feedback_bench.py). A fresh texture — the
    usual "orphaning" — costs one small allocation per change and never waits; the old one is
    freed once nothing draws it."""

    def texture_update(self, *largs: Any) -> None:
        self._label.texture = None  # the core label then creates a new texture for this text
        super().texture_update(*largs)


Factory.register("FreshLabel", cls=FreshLabel)
