"""Scanner drivers: every transport delivers the same `DecodedScan` (no Kivy here)."""

from terminal.scanners.base import DecodedScan, ScanHandler, ScannerDriver

__all__ = ["DecodedScan", "ScanHandler", "ScannerDriver"]
