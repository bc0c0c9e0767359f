"""Android intent scanners: recorded DataWedge and Honeywell extras (tests/data/intents/)
decoded on Linux, and the driver over a fake BroadcastReceiver and fake Intent/Bundle
objects shaped like the pyjnius ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scanner_support import GS1_DATA, Collector, assert_gs1_intact

from protocols.barcodes import BarcodeError, ScanKind, parse_scan
from protocols.errors import ErrorCode
from terminal.scanners import ScannerUnavailableError, make_driver
from terminal.scanners.android_intent import (
    AndroidIntentScanner,
    IntentDecodeError,
    android_available,
    bundle_to_dict,
    decode_extras,
)
from terminal.scanners.config import Framing, IntentSettings

INTENTS = Path(__file__).parent / "data" / "intents"


def recorded(name: str) -> tuple[str, dict[str, Any]]:
    body = json.loads((INTENTS / f"{name}.json").read_text())
    return body["action"], body["extras"]


@pytest.mark.parametrize(
    "name",
    [
        "zebra_gs1_128",
        "zebra_gs1_datamatrix_aim",
        "zebra_gs1_datamatrix_no_aim",
        "zebra_bytes_only",
        "honeywell_gs1_128",
        "honeywell_codeid_only",
    ],
)
def test_gs1_scan_survives_every_recorded_intent(name: str) -> None:
    action, extras = recorded(name)
    scan = decode_extras(action, extras)
    assert scan.text == GS1_DATA
    parsed = parse_scan(scan.text, symbology=scan.symbology)
    assert (parsed.lot, parsed.count, parsed.expiry.isoformat()) == ("ABC123", 12, "2025-12-31")
    assert scan.raw.endswith(GS1_DATA.encode())  # raw keeps an AIM id sent in the data


def test_datawedge_label_type_and_honeywell_aim_id_become_the_symbology() -> None:
    assert_gs1_intact(decode_extras(*recorded("zebra_gs1_128")))
    assert_gs1_intact(decode_extras(*recorded("honeywell_gs1_128")))
    assert decode_extras(*recorded("honeywell_codeid_only")).symbology == "]C1"
    dm = decode_extras(*recorded("zebra_gs1_datamatrix_aim"))
    assert dm.symbology == "]d2"  # the AIM id in the data wins over LABEL-TYPE-DATAMATRIX
    # An ambiguous label type gives no symbology: the content decides, a GS1 parse works.
    assert decode_extras(*recorded("zebra_gs1_datamatrix_no_aim")).symbology is None


def test_ean13_with_send_enter_drops_the_newline() -> None:
    scan = decode_extras(*recorded("zebra_ean13_enter"))
    assert (scan.text, scan.symbology) == ("4006381333931", "]E0")
    assert parse_scan(scan.text, symbology=scan.symbology).kind is ScanKind.ITEM


def test_signed_java_bytes_are_read_back_as_utf8() -> None:
    action, extras = recorded("honeywell_qr_utf8")
    assert decode_extras(action, extras).raw == "Grüße".encode()
    del extras["data"]  # only the bytes: decoded with the intent's charset
    scan = decode_extras(action, extras)
    assert (scan.text, scan.symbology) == ("Grüße", "]Q1")
    with pytest.raises(BarcodeError) as refused:  # the driver delivers it; the parser refuses
        parse_scan(scan.text, symbology=scan.symbology)
    assert refused.value.code is ErrorCode.BARCODE_UNREADABLE


def test_custom_extra_names_from_the_profile() -> None:
    settings = IntentSettings("com.acme.SCAN", data_key="barcode", symbology_key="aim")
    scan = decode_extras("com.acme.SCAN", {"barcode": GS1_DATA, "aim": "]C1"}, settings=settings)
    assert_gs1_intact(scan)


def test_gs_substitute_from_the_profile() -> None:
    extras = {"data": GS1_DATA.replace("\x1d", "^"), "aimId": "]C1"}
    assert_gs1_intact(decode_extras("a", extras, framing=Framing(gs_substitute="^")))


@pytest.mark.parametrize(
    ("extras", "message"),
    [
        (recorded("zebra_no_data")[1], "carries no scan data"),
        ({"data": 12345}, "not text"),
        ({"dataBytes": "not bytes"}, "not a byte array"),
        ({"com.symbol.datawedge.decode_data": b"abc"}, "not a list of byte arrays"),
        ({"data": "\n"}, "empty scan"),
    ],
)
def test_intents_without_a_scan_are_refused_clearly(extras: dict[str, Any], message: str) -> None:
    with pytest.raises(IntentDecodeError, match=message):
        decode_extras("com.aisleway.SCAN", extras)


# -- the driver, over fakes of the Android objects pyjnius hands us ---------------------------


class JavaList:
    def __init__(self, items: list[Any]) -> None:
        self._items = items

    def size(self) -> int:
        return len(self._items)

    def get(self, i: int) -> Any:
        return self._items[i]


class Bundle:
    def __init__(self, extras: dict[str, Any]) -> None:
        self._extras = {
            k: JavaList(v) if isinstance(v, list) and v and isinstance(v[0], list) else v
            for k, v in extras.items()
        }

    def keySet(self) -> Any:
        return _KeySet(list(self._extras))

    def get(self, key: str) -> Any:
        return self._extras.get(key)


class _KeySet:
    def __init__(self, keys: list[str]) -> None:
        self._keys = keys

    def toArray(self) -> list[str]:
        return self._keys


class Intent:
    def __init__(self, action: str, extras: dict[str, Any]) -> None:
        self._action, self._bundle = action, Bundle(extras)

    def getAction(self) -> str:
        return self._action

    def getExtras(self) -> Bundle:
        return self._bundle


class FakeReceiver:
    def __init__(self, callback, actions: list[str], categories: list[str]) -> None:
        self.callback, self.actions, self.categories = callback, actions, categories
        self.running = False

    def start(self) -> None:
        self.running = True

    def stop(self) -> None:
        self.running = False

    def deliver(self, intent: Intent) -> None:
        assert self.running
        self.callback(None, intent)


def test_bundle_to_dict_reads_lists_of_byte_arrays() -> None:
    _, extras = recorded("zebra_gs1_128")
    out = bundle_to_dict(Bundle(extras))
    assert out["com.symbol.datawedge.decode_data"] == extras["com.symbol.datawedge.decode_data"]
    assert bundle_to_dict(None) == {}


def test_driver_delivers_scans_from_broadcasts_and_drops_bad_ones() -> None:
    receivers: list[FakeReceiver] = []
    sent: list[tuple[str, Any]] = []

    def factory(callback, actions, categories):
        receivers.append(FakeReceiver(callback, actions, categories))
        return receivers[-1]

    settings = IntentSettings(
        "com.aisleway.SCAN", category="android.intent.category.DEFAULT", honeywell_claim=True
    )
    driver = AndroidIntentScanner(
        settings, receiver_factory=factory, broadcast=lambda a, e: sent.append((a, e))
    )
    got = Collector()
    driver.start(got)
    (receiver,) = receivers
    assert receiver.actions == ["com.aisleway.SCAN"]
    assert receiver.categories == ["android.intent.category.DEFAULT"]
    assert sent[0][0] == "com.honeywell.aidc.action.ACTION_CLAIM_SCANNER"
    props = sent[0][1]["com.honeywell.aidc.extra.EXTRA_PROPERTIES"]
    assert props == {"DPR_DATA_INTENT": True, "DPR_DATA_INTENT_ACTION": "com.aisleway.SCAN"}

    receiver.deliver(Intent(*recorded("zebra_no_data")))  # logged and dropped
    receiver.deliver(Intent("com.other.ACTION", recorded("zebra_gs1_128")[1]))  # not ours
    receiver.deliver(Intent(*recorded("zebra_gs1_128")))
    receiver.deliver(Intent(*recorded("honeywell_gs1_128")))
    first, second = got.next(0), got.next(0)
    assert_gs1_intact(first)
    assert_gs1_intact(second)
    assert first.source == "android:datawedge com.aisleway.SCAN"
    assert got.none_within(0)

    driver.stop()
    assert not receiver.running
    assert sent[-1][0] == "com.honeywell.aidc.action.ACTION_RELEASE_SCANNER"


def test_without_pyjnius_start_says_what_is_missing() -> None:
    assert not android_available()  # this test runs on Linux without python-for-android
    driver = make_driver("android", IntentSettings("com.aisleway.SCAN"))
    with pytest.raises(ScannerUnavailableError, match="python-for-android"):
        driver.start(Collector())
