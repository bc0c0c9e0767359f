"""The interface between client workflows (no Kivy) and the screens that show them.

A screen holds one `Workflow`. It passes every scan (`on_scan`) and every key/button
(`on_input`) to it and renders the `Feedback` it gets back at once: the check is local (work
was downloaded), the command is queued for the edge server before the feedback says "good".
`view()` is everything the screen shows (prompt, current task line, progress, online state,
pending count); screens never reach into the workflow's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from terminal.scanners.base import DecodedScan

__all__ = ["Feedback", "Tone", "View", "Workflow"]


class Tone(StrEnum):
    GOOD = "good"  # green flash, short high beep
    BAD = "bad"  # red flash, low double buzz: the scan was refused, nothing was queued
    INFO = "info"  # neutral: a prompt changed, a note
    DONE = "done"  # the task or document is finished


@dataclass(frozen=True, slots=True)
class Feedback:
    tone: Tone
    code: str | None = None  # protocols.errors.ErrorCode value for BAD (and some INFO/GOOD)
    text: str = ""  # the sentence to show: from the shared message catalogue
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class View:
    title: str  # "Picking — task 12"
    prompt: str  # "Scan bin A03-07-2L"
    state: str  # the workflow state (mirrors the server scenario's states)
    fields: dict[str, Any] = field(default_factory=dict)  # what the current step shows
    lines: list[dict[str, Any]] = field(default_factory=list)  # task/document lines to list
    progress: tuple[int, int] = (0, 0)  # done, total
    online: bool = True
    pending: int = 0  # commands queued, not yet confirmed by the server
    rejected: int = 0  # commands the server refused on replay, awaiting acknowledgement


class Workflow(Protocol):
    name: str  # "receiving", "putaway", "picking", "packing", ...

    def view(self) -> View: ...

    def on_scan(self, scan: DecodedScan) -> Feedback: ...

    def on_input(self, name: str, value: Any) -> Feedback:
        """A key or button: `("qty", 3)`, `("short", 2)`, `("confirm", None)`,
        `("cancel", None)`; unknown names give BAD feedback."""
        ...
