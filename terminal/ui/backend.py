"""The real `Backend`: zeroconf and typed URLs, the stored pairing, the edge connection (client,
command queue, replayer) and the workflows for the user's role (no Kivy).

Files in `data_dir`: `pairing.json` (this handheld's device token for one site, 0600) and
`queue-<SITE>.sqlite` (the offline command queue of that site). Pairing with another site
replaces the pairing; the old site's queue file stays, so nothing confirmed is ever lost.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from pathlib import Path

import httpx

from protocols.errors import ErrorCode
from terminal.client.connection import Connection
from terminal.client.credentials import CredentialStore, StoredPairing
from terminal.client.edge import EdgeClient, EdgeError, Offline, Refused, UntrustedServer
from terminal.net.discovery import (
    ALL_INTERFACES,
    DiscoveryError,
    EdgeServer,
    Interfaces,
    browse,
    from_url,
)
from terminal.ui.session import BackendError, MenuEntry, Trust, User
from terminal.workflows.base import Workflow

__all__ = ["EdgeBackend", "WorkflowFactory"]

log = logging.getLogger("aisleway.terminal.backend")

#: name → workflow, given the open connection and the logged-in user's role
WorkflowFactory = Callable[[str, Connection, str], Workflow]
MenuFor = Callable[[str], list[MenuEntry]]


def _menu_from_workflows(role: str) -> list[MenuEntry]:
    from terminal.workflows.menu import FACTORIES, workflows_for

    return [
        MenuEntry(name, str(getattr(FACTORIES[name], "title", "") or name.capitalize()))
        for name in workflows_for(role)
    ]


def _open_from_workflows(name: str, conn: Connection, role: str) -> Workflow:
    from terminal.workflows.menu import MenuRefused, open_workflow
    from terminal.workflows.session import Work

    try:
        return open_workflow(name, Work(conn, role=role))
    except MenuRefused as exc:
        raise BackendError(exc.code.value) from None


def _edge_error(exc: EdgeError) -> BackendError:
    if isinstance(exc, Refused):
        return BackendError(exc.code, exc.text)
    if isinstance(exc, UntrustedServer):
        log.warning("server not trusted: %s", exc)
        return BackendError(ErrorCode.TERMINAL_SERVER_UNTRUSTED.value)
    if isinstance(exc, Offline):
        return BackendError(ErrorCode.TERMINAL_OFFLINE.value)
    return BackendError(ErrorCode.INTERNAL.value)


class EdgeBackend:
    def __init__(
        self,
        data_dir: Path,
        *,
        interfaces: Interfaces = ALL_INTERFACES,
        device_name: str | None = None,
        menu_for: MenuFor = _menu_from_workflows,
        open_workflow: WorkflowFactory = _open_from_workflows,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.interfaces = interfaces
        self.device_name = device_name if device_name is not None else socket.gethostname()
        self.store = CredentialStore(self.data_dir / "pairing.json")
        self._menu_for = menu_for
        self._open_workflow = open_workflow
        self.server: EdgeServer | None = None
        self.conn: Connection | None = None
        self.user: User | None = None

    # -- site --------------------------------------------------------------------------------
    def discover(self, timeout: float) -> list[EdgeServer]:
        return browse(timeout, interfaces=self.interfaces, include_incompatible=True)

    def check_url(self, url: str) -> EdgeServer:
        # The /health probe sends nothing secret and trusts nothing it reads: over HTTPS it
        # does not check the certificate (a site CA is not a public one). Pairing and every
        # later request check it (trust on first use, then the pinned CA: `choose`).
        probe = httpx.Client(timeout=5.0, verify=False)
        try:
            return from_url(url, client=probe)
        except DiscoveryError as exc:
            log.info("server check failed: %s", exc)
            raise BackendError(ErrorCode.TERMINAL_SERVER_NOT_FOUND.value) from None
        finally:
            probe.close()

    def choose(self, server: EdgeServer) -> bool:
        if not server.compatible:
            raise BackendError(ErrorCode.TERMINAL_SERVER_INCOMPATIBLE.value)
        self._close_connection()
        self.server = server
        pairing = self.store.load()
        if pairing is None or pairing.api_url != server.api_url:
            return False
        self._open(pairing)
        if pairing.ca_pem:
            self._check_pinned()
        return True

    def _check_pinned(self) -> None:
        """Over HTTPS, ask the server to prove its certificate now, so a changed certificate
        is told on choosing the site, not after the badge and PIN. Offline is fine here."""
        conn = self._need_connection()
        try:
            conn.client.health()
        except UntrustedServer as exc:
            raise _edge_error(exc) from None
        except EdgeError:
            pass

    def trust(self) -> Trust | None:
        """The stored pairing's trust (its CA fingerprint), None when not paired."""
        pairing = self.store.load()
        if pairing is None:
            return None
        return Trust(api_url=pairing.api_url, ca_sha256=pairing.ca_sha256)

    def unpair(self) -> None:
        """Forget the pairing file (queue files stay: nothing confirmed is lost)."""
        self._close_connection()
        self.store.clear()

    def pair(self, code: str) -> Trust:
        server = self._need_server()
        client = EdgeClient(server.api_url)
        try:
            device = client.pair(code, self.device_name)
        except EdgeError as exc:
            raise _edge_error(exc) from None
        finally:
            client.close()
        pairing = StoredPairing(
            api_url=server.api_url,
            device_id=device.device_id,
            device_token=device.device_token,
            site=server.site,
            name=self.device_name,
            ca_pem=client.ca_pem or "",
            ca_sha256=client.ca_sha256 or "",
        )
        self.store.save(pairing)
        self._close_connection()
        self._open(pairing)
        return Trust(api_url=pairing.api_url, ca_sha256=pairing.ca_sha256)

    # -- user --------------------------------------------------------------------------------
    def login(self, badge: str, pin: str) -> User:
        conn = self._need_connection()
        try:
            session = conn.login(badge, pin)
        except EdgeError as exc:
            raise _edge_error(exc) from None
        self.user = User(badge=session.badge, name=session.name, role=session.role)
        return self.user

    def menu(self, user: User) -> list[MenuEntry]:
        return self._menu_for(user.role)

    def open_workflow(self, name: str) -> Workflow:
        conn = self._need_connection()
        if self.user is None:
            raise BackendError(ErrorCode.AUTH_REQUIRED.value)
        try:
            return self._open_workflow(name, conn, self.user.role)
        except EdgeError as exc:
            raise _edge_error(exc) from None

    def logout(self) -> None:
        self.user = None
        if self.conn is not None:
            self.conn.logout()

    def close(self) -> None:
        self._close_connection()

    # -- helpers -----------------------------------------------------------------------------
    def _open(self, pairing: StoredPairing) -> None:
        server = self._need_server()
        queue_path = self.data_dir / f"queue-{server.site}.sqlite"
        self.conn = Connection.open(
            queue_path, api_url=pairing.api_url, device=pairing.device, ca_pem=pairing.ca_pem
        )

    def _close_connection(self) -> None:
        conn, self.conn, self.user = self.conn, None, None
        if conn is not None:
            conn.close()

    def _need_server(self) -> EdgeServer:
        if self.server is None:
            raise BackendError(ErrorCode.TERMINAL_SERVER_NOT_FOUND.value)
        return self.server

    def _need_connection(self) -> Connection:
        if self.conn is None:
            raise BackendError(ErrorCode.DEVICE_REQUIRED.value)
        return self.conn
