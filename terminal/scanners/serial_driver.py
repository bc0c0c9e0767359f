"""Scanners on a serial port through pyserial (USB-CDC, RS-232, pyserial URLs). No Kivy.

The port is opened with `serial.serial_for_url`, so a device path and a URL
(`socket://`, `rfc2217://`, `loop://`) work alike. Bytes are cut into scans at the suffix
*as bytes* before decoding, so a multi-byte character split across two reads is never
garbled, and a scan that arrives in pieces across read timeouts is completed by later reads.
GS (0x1D) is an ordinary byte here: serial carries it untouched.

After an unplug (a read fails, the device node disappears) the partial scan is dropped, the
port is closed, and the driver reopens it by the same name with a growing delay until the
scanner is back.
"""

from __future__ import annotations

import logging
from typing import Any

import serial

from terminal.scanners.config import Framing, SerialSettings
from terminal.scanners.framing import Framer, FrameSplitter
from terminal.scanners.runner import StatusHandler, ThreadedDriver

__all__ = ["SerialScanner"]

log = logging.getLogger(__name__)


class SerialScanner(ThreadedDriver):
    """`ScannerDriver` for a serial scanner; reads in its own daemon thread."""

    def __init__(
        self,
        settings: SerialSettings,
        framing: Framing | None = None,
        *,
        on_status: StatusHandler | None = None,
    ) -> None:
        super().__init__(
            f"serial:{settings.port}",
            delay=settings.reconnect_delay,
            max_delay=settings.max_reconnect_delay,
            on_status=on_status,
        )
        self.settings = settings
        self.framing = framing or Framing()
        self.framer = Framer(self.framing, self.name)
        self.splitter: FrameSplitter[bytes] = FrameSplitter(
            self.framing.suffix.encode(settings.encoding)
        )
        self._port: Any = None

    def _open(self) -> Any:
        s = self.settings
        return serial.serial_for_url(
            s.port,
            baudrate=s.baudrate,
            bytesize=s.bytesize,
            parity=s.parity,
            stopbits=s.stopbits,
            timeout=s.read_timeout,
            exclusive=True,  # a second reader would steal half the bytes of each scan
        )

    def _session(self) -> None:
        port = self._open()
        self._port = port
        try:
            self._opened()
            log.info("scanner %s connected", self.name)
            self._read(port)
        finally:
            self._port = None
            dropped = self.splitter.reset()
            if dropped:
                log.warning("scanner %s: dropped %d bytes unframed", self.name, len(dropped))
            try:
                port.close()
            except Exception:
                log.debug("closing %s failed", self.name, exc_info=True)

    def _read(self, port: Any) -> None:
        while not self._stopping.is_set():
            data = port.read(max(1, port.in_waiting))
            if data:
                for frame in self.splitter.feed(data):
                    self._deliver(frame)
            elif not self.framing.suffix:
                tail = self.splitter.flush()  # suffix-less scanner: a quiet read ends a scan
                if tail is not None:
                    self._deliver(tail)

    def _deliver(self, frame: bytes) -> None:
        text = frame.decode(self.settings.encoding, errors="replace")
        self._emit(self.framer.decode(frame, text))

    def _wake(self) -> None:
        port = self._port
        cancel = getattr(port, "cancel_read", None)
        if cancel is not None:
            try:
                cancel()
            except Exception:
                log.debug("cancel_read failed on %s", self.name, exc_info=True)
