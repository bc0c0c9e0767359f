"""Scanner/handheld profiles: every shipped one validates, every mistake is refused by key and
reason, DataWedge rendering, device matching, driver settings, docs for every key."""

from __future__ import annotations

import json
import tomllib
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from edge_server.cli import main as aisleway
from protocols.barcodes import parse_scan
from terminal.profiles import SYMBOLOGIES, ProfileError, load_dir, load_file, parse_profile
from terminal.profiles.datawedge import DATAWEDGE_ACTION, SET_CONFIG_EXTRA, set_config
from terminal.profiles.match import DeviceInfo, choose_profile, driver_settings
from terminal.profiles.model import Profile
from terminal.scanners.config import (
    HidSettings,
    IntentSettings,
    ScannerConfigError,
    SerialSettings,
    WedgeSettings,
)

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "firmware_configs"

SERIAL = """
[device]
name = "test-serial"
vendor = "Acme"
model = "S1"
kind = "scanner"

[transport]
type = "serial"
port = "/dev/ttyACM0"
baud = 115200

[framing]
suffix = "\\r"
aim_ids = true

[gs]
mode = "native"

[symbologies]
enabled = ["gs1-128", "ean-13"]
"""


def _write(tmp_path: Path, text: str, name: str = "p.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _refusal(text: str) -> list[str]:
    with pytest.raises(ProfileError) as info:
        parse_profile(tomllib.loads(text), "p.toml")
    return [str(p) for p in info.value.problems]


# -- the shipped profiles -----------------------------------------------------------------


def test_every_shipped_profile_validates():
    result = load_dir(SHIPPED)
    assert result.errors == []
    names = set(result.profiles)
    for required in (
        "generic-hid",
        "honeywell-1950g-hid",
        "honeywell-1472g-serial",
        "zebra-ds2208-hid",
        "zebra-ds3678-serial",
        "zebra-tc52-datawedge",
        "honeywell-ct40-intent",
    ):
        assert required in names
    kinds = {p.transport.type for p in result.profiles.values()}
    assert kinds == {"serial", "hid", "intent", "wedge"}


def test_every_shipped_profile_reads_gs1_128_and_gs1_datamatrix():
    for profile in load_dir(SHIPPED).profiles.values():
        assert {"gs1-128", "gs1-datamatrix"} <= set(profile.symbologies.enabled), profile.name


def test_cli_lists_the_shipped_profiles(capsys):
    assert aisleway(["terminal", "profiles", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["errors"] == []
    by_name = {p["name"]: p for p in out["profiles"]}
    assert by_name["zebra-tc52-datawedge"]["datawedge"] is True
    assert by_name["honeywell-1472g-serial"]["transport"] == "serial"


# -- refusals: each names the key and the reason --------------------------------------------


def test_unknown_key_is_refused_with_a_suggestion():
    problems = _refusal(SERIAL.replace('suffix = "\\r"', 'sufix = "\\r"'))
    assert "framing.sufix: unknown key in framing; did you mean 'suffix'?" in problems


def test_wrong_type_is_refused():
    problems = _refusal(SERIAL.replace("baud = 115200", 'baud = "115200"'))
    assert problems == ["transport.baud: must be an integer (got a string '115200')"]


def test_bad_baud_is_refused():
    problems = _refusal(SERIAL.replace("baud = 115200", "baud = 12345"))
    assert problems[0].startswith("transport.baud: must be one of 1200, 2400")


def test_suffix_too_long_is_refused():
    problems = _refusal(SERIAL.replace('suffix = "\\r"', 'suffix = "\\r\\n\\r\\n\\r"'))
    assert problems == ["framing.suffix: must be 1-4 characters (got 5: '\\r\\n\\r\\n\\r')"]


def test_missing_suffix_on_a_stream_transport_is_refused():
    problems = _refusal(SERIAL.replace('suffix = "\\r"\n', ""))
    assert problems[0].startswith("framing.suffix: must be 1-4 characters for a serial transport")


def test_suffix_on_an_intent_transport_is_refused():
    text = (SHIPPED / "zebra-tc52-datawedge.toml").read_text()
    problems = _refusal(text.replace("aim_ids = true", 'aim_ids = true\nsuffix = "\\r"'))
    assert problems == [
        "framing.suffix: must be empty for an intent transport (one scan per intent)"
    ]


def test_unknown_symbology_is_refused():
    problems = _refusal(SERIAL.replace('"ean-13"]', '"ean13"]'))
    assert len(problems) == 1
    assert problems[0].startswith("symbologies.enabled: unknown symbology 'ean13'; known: gs1-128")


def test_symbology_listed_twice_is_refused():
    problems = _refusal(SERIAL.replace('"ean-13"]', '"ean-13", "ean-13"]'))
    assert problems == ["symbologies.enabled: listed twice: ean-13"]


def test_serial_transport_without_port_is_refused():
    problems = _refusal(SERIAL.replace('port = "/dev/ttyACM0"\n', ""))
    assert problems == ["transport.port: is required"]


def test_unknown_hid_layout_is_refused():
    text = (SHIPPED / "zebra-ds2208-hid.toml").read_text().replace('"us"', '"fr"')
    assert _refusal(text) == ["transport.layout: unknown keyboard layout 'fr'; known: us, de"]


def test_unknown_transport_type_is_refused():
    problems = _refusal(SERIAL.replace('type = "serial"', 'type = "bluetooth"'))
    assert problems == [
        "transport.type: unknown transport type 'bluetooth'; known: serial, hid, intent, wedge"
    ]


def test_native_gs_on_a_hid_transport_is_refused():
    text = (SHIPPED / "generic-hid.toml").read_text().replace('"ctrl_bracket"', '"native"')
    problems = _refusal(text)
    assert problems[0].startswith("gs.mode: a hid transport cannot deliver GS as a character")


def test_gs_substitute_from_the_gs1_character_set_is_refused():
    text = (SHIPPED / "keyboard-wedge.toml").read_text().replace('"|"', '"+"')
    problems = _refusal(text)
    assert problems[0].startswith("gs.substitute: '+' can occur inside GS1 data")


def test_match_criteria_for_another_transport_are_refused():
    text = SERIAL.replace("[transport]", '[match]\nandroid_models = ["TC5*"]\n\n[transport]')
    assert _refusal(text) == ["match.android_models: does not apply to a serial transport"]


def test_datawedge_table_on_a_non_intent_profile_is_refused():
    text = SERIAL + '\n[datawedge]\npackage = "org.aisleway.terminal"\n'
    assert _refusal(text) == ["datawedge: only for an intent transport (DataWedge), not serial"]


def test_not_toml_is_refused(tmp_path):
    with pytest.raises(ProfileError) as info:
        load_file(_write(tmp_path, "[device\nname="))
    assert str(info.value.problems[0]).startswith("not valid TOML")


def test_duplicate_names_in_a_directory_are_refused(tmp_path):
    _write(tmp_path, SERIAL, "a.toml")
    _write(tmp_path, SERIAL.replace("ttyACM0", "ttyACM1"), "b.toml")
    result = load_dir(tmp_path)
    assert list(result.profiles) == ["test-serial"]
    [error] = result.errors
    assert error.source.endswith("b.toml")
    assert str(error.problems[0]) == "device.name: 'test-serial' is already used by " + str(
        tmp_path / "a.toml"
    )


def test_two_fallbacks_for_one_transport_are_refused(tmp_path):
    generic = (SHIPPED / "generic-hid.toml").read_text()
    _write(tmp_path, generic, "a.toml")
    _write(tmp_path, generic.replace('"generic-hid"', '"other-hid"'), "b.toml")
    result = load_dir(tmp_path)
    assert [str(p) for e in result.errors for p in e.problems] == [
        "match.fallback: 'generic-hid' is already the fallback for hid devices; "
        "only one profile per transport may be"
    ]


def test_cli_refuses_a_bad_file_naming_the_key(tmp_path, capsys):
    bad = _write(tmp_path, SERIAL.replace('suffix = "\\r"', 'suffix = "12345"'))
    good = _write(tmp_path, SERIAL.replace("test-serial", "good-serial"), "good.toml")
    assert aisleway(["terminal", "profiles", "--validate", str(bad), str(good)]) == 2
    captured = capsys.readouterr()
    assert f"error: {bad}: framing.suffix: must be 1-4 characters (got 5: '12345')" in captured.err
    assert "ok  good-serial" in captured.out


def test_cli_refuses_a_bad_directory(tmp_path, capsys):
    _write(tmp_path, SERIAL.replace("baud = 115200", "baud = true"))
    assert aisleway(["terminal", "profiles", "--dir", str(tmp_path)]) == 2
    assert "transport.baud: must be an integer (got a boolean True)" in capsys.readouterr().err
    assert aisleway(["terminal", "profiles", "--dir", str(tmp_path / "nowhere")]) == 2


# -- DataWedge --------------------------------------------------------------------------------


def _tc52() -> Profile:
    return load_file(SHIPPED / "zebra-tc52-datawedge.toml")


def test_datawedge_set_config_has_intent_output_and_no_keystrokes():
    intent = set_config(_tc52())
    assert intent["action"] == DATAWEDGE_ACTION
    bundle = intent["extras"][SET_CONFIG_EXTRA]
    assert bundle["PROFILE_NAME"] == "Aisleway"
    assert bundle["CONFIG_MODE"] == "CREATE_IF_NOT_EXIST"
    assert bundle["APP_LIST"] == [{"PACKAGE_NAME": "org.aisleway.terminal", "ACTIVITY_LIST": ["*"]}]
    plugins = {p["PLUGIN_NAME"]: p for p in bundle["PLUGIN_CONFIG"]}
    assert set(plugins) == {"BARCODE", "INTENT", "KEYSTROKE", "BDF"}
    assert plugins["INTENT"]["PARAM_LIST"] == {
        "intent_output_enabled": "true",
        "intent_action": "org.aisleway.terminal.SCAN",
        "intent_category": "android.intent.category.DEFAULT",
        "intent_delivery": "2",
    }
    assert plugins["KEYSTROKE"]["PARAM_LIST"]["keystroke_output_enabled"] == "false"
    assert plugins["BDF"]["OUTPUT_PLUGIN_NAME"] == "INTENT"
    assert plugins["BDF"]["PARAM_LIST"]["bdf_send_enter"] == "false"
    barcode = plugins["BARCODE"]["PARAM_LIST"]
    assert barcode["code_id_type"] == "1"  # AIM identifiers
    assert barcode["decoder_code128_enable_ean128"] == "true"
    assert barcode["decoder_gs1_datamatrix"] == "true"
    assert barcode["decoder_pdf417"] == "false"  # not listed: explicitly off
    assert barcode["decoder_i2of5_length1"] == barcode["decoder_i2of5_length2"] == "14"
    # DataWedge takes strings only, at every level.
    for plugin in bundle["PLUGIN_CONFIG"]:
        assert all(isinstance(v, str) for v in plugin["PARAM_LIST"].values())


def test_datawedge_render_round_trips_json_from_the_cli(capsys):
    assert aisleway(["terminal", "profiles", "--datawedge", "zebra-tc52-datawedge"]) == 0
    assert json.loads(capsys.readouterr().out) == set_config(_tc52())


def test_datawedge_aim_off_and_only_gs1_128(tmp_path):
    text = (SHIPPED / "zebra-tc52-datawedge.toml").read_text()
    text = text.replace("aim_ids = true", "aim_ids = false")
    start = text.index("[symbologies]")
    end = text.index("[datawedge]")
    text = text[:start] + '[symbologies]\nenabled = ["gs1-128"]\n\n' + text[end:]
    params = set_config(load_file(_write(tmp_path, text)))["extras"][SET_CONFIG_EXTRA]
    barcode = params["PLUGIN_CONFIG"][0]["PARAM_LIST"]
    assert barcode["code_id_type"] == "0"
    assert barcode["decoder_code128"] == "true"
    assert barcode["decoder_code128_enable_ean128"] == "true"
    assert barcode["decoder_code128_enable_plain"] == "false"
    assert barcode["decoder_ean13"] == "false"


def test_datawedge_refuses_a_non_datawedge_profile(capsys):
    assert aisleway(["terminal", "profiles", "--datawedge", "zebra-ds2208-hid"]) == 2
    assert "is not a DataWedge profile" in capsys.readouterr().err
    assert aisleway(["terminal", "profiles", "--datawedge", "no-such-scanner"]) == 2
    assert "no valid profile named 'no-such-scanner'" in capsys.readouterr().err


# -- device matching and driver settings ----------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> dict[str, Profile]:
    return load_dir(SHIPPED).profiles


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        (
            DeviceInfo.evdev("Honeywell Imaging & Mobility 1950", 0x0C2E, 0x0B61),
            "honeywell-1950g-hid",
        ),
        (
            DeviceInfo.evdev("Symbol Technologies, Inc. Symbol Bar Code Scanner", 0x05E0, 0x1200),
            "zebra-ds2208-hid",
        ),
        (DeviceInfo.evdev("Datalogic Gryphon", 0x05F9, 0x2206), "generic-hid"),
        (
            DeviceInfo.serial("/dev/serial/by-id/usb-Honeywell_Imaging___Mobility_1470g-if00"),
            "honeywell-1472g-serial",
        ),
        (
            DeviceInfo.serial("/dev/serial/by-id/usb-Zebra_Technologies_DS3678-if00", 0x05E0),
            "zebra-ds3678-serial",
        ),
        (DeviceInfo.android("Zebra Technologies", "TC52"), "zebra-tc52-datawedge"),
        (DeviceInfo.android("Zebra Technologies", "TC57x"), "zebra-tc52-datawedge"),
        (DeviceInfo.android("Honeywell", "CT40"), "honeywell-ct40-intent"),
        (DeviceInfo("wedge"), "keyboard-wedge"),
    ],
)
def test_device_match_picks_the_right_profile(shipped, device, expected):
    chosen = choose_profile(shipped, device)
    assert chosen is not None and chosen.name == expected


def test_no_profile_for_an_unknown_serial_port_or_handheld(shipped):
    assert choose_profile(shipped, DeviceInfo.serial("/dev/ttyS0")) is None
    assert choose_profile(shipped, DeviceInfo.android("Samsung", "SM-G991B")) is None
    # A Zebra vendor id with a Honeywell name matches neither vendor profile, only the fallback.
    assert choose_profile(shipped, DeviceInfo.evdev("Honeywell 1950", 0x05E0)).name == "generic-hid"


def test_serial_profile_becomes_serial_settings(shipped):
    device = DeviceInfo.serial("/dev/serial/by-id/usb-Honeywell_1472g-if00")
    ds = driver_settings(shipped["honeywell-1472g-serial"], device)
    assert ds.kind == "serial"
    assert ds.settings == SerialSettings(
        port="/dev/serial/by-id/usb-Honeywell_1472g-if00", baudrate=115200, parity="N"
    )
    assert (ds.framing.suffix, ds.framing.aim_ids, ds.framing.gs_substitute) == ("\r", True, None)


def test_serial_port_pattern_without_a_device_must_match_a_port(shipped):
    with pytest.raises(ScannerConfigError, match="matches no serial port"):
        shipped["zebra-ds3678-serial"].driver_settings()


def test_hid_profiles_become_hid_settings(shipped):
    ds = shipped["zebra-ds2208-hid"].driver_settings()
    assert ds.kind == "evdev"
    assert isinstance(ds.settings, HidSettings)
    assert ds.settings.match.vendor_id == 0x05E0 and ds.settings.layout == "us"
    device = DeviceInfo.evdev("Datalogic Gryphon", 0x05F9, 0x2206)
    pinned = driver_settings(shipped["generic-hid"], device).settings
    assert isinstance(pinned, HidSettings)
    assert (pinned.match.vendor_id, pinned.match.product_id) == (0x05F9, 0x2206)
    with pytest.raises(ScannerConfigError, match="needs the device it was chosen for"):
        shipped["generic-hid"].driver_settings()


def test_intent_and_wedge_profiles_become_their_settings(shipped):
    ct40 = shipped["honeywell-ct40-intent"].driver_settings()
    assert ct40.kind == "android"
    assert ct40.settings == IntentSettings(
        action="org.aisleway.terminal.SCAN",
        category="android.intent.category.DEFAULT",
        data_key="data",
        symbology_key="aimId",
        bytes_key="dataBytes",
        honeywell_claim=True,
    )
    wedge = shipped["keyboard-wedge"].driver_settings()
    assert wedge.settings == WedgeSettings(max_interkey_ms=30, min_length=4)
    assert wedge.framing.gs_substitute == "|"


def test_a_wedge_profiles_gs_substitute_feeds_parse_scan(shipped):
    profile = shipped["keyboard-wedge"]
    substitute = profile.gs_substitute()
    scan = parse_scan("0109501101020917|10LOT42", symbology="]C1", gs_substitute=substitute)
    assert (scan.gtin, scan.lot) == ("09501101020917", "LOT42")


def test_aims_cover_the_enabled_symbologies(shipped):
    aims = shipped["zebra-tc52-datawedge"].aims()
    assert {"]C1", "]d2", "]Q3", "]E0", "]I1"} <= aims
    assert "]L0" not in aims  # PDF417 is not enabled


# -- documentation ------------------------------------------------------------------------------


def _keys(model: type[BaseModel], prefix: str) -> list[str]:
    keys = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        nested = [
            a
            for a in (info.annotation, *typing.get_args(info.annotation))
            for a in (a, *typing.get_args(a))
            if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if nested:
            for sub in nested:
                keys.extend(_keys(sub, f"{key}."))
        else:
            keys.append(key)
    return keys


def test_every_profile_key_and_symbology_is_documented():
    text = (ROOT / "docs" / "firmware_configs.md").read_text()
    keys = sorted(set(_keys(Profile, "")))
    assert "transport.port" in keys and "transport.layout" in keys and "gs.substitute" in keys
    missing = [k for k in keys if f"`{k}`" not in text]
    assert not missing, f"profile keys missing from docs/firmware_configs.md: {missing}"
    missing = [s for s in SYMBOLOGIES if f"`{s}`" not in text]
    assert not missing, f"symbologies missing from docs/firmware_configs.md: {missing}"


def test_a_serial_profile_drives_a_real_serial_scanner(shipped):
    """Profile → driver settings → the serial driver on a pty, GS and AIM id intact."""
    import os
    import pty
    import queue
    import threading
    import tty

    from terminal.scanners import make_driver

    master, slave = pty.openpty()
    tty.setraw(slave)  # no CR→LF translation before the driver opens (and sets) the port
    port = os.ttyname(slave)
    ds = driver_settings(shipped["honeywell-1472g-serial"], DeviceInfo.serial(port))
    scans: queue.Queue = queue.Queue()
    connected = threading.Event()

    def on_status(status: object) -> None:
        if getattr(status, "value", "") == "connected":
            connected.set()

    driver = make_driver(ds.kind, ds.settings, ds.framing, on_status=on_status)
    driver.start(scans.put)
    try:
        # Opening the port flushes its input, so write only once the driver holds it.
        assert connected.wait(timeout=10)
        os.write(master, b"]C10109501101020917\x1d10LOT42\r")
        scan = scans.get(timeout=10)
    finally:
        driver.stop()
        os.close(master)
        os.close(slave)
    assert (scan.symbology, scan.text) == ("]C1", "0109501101020917\x1d10LOT42")
