"""Linux key codes → characters for a scanner in USB HID keyboard mode (no Kivy, no evdev).

A HID scanner does not send characters: it presses keys, as a keyboard of the layout it is
configured for would. `HidKeyDecoder` turns key-down events back into characters for the
same layout, tracking Shift, Caps Lock, Ctrl, Alt and AltGr itself (the device is grabbed, so
the desktop's layout never applies). Layouts: `us` and `de` (German QWERTZ).

Control characters — the GS (ASCII 29) a GS1 barcode needs between fields — arrive in one of
the ways scanners offer for them, all decoded:

- **Ctrl + character** (Honeywell "Control + ASCII", Zebra "Send Ctrl chars"): Ctrl with the
  key(s) that type `@ A–Z [ \\ ] ^ _` gives ASCII 0–31, so **Ctrl+]** is GS. On `de`, `]` is
  AltGr+9, so Ctrl+AltGr+9 is GS; Ctrl with the key in the US `]` position (`+` on `de`) is
  GS too, as in the Linux console keymaps.
- **Alt + numpad digits** (Windows "Alt mode"): hold Alt, type `0 2 9` (or `2 9`) on the
  numpad, release Alt → chr(29). With a leading 0 the number is a Windows-1252 code,
  without one a code page 437 code (as Windows does).
- Ctrl+2 (NUL) and the like are not decoded: no barcode data needs them.

Enter and keypad Enter give CR (`"\\r"`), Tab gives `"\\t"`: frame scans with those as suffix.
Dead keys on `de` (`^`, `´`, `` ` ``): followed by Space they give the accent itself,
followed by another key they give the accent and then that key (no composing; GS1 data has
no accented letters). Key repeats (value 2) are ignored: a scanner never holds a key down.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from evdev import ecodes as e

__all__ = ["KEYMAPS", "HidKeyDecoder", "KeyStroke", "key_strokes"]

EV_KEY = 1
KEY_UP, KEY_DOWN, KEY_REPEAT = 0, 1, 2

# (plain, shift, altgr) per key code; "" where the layer types nothing.
_Layer = tuple[str, str, str]

_COMMON: dict[int, _Layer] = {
    e.KEY_SPACE: (" ", " ", " "),
    e.KEY_ENTER: ("\r", "\r", "\r"),
    e.KEY_KPENTER: ("\r", "\r", "\r"),
    e.KEY_TAB: ("\t", "\t", "\t"),
    e.KEY_ESC: ("\x1b", "\x1b", "\x1b"),
    e.KEY_KPSLASH: ("/", "/", "/"),
    e.KEY_KPASTERISK: ("*", "*", "*"),
    e.KEY_KPMINUS: ("-", "-", "-"),
    e.KEY_KPPLUS: ("+", "+", "+"),
}
_KP_DIGITS: dict[int, str] = {
    e.KEY_KP0: "0",
    e.KEY_KP1: "1",
    e.KEY_KP2: "2",
    e.KEY_KP3: "3",
    e.KEY_KP4: "4",
    e.KEY_KP5: "5",
    e.KEY_KP6: "6",
    e.KEY_KP7: "7",
    e.KEY_KP8: "8",
    e.KEY_KP9: "9",
}
for _code, _digit in _KP_DIGITS.items():
    _COMMON[_code] = (_digit, _digit, _digit)  # Num Lock on, as scanners assume

_LETTER_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_LETTER_CODES = (
    (e.KEY_Q, e.KEY_W, e.KEY_E, e.KEY_R, e.KEY_T, e.KEY_Y, e.KEY_U, e.KEY_I, e.KEY_O, e.KEY_P),
    (e.KEY_A, e.KEY_S, e.KEY_D, e.KEY_F, e.KEY_G, e.KEY_H, e.KEY_J, e.KEY_K, e.KEY_L),
    (e.KEY_Z, e.KEY_X, e.KEY_C, e.KEY_V, e.KEY_B, e.KEY_N, e.KEY_M),
)
_DIGIT_CODES = (
    e.KEY_1,
    e.KEY_2,
    e.KEY_3,
    e.KEY_4,
    e.KEY_5,
    e.KEY_6,
    e.KEY_7,
    e.KEY_8,
    e.KEY_9,
    e.KEY_0,
)


def _letters(swap: dict[str, str] | None = None) -> dict[int, _Layer]:
    out: dict[int, _Layer] = {}
    for row, codes in zip(_LETTER_ROWS, _LETTER_CODES, strict=True):
        for ch, code in zip(row, codes, strict=True):
            ch = (swap or {}).get(ch, ch)
            out[code] = (ch, ch.upper(), "")
    return out


def _digits(shifted: str, altgr: str) -> dict[int, _Layer]:
    return {
        code: (d, s, a)
        for code, d, s, a in zip(_DIGIT_CODES, "1234567890", shifted, altgr, strict=True)
    }


_US: dict[int, _Layer] = {
    **_COMMON,
    **_letters(),
    **_digits("!@#$%^&*()", "\0" * 10),
    e.KEY_MINUS: ("-", "_", ""),
    e.KEY_EQUAL: ("=", "+", ""),
    e.KEY_LEFTBRACE: ("[", "{", ""),
    e.KEY_RIGHTBRACE: ("]", "}", ""),
    e.KEY_SEMICOLON: (";", ":", ""),
    e.KEY_APOSTROPHE: ("'", '"', ""),
    e.KEY_GRAVE: ("`", "~", ""),
    e.KEY_BACKSLASH: ("\\", "|", ""),
    e.KEY_102ND: ("\\", "|", ""),
    e.KEY_COMMA: (",", "<", ""),
    e.KEY_DOT: (".", ">", ""),
    e.KEY_SLASH: ("/", "?", ""),
    e.KEY_KPDOT: (".", ".", "."),
}

_DE: dict[int, _Layer] = {
    **_COMMON,
    **_letters({"y": "z", "z": "y"}),
    **_digits('!"§$%&/()=', "\0²³\0\0\0{[]}"),
    e.KEY_Q: ("q", "Q", "@"),
    e.KEY_E: ("e", "E", "€"),
    e.KEY_M: ("m", "M", "µ"),
    e.KEY_MINUS: ("ß", "?", "\\"),
    e.KEY_EQUAL: ("´", "`", ""),
    e.KEY_LEFTBRACE: ("ü", "Ü", ""),
    e.KEY_RIGHTBRACE: ("+", "*", "~"),
    e.KEY_SEMICOLON: ("ö", "Ö", ""),
    e.KEY_APOSTROPHE: ("ä", "Ä", ""),
    e.KEY_GRAVE: ("^", "°", ""),
    e.KEY_BACKSLASH: ("#", "'", ""),
    e.KEY_102ND: ("<", ">", "|"),
    e.KEY_COMMA: (",", ";", ""),
    e.KEY_DOT: (".", ":", ""),
    e.KEY_SLASH: ("-", "_", ""),
    e.KEY_KPDOT: (",", ",", ","),
}


def _clean(table: dict[int, _Layer]) -> dict[int, _Layer]:
    return {k: tuple(c.replace("\0", "") for c in v) for k, v in table.items()}  # type: ignore[misc]


#: The layouts, key code → (plain, Shift, AltGr) characters.
KEYMAPS: dict[str, dict[int, _Layer]] = {"us": _clean(_US), "de": _clean(_DE)}
# (key code, layer) pairs that are dead keys: they type nothing until the next key.
_DEAD: dict[str, frozenset[tuple[int, int]]] = {
    "us": frozenset(),
    "de": frozenset({(e.KEY_GRAVE, 0), (e.KEY_EQUAL, 0), (e.KEY_EQUAL, 1)}),
}

_SHIFT = frozenset({e.KEY_LEFTSHIFT, e.KEY_RIGHTSHIFT})
_CTRL = frozenset({e.KEY_LEFTCTRL, e.KEY_RIGHTCTRL})
# Characters Ctrl turns into ASCII 0–31: '@' → NUL ... ']' → GS ... '_' → US.
_CTRL_CHARS = "@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_"


def _control(ch: str) -> str | None:
    up = ch.upper() if ch.isascii() else ch
    if len(up) == 1 and up in _CTRL_CHARS:
        return chr(ord(up) - 64)
    return None


class HidKeyDecoder:
    """Feeds on evdev key events (type, code, value) and returns the text each one types."""

    def __init__(self, layout: str = "us") -> None:
        if layout not in KEYMAPS:
            raise ValueError(f"unknown keyboard layout {layout!r}: use one of {sorted(KEYMAPS)}")
        self.layout = layout
        self._map = KEYMAPS[layout]
        self._dead_keys = _DEAD[layout]
        # On `us` the right Alt is plain Alt; on `de` it is AltGr.
        self._altgr_code = e.KEY_RIGHTALT if layout != "us" else None
        self.reset()

    def reset(self) -> None:
        self._shift: set[int] = set()
        self._ctrl: set[int] = set()
        self._alt: set[int] = set()
        self._altgr = False
        self._caps = False
        self._alt_digits = ""
        self._dead = ""

    def feed(self, type_: int, code: int, value: int) -> str:
        """The characters this event types ("" for most events)."""
        if type_ != EV_KEY or value == KEY_REPEAT:
            return ""
        down = value == KEY_DOWN
        if code in _SHIFT:
            (self._shift.add if down else self._shift.discard)(code)
            return ""
        if code in _CTRL:
            (self._ctrl.add if down else self._ctrl.discard)(code)
            return ""
        if code == self._altgr_code:
            self._altgr = down
            return ""
        if code in (e.KEY_LEFTALT, e.KEY_RIGHTALT):
            if down:
                self._alt.add(code)
                return ""
            self._alt.discard(code)
            return self._alt_code() if not self._alt else ""
        if not down:
            return ""
        if code == e.KEY_CAPSLOCK:
            self._caps = not self._caps
            return ""
        if self._alt and not self._ctrl_alt_is_altgr():
            if code in _KP_DIGITS:
                self._alt_digits += _KP_DIGITS[code]
            return ""  # Alt+letter is a menu shortcut, never scan data
        return self._key(code)

    def _alt_code(self) -> str:
        digits, self._alt_digits = self._alt_digits, ""
        if not digits:
            return ""
        value = int(digits)
        if value > 255:
            return ""
        if value < 128:
            return chr(value)
        return bytes([value]).decode("cp1252" if digits[0] == "0" else "cp437", errors="replace")

    def _ctrl_alt_is_altgr(self) -> bool:
        # Some scanners press AltGr the Windows way, as Ctrl+Alt.
        return self._altgr_code is not None and bool(self._ctrl) and bool(self._alt)

    def _layer(self) -> int:
        if self._altgr or self._ctrl_alt_is_altgr():
            return 2
        return 1 if self._shift else 0

    def _key(self, code: int) -> str:
        entry = self._map.get(code)
        if entry is None:
            return ""  # function keys, arrows, Backspace...: not scan data
        layer = self._layer()
        ch = entry[layer]
        if self._caps and ch.isalpha() and layer < 2:
            ch = entry[1 - layer]  # Caps Lock flips letters only
        if self._ctrl and not self._ctrl_alt_is_altgr():
            return self._ctrl_key(code, ch)
        if (code, layer) in self._dead_keys:
            pending, self._dead = self._dead, ch
            return pending
        if self._dead:
            dead, self._dead = self._dead, ""
            return dead if ch == " " else dead + ch
        return ch

    def _ctrl_key(self, code: int, ch: str) -> str:
        control = _control(ch) if ch else None
        if control is None:
            # Positional fallback: the character the US layout has on this key (Ctrl + the
            # `+` key on `de` is Ctrl+] = GS, as in the Linux console keymaps).
            us = KEYMAPS["us"].get(code)
            if us is not None:
                control = _control(us[1 if self._shift else 0])
        return control or ""


@dataclass(frozen=True, slots=True)
class KeyStroke:
    """One key press as a scanner would make it: modifiers held, then the key."""

    code: int
    shift: bool = False
    altgr: bool = False
    ctrl: bool = False


def key_strokes(text: str, layout: str = "us") -> Iterator[KeyStroke]:
    """The key presses that type `text` on `layout` — the inverse of `HidKeyDecoder`, for
    tools and tests that play a scanner. GS and other ASCII 0–31 use Ctrl + character."""
    table = KEYMAPS[layout]
    dead = _DEAD[layout]
    index: dict[str, KeyStroke] = {}
    for code, (plain, shifted, altgr) in sorted(table.items(), reverse=True):
        for ch, stroke in (
            (altgr, KeyStroke(code, altgr=True)),
            (shifted, KeyStroke(code, shift=True)),
            (plain, KeyStroke(code)),
        ):
            if ch:
                index[ch] = stroke
    for ch in text:
        if ch in ("\r", "\t", "\x1b") or ord(ch) >= 32:
            if ch not in index:
                raise ValueError(f"{ch!r} cannot be typed on the {layout} layout")
            stroke = index[ch]
            yield stroke
            if (stroke.code, 2 if stroke.altgr else int(stroke.shift)) in dead:
                yield KeyStroke(e.KEY_SPACE)  # a dead key types itself before Space
            continue
        base = index[_CTRL_CHARS[ord(ch)].lower() if ch < "\x1b" else _CTRL_CHARS[ord(ch)]]
        yield KeyStroke(base.code, shift=base.shift, altgr=base.altgr, ctrl=True)
