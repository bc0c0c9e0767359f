"""Choose a site: the edge servers zeroconf found on the LAN, or a typed address."""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory
from kivy.properties import BooleanProperty, ListProperty

from terminal.net.discovery import EdgeServer
from terminal.scanners.base import DecodedScan
from terminal.ui.screens.base import TerminalScreen

#: How long one search listens for answers.
DISCOVERY_SECONDS = 2.0


def server_label(server: EdgeServer) -> str:
    text = f"{server.site} — {server.label}\n{server.host}:{server.port}"
    if not server.compatible:
        text += "  (update the app)"
    return text


class SiteScreen(TerminalScreen):
    servers = ListProperty([])
    searching = BooleanProperty(False)
    discovery_seconds = DISCOVERY_SECONDS

    def search(self) -> None:
        self.searching = True
        self.note("Searching for sites…")
        self.app.run_async(
            lambda: self.app.backend.discover(self.discovery_seconds), self._found, self._failed
        )

    def _found(self, servers: list[EdgeServer]) -> None:
        self.searching = False
        self.servers = servers
        if servers:
            self.note("Choose your site.")
        else:
            self.note("No site found. Type the server address below.")

    def _failed(self, exc: BaseException) -> None:
        self.searching = False
        self.app.fail(self, exc)

    def on_servers(self, _: Any, servers: list[EdgeServer]) -> None:
        box = self.ids.server_list
        box.clear_widgets()
        for server in servers:
            button = Factory.ServerButton(text=server_label(server))
            button.server = server
            button.disabled = not server.compatible
            button.bind(on_release=lambda b: self.choose(b.server))
            box.add_widget(button)

    def connect_url(self) -> None:
        url = self.ids.url.text.strip()
        if not url:
            self.ids.url.focus = True
            return
        self.note(f"Checking {url}…")
        self.app.run_async(
            lambda: self.app.backend.check_url(url), self.choose, lambda e: self.app.fail(self, e)
        )

    def choose(self, server: EdgeServer) -> None:
        self.note(f"Connecting to {server.site}…")
        self.app.run_async(
            lambda: self.app.backend.choose(server),
            lambda paired: self.app.server_chosen(server, paired),
            lambda e: self.app.choose_failed(server, e),
        )

    def on_scan(self, scan: DecodedScan) -> None:
        """A scanned server address (a QR code on the supervisor's screen) works like typing."""
        text = scan.text.strip()
        if text.lower().startswith(("http://", "https://")):
            self.ids.url.text = text
            self.connect_url()
        else:
            super().on_scan(scan)
