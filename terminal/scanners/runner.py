"""The read thread every threaded driver shares (no Kivy): start/stop, status, backoff.

A driver subclasses `ThreadedDriver` and implements `_session()`: open the device, read
until it fails or `_stopping` is set, close it. The runner calls it again after a failure,
waiting `delay`, then twice that, up to `max_delay` (reset after a good connection). Nothing
raises out of the thread: errors are logged and end in a reconnect.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from enum import StrEnum

from terminal.scanners.base import DecodedScan, ScanHandler
from terminal.scanners.framing import safe_call

__all__ = ["DriverStatus", "StatusHandler", "ThreadedDriver"]

log = logging.getLogger(__name__)


class DriverStatus(StrEnum):
    STOPPED = "stopped"
    CONNECTING = "connecting"  # looking for / opening the device
    CONNECTED = "connected"  # reading scans
    DISCONNECTED = "disconnected"  # lost or not found; retrying


StatusHandler = Callable[[DriverStatus], None]


class ThreadedDriver(ABC):
    """Base of the serial, evdev and simulated drivers."""

    name: str

    def __init__(
        self,
        name: str,
        *,
        delay: float,
        max_delay: float,
        on_status: StatusHandler | None = None,
    ) -> None:
        self.name = name
        self.delay = delay
        self.max_delay = max_delay
        self.on_status = on_status
        self.status = DriverStatus.STOPPED
        self.connected = threading.Event()  # set while a device is open and being read
        self.sessions = 0  # how many times the device was opened (1 + reconnects)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_scan: ScanHandler | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self, on_scan: ScanHandler) -> None:
        if self._thread is not None:
            raise RuntimeError(f"scanner {self.name} is already started")
        self._on_scan = on_scan
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=f"scanner {self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop reading and release the device; returns once the thread has ended."""
        self._stopping.set()
        self._wake()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("scanner %s did not stop within %.1f s", self.name, timeout)
        self._set_status(DriverStatus.STOPPED)

    def wait_connected(self, timeout: float) -> bool:
        return self.connected.wait(timeout)

    # -- for subclasses ------------------------------------------------------------------
    @abstractmethod
    def _session(self) -> None:
        """Open the device, read until it fails or `_stopping` is set, close it."""

    def _wake(self) -> None:  # noqa: B027 - optional hook: by default reads time out
        """Unblock a read in progress so `stop()` is prompt (default: reads time out)."""

    def _emit(self, scan: DecodedScan | None) -> None:
        if scan is not None and self._on_scan is not None:
            safe_call(self._on_scan, scan)

    def _opened(self) -> None:
        """Call from `_session` once the device is open."""
        self.sessions += 1
        self.connected.set()
        self._set_status(DriverStatus.CONNECTED)

    def _set_status(self, status: DriverStatus) -> None:
        if status is self.status:
            return
        self.status = status
        if status is not DriverStatus.CONNECTED:
            self.connected.clear()
        if self.on_status is not None:
            try:
                self.on_status(status)
            except Exception:
                log.exception("status handler failed for scanner %s", self.name)

    # -- the thread ----------------------------------------------------------------------
    def _run(self) -> None:
        delay = self.delay
        last_error = ""
        while not self._stopping.is_set():
            self._set_status(DriverStatus.CONNECTING)
            sessions = self.sessions
            try:
                self._session()
            except Exception as exc:  # never out of the thread: log, back off, retry
                # Warn once per kind of failure, not every few seconds while it is unplugged.
                level = logging.DEBUG if str(exc) == last_error else logging.WARNING
                log.log(level, "scanner %s: %s", self.name, exc, exc_info=log.isEnabledFor(10))
                last_error = str(exc)
            if self._stopping.is_set():
                break
            self._set_status(DriverStatus.DISCONNECTED)
            if self.sessions != sessions:
                delay = self.delay  # it was connected: retry soon
            self._stopping.wait(delay)
            delay = min(delay * 2, self.max_delay)
        self.connected.clear()
