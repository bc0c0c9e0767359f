"""The site's shifts (setting `labor_shifts`): named site-local time ranges, which may cross
midnight, e.g. `early=06:00-14:00,late=14:00-22:00,night=22:00-06:00`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

__all__ = ["Shift", "parse_shifts", "shift_of"]

_PART = re.compile(r"^([A-Za-z0-9_-]{1,32})=(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


@dataclass(frozen=True, slots=True)
class Shift:
    name: str
    start: time
    end: time

    def contains(self, t: time) -> bool:
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end  # crosses midnight


def _time(hh: str, mm: str, part: str) -> time:
    h, m = int(hh), int(mm)
    if h > 23 or m > 59:
        raise ValueError(f"shift {part!r}: {hh}:{mm} is not a time of day")
    return time(h, m)


def parse_shifts(text: str) -> tuple[Shift, ...]:
    """Parse the setting; ValueError names the part that is wrong. Empty: no shifts."""
    shifts: list[Shift] = []
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        found = _PART.match(part)
        if found is None:
            raise ValueError(f"shift {part!r} is not name=HH:MM-HH:MM")
        name = found.group(1)
        start = _time(found.group(2), found.group(3), part)
        end = _time(found.group(4), found.group(5), part)
        if start == end:
            raise ValueError(f"shift {part!r} starts when it ends")
        if any(s.name == name for s in shifts):
            raise ValueError(f"shift {name!r} is named twice")
        shifts.append(Shift(name, start, end))
    return tuple(shifts)


def shift_of(shifts: tuple[Shift, ...], t: time) -> str | None:
    """The first shift holding site-local time `t`, or None."""
    return next((s.name for s in shifts if s.contains(t)), None)
