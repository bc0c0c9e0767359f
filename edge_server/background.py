"""One shape for the server's background loops (print spooler, wave release): a daemon
thread that runs one pass, sleeps until the next is due or it is woken, and stops cleanly
from the app lifespan."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from typing import ClassVar

__all__ = ["BackgroundLoop"]

log = logging.getLogger(__name__)


class BackgroundLoop(ABC):
    """Subclasses name their thread and implement `tick()`; a pass that raises is logged and
    the loop goes on."""

    thread_name: ClassVar[str] = "background"
    min_wait_seconds: ClassVar[float] = 0.05

    def __init__(self, poll_seconds: float) -> None:
        self._poll = poll_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @abstractmethod
    def tick(self) -> float | None:
        """One pass; returns the seconds until work is next due (None: poll as usual)."""

    def wake(self) -> None:
        """Run the next pass now (e.g. after a commit that queued work)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            wait: float | None = None
            try:
                wait = self.tick()
            except Exception:
                log.exception("%s pass failed", self.thread_name)
            timeout = (
                self._poll if wait is None else max(self.min_wait_seconds, min(self._poll, wait))
            )
            self._wake.wait(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
        self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
