"""The outbox relay: delivers pending webhook deliveries as signed HTTP POSTs.

One loop thread decides what is due; a small pool of worker threads sends, one worker per
subscriber at a time, so a slow receiver never delays the others. The loop sleeps on an
Event that `Database.on_commit` sets, so an event committed by any request is on the wire
within milliseconds; a periodic poll (and the time of the next scheduled retry) is the safety
net.

Ordering: each subscriber receives its events in outbox order. A delivery is not attempted
while an older delivery to the same subscriber is still pending, so while a receiver is down
only the oldest event is retried (one probe per backoff step, not one per queued event), and
the rest follow in order as soon as it succeeds. A delivery marked `failed` (attempts
exhausted) no longer holds the queue. A failed delivery that is retried by hand becomes the
head of its subscriber's queue again.

Delivery is at least once: a crash between a receiver's 2xx and our write repeats that POST,
so receivers dedupe on `webhook-id` (the event id). HTTP never runs inside a write
transaction; results are written after the POSTs, one transaction per batch.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from edge_server.db import Database
from edge_server.integration.outbox import event_envelope
from edge_server.integration.signing import signed_headers
from edge_server.integration.url_guard import AddressRefused, GuardedTransport, Resolver
from edge_server.settings import Settings
from edge_server.timeutil import iso, parse_iso, utcnow
from protocols.version import PROTOCOL_VERSION

__all__ = ["USER_AGENT", "WebhookRelay", "backoff_delay"]

log = logging.getLogger("aisleway.webhooks")

USER_AGENT = f"Aisleway-Webhooks/{PROTOCOL_VERSION}"
#: Bytes of a receiver's response we read (error snippet, keep-alive); beyond that we hang up.
MAX_RESPONSE_BYTES = 64 * 1024
MAX_ERROR_TEXT = 300

# The head (oldest pending delivery) of every active subscriber's queue.
_HEADS_SQL = """
SELECT d.subscriber_id, d.next_attempt_at
FROM webhook_deliveries d
JOIN (
    SELECT subscriber_id, MIN(outbox_id) AS outbox_id
    FROM webhook_deliveries WHERE status = 'pending' GROUP BY subscriber_id
) head ON head.subscriber_id = d.subscriber_id AND head.outbox_id = d.outbox_id
JOIN webhook_subscribers s ON s.id = d.subscriber_id AND s.active = 1
"""

_BATCH_SQL = """
SELECT d.id, d.attempts, d.next_attempt_at,
       o.event_id, o.type, o.payload_json, o.created_at,
       s.url, s.secret, s.previous_secret, s.previous_secret_until
FROM webhook_deliveries d
JOIN outbox o ON o.id = d.outbox_id
JOIN webhook_subscribers s ON s.id = d.subscriber_id
WHERE d.subscriber_id = ? AND d.status = 'pending' AND s.active = 1
ORDER BY d.outbox_id
LIMIT ?
"""


def backoff_delay(
    attempts: int, base: float, maximum: float, rand: Callable[[], float] = random.random
) -> float:
    """Seconds to wait after the `attempts`-th failed attempt: base·2^(attempts-1), ±20 %
    jitter (so receivers coming back are not hit by every sender at once), capped."""
    nominal = base * 2.0 ** min(max(attempts - 1, 0), 60)
    return max(0.0, min(maximum, nominal * (0.8 + 0.4 * rand())))


@dataclass(frozen=True, slots=True)
class _Outcome:
    delivery_id: int
    attempts_before: int
    at: datetime
    ok: bool
    status_code: int | None = None
    error: str | None = None


class WebhookRelay:
    """Delivers the outbox. `start()`/`stop()` run it in the background; `run_once()` delivers
    what is due now, synchronously (tests, CLI)."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        client: httpx.Client | None = None,
        *,
        poll_interval: float = 1.0,
        workers: int = 4,
        batch_size: int = 50,
        resolver: Resolver = socket.getaddrinfo,
    ) -> None:
        self._db = db
        self._settings = settings
        self._timeout = settings.webhook_timeout_seconds
        self._owns_client = client is None
        # trust_env=False: an HTTP(S)_PROXY in the environment would route webhooks around
        # the SSRF guard (which would then only see the proxy's address).
        self._client = client or httpx.Client(
            transport=GuardedTransport(
                allow_private=settings.webhook_allow_private, resolver=resolver
            ),
            timeout=self._timeout,
            follow_redirects=False,
            trust_env=False,
        )
        self._poll_interval = poll_interval
        self._workers = workers
        self._batch_size = batch_size
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._state = threading.Condition()  # guards _in_flight and _executor
        self._in_flight: dict[int, Future[int]] = {}  # subscriber id -> its worker's job
        self._next_due: datetime | None = None
        db.on_commit(self.wake)

    # -- lifecycle ---------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Run in the background until `stop()`."""
        if self.running:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="webhook-relay", daemon=True)
        self._thread.start()
        log.info("webhook relay started")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop and wait (up to `timeout`) for POSTs in flight to finish and be
        recorded. No new POST starts once this is called."""
        self._stopping.set()
        self._wake.set()
        deadline = utcnow() + timedelta(seconds=timeout)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with self._state:
            while self._in_flight:
                left = (deadline - utcnow()).total_seconds()
                if left <= 0:
                    log.warning("webhook relay stopped with deliveries in flight")
                    break
                self._state.wait(left)
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
            with self._state:
                # A job cancelled before it started never reaches `_serve`'s cleanup.
                for subscriber_id, job in list(self._in_flight.items()):
                    if job.cancelled():
                        del self._in_flight[subscriber_id]
        log.info("webhook relay stopped")

    def close(self) -> None:
        """Stop and release the HTTP client (if the relay made it)."""
        self.stop()
        if self._owns_client:
            self._client.close()

    def wake(self) -> None:
        """Look for due deliveries now (called after every committed write)."""
        self._wake.set()

    # -- one pass ----------------------------------------------------------------------
    def run_once(self) -> int:
        """Deliver everything due now; returns the number of POSTs attempted.

        Subscribers already being served by the background loop are skipped, so call this
        when the relay is not started (tests, one-shot tools)."""
        if not self.running:
            self._stopping.clear()  # usable again after stop()
        return sum(future.result() for future in self._dispatch())

    def _loop(self) -> None:
        while not self._stopping.is_set():
            # Clear before looking: a commit landing while we look sets it again, so it is
            # never lost.
            self._wake.clear()
            try:
                self._dispatch()
            except Exception:
                log.exception("webhook relay pass failed")
            timeout = self._poll_interval
            if self._next_due is not None:
                until_due = (self._next_due - utcnow()).total_seconds()
                timeout = max(0.0, min(timeout, until_due))
            self._wake.wait(timeout)

    def _dispatch(self) -> list[Future[int]]:
        """Hand each subscriber whose queue head is due to a worker (unless one has it)."""
        now = utcnow()
        due: list[int] = []
        next_due: datetime | None = None
        for head in self._db.query(_HEADS_SQL):
            when = parse_iso(head["next_attempt_at"])
            if when <= now:
                due.append(int(head["subscriber_id"]))
            elif next_due is None or when < next_due:
                next_due = when
        self._next_due = next_due
        futures: list[Future[int]] = []
        if not due or self._stopping.is_set():
            return futures
        with self._state:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self._workers, thread_name_prefix="webhook-relay-send"
                )
            for subscriber_id in due:
                if subscriber_id in self._in_flight:
                    continue
                job = self._executor.submit(self._serve, subscriber_id)
                self._in_flight[subscriber_id] = job
                futures.append(job)
        return futures

    def _serve(self, subscriber_id: int) -> int:
        failed = False
        try:
            return self._drain(subscriber_id)
        except Exception:
            failed = True
            log.exception("webhook delivery pass failed", extra={"subscriber_id": subscriber_id})
            return 0
        finally:
            with self._state:
                self._in_flight.pop(subscriber_id, None)
                self._state.notify_all()
            if not failed:
                # Events may have been committed for this subscriber while we were busy and
                # the loop skipped it; look again. (Not after a crash: the poll will, without
                # spinning on a broken database.)
                self._wake.set()

    def _drain(self, subscriber_id: int) -> int:
        """POST this subscriber's due deliveries in order until one fails or none is left."""
        attempted = 0
        while not self._stopping.is_set():
            rows = self._db.query(_BATCH_SQL, [subscriber_id, self._batch_size])
            outcomes: list[_Outcome] = []
            blocked = False
            for row in rows:
                if self._stopping.is_set() or parse_iso(row["next_attempt_at"]) > utcnow():
                    blocked = True
                    break
                outcome = self._attempt(row)
                outcomes.append(outcome)
                if not outcome.ok:
                    blocked = True
                    break
            self._record(outcomes)
            attempted += len(outcomes)
            if blocked or len(rows) < self._batch_size:
                break
        return attempted

    # -- one POST ----------------------------------------------------------------------
    def _attempt(self, row: dict[str, Any]) -> _Outcome:
        started = utcnow()

        def outcome(ok: bool, status_code: int | None, error: str | None = None) -> _Outcome:
            return _Outcome(
                delivery_id=int(row["id"]),
                attempts_before=int(row["attempts"]),
                at=started,
                ok=ok,
                status_code=status_code,
                error=error[:MAX_ERROR_TEXT] if error else None,
            )

        try:
            body, headers = self._signed_request(row, started)
            with self._client.stream(
                "POST", row["url"], content=body, headers=headers, timeout=self._timeout
            ) as resp:
                snippet = _read_some(resp)
                if 200 <= resp.status_code < 300:
                    return outcome(True, resp.status_code)
                text = snippet.decode("utf-8", "replace").strip()
                error = f"HTTP {resp.status_code}" + (f": {text}" if text else "")
                return outcome(False, resp.status_code, error)
        except AddressRefused as exc:
            error = f"refused by the SSRF guard: {exc}"
        except httpx.TimeoutException:
            error = f"timed out after {self._timeout:g}s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except Exception as exc:
            # A bad URL, a damaged row, an unexpected transport error: count it as a failed
            # attempt, so the delivery ends up `failed` instead of wedging its queue.
            error = f"{type(exc).__name__}: {exc}"
        return outcome(False, None, error)

    @staticmethod
    def _signed_request(row: dict[str, Any], now: datetime) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(
            event_envelope(row["event_id"], row["type"], row["created_at"], row["payload_json"]),
            separators=(",", ":"),
        ).encode()
        secrets = [row["secret"]]
        until = row["previous_secret_until"]
        if row["previous_secret"] and until and parse_iso(until) > now:
            secrets.append(row["previous_secret"])  # rotation: old receivers still verify
        # Signed at each attempt: the timestamp must be fresh for the receiver's tolerance.
        headers = signed_headers(secrets, row["event_id"], body)
        headers["content-type"] = "application/json"
        headers["user-agent"] = USER_AGENT
        return body, headers

    def _record(self, outcomes: list[_Outcome]) -> None:
        if not outcomes:
            return
        s = self._settings
        with self._db.write() as w:
            for o in outcomes:
                attempts = o.attempts_before + 1
                at = iso(o.at)
                if o.ok:
                    # Unconditional: if the subscriber was deactivated meanwhile, the receiver
                    # did get it, and the row says so.
                    w.execute(
                        "UPDATE webhook_deliveries SET status = 'delivered', attempts = ?, "
                        "last_status_code = ?, last_error = NULL, delivered_at = ?, "
                        "last_attempt_at = ? WHERE id = ?",
                        [attempts, o.status_code, iso(), at, o.delivery_id],
                    )
                    continue
                give_up = attempts >= s.webhook_max_attempts
                delay = backoff_delay(
                    attempts, s.webhook_backoff_base_seconds, s.webhook_backoff_max_seconds
                )
                w.execute(
                    "UPDATE webhook_deliveries SET status = ?, attempts = ?, "
                    "last_status_code = ?, last_error = ?, last_attempt_at = ?, "
                    "next_attempt_at = ? WHERE id = ? AND status = 'pending'",
                    [
                        "failed" if give_up else "pending",
                        attempts,
                        o.status_code,
                        o.error,
                        at,
                        at if give_up else iso(utcnow() + timedelta(seconds=delay)),
                        o.delivery_id,
                    ],
                )
                log.log(
                    logging.WARNING if give_up else logging.INFO,
                    "webhook delivery failed" + (", giving up" if give_up else ", will retry"),
                    extra={"delivery_id": o.delivery_id, "attempts": attempts, "error": o.error},
                )


def _read_some(resp: httpx.Response) -> bytes:
    """Read a bounded part of the response; a fully read small body keeps the connection."""
    data = b""
    for chunk in resp.iter_raw():
        data += chunk
        if len(data) >= MAX_RESPONSE_BYTES:
            break
    return data[:MAX_ERROR_TEXT]
