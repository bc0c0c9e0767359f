"""Per-client limits on failed logins and pairings (docs/security.md#rate-limits).

The per-badge lockout (users.py) stops guessing one badge's PIN; it does nothing against one
place trying a few PINs on each of many badges, or guessing pairing codes. This counts FAILED
attempts per client — the remote address and, for a paired handheld, the device — in a sliding
window, in this process (a restart forgets). While a client is over its limit every attempt
from it is refused with 429 TOO_MANY_ATTEMPTS and a Retry-After, even a right PIN, so the
answer does not reveal a good guess. Successful attempts are not counted.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

from edge_server.errors import AislewayError
from edge_server.settings import Settings
from protocols.errors import ErrorCode

__all__ = ["AttemptLimiter", "SlidingWindow", "TooManyAttempts"]

Clock = Callable[[], float]


class TooManyAttempts(AislewayError):
    """429 TOO_MANY_ATTEMPTS; `retry_after` whole seconds until the client may try again."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(ErrorCode.TOO_MANY_ATTEMPTS, details={"retry_after": retry_after})
        self.retry_after = retry_after


class SlidingWindow:
    """At most `limit` events per key in any `window` seconds. Thread-safe."""

    def __init__(self, limit: int, window: float, clock: Clock = time.monotonic) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self.clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> deque[float] | None:
        events = self._events.get(key)
        if events is None:
            return None
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            del self._events[key]
            return None
        return events

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may try again (0: it may now)."""
        with self._lock:
            now = self.clock()
            events = self._trim(key, now)
            if events is None or len(events) < self.limit:
                return 0.0
            # The attempt that ends the block is the one that brings the count below limit.
            return events[len(events) - self.limit] + self.window - now

    def record(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            events = self._trim(key, now)
            if events is None:
                events = self._events[key] = deque()
            events.append(now)
            if len(events) > self.limit:  # older ones can never matter again
                events.popleft()
            if len(self._events) > 10_000:  # a flood of addresses: forget the idle ones
                for other in [k for k in self._events if k != key]:
                    self._trim(other, now)


class AttemptLimiter:
    """The per-address and per-device windows of one edge server process."""

    def __init__(self, settings: Settings, clock: Clock = time.monotonic) -> None:
        window = settings.auth_rate_window_seconds
        self.by_address = SlidingWindow(settings.auth_rate_max_per_address, window, clock)
        self.by_device = SlidingWindow(settings.auth_rate_max_per_device, window, clock)

    def _keys(
        self, address: str | None, device_id: int | None
    ) -> Iterable[tuple[SlidingWindow, str]]:
        if address:
            yield self.by_address, address
        if device_id is not None:
            yield self.by_device, str(device_id)

    def check(self, address: str | None, device_id: int | None = None) -> None:
        """Raise TooManyAttempts if the address or the device is over its limit."""
        wait = max((w.retry_after(k) for w, k in self._keys(address, device_id)), default=0.0)
        if wait > 0:
            raise TooManyAttempts(max(1, math.ceil(wait)))

    def failed(self, address: str | None, device_id: int | None = None) -> None:
        for window, key in self._keys(address, device_id):
            window.record(key)
