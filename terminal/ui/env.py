"""Kivy's environment switches, set before the first `import kivy` (no Kivy import here).

Kivy reads its configuration, command line and log file settings at import time. The terminal
parses its own arguments, keeps no ~/.kivy/config.ini and logs through `logging`, so the launcher
and the tests call `prepare()` first; `headless=True` also renders offscreen with no audio device
(tests, CI, a server without a display).
"""

from __future__ import annotations

import os
import sys

__all__ = ["has_display", "kivy_imported", "prepare"]

_ALWAYS = {"KIVY_NO_ARGS": "1", "KIVY_NO_CONFIG": "1", "KIVY_NO_FILELOG": "1"}
_HEADLESS = {"SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy"}


def kivy_imported() -> bool:
    return "kivy" in sys.modules


def has_display() -> bool:
    """A desktop session Kivy can open a window on (X11 or Wayland), or Android."""
    return bool(
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("ANDROID_ARGUMENT")
    )


def prepare(*, headless: bool = False) -> None:
    """Set Kivy's switches (existing values win, so an operator can still override them)."""
    if kivy_imported():
        return  # too late to change anything; whoever imported Kivy first decided
    for key, value in _ALWAYS.items():
        os.environ.setdefault(key, value)
    if headless:
        for key, value in _HEADLESS.items():
            os.environ.setdefault(key, value)
