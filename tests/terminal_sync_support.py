"""Real parts for the handheld-sync tests: an edge server that can be stopped and started again
on the same port and database file, a paired handheld with a logged-in user, and a loopback
proxy that forwards a chosen request to the edge and drops its reply."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from edge_server.app import create_app
from edge_server.services import Services, open_services
from edge_server.settings import Settings
from terminal.client.edge import EdgeClient, Session
from terminal.client.queue import CommandQueue
from terminal.client.replay import Replayer


class RestartableEdge:
    """uvicorn on 127.0.0.1 in a thread over a real SQLite file; `stop()` closes the server and
    the database, `start()` opens both again on the same port and file."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = 0
        self.services: Services | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    @property
    def svc(self) -> Services:
        assert self.services is not None, "edge is stopped"
        return self.services

    def start(self) -> None:
        self.services = open_services(self.settings)
        app = create_app(self.settings, self.services)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_config=None, lifespan="on"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="restartable-edge", daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "edge did not start"
            time.sleep(0.01)
        self.port = server.servers[0].sockets[0].getsockname()[1]
        self._server, self._thread = server, thread

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=20)
            assert not self._thread.is_alive(), "edge did not stop"
        self._server = self._thread = None
        if self.services is not None:
            self.services.db.close()
            self.services = None


@dataclass
class Handheld:
    client: EdgeClient
    queue: CommandQueue
    replayer: Replayer
    session: Session

    def close(self) -> None:
        """Stop replaying and close the connection; the queue stays open for inspection."""
        self.replayer.stop()
        self.client.close()


def pair_and_login(
    services: Services,
    api_url: str,
    queue_path: Path,
    *,
    role: str = "receiver",
    badge: str = "B-1001",
    **replayer_options: Any,
) -> Handheld:
    """Pair a handheld over HTTP with a fresh code and log a new user in on it (badge + PIN)."""
    services.users.create(badge=badge, pin="2468", role=role)
    code = services.devices.create_pairing_code()
    client = EdgeClient(api_url, timeout=2.0)
    device = client.pair(code.code, f"hh-{badge}")
    session = client.login(badge, "2468")
    queue = CommandQueue(queue_path, device.device_id)
    queue.save_token(session.user_id, session.token, session.expires_at)
    queue.set_user(session.user_id)
    options = {"backoff_min": 0.02, "backoff_max": 0.2, **replayer_options}
    return Handheld(client, queue, Replayer(queue, client, **options), session)


class DroppingProxy:
    """A loopback HTTP/1.1 proxy. Each request is forwarded on a fresh upstream connection and
    its reply relayed, except requests carrying `drop_key` as Idempotency-Key: the first
    `drops` of those reach the edge in full, the edge answers, and the proxy closes the
    client's connection without a byte of the reply (the reply was lost)."""

    def __init__(self, upstream_port: int, *, drop_key: str, drops: int = 1) -> None:
        self.upstream_port = upstream_port
        self.drop_key = drop_key.lower()
        self.drops_left = drops
        self.forwarded: list[str] = []  # idempotency keys that reached the edge
        self.dropped: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="dropping-proxy", daemon=True)
        self._thread.start()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            reader = conn.makefile("rb")
            while True:
                request = _read_request(reader)
                if request is None:
                    return
                head, body = request
                key = _header(head, b"idempotency-key")
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
                with upstream:
                    upstream.sendall(_force_close(head) + body)
                    reply = b""
                    while chunk := upstream.recv(65536):
                        reply += chunk
                self.forwarded.append(key)
                if key.lower() == self.drop_key and self.drops_left > 0:
                    self.drops_left -= 1
                    self.dropped.append(key)
                    return  # the edge committed and answered; the handheld hears nothing
                conn.sendall(reply)
                return  # one request per client connection (the reply says Connection: close)


def _read_request(reader: Any) -> tuple[bytes, bytes] | None:
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = reader.readline()
        if not line:
            return None
        head += line
    length = int(_header(head, b"content-length") or 0)
    return head, reader.read(length) if length else b""


def _header(head: bytes, name: bytes) -> str:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip().decode()
    return ""


def _force_close(head: bytes) -> bytes:
    lines = [
        line
        for line in head.rstrip(b"\r\n").split(b"\r\n")
        if not line.lower().startswith(b"connection:")
    ]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n"
