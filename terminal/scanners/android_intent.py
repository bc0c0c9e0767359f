"""Scans broadcast as Android intents: Zebra DataWedge and Honeywell (no Kivy).

Two parts:

- `decode_extras(action, extras)` — pure: the intent's extras (as a mapping) to a
  `DecodedScan`. Tested on Linux with recorded extras (`tests/data/intents/*.json`).
- `AndroidIntentScanner` — registers a BroadcastReceiver for the configured action through
  python-for-android's `android.broadcast` (pyjnius). Those imports happen in `start()`
  only, so this module imports anywhere; on a machine without them `start()` raises
  `ScannerUnavailableError`.

Extras read (the first present wins):

- Zebra DataWedge: text `com.symbol.datawedge.data_string`, bytes
  `com.symbol.datawedge.decode_data` (a list of byte[]), symbology from
  `com.symbol.datawedge.label_type` (`LABEL-TYPE-EAN128` → `]C1`, ...).
- Honeywell: text `data`, bytes `dataBytes` (byte[]), symbology `aimId` (`]C1`), else
  from `codeId` (`I` → `]C1`, ...).

Both put GS (0x1D) into the data of GS1 symbols, so nothing needs mapping back unless the
profile sets a `gs_substitute`. An AIM identifier at the start of the data (DataWedge
"transmit code ID: AIM") wins over the label type. Label types that do not say whether the
symbol is GS1 (`LABEL-TYPE-DATAMATRIX`, `-QRCODE`, `-I2OF5`, ...) give no symbology, so
`parse_scan` decides by content instead of refusing a GS1 DataMatrix as a plain one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from terminal.scanners.base import DecodedScan, ScanHandler
from terminal.scanners.config import (
    Framing,
    IntentSettings,
    ScannerUnavailableError,
)
from terminal.scanners.framing import Framer, safe_call

__all__ = [
    "HONEYWELL_CODE_IDS",
    "ZEBRA_LABEL_TYPES",
    "AndroidIntentScanner",
    "IntentDecodeError",
    "android_available",
    "bundle_to_dict",
    "decode_extras",
]

log = logging.getLogger(__name__)

ZEBRA_DATA = "com.symbol.datawedge.data_string"
ZEBRA_LABEL_TYPE = "com.symbol.datawedge.label_type"
ZEBRA_DECODE_DATA = "com.symbol.datawedge.decode_data"
ZEBRA_SOURCE = "com.symbol.datawedge.source"
HONEYWELL_DATA = "data"
HONEYWELL_BYTES = "dataBytes"
HONEYWELL_AIM = "aimId"
HONEYWELL_CODE_ID = "codeId"
HONEYWELL_CHARSET = "charset"

HONEYWELL_CLAIM = "com.honeywell.aidc.action.ACTION_CLAIM_SCANNER"
HONEYWELL_RELEASE = "com.honeywell.aidc.action.ACTION_RELEASE_SCANNER"
HONEYWELL_SERVICE = "com.intermec.datacollectionservice"

#: DataWedge label types → AIM identifiers, only where the type settles GS1 or not.
ZEBRA_LABEL_TYPES: dict[str, str] = {
    "LABEL-TYPE-EAN128": "]C1",
    "LABEL-TYPE-CODE128": "]C0",
    "LABEL-TYPE-GS1-DATAMATRIX": "]d2",
    "LABEL-TYPE-GS1-QRCODE": "]Q3",
    "LABEL-TYPE-GS1-DATABAR": "]e0",
    "LABEL-TYPE-GS1-DATABAR-EXP": "]e0",
    "LABEL-TYPE-GS1-DATABAR-LIM": "]e0",
    "LABEL-TYPE-EAN13": "]E0",
    "LABEL-TYPE-UPCA": "]E0",
    "LABEL-TYPE-UPCE0": "]E0",
    "LABEL-TYPE-UPCE1": "]E0",
    "LABEL-TYPE-EAN8": "]E4",
    "LABEL-TYPE-CODE39": "]A0",
    "LABEL-TYPE-CODE93": "]G0",
    "LABEL-TYPE-CODABAR": "]F0",
}
#: Honeywell code ids → AIM identifiers, for intents without `aimId`.
HONEYWELL_CODE_IDS: dict[str, str] = {
    "I": "]C1",  # GS1-128
    "j": "]C0",  # Code 128
    "d": "]E0",  # EAN-13
    "c": "]E0",  # UPC-A
    "E": "]E0",  # UPC-E
    "D": "]E4",  # EAN-8
    "b": "]A0",  # Code 39
    "i": "]G0",  # Code 93
    "y": "]e0",  # GS1 DataBar
}


class IntentDecodeError(ValueError):
    """The intent carries no scan data this decoder understands."""


def _bytes(value: Any) -> bytes | None:
    """A Java byte[] however it arrives: bytes, a list of (signed) ints, a pyjnius array."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    tostring = getattr(value, "tostring", None)
    if callable(tostring):
        return bytes(tostring())
    try:
        return bytes(b & 0xFF for b in value)  # Java bytes are signed: -128..127
    except TypeError:
        raise IntentDecodeError(f"not a byte array: {type(value).__name__}") from None


def _first(extras: Mapping[str, Any], *keys: str | None) -> Any:
    for key in keys:
        if key is not None and extras.get(key) is not None:
            return extras[key]
    return None


def decode_extras(
    action: str,
    extras: Mapping[str, Any],
    *,
    settings: IntentSettings | None = None,
    framing: Framing | None = None,
) -> DecodedScan:
    """The scan in one intent's extras. Raises `IntentDecodeError` if there is none."""
    s = settings
    framing = framing or Framing()  # CR/LF from DataWedge "send ENTER" is dropped anyway
    text = _first(extras, s.data_key if s else None, ZEBRA_DATA, HONEYWELL_DATA)
    raw_value = _first(extras, s.bytes_key if s else None, ZEBRA_DECODE_DATA, HONEYWELL_BYTES)
    if raw_value is not None and extras.get(ZEBRA_DECODE_DATA) is raw_value:
        if isinstance(raw_value, bytes | str) or not hasattr(raw_value, "__iter__"):
            raise IntentDecodeError(f"{ZEBRA_DECODE_DATA} is not a list of byte arrays")
        # A list of byte[], one per symbol (two for a composite).
        parts = [_bytes(part) or b"" for part in cast(Iterable[Any], raw_value)]
        raw: bytes | None = b"".join(parts)
    else:
        raw = _bytes(raw_value)
    if text is not None and not isinstance(text, str):
        raise IntentDecodeError(f"scan data in {action} is not text")
    if text is None:
        if raw is None:
            raise IntentDecodeError(f"intent {action} carries no scan data")
        charset = extras.get(HONEYWELL_CHARSET) or "utf-8"
        try:
            text = raw.decode(charset, errors="replace")
        except LookupError:
            text = raw.decode("utf-8", errors="replace")
    if raw is None:
        raw = text.encode("utf-8")
    symbology = _symbology(extras, s)
    source = "android:" + ("datawedge" if ZEBRA_DATA in extras else "intent") + f" {action}"
    scan = Framer(framing, source).decode(raw, text, symbology=symbology)
    if scan is None:
        raise IntentDecodeError(f"intent {action} carries an empty scan")
    return scan


def _symbology(extras: Mapping[str, Any], s: IntentSettings | None) -> str | None:
    value = _first(extras, s.symbology_key if s else None, HONEYWELL_AIM)
    if isinstance(value, str) and value.startswith("]"):
        return value
    label = extras.get(ZEBRA_LABEL_TYPE)
    if isinstance(label, str):
        return ZEBRA_LABEL_TYPES.get(label)
    code_id = extras.get(HONEYWELL_CODE_ID)
    if isinstance(code_id, str):
        return HONEYWELL_CODE_IDS.get(code_id)
    return None


def bundle_to_dict(bundle: Any) -> dict[str, Any]:
    """An `android.os.Bundle` (through pyjnius) as a dict; lists of byte[] become lists."""
    if bundle is None:
        return {}
    out: dict[str, Any] = {}
    for key in bundle.keySet().toArray():
        value = bundle.get(key)
        if hasattr(value, "size") and hasattr(value, "get"):  # java.util.List
            value = [value.get(i) for i in range(value.size())]
        out[str(key)] = value
    return out


def android_available() -> bool:
    """True where pyjnius and python-for-android's `android` module can be imported."""
    try:
        import android.broadcast  # noqa: F401
        import jnius  # noqa: F401
    except ImportError:
        return False
    return True


ReceiverFactory = Callable[[Callable[[Any, Any], None], list[str], list[str]], Any]


def _p4a_receiver(
    callback: Callable[[Any, Any], None], actions: list[str], categories: list[str]
) -> Any:
    try:
        from android.broadcast import BroadcastReceiver
    except ImportError:
        raise ScannerUnavailableError(
            "Android intent scanning needs python-for-android (pyjnius); use the serial, "
            "evdev, wedge or simulated scanner on this machine"
        ) from None
    return BroadcastReceiver(callback, actions=actions, categories=categories or None)


class AndroidIntentScanner:
    """`ScannerDriver` for DataWedge/Honeywell intents; scans arrive on the receiver's thread.

    `receiver_factory(callback, actions, categories)` builds the receiver (default: p4a's
    `android.broadcast.BroadcastReceiver`); it must have `start()` and `stop()` and call
    `callback(context, intent)` for each intent."""

    def __init__(
        self,
        settings: IntentSettings,
        framing: Framing | None = None,
        *,
        receiver_factory: ReceiverFactory = _p4a_receiver,
        broadcast: Callable[[str, Mapping[str, Any]], None] | None = None,
    ) -> None:
        self.settings = settings
        self.framing = framing or Framing()
        self.name = f"android:{settings.action}"
        self.receiver_factory = receiver_factory
        self.broadcast = broadcast
        self._receiver: Any = None
        self._on_scan: ScanHandler | None = None

    def start(self, on_scan: ScanHandler) -> None:
        if self._receiver is not None:
            raise RuntimeError(f"scanner {self.name} is already started")
        self._on_scan = on_scan
        categories = [self.settings.category] if self.settings.category else []
        self._receiver = self.receiver_factory(self._on_intent, [self.settings.action], categories)
        self._receiver.start()
        if self.settings.honeywell_claim:
            self._send(
                HONEYWELL_CLAIM,
                {
                    "com.honeywell.aidc.extra.EXTRA_SCANNER": "dcs.scanner.imager",
                    "com.honeywell.aidc.extra.EXTRA_PROFILE": "DEFAULT",
                    "com.honeywell.aidc.extra.EXTRA_PROPERTIES": {
                        "DPR_DATA_INTENT": True,
                        "DPR_DATA_INTENT_ACTION": self.settings.action,
                    },
                },
            )

    def stop(self) -> None:
        receiver, self._receiver = self._receiver, None
        if receiver is None:
            return
        if self.settings.honeywell_claim:
            self._send(HONEYWELL_RELEASE, {})
        try:
            receiver.stop()
        except Exception:
            log.exception("stopping the intent receiver failed")

    def handle(self, action: str, extras: Mapping[str, Any]) -> DecodedScan | None:
        """Decode one intent and deliver it; bad intents are logged and dropped."""
        if action != self.settings.action:
            return None
        try:
            scan = decode_extras(action, extras, settings=self.settings, framing=self.framing)
        except IntentDecodeError as exc:
            log.warning("scanner %s: %s", self.name, exc)
            return None
        if self._on_scan is not None:
            safe_call(self._on_scan, scan)
        return scan

    def _on_intent(self, context: Any, intent: Any) -> None:
        try:  # runs on an Android thread: nothing may escape
            self.handle(str(intent.getAction()), bundle_to_dict(intent.getExtras()))
        except Exception:
            log.exception("scanner %s: unreadable intent", self.name)

    def _send(self, action: str, extras: Mapping[str, Any]) -> None:
        try:
            (self.broadcast or _send_broadcast)(action, extras)
        except Exception:
            log.exception("scanner %s: broadcasting %s failed", self.name, action)


def _send_broadcast(action: str, extras: Mapping[str, Any]) -> None:
    """Send an intent to the Honeywell data collection service (on the device only)."""
    try:
        from jnius import autoclass
    except ImportError:
        raise ScannerUnavailableError("broadcasting intents needs pyjnius") from None
    intent_cls = autoclass("android.content.Intent")
    bundle_cls = autoclass("android.os.Bundle")
    activity = autoclass("org.kivy.android.PythonActivity").mActivity
    intent = intent_cls(action)
    intent.setPackage(HONEYWELL_SERVICE)
    for key, value in extras.items():
        if isinstance(value, Mapping):
            bundle = bundle_cls()
            for k, v in value.items():
                if isinstance(v, bool):
                    bundle.putBoolean(k, v)
                else:
                    bundle.putString(k, str(v))
            intent.putExtra(key, bundle)
        else:
            intent.putExtra(key, str(value))
    activity.sendBroadcast(intent)
