"""A scanner that is not there, for demos, development and tests (no Kivy).

Scans come from a script (`SimulatedSettings.script`, one scan per entry, `interval`
seconds apart, optionally repeated) and from `scan(text)` at any time, e.g. from a debug
button or a test. They go through the same `Framer` as real scans, so an entry that starts
with `]C1` gets its symbology split off, and `{GS}` in an entry is a GS (ASCII 29).
`load_script(path)` reads a script file: one scan per line, `#` comments, blank lines
skipped.
"""

from __future__ import annotations

import queue
import time
from pathlib import Path

from terminal.scanners.config import Framing, SimulatedSettings
from terminal.scanners.framing import GS, Framer
from terminal.scanners.runner import StatusHandler, ThreadedDriver

__all__ = ["SimulatedScanner", "expand", "load_script"]

_QUIET = 0.2  # how often the thread looks at the stop flag when nothing is queued


def expand(entry: str) -> str:
    """A script entry as the scanner would send it: `{GS}` → ASCII 29."""
    return entry.replace("{GS}", GS)


def load_script(path: str | Path) -> tuple[str, ...]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return tuple(line for line in (ln.strip() for ln in lines) if line and not line.startswith("#"))


class SimulatedScanner(ThreadedDriver):
    """`ScannerDriver` that plays a script and `scan()` calls from its own daemon thread."""

    def __init__(
        self,
        settings: SimulatedSettings | None = None,
        framing: Framing | None = None,
        *,
        on_status: StatusHandler | None = None,
    ) -> None:
        super().__init__("simulated", delay=_QUIET, max_delay=_QUIET, on_status=on_status)
        self.settings = settings or SimulatedSettings()
        self.framing = framing or Framing()
        self.framer = Framer(self.framing, "simulated")
        self._queue: queue.Queue[str | None] = queue.Queue()

    def scan(self, text: str) -> None:
        """Deliver `text` as one scan (framing optional: a missing suffix is fine)."""
        self._queue.put(expand(text))

    def _session(self) -> None:
        self._opened()
        script = [expand(entry) for entry in self.settings.script]
        position = 0
        next_at = time.monotonic() if script else None
        while not self._stopping.is_set():
            now = time.monotonic()
            if next_at is not None and now >= next_at:
                self._deliver(script[position])
                position = (position + 1) % len(script)
                done = position == 0 and not self.settings.repeat
                next_at = None if done else now + self.settings.interval
                continue
            timeout = _QUIET if next_at is None else min(_QUIET, next_at - now)
            try:
                text = self._queue.get(timeout=timeout)
            except queue.Empty:
                continue
            if text is not None:
                self._deliver(text)

    def _wake(self) -> None:
        self._queue.put(None)

    def _deliver(self, text: str) -> None:
        self._emit(self.framer.decode(text.encode("utf-8"), text))
