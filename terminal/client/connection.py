"""One object a screen or workflow holds for "the edge": client + queue + replayer (no Kivy).

conn = Connection.open(data_dir, api_url=..., device=...)   # or pair() first
conn.login("B-1001", "1234")           # token kept for replay, queue stamps this user
cmd = conn.queue.enqueue("POST", "/inventory/moves", body, workflow="move")
conn.status()                          # SyncStatus: online, pending, rejected, blocked
conn.close()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from terminal.client.edge import DeviceCredentials, EdgeClient, Session
from terminal.client.queue import CommandQueue
from terminal.client.replay import Replayer, StatusListener, SyncStatus

__all__ = ["Connection"]


class Connection:
    def __init__(self, client: EdgeClient, queue: CommandQueue, replayer: Replayer) -> None:
        self.client = client
        self.queue = queue
        self.replayer = replayer

    @classmethod
    def open(
        cls,
        queue_path: str | Path,
        *,
        api_url: str,
        device: DeviceCredentials,
        start: bool = True,
        ca_pem: str | None = None,
        **replayer_options: Any,
    ) -> Connection:
        """Client for `api_url` as `device` (trusting only `ca_pem` over HTTPS when given),
        queue at `queue_path`, replayer started."""
        client = EdgeClient(api_url, device=device, ca_pem=ca_pem)
        queue = CommandQueue(queue_path, device.device_id)
        replayer = Replayer(queue, client, **replayer_options)
        conn = cls(client, queue, replayer)
        if start:
            replayer.start()
        return conn

    @property
    def session(self) -> Session | None:
        return self.client.session

    def login(self, badge: str, pin: str) -> Session:
        """Badge + PIN at the edge (needs the network); new commands are stamped with this
        user, and their token is kept so their commands replay as them."""
        session = self.client.login(badge, pin)
        self.queue.save_token(session.user_id, session.token, session.expires_at)
        self.queue.set_user(session.user_id)
        self.replayer.wake()
        return session

    def logout(self) -> None:
        """The user leaves; their queued commands still replay as them."""
        self.client.logout()
        self.queue.set_user(None)

    def status(self) -> SyncStatus:
        return self.replayer.status()

    def add_listener(self, listener: StatusListener) -> None:
        self.replayer.add_listener(listener)

    def close(self) -> None:
        self.replayer.stop()
        self.queue.close()
        self.client.close()
