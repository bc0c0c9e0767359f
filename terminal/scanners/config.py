"""Driver settings: what a firmware profile turns into before a driver is built (no Kivy).

`terminal/profiles/` builds these from `firmware_configs/` and hands them to
`terminal.scanners.make_driver`. The names below are a contract with that code: add optional
fields with defaults, never rename. Every dataclass checks itself on construction and raises
`ScannerConfigError` (a `ValueError`) with a sentence that names the field, so a bad profile
fails when it is loaded, not when the first scan arrives.

| dataclass | used by | transport |
|---|---|---|
| `Framing` | every driver | prefix/suffix around each scan, AIM identifiers, GS substitute |
| `SerialSettings` | `serial_driver.SerialScanner` | USB-CDC / RS-232 through pyserial |
| `HidMatch`, `HidSettings` | `evdev_driver.EvdevScanner` | Linux USB HID keyboard through evdev |
| `WedgeSettings` | `wedge.KeyboardWedge` | keys typed into the Kivy window |
| `IntentSettings` | `android_intent.AndroidIntentScanner` | Zebra DataWedge / Honeywell intents |
| `SimulatedSettings` | `simulated.SimulatedScanner` | demos and development |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "DRIVER_KINDS",
    "LAYOUTS",
    "DriverKind",
    "Framing",
    "HidMatch",
    "HidSettings",
    "IntentSettings",
    "ScannerConfigError",
    "ScannerUnavailableError",
    "SerialSettings",
    "SimulatedSettings",
    "WedgeSettings",
]

DriverKind = Literal["serial", "evdev", "wedge", "android", "simulated"]
#: The driver kinds `make_driver` builds, in the order a selector would fall back through.
DRIVER_KINDS: tuple[DriverKind, ...] = ("serial", "evdev", "android", "wedge", "simulated")
#: Keyboard layouts `hid_keymap` decodes (the layout the scanner is configured to emulate).
LAYOUTS: tuple[str, ...] = ("us", "de")

_GS = "\x1d"


class ScannerConfigError(ValueError):
    """A driver setting is out of range or inconsistent; the message names the field."""


class ScannerUnavailableError(RuntimeError):
    """The transport cannot work on this platform (pyjnius/Android missing, evdev on
    macOS...); the message says what is missing."""


def _need(ok: bool, message: str) -> None:
    if not ok:
        raise ScannerConfigError(message)


@dataclass(frozen=True, slots=True)
class Framing:
    """How one scan is wrapped on the wire, and what the scanner sends for GS.

    - `prefix`: text the scanner puts before each scan (often empty; STX `"\\x02"` on serial).
      Removed when present. The keyboard wedge requires it when it is set.
    - `suffix`: text that ends each scan (`"\\r"` = Enter/CR, `"\\r\\n"`, `"\\t"`, `"\\n"`).
      Stream transports (serial, evdev, wedge) cut scans at it. Empty: a scan ends when the
      input goes quiet (serial: one read timeout; wedge: `max_interkey_ms`; evdev:
      `HidSettings.idle_end_ms`). A stray CR or LF left at either end
      of a scan (a CR LF scanner framed by CR alone) is dropped.
    - `gs_substitute`: what the scanner sends instead of GS (ASCII 29) when its transport
      cannot carry it, e.g. `"|"`, `"^"`, `"<GS>"`; drivers map it back to GS (never inside
      our own bin/LPN/tote labels). `None`: the scanner sends a real GS.
    - `aim_ids`: the scanner transmits an AIM identifier (`]C1`, `]d2`, `]Q3`, `]E0` ...) in
      front of the data; drivers split it into `DecodedScan.symbology`.
    """

    prefix: str = ""
    suffix: str = "\r"
    gs_substitute: str | None = None
    aim_ids: bool = True

    def __post_init__(self) -> None:
        _need(isinstance(self.prefix, str), "framing.prefix must be text")
        _need(isinstance(self.suffix, str), "framing.suffix must be text")
        _need(
            self.gs_substitute is None
            or (isinstance(self.gs_substitute, str) and self.gs_substitute != ""),
            "framing.gs_substitute must be non-empty text or null",
        )
        _need(_GS not in self.prefix + self.suffix, "framing prefix/suffix must not contain GS")
        if self.gs_substitute is not None:
            _need(
                self.gs_substitute not in self.suffix and self.gs_substitute not in self.prefix,
                "framing.gs_substitute must not be part of the prefix or suffix",
            )
        _need(
            not self.prefix or self.prefix != self.suffix,
            "framing.prefix and framing.suffix must differ",
        )


_PARITIES = ("N", "E", "O", "M", "S")
_BYTESIZES = (5, 6, 7, 8)
_STOPBITS = (1, 1.5, 2)


@dataclass(frozen=True, slots=True)
class SerialSettings:
    """A scanner on a serial port (USB-CDC `/dev/ttyACM0`, RS-232 `/dev/ttyS0`, a udev link
    such as `/dev/serial/by-id/usb-Honeywell_...`), or any pyserial URL (`socket://host:port`,
    `loop://`, `rfc2217://...`).

    - `port`: device path or pyserial URL; the driver reopens it by this name after an unplug,
      so a stable `/dev/serial/by-id/` link is the best choice.
    - `baudrate`, `bytesize` (5–8), `parity` (`N` `E` `O` `M` `S`), `stopbits` (1, 1.5, 2):
      as configured in the scanner (USB-CDC ignores them).
    - `read_timeout`: seconds one read waits; a scan split across reads is kept and
      completed by later reads. With an empty suffix, a quiet read ends the scan.
    - `encoding`: how scan bytes become text (`utf-8`, `latin-1`, `cp1252`); undecodable
      bytes become U+FFFD, which `parse_scan` then refuses as unreadable.
    - `reconnect_delay`, `max_reconnect_delay`: seconds between attempts to reopen the port,
      doubling from the first to the second while it stays away.
    """

    port: str
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    read_timeout: float = 0.05
    encoding: str = "utf-8"
    reconnect_delay: float = 0.2
    max_reconnect_delay: float = 5.0

    def __post_init__(self) -> None:
        _need(isinstance(self.port, str) and self.port.strip() != "", "serial.port is required")
        _need(
            isinstance(self.baudrate, int) and 50 <= self.baudrate <= 4_000_000,
            f"serial.baudrate must be a whole number from 50 to 4000000, not {self.baudrate!r}",
        )
        _need(self.bytesize in _BYTESIZES, f"serial.bytesize must be one of {_BYTESIZES}")
        _need(self.parity in _PARITIES, f"serial.parity must be one of {', '.join(_PARITIES)}")
        _need(self.stopbits in _STOPBITS, f"serial.stopbits must be one of {_STOPBITS}")
        _need(0 < self.read_timeout <= 5, "serial.read_timeout must be above 0 and at most 5 s")
        try:
            "".encode(self.encoding)
        except (LookupError, TypeError):
            raise ScannerConfigError(f"serial.encoding {self.encoding!r} is unknown") from None
        _need(
            0 < self.reconnect_delay <= self.max_reconnect_delay,
            "serial.reconnect_delay must be above 0 and at most max_reconnect_delay",
        )


@dataclass(frozen=True, slots=True)
class HidMatch:
    """Which evdev input device is the scanner. Every criterion given must match; at least one
    is required (an empty match would grab the first keyboard).

    - `vendor_id`, `product_id`: USB ids (`0x0c2e` Honeywell, `0x05e0` Zebra/Symbol, ...).
    - `name_contains`: case-insensitive substring of the device name (`"Honeywell"`).
    - `phys_contains`: substring of the physical path (`"usb-0000:00:14.0-2"`), to pick one
      of two identical scanners by the USB port they are plugged into.
    """

    vendor_id: int | None = None
    product_id: int | None = None
    name_contains: str | None = None
    phys_contains: str | None = None

    def __post_init__(self) -> None:
        _need(
            any(
                v is not None
                for v in (self.vendor_id, self.product_id, self.name_contains, self.phys_contains)
            ),
            "hid.match needs at least one of vendor_id, product_id, name_contains, phys_contains",
        )
        for name in ("vendor_id", "product_id"):
            value = getattr(self, name)
            _need(
                value is None or (type(value) is int and 0 <= value <= 0xFFFF),
                f"hid.match.{name} must be a USB id from 0 to 0xFFFF",
            )
        for name in ("name_contains", "phys_contains"):
            value = getattr(self, name)
            _need(
                value is None or (isinstance(value, str) and value != ""),
                f"hid.match.{name} must be non-empty text or null",
            )


@dataclass(frozen=True, slots=True)
class HidSettings:
    """A scanner in USB HID keyboard mode, read through evdev (Linux handhelds, kiosks).

    - `match`: which input device (see `HidMatch`).
    - `layout`: the keyboard layout the scanner is configured to emulate (`us`, `de`); it
      decides which key codes mean which characters, not the desktop's layout.
    - `grab`: take the device exclusively (EVIOCGRAB) so scans don't also type into whatever
      window has focus. Turn off only to debug.
    - `idle_end_ms`: with an empty suffix, a scan ends after this many ms without a key.
    - `reconnect_delay`, `max_reconnect_delay`: seconds between looks for the device after an
      unplug, doubling up to the maximum.
    """

    match: HidMatch
    layout: str = "us"
    grab: bool = True
    idle_end_ms: int = 50
    reconnect_delay: float = 0.5
    max_reconnect_delay: float = 5.0

    def __post_init__(self) -> None:
        _need(isinstance(self.match, HidMatch), "hid.match is required")
        _need(self.layout in LAYOUTS, f"hid.layout must be one of {', '.join(LAYOUTS)}")
        _need(0 < self.idle_end_ms <= 5000, "hid.idle_end_ms must be from 1 to 5000")
        _need(
            0 < self.reconnect_delay <= self.max_reconnect_delay,
            "hid.reconnect_delay must be above 0 and at most max_reconnect_delay",
        )


@dataclass(frozen=True, slots=True)
class WedgeSettings:
    """A scanner typing into the Kivy window (keyboard wedge; Bluetooth HID, Android
    keyboard output): scans are told from typing by speed and framing.

    - `max_interkey_ms`: a scanner types faster than this between keys; a slower gap means
      a person is typing.
    - `min_length`: fewer data characters than this is never a scan (a fast double key).
    """

    max_interkey_ms: int = 30
    min_length: int = 4

    def __post_init__(self) -> None:
        _need(
            isinstance(self.max_interkey_ms, int) and 1 <= self.max_interkey_ms <= 1000,
            "wedge.max_interkey_ms must be from 1 to 1000",
        )
        _need(
            isinstance(self.min_length, int) and 1 <= self.min_length <= 100,
            "wedge.min_length must be from 1 to 100",
        )


@dataclass(frozen=True, slots=True)
class IntentSettings:
    """Scans broadcast as Android intents (Zebra DataWedge intent output, Honeywell data
    intents). Configure the scanner app to broadcast `action` (and `category` if set).

    - `action`: the intent action, e.g. `"com.aisleway.SCAN"`.
    - `category`: optional intent category filter.
    - `data_key`, `symbology_key`, `bytes_key`: extra names for other vendors; `None` uses
      the Zebra/Honeywell names (see `android_intent.decode_extras`).
    - `honeywell_claim`: on Honeywell devices, broadcast the claim that switches the internal
      scanner to data intents with this action (otherwise configure it in the Settings app).
    """

    action: str
    category: str | None = None
    data_key: str | None = None
    symbology_key: str | None = None
    bytes_key: str | None = None
    honeywell_claim: bool = False

    def __post_init__(self) -> None:
        _need(
            isinstance(self.action, str) and self.action.strip() != "",
            "intent.action is required",
        )


@dataclass(frozen=True, slots=True)
class SimulatedSettings:
    """A scanner that is not there: scans come from `script` (one scan per entry, sent
    `interval` seconds apart, optionally repeated) and from `SimulatedScanner.scan()`.
    Script entries may write GS as `{GS}`."""

    script: tuple[str, ...] = field(default_factory=tuple)
    interval: float = 1.0
    repeat: bool = False

    def __post_init__(self) -> None:
        _need(0 <= self.interval <= 3600, "simulated.interval must be from 0 to 3600 s")
