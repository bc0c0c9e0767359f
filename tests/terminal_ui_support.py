"""Offscreen Kivy for the terminal screen tests: import this module before anything that
imports Kivy (it sets Kivy's switches, then opens the one Window this process gets).

- `pump(until)` steps Kivy's event loop (clock, input, one frame drawn) until `until()` holds,
  for a bounded number of frames; background calls (`TerminalApp.run_async`) finish meanwhile.
- `mounted(app)` builds the app's widget tree into the shared Window without `App.run()`,
  starts it, and takes it down again, so every test gets a fresh app in the same Window.
- `ScriptedPicking` is a small but real `Workflow` (scan bin → scan item → quantity, with short
  picks) used to drive the work screen before the real workflows are involved.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from terminal.ui import env

env.prepare(headless=True)
assert os.environ["SDL_VIDEODRIVER"] == "offscreen" or env.kivy_imported()

from kivy.config import Config  # noqa: E402

#: A handheld's portrait screen (the Window is created once, at this size).
Config.set("graphics", "width", "480")
Config.set("graphics", "height", "854")

from kivy.base import EventLoop  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.uix.widget import Widget  # noqa: E402

from protocols.barcodes import BarcodeError, ScanKind, parse_scan  # noqa: E402
from protocols.errors import ErrorCode, message_for  # noqa: E402
from terminal.scanners.base import DecodedScan  # noqa: E402
from terminal.ui.app import TerminalApp  # noqa: E402
from terminal.workflows.base import Feedback, Tone, View  # noqa: E402

EventLoop.ensure_window()

MAX_FRAMES = 2000


def pump(until: Callable[[], bool] = lambda: False, *, frames: int = MAX_FRAMES) -> None:
    """Run frames until `until()` is true; fail if it never is within `frames` frames."""
    for _ in range(frames):
        EventLoop.idle()
        if until():
            return
        time.sleep(0.002)  # let worker threads (HTTP, zeroconf) run
    raise AssertionError(f"condition not met within {frames} frames: {until}")


def settle(app: TerminalApp, frames: int = 3) -> None:
    """Wait for background calls to finish, then draw a few frames."""
    pump(lambda: app.busy == 0)
    for _ in range(frames):
        EventLoop.idle()


@contextmanager
def mounted(app: TerminalApp) -> Iterator[TerminalApp]:
    root = app.build()
    Window.add_widget(root)
    app.start()
    try:
        yield app
    finally:
        pump(lambda: app.busy == 0)
        app.stop()
        Window.remove_widget(root)
        EventLoop.idle()


def screenshot(tmp_path: Path, name: str) -> Path:
    """Save the Window as PNG in the test's tmp dir; return the real file (Kivy adds a number)."""
    EventLoop.idle()
    saved = Window.screenshot(str(tmp_path / f"{name}.png"))
    path = Path(saved)
    assert path.is_file() and path.stat().st_size > 1000, saved
    return path


def scan(text: str, source: str = "test") -> DecodedScan:
    return DecodedScan(text=text, raw=text.encode() + b"\r", source=source)


def walk(widget: Widget) -> Iterator[Widget]:
    yield widget
    for child in widget.children:
        yield from walk(child)


def texts(widget: Widget) -> list[str]:
    """Every non-empty `text` in the tree, top to bottom as laid out (Kivy lists children
    last-added first)."""
    found = [w for w in walk(widget) if isinstance(getattr(w, "text", None), str) and w.text]
    found.sort(key=lambda w: -w.to_window(w.x, w.top)[1])
    return [w.text for w in found]


def row_data(screen: Any, viewclass: str) -> list[dict[str, Any]]:
    """The work screen's rows of one kind ("FieldRow", "TaskLine") as its RecycleView has
    them: every row, whether or not it is scrolled into view."""
    return [row for row in screen.ids.lines.data if row["viewclass"] == viewclass]


def field_texts(screen: Any) -> list[str]:
    """The work screen's fields as read left to right, top to bottom: name, value, …"""
    return [text for row in row_data(screen, "FieldRow") for text in (row["field"], row["value"])]


def shown_lines(screen: Any) -> list[Any]:
    """The task line widgets on show now (inside the list's viewport), top to bottom."""
    rv = screen.ids.lines
    bottom, top = rv.to_window(rv.x, rv.y)[1], rv.to_window(rv.x, rv.top)[1]
    rows = [w for w in screen.visible_rows() if type(w).__name__ == "TaskLine"]
    return [
        w for w in rows if w.to_window(w.x, w.top)[1] > bottom and w.to_window(w.x, w.y)[1] < top
    ]


def buttons(widget: Widget) -> list[Any]:
    from kivy.uix.button import Button

    return [w for w in walk(widget) if isinstance(w, Button)]


# -- a small real workflow -----------------------------------------------------------------------
def _bad(code: ErrorCode) -> Feedback:
    return Feedback(Tone.BAD, code.value, message_for(code).text)


@dataclass
class PickLine:
    bin: str
    item: str
    qty: int
    tote: str
    picked: int = 0
    short: bool = False


@dataclass
class ScriptedPicking:
    """Route-ordered pick lines: scan the bin, scan the item (GTIN), key the quantity; SHORT
    records fewer. Online state and pending count are set by the test."""

    lines: list[PickLine]
    name: str = "picking"
    online: bool = True
    pending: int = 0
    rejected: int = 0
    index: int = 0
    step: str = "bin"
    inputs: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def line(self) -> PickLine | None:
        return self.lines[self.index] if self.index < len(self.lines) else None

    def view(self) -> View:
        line = self.line
        prompts = {"bin": "Scan bin {bin}", "item": "Scan item {item}", "qty": "Quantity?"}
        prompt = prompts[self.step].format(**vars(line)) if line else "All picked"
        return View(
            title="Picking — task 12",
            prompt=prompt,
            state=self.step if line else "done",
            fields={"bin": line.bin, "item": line.item, "qty": line.qty, "tote": line.tote}
            if line
            else {},
            lines=[
                {
                    "bin": ln.bin,
                    "item": ln.item,
                    "qty": f"{ln.picked}/{ln.qty}",
                    "tote": ln.tote,
                    "current": i == self.index,
                    "done": i < self.index,
                    "short": ln.short,
                }
                for i, ln in enumerate(self.lines)
            ],
            progress=(self.index, len(self.lines)),
            online=self.online,
            pending=self.pending,
            rejected=self.rejected,
        )

    def on_scan(self, scan: DecodedScan) -> Feedback:
        line = self.line
        if line is None or self.step == "qty":
            return _bad(ErrorCode.TERMINAL_WRONG_STEP)
        try:
            parsed = parse_scan(scan.text, symbology=scan.symbology)
        except BarcodeError as exc:
            return Feedback(Tone.BAD, exc.code.value, exc.text)
        if self.step == "bin":
            if parsed.kind is not ScanKind.BIN or parsed.value != line.bin:
                return _bad(ErrorCode.UNKNOWN_LOCATION)
            self.step = "item"
            return Feedback(Tone.GOOD, None, f"Bin {line.bin}")
        if parsed.gtin != line.item:
            return _bad(ErrorCode.UNKNOWN_ITEM)
        self.step = "qty"
        return Feedback(Tone.GOOD, None, f"Item {line.item}")

    def on_input(self, name: str, value: Any) -> Feedback:
        self.inputs.append((name, value))
        line = self.line
        if name in ("qty", "short") and line is not None and self.step == "qty":
            if not isinstance(value, int) or value < 0 or value > line.qty:
                return _bad(ErrorCode.QUANTITY_INVALID)
            if name == "qty" and value != line.qty:
                return _bad(ErrorCode.QUANTITY_INVALID)
            line.picked, line.short = value, name == "short"
            self.pending += 1
            self.index += 1
            self.step = "bin"
            if self.line is None:
                return Feedback(Tone.DONE, None, "Task done")
            return Feedback(Tone.GOOD, None, f"Put {value} in tote {line.tote}")
        if name in ("qty", "short", "confirm"):
            return _bad(ErrorCode.TERMINAL_WRONG_STEP)
        return _bad(ErrorCode.TERMINAL_INPUT_UNKNOWN)
