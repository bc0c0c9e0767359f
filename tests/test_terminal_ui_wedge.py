"""The keyboard wedge bound to the Kivy window, driven by synthetic key events: a fast burst
ending in Enter is a scan, a person's slow keys are typing (pad or focused field)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import terminal_ui_support as ui  # before any Kivy import: offscreen switches, the Window

from terminal.ui.app import TerminalApp
from terminal.ui.backend import EdgeBackend

ENTER = 13
BACKSPACE = 8


class FakeClock:
    """Key arrival times: a scanner types within milliseconds, a person takes a second."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[TerminalApp, FakeClock]]:
    terminal = TerminalApp(
        EdgeBackend(tmp_path / "data", interfaces=["127.0.0.1"]), cache_dir=tmp_path / "cache"
    )
    with ui.mounted(terminal):
        ui.settle(terminal)
        clock = FakeClock()
        terminal.wedge.clock = clock
        yield terminal, clock


def scanner_types(clock: FakeClock, text: str) -> None:
    for ch in text:
        clock.t += 0.005
        ui.Window.dispatch("on_textinput", ch)
    clock.t += 0.005
    ui.Window.dispatch("on_key_down", ENTER, 40, None, [])


def person_types(app: TerminalApp, clock: FakeClock, keys: str) -> None:
    for ch in keys:
        clock.t += 0.8
        if ch == "\r":
            ui.Window.dispatch("on_key_down", ENTER, 40, None, [])
        elif ch == "\b":
            ui.Window.dispatch("on_key_down", BACKSPACE, 42, None, [])
        else:
            ui.Window.dispatch("on_textinput", ch)
    clock.t += 0.8
    app.wedge.poll()


def test_a_fast_burst_is_a_scan_and_slow_keys_fill_the_quantity_pad(app):
    terminal, clock = app
    workflow = ui.ScriptedPicking([ui.PickLine("A01-01-1L", "00012345600012", 3, "TOTE-0001")])
    terminal.work_on(workflow)
    ui.settle(terminal)
    screen = terminal.current

    scanner_types(clock, "A01-01-1L")
    ui.pump(lambda: screen.prompt == "Scan item 00012345600012")
    assert terminal.scans_handled == 1
    scanner_types(clock, "00012345600012")
    ui.pump(lambda: screen.prompt == "Quantity?")

    person_types(terminal, clock, "34\b")  # typed, then corrected
    assert screen.qty_text == "3"
    assert terminal.scans_handled == 2  # typing never became a scan
    person_types(terminal, clock, "\r")
    ui.settle(terminal)
    assert workflow.inputs == [("qty", 3)]
    assert screen.prompt == "All picked"


def test_typing_goes_into_the_focused_field_and_a_scan_still_reaches_the_screen(app):
    terminal, clock = app
    terminal.go("login")
    ui.settle(terminal)
    login = terminal.current
    login.ids.badge.focus = True
    ui.settle(terminal)
    person_types(terminal, clock, "K-42")
    assert login.ids.badge.text == "K-42"  # a person typed it into the field

    scanner_types(clock, "BADGE-K-0042")  # scanned while the field has focus
    ui.pump(lambda: login.ids.badge.text == "K-0042")
    assert terminal.scans_handled == 1  # the scan did not type into the field

    login.ids.badge.focus = False
    ui.settle(terminal)
    person_types(terminal, clock, "12")  # no field focused: the PIN pad gets the digits
    assert login.pin_length == 2
