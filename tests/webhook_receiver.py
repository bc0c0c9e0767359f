"""A real HTTP webhook receiver on 127.0.0.1 for tests.

Every POST is verified with the reference `standardwebhooks` library (not our own verifier),
so a test that passes proves an independent implementation accepts what the relay sends.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(0.01)


@dataclass
class Received:
    path: str
    webhook_id: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float  # time.perf_counter() when it arrived


@dataclass
class Receiver:
    port: int = field(default_factory=free_port)
    #: path -> the secret(s) deliveries to that path must verify with
    secrets: dict[str, list[str]] = field(default_factory=dict)
    #: status codes to answer, consumed in order; `status` after they run out
    replies: list[int] = field(default_factory=list)
    status: int = 200
    #: requests to these paths wait for `gate` before answering
    held_paths: set[str] = field(default_factory=set)
    gate: threading.Event = field(default_factory=threading.Event)
    received: list[Received] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    requests: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def expect(self, path: str, *secrets: str) -> None:
        self.secrets[path] = list(secrets)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do
            disable_nagle_algorithm = True  # else headers+body cost a 40 ms delayed ACK

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                receiver._handle(self, body)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.gate.set()

    def _handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        path = handler.path
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self._lock:
            self.requests += 1
        if path in self.held_paths:
            self.gate.wait(30)
        secrets = self.secrets.get(path, [])
        try:
            if not secrets:
                raise WebhookVerificationError(f"no secret registered for {path}")
            for secret in secrets:  # every registered secret must verify on its own
                Webhook(secret).verify(body, headers)
        except WebhookVerificationError as exc:
            with self._lock:
                self.rejected.append(f"{path}: {exc}")
            self._answer(handler, 400, b"bad signature")
            return
        with self._lock:
            status = self.replies.pop(0) if self.replies else self.status
            if 200 <= status < 300:
                self.received.append(
                    Received(
                        path, headers["webhook-id"], json.loads(body), headers, time.perf_counter()
                    )
                )
        self._answer(handler, status, b"ok" if status < 300 else b"receiver says no")

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int, payload: bytes) -> None:
        handler.send_response(status)
        handler.send_header("content-type", "text/plain")
        handler.send_header("content-length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    # -- what arrived ---------------------------------------------------------------------
    def ids(self, path: str | None = None) -> list[str]:
        with self._lock:
            return [r.webhook_id for r in self.received if path is None or r.path == path]

    def types(self, path: str | None = None) -> list[str]:
        with self._lock:
            return [r.body["type"] for r in self.received if path is None or r.path == path]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 10.0) -> list[str]:
        return list(
            wait_until(
                lambda: len(self.ids(path)) >= count and self.ids(path),
                timeout,
                f"{count} webhooks at {path or 'any path'}",
            )
        )
