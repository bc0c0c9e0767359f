"""The user's menu: one big button per workflow their role may start."""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory
from kivy.properties import ListProperty, StringProperty

from terminal.ui.screens.base import TerminalScreen
from terminal.ui.session import MenuEntry


class MenuScreen(TerminalScreen):
    user_text = StringProperty("")
    entries = ListProperty([])

    def on_entries(self, _: Any, entries: list[MenuEntry]) -> None:
        box = self.ids.entries
        box.clear_widgets()
        for entry in entries:
            button = Factory.MenuButton(text=entry.label)
            button.workflow = entry.workflow
            button.bind(on_release=lambda b: self.open(b.workflow))
            box.add_widget(button)

    def on_pre_enter(self, *_: Any) -> None:
        self.note("Choose a task." if self.entries else "Nothing to do for your role here.")

    def open(self, workflow: str) -> None:
        self.note("Opening…")
        self.app.run_async(
            lambda: self.app.backend.open_workflow(workflow),
            self.app.work_on,
            lambda e: self.app.fail(self, e),
        )

    def logout(self) -> None:
        self.app.logout()
