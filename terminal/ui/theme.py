"""Sizes and colours for one-handed use with gloves at arm's length (no Kivy import).

The .kv files import this module (`#:import theme terminal.ui.theme`) so every screen uses the
same type sizes and touch-target heights; tests assert against the same numbers.
"""

from __future__ import annotations

from terminal.workflows.base import Tone

__all__ = [
    "BACKGROUND",
    "BODY_SP",
    "BUTTON",
    "BUTTON_SP",
    "CURRENT_BAND",
    "MUTED",
    "OFFLINE",
    "ONLINE",
    "PAD_KEY_DP",
    "PRIMARY",
    "PROMPT_SP",
    "TEXT",
    "TITLE_SP",
    "TONE_COLOURS",
    "TOUCH_DP",
    "WARNING",
    "rgba",
]

Colour = tuple[float, float, float, float]

#: Prompt ("Scan bin A03-07-2L"): readable at arm's length.
PROMPT_SP = 32
TITLE_SP = 24
BODY_SP = 22
BUTTON_SP = 26
#: Every button and key is at least this tall (a gloved thumb is ~15 mm ≈ 64 dp).
TOUCH_DP = 64
#: Number pad keys (4 rows must leave room for the task on a 640 dp tall screen).
PAD_KEY_DP = 68

BACKGROUND: Colour = (0.09, 0.10, 0.12, 1)
TEXT: Colour = (0.96, 0.96, 0.96, 1)
MUTED: Colour = (0.70, 0.72, 0.76, 1)
BUTTON: Colour = (0.22, 0.26, 0.32, 1)
PRIMARY: Colour = (0.13, 0.42, 0.78, 1)
WARNING: Colour = (0.90, 0.55, 0.05, 1)
ONLINE: Colour = (0.16, 0.62, 0.30, 1)
OFFLINE: Colour = (0.75, 0.16, 0.14, 1)
#: Behind the task line being worked on (its text is also bold and blue).
CURRENT_BAND: Colour = (0.13, 0.42, 0.78, 0.25)

#: Flash colour and message colour per feedback tone: green good, red bad, blue info, teal done.
#: Colour is never the only signal: each tone has its own sound, and a refusal's sentence stays
#: on screen until the next scan.
TONE_COLOURS: dict[Tone, Colour] = {
    Tone.GOOD: (0.10, 0.70, 0.25, 1),
    Tone.BAD: (0.85, 0.10, 0.10, 1),
    Tone.INFO: (0.25, 0.55, 0.95, 1),
    Tone.DONE: (0.05, 0.65, 0.65, 1),
}


def rgba(tone: Tone | str) -> Colour:
    return TONE_COLOURS[Tone(tone)]
