"""What every scanner driver delivers, and the interface drivers implement (no Kivy).

A driver turns its transport's input (serial bytes, evdev key events, an Android intent, keys
typed into the Kivy window, a simulation) into `DecodedScan`s and hands each to the handler
given to `start()`. The text keeps GS (ASCII 29) separators exactly as the scanner sent them
(or the profile's GS substitute already mapped back to GS), so GS1 parsing
(`protocols.barcodes.parse_scan`) sees every field boundary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["DecodedScan", "ScanHandler", "ScannerDriver"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class DecodedScan:
    text: str  # the data, prefix/suffix framing removed, GS kept as "\x1d"
    raw: bytes  # exactly what the transport delivered for this scan (framing included)
    symbology: str | None = None  # AIM identifier such as "]C1", "]d2", "]E0"; None if unknown
    source: str = ""  # which driver/device: "serial:/dev/ttyACM0", "evdev:Honeywell…", "wedge"
    scanned_at: datetime = field(default_factory=_now)  # when the scan was read (UTC)


ScanHandler = Callable[[DecodedScan], None]


class ScannerDriver(Protocol):
    """Start delivering scans to `on_scan` (from the driver's own thread, or from the Kivy
    clock for the keyboard wedge); `stop()` releases the device. Drivers reconnect by
    themselves after an unplug and never raise out of their thread."""

    name: str

    def start(self, on_scan: ScanHandler) -> None: ...

    def stop(self) -> None: ...
