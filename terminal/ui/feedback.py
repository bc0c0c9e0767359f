"""Colour and sound for every scan: a green flash and a short high beep when it is good, a red
flash and a low double buzz when it is refused, a rising triple for "done".

The beeps are small WAV files written with the stdlib `wave` module into a cache directory the
first time (no binary assets in the repo, nothing to license). Playing goes through Kivy's
`SoundLoader`; a handheld without an audio device, or a missing audio provider, stays silent and
never fails a scan.
"""

from __future__ import annotations

import logging
import math
import struct
import wave
from pathlib import Path
from typing import Any

from terminal.workflows.base import Tone

__all__ = ["BEEPS", "FeedbackPlayer", "write_sounds"]

log = logging.getLogger("aisleway.terminal.feedback")

RATE = 22050
#: (frequency Hz, duration s) segments per tone; frequency 0 is silence.
BEEPS: dict[Tone, tuple[tuple[int, float], ...]] = {
    Tone.GOOD: ((2200, 0.08),),
    Tone.BAD: ((330, 0.16), (0, 0.06), (330, 0.16)),
    Tone.INFO: ((1200, 0.05),),
    Tone.DONE: ((1600, 0.07), (0, 0.03), (2000, 0.07), (0, 0.03), (2600, 0.12)),
}
#: Bump when the waveforms change so cached files are rewritten.
SOUND_VERSION = 1


def _samples(segments: tuple[tuple[int, float], ...], volume: float = 0.6) -> bytes:
    frames = bytearray()
    for freq, seconds in segments:
        n = int(RATE * seconds)
        fade = max(1, int(RATE * 0.005))  # 5 ms ramps: no click at start and end
        for i in range(n):
            if freq == 0:
                value = 0.0
            else:
                ramp = min(1.0, i / fade, (n - 1 - i) / fade)
                # a square-ish wave carries better on a small speaker in a noisy aisle
                sine = math.sin(2 * math.pi * freq * i / RATE)
                value = volume * ramp * max(-1.0, min(1.0, 1.6 * sine))
            frames += struct.pack("<h", int(value * 32767))
    return bytes(frames)


def write_sounds(cache_dir: Path) -> dict[Tone, Path]:
    """Write (once) one mono 16-bit WAV per tone into `cache_dir`; return the paths."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[Tone, Path] = {}
    for tone, segments in BEEPS.items():
        path = cache_dir / f"aisleway-{tone.value}-v{SOUND_VERSION}.wav"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            with wave.open(str(tmp), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(RATE)
                out.writeframes(_samples(segments))
            tmp.replace(path)
        paths[tone] = path
    return paths


class FeedbackPlayer:
    """Plays the tone's sound and flashes a widget's `flash_rgba` property.

    `flash_target` is any widget with a `flash_rgba` ListProperty drawn over the screen (the
    app's root); the flash fades out by itself. `played` counts what was asked to play, so a
    test (or a support session) can see the sound was triggered even on a silent device.
    """

    FLASH_SECONDS = 0.35

    def __init__(self, cache_dir: Path, *, sound: bool = True) -> None:
        self.sounds: dict[Tone, Any] = {}
        self.played: list[Tone] = []
        self.last_flash: Tone | None = None
        if not sound:
            return
        try:
            from kivy.core.audio import SoundLoader

            for tone, path in write_sounds(cache_dir).items():
                loaded = SoundLoader.load(str(path))
                if loaded is not None:
                    self.sounds[tone] = loaded
        except Exception:  # no audio provider, read-only cache: silent, never fatal
            log.warning("sound unavailable; feedback will be silent", exc_info=True)
            self.sounds = {}

    def play(self, tone: Tone) -> None:
        self.played.append(tone)
        sound = self.sounds.get(tone)
        if sound is None:
            return
        try:
            sound.stop()
            sound.play()
        except Exception:
            log.warning("could not play %s sound", tone.value, exc_info=True)

    def flash(self, target: Any, tone: Tone) -> None:
        from kivy.animation import Animation

        from terminal.ui.theme import rgba

        self.last_flash = tone
        r, g, b, _ = rgba(tone)
        Animation.cancel_all(target, "flash_rgba")
        target.flash_rgba = [r, g, b, 0.55]
        Animation(flash_rgba=[r, g, b, 0.0], duration=self.FLASH_SECONDS, t="out_quad").start(
            target
        )

    def signal(self, target: Any, tone: Tone) -> None:
        """Flash and sound for one feedback (INFO only beeps softly and does not flash)."""
        if tone is not Tone.INFO:
            self.flash(target, tone)
        self.play(tone)
