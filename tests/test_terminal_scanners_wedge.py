"""The keyboard wedge: scans told from typing by key timing and framing (pure logic; the
Kivy binding lives in terminal/ui/wedge_binding.py). Times are given, never slept."""

from __future__ import annotations

from scanner_support import GS, GS1_SCAN, Collector, assert_gs1_intact

from terminal.scanners.config import Framing, WedgeSettings
from terminal.scanners.wedge import KeyboardWedge

SCANNER_GAP = 0.004  # a scanner types a key every few ms
PERSON_GAP = 0.15


class Typed(list[str]):
    def __call__(self, text: str) -> None:
        self.append(text)

    @property
    def text(self) -> str:
        return "".join(self)


def make(framing: Framing | None = None, **settings) -> tuple[KeyboardWedge, Collector, Typed]:
    typed = Typed()
    wedge = KeyboardWedge(WedgeSettings(**settings), framing or Framing(), on_typed=typed)
    got = Collector()
    wedge.start(got)
    return wedge, got, typed


def type_at(wedge: KeyboardWedge, text: str, start: float, gap: float) -> float:
    """Feed `text` key by key the way the window delivers it: GS as Ctrl+], Enter as a key."""
    t = start
    for ch in text:
        if ch == GS:
            assert wedge.feed_key(93, ["ctrl"], t)  # "]" with Ctrl
        elif ch == "\r":
            assert wedge.feed_key(13, [], t)
        else:
            assert wedge.feed(ch, t)
        t += gap
    return t


def test_fast_keys_ending_in_enter_are_a_scan_with_gs_intact() -> None:
    wedge, got, typed = make()
    type_at(wedge, GS1_SCAN + "\r", 10.0, SCANNER_GAP)
    scan = got.next(0)
    assert_gs1_intact(scan)
    assert scan.source == "wedge"
    assert typed == [] and wedge.pending == ""


def test_a_person_typing_reaches_the_field_and_is_no_scan() -> None:
    wedge, got, typed = make()
    t = type_at(wedge, "123456\r", 10.0, PERSON_GAP)
    wedge.poll(t + 1)
    assert typed.text == "123456\r"
    assert got.none_within(0)


def test_a_fast_short_burst_is_typing() -> None:
    wedge, got, typed = make(min_length=4)
    type_at(wedge, "ab\r", 10.0, SCANNER_GAP)
    assert typed.text == "ab\r"
    assert got.none_within(0)


def test_typing_then_a_scan_then_typing_keeps_each_in_order() -> None:
    wedge, got, typed = make()
    t = type_at(wedge, "7", 10.0, PERSON_GAP)
    t = type_at(wedge, "TOTE-0042\r", t + PERSON_GAP, SCANNER_GAP)
    t = type_at(wedge, "9", t + PERSON_GAP, PERSON_GAP)
    wedge.poll(t + 1)
    assert got.next(0).text == "TOTE-0042"
    assert typed == ["7", "9"]


def test_with_a_prefix_typing_is_released_at_once_and_slow_frames_still_scan() -> None:
    wedge, got, typed = make(Framing(prefix="\x02", suffix="\r"), max_interkey_ms=30)
    type_at(wedge, "4", 10.0, PERSON_GAP)
    assert typed == ["4"]  # no prefix: not held back, not even until the next poll
    # A scan whose keys arrive in bursts between slow UI frames (100 ms gaps).
    type_at(wedge, "\x02" + GS1_SCAN + "\r", 20.0, 0.1)
    assert_gs1_intact(got.next(0))


def test_suffixless_scan_ends_when_the_keys_stop() -> None:
    wedge, got, typed = make(Framing(suffix=""), max_interkey_ms=30)
    t = type_at(wedge, GS1_SCAN, 10.0, SCANNER_GAP)
    wedge.poll(t)  # still within the gap: nothing decided
    assert got.none_within(0) and wedge.pending == GS1_SCAN
    wedge.poll(t + 0.05)
    assert_gs1_intact(got.next(0))
    type_at(wedge, "ab", 20.0, SCANNER_GAP)
    wedge.poll(21.0)
    assert typed == ["ab"]


def test_gs_substitute_is_mapped_back_to_gs() -> None:
    wedge, got, _ = make(Framing(gs_substitute="|"))
    type_at(wedge, GS1_SCAN.replace(GS, "|") + "\r", 10.0, SCANNER_GAP)
    assert_gs1_intact(got.next(0))


def test_editing_keys_release_pending_typing_first() -> None:
    wedge, _, typed = make()
    type_at(wedge, "12", 10.0, PERSON_GAP)
    assert typed == ["1"]  # "2" may still be the start of a scan
    assert wedge.feed_key(8, [], 10.31) is False  # Backspace: the widget handles it...
    assert typed == ["1", "2"]  # ...after the "2" it must delete


def test_other_keys_are_left_to_the_window() -> None:
    wedge, _, typed = make()
    assert wedge.feed_key(304, [], 1.0) is False  # Shift alone
    assert wedge.feed_key(118, ["ctrl"], 1.0) is False  # Ctrl+V typed by a person: paste
    wedge.feed("A", 2.0)
    assert wedge.feed_key(97, ["ctrl"], 2.001) is True  # Ctrl+A inside a burst: ASCII 1
    wedge.poll(3.0)
    assert typed == ["A\x01"]


def test_a_stopped_wedge_takes_nothing() -> None:
    wedge, _, typed = make()
    wedge.feed("5", 1.0)
    wedge.stop()
    assert typed == ["5"]  # held keys are not lost on stop
    assert wedge.feed("6", 2.0) is False
    assert wedge.feed_key(13, [], 2.0) is False
