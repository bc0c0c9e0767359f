"""Sealing a carton on the packing screen: choose the carton type, key the weight, optionally
name a label printer, then **Seal** sends `on_input("close_carton", {...})` to the workflow.

The panel lies over the work screen (it is a child of it, so the keyboard wedge finds its
printer field and typed digits reach its weight). It checks nothing the workflow checks: an
empty, zero or too heavy weight, an unknown carton type or an empty carton get the workflow's
own refusal (code and catalogue sentence), with one line saying what to key instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kivy.factory import Factory
from kivy.properties import ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from protocols.errors import ErrorCode
from protocols.packing import MAX_WEIGHT_KG
from terminal.ui import theme
from terminal.workflows.base import Feedback, Tone

if TYPE_CHECKING:
    from terminal.ui.screens.work import WorkScreen

__all__ = ["CLOSE_CARTON", "CartonPanel", "explain"]

#: The packing workflow's input this panel sends.
CLOSE_CARTON = "close_carton"
#: "1234.567": enough for any parcel scale, short enough to read at arm's length.
MAX_WEIGHT_CHARS = 8
MAX_DECIMALS = 3


def _kg(value: Any) -> str:
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return str(value)


def explain(feedback: Feedback) -> str:
    """The workflow's sentence, plus what to key instead when the refusal is about the weight."""
    details = feedback.details
    extra = ""
    fields = details.get("fields")
    if isinstance(fields, dict) and "weight_kg" in fields:
        if str(fields["weight_kg"])[:1].isdigit():  # a range: the number keyed was outside it
            extra = f"The weight must be more than 0 and at most {MAX_WEIGHT_KG:g} kg."
        else:  # no number at all
            extra = "Key the carton's weight in kg."
    elif feedback.code == ErrorCode.PACK_WEIGHT_OUT_OF_RANGE.value:
        extra = (
            f"{details.get('carton_type')} takes more than {_kg(details.get('above_kg'))} kg "
            f"and at most {_kg(details.get('max_kg'))} kg."
        )
    return f"{feedback.text}\n{extra}" if extra else feedback.text


class CartonPanel(BoxLayout):  # type: ignore[misc]  # Kivy is untyped
    carton_type = StringProperty("")
    weight_text = StringProperty("")
    message = StringProperty("")
    message_rgba = ListProperty(list(theme.MUTED))

    def __init__(self, screen: WorkScreen, carton_types: list[dict[str, Any]], **kwargs: Any):
        super().__init__(**kwargs)
        self.screen = screen
        # smallest box first, as they stand on the packing bench
        self.carton_types = sorted(
            (c for c in carton_types if c.get("code")),
            key=lambda c: (float(c.get("max_weight_kg") or 0), str(c["code"])),
        )
        grid = self.ids.types
        for ctype in self.carton_types:
            button = Factory.CartonTypeButton(text=self._type_text(ctype))
            button.code = str(ctype["code"])
            button.bind(on_release=lambda b: self.choose(b.code))
            grid.add_widget(button)
        if len(self.carton_types) == 1:  # nothing to choose
            self.choose(str(self.carton_types[0]["code"]))
        if not self.carton_types:
            self.note("No carton types are set up at this site. Ask a supervisor.")

    @staticmethod
    def _type_text(ctype: dict[str, Any]) -> str:
        top = f"up to {_kg(ctype['max_weight_kg'])} kg" if ctype.get("max_weight_kg") else ""
        return "\n".join(x for x in (str(ctype["code"]), top) if x)

    def on_touch_down(self, touch: Any) -> bool:
        # the panel covers the work screen: nothing under it may be pressed through it
        super().on_touch_down(touch)
        return bool(self.collide_point(*touch.pos))

    # -- input -------------------------------------------------------------------------------
    def choose(self, code: str) -> None:
        self.carton_type = code
        for button in self.ids.types.children:
            chosen = button.code == code
            button.background_color = list(theme.PRIMARY if chosen else theme.BUTTON)
            button.bold = chosen

    def press(self, key: str) -> None:
        """A key of the weight pad: a digit, "." (or ","), "del" or "seal"."""
        text = self.weight_text
        if key.isdigit() and len(key) == 1:
            if "." in text and len(text.split(".", 1)[1]) >= MAX_DECIMALS:
                return
            if len(text) < MAX_WEIGHT_CHARS:
                text = key if text == "0" else text + key
        elif key in (".", ","):
            if "." not in text and len(text) < MAX_WEIGHT_CHARS - 1:
                text = (text or "0") + "."
        elif key == "del":
            text = text[:-1]
        elif key == "seal":
            self.seal()
            return
        self.weight_text = text

    def on_typed(self, key: str) -> bool:
        """A key typed on a keyboard while no text field has focus (the wedge's typing)."""
        if key == "backspace":
            self.press("del")
        elif key == "enter":
            self.press("seal")
        elif (key.isdigit() and len(key) == 1) or key in (".", ","):
            self.press(key)
        else:
            return False
        return True

    def value(self) -> dict[str, Any]:
        """What `close_carton` gets: the weight as keyed (None when nothing was keyed)."""
        weight: float | None = float(self.weight_text.rstrip(".")) if self.weight_text else None
        value: dict[str, Any] = {"carton_type": self.carton_type, "weight_kg": weight}
        printer = self.ids.printer.text.strip()
        if printer:
            value["printer"] = printer
        return value

    def seal(self) -> None:
        if not self.carton_type:
            self.note("Choose the carton type first.")
            return
        self.screen.seal_carton(self.value())

    def cancel(self) -> None:
        self.screen.close_carton_panel()

    # -- showing -----------------------------------------------------------------------------
    def show(self, feedback: Feedback) -> None:
        self.message = explain(feedback)
        self.message_rgba = list(theme.rgba(feedback.tone))

    def note(self, text: str) -> None:
        self.message = text
        self.message_rgba = list(theme.rgba(Tone.INFO))
