"""HID scanners through evdev: key codes → text for `us` and `de`, device discovery, and the
driver over fake input devices that deliver real `evdev.InputEvent`s (no /dev/uinput here)."""

from __future__ import annotations

import datetime as dt
import errno
import os
import queue
import string
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pytest
from evdev import InputEvent, ecodes
from scanner_support import GS, GS1_SCAN, Collector, assert_gs1_intact

from terminal.scanners.config import Framing, HidMatch, HidSettings
from terminal.scanners.evdev_driver import EvdevScanner, HidScanDecoder, find_device, matches
from terminal.scanners.hid_keymap import HidKeyDecoder, key_strokes
from terminal.scanners.runner import DriverStatus

K = ecodes
T0 = 1_767_225_600  # 2026-01-01 00:00:00 UTC


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


class Keyboard:
    """Builds the event stream a USB keyboard produces: MSC_SCAN, EV_KEY, SYN_REPORT."""

    def __init__(self, start: float = T0) -> None:
        self.t = start
        self.events: list[InputEvent] = []

    def _event(self, type_: int, code: int, value: int) -> None:
        sec = int(self.t)
        self.events.append(InputEvent(sec, int((self.t - sec) * 1e6), type_, code, value))

    def key(self, code: int, value: int) -> Keyboard:
        self.t += 0.002
        self._event(K.EV_MSC, K.MSC_SCAN, 0x70000 + code)
        self._event(K.EV_KEY, code, value)
        self._event(K.EV_SYN, K.SYN_REPORT, 0)
        return self

    def press(self, code: int, *mods: int) -> Keyboard:
        for m in mods:
            self.key(m, 1)
        self.key(code, 1).key(code, 0)
        for m in reversed(mods):
            self.key(m, 0)
        return self

    def type(self, text: str, layout: str = "us") -> Keyboard:
        for s in key_strokes(text, layout):
            mods = [K.KEY_LEFTCTRL] * s.ctrl + [K.KEY_LEFTSHIFT] * s.shift
            mods += [K.KEY_RIGHTALT] * s.altgr
            self.press(s.code, *mods)
        return self


def typed(events: Iterable[InputEvent], layout: str = "us") -> str:
    decoder = HidKeyDecoder(layout)
    return "".join(decoder.feed(ev.type, ev.code, ev.value) for ev in events)


# -- key codes → characters -------------------------------------------------------------------


def test_us_shift_and_ctrl_right_bracket_is_gs() -> None:
    kb = Keyboard()
    kb.press(K.KEY_A, K.KEY_LEFTSHIFT).press(K.KEY_B).press(K.KEY_1, K.KEY_RIGHTSHIFT)
    kb.press(K.KEY_RIGHTBRACE, K.KEY_LEFTCTRL).press(K.KEY_RIGHTBRACE).press(K.KEY_ENTER)
    assert typed(kb.events) == "Ab!" + GS + "]\r"


def test_de_layout_swaps_y_z_and_types_altgr_characters() -> None:
    kb = Keyboard()
    kb.press(K.KEY_Y).press(K.KEY_Z).press(K.KEY_Q, K.KEY_RIGHTALT).press(K.KEY_7, K.KEY_LEFTSHIFT)
    kb.press(K.KEY_SLASH).press(K.KEY_MINUS, K.KEY_RIGHTALT).press(K.KEY_102ND, K.KEY_RIGHTALT)
    assert typed(kb.events, "de") == "zy@/-\\|"


def test_de_gs_as_ctrl_altgr_9_as_ctrl_plus_key_and_as_windows_ctrl_alt_9() -> None:
    kb = Keyboard()
    kb.press(K.KEY_9, K.KEY_LEFTCTRL, K.KEY_RIGHTALT)  # Ctrl + "]" (AltGr+9)
    kb.press(K.KEY_RIGHTBRACE, K.KEY_RIGHTCTRL)  # Ctrl + the key in the US "]" position
    kb.press(K.KEY_9, K.KEY_LEFTCTRL, K.KEY_LEFTALT)  # AltGr pressed as Ctrl+Alt: plain "]"
    assert typed(kb.events, "de") == GS + GS + "]"


@pytest.mark.parametrize("digits", [(K.KEY_KP0, K.KEY_KP2, K.KEY_KP9), (K.KEY_KP2, K.KEY_KP9)])
def test_alt_numpad_029_is_gs(digits: tuple[int, ...]) -> None:
    kb = Keyboard().key(K.KEY_LEFTALT, 1)
    for d in digits:
        kb.press(d)
    kb.key(K.KEY_LEFTALT, 0)
    assert typed(kb.events) == GS


def test_alt_numpad_high_codes_follow_windows_code_pages() -> None:
    kb = Keyboard().key(K.KEY_LEFTALT, 1).press(K.KEY_KP0).press(K.KEY_KP2)
    kb.press(K.KEY_KP3).press(K.KEY_KP3).key(K.KEY_LEFTALT, 0)  # Alt+0233: cp1252 é
    kb.key(K.KEY_LEFTALT, 1).press(K.KEY_KP1).press(K.KEY_KP3).press(K.KEY_KP0)
    kb.key(K.KEY_LEFTALT, 0)  # Alt+130: cp437 é
    kb.key(K.KEY_LEFTALT, 1).press(K.KEY_F).key(K.KEY_LEFTALT, 0)  # Alt+F: a menu, no text
    assert typed(kb.events) == "éé"


def test_repeats_releases_and_unknown_keys_type_nothing() -> None:
    events = [
        InputEvent(T0, 0, K.EV_KEY, K.KEY_A, 1),
        InputEvent(T0, 1, K.EV_KEY, K.KEY_A, 2),  # autorepeat
        InputEvent(T0, 2, K.EV_KEY, K.KEY_A, 0),
        InputEvent(T0, 3, K.EV_KEY, K.KEY_F5, 1),
        InputEvent(T0, 4, K.EV_KEY, K.KEY_BACKSPACE, 1),
        InputEvent(T0, 5, K.EV_MSC, K.MSC_SCAN, 4),
    ]
    assert typed(events) == "a"


def test_caps_lock_flips_letters_only() -> None:
    kb = Keyboard().press(K.KEY_CAPSLOCK).press(K.KEY_A).press(K.KEY_A, K.KEY_LEFTSHIFT)
    kb.press(K.KEY_1).press(K.KEY_CAPSLOCK).press(K.KEY_A)
    assert typed(kb.events) == "Aa1a"


def test_de_dead_keys_type_the_accent_before_space() -> None:
    kb = Keyboard().press(K.KEY_GRAVE).press(K.KEY_SPACE).press(K.KEY_GRAVE).press(K.KEY_A)
    assert typed(kb.events, "de") == "^^a"


@pytest.mark.parametrize("layout", ["us", "de"])
def test_every_printable_ascii_character_round_trips(layout: str) -> None:
    text = string.printable.replace("\n", "").replace("\x0b", "").replace("\x0c", "") + GS
    assert typed(Keyboard().type(text, layout).events, layout) == text


def test_unknown_layout_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown keyboard layout 'fr'"):
        HidKeyDecoder("fr")


# -- key events → scans -----------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["us", "de"])
def test_gs1_scan_typed_with_ctrl_bracket_survives(layout: str) -> None:
    decoder = HidScanDecoder(layout, Framing(suffix="\r"), "evdev:test")
    scans = decoder.feed_all(Keyboard().type(GS1_SCAN + "\r", layout).events)
    assert len(scans) == 1
    assert_gs1_intact(scans[0])
    assert scans[0].raw == (GS1_SCAN + "\r").encode()


def test_gs1_scan_typed_with_alt_029_survives_and_carries_the_event_time() -> None:
    before, after = GS1_SCAN.split(GS)
    kb = Keyboard().type(before).key(K.KEY_LEFTALT, 1)
    kb.press(K.KEY_KP0).press(K.KEY_KP2).press(K.KEY_KP9).key(K.KEY_LEFTALT, 0)
    kb.type(after + "\r")
    decoder = HidScanDecoder("us", Framing(), "evdev:test")
    (scan,) = decoder.feed_all(kb.events)
    assert_gs1_intact(scan)
    enter_down = next(ev for ev in kb.events if ev.code == K.KEY_ENTER and ev.value == 1)
    assert scan.scanned_at == dt.datetime.fromtimestamp(enter_down.timestamp(), dt.UTC)


def test_two_scans_and_a_partial_one() -> None:
    decoder = HidScanDecoder("us", Framing(suffix="\t"), "evdev:test")
    scans = decoder.feed_all(Keyboard().type("TOTE-0001\tLPN00000001").events)
    assert [s.text for s in scans] == ["TOTE-0001"]
    assert decoder.pending == "LPN00000001"


# -- discovery --------------------------------------------------------------------------------


@dataclass
class Info:
    vendor: int
    product: int


class FakeInputDevice:
    """Shaped like `evdev.InputDevice`: a pollable fd, `read()` returning InputEvents, grab."""

    def __init__(self, path: str, name: str, phys: str, vendor: int, product: int) -> None:
        self.path, self.name, self.phys, self.info = path, name, phys, Info(vendor, product)
        self._r, self._w = os.pipe()
        self._batches: queue.Queue[list[InputEvent]] = queue.Queue()
        self.gone = False
        self.grabbed = False
        self.closed = False

    def fileno(self) -> int:
        return self._r

    def send(self, events: list[InputEvent]) -> None:
        self._batches.put(events)
        os.write(self._w, b"e")

    def unplug(self) -> None:
        self.gone = True
        os.write(self._w, b"x")

    def read(self) -> list[InputEvent]:
        os.read(self._r, 1)
        if self.gone:
            raise OSError(errno.ENODEV, "No such device")
        return self._batches.get_nowait()

    def grab(self) -> None:
        self.grabbed = True

    def ungrab(self) -> None:
        if self.gone:
            raise OSError(errno.ENODEV, "No such device")
        self.grabbed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self._r)
            os.close(self._w)


def keyboard() -> FakeInputDevice:
    return FakeInputDevice(
        "/dev/input/event3", "AT Translated Set 2 keyboard", "isa0060/serio0/input0", 0x0001, 0x0001
    )


def honeywell(port: str = "usb-0000:00:14.0-2/input0") -> FakeInputDevice:
    return FakeInputDevice(
        "/dev/input/event7", "Honeywell Imaging & Mobility 1900", port, 0x0C2E, 0x0B61
    )


@pytest.mark.parametrize(
    ("match", "found"),
    [
        (HidMatch(vendor_id=0x0C2E), True),
        (HidMatch(vendor_id=0x0C2E, product_id=0x0B61), True),
        (HidMatch(vendor_id=0x0C2E, product_id=0x0B01), False),
        (HidMatch(name_contains="honeywell"), True),
        (HidMatch(name_contains="Zebra"), False),
        (HidMatch(phys_contains="00:14.0-2"), True),
        (HidMatch(name_contains="Honeywell", phys_contains="00:14.0-3"), False),
    ],
)
def test_match_every_given_criterion(match: HidMatch, found: bool) -> None:
    device = honeywell()
    try:
        assert matches(match, device) is found
    finally:
        device.close()


def test_find_device_picks_the_scanner_and_closes_the_rest() -> None:
    kbd, scanner = keyboard(), honeywell()
    assert find_device(HidMatch(vendor_id=0x0C2E), [kbd, scanner]) is scanner
    assert kbd.closed and not scanner.closed
    scanner.close()
    kbd2 = keyboard()
    assert find_device(HidMatch(vendor_id=0x0C2E), [kbd2]) is None
    assert kbd2.closed


# -- the driver thread ------------------------------------------------------------------------


class Bus:
    """The set of input devices currently plugged in."""

    def __init__(self) -> None:
        self.devices: list[FakeInputDevice] = []
        self.lock = threading.Lock()

    def __call__(self) -> list[FakeInputDevice]:
        with self.lock:
            return [d for d in self.devices if not d.gone]

    def plug(self, device: FakeInputDevice) -> FakeInputDevice:
        with self.lock:
            self.devices.append(device)
        return device


@pytest.fixture
def bus() -> Iterator[Bus]:
    b = Bus()
    yield b
    for d in b.devices:
        d.close()


def start(bus: Bus, **settings) -> tuple[EvdevScanner, Collector]:
    driver = EvdevScanner(
        HidSettings(HidMatch(vendor_id=0x0C2E), reconnect_delay=0.01, **settings),
        Framing(suffix="\r"),
        devices=bus,
    )
    got = Collector()
    driver.start(got)
    return driver, got


def test_driver_grabs_the_scanner_decodes_and_reconnects_after_unplug(bus: Bus) -> None:
    bus.plug(keyboard())
    scanner = bus.plug(honeywell())
    driver, got = start(bus)
    try:
        assert driver.wait_connected(5)
        assert scanner.grabbed
        scanner.send(Keyboard().type(GS1_SCAN + "\r").events)
        first = got.next()
        assert_gs1_intact(first)
        assert first.source == "evdev:Honeywell Imaging & Mobility 1900 (/dev/input/event7)"

        scanner.send(Keyboard().type("]C10109").events)  # pulled out mid-scan
        scanner.unplug()
        assert wait_until(lambda: driver.status is DriverStatus.DISCONNECTED)
        again = bus.plug(honeywell())
        assert driver.wait_connected(5)
        assert driver.sessions == 2 and again.grabbed
        again.send(Keyboard().type(GS1_SCAN + "\r").events)
        assert_gs1_intact(got.next())  # the half scan from before the unplug is gone
    finally:
        driver.stop()
    assert not again.grabbed and again.closed
    assert driver.status is DriverStatus.STOPPED


def test_no_grab_when_turned_off_and_waits_for_a_missing_scanner(bus: Bus) -> None:
    driver, got = start(bus, grab=False)
    try:
        assert wait_until(lambda: driver.status is DriverStatus.DISCONNECTED)
        scanner = bus.plug(honeywell())
        assert driver.wait_connected(5)
        assert not scanner.grabbed
        scanner.send(Keyboard().type("LPN000000018\r").events)
        assert got.next().text == "LPN000000018"
    finally:
        driver.stop()


def test_suffixless_hid_scan_ends_when_the_keys_stop(bus: Bus) -> None:
    scanner = bus.plug(honeywell())
    driver = EvdevScanner(
        HidSettings(HidMatch(name_contains="Honeywell"), idle_end_ms=20),
        Framing(suffix=""),
        devices=bus,
    )
    got = Collector()
    driver.start(got)
    try:
        assert driver.wait_connected(5)
        scanner.send(Keyboard().type(GS1_SCAN).events)
        assert_gs1_intact(got.next())
    finally:
        driver.stop()
