"""The app against a real edge server on 127.0.0.1: choose the site (zeroconf list, typed URL),
pair with a code, log in with badge scan + PIN, the menu by role, open a real workflow.
Rendered offscreen; screenshots go to the test's tmp dir."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import terminal_ui_support as ui  # before any Kivy import: offscreen switches, the Window

from edge_server.discovery import Advertiser
from protocols.errors import ErrorCode, message_for
from terminal.ui import theme
from terminal.ui.app import TerminalApp
from terminal.ui.backend import EdgeBackend
from terminal.workflows.base import Tone

from conftest import make_settings


def new_app(data_dir: Path, **kwargs) -> TerminalApp:
    backend = EdgeBackend(data_dir, interfaces=["127.0.0.1"], device_name="hh-test")
    app = TerminalApp(backend, cache_dir=data_dir / "cache", **kwargs)
    return app


def tap(widget) -> None:
    assert not widget.disabled, widget.text
    widget.dispatch("on_release")


def tap_text(app: TerminalApp, text: str) -> None:
    [button] = [b for b in ui.buttons(app.current) if b.text == text]
    tap(button)


def connect(app: TerminalApp, url: str) -> None:
    site = app.screens["site"]
    site.ids.url.text = url
    tap(site.ids.connect)
    ui.settle(app)


def pin(app: TerminalApp, digits: str) -> None:
    for d in digits:
        tap_text(app, d)
    tap_text(app, "OK")
    ui.settle(app)


def red(screen) -> bool:
    return list(screen.ids.message.color) == list(theme.rgba(Tone.BAD))


@pytest.fixture
def advertised_edge(live_edge, tmp_path) -> Iterator[str]:
    """The live edge advertised with zeroconf on loopback under a site code of its own (other
    test runs on this machine may advertise theirs at the same time)."""
    site = "U" + uuid.uuid4().hex[:6].upper()
    port = int(live_edge.url.rsplit(":", 1)[1])
    adv = Advertiser(make_settings(tmp_path, site=site, port=port, advertise=True))
    adv.start(port)
    try:
        yield site
    finally:
        adv.stop()


def server_button(app: TerminalApp, site: str):
    found = [b for b in app.current.ids.server_list.children if b.server.site == site]
    return found[0] if found else None


def test_site_list_from_zeroconf_pair_login_and_menu_for_a_picker(
    live_edge, advertised_edge, tmp_path
):
    services = live_edge.services
    services.users.create(badge="P-100", pin="1234", role="picker", name="Pat")
    app = new_app(tmp_path / "data")
    with ui.mounted(app):
        ui.settle(app)
        site = app.current
        assert site.name == "site"
        for _ in range(10):  # zeroconf on a busy machine may need another look
            if server_button(app, advertised_edge) is not None:
                break
            tap(site.ids.search)
            ui.settle(app)
        button = server_button(app, advertised_edge)
        assert button is not None, "the advertised edge server is not listed"
        assert button.text.startswith(f"{advertised_edge} — Aisleway {advertised_edge}")
        assert not button.disabled and button.height >= theme.TOUCH_DP
        assert site.message == "Choose your site."
        ui.screenshot(tmp_path, "site-list")

        connect(app, "127.0.0.1:1")  # the typed fallback, where nothing listens
        assert app.current.name == "site" and red(site)
        assert site.message == message_for(ErrorCode.TERMINAL_SERVER_NOT_FOUND).text
        connect(app, "not a url:xx")
        assert site.message == message_for(ErrorCode.TERMINAL_SERVER_NOT_FOUND).text

        tap(server_button(app, advertised_edge))
        ui.settle(app)
        pair = app.current
        assert pair.name == "pair" and pair.site == advertised_edge
        ui.screenshot(tmp_path, "pair")

        pair.ids.code.text = "ZZZZ-ZZZZ"
        tap(pair.ids.pair)
        ui.settle(app)
        assert app.current.name == "pair" and red(pair)
        assert pair.message == message_for(ErrorCode.PAIRING_CODE_INVALID).text

        code = services.devices.create_pairing_code().code
        app.deliver_scan(ui.scan(code))  # the code printed as a barcode
        ui.pump(lambda: pair.done)
        assert app.player.played[-1] is Tone.DONE
        assert (tmp_path / "data" / "pairing.json").is_file()
        assert pair.ids.trust_title.text == "Not encrypted (http)."  # plain HTTP: no CA
        tap(pair.ids.pair)  # Continue
        ui.pump(lambda: app.current.name == "login")

        login = app.current
        app.handle_scan(ui.scan("A01-01-1L"))  # a bin label, not a badge
        assert red(login)
        assert login.message == message_for(ErrorCode.BARCODE_UNEXPECTED).text
        app.handle_scan(ui.scan("BADGE-P-100"))
        assert login.ids.badge.text == "P-100"
        assert app.player.played[-1] is Tone.GOOD
        pin(app, "9999")
        assert app.current.name == "login" and red(login)
        assert login.message == message_for(ErrorCode.BAD_CREDENTIALS).text
        assert login.pin_length == 0  # a refused PIN is cleared
        tap_text(app, "1")
        assert login.ids.pin.text == "•"  # dots, never digits
        tap_text(app, "DEL")
        ui.screenshot(tmp_path, "login-refused")
        pin(app, "1234")

        menu = app.current
        assert menu.name == "menu", menu.message
        assert menu.ids.user.text == "Pat  ·  picker"
        labels = [b.text for b in reversed(menu.ids.entries.children)]
        assert labels == ["Picking", "Replenishment", "Cycle counting"]
        assert all(b.height >= theme.TOUCH_DP for b in menu.ids.entries.children)
        ui.screenshot(tmp_path, "menu-picker")

        tap_text(app, "Picking")
        ui.settle(app)
        work = app.current
        assert work.name == "work"
        assert work.workflow is not None and work.workflow.name == "picking"
        assert work.ids.status.text == "ONLINE"
        assert work.prompt == work.workflow.view().prompt
        assert [b.text for b in reversed(work.ids.actions.children)] == ["Next task", "SHORT"]
        ui.screenshot(tmp_path, "work-picking")

        tap_text(app, "Menu")
        tap_text(app, "Log out")
        assert app.current.name == "login"


def test_a_paired_handheld_goes_straight_to_login_and_each_role_sees_its_menu(live_edge, tmp_path):
    services = live_edge.services
    services.users.create(badge="R-200", pin="2468", role="receiver", name="")
    services.users.create(badge="S-300", pin="1357", role="supervisor", name="Sam")
    data = tmp_path / "data"
    app = new_app(data, server_url=live_edge.url)  # --server: no site list
    with ui.mounted(app):
        ui.pump(lambda: app.current.name == "pair")
        app.current.ids.code.text = services.devices.create_pairing_code().code
        tap(app.current.ids.pair)
        ui.pump(lambda: app.current.done)
        tap(app.current.ids.pair)  # Continue
        ui.pump(lambda: app.current.name == "login")

    again = new_app(data, server_url=live_edge.url)  # restart: the pairing was kept
    with ui.mounted(again):
        ui.pump(lambda: again.current.name == "login")
        login = again.current
        login.ids.badge.text = "R-200"  # typed instead of scanned
        pin(again, "2468")
        assert again.current.name == "menu"
        assert again.current.ids.user.text == "R-200  ·  receiver"
        assert [b.text for b in reversed(again.current.ids.entries.children)] == [
            "Receiving",
            "Putaway",
            "Returns receiving",
            "Replenishment",
            "Cycle counting",
        ]
        tap_text(again, "Log out")
        again.handle_scan(ui.scan("BADGE-S-300"))
        pin(again, "1357")
        entries = [b.text for b in reversed(again.current.ids.entries.children)]
        assert entries == [
            "Receiving",
            "Putaway",
            "Picking",
            "Replenishment",
            "Packing",
            "Cycle counting",
            "Returns receiving",
        ]
        ui.screenshot(tmp_path, "menu-supervisor")

        tap_text(again, "Cycle counting")  # no count tasks: a bin scan is refused plainly
        ui.settle(again)
        work = again.current
        again.handle_scan(ui.scan("A01-01-1L"))
        assert work.message == message_for(ErrorCode.COUNT_BIN_NOT_IN_TASK).text
        assert red(work)


def test_a_site_from_a_server_of_another_version_cannot_be_chosen(tmp_path):
    from terminal.net.discovery import EdgeServer
    from terminal.ui.screens.site import server_label

    app = new_app(tmp_path / "data")
    with ui.mounted(app):
        ui.settle(app)
        site = app.current
        old = EdgeServer("Aisleway DAL._aisleway._tcp.local.", "DAL", "127.0.0.1", 1, "0", "/x")
        site.servers = [old]
        [button] = site.ids.server_list.children
        assert button.disabled and button.text == server_label(old)
        assert "update the app" in button.text
        site.choose(old)  # even if asked directly
        ui.settle(app)
        assert site.message == message_for(ErrorCode.TERMINAL_SERVER_INCOMPATIBLE).text
