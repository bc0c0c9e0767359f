"""The work screen's packing and document inputs, rendered offscreen: the "seal the carton"
panel (type, weight on a decimal pad, optional printer) and a typed PO / order number, driven
against the real workflows on a live edge server on loopback (and a small scripted workflow
for what the edge cannot show without a label printer)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import terminal_ui_support as ui  # before any Kivy import: offscreen switches, the Window
from packing_support import Pick, gs1, gtin13, picked_order, stock_item
from packing_support import setup_site as setup_packing
from receiving_support import make_po
from receiving_support import setup_site as setup_receiving
from returns_support import put_rma, rma_body
from returns_support import setup_site as setup_returns
from terminal_workflow_support import Handheld

from protocols.errors import ErrorCode, message_for
from terminal.client.queue import Status
from terminal.ui import theme
from terminal.ui.app import TerminalApp
from terminal.ui.backend import EdgeBackend
from terminal.ui.screens.carton import CartonPanel
from terminal.ui.screens.work import WorkScreen
from terminal.workflows.base import Feedback, Tone, View
from terminal.workflows.packing import PackingWorkflow
from terminal.workflows.receiving import ReceivingWorkflow
from terminal.workflows.returns import ReturnsWorkflow

from conftest import LiveEdge, login_as


@pytest.fixture
def app(tmp_path: Path) -> Iterator[TerminalApp]:
    backend = EdgeBackend(tmp_path / "data", interfaces=["127.0.0.1"])
    terminal = TerminalApp(backend, cache_dir=tmp_path / "cache")
    with ui.mounted(terminal):
        ui.settle(terminal)
        yield terminal


def work(app: TerminalApp, workflow: Any) -> WorkScreen:
    app.work_on(workflow)
    ui.settle(app)
    screen = app.current
    assert isinstance(screen, WorkScreen)
    return screen


def tap(widget: Any, text: str) -> None:
    """Press the one enabled button labelled `text` under `widget`, as a finger would."""
    [button] = [b for b in ui.buttons(widget) if b.text == text and not b.disabled]
    button.dispatch("on_release")


def panel(screen: WorkScreen) -> CartonPanel:
    assert screen.carton is not None and screen.carton.parent is screen
    return screen.carton


def red(label: Any) -> bool:
    return list(label.color) == list(theme.rgba(Tone.BAD))


def catalogue(code: ErrorCode) -> str:
    return message_for(code).text


# -- packing: typed order number, then the carton panel against the real workflow ---------------
def test_packer_types_the_order_then_seals_the_carton_with_type_and_weight(
    live_edge: LiveEdge, app: TerminalApp, tmp_path: Path
):
    services = live_edge.services
    setup_packing(services)
    stock_item(services.db, "MUG-1", 10)
    stock_item(services.db, "TEA-1", 10, lot="L1")
    picked_order(
        services.db,
        "SO-5",
        [("MUG-1", 2), ("TEA-1", 1)],
        [Pick(1, "TOTE-0001"), Pick(2, "TOTE-0001")],
    )
    hh = Handheld.open(live_edge, tmp_path, "packer")
    try:
        workflow = PackingWorkflow(hh.work)
        screen = work(app, workflow)
        ids = screen.ids
        assert [b.text for b in reversed(ids.actions.children)] == ["Close carton"]
        assert ids.doc_number.hint_text == "Order number" and ids.doc_row.height > 0

        tap(screen, "Close carton")  # no order open yet: nothing to seal
        assert screen.carton is None and red(ids.message)
        assert screen.message == catalogue(ErrorCode.TERMINAL_WRONG_STEP)

        tap(screen, "Open")  # nothing typed: a hint, nothing sent
        assert screen.message == "Order number: type it, then Open." and not red(ids.message)
        ids.doc_number.text = "SO-404"
        tap(screen, "Open")
        assert red(ids.message) and ids.doc_number.text == "SO-404"  # kept, to correct it
        assert screen.state == "start"
        ids.doc_number.text = " SO-5 "
        ids.doc_number.dispatch("on_text_validate")  # Enter in the field
        assert screen.message == "Order SO-5: 3 units to pack."
        assert list(ids.message.color) == list(theme.rgba(Tone.GOOD))
        assert ids.doc_number.text == "" and ids.doc_row.height == 0 and ids.doc_row.disabled
        # the carton types are for the panel, not listed as a field
        assert "Carton types" not in ui.field_texts(screen)
        assert "Sealed" not in ui.field_texts(screen)  # nothing sealed yet: no empty field

        tap(screen, "Close carton")
        carton = panel(screen)
        ui.settle(app)
        assert ids.body.disabled  # nothing under the panel can be pressed
        assert [b.text for b in reversed(carton.ids.types.children)] == [
            "BOX-S\nup to 10 kg",
            "BOX-L\nup to 30 kg",
        ]
        assert [(b.text, b.height) for b in ui.buttons(carton) if b.height < theme.TOUCH_DP] == []
        ui.screenshot(tmp_path, "carton-open")

        tap(carton, "Seal")  # no type chosen: said, nothing sent
        assert carton.message == "Choose the carton type first."
        tap(carton, "BOX-S\nup to 10 kg")
        assert carton.carton_type == "BOX-S"
        tap(carton, "Seal")  # no weight keyed: the workflow's refusal, and what to key
        assert carton.message == (
            catalogue(ErrorCode.VALIDATION_FAILED) + "\nKey the carton's weight in kg."
        )
        assert red(carton.ids.message) and app.player.played[-1] is Tone.BAD
        tap(carton, "0")
        tap(carton, "Seal")
        assert carton.message.endswith("The weight must be more than 0 and at most 1000 kg.")
        tap(carton, "DEL")
        tap(carton, "1")
        tap(carton, "Seal")  # a weight, but nothing scanned into the carton yet
        assert carton.message == catalogue(ErrorCode.PACK_CARTON_EMPTY)
        assert hh.conn.queue.commands() == []  # every refusal: nothing queued
        tap(carton, "Cancel")
        assert screen.carton is None and not ids.body.disabled

        for key in ("2", "OK"):  # the next scan counts 2
            tap(screen, key)
        app.deliver_scan(ui.scan(gtin13("MUG-1")))
        ui.pump(lambda: screen.message.startswith("Checked") or red(ids.message))
        assert not red(ids.message), screen.message
        app.handle_scan(ui.scan(gs1("TEA-1", lot="L1")))
        assert not red(ids.message), screen.message
        assert screen.prompt == "Everything is in a carton: seal it (type and weight)."

        tap(screen, "Close carton")
        carton = panel(screen)
        tap(carton, "BOX-S\nup to 10 kg")
        for key in ("1", "1"):  # 11 kg in a box that takes 10
            app.deliver_typed(key)  # typed on a keyboard: the panel's weight takes it
        assert carton.weight_text == "11"
        tap(carton, "Seal")
        assert carton.message == (
            catalogue(ErrorCode.PACK_WEIGHT_OUT_OF_RANGE)
            + "\nBOX-S takes more than 0.2 kg and at most 10 kg."
        )
        ui.screenshot(tmp_path, "carton-too-heavy")
        for key in ("backspace", "backspace", "3", ",", "2"):
            app.deliver_typed(key)
        assert carton.ids.weight.text == "Weight 3.2 kg"
        app.deliver_typed("enter")  # Enter seals
        ui.settle(app)
        assert screen.carton is None
        assert screen.message == catalogue(ErrorCode.PACK_ORDER_PACKED)
        assert app.player.played[-1] is Tone.DONE
        assert screen.state == "done" and ids.doc_row.height > 0  # the next order may be typed
        [seal] = [c for c in hh.conn.queue.commands() if c.path.endswith("/close-carton")]
        assert seal.body["carton_type"] == "BOX-S" and seal.body["weight_kg"] == 3.2
        assert "printer" not in seal.body
        hh.drain()
        screen.refresh()  # the server's answer: the carton's SSCC, shown as a sentence
        [sealed] = [r["value"] for r in ui.row_data(screen, "FieldRow") if r["field"] == "Sealed"]
        assert sealed.startswith("Carton 1  ·  SSCC ") and "{" not in sealed, sealed
        assert {c.status for c in hh.conn.queue.commands()} == {Status.APPLIED}
        order = services.db.query_one("SELECT status FROM fulfillment_orders WHERE number = 'SO-5'")
        assert order["status"] == "packed"
    finally:
        app.leave_work()
        hh.close()


# -- receiving: a typed PO number ----------------------------------------------------------------
def test_receiver_keys_the_po_number_when_the_label_is_missing(
    live_edge: LiveEdge, app: TerminalApp, tmp_path: Path
):
    services = live_edge.services
    setup_receiving(services)
    make_po(services, "PO-7", [("SOAP-1", 24)])
    hh = Handheld.open(live_edge, tmp_path, "receiver")
    try:
        screen = work(app, ReceivingWorkflow(hh.work))
        ids = screen.ids
        assert ids.doc_number.hint_text == "PO number" and not ids.doc_row.disabled
        tap(screen, "Open")
        assert screen.message == "PO number: type it, then Open."
        ui.screenshot(tmp_path, "receiving-type-po")
        ids.doc_number.text = "PO-404"
        tap(screen, "Open")
        assert screen.message == catalogue(ErrorCode.RECEIVING_DOCUMENT_UNKNOWN)
        assert red(ids.message) and ids.doc_number.text == "PO-404"
        assert hh.conn.queue.commands() == []
        ids.doc_number.text = "PO-7"
        tap(screen, "Open")
        assert not red(ids.message), screen.message
        assert screen.title == "Receiving — PO PO-7"
        assert screen.prompt == "Scan a product, or press Close."
        assert ids.doc_row.height == 0 and ids.doc_row.disabled  # no PO to type mid-receipt
        [start] = hh.conn.queue.commands()
        assert start.body["po"] == "PO-7"
        ui.screenshot(tmp_path, "receiving-typed-po")
    finally:
        app.leave_work()
        hh.close()


# -- returns: a typed RMA number ----------------------------------------------------------------
def test_returns_clerk_keys_the_rma_number_when_the_label_is_missing(
    live_edge: LiveEdge, app: TerminalApp, tmp_path: Path
):
    setup_returns(live_edge.services)
    oms = login_as(live_edge.services, "integration")
    with httpx.Client(base_url=live_edge.url) as http:
        resp = put_rma(http, oms, "R-31", rma_body([("MUG-1", 2, "not_wanted")]))
        assert resp.status_code == 201, resp.text
    hh = Handheld.open(live_edge, tmp_path, "receiver")
    try:
        screen = work(app, ReturnsWorkflow(hh.work))
        ids = screen.ids
        assert ids.doc_number.hint_text == "RMA number" and not ids.doc_row.disabled
        tap(screen, "Open")  # nothing typed: a hint, nothing sent
        assert screen.message == "RMA number: type it, then Open." and not red(ids.message)
        ids.doc_number.text = "R-404"
        tap(screen, "Open")
        assert screen.message == catalogue(ErrorCode.RETURNS_RMA_UNKNOWN)
        assert red(ids.message) and ids.doc_number.text == "R-404"  # kept, to correct it
        assert hh.conn.queue.commands() == []
        ids.doc_number.text = " r-31 "  # as keyed: trimmed, upper-cased by the workflow
        ids.doc_number.dispatch("on_text_validate")
        assert not red(ids.message), screen.message
        assert screen.title == "Returns — RMA R-31"
        assert ids.doc_number.text == "" and ids.doc_row.height == 0 and ids.doc_row.disabled
        [start] = hh.conn.queue.commands()
        assert start.body["rma"] == "R-31"
        assert ui.field_texts(screen)[:2] == ["Rma", "R-31"]
    finally:
        app.leave_work()
        hh.close()


def test_workflows_without_a_document_number_show_no_field(app):
    screen = work(app, ui.ScriptedPicking([ui.PickLine("A01-01-1L", "00012345600012", 1, "T")]))
    assert screen.doc_hint == "" and screen.ids.doc_row.height == 0
    assert screen.ids.doc_row.disabled
    screen.send_document()  # even if asked: nothing happens
    assert screen.workflow.inputs == []


# -- what the edge cannot show without a printer: a scripted packing workflow ---------------------
@dataclass
class SealRecorder:
    """A packing workflow that is sealing a carton: it records what the panel sends and accepts
    it (the real workflow's refusals are tested above)."""

    carton_types: list[dict[str, Any]]
    name: str = "packing"
    state: str = "scan_item"
    inputs: list[tuple[str, Any]] = field(default_factory=list)

    def view(self) -> View:
        return View(
            "Packing — SO-9",
            "Scan each item into the carton, or seal the carton.",
            self.state,
            fields={"order": "SO-9", "carton_types": self.carton_types},
        )

    def on_scan(self, scan: Any) -> Feedback:
        return Feedback(Tone.GOOD, None, "Verified")

    def on_input(self, name: str, value: Any) -> Feedback:
        self.inputs.append((name, value))
        self.state = "done"
        return Feedback(Tone.DONE, ErrorCode.PACK_ORDER_PACKED.value, "Packed")


BOX = {"code": "BOX-M", "description": "Medium", "tare_kg": 0.3, "max_weight_kg": 20.0}


def test_one_carton_type_is_chosen_already_and_the_printer_is_sent_when_given(app, tmp_path):
    workflow = SealRecorder([BOX])
    screen = work(app, workflow)
    assert ui.field_texts(screen) == ["Order", "SO-9"]
    tap(screen, "Close carton")
    carton = panel(screen)
    assert carton.carton_type == "BOX-M"  # the only one: nothing to choose
    for key in (".", "5", "0", "0", "0", ".", "2"):  # at most 3 decimals, one point
        tap(carton, key)
    assert carton.weight_text == "0.500"
    carton.ids.printer.text = "  PACK-ZEBRA-1 "
    tap(carton, "Seal")
    assert workflow.inputs == [
        ("close_carton", {"carton_type": "BOX-M", "weight_kg": 0.5, "printer": "PACK-ZEBRA-1"})
    ]
    assert screen.carton is None and screen.message == "Packed"


def test_panel_with_no_carton_types_says_so_and_leaving_the_workflow_closes_it(app):
    workflow = SealRecorder([])
    screen = work(app, workflow)
    tap(screen, "Close carton")
    carton = panel(screen)
    assert carton.message == "No carton types are set up at this site. Ask a supervisor."
    for key in ("7", "enter"):
        app.deliver_typed(key)
    assert carton.message == "Choose the carton type first." and workflow.inputs == []
    for key in ("x", "9"):
        app.deliver_typed(key)  # a letter is not a weight
    assert carton.weight_text == "79"
    screen.back_to_menu()
    ui.settle(app)
    assert screen.carton is None and carton.parent is None and not screen.ids.body.disabled
