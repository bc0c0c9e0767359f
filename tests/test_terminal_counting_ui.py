"""A blind bin count driven through the real work screen (offscreen Kivy) against a real edge
on loopback: scans, the number pad, Accept for a GS1 label's count, the typed lot, Bin done,
Submit, and the server's verdict on the screen — and never a book quantity on it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import terminal_ui_support as ui  # before any Kivy import: offscreen switches, the Window
from picking_support import gtin13, picking_site, put_stock, stock_at
from terminal_workflow_support import Handheld
from test_terminal_counting import count_task, gs1_label

from terminal.ui import theme
from terminal.ui.app import TerminalApp
from terminal.ui.backend import EdgeBackend
from terminal.ui.screens.work import WorkScreen
from terminal.workflows.base import Tone
from terminal.workflows.counting import CountingWorkflow

BIN = "A01-01-1L"
EXPIRY = date.today() + timedelta(days=120)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[TerminalApp]:
    backend = EdgeBackend(tmp_path / "data", interfaces=["127.0.0.1"])
    terminal = TerminalApp(backend, cache_dir=tmp_path / "cache")
    with ui.mounted(terminal):
        ui.settle(terminal)
        yield terminal


def press(screen: WorkScreen, *keys: str) -> None:
    for key in keys:
        [button] = [b for b in ui.buttons(screen) if b.text == key]
        assert not button.disabled, key
        button.dispatch("on_release")


def on_screen(screen: WorkScreen) -> str:
    """Everything the screen shows now, and every row its list holds (scrolled or not)."""
    rows = [row.get("text", "") for row in screen.ids.lines.data]
    rows += [f"{row.get('field')} {row.get('value')}" for row in screen.ids.lines.data]
    return "\n".join(ui.texts(screen) + rows)


def test_a_blind_count_through_the_work_screen(app, live_edge, tmp_path):
    services = live_edge.services
    picking_site(services)
    put_stock(services, BIN, "SOAP-1", 7351)
    put_stock(services, BIN, "TEA-1", 6242, lot="L3", expiry=EXPIRY.isoformat())
    task_id = count_task(services)
    hh = Handheld.open(live_edge, tmp_path, "counter")
    try:
        app.work_on(CountingWorkflow(hh.work))
        ui.settle(app)
        screen = app.current
        assert isinstance(screen, WorkScreen)
        shown: list[str] = []

        def look() -> str:
            ui.settle(app)
            text = on_screen(screen)
            shown.append(text)
            return text

        assert [b.text for b in reversed(screen.ids.actions.children)] == [
            "Next task",
            "Accept",
            "Bin done",
            "Cancel",
            "Submit",
        ]
        assert f"task {task_id}" in screen.ids.prompt.text
        press(screen, "Next task")
        assert screen.ids.prompt.text == f"Go to {BIN} and scan the bin."
        assert screen.ids.title.text == f"Cycle counting — task {task_id}"
        look()
        app.handle_scan(ui.scan("A02-01-1L"))  # not on this count: red, the catalogue's words
        assert app.player is not None and app.player.played[-1] is Tone.BAD
        assert "not part of this count" in screen.message
        app.handle_scan(ui.scan(BIN))
        assert app.player.played[-1] is Tone.GOOD
        look()
        app.handle_scan(ui.scan(gtin13("SOAP-1")))
        assert "How many SOAP-1" in screen.ids.prompt.text
        look()
        press(screen, "7", "3", "5", "1", "OK")
        assert app.player.played[-1] is Tone.GOOD
        assert screen.message == "Counted 7351 × SOAP-1."
        # The tea's label has no lot: the lot field appears, typed, then Accept the label count.
        app.handle_scan(ui.scan("]C1" + "01" + gtin13("TEA-1").zfill(14) + "37" + "12"))
        ui.settle(app)
        assert screen.doc_hint == "Lot" and screen.ids.doc_row.opacity == 1
        look()
        screen.ids.doc_number.text = "L3"
        screen.send_document()
        ui.settle(app)
        assert screen.doc_hint == "" and "The label says 12" in screen.ids.prompt.text
        look()
        # Seen before the tea was counted: never the books' 7351 before keying, never 6242.
        assert not [t for t in shown[:3] if "7351" in t]
        assert not [t for t in shown if "6242" in t]
        press(screen, "6", "2", "4", "2", "OK")  # counted by hand, not the label's 12
        assert screen.message == "Counted 6242 × TEA-1 lot L3."
        press(screen, "Bin done")
        assert screen.ids.prompt.text == "Every bin is counted. Press Submit."
        assert screen.ids.progress.text == "1 / 1"
        ui.screenshot(tmp_path, "counting-review")
        press(screen, "Submit")
        assert app.player.played[-1] is Tone.DONE
        hh.drain()
        ui.pump(lambda: screen.ids.prompt.text.startswith("Count accurate"))
        assert screen.ids.status.text == "ONLINE"
        [row] = ui.row_data(screen, "TaskLine")
        assert row["text"] == f"1. {BIN}  ·  7351 × SOAP-1,  6242 × TEA-1 lot L3"
        assert row["color"] == list(theme.MUTED)  # done
        ui.screenshot(tmp_path, "counting-accurate")
        assert stock_at(services, BIN, "SOAP-1") == 7351
        # The same count with a GS1 label carrying lot, expiry and count: Accept takes it.
        again = count_task(services)
        press(screen, "Next task")
        ui.settle(app)
        assert f"— task {again}" in screen.ids.title.text
        app.handle_scan(ui.scan(BIN))
        app.handle_scan(ui.scan(gs1_label("TEA-1", lot="L3", expiry=EXPIRY, count=6242)))
        ui.settle(app)
        assert "The label says 6242" in screen.ids.prompt.text
        press(screen, "Accept", "Submit")  # the bin was visited: no "not counted yet"
        assert screen.message == "Count submitted." and app.player.played[-1] is Tone.DONE
        hh.drain()
        # The soap was not counted this time: it counts as none, and a recount decides.
        ui.pump(lambda: screen.ids.prompt.text.startswith("The count differs: another worker"))
        assert stock_at(services, BIN, "SOAP-1") == 7351
    finally:
        hh.close()
