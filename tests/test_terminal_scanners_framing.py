"""Framing shared by all transports, the driver settings and `make_driver`."""

from __future__ import annotations

import pytest
from scanner_support import GS, GS1_DATA, GS1_SCAN, assert_gs1_intact

from protocols.barcodes import ScanKind, parse_scan
from terminal.scanners import ScannerConfigError, make_driver
from terminal.scanners.config import (
    Framing,
    HidMatch,
    HidSettings,
    IntentSettings,
    SerialSettings,
    SimulatedSettings,
    WedgeSettings,
)
from terminal.scanners.framing import Framer, FrameSplitter


def test_splitter_keeps_a_partial_frame_until_its_suffix_arrives() -> None:
    splitter: FrameSplitter[bytes] = FrameSplitter(b"\r")
    assert splitter.feed(b"]C1010950") == []
    assert splitter.pending == b"]C1010950"
    assert splitter.feed(b"1101530003\r]E04006") == [b"]C10109501101530003\r"]
    assert splitter.feed(b"381333931\r") == [b"]E04006381333931\r"]
    assert splitter.pending == b""


def test_splitter_with_a_multi_character_suffix_split_across_feeds() -> None:
    splitter: FrameSplitter[str] = FrameSplitter("\r\n")
    assert splitter.feed("ABCD\r") == []
    assert splitter.feed("\nEFGH\r\n") == ["ABCD\r\n", "EFGH\r\n"]


def test_splitter_drops_a_runaway_frame_without_suffix() -> None:
    splitter: FrameSplitter[bytes] = FrameSplitter(b"\r", max_length=10)
    assert splitter.feed(b"x" * 11) == []
    assert splitter.pending == b""
    assert splitter.feed(b"ok\r") == [b"ok\r"]


def test_framer_splits_aim_id_strips_framing_and_keeps_gs() -> None:
    framer = Framer(Framing(prefix="\x02", suffix="\r"), "test")
    raw = ("\x02" + GS1_SCAN + "\r").encode()
    scan = framer.decode(raw, raw.decode())
    assert scan is not None
    assert scan.raw == raw
    assert scan.source == "test"
    assert_gs1_intact(scan)


def test_framer_drops_stray_lf_of_a_crlf_scanner_framed_by_cr() -> None:
    scan = Framer(Framing(suffix="\r"), "t").decode(b"", "\n" + GS1_SCAN + "\r")
    assert scan is not None
    assert_gs1_intact(scan)


def test_framer_without_aim_ids_leaves_the_text_alone() -> None:
    scan = Framer(Framing(aim_ids=False), "t").decode(b"", "]C1" + GS1_DATA + "\r")
    assert scan is not None
    assert scan.symbology is None
    assert scan.text == GS1_SCAN  # parse_scan still reads the identifier itself
    assert parse_scan(scan.text).lot == "ABC123"


def test_framer_maps_the_gs_substitute_back_to_gs() -> None:
    framer = Framer(Framing(gs_substitute="<GS>"), "t")
    scan = framer.decode(b"", GS1_SCAN.replace(GS, "<GS>") + "\r")
    assert scan is not None
    assert_gs1_intact(scan)


def test_gs_substitute_never_touches_our_labels_or_plain_symbologies() -> None:
    framer = Framer(Framing(gs_substitute="-"), "t")
    label = framer.decode(b"", "A03-07-2L\r")
    assert label is not None and label.text == "A03-07-2L"
    assert parse_scan(label.text).kind is ScanKind.BIN
    plain = framer.decode(b"", "]A0PART-42\r")
    assert plain is not None and plain.text == "PART-42"


def test_a_frame_of_only_framing_is_no_scan() -> None:
    assert Framer(Framing(prefix="\x02"), "t").decode(b"\x02\r", "\x02\r") is None
    assert Framer(Framing(), "t").decode(b"]C1\r", "]C1\r") is None


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Framing(gs_substitute=""), "gs_substitute"),
        (lambda: Framing(suffix=GS), "must not contain GS"),
        (lambda: Framing(prefix="|", gs_substitute="|"), "gs_substitute"),
        (lambda: Framing(prefix="\r", suffix="\r"), "differ"),
        (lambda: SerialSettings(port=""), "serial.port"),
        (lambda: SerialSettings(port="/dev/ttyACM0", baudrate=0), "baudrate"),
        (lambda: SerialSettings(port="/dev/ttyACM0", parity="X"), "parity"),
        (lambda: SerialSettings(port="/dev/ttyACM0", bytesize=9), "bytesize"),
        (lambda: SerialSettings(port="/dev/ttyACM0", stopbits=3), "stopbits"),
        (lambda: SerialSettings(port="/dev/ttyACM0", read_timeout=0), "read_timeout"),
        (lambda: SerialSettings(port="/dev/ttyACM0", encoding="klingon"), "encoding"),
        (lambda: HidMatch(), "at least one"),
        (lambda: HidMatch(vendor_id=0x10000), "vendor_id"),
        (lambda: HidMatch(name_contains=""), "name_contains"),
        (lambda: HidSettings(HidMatch(vendor_id=1), layout="fr"), "layout"),
        (lambda: WedgeSettings(max_interkey_ms=0), "max_interkey_ms"),
        (lambda: WedgeSettings(min_length=0), "min_length"),
        (lambda: IntentSettings(action=" "), "intent.action"),
        (lambda: SimulatedSettings(interval=-1), "interval"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(build, message) -> None:
    with pytest.raises(ScannerConfigError, match=message):
        build()


def test_make_driver_builds_each_kind_and_refuses_mismatches() -> None:
    assert make_driver("serial", SerialSettings("/dev/ttyACM0")).name == "serial:/dev/ttyACM0"
    assert make_driver("evdev", HidSettings(HidMatch(vendor_id=0x0C2E))).name.startswith("evdev:")
    assert make_driver("android", IntentSettings("com.aisleway.SCAN")).name.startswith("android:")
    assert make_driver("wedge").name == "wedge"
    assert make_driver("simulated").name == "simulated"
    with pytest.raises(ScannerConfigError, match="unknown scanner driver 'usb'"):
        make_driver("usb", None)
    with pytest.raises(ScannerConfigError, match="needs SerialSettings, not HidSettings"):
        make_driver("serial", HidSettings(HidMatch(vendor_id=1)))
    with pytest.raises(ScannerConfigError, match="needs HidSettings, not NoneType"):
        make_driver("evdev")
