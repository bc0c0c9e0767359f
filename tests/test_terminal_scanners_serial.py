"""The serial driver on real pseudo-terminals: the test holds the master side (the scanner),
the driver opens the slave side by a stable link, as it would `/dev/serial/by-id/...`."""

from __future__ import annotations

import os
import time
import tty
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import serial
from scanner_support import GS1_SCAN, Collector, assert_gs1_intact

from protocols.barcodes import BarcodeError, parse_scan
from protocols.errors import ErrorCode
from terminal.scanners.config import Framing, SerialSettings
from terminal.scanners.runner import DriverStatus
from terminal.scanners.serial_driver import SerialScanner


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


class FakeScannerPort:
    """A scanner at the far end of a pty, reachable through `link` like a udev by-id link."""

    def __init__(self, link: Path) -> None:
        self.link = link
        self.master: int | None = None
        self.plug()

    def plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # a real serial line does no CR→LF translation
        self.link.unlink(missing_ok=True)
        self.link.symlink_to(os.ttyname(slave))
        os.close(slave)
        self.master = master

    def unplug(self) -> None:
        assert self.master is not None
        os.close(self.master)  # the slave node vanishes and its reader gets EIO
        self.master = None
        self.link.unlink()

    def send(self, data: bytes) -> None:
        assert self.master is not None
        os.write(self.master, data)


@pytest.fixture
def port(tmp_path: Path) -> Iterator[FakeScannerPort]:
    fake = FakeScannerPort(tmp_path / "usb-Honeywell_1900-if00")
    yield fake
    if fake.master is not None:
        os.close(fake.master)


@pytest.fixture
def started(port: FakeScannerPort) -> Iterator[tuple[SerialScanner, Collector]]:
    driver = SerialScanner(
        SerialSettings(str(port.link), baudrate=115200, read_timeout=0.05, reconnect_delay=0.05),
        Framing(suffix="\r"),
    )
    got = Collector()
    driver.start(got)
    assert driver.wait_connected(5)
    yield driver, got
    driver.stop()


def test_gs1_scan_in_pieces_across_read_timeouts_arrives_whole(started, port) -> None:
    driver, got = started
    message = (GS1_SCAN + "\r").encode()
    port.send(message[:7])
    # The driver has read the first piece and is waiting (read timeouts) for the rest.
    assert wait_until(lambda: driver.splitter.pending == message[:7])
    time.sleep(0.15)  # several read timeouts go by with the partial scan held
    port.send(message[7:26])  # ends right after the GS
    assert wait_until(lambda: driver.splitter.pending == message[:26])
    port.send(message[26:])
    scan = got.next()
    assert scan.raw == message
    assert scan.source == f"serial:{port.link}"
    assert_gs1_intact(scan)


def test_two_scans_in_one_write_are_two_scans_in_order(started, port) -> None:
    _, got = started
    port.send((GS1_SCAN + "\r]E04006381333931\r").encode())
    assert_gs1_intact(got.next())
    second = got.next()
    assert (second.symbology, second.text) == ("]E0", "4006381333931")
    assert parse_scan(second.text, symbology=second.symbology).gtin == "04006381333931"


def test_reconnects_after_unplug_and_drops_the_half_scan(started, port) -> None:
    driver, got = started
    port.send(b"]C101095011")  # the cable is pulled mid-scan
    assert wait_until(lambda: driver.splitter.pending == b"]C101095011")
    port.unplug()
    assert wait_until(lambda: driver.status is DriverStatus.DISCONNECTED)
    assert not driver.connected.is_set()
    port.plug()  # back, on a new tty behind the same link
    assert driver.wait_connected(5)
    assert driver.sessions == 2
    port.send((GS1_SCAN + "\r").encode())
    scan = got.next()
    assert_gs1_intact(scan)  # not prefixed with the half scan from before the unplug
    assert got.none_within(0.1)


def test_missing_port_keeps_retrying_without_raising(tmp_path: Path) -> None:
    statuses: list[DriverStatus] = []
    driver = SerialScanner(
        SerialSettings(str(tmp_path / "nothing"), reconnect_delay=0.01, max_reconnect_delay=0.02),
        on_status=statuses.append,
    )
    driver.start(Collector())
    assert wait_until(lambda: statuses.count(DriverStatus.DISCONNECTED) >= 1)
    assert wait_until(lambda: statuses.count(DriverStatus.CONNECTING) >= 3)  # retrying
    driver.stop()
    assert driver.status is DriverStatus.STOPPED
    assert driver.sessions == 0


def test_stop_releases_the_port(started, port) -> None:
    driver, _ = started
    thread = driver._thread
    driver.stop()
    assert thread is not None and not thread.is_alive()
    assert driver.status is DriverStatus.STOPPED
    # Opened exclusively before; now another program (or a restart) can have it.
    with serial.Serial(str(port.link), exclusive=True, timeout=0):
        pass


def test_a_failing_scan_handler_does_not_stop_the_driver(port) -> None:
    got = Collector()
    calls: list[str] = []

    def handler(scan) -> None:
        calls.append(scan.text)
        if len(calls) == 1:
            raise RuntimeError("screen bug")
        got(scan)

    driver = SerialScanner(SerialSettings(str(port.link)), Framing())
    driver.start(handler)
    try:
        assert driver.wait_connected(5)
        port.send(b"TOTE-0001\r" + (GS1_SCAN + "\r").encode())
        assert_gs1_intact(got.next())
        assert calls[0] == "TOTE-0001"
        assert driver.sessions == 1
    finally:
        driver.stop()


def test_suffixless_scanner_ends_a_scan_when_the_line_goes_quiet(port) -> None:
    driver = SerialScanner(SerialSettings(str(port.link), read_timeout=0.05), Framing(suffix=""))
    got = Collector()
    driver.start(got)
    try:
        assert driver.wait_connected(5)
        port.send(GS1_SCAN.encode())
        scan = got.next()
        assert scan.raw == GS1_SCAN.encode()
        assert_gs1_intact(scan)
    finally:
        driver.stop()


def test_bytes_that_are_not_text_reach_parse_scan_as_unreadable(started, port) -> None:
    _, got = started
    port.send(b"0109501101530003\xff\xfe\r")
    scan = got.next()
    assert "\ufffd" in scan.text
    with pytest.raises(BarcodeError) as refused:
        parse_scan(scan.text, symbology=scan.symbology)
    assert refused.value.code is ErrorCode.BARCODE_UNREADABLE


def test_prefix_and_crlf_framing(port) -> None:
    driver = SerialScanner(SerialSettings(str(port.link)), Framing(prefix="\x02", suffix="\r\n"))
    got = Collector()
    driver.start(got)
    try:
        assert driver.wait_connected(5)
        port.send(b"\x02" + GS1_SCAN.encode() + b"\r")
        port.send(b"\n\x02LPN000000018\r\n")
        assert_gs1_intact(got.next())
        lpn = got.next()
        assert lpn.text == "LPN000000018"
    finally:
        driver.stop()
