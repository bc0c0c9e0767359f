"""Framing shared by every transport (no Kivy): cut a stream at the suffix, strip the prefix,
split the AIM identifier, map the GS substitute back to GS.

Stream transports feed what they read into a `FrameSplitter` (bytes for serial, text for
evdev and the wedge); it keeps a partial scan until its suffix arrives, however many reads
that takes. Each complete frame goes through `Framer.decode`, which makes the `DecodedScan`.
AIM identifiers are recognised by `protocols.barcodes.aim.split_aim`, the same code
`parse_scan` uses, so driver and parser never disagree about what an identifier is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import AnyStr, Generic

from protocols.barcodes.aim import split_aim
from protocols.barcodes.labels import parse_label
from protocols.barcodes.model import GS, BarcodeError, SymbologyMode
from terminal.scanners.base import DecodedScan
from terminal.scanners.config import Framing

__all__ = ["GS", "FrameSplitter", "Framer", "safe_call"]

log = logging.getLogger(__name__)

# A CR LF scanner framed by CR alone leaves an LF at the start of the next scan (and the other
# way round at the end); GS1 data never contains CR or LF, so they are safe to drop there.
_EDGE_NEWLINES = "\r\n"


class FrameSplitter(Generic[AnyStr]):
    """Cuts a stream at `suffix`; keeps the incomplete tail between feeds (read timeouts).

    `feed()` returns the complete frames, each with its suffix. With an empty suffix nothing
    is ever complete by itself: the transport calls `flush()` when the input goes quiet.
    """

    def __init__(self, suffix: AnyStr, *, max_length: int = 8192) -> None:
        self.suffix: AnyStr = suffix
        self.max_length = max_length
        self._buffer: AnyStr = suffix[:0]

    @property
    def pending(self) -> AnyStr:
        """The partial frame waiting for its suffix."""
        return self._buffer

    def feed(self, data: AnyStr) -> list[AnyStr]:
        self._buffer += data
        frames: list[AnyStr] = []
        if self.suffix:
            while True:
                end = self._buffer.find(self.suffix)
                if end < 0:
                    break
                cut = end + len(self.suffix)
                frames.append(self._buffer[:cut])
                self._buffer = self._buffer[cut:]
        if len(self._buffer) > self.max_length:
            # A scanner whose suffix is misconfigured would otherwise grow this forever.
            log.warning("no suffix in %d characters: dropping them", len(self._buffer))
            self._buffer = self._buffer[:0]
        return frames

    def flush(self) -> AnyStr | None:
        """The pending partial frame (for suffix-less framing on a quiet line), or None."""
        data, self._buffer = self._buffer, self._buffer[:0]
        if not data:
            return None
        return data

    def reset(self) -> AnyStr:
        """Forget the pending partial frame (after an unplug); returns what was dropped."""
        return self.flush() or self.suffix[:0]


class Framer:
    """Turns one complete frame into a `DecodedScan` according to a `Framing`."""

    def __init__(self, framing: Framing, source: str) -> None:
        self.framing = framing
        self.source = source

    def strip(self, text: str) -> str:
        """Remove the prefix and suffix (each only if present) and stray CR/LF at the ends."""
        f = self.framing
        if not f.prefix.startswith(("\r", "\n")):
            text = text.lstrip(_EDGE_NEWLINES)
        if f.prefix and text.startswith(f.prefix):
            text = text[len(f.prefix) :]
        if f.suffix and text.endswith(f.suffix):
            text = text[: -len(f.suffix)]
        return text.strip(_EDGE_NEWLINES)

    def decode(
        self,
        raw: bytes,
        text: str,
        *,
        symbology: str | None = None,
        scanned_at: datetime | None = None,
    ) -> DecodedScan | None:
        """The scan in `text` (a whole frame as received; `raw` its bytes), or None if the
        frame holds nothing but framing. `symbology` is an AIM identifier learnt out of band
        (intent extras); one at the start of the data wins when `aim_ids` is on."""
        data = self.strip(text)
        if self.framing.aim_ids:
            sym, rest = split_aim(data)
            if sym is not None:
                symbology, data = sym.aim, rest
        if not data:
            return None
        data = self._map_gs(data, symbology)
        return DecodedScan(
            text=data,
            raw=raw,
            symbology=symbology,
            source=self.source,
            scanned_at=scanned_at or datetime.now(UTC),
        )

    def _map_gs(self, data: str, symbology: str | None) -> str:
        sub = self.framing.gs_substitute
        if not sub or sub not in data:
            return data
        if symbology is not None:
            sym, _ = split_aim(symbology if symbology.startswith("]") else "]" + symbology)
            if sym is not None and sym.mode is not SymbologyMode.GS1:
                return data  # Code 39, plain Code 128, EAN...: no GS1 fields, nothing to map
        # Same rule as parse_scan: the substitute never touches our own labels.
        try:
            if parse_label(data) is not None:
                return data
        except BarcodeError:
            return data  # one of our prefixes with a bad body: parse_scan refuses it as is
        return data.replace(sub, GS)


def safe_call(handler: Callable[[DecodedScan], None], scan: DecodedScan) -> None:
    """Call the scan handler from a driver thread; its errors are logged, never raised into
    the read loop (a bug on a screen must not kill the scanner)."""
    try:
        handler(scan)
    except Exception:
        log.exception("scan handler failed for a scan from %s", scan.source)
