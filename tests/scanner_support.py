"""The GS1 scan every scanner transport test sends, and the check that it arrived intact."""

from __future__ import annotations

import datetime as dt
import queue

from protocols.barcodes import parse_scan
from terminal.scanners.base import DecodedScan

GS = "\x1d"
#: GS1-128: GTIN, lot ABC123 (variable length, so GS ends it), expiry 2025-12-31, count 12.
GS1_DATA = "0109501101530003" + "10ABC123" + GS + "17251231" + "3712"
GS1_SCAN = "]C1" + GS1_DATA


def assert_gs1_intact(scan: DecodedScan) -> None:
    """The scan parses with every field: the GS between lot and expiry survived."""
    assert scan.text == GS1_DATA
    assert scan.symbology == "]C1"
    parsed = parse_scan(scan.text, symbology=scan.symbology)
    assert parsed.gtin == "09501101530003"
    assert parsed.lot == "ABC123"
    assert parsed.expiry == dt.date(2025, 12, 31)
    assert parsed.count == 12


class Collector:
    """A scan handler that lets a test wait for the scans a driver thread delivers."""

    def __init__(self) -> None:
        self.scans: queue.Queue[DecodedScan] = queue.Queue()

    def __call__(self, scan: DecodedScan) -> None:
        self.scans.put(scan)

    def next(self, timeout: float = 5.0) -> DecodedScan:
        return self.scans.get(timeout=timeout)

    def none_within(self, timeout: float) -> bool:
        try:
            self.scans.get(timeout=timeout)
        except queue.Empty:
            return True
        return False
