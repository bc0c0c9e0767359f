"""Scanners in USB HID keyboard mode on Linux, read through evdev (no Kivy).

The driver finds the input device by a `HidMatch` (USB vendor/product id, name substring,
physical path), grabs it (EVIOCGRAB) so scans don't also type into the focused window,
decodes key-down events with `hid_keymap.HidKeyDecoder` for the layout the scanner emulates
(GS arrives as Ctrl+] or Alt+029), and cuts the typed text into scans at the suffix. When
the device goes away (unplug: reads fail with ENODEV) it releases it and looks for it again
with a growing delay.

The device is anything shaped like `evdev.InputDevice` (`InputDeviceLike`), and the list of
devices comes from a callable, so tests run the real driver over fake devices that produce
real `evdev.InputEvent`s. The process needs read access to `/dev/input/event*` (group
`input`, or a udev rule; see docs/scanners.md).
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from terminal.scanners.base import DecodedScan
from terminal.scanners.config import Framing, HidMatch, HidSettings
from terminal.scanners.framing import Framer, FrameSplitter
from terminal.scanners.hid_keymap import HidKeyDecoder
from terminal.scanners.runner import StatusHandler, ThreadedDriver

__all__ = [
    "DeviceListing",
    "EvdevScanner",
    "HidScanDecoder",
    "InputDeviceLike",
    "find_device",
    "matches",
    "system_devices",
]

log = logging.getLogger(__name__)

# Event times before this are not wall-clock times (a device on CLOCK_MONOTONIC, a test).
_PLAUSIBLE_EPOCH = 946_684_800  # 2000-01-01


class DeviceInfoLike(Protocol):
    vendor: int
    product: int


class InputDeviceLike(Protocol):
    """The part of `evdev.InputDevice` the driver uses."""

    path: str
    name: str
    phys: str
    info: DeviceInfoLike

    def fileno(self) -> int: ...

    def read(self) -> Iterable[Any]: ...

    def grab(self) -> None: ...

    def ungrab(self) -> None: ...

    def close(self) -> None: ...


DeviceListing = Callable[[], Iterable[InputDeviceLike]]


def system_devices() -> list[InputDeviceLike]:
    """Every input device this process may open (others are skipped, not an error)."""
    import evdev

    devices: list[InputDeviceLike] = []
    for path in evdev.list_devices():
        try:
            devices.append(cast(InputDeviceLike, evdev.InputDevice(path)))
        except OSError as exc:
            log.debug("cannot open %s: %s", path, exc)
    return devices


def matches(match: HidMatch, device: InputDeviceLike) -> bool:
    """Does `device` fit every criterion `match` sets?"""
    if match.vendor_id is not None and device.info.vendor != match.vendor_id:
        return False
    if match.product_id is not None and device.info.product != match.product_id:
        return False
    if match.name_contains is not None and (
        match.name_contains.casefold() not in (device.name or "").casefold()
    ):
        return False
    return match.phys_contains is None or match.phys_contains in (device.phys or "")


def find_device(match: HidMatch, devices: Iterable[InputDeviceLike]) -> InputDeviceLike | None:
    """The first matching device, by path order; every other device is closed."""
    found: InputDeviceLike | None = None
    for device in sorted(devices, key=lambda d: d.path):
        if found is None and matches(match, device):
            found = device
        else:
            with contextlib.suppress(Exception):
                device.close()
    return found


class HidScanDecoder:
    """Key events in, scans out: `HidKeyDecoder` + suffix framing for one device."""

    def __init__(self, layout: str, framing: Framing, source: str) -> None:
        self.keys = HidKeyDecoder(layout)
        self.splitter: FrameSplitter[str] = FrameSplitter(framing.suffix)
        self.framer = Framer(framing, source)
        self._last_time: float | None = None

    @property
    def pending(self) -> str:
        return self.splitter.pending

    def feed(self, event: Any) -> list[DecodedScan]:
        """Scans completed by this event (`evdev.InputEvent` or anything with type, code,
        value, sec, usec)."""
        typed = self.keys.feed(event.type, event.code, event.value)
        if not typed:
            return []
        self._last_time = event.sec + event.usec / 1_000_000
        scans = []
        for frame in self.splitter.feed(typed):
            scan = self._decode(frame)
            if scan is not None:
                scans.append(scan)
        return scans

    def feed_all(self, events: Iterable[Any]) -> list[DecodedScan]:
        return [scan for event in events for scan in self.feed(event)]

    def flush(self) -> DecodedScan | None:
        """End the pending scan (suffix-less framing, after `idle_end_ms` without keys)."""
        frame = self.splitter.flush()
        return self._decode(frame) if frame is not None else None

    def reset(self) -> None:
        self.keys.reset()
        dropped = self.splitter.reset()
        if dropped:
            log.warning("dropped a partial scan of %d characters", len(dropped))

    def _decode(self, frame: str) -> DecodedScan | None:
        when = None
        if self._last_time is not None and self._last_time > _PLAUSIBLE_EPOCH:
            when = datetime.fromtimestamp(self._last_time, UTC)  # the suffix key's time
        return self.framer.decode(frame.encode("utf-8"), frame, scanned_at=when)


class EvdevScanner(ThreadedDriver):
    """`ScannerDriver` for a HID scanner through evdev; reads in its own daemon thread."""

    def __init__(
        self,
        settings: HidSettings,
        framing: Framing | None = None,
        *,
        devices: DeviceListing = system_devices,
        on_status: StatusHandler | None = None,
    ) -> None:
        super().__init__(
            "evdev:" + _describe(settings.match),
            delay=settings.reconnect_delay,
            max_delay=settings.max_reconnect_delay,
            on_status=on_status,
        )
        self.settings = settings
        self.framing = framing or Framing()
        self.devices = devices
        self.device: InputDeviceLike | None = None
        self._wake_w: int | None = None
        self._wake_lock = threading.Lock()

    def _session(self) -> None:
        device = find_device(self.settings.match, self.devices())
        if device is None:
            raise LookupError(f"no input device matches {_describe(self.settings.match)}")
        wake_r, wake_w = os.pipe()
        with self._wake_lock:
            self._wake_w = wake_w
        decoder = HidScanDecoder(
            self.settings.layout, self.framing, f"evdev:{device.name} ({device.path})"
        )
        try:
            if self.settings.grab:
                device.grab()  # scans must not type into the focused window as well
            self.device = device
            self._opened()
            log.info("scanner %s: reading %s (%s)", self.name, device.path, device.name)
            self._read(device, decoder, wake_r)
        finally:
            self.device = None
            decoder.reset()
            with self._wake_lock:  # never write into a closed (and reused) descriptor
                w, self._wake_w = self._wake_w, None
                for fd in (wake_r, w):
                    if fd is not None:
                        os.close(fd)
            if self.settings.grab:
                with contextlib.suppress(Exception):
                    device.ungrab()
            with contextlib.suppress(Exception):
                device.close()

    def _read(self, device: InputDeviceLike, decoder: HidScanDecoder, wake_r: int) -> None:
        idle = self.settings.idle_end_ms / 1000
        last_key = time.monotonic()
        while not self._stopping.is_set():
            waiting = bool(decoder.pending) and not self.framing.suffix
            ready, _, _ = select.select([device.fileno(), wake_r], [], [], idle if waiting else 0.5)
            if device.fileno() in ready:
                for event in device.read():
                    scans = decoder.feed(event)
                    if event.type == 1:
                        last_key = time.monotonic()
                    for scan in scans:
                        self._emit(scan)
            elif waiting and time.monotonic() - last_key >= idle:
                self._emit(decoder.flush())

    def _wake(self) -> None:
        with self._wake_lock:
            if self._wake_w is not None:
                with contextlib.suppress(OSError):
                    os.write(self._wake_w, b"x")


def _describe(match: HidMatch) -> str:
    parts = []
    if match.vendor_id is not None:
        parts.append(f"vendor={match.vendor_id:04x}")
    if match.product_id is not None:
        parts.append(f"product={match.product_id:04x}")
    if match.name_contains is not None:
        parts.append(f"name~{match.name_contains!r}")
    if match.phys_contains is not None:
        parts.append(f"phys~{match.phys_contains!r}")
    return " ".join(parts)
