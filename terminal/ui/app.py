"""The Kivy app: a ScreenManager of thin screens, scanners wired to the current screen.

Flow: site (zeroconf list or typed URL) → pair (if this handheld has no pairing for the site)
→ login (badge + PIN) → menu (by role) → work (one workflow) → menu … Every scan, from any
driver thread, goes through `deliver_scan`, which hops to the Kivy thread with
`Clock.schedule_once`; the current screen passes it to its workflow and shows the feedback.
Network calls (discovery, pairing, login, opening a workflow) run on a worker thread through
`run_async` and come back on the Kivy thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import ListProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from protocols.errors import ErrorCode
from terminal.net.discovery import EdgeServer
from terminal.scanners.base import DecodedScan, ScannerDriver
from terminal.ui.feedback import FeedbackPlayer
from terminal.ui.screens import (
    LoginScreen,
    MenuScreen,
    PairScreen,
    SiteScreen,
    TerminalScreen,
    WorkScreen,
)
from terminal.ui.session import Backend, User, error_feedback
from terminal.ui.widgets import FreshLabel
from terminal.workflows.base import Tone, Workflow

__all__ = ["KV_DIR", "FreshLabel", "TerminalApp", "TerminalRoot", "load_kv"]

log = logging.getLogger("aisleway.terminal.ui")

KV_DIR = Path(__file__).parent / "kv"
KV_FILES = ("common.kv", "site.kv", "pair.kv", "login.kv", "menu.kv", "work.kv", "carton.kv")
T = TypeVar("T")

_kv_loaded = False


def load_kv() -> None:
    """Load the screens' rules once per process (Builder rules are global)."""
    global _kv_loaded
    if _kv_loaded:
        return
    for name in KV_FILES:
        Builder.load_file(str(KV_DIR / name))
    _kv_loaded = True


class TerminalRoot(FloatLayout):  # type: ignore[misc]  # Kivy is untyped
    """The ScreenManager with a full-screen colour flash drawn over it (`flash_rgba`)."""

    flash_rgba = ListProperty([0, 0, 0, 0])


class TerminalApp(App):  # type: ignore[misc]
    title = "Aisleway"

    def __init__(
        self,
        backend: Backend,
        *,
        drivers: Iterable[ScannerDriver] = (),
        cache_dir: Path | None = None,
        sound: bool = True,
        server_url: str | None = None,
        keyboard_wedge: bool = True,
        wedge_driver: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.backend = backend
        self.drivers = list(drivers)
        self.server_url = server_url
        self.keyboard_wedge = keyboard_wedge
        self.wedge_driver = wedge_driver  # a configured KeyboardWedge (profile), else defaults
        self.cache_dir = cache_dir or Path.home() / ".cache" / "aisleway-terminal"
        self.sound_enabled = sound
        self.player: FeedbackPlayer | None = None
        self.server: EdgeServer | None = None
        self.user: User | None = None
        self.wedge: Any = None
        self.busy = 0  # background calls in flight (tests wait for 0)
        self.scans_handled = 0
        self.sm: ScreenManager | None = None
        self.screens: dict[str, TerminalScreen] = {}

    # -- building ----------------------------------------------------------------------------
    def build(self) -> TerminalRoot:
        load_kv()
        self.player = FeedbackPlayer(self.cache_dir / "sounds", sound=self.sound_enabled)
        root = TerminalRoot()
        sm = ScreenManager(transition=NoTransition())
        for cls in (SiteScreen, PairScreen, LoginScreen, MenuScreen, WorkScreen):
            screen = cls()
            screen.app = self
            sm.add_widget(screen)
            self.screens[screen.name] = screen
        root.add_widget(sm)
        self.sm = sm
        self.root = root
        return root

    def on_start(self) -> None:
        self.start()

    def on_stop(self) -> None:
        self.stop()

    def start(self) -> None:
        """Scanners on, keyboard wedge bound, and the first screen (a given URL skips the list)."""
        if self.keyboard_wedge:
            from terminal.ui.wedge_binding import WedgeBinding

            self.wedge = WedgeBinding(
                self.deliver_scan,
                self.deliver_typed,
                lambda: self.sm.current_screen if self.sm is not None else None,
                wedge=self.wedge_driver,
            )
            self.wedge.bind()
        for driver in self.drivers:
            try:
                driver.start(self.deliver_scan)
            except Exception:
                log.exception("scanner driver %s did not start", getattr(driver, "name", driver))
        site = self.go("site")
        assert isinstance(site, SiteScreen)
        if self.server_url:  # the operator named the server: no need to look
            site.ids.url.text = self.server_url
            site.connect_url()
        else:
            site.search()

    def stop(self) -> None:
        work = self.screens.get("work")
        if isinstance(work, WorkScreen):
            work.on_leave()  # its once-a-second refresh must not outlive the backend
        self._drop_workflow()
        if self.wedge is not None:
            self.wedge.unbind()
            self.wedge = None
        for driver in self.drivers:
            try:
                driver.stop()
            except Exception:
                log.exception("scanner driver %s did not stop", getattr(driver, "name", driver))
        try:
            self.backend.close()
        except Exception:
            log.exception("closing the backend failed")

    # -- navigation --------------------------------------------------------------------------
    @property
    def current(self) -> TerminalScreen:
        assert self.sm is not None
        screen = self.sm.current_screen
        assert isinstance(screen, TerminalScreen)
        return screen

    def go(self, name: str) -> TerminalScreen:
        assert self.sm is not None
        self.sm.current = name
        return self.screens[name]

    def choose_site(self) -> None:
        self._drop_workflow()
        self.user = None
        site = self.go("site")
        assert isinstance(site, SiteScreen)
        if not site.servers and not site.searching:
            site.search()

    def server_chosen(self, server: EdgeServer, paired: bool) -> None:
        self.server = server
        for name in ("pair", "login"):
            self.screens[name].site = server.site
        self.go("login" if paired else "pair")

    def paired(self) -> None:
        """The operator saw the pairing's trust on the pair screen and continues."""
        self.go("login")

    def choose_failed(self, server: EdgeServer, exc: BaseException) -> None:
        """Choosing `server` failed; a changed certificate goes to the pair screen (re-pair)."""
        if getattr(exc, "code", None) == ErrorCode.TERMINAL_SERVER_UNTRUSTED.value:
            self.server_chosen(server, paired=False)
            self.screens["pair"].show(error_feedback(exc))
        else:
            self.fail(self.screens["site"], exc)

    def logged_in(self, user: User) -> None:
        self.user = user
        menu = self.screens["menu"]
        assert isinstance(menu, MenuScreen)
        menu.user_text = f"{user.name or user.badge}  ·  {user.role}"
        menu.entries = self.backend.menu(user)
        self.go("menu")
        self.signal(Tone.GOOD)

    def work_on(self, workflow: Workflow) -> None:
        work = self.screens["work"]
        assert isinstance(work, WorkScreen)
        work.workflow = workflow
        self.go("work")

    def leave_work(self) -> None:
        self._drop_workflow()
        self.go("menu")

    def logout(self) -> None:
        self._drop_workflow()
        self.user = None
        try:
            self.backend.logout()
        except Exception:
            log.exception("logout failed")
        self.go("login")

    def _drop_workflow(self) -> None:
        work = self.screens.get("work")
        if isinstance(work, WorkScreen):
            work.workflow = None

    # -- feedback ----------------------------------------------------------------------------
    def signal(self, tone: Tone) -> None:
        if self.player is not None and self.root is not None:
            self.player.signal(self.root, tone)

    def fail(self, screen: TerminalScreen, exc: BaseException) -> None:
        if not getattr(exc, "code", None):
            log.error("terminal action failed", exc_info=exc)
        if (
            getattr(exc, "code", None) == ErrorCode.TERMINAL_SERVER_UNTRUSTED.value
            and self.server is not None
            and screen.name != "pair"
        ):
            # The site's certificate changed after pairing (at login, say): the way out is
            # pairing again, so say it where the pairing code goes.
            self._drop_workflow()
            self.user = None
            screen = self.go("pair")
        screen.show(error_feedback(exc))

    # -- input -------------------------------------------------------------------------------
    def deliver_scan(self, scan: DecodedScan) -> None:
        """Any thread: hand a scan to the screen on show (on the Kivy thread)."""
        Clock.schedule_once(lambda _dt: self.handle_scan(scan))

    def deliver_typed(self, key: str) -> None:
        """Kivy thread: a key a person typed with no text field focused (PIN or qty pad)."""
        self.current.on_typed(key)

    def handle_scan(self, scan: DecodedScan) -> None:
        """Kivy thread: the current screen judges the scan and shows the feedback."""
        self.scans_handled += 1
        try:
            self.current.on_scan(scan)
        except Exception as exc:  # a bug must not kill the scanner loop or the app
            log.exception("scan handling failed")
            self.current.show(error_feedback(exc))

    # -- background work ---------------------------------------------------------------------
    def run_async(
        self,
        call: Callable[[], T],
        on_done: Callable[[T], Any],
        on_error: Callable[[BaseException], Any],
    ) -> None:
        """Run `call` on a worker thread; its result or exception comes back on the Kivy thread."""
        self.busy += 1

        def finish(callback: Callable[[Any], Any], value: Any) -> None:
            self.busy -= 1
            callback(value)

        def work() -> None:
            try:
                result = call()
            except Exception as exc:
                error = exc  # `exc` is unbound after the except block; the lambda runs later
                Clock.schedule_once(lambda _dt: finish(on_error, error))
            else:
                Clock.schedule_once(lambda _dt: finish(on_done, result))

        threading.Thread(target=work, name="terminal-call", daemon=True).start()
