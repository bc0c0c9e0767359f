"""A real handheld for workflow tests: paired with a pairing code from the edge's services,
logged in by badge + PIN over loopback HTTP, with its own SQLite command queue and replayer.

    hh = Handheld.open(live_edge, tmp_path, "picker")
    wf = PickingWorkflow(hh.work)
    wf.on_input("next", None); wf.on_scan(hh.scan("TOTE-0001")); hh.drain()
    hh.offline() ... hh.online()        # the replayer talks to a dead port, then the edge again
"""

from __future__ import annotations

import itertools
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from terminal.client.connection import Connection
from terminal.client.edge import EdgeClient
from terminal.scanners.base import DecodedScan
from terminal.workflows.base import Feedback, Tone
from terminal.workflows.session import Work

from conftest import LiveEdge

_badges = itertools.count(1)
PIN = "4321"


def dead_url() -> str:
    """An API address on loopback where nothing listens (the edge "out of reach")."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v1"


def scan(text: str, symbology: str | None = None) -> DecodedScan:
    return DecodedScan(text=text, raw=text.encode() + b"\r", symbology=symbology, source="test")


@dataclass
class Handheld:
    live: LiveEdge
    conn: Connection
    work: Work
    badge: str
    api_url: str
    queue_path: Path

    @classmethod
    def open(
        cls,
        live: LiveEdge,
        tmp_path: Path,
        role: str,
        *,
        badge: str | None = None,
        replay: bool = True,
    ) -> Handheld:
        """Pair and log in; with `replay=False` the replayer is not started (every command
        stays queued, as if the edge were out of reach, until `start_replay()`)."""
        badge = badge or f"{role[:3].upper()}-{next(_badges):04d}"
        live.services.users.create(badge=badge, pin=PIN, role=role)
        code = live.services.devices.create_pairing_code()
        api_url = live.url + "/api/v1"
        pairing = EdgeClient(api_url)
        device = pairing.pair(code.code, f"hh-{badge}")
        pairing.close()
        queue_path = tmp_path / f"queue-{badge}.db"
        conn = Connection.open(
            queue_path, api_url=api_url, device=device, start=replay, backoff_max=0.3
        )
        conn.login(badge, PIN)
        return cls(live, conn, Work(conn), badge, api_url, queue_path)

    def start_replay(self) -> None:
        self.conn.replayer.start()

    def drain(self, timeout: float = 20.0) -> None:
        """Wait until the replayer has sent (or seen refused) every queued command."""
        assert self.conn.replayer.flush(timeout), self.conn.status()

    def offline(self) -> None:
        """Point the client at a dead port: every request is `Offline` until `online()`."""
        self._switch(dead_url())

    def online(self) -> None:
        self._switch(self.api_url)
        self.conn.replayer.wake()

    def _switch(self, url: str) -> None:
        # The network "drops": the same client now reaches only a port nobody listens on.
        self.conn.client.api_url = url

    def wait_offline(self, timeout: float = 10.0) -> None:
        """After queuing something while `offline()`: wait until the replayer failed to send."""
        deadline = time.monotonic() + timeout
        self.conn.replayer.wake()
        while self.conn.replayer.online:
            assert time.monotonic() < deadline, "replayer still thinks it is online"
            self.conn.replayer.wake()
            time.sleep(0.02)

    def close(self) -> None:
        self.conn.close()


def ok(feedback: Feedback, tone: Tone = Tone.GOOD) -> Feedback:
    assert feedback.tone is tone, feedback
    return feedback


def refused(feedback: Feedback, code: str) -> dict[str, Any]:
    assert feedback.tone is Tone.BAD and feedback.code == code, feedback
    return feedback.details
