"""The simulated scanner: scripts, `scan()` calls, the same framing as real scanners."""

from __future__ import annotations

from pathlib import Path

from scanner_support import GS1_SCAN, Collector, assert_gs1_intact

from terminal.scanners import make_driver
from terminal.scanners.config import Framing, SimulatedSettings
from terminal.scanners.runner import DriverStatus
from terminal.scanners.simulated import SimulatedScanner, load_script


def test_script_with_gs_placeholder_and_scan_calls(tmp_path: Path) -> None:
    script = tmp_path / "demo.txt"
    script.write_text(
        "# receiving demo\n\n]C1010950110153000310ABC123{GS}172512313712\nA03-07-2L\n"
    )
    driver = SimulatedScanner(SimulatedSettings(script=load_script(script), interval=0))
    got = Collector()
    driver.start(got)
    try:
        assert_gs1_intact(got.next())
        assert got.next().text == "A03-07-2L"
        driver.scan(GS1_SCAN + "\r")
        scan = got.next()
        assert_gs1_intact(scan)
        assert scan.source == "simulated"
        assert got.none_within(0.05)  # the script is not repeated
    finally:
        driver.stop()
    assert driver.status is DriverStatus.STOPPED


def test_repeat_plays_the_script_again_and_framing_applies() -> None:
    driver = make_driver(
        "simulated",
        SimulatedSettings(script=("TOTE-0042",), interval=0, repeat=True),
        Framing(gs_substitute="-"),
    )
    got = Collector()
    driver.start(got)
    try:
        # Our own label: the substitute is never mapped inside it.
        assert [got.next().text for _ in range(3)] == ["TOTE-0042"] * 3
    finally:
        driver.stop()
