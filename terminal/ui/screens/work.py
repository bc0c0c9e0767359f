"""The one screen every workflow runs in: it renders `Workflow.view()` and passes scans, the
number pad and the buttons to the workflow, showing the `Feedback` it returns at once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty

from protocols.errors import ErrorCode, message_for
from terminal.scanners.base import DecodedScan
from terminal.ui import theme
from terminal.ui.screens.base import TerminalScreen
from terminal.ui.screens.carton import CLOSE_CARTON, CartonPanel
from terminal.workflows.base import Feedback, Tone, View, Workflow

log = logging.getLogger("aisleway.terminal.ui")

MAX_QTY_DIGITS = 6
#: Line keys that say how to draw a line rather than what to show in it.
_LINE_FLAGS = ("done", "current", "short", "state", "text", "id", "seq")


@dataclass(frozen=True, slots=True)
class Action:
    label: str  # the button's text
    input: str  # the name passed to Workflow.on_input
    with_qty: bool = False  # sends the number on the pad (SHORT: how many were found)


#: The buttons each workflow takes besides scans and the quantity pad (OK sends "qty").
ACTIONS: dict[str, tuple[Action, ...]] = {
    "picking": (Action("Next task", "next"), Action("SHORT", "short", True)),
    "putaway": (
        Action("Next task", "next"),
        Action("Bin full", "bin_full"),
        Action("Cancel", "cancel"),
    ),
    "replenishment": (Action("Next task", "next"), Action("Cancel", "cancel")),
    "receiving": (
        Action("Damaged", "damaged"),
        Action("New LPN", "new_lpn"),
        Action("Cancel", "cancel"),
        Action("Close PO", "close"),
        Action("Keep open", "keep_open"),
        Action("Confirm", "confirm"),
    ),
    # Close carton opens the carton panel (type, weight, printer): screens/carton.py
    "packing": (Action("Close carton", CLOSE_CARTON),),
    # Counts on the pad (OK); Accept takes the count a GS1 label carried; a lot not on the
    # label is typed in the field (DOCUMENT_INPUTS). Never an expected quantity: counts are blind.
    "counting": (
        Action("Next task", "next"),
        Action("Accept", "confirm"),
        Action("Bin done", "bin_done"),
        Action("Cancel", "cancel"),
        Action("Submit", "submit"),
    ),
    # Quantity on the pad (OK), then the condition; the disposition is shown after the press.
    "returns": (
        Action("New", "new"),
        Action("Opened", "opened"),
        Action("Damaged", "damaged"),
        Action("Cancel", "cancel"),
        Action("Close RMA", "close"),
        Action("Confirm", "confirm"),
    ),
}
DEFAULT_ACTIONS = (Action("Confirm", "confirm"), Action("Cancel", "cancel"))


@dataclass(frozen=True, slots=True)
class DocumentInput:
    input: str  # the name passed to Workflow.on_input with the typed number
    hint: str  # the text field's hint
    states: tuple[str, ...] = ("start", "done")  # when the field is shown


#: Workflows that open a document by its number when its label is missing or unreadable.
DOCUMENT_INPUTS: dict[str, DocumentInput] = {
    "receiving": DocumentInput("po", "PO number"),
    "packing": DocumentInput("order", "Order number"),
    "returns": DocumentInput("rma", "RMA number"),
    "counting": DocumentInput("lot", "Lot", states=("set_lot",)),
}
#: View fields a dialog uses rather than the screen lists.
_DIALOG_FIELDS = ("carton_types",)
#: How a record's keys read in a field ("" shows the value alone): packing's sealed cartons.
_RECORD_KEYS = {"carton_no": "Carton", "sscc": "SSCC", "tracking": "Tracking", "carrier": ""}
#: The packing state in which a carton can be sealed.
_SEALING_STATE = "scan_item"


def humanise(key: str) -> str:
    return key.replace("_", " ").capitalize()


def line_text(index: int, line: dict[str, Any]) -> str:
    """One task line: its own `text` if the workflow gives one, else its values in order."""
    text = line.get("text")
    if not text:
        values = [str(v) for k, v in line.items() if k not in _LINE_FLAGS and v not in (None, "")]
        text = "  ·  ".join(values)
    return f"{index}. {text}"


def field_text(value: Any) -> str:
    """A field's value as a person reads it: a record as "Name value · …", a list of records
    one a line (packing's sealed cartons), a list of values comma-separated, Yes/No."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            if item in (None, "", [], {}):
                continue
            name = _RECORD_KEYS.get(key, humanise(key))
            parts.append(f"{name} {field_text(item)}" if name else field_text(item))
        return "  ·  ".join(parts)
    if isinstance(value, list | tuple):
        if any(isinstance(item, dict) for item in value):
            return "\n".join(field_text(item) for item in value)
        return ", ".join(field_text(item) for item in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def field_rows(fields: dict[str, Any]) -> list[dict[str, Any]]:
    """The RecycleView rows for a view's fields (empty ones and dialog-only ones left out)."""
    return [
        {"viewclass": "FieldRow", "field": humanise(key), "value": field_text(value)}
        for key, value in fields.items()
        if value not in (None, "", [], {}) and key not in _DIALOG_FIELDS
    ]


def line_row(index: int, line: dict[str, Any]) -> dict[str, Any]:
    """The RecycleView row for one task line: its text and how it stands out."""
    return {
        "viewclass": "TaskLine",
        "text": line_text(index, line),
        "color": line_colour(line),
        "bold": bool(line.get("current")),
        "current": bool(line.get("current")),
    }


def line_colour(line: dict[str, Any]) -> list[float]:
    if line.get("short"):
        return list(theme.WARNING)
    if line.get("done"):
        return list(theme.MUTED)
    if line.get("current"):
        return list(theme.rgba(Tone.INFO))
    return list(theme.TEXT)


class WorkScreen(TerminalScreen):
    workflow: Workflow | None = ObjectProperty(None, allownone=True)
    title = StringProperty("")
    prompt = StringProperty("")
    state = StringProperty("")
    online = BooleanProperty(True)
    pending = NumericProperty(0)
    rejected = NumericProperty(0)
    done = NumericProperty(0)
    total = NumericProperty(0)
    qty_text = StringProperty("")
    pad_open = BooleanProperty(True)  # the "123" key hides the pad on a small screen
    doc_hint = StringProperty("")  # "PO number": the typed document field is shown

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._ticker: Any = None
        self._shown: View | None = None
        self.carton: CartonPanel | None = None
        self._current_line: int | None = None  # the task line last shown as current

    def on_workflow(self, _: Any, workflow: Workflow | None) -> None:
        self.close_carton_panel()
        self.ids.doc_number.text = ""
        self.qty_text = ""
        self.message = ""
        self._shown = None
        self._current_line = None
        self.ids.lines.data = []
        self.ids.lines.scroll_y = 1.0
        self._render_actions(ACTIONS.get(workflow.name, DEFAULT_ACTIONS) if workflow else ())
        self.refresh()

    def on_enter(self, *_: Any) -> None:
        # online/offline and the pending count change in the background (replay): re-read
        self._ticker = Clock.schedule_interval(self.tick, 1.0)

    def on_leave(self, *_: Any) -> None:
        self.close_carton_panel()
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    # -- rendering ---------------------------------------------------------------------------
    def tick(self, *_: Any) -> None:
        """Once a second: news from the replayer (a refusal, a resync), then the view."""
        try:
            poll = getattr(self.workflow, "poll", None)
            news = poll() if poll is not None else None
            if news is not None:
                self.show(news)
            self.refresh()
        except Exception:  # a workflow bug must not stop the app's clock
            log.exception("refreshing the work screen failed")

    def refresh(self, *_: Any) -> None:
        if self.workflow is None:
            return
        view = self.workflow.view()
        if view == self._shown:
            return
        self._shown = view
        self.title = view.title
        self.prompt = view.prompt
        self.state = view.state
        self.online = view.online
        self.pending = view.pending
        self.rejected = view.rejected
        self.done, self.total = view.progress
        doc = DOCUMENT_INPUTS.get(self.workflow.name)
        self.doc_hint = doc.hint if doc is not None and view.state in doc.states else ""
        if not self.doc_hint:
            self.ids.doc_number.focus = False
        self._render_rows(view.fields, view.lines)

    def _render_actions(self, actions: tuple[Action, ...]) -> None:
        grid = self.ids.actions
        grid.clear_widgets()
        for action in actions:
            button = Factory.WorkActionButton(text=action.label)
            button.action = action
            if action.input == "short":
                button.background_color = list(theme.WARNING)
            button.bind(on_release=lambda b: self.act(b.action))
            grid.add_widget(button)

    def _render_rows(self, fields: dict[str, Any], lines: list[dict[str, Any]]) -> None:
        """The fields, then the lines, as the RecycleView's data: only the rows on show are
        widgets, and a view keeps its Label (and texture) while its row is unchanged — a scan
        changes one or two lines of a long task (bench/screen_feedback_bench.py)."""
        head = field_rows(fields)
        rows = head + [line_row(i, ln) for i, ln in enumerate(lines, start=1)]
        rv = self.ids.lines
        if rows != rv.data:
            if len(rows) == len(rv.data):
                for i, row in enumerate(rows):  # in place: only changed rows are refreshed
                    if rv.data[i] != row:
                        rv.data[i] = row
            else:
                rv.data = rows
        # Follow the work down a long task: when the current line moves on, scroll it into
        # view. Not on first show, which starts at the top with the step's fields.
        current = next((i for i, line in enumerate(lines) if line.get("current")), None)
        moved_on = self._current_line is not None and current != self._current_line
        self._current_line = current
        if moved_on and current is not None:  # after the RecycleView has laid the rows out
            at = len(head) + current
            Clock.schedule_once(lambda _dt: self.scroll_to_row(at), -1)

    def scroll_to_row(self, index: int) -> None:
        """Scroll just enough that row `index` is on show, with a little of the next one."""
        rv = self.ids.lines
        layout = rv.layout_manager
        if layout is None or not 0 <= index < len(layout.view_opts):
            return
        scrollable = layout.height - rv.height
        if scrollable <= 0:
            return
        opt = layout.view_opts[index]
        margin = min(dp(24), max(0.0, (rv.height - opt["size"][1]) / 2))
        y, height = opt["pos"][1], opt["size"][1]
        bottom = rv.scroll_y * scrollable  # the viewport, in the layout's coordinates
        if y + height + margin > bottom + rv.height:
            bottom = y + height + margin - rv.height
        elif y - margin < bottom:
            bottom = y - margin
        rv.scroll_y = min(1.0, max(0.0, bottom / scrollable))

    def visible_rows(self) -> list[Any]:
        """The row widgets on show now, top to bottom (the rest exist only as data)."""
        layout = self.ids.lines.layout_manager
        return sorted(layout.children, key=lambda w: -w.y) if layout is not None else []

    # -- input -------------------------------------------------------------------------------
    def handle(self, feedback: Feedback) -> None:
        self.show(feedback)
        self.refresh()

    def on_scan(self, scan: DecodedScan) -> None:
        if self.workflow is None:
            super().on_scan(scan)
            return
        self.handle(self.workflow.on_scan(scan))

    def send(self, name: str, value: Any = None) -> None:
        if self.workflow is None:
            return
        self.handle(self.workflow.on_input(name, value))

    def act(self, action: Action) -> None:
        """An action button; one that takes a number sends (and clears) the pad's."""
        if action.input == CLOSE_CARTON:
            self.open_carton_panel()
        elif action.with_qty:
            qty = int(self.qty_text or "0")
            self.qty_text = ""
            self.send(action.input, qty)
        else:
            self.send(action.input)

    def press(self, key: str) -> None:
        """A number pad key: a digit, "del" or "ok" (sends the quantity)."""
        if key.isdigit():
            if len(self.qty_text) < MAX_QTY_DIGITS:
                self.qty_text = (self.qty_text + key).lstrip("0") or "0"
        elif key == "del":
            self.qty_text = self.qty_text[:-1]
        elif key == "ok":
            if not self.qty_text:
                self.note("Key the quantity, then OK.")
                return
            qty = int(self.qty_text)
            self.qty_text = ""
            self.send("qty", qty)

    def on_typed(self, key: str) -> bool:
        if self.carton is not None:  # the weight pad has the keyboard while the panel is up
            return self.carton.on_typed(key)
        if key.isdigit():
            self.press(key)
        elif key == "backspace":
            self.press("del")
        elif key == "enter":
            self.press("ok")
        else:
            return False
        return True

    # -- a typed document number (receiving's PO, packing's order) ---------------------------
    def send_document(self) -> None:
        """The document field's button (or Enter in it): open that PO or order."""
        workflow = self.workflow
        doc = DOCUMENT_INPUTS.get(workflow.name) if workflow is not None else None
        if workflow is None or doc is None or not self.doc_hint:
            return
        field = self.ids.doc_number
        number = field.text.strip()
        if not number:
            self.note(f"{doc.hint}: type it, then Open.")
            return
        feedback = workflow.on_input(doc.input, number)
        if feedback.tone is not Tone.BAD:
            field.text = ""
            field.focus = False
        self.handle(feedback)

    # -- sealing a carton (packing) ------------------------------------------------------------
    def open_carton_panel(self) -> None:
        if self.workflow is None or self.carton is not None:
            return
        self.refresh()
        if self.state != _SEALING_STATE:
            code = ErrorCode.TERMINAL_WRONG_STEP
            self.show(Feedback(Tone.BAD, code.value, message_for(code).text))
            return
        types = (self._shown.fields.get("carton_types") if self._shown else None) or []
        self.carton = CartonPanel(self, list(types))
        self.ids.body.disabled = True  # nothing under the panel can be pressed
        self.add_widget(self.carton)

    def close_carton_panel(self) -> None:
        panel, self.carton = self.carton, None
        if panel is not None:
            panel.ids.printer.focus = False
            self.remove_widget(panel)
            self.ids.body.disabled = False

    def seal_carton(self, value: dict[str, Any]) -> None:
        """The panel's Seal: the workflow judges it; a refusal keeps the panel open."""
        if self.workflow is None:
            return
        feedback = self.workflow.on_input(CLOSE_CARTON, value)
        if feedback.tone is Tone.BAD:
            if self.carton is not None:
                self.carton.show(feedback)
            self.show(feedback)
            return
        self.close_carton_panel()
        self.handle(feedback)

    def back_to_menu(self) -> None:
        self.app.leave_work()
