"""The work screen, rendered offscreen and driven by scans: prompt, fields, route-ordered lines,
feedback colours and sounds, the number pad, short picks, online/offline and pending."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import terminal_ui_support as ui  # before any Kivy import: offscreen switches, the Window

from protocols.errors import ErrorCode, message_for
from terminal.ui import theme
from terminal.ui.app import TerminalApp
from terminal.ui.backend import EdgeBackend
from terminal.ui.screens.work import WorkScreen
from terminal.workflows.base import Tone, View

GTIN_A = "00012345600012"
GTIN_B = "00012345600029"


def lines() -> list[ui.PickLine]:
    return [
        ui.PickLine("A01-01-1L", GTIN_A, 3, "TOTE-0001"),
        ui.PickLine("A01-02-1L", GTIN_B, 2, "TOTE-0002"),
    ]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[TerminalApp]:
    # The real backend, with nothing to find on loopback: the work screen is what is tested.
    backend = EdgeBackend(tmp_path / "data", interfaces=["127.0.0.1"])
    terminal = TerminalApp(backend, cache_dir=tmp_path / "cache")
    with ui.mounted(terminal):
        ui.settle(terminal)
        yield terminal


def work(app: TerminalApp, workflow: ui.ScriptedPicking) -> WorkScreen:
    app.work_on(workflow)
    ui.settle(app)
    screen = app.current
    assert isinstance(screen, WorkScreen)
    return screen


def press(screen: WorkScreen, *keys: str) -> None:
    """Tap number pad keys and buttons by their label, as a finger would."""
    for key in keys:
        [button] = [b for b in ui.buttons(screen) if b.text == key]
        assert not button.disabled, key
        button.dispatch("on_release")


def test_picking_screen_shows_route_ordered_lines_and_big_prompt(app, tmp_path):
    screen = work(app, ui.ScriptedPicking(lines()))
    ids = screen.ids
    assert ids.title.text == "Picking — task 12"
    assert ids.prompt.text == "Scan bin A01-01-1L"
    assert ids.prompt.font_size >= theme.PROMPT_SP  # sp == px at density 1
    expected = [
        f"1. A01-01-1L  ·  {GTIN_A}  ·  0/3  ·  TOTE-0001",
        f"2. A01-02-1L  ·  {GTIN_B}  ·  0/2  ·  TOTE-0002",
    ]
    assert [row["text"] for row in ui.row_data(screen, "TaskLine")] == expected
    shown = [w.text for w in ui.shown_lines(screen)]  # under the fields, as far as they fit
    assert shown and shown == expected[: len(shown)]
    fields = ui.field_texts(screen)
    assert fields == ["Bin", "A01-01-1L", "Item", GTIN_A, "Qty", "3", "Tote", "TOTE-0001"]
    assert ui.texts(screen).index("Bin") < ui.texts(screen).index(expected[0])  # fields first
    assert ids.progress.text == "0 / 2"
    assert ids.status.text == "ONLINE"
    # one-handed: every button is a big touch target
    assert [(b.text, b.height) for b in ui.buttons(screen) if b.height < theme.TOUCH_DP] == []
    assert [b.text for b in reversed(ids.actions.children)] == ["Next task", "SHORT"]
    ui.screenshot(tmp_path, "work-start")


def test_good_scan_flashes_green_and_beeps_bad_scan_red_with_catalogue_sentence(app, tmp_path):
    workflow = ui.ScriptedPicking(lines())
    screen = work(app, workflow)
    app.deliver_scan(ui.scan("A01-01-1L"))  # as a driver thread would
    ui.pump(lambda: screen.ids.prompt.text == f"Scan item {GTIN_A}")
    assert screen.ids.message.text == "Bin A01-01-1L"
    assert list(screen.ids.message.color) == list(theme.rgba(Tone.GOOD))
    assert app.player is not None and app.player.played[-1] is Tone.GOOD
    assert app.root.flash_rgba[:3] == list(theme.rgba(Tone.GOOD))[:3]
    ui.screenshot(tmp_path, "work-good")

    app.deliver_scan(ui.scan(GTIN_B))  # the wrong item
    ui.pump(lambda: app.player.played[-1] is Tone.BAD)
    assert screen.ids.message.text == message_for(ErrorCode.UNKNOWN_ITEM).text
    assert list(screen.ids.message.color) == list(theme.rgba(Tone.BAD))
    assert app.root.flash_rgba[:3] == list(theme.rgba(Tone.BAD))[:3]
    assert app.root.flash_rgba[3] > 0
    assert screen.ids.prompt.text == f"Scan item {GTIN_A}"  # refused: nothing moved on
    ui.screenshot(tmp_path, "work-bad")

    app.deliver_scan(ui.scan("]C1(01)bad"))  # malformed: the grammar's own sentence
    ui.pump(lambda: screen.message != message_for(ErrorCode.UNKNOWN_ITEM).text)
    assert app.player.played[-1] is Tone.BAD
    assert screen.message == message_for(ErrorCode.BARCODE_GS1_UNKNOWN_AI).text


def test_number_pad_sends_quantity_and_short_pick_marks_the_line(app, tmp_path):
    workflow = ui.ScriptedPicking(lines())
    screen = work(app, workflow)
    for text in ("A01-01-1L", GTIN_A):
        app.handle_scan(ui.scan(text))
    assert screen.ids.prompt.text == "Quantity?"

    press(screen, "2", "OK")  # 2 of 3 is not the full quantity
    assert workflow.inputs[-1] == ("qty", 2)
    assert screen.message == message_for(ErrorCode.QUANTITY_INVALID).text
    press(screen, "3", "DEL", "2", "SHORT")  # found only 2: a short pick
    assert workflow.inputs[-1] == ("short", 2)
    ui.settle(app)
    assert screen.ids.prompt.text == "Scan bin A01-02-1L"
    first, second = ui.row_data(screen, "TaskLine")
    assert first["text"].endswith("2/3  ·  TOTE-0001")
    assert first["color"] == list(theme.WARNING)  # short lines stand out
    assert not first["bold"] and not first["current"]
    # the current line is scrolled into view: bold, blue, with a band behind it
    [current] = [w for w in ui.shown_lines(screen) if w.current]
    assert current.text == second["text"] and current.text.startswith("2. A01-02-1L")
    assert current.bold and list(current.color) == list(theme.rgba(Tone.INFO))
    assert screen.ids.progress.text == "1 / 2"
    assert screen.ids.status.text == "ONLINE\n1 pending"

    for text in ("A01-02-1L", GTIN_B):
        app.handle_scan(ui.scan(text))
    press(screen, "2", "OK")
    assert app.player.played[-1] is Tone.DONE
    assert screen.ids.prompt.text == "All picked"
    assert screen.ids.progress.text == "2 / 2"
    ui.screenshot(tmp_path, "work-done")


def test_offline_pending_and_rejected_are_shown(app, tmp_path):
    workflow = ui.ScriptedPicking(lines())
    screen = work(app, workflow)
    workflow.online, workflow.pending, workflow.rejected = False, 3, 1
    # the screen re-reads the view once a second by itself (replay changes it in the background)
    ui.pump(lambda: screen.ids.status.text == "OFFLINE\n3 pending")
    assert not screen.online
    assert screen.ids.rejected.opacity == 1
    assert screen.ids.rejected.text == "1 refused by the server: tell a supervisor"
    ui.screenshot(tmp_path, "work-offline")


def test_action_the_step_does_not_take_is_refused(app):
    workflow = ui.ScriptedPicking(lines()[:1], name="other")
    screen = work(app, workflow)
    press(screen, "OK")  # nothing keyed: a hint, nothing sent
    assert workflow.inputs == [] and screen.message == "Key the quantity, then OK."
    press(screen, "Confirm")
    assert workflow.inputs[-1] == ("confirm", None)
    assert screen.message == message_for(ErrorCode.TERMINAL_WRONG_STEP).text
    assert app.player.played[-1] is Tone.BAD


def test_each_workflow_gets_its_own_buttons_short_only_for_picking(app):
    screen = work(app, ui.ScriptedPicking(lines(), name="putaway"))
    assert [b.text for b in reversed(screen.ids.actions.children)] == [
        "Next task",
        "Bin full",
        "Cancel",
    ]
    press(screen, "Bin full")
    assert screen.workflow.inputs == [("bin_full", None)]
    press(screen, "123")  # the pad folds away on a small screen
    assert screen.ids.pad.height == 0 and screen.ids.pad.disabled


def test_menu_button_leaves_the_workflow(app):
    screen = work(app, ui.ScriptedPicking(lines()))
    press(screen, "Menu")
    ui.settle(app)
    assert app.current.name == "menu"
    assert screen.workflow is None


def test_long_task_keeps_only_rows_on_show_as_widgets_and_follows_the_current_line(app):
    # a 150-line pick: a RecycleView, so the rows are data and only those on show are widgets
    many = [
        ui.PickLine(f"A{n // 50 + 1:02d}-{n % 50 + 1:02d}-1L", GTIN_A, 1, "T-1") for n in range(150)
    ]
    workflow = ui.ScriptedPicking(many)
    screen = work(app, workflow)
    assert len(ui.row_data(screen, "TaskLine")) == 150
    assert len(screen.visible_rows()) < 20
    assert "Bin" in ui.texts(screen)  # first show: the top, with the step's fields
    assert ui.row_data(screen, "TaskLine")[0]["current"]
    for n in range(12):  # well past the first screenful
        for text in (many[n].bin, GTIN_A):
            app.handle_scan(ui.scan(text))
        press(screen, "1", "OK")
        ui.settle(app)
        [current] = [w for w in ui.shown_lines(screen) if w.current]
        assert current.text.startswith(f"{n + 2}. {many[n + 1].bin}")
        assert current.bold and list(current.color) == list(theme.rgba(Tone.INFO))
    done = ui.row_data(screen, "TaskLine")[0]
    assert done["color"] == list(theme.MUTED) and not done["current"]  # done lines step back
    assert screen.ids.progress.text == "12 / 150"
    assert len(screen.visible_rows()) < 20


class SealedCartons(ui.ScriptedPicking):
    """A packing-like view: what was sealed (a list of records), a flag and a list of totes."""

    def view(self) -> View:
        base = super().view()
        sealed = [
            {"carton_no": 1, "sscc": "000123450000000017", "tracking": "1Z1", "carrier": "UPS"},
            {"carton_no": 2, "sscc": "000123450000000024", "tracking": None, "carrier": "UPS"},
        ]
        fields = {"order": "SO-9", "sealed": sealed, "damaged": False, "totes": ["T-1", "T-2"]}
        return replace(base, fields=fields | {"empty": [], "none": None})


def test_record_fields_read_as_sentences_one_carton_a_line(app, tmp_path):
    screen = work(app, SealedCartons(lines()))
    assert ui.field_texts(screen) == [
        "Order",
        "SO-9",
        "Sealed",
        "Carton 1  ·  SSCC 000123450000000017  ·  Tracking 1Z1  ·  UPS\n"
        "Carton 2  ·  SSCC 000123450000000024  ·  UPS",
        "Damaged",
        "No",
        "Totes",
        "T-1, T-2",
    ]
    shown = ui.texts(screen)  # on the screen as well: two lines in one row, not a raw list
    assert (
        "Carton 1  ·  SSCC 000123450000000017  ·  Tracking 1Z1  ·  UPS\nCarton 2  ·  SSCC "
        in "\n".join(shown)
    )
    assert not [t for t in shown if "{" in t or "[" in t]
    ui.screenshot(tmp_path, "work-sealed")
