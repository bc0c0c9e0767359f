"""Replays the command queue to the edge server, strictly in order, exactly once (no Kivy).

One background thread. Each round it (1) reports rejections the edge does not know yet, then
(2) sends the lowest pending command, one at a time, with its own idempotency key:

- 2xx → applied, the envelope stored (later Refs read it);
- Offline → `online` goes False; back off (bounded, with jitter) and retry the SAME command with
  the SAME key: if the first attempt was committed and only the reply lost, the edge answers
  with the stored first response (docs/terminal-sync.md);
- 5xx → retry later, like Offline but `online` stays True;
- 401 auth (token expired, device unpaired) → replay is `blocked` until that user logs in again
  (or the device is paired again); the command is NOT rejected — it was never judged;
- other 4xx → rejected with the server's code and text, reported to the edge
  (`POST /devices/me/rejections`), and replay continues with the next command.

The UI reads `status()` (online, pending, rejected, blocked) or subscribes with `add_listener`
(called from the replayer's thread: Kivy screens hop to the main thread with @mainthread).
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from terminal.client.edge import EdgeClient, Offline, Refused, ServerError
from terminal.client.queue import Command, CommandQueue, UnresolvedRef, plain

__all__ = ["HEARTBEAT_PATH", "REPORT_PATH", "Replayer", "StatusListener", "SyncStatus"]

log = logging.getLogger("aisleway.terminal.replay")

REPORT_PATH = "/devices/me/rejections"
HEARTBEAT_PATH = "/devices/me/heartbeat"


@dataclass(frozen=True, slots=True)
class SyncStatus:
    online: bool
    pending: int
    rejected: int  # unacknowledged rejections on this handheld
    blocked: str | None = None  # an ErrorCode value (TOKEN_EXPIRED, DEVICE_UNKNOWN...) or None
    blocked_user_id: int | None = None  # whose login replay waits for
    last_error: str | None = None


StatusListener = Callable[[SyncStatus], None]


class Replayer:
    def __init__(
        self,
        queue: CommandQueue,
        client: EdgeClient,
        *,
        backoff_min: float = 0.2,
        backoff_max: float = 10.0,
        heartbeat_seconds: float = 60.0,
        app_version: str = "",
        rng: random.Random | None = None,
    ) -> None:
        if not 0 < backoff_min <= backoff_max:
            raise ValueError("need 0 < backoff_min <= backoff_max")
        self.queue = queue
        self.client = client
        self.backoff_min = backoff_min
        self.backoff_max = backoff_max
        self.heartbeat_seconds = heartbeat_seconds
        self.app_version = app_version
        self._rng = rng or random.Random()
        self._online = False
        self._blocked: str | None = None
        self._blocked_user: int | None = None
        self._last_error: str | None = None
        self._failures = 0  # consecutive rounds that could not reach a decision
        self._last_contact = 0.0  # monotonic time of the last answer from the edge
        self._listeners: list[StatusListener] = []
        self._last_status: SyncStatus | None = None
        self._state_lock = threading.Lock()
        self._round_lock = threading.Lock()  # one round at a time (thread, step(), flush())
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        queue.add_listener(self._queue_changed)

    # -- what the UI reads ---------------------------------------------------------------
    @property
    def online(self) -> bool:
        return self._online

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> SyncStatus:
        with self._state_lock:
            online, blocked, user, error = (
                self._online,
                self._blocked,
                self._blocked_user,
                self._last_error,
            )
        return SyncStatus(
            online=online,
            pending=self.queue.pending_count(),
            rejected=self.queue.rejected_count(),
            blocked=blocked,
            blocked_user_id=user,
            last_error=error,
        )

    def add_listener(self, listener: StatusListener) -> None:
        """`listener(status)` after every change of online/pending/rejected/blocked (called
        from whichever thread made the change)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: StatusListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    # -- the thread ----------------------------------------------------------------------
    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="terminal-replay", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        """Try now (a command was queued, the user logged in, the network came back)."""
        self._failures = 0
        self._wake.set()

    def flush(self, timeout: float) -> bool:
        """Wait until nothing is pending or unreported (True), or `timeout` passes (False).
        Without the thread running, replays in the calling thread."""
        deadline = time.monotonic() + timeout
        while True:
            if self._drained():
                return True
            if time.monotonic() >= deadline:
                return False
            if self.running:
                self._wake.set()
                time.sleep(0.01)
            elif not self.step():
                time.sleep(min(self._delay(), max(0.0, deadline - time.monotonic())))

    def step(self) -> bool:
        """One round without the thread (tests, or a manual "sync now"): True if it made
        progress (a command applied/rejected or a report sent)."""
        with self._round_lock:
            try:
                return self._round()
            finally:
                self._notify()

    # -- internals -----------------------------------------------------------------------
    def _drained(self) -> bool:
        return self.queue.pending_count() == 0 and not self.queue.unreported()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                progressed = self.step()
            except Exception:  # never let the replay thread die; the queue keeps everything
                log.exception("replay round failed")
                progressed = False
                self._failures += 1
            if self._stop.is_set():
                break
            if progressed:
                continue
            self._wake.wait(self._idle_wait())
            self._wake.clear()

    def _idle_wait(self) -> float:
        if self._failures:
            return self._delay()
        if self._blocked is not None:
            return self.backoff_max
        return max(self.backoff_min, self.heartbeat_seconds)

    def _delay(self) -> float:
        """Exponential backoff, capped, with jitter (so a room of handhelds coming back
        after a Wi-Fi outage does not knock at the same instant)."""
        n = max(self._failures - 1, 0)
        base = min(self.backoff_max, math.ldexp(self.backoff_min, min(n, 30)))
        return base * (0.5 + 0.5 * self._rng.random())

    def _queue_changed(self, _queue: CommandQueue) -> None:
        self._wake.set()
        self._notify()

    def _notify(self) -> None:
        if not self._listeners:
            return
        status = self.status()
        with self._state_lock:
            if status == self._last_status:
                return
            self._last_status = status
        for listener in list(self._listeners):
            try:
                listener(status)
            except Exception:
                log.exception("sync status listener failed")

    def _set(
        self,
        *,
        online: bool | None = None,
        error: str | None = None,
        blocked: tuple[str | None, int | None] | None = None,
    ) -> None:
        with self._state_lock:
            if online is not None:
                self._online = online
                if online:
                    self._last_contact = time.monotonic()
            self._last_error = error
            if blocked is not None:
                self._blocked, self._blocked_user = blocked

    def _failed(self, exc: Exception, *, online: bool) -> bool:
        self._failures += 1
        self._set(online=online, error=str(exc))
        return False

    def _round(self) -> bool:
        # 1. Reports first: a refusal reaches the supervisor before anything newer is sent.
        for refused in self.queue.unreported():
            try:
                self._report(refused)
            except Offline as exc:
                return self._failed(exc, online=False)
            except ServerError as exc:
                return self._failed(exc, online=True)
            except Refused as exc:
                # Not reportable now (no login for it, or an old server): keep it unreported,
                # retry later; the commands behind it must not wait for a report.
                self._set(online=True, error=str(exc))
                log.warning("could not report rejected command %s: %s", refused.seq, exc)
                break
            self.queue.mark_reported(refused.seq)
            self._failures = 0
            self._set(online=True)
            return True
        # 2. The oldest pending command.
        command = self.queue.next_pending()
        if command is None:
            return self._idle()
        token = self.queue.token_for(command.user_id) if command.user_id is not None else None
        if token is None and command.user_id is None and self.client.session is not None:
            token = self.client.session.token
        if token is None:
            self._set(blocked=("AUTH_REQUIRED", command.user_id))
            return False
        try:
            body = self.queue.resolve(command)
        except UnresolvedRef as exc:
            self.queue.mark_rejected(command.seq, code=exc.code, text=exc.text, details=exc.details)
            return True
        try:
            status, envelope = self.client.exchange(
                command.method,
                command.path,
                body,
                command.key,
                token=token,
                scanned_at=command.scanned_at,
            )
        except Offline as exc:
            self.queue.note_attempt(command.seq, str(exc))
            return self._failed(exc, online=False)
        except ServerError as exc:
            self.queue.note_attempt(command.seq, str(exc))
            return self._failed(exc, online=True)
        except Refused as exc:
            if exc.needs_login:
                # Never judged: wait for that user's login (or a new pairing), keep it pending.
                self.queue.note_attempt(command.seq, str(exc))
                self._failures = 0
                self._set(online=True, error=str(exc), blocked=(exc.code, command.user_id))
                return False
            self.queue.mark_rejected(
                command.seq,
                code=exc.code,
                text=exc.text,
                details=exc.details,
                status=exc.status,
                response=exc.envelope,
            )
            self._failures = 0
            self._set(online=True, blocked=(None, None))
            return True
        self.queue.mark_applied(command.seq, status, envelope)
        self._failures = 0
        self._set(online=True, blocked=(None, None))
        return True

    def _report(self, command: Command) -> None:
        token = self.queue.token_for(command.user_id)
        if token is None and self.client.session is not None:
            token = self.client.session.token
        body: dict[str, Any] = {
            "seq": command.seq,
            "idempotency_key": command.key,
            "method": command.method,
            "path": command.path,
            "body": plain(command.body),
            "workflow": command.workflow,
            "user_id": command.user_id,
            "scanned_at": command.scanned_at.isoformat(),
            "code": command.error_code or "",
            "text": command.error_text or "",
            "details": command.error_details,
            "http_status": command.http_status,
        }
        self.client.exchange("POST", REPORT_PATH, body, f"{command.key}-report", token=token)

    def _idle(self) -> bool:
        """Nothing to send: keep `online` honest (a heartbeat when due, a health probe while
        offline)."""
        due = time.monotonic() - self._last_contact >= self.heartbeat_seconds
        if self._online and not due:
            return False
        token = self.client.session.token if self.client.session is not None else None
        try:
            if token is not None and self.client.device is not None:
                self.client.exchange(
                    "POST",
                    HEARTBEAT_PATH,
                    {
                        "pending": self.queue.pending_count(),
                        "rejected": self.queue.rejected_count(),
                        "app_version": self.app_version,
                    },
                    f"{self.client.device.device_id}-hb-{uuid.uuid4().hex}",
                    token=token,
                )
            else:
                self.client.health()
        except Offline as exc:
            return self._failed(exc, online=False)
        except (ServerError, Refused) as exc:
            # It answered: online, whatever it thought of the heartbeat.
            self._failures = 0
            self._set(online=True, error=str(exc))
            return False
        self._failures = 0
        self._set(online=True, blocked=(None, None))
        return False
