"""Choose the profile for a device the terminal found, and turn it into driver settings.

A device is described by what its transport can tell: an evdev input device its USB ids and
name, a serial port its path (and USB ids when known), an Android handheld its manufacturer
and model. A profile matches when every criterion it gives for that transport holds; among
matching profiles the one with the most criteria wins, and a `fallback = true` profile only
when nothing specific matched.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal

from terminal.profiles.model import (
    HidTransport,
    IntentTransport,
    Profile,
    SerialTransport,
    WedgeTransport,
)
from terminal.scanners.config import (
    DriverKind,
    Framing,
    HidMatch,
    HidSettings,
    IntentSettings,
    ScannerConfigError,
    SerialSettings,
    WedgeSettings,
)

__all__ = ["DeviceInfo", "DriverSettings", "choose_profile", "driver_settings", "score"]

DeviceTransport = Literal["hid", "serial", "intent", "wedge"]


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What the terminal knows about one device (fields a transport cannot tell stay empty)."""

    transport: DeviceTransport
    name: str = ""  # evdev device name
    usb_vendor: int | None = None
    usb_product: int | None = None
    port: str = ""  # serial device path
    manufacturer: str = ""  # Android Build.MANUFACTURER
    model: str = ""  # Android Build.MODEL

    @classmethod
    def evdev(cls, name: str, vendor: int | None = None, product: int | None = None) -> DeviceInfo:
        return cls("hid", name=name, usb_vendor=vendor, usb_product=product)

    @classmethod
    def serial(cls, port: str, vendor: int | None = None, product: int | None = None) -> DeviceInfo:
        return cls("serial", port=port, usb_vendor=vendor, usb_product=product)

    @classmethod
    def android(cls, manufacturer: str, model: str) -> DeviceInfo:
        return cls("intent", manufacturer=manufacturer, model=model)


def _glob_any(patterns: list[str], value: str, *, fold: bool) -> bool:
    if fold:
        value = value.casefold()
        patterns = [p.casefold() for p in patterns]
    return any(fnmatchcase(value, p) for p in patterns)


def score(profile: Profile, device: DeviceInfo) -> int | None:
    """How specifically `profile` matches `device` (higher is better); None: no match."""
    if profile.transport.type != device.transport:
        return None
    m = profile.match
    checks: list[bool] = []
    # USB ids count only when the device knows them (a serial port found by path may not).
    known_ids = device.usb_vendor is not None
    if m.usb_vendor is not None and known_ids:
        checks.append(device.usb_vendor == int(m.usb_vendor, 16))
    if m.usb_products and known_ids:
        checks.append(
            device.usb_product is not None
            and device.usb_product in {int(p, 16) for p in m.usb_products}
        )
    if m.evdev_name_contains:
        name = device.name.casefold()
        checks.append(any(part.casefold() in name for part in m.evdev_name_contains))
    if isinstance(profile.transport, SerialTransport):
        ports = m.serial_ports or [profile.transport.port]
        checks.append(bool(device.port) and _glob_any(ports, device.port, fold=False))
    if m.android_manufacturers:
        checks.append(_glob_any(m.android_manufacturers, device.manufacturer, fold=True))
    if m.android_models:
        checks.append(_glob_any(m.android_models, device.model, fold=True))
    if not all(checks):
        return None
    if not checks:
        return 0 if m.fallback else None
    return len(checks)


def choose_profile(
    profiles: dict[str, Profile] | list[Profile], device: DeviceInfo
) -> Profile | None:
    """The best-matching profile for `device`, or None. Ties go to the first name in order."""
    items = profiles.values() if isinstance(profiles, dict) else profiles
    best: tuple[int, str, Profile] | None = None
    for profile in sorted(items, key=lambda p: p.name):
        points = score(profile, device)
        if points is None:
            continue
        if best is None or points > best[0]:
            best = (points, profile.name, profile)
    return best[2] if best else None


# -- driver settings (terminal/scanners/config.py) ---------------------------------------

DriverSpecific = SerialSettings | HidSettings | WedgeSettings | IntentSettings

_PARITY = {"none": "N", "even": "E", "odd": "O", "mark": "M", "space": "S"}
_DRIVER_KIND: dict[str, DriverKind] = {
    "serial": "serial",
    "hid": "evdev",
    "intent": "android",
    "wedge": "wedge",
}


@dataclass(frozen=True, slots=True)
class DriverSettings:
    """Everything `terminal.scanners` needs to build the driver for one profile."""

    kind: DriverKind
    framing: Framing
    settings: DriverSpecific
    profile: str  # the profile's name, for logs and the status screen


def _has_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


def driver_settings(profile: Profile, device: DeviceInfo | None = None) -> DriverSettings:
    """Convert `profile` into driver settings; `device` (what `choose_profile` was given)
    pins the concrete serial port or evdev device when the profile only has patterns.

    Raises `ScannerConfigError` naming what is missing (a port pattern nothing matches, a
    fallback HID profile without a device to pin).
    """
    t = profile.transport
    framing = Framing(
        prefix=profile.framing.prefix,
        suffix=profile.framing.suffix,
        gs_substitute=profile.gs_substitute(),
        aim_ids=profile.framing.aim_ids,
    )
    settings: DriverSpecific
    if isinstance(t, SerialTransport):
        port = t.port
        if device is not None and device.port:
            port = device.port
        elif _has_glob(port):
            found = sorted(glob.glob(port))
            if not found:
                raise ScannerConfigError(
                    f"{profile.name}: transport.port {port!r} matches no serial port"
                )
            port = found[0]
        settings = SerialSettings(
            port=port,
            baudrate=t.baud,
            bytesize=t.bytesize,
            parity=_PARITY[t.parity],
            stopbits=t.stopbits,
        )
    elif isinstance(t, HidTransport):
        settings = HidSettings(match=_hid_match(profile, device), layout=t.layout, grab=t.grab)
    elif isinstance(t, IntentTransport):
        settings = IntentSettings(
            action=t.action,
            category=t.category,
            data_key=t.data_key,
            symbology_key=t.symbology_key,
            bytes_key=t.bytes_key,
            honeywell_claim=t.honeywell_claim,
        )
    else:
        assert isinstance(t, WedgeTransport)
        settings = WedgeSettings(max_interkey_ms=t.max_interkey_ms, min_length=t.min_length)
    return DriverSettings(_DRIVER_KIND[t.type], framing, settings, profile.name)


def _hid_match(profile: Profile, device: DeviceInfo | None) -> HidMatch:
    if device is not None and (device.name or device.usb_vendor is not None):
        # The device the terminal found: pin exactly that one.
        return HidMatch(
            vendor_id=device.usb_vendor,
            product_id=device.usb_product,
            name_contains=device.name or None,
        )
    m = profile.match
    # Without a vendor the driver pins one name; several names (or none) pin nothing.
    if m.usb_vendor is None and len(m.evdev_name_contains) != 1:
        raise ScannerConfigError(
            f"{profile.name}: a fallback HID profile needs the device it was chosen for"
        )
    return HidMatch(
        vendor_id=int(m.usb_vendor, 16) if m.usb_vendor else None,
        product_id=int(m.usb_products[0], 16) if len(m.usb_products) == 1 else None,
        name_contains=m.evdev_name_contains[0] if len(m.evdev_name_contains) == 1 else None,
    )
