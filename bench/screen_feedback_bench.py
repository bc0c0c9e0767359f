"""Scan → screen through the real Kivy work screen: how long from a scanner handing a scan to
the app (`TerminalApp.deliver_scan`, from a driver thread) until the screen's prompt/message
label shows the answer, and until the next frame with it is drawn and flipped — against the
50 ms budget, and as a ratio to the workflow alone (scan → Feedback + View) measured in the
same run on the same kind of workflow.

Set-up (stated, since the numbers depend on it): Kivy offscreen (`SDL_VIDEODRIVER=offscreen`,
a 480×854 window, Kivy's default 60 fps frame pacing, sound on with SDL's dummy audio driver),
the app's real widget tree and work screen; the workflow is the real PickingWorkflow over a
real durable CommandQueue with its task set up in memory as a download leaves it and the
replayer not started (the same set-up as `bench/scan_feedback_bench.py`: every good scan is
written to SQLite before the screen says "good"; no live edge, so no network in the path). A
scanner thread delivers each scan at a random moment of the frame (0–17 ms after the previous
measurement ended), as a real scanner is not in step with the display. The quantity step of
each line is keyed on the pad and not timed. Run: `python -m bench screen_feedback`.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.scan_feedback_bench import _gtin, _pct, _workflow
from terminal.scanners.base import DecodedScan
from terminal.workflows.base import Tone

LINES = 40  # 40 lines × 3 scans (bin, item, tote) = 120 timed scans
MAX_SECONDS = 60.0  # the whole bench stays bounded even on a slow machine
FRAME_S = 1 / 60
BUDGET_MS = 50.0


def _scans(n: int, line: dict[str, Any]) -> list[str]:
    return [line["bin"], _gtin(n + 1), "TOTE-0001"]


def _scan(text: str) -> DecodedScan:
    return DecodedScan(text=text, raw=text.encode() + b"\r", source="bench")


def workflow_only(tmp: Path) -> list[float]:
    """ms per scan → Feedback → View, the same scans as on the screen (qty step untimed)."""
    wf, conn = _workflow(tmp)
    times: list[float] = []
    try:
        for n in range(LINES):
            line = wf.current
            assert line is not None
            for i, text in enumerate(_scans(n, line)):
                t0 = time.perf_counter()
                feedback = wf.on_scan(_scan(text))
                wf.view()
                times.append((time.perf_counter() - t0) * 1000)
                assert feedback.tone.value in ("good", "done"), feedback
                if i == 1:
                    wf.on_input("qty", 2)
        return times
    finally:
        conn.queue.close()
        conn.client.close()


def _open_window() -> Any:
    from terminal.ui import env

    env.prepare(headless=True)
    from kivy.config import Config

    Config.set("graphics", "width", "480")
    Config.set("graphics", "height", "854")
    from kivy.base import EventLoop

    EventLoop.ensure_window()
    return EventLoop


def through_screen(tmp: Path) -> tuple[list[float], list[float]]:
    """(ms to label updated, ms to the frame showing it flipped) per delivered scan."""
    loop = _open_window()
    from kivy.core.window import Window

    from terminal.ui import theme
    from terminal.ui.app import TerminalApp
    from terminal.ui.backend import EdgeBackend
    from terminal.ui.screens.work import WorkScreen

    wf, conn = _workflow(tmp / "wf")
    app = TerminalApp(
        EdgeBackend(tmp / "data", interfaces=["127.0.0.1"]),
        cache_dir=tmp / "cache",
        keyboard_wedge=False,
    )
    root = app.build()
    Window.add_widget(root)
    app.work_on(wf)
    screen = app.current
    assert isinstance(screen, WorkScreen)
    labels = (screen.ids.prompt, screen.ids.message)
    bad = list(theme.rgba(Tone.BAD))

    state: dict[str, float | None] = {"t0": None, "changed": None, "drawn": None}
    flipped = threading.Event()

    def on_text(*_: Any) -> None:
        if state["t0"] is not None and state["changed"] is None:
            state["changed"] = time.perf_counter()

    def on_flip(*_: Any) -> None:
        flipped.set()

    for label in labels:
        label.bind(text=on_text)
    Window.bind(on_flip=on_flip)

    go = threading.Event()
    pending: list[str] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def scanner() -> None:  # a driver thread: not in step with the display
        while not stop.is_set():
            if not go.wait(0.1):
                continue
            go.clear()
            time.sleep(random.uniform(0, FRAME_S))
            try:
                text = pending.pop()
                state["t0"] = time.perf_counter()
                app.deliver_scan(_scan(text))
            except BaseException as exc:
                errors.append(exc)
                raise

    thread = threading.Thread(target=scanner, name="bench-scanner", daemon=True)
    thread.start()
    to_label: list[float] = []
    to_frame: list[float] = []
    deadline = time.monotonic() + MAX_SECONDS
    try:
        for _ in range(10):  # first frames: textures, fonts
            loop.idle()
        for n in range(LINES):
            line = wf.current
            assert line is not None, wf.state
            for i, text in enumerate(_scans(n, line)):
                state.update(t0=None, changed=None, drawn=None)
                pending.append(text)
                go.set()
                while state["drawn"] is None:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"over the time bound after {len(to_label)}: {errors}")
                    flipped.clear()
                    loop.idle()
                    if state["changed"] is not None and flipped.is_set():
                        state["drawn"] = time.perf_counter()  # after the frame was flipped
                t0, changed, drawn = state["t0"], state["changed"], state["drawn"]
                assert t0 is not None and changed is not None and drawn is not None
                to_label.append((changed - t0) * 1000)
                to_frame.append((drawn - t0) * 1000)
                assert screen.message_rgba != bad, screen.message  # every scan is good
                if i == 1:  # the quantity, keyed on the pad (not timed)
                    screen.press("2")
                    screen.press("ok")
                    loop.idle()
        assert conn.queue.pending_count() == 4 * LINES  # every scan and qty queued
        return to_label, to_frame
    finally:
        stop.set()
        thread.join(timeout=2)
        Window.unbind(on_flip=on_flip)
        app.stop()
        Window.remove_widget(root)
        loop.idle()
        conn.queue.close()
        conn.client.close()


def _row(name: str, values: list[float]) -> str:
    return (
        f"{name:42} {len(values):5d} {statistics.median(values):8.2f} "
        f"{_pct(values, 0.99):8.2f} {max(values):8.2f}"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        (tmp / "wf").mkdir()
        started = time.monotonic()
        only = workflow_only(tmp)
        to_label, to_frame = through_screen(tmp)
        took = time.monotonic() - started
    results: dict[str, list[float]] = {
        "workflow only: scan → feedback + view": only,
        "screen: deliver_scan → label updated": to_label,
        "screen: deliver_scan → frame flipped": to_frame,
    }
    print(f"{'measure':42} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in results.items():
        print(_row(name, values))

    def p99(values: list[float]) -> float:
        return _pct(values, 0.99)

    for name in ("screen: deliver_scan → label updated", "screen: deliver_scan → frame flipped"):
        values = results[name]
        print(
            f"{name} vs workflow only: "
            f"p50 ×{statistics.median(values) / statistics.median(only):.1f}, "
            f"p99 ×{p99(values) / p99(only):.1f}"
        )
    verdict = "within" if p99(to_frame) < BUDGET_MS else "OVER"
    print(
        f"budget: p99 {p99(to_frame):.2f} ms to the frame flipped is {verdict} the "
        f"{BUDGET_MS:g} ms scan-to-screen budget (frames every {FRAME_S * 1000:.1f} ms; "
        f"bench took {took:.1f} s)"
    )


if __name__ == "__main__":
    main()
