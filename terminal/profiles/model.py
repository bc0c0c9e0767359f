"""The schema of a scanner/handheld profile (`firmware_configs/*.toml`). No I/O, no Kivy.

Every table forbids unknown keys and every value is checked strictly (TOML `"9600"` is not a
baud rate), so a typo in a profile is refused with the key that holds it instead of being
silently ignored on the warehouse floor. Every key here is documented in
docs/firmware_configs.md (a test keeps the two in step).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:
    from terminal.profiles.match import DeviceInfo, DriverSettings

__all__ = [
    "GS1_CHARSET",
    "KEYBOARD_LAYOUTS",
    "SERIAL_BAUDS",
    "SYMBOLOGIES",
    "TRANSPORT_TYPES",
    "DataWedge",
    "DeviceMatch",
    "Framing",
    "GsHandling",
    "HidTransport",
    "Identity",
    "IntentTransport",
    "Profile",
    "SerialTransport",
    "Symbologies",
    "Symbology",
    "Transport",
    "WedgeTransport",
]


@dataclass(frozen=True, slots=True)
class Symbology:
    """A symbology a profile can enable: its AIM identifiers (what the scanner prefixes when
    `framing.aim_ids` is on) and a human name."""

    name: str
    aims: tuple[str, ...]
    title: str


_SYMBOLOGY_LIST = (
    Symbology("gs1-128", ("]C1",), "GS1-128 (Code 128 with FNC1 first)"),
    Symbology("code128", ("]C0", "]C2"), "Code 128"),
    Symbology("ean-13", ("]E0", "]E3"), "EAN-13"),
    Symbology("ean-8", ("]E4",), "EAN-8"),
    Symbology("upc-a", ("]E0", "]E3"), "UPC-A"),
    Symbology("upc-e", ("]E0", "]E3"), "UPC-E"),
    Symbology("itf-14", ("]I1", "]I0"), "ITF-14 (Interleaved 2 of 5, 14 digits)"),
    Symbology("interleaved-2of5", ("]I0", "]I1"), "Interleaved 2 of 5, any length"),
    Symbology("code39", ("]A0",), "Code 39"),
    Symbology("code93", ("]G0",), "Code 93"),
    Symbology("codabar", ("]F0",), "Codabar"),
    Symbology("gs1-databar", ("]e0",), "GS1 DataBar (omnidirectional, limited, expanded)"),
    Symbology("datamatrix", ("]d1",), "Data Matrix"),
    Symbology("gs1-datamatrix", ("]d2",), "GS1 DataMatrix"),
    Symbology("qr", ("]Q1",), "QR Code"),
    Symbology("gs1-qr", ("]Q3",), "GS1 QR Code"),
    Symbology("pdf417", ("]L0",), "PDF417"),
    Symbology("aztec", ("]z0",), "Aztec Code"),
)

#: Every symbology name a profile may list, in documentation order.
SYMBOLOGIES: dict[str, Symbology] = {s.name: s for s in _SYMBOLOGY_LIST}

TRANSPORT_TYPES = ("serial", "hid", "intent", "wedge")
KEYBOARD_LAYOUTS = ("us", "de")
SERIAL_BAUDS = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400)

#: GS1's character set 82 (what AI values may hold) plus GS. A one-character GS substitute
#: from this set could appear inside real data and split a field in the wrong place.
GS1_CHARSET = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,47}$")
_HEX4 = re.compile(r"^[0-9a-f]{4}$")
_ANDROID_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def _show(text: str) -> str:
    """A string with control characters spelled out, for error messages."""
    return text.encode("unicode_escape").decode("ascii")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Identity(_Strict):
    """`[device]`: what this profile is for."""

    name: str
    vendor: str
    model: str
    kind: Literal["scanner", "handheld"]
    description: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                "must be 2-48 lower-case letters, digits and '-', starting with a letter "
                f"or digit (got {value!r})"
            )
        return value

    @field_validator("vendor", "model")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


class DeviceMatch(_Strict):
    """`[match]`: how the terminal recognises the device this profile is for."""

    usb_vendor: str | None = None
    usb_products: list[str] = Field(default_factory=list)
    evdev_name_contains: list[str] = Field(default_factory=list)
    serial_ports: list[str] = Field(default_factory=list)
    android_manufacturers: list[str] = Field(default_factory=list)
    android_models: list[str] = Field(default_factory=list)
    fallback: bool = False

    @field_validator("usb_vendor")
    @classmethod
    def _vendor(cls, value: str | None) -> str | None:
        if value is not None and not _HEX4.match(value):
            raise ValueError(f"must be 4 lower-case hex digits such as '0c2e' (got {value!r})")
        return value

    @field_validator("usb_products")
    @classmethod
    def _products(cls, value: list[str]) -> list[str]:
        for item in value:
            if not _HEX4.match(item):
                raise ValueError(f"must be 4 lower-case hex digits such as '0b61' (got {item!r})")
        return value

    @field_validator(
        "evdev_name_contains", "serial_ports", "android_manufacturers", "android_models"
    )
    @classmethod
    def _globs(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item.strip():
                raise ValueError("patterns must not be empty")
        return value

    @model_validator(mode="after")
    def _products_need_vendor(self) -> DeviceMatch:
        if self.usb_products and self.usb_vendor is None:
            raise _KeyError("usb_products", "needs usb_vendor")
        return self


class SerialTransport(_Strict):
    """`[transport]` with `type = "serial"`: a scanner on a serial port or USB CDC-ACM."""

    type: Literal["serial"]
    port: str
    baud: int = 9600
    bytesize: int = 8
    parity: Literal["none", "even", "odd", "mark", "space"] = "none"
    stopbits: float = 1

    @field_validator("port")
    @classmethod
    def _port(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name the device, e.g. '/dev/ttyACM0' or '/dev/ttyACM*'")
        return value

    @field_validator("baud")
    @classmethod
    def _baud(cls, value: int) -> int:
        if value not in SERIAL_BAUDS:
            raise ValueError(f"must be one of {', '.join(map(str, SERIAL_BAUDS))} (got {value})")
        return value

    @field_validator("bytesize")
    @classmethod
    def _bytesize(cls, value: int) -> int:
        if value not in (5, 6, 7, 8):
            raise ValueError(f"must be 5, 6, 7 or 8 (got {value})")
        return value

    @field_validator("stopbits")
    @classmethod
    def _stopbits(cls, value: float) -> float:
        if value not in (1, 1.5, 2):
            raise ValueError(f"must be 1, 1.5 or 2 (got {value})")
        return value


class HidTransport(_Strict):
    """`[transport]` with `type = "hid"`: a USB keyboard-emulation scanner read through evdev."""

    type: Literal["hid"]
    layout: str = "us"
    grab: bool = True

    @field_validator("layout")
    @classmethod
    def _layout(cls, value: str) -> str:
        if value not in KEYBOARD_LAYOUTS:
            raise ValueError(
                f"unknown keyboard layout {value!r}; known: {', '.join(KEYBOARD_LAYOUTS)}"
            )
        return value


class IntentTransport(_Strict):
    """`[transport]` with `type = "intent"`: an Android handheld whose scanner service
    (Zebra DataWedge, Honeywell data collection) broadcasts each scan as an intent."""

    type: Literal["intent"]
    action: str
    category: str | None = "android.intent.category.DEFAULT"
    delivery: Literal["broadcast", "start_activity", "start_service"] = "broadcast"
    data_key: str | None = None
    symbology_key: str | None = None
    bytes_key: str | None = None
    honeywell_claim: bool = False

    @field_validator("action", "category")
    @classmethod
    def _android_name(cls, value: str | None) -> str | None:
        if value is not None and not _ANDROID_NAME.match(value):
            raise ValueError(f"must be a dotted Android name (got {value!r})")
        return value

    @field_validator("data_key", "symbology_key", "bytes_key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must name an intent extra, or be left out for the vendor default")
        return value


class WedgeTransport(_Strict):
    """`[transport]` with `type = "wedge"`: keys typed into the app's own window (any keyboard
    wedge when no other driver fits); timing tells a scan from a person typing."""

    type: Literal["wedge"]
    max_interkey_ms: int = 30
    min_length: int = 4

    @field_validator("max_interkey_ms")
    @classmethod
    def _interval(cls, value: int) -> int:
        if not 1 <= value <= 1000:
            raise ValueError(f"must be 1-1000 milliseconds (got {value})")
        return value

    @field_validator("min_length")
    @classmethod
    def _min_length(cls, value: int) -> int:
        if not 1 <= value <= 100:
            raise ValueError(f"must be 1-100 (got {value})")
        return value


Transport = Annotated[
    SerialTransport | HidTransport | IntentTransport | WedgeTransport,
    Field(discriminator="type"),
]


class Framing(_Strict):
    """`[framing]`: what the scanner sends around each scan."""

    prefix: str = ""
    suffix: str = ""
    aim_ids: bool = False

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if len(value) > 4:
            raise ValueError(f"must be 0-4 characters (got {len(value)}: '{_show(value)}')")
        if "\x1d" in value:
            raise ValueError("must not contain GS (ASCII 29), which separates GS1 fields")
        return value

    @field_validator("suffix")
    @classmethod
    def _suffix(cls, value: str) -> str:
        if len(value) > 4:
            raise ValueError(f"must be 1-4 characters (got {len(value)}: '{_show(value)}')")
        if "\x1d" in value:
            raise ValueError("must not contain GS (ASCII 29), which separates GS1 fields")
        return value


class GsHandling(_Strict):
    """`[gs]`: how the GS (ASCII 29) between GS1 fields reaches the terminal."""

    mode: Literal["native", "substitute", "ctrl_bracket"] = "native"
    substitute: str = ""

    @model_validator(mode="after")
    def _substitute(self) -> GsHandling:
        if self.mode == "substitute":
            if not 1 <= len(self.substitute) <= 4:
                raise _KeyError("substitute", "must be 1-4 characters when mode = 'substitute'")
            if len(self.substitute) == 1 and self.substitute in GS1_CHARSET:
                raise _KeyError(
                    "substitute",
                    f"{self.substitute!r} can occur inside GS1 data; use a character "
                    "outside the GS1 set such as '|', '~' or '^'",
                )
        elif self.substitute:
            raise _KeyError(
                "substitute", f"only used with mode = 'substitute' (mode is {self.mode!r})"
            )
        return self


class DataWedge(_Strict):
    """`[datawedge]`: the Zebra DataWedge profile `aisleway terminal profiles --datawedge`
    renders (only for `type = "intent"` profiles)."""

    profile_name: str = "Aisleway"
    package: str
    activities: list[str] = Field(default_factory=lambda: ["*"])
    scanner: str = "auto"

    @field_validator("profile_name")
    @classmethod
    def _profile_name(cls, value: str) -> str:
        if not value.strip() or len(value) > 64:
            raise ValueError("must be 1-64 characters")
        return value

    @field_validator("package")
    @classmethod
    def _package(cls, value: str) -> str:
        if not _ANDROID_NAME.match(value):
            raise ValueError(
                f"must be an Android package name such as 'org.aisleway.terminal' (got {value!r})"
            )
        return value

    @field_validator("activities")
    @classmethod
    def _activities(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("list at least one activity, or '*' for all")
        return value


class Symbologies(_Strict):
    """`[symbologies]`: which barcode types the device decodes."""

    enabled: list[str]

    @field_validator("enabled")
    @classmethod
    def _symbologies(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("list at least one symbology")
        for name in value:
            if name not in SYMBOLOGIES:
                raise ValueError(f"unknown symbology {name!r}; known: {', '.join(SYMBOLOGIES)}")
        dupes = sorted({n for n in value if value.count(n) > 1})
        if dupes:
            raise ValueError(f"listed twice: {', '.join(dupes)}")
        return value


class Profile(_Strict):
    """One scanner or handheld profile: a whole `firmware_configs/*.toml` file."""

    device: Identity
    match: DeviceMatch = Field(default_factory=DeviceMatch)
    transport: Transport
    framing: Framing = Field(default_factory=Framing)
    gs: GsHandling = Field(default_factory=GsHandling)
    symbologies: Symbologies
    datawedge: DataWedge | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        # Raised as (key path, reason) so the loader names the key, not just the table.
        kind = self.transport.type
        suffix = self.framing.suffix
        if kind == "intent":
            if self.framing.prefix or suffix:
                key = "framing.suffix" if suffix else "framing.prefix"
                raise _KeyError(key, "must be empty for an intent transport (one scan per intent)")
        elif not 1 <= len(suffix) <= 4:
            raise _KeyError(
                "framing.suffix",
                f"must be 1-4 characters for a {kind} transport (the end of each scan), e.g. '\\r'",
            )
        mode = self.gs.mode
        if mode == "ctrl_bracket" and kind not in ("hid", "wedge"):
            raise _KeyError(
                "gs.mode", f"'ctrl_bracket' is only for hid and wedge transports, not {kind}"
            )
        if mode == "native" and kind in ("hid", "wedge"):
            raise _KeyError(
                "gs.mode",
                f"a {kind} transport cannot deliver GS as a character; use 'ctrl_bracket' "
                "(the scanner sends Ctrl+]) or 'substitute'",
            )
        sub = self.gs.substitute
        framing = (self.framing.prefix, suffix)
        if sub and any(part and (sub in part or part in sub) for part in framing):
            raise _KeyError("gs.substitute", "must not overlap the framing prefix or suffix")
        self._check_match(kind)
        if self.datawedge is not None and kind != "intent":
            raise _KeyError("datawedge", f"only for an intent transport (DataWedge), not {kind}")
        return self

    def _check_match(self, kind: str) -> None:
        m = self.match
        allowed = {
            "hid": {"usb_vendor", "usb_products", "evdev_name_contains"},
            "serial": {"usb_vendor", "usb_products", "serial_ports"},
            "intent": {"android_manufacturers", "android_models"},
            "wedge": set(),
        }[kind]
        given = {
            key
            for key in (
                "usb_vendor",
                "usb_products",
                "evdev_name_contains",
                "serial_ports",
                "android_manufacturers",
                "android_models",
            )
            if getattr(m, key)
        }
        for key in sorted(given - allowed):
            raise _KeyError(f"match.{key}", f"does not apply to a {kind} transport")
        if not given and not m.fallback and kind != "serial":
            raise _KeyError(
                "match",
                f"give at least one of {', '.join(sorted(allowed)) or '(none)'} "
                "or set fallback = true",
            )

    # -- what drivers and tools ask -------------------------------------------------------

    @property
    def name(self) -> str:
        return self.device.name

    def aims(self) -> frozenset[str]:
        """AIM identifiers of the enabled symbologies."""
        return frozenset(a for n in self.symbologies.enabled for a in SYMBOLOGIES[n].aims)

    def gs_substitute(self) -> str | None:
        """What `protocols.barcodes.parse_scan(gs_substitute=…)` needs for this device."""
        return self.gs.substitute if self.gs.mode == "substitute" else None

    def driver_settings(self, device: DeviceInfo | None = None) -> DriverSettings:
        """The `terminal.scanners.config` settings for this profile (see `match.py`)."""
        from terminal.profiles.match import driver_settings

        return driver_settings(self, device)

    def summary(self) -> dict[str, Any]:
        """A short JSON-able description for `aisleway terminal profiles --json`."""
        return {
            "name": self.device.name,
            "vendor": self.device.vendor,
            "model": self.device.model,
            "kind": self.device.kind,
            "transport": self.transport.type,
            "symbologies": list(self.symbologies.enabled),
            "aim_ids": self.framing.aim_ids,
            "gs": self.gs.mode,
            "datawedge": self.datawedge is not None,
        }


class _KeyError(ValueError):
    """A cross-field problem that belongs to one key (the loader reports `key: reason`)."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason
