"""Scanner drivers: every transport delivers the same `DecodedScan` (no Kivy here).

`make_driver(kind, settings, framing)` builds the driver for a profile's transport; the
transport modules are imported only when asked for, so a machine without evdev (Android) or
without pyjnius (Linux) can still build the others. docs/scanners.md has the whole story.
"""

from __future__ import annotations

from typing import Any

from terminal.scanners.base import DecodedScan, ScanHandler, ScannerDriver
from terminal.scanners.config import (
    DRIVER_KINDS,
    DriverKind,
    Framing,
    HidSettings,
    IntentSettings,
    ScannerConfigError,
    ScannerUnavailableError,
    SerialSettings,
    SimulatedSettings,
    WedgeSettings,
)

__all__ = [
    "DecodedScan",
    "ScanHandler",
    "ScannerConfigError",
    "ScannerDriver",
    "ScannerUnavailableError",
    "make_driver",
]

_SETTINGS: dict[str, type] = {
    "serial": SerialSettings,
    "evdev": HidSettings,
    "wedge": WedgeSettings,
    "android": IntentSettings,
    "simulated": SimulatedSettings,
}


def make_driver(
    kind: DriverKind | str,
    settings: Any = None,
    framing: Framing | None = None,
    **options: Any,
) -> ScannerDriver:
    """The driver for `kind` (`serial`, `evdev`, `android`, `wedge`, `simulated`) with its
    settings dataclass (`None` is fine for `wedge` and `simulated`). `options` go to the
    driver's constructor (`on_status=`, `on_typed=` for the wedge, `devices=` for evdev).

    Raises `ScannerConfigError` for an unknown kind or settings of the wrong type, and
    `ScannerUnavailableError` when the transport's library is missing on this machine."""
    expected = _SETTINGS.get(kind)
    if expected is None:
        raise ScannerConfigError(
            f"unknown scanner driver {kind!r}: use one of {', '.join(DRIVER_KINDS)}"
        )
    if settings is None and kind in ("wedge", "simulated"):
        settings = expected()
    if not isinstance(settings, expected):
        raise ScannerConfigError(
            f"the {kind} driver needs {expected.__name__}, not {type(settings).__name__}"
        )
    framing = framing or Framing()
    if isinstance(settings, SerialSettings):
        from terminal.scanners.serial_driver import SerialScanner

        return SerialScanner(settings, framing, **options)
    if isinstance(settings, HidSettings):
        try:
            from terminal.scanners.evdev_driver import EvdevScanner
        except ImportError as exc:
            raise ScannerUnavailableError(
                f"HID scanners need python-evdev (Linux): {exc}"
            ) from None
        return EvdevScanner(settings, framing, **options)
    if isinstance(settings, IntentSettings):
        from terminal.scanners.android_intent import AndroidIntentScanner

        return AndroidIntentScanner(settings, framing, **options)
    if isinstance(settings, WedgeSettings):
        from terminal.scanners.wedge import KeyboardWedge

        return KeyboardWedge(settings, framing, **options)
    from terminal.scanners.simulated import SimulatedScanner

    assert isinstance(settings, SimulatedSettings)
    return SimulatedScanner(settings, framing, **options)
