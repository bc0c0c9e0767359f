"""Render a Zebra DataWedge profile from an intent profile, as the `SET_CONFIG` intent.

DataWedge (Zebra's scanner service on its Android handhelds) is configured by broadcasting
`com.symbol.datawedge.api.ACTION` with the extra `com.symbol.datawedge.api.SET_CONFIG`: a
nested bundle naming the DataWedge profile, the app it belongs to, and one `PLUGIN_CONFIG`
per plug-in (`BARCODE` input, `INTENT` and `KEYSTROKE` output, `BDF` formatting). Every value
is a string, as DataWedge expects. The app turns this JSON into Android bundles (a JSON object
becomes a Bundle, an array of objects a Bundle[], an array of strings a String[]) and sends it.

What the rendered profile does, and why:
- intent output on (broadcast of `transport.action`/`category`): the scan arrives as
  `com.symbol.datawedge.data_string` with GS (ASCII 29) between GS1 fields kept intact;
- keystroke output off: typed keys would lose GS unless "send control characters as events"
  is on, and would race the intent; the parameter is still set so enabling keystroke output
  by hand keeps GS;
- `code_id_type` = AIM (`"1"`) when `framing.aim_ids`: `]C1`, `]d2`, ... in front of the data,
  which the intent driver splits off; the label type extra is always there too;
- every decoder Aisleway knows is set explicitly on or off, so a device's defaults (Codabar,
  PDF417 ...) never decide what a worker can scan;
- basic data formatting for intent output off: no prefix, suffix, Enter or Tab is added.
"""

from __future__ import annotations

from typing import Any

from terminal.profiles.model import SYMBOLOGIES, IntentTransport, Profile

__all__ = ["DATAWEDGE_ACTION", "SET_CONFIG_EXTRA", "DataWedgeError", "decoder_params", "set_config"]

DATAWEDGE_ACTION = "com.symbol.datawedge.api.ACTION"
SET_CONFIG_EXTRA = "com.symbol.datawedge.api.SET_CONFIG"

# Decoder parameters per symbology (DataWedge "Scanner Input Parameters"). GS1-128 and plain
# Code 128 share the Code 128 decoder and differ in its sub-options; ITF-14 is Interleaved 2
# of 5 held to 14 digits.
_DECODERS: dict[str, dict[str, str]] = {
    "gs1-128": {"decoder_code128": "true", "decoder_code128_enable_ean128": "true"},
    "code128": {"decoder_code128": "true", "decoder_code128_enable_plain": "true"},
    "ean-13": {"decoder_ean13": "true"},
    "ean-8": {"decoder_ean8": "true"},
    "upc-a": {"decoder_upca": "true"},
    "upc-e": {"decoder_upce0": "true"},
    "itf-14": {"decoder_i2of5": "true"},
    "interleaved-2of5": {"decoder_i2of5": "true"},
    "code39": {"decoder_code39": "true"},
    "code93": {"decoder_code93": "true"},
    "codabar": {"decoder_codabar": "true"},
    "gs1-databar": {
        "decoder_gs1_databar": "true",
        "decoder_gs1_databar_exp": "true",
        "decoder_gs1_databar_lim": "true",
    },
    "datamatrix": {"decoder_datamatrix": "true"},
    "gs1-datamatrix": {"decoder_gs1_datamatrix": "true"},
    "qr": {"decoder_qrcode": "true"},
    "gs1-qr": {"decoder_gs1_qrcode": "true"},
    "pdf417": {"decoder_pdf417": "true"},
    "aztec": {"decoder_aztec": "true"},
}
assert set(_DECODERS) == set(SYMBOLOGIES), "every symbology needs its DataWedge decoder"

_DELIVERY = {"start_activity": "0", "start_service": "1", "broadcast": "2"}


class DataWedgeError(ValueError):
    """The profile cannot be rendered for DataWedge; the message says why."""


def decoder_params(enabled: list[str]) -> dict[str, str]:
    """BARCODE plug-in decoder parameters: every known decoder on or off."""
    params = {key: "false" for spec in _DECODERS.values() for key in spec}
    for name in enabled:
        params.update(_DECODERS[name])
    if "itf-14" in enabled and "interleaved-2of5" not in enabled:
        # Only 14-digit ITF: shorter I2of5 reads are mostly misreads of an ITF-14.
        params["decoder_i2of5_length1"] = "14"
        params["decoder_i2of5_length2"] = "14"
    return params


def set_config(profile: Profile) -> dict[str, Any]:
    """The SET_CONFIG intent for this profile: `{"action", "extras"}`, JSON-ready."""
    transport = profile.transport
    dw = profile.datawedge
    if not isinstance(transport, IntentTransport) or dw is None:
        raise DataWedgeError(
            f"{profile.name} is not a DataWedge profile: DataWedge runs on Zebra Android "
            "handhelds; the profile needs transport.type = 'intent' and a [datawedge] table "
            f"(it has transport.type = {transport.type!r}"
            + ("" if dw is None else " and a [datawedge] table")
            + ")"
        )
    barcode = {
        "scanner_selection": dw.scanner,
        "scanner_input_enabled": "true",
        "code_id_type": "1" if profile.framing.aim_ids else "0",
        **decoder_params(profile.symbologies.enabled),
    }
    intent = {
        "intent_output_enabled": "true",
        "intent_action": transport.action,
        "intent_delivery": _DELIVERY[transport.delivery],
    }
    if transport.category:
        intent["intent_category"] = transport.category
    bundle: dict[str, Any] = {
        "PROFILE_NAME": dw.profile_name,
        "PROFILE_ENABLED": "true",
        "CONFIG_MODE": "CREATE_IF_NOT_EXIST",
        "APP_LIST": [{"PACKAGE_NAME": dw.package, "ACTIVITY_LIST": list(dw.activities)}],
        "PLUGIN_CONFIG": [
            _plugin("BARCODE", barcode),
            _plugin("INTENT", intent),
            _plugin(
                "KEYSTROKE",
                {
                    "keystroke_output_enabled": "false",
                    "keystroke_send_control_chars_as_events": "true",
                },
            ),
            {
                **_plugin(
                    "BDF",
                    {
                        "bdf_enabled": "false",
                        "bdf_prefix": "",
                        "bdf_suffix": "",
                        "bdf_send_data": "true",
                        "bdf_send_enter": "false",
                        "bdf_send_tab": "false",
                    },
                ),
                "OUTPUT_PLUGIN_NAME": "INTENT",
            },
        ],
    }
    return {
        "action": DATAWEDGE_ACTION,
        "extras": {
            SET_CONFIG_EXTRA: bundle,
            "SEND_RESULT": "COMPLETE_RESULT",
            "COMMAND_IDENTIFIER": f"aisleway-{profile.name}",
        },
    }


def _plugin(name: str, params: dict[str, str]) -> dict[str, Any]:
    return {"PLUGIN_NAME": name, "RESET_CONFIG": "true", "PARAM_LIST": params}
