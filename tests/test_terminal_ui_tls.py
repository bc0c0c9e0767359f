"""The pair screen over TLS (docs/security.md#tls-and-pinning, docs/terminal.md): after pairing
it shows the site CA's fingerprint as the CLI prints it; when the server later shows another
CA's certificate, the app says the certificate changed and pairing again (a new code) pins the
new CA. A real edge under uvicorn with TLS on 127.0.0.1, real certificates, Kivy offscreen."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import terminal_ui_support as ui  # before any Kivy import: offscreen switches, the Window
import uvicorn

from edge_server.access.tls import TlsFiles, fingerprint, init_tls, show_fingerprint
from edge_server.app import create_app
from edge_server.services import open_services
from protocols.errors import ErrorCode, message_for
from terminal.ui import theme
from terminal.ui.app import TerminalApp
from terminal.ui.backend import EdgeBackend
from terminal.workflows.base import Tone

from conftest import make_settings

pytestmark = pytest.mark.timeout(180)

UNTRUSTED = message_for(ErrorCode.TERMINAL_SERVER_UNTRUSTED).text


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> TlsFiles:
    return init_tls(tmp_path_factory.mktemp("pki"), ["127.0.0.1"], "CHI")


@pytest.fixture(scope="module")
def new_pki(tmp_path_factory) -> TlsFiles:
    """The site's CA made again (`aisleway edge tls init --force`), or an impostor's."""
    return init_tls(tmp_path_factory.mktemp("new-pki"), ["127.0.0.1"], "CHI")


@contextmanager
def edge_with(tmp_path: Path, files: TlsFiles, port: int = 0) -> Iterator[tuple[str, object]]:
    """The site (one database file across restarts) served over TLS with `files`, on `port`
    (0: a free one), as `aisleway edge serve --tls-cert … --tls-key …` would."""
    settings = make_settings(
        tmp_path, tls_cert_file=files.server_cert, tls_key_file=files.server_key
    )
    services = open_services(settings)
    config = uvicorn.Config(
        create_app(settings, services),
        host="127.0.0.1",
        port=port,
        log_config=None,
        lifespan="on",
        ssl_certfile=str(files.server_cert),
        ssl_keyfile=str(files.server_key),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="tls-edge", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)
        bound = server.servers[0].sockets[0].getsockname()[1]
        yield f"https://127.0.0.1:{bound}", services
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        services.db.close()


def new_app(data_dir: Path, url: str) -> TerminalApp:
    backend = EdgeBackend(data_dir, interfaces=["127.0.0.1"], device_name="hh-tls")
    return TerminalApp(backend, cache_dir=data_dir / "cache", server_url=url)


def tap(widget) -> None:
    assert not widget.disabled, widget.text
    widget.dispatch("on_release")


def red(screen) -> bool:
    return list(screen.ids.message.color) == list(theme.rgba(Tone.BAD))


def shown(widget) -> bool:
    """On screen for a person: visible, with room, inside the window."""
    x, y = widget.to_window(widget.x, widget.y)
    _, top = widget.to_window(widget.x, widget.top)
    return (
        widget.opacity == 1 and widget.height > 0 and x >= 0 and y >= 0 and top <= ui.Window.height
    )


def pair_with(app: TerminalApp, code: str) -> None:
    pair = app.current
    assert pair.name == "pair"
    pair.ids.code.text = code
    tap(pair.ids.pair)
    ui.pump(lambda: pair.done or red(pair))
    ui.settle(app)


def log_in(app: TerminalApp, badge: str, pin: str) -> None:
    login = app.current
    assert login.name == "login"
    login.ids.badge.text = badge
    for d in pin:
        login.press(d)
    login.press("ok")
    ui.settle(app)


def shown_fingerprint(app: TerminalApp) -> str:
    return " ".join(app.current.ids.fingerprint.text.split())


def test_pairing_over_tls_shows_the_ca_fingerprint_and_a_changed_certificate_means_pairing_again(
    tmp_path, pki, new_pki
):
    site_dir, data = tmp_path / "site", tmp_path / "handheld"
    site_dir.mkdir()
    printed = show_fingerprint(fingerprint(pki.ca_cert.read_bytes()))  # what the CLI printed
    printed_new = show_fingerprint(fingerprint(new_pki.ca_cert.read_bytes()))

    # 1. First pairing: trust on first use, the fingerprint on show to compare.
    with edge_with(site_dir, pki) as (url, services):
        port = int(url.rsplit(":", 1)[1])
        services.users.create(badge="PICK01", pin="4321", role="picker", name="Pat")
        app = new_app(data, url)
        with ui.mounted(app):
            ui.pump(lambda: app.current.name == "pair")  # the typed https URL was accepted
            pair = app.current
            assert not pair.done and not shown(pair.ids.fingerprint)
            pair_with(app, services.devices.create_pairing_code().code)
            assert pair.done and app.current is pair and not red(pair)
            assert app.player.played[-1] is Tone.DONE
            assert pair.ids.trust_title.text == "Site certificate fingerprint (SHA-256):"
            assert shown_fingerprint(app) == printed
            assert len(pair.ids.fingerprint.text.splitlines()) == 4  # 4 groups of 4 a line
            assert shown(pair.ids.fingerprint) and shown(pair.ids.trust_title)
            assert shown(pair.ids.forget) and pair.ids.pair.text == "Continue"
            assert pair.ids.code.disabled and not shown(pair.ids.code)
            ui.screenshot(tmp_path, "paired-tls")
            app.handle_scan(ui.scan("K7P2-9QXM"))  # another code scanned now pairs nothing
            assert red(pair) and pair.done

            tap(pair.ids.pair)  # Continue
            ui.pump(lambda: app.current.name == "login")
            log_in(app, "PICK01", "4321")
            assert app.current.name == "menu"  # over the pinned connection
            app.logout()
            ui.settle(app)
            assert app.current.name == "login"

    # 2. The server comes back on the same address with another CA's certificate.
    with edge_with(site_dir, new_pki, port) as (url2, services):
        assert url2 == url
        app = new_app(data, url)
        with ui.mounted(app):
            # Choosing the site already finds out: to the pair screen, with the reason.
            ui.pump(lambda: app.current.name == "pair" and app.current.message == UNTRUSTED)
            pair = app.current
            assert red(pair) and not pair.done and shown(pair.ids.code)
            ui.screenshot(tmp_path, "certificate-changed")
            stored = (data / "pairing.json").read_text()
            assert fingerprint(pki.ca_cert.read_bytes()) in stored  # the old pin is kept

            # 3. Pairing again (a new code) pins the new CA, on show to compare again.
            pair_with(app, services.devices.create_pairing_code().code)
            assert pair.done and shown_fingerprint(app) == printed_new
            assert fingerprint(new_pki.ca_cert.read_bytes()) in (data / "pairing.json").read_text()
            tap(pair.ids.pair)
            ui.pump(lambda: app.current.name == "login")
            log_in(app, "PICK01", "4321")
            assert app.current.name == "menu"


def test_a_changed_certificate_at_login_goes_to_pairing_and_forget_drops_the_pairing(
    tmp_path, pki, new_pki
):
    site_dir, data = tmp_path / "site", tmp_path / "handheld"
    site_dir.mkdir()
    with edge_with(site_dir, pki) as (url, services):
        port = int(url.rsplit(":", 1)[1])
        services.users.create(badge="PICK01", pin="4321", role="picker")
        app = new_app(data, url)
        with ui.mounted(app):
            ui.pump(lambda: app.current.name == "pair")
            pair_with(app, services.devices.create_pairing_code().code)
            tap(app.current.ids.pair)
            ui.pump(lambda: app.current.name == "login")

    with edge_with(site_dir, new_pki, port) as (_, services):
        app = new_app(data, url)
        with ui.mounted(app):
            # Started again: choosing the site already tells. Go to the login as if the CA
            # had changed after the site was chosen, to see the login path too.
            ui.pump(lambda: app.current.name == "pair" and app.current.message == UNTRUSTED)
            app.server_chosen(app.server, paired=True)
            assert app.current.name == "login"
            log_in(app, "PICK01", "4321")
            pair = app.current
            assert pair.name == "pair" and red(pair) and pair.message == UNTRUSTED

            # A supervisor says the fingerprint shown after pairing is not the site's: forget.
            pair_with(app, services.devices.create_pairing_code().code)
            assert pair.done and (data / "pairing.json").is_file()
            tap(pair.ids.forget)
            ui.pump(lambda: not pair.done)
            ui.settle(app)
            assert not (data / "pairing.json").exists()
            assert red(pair) and "Pairing removed" in pair.message
            assert shown(pair.ids.code) and not shown(pair.ids.fingerprint)
            assert pair.ids.forget.disabled and not shown(pair.ids.forget)
