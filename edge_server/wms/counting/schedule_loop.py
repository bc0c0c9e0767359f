"""The count schedule in the server: `CountScheduler` makes the due scheduled counts every
`count_schedule_poll_seconds` when `count_schedule_enabled` is on."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from edge_server.background import BackgroundLoop
from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.settings import Settings
from edge_server.timeutil import utcnow
from edge_server.wms.counting.schedule import run_schedule

__all__ = ["CountScheduler"]

log = logging.getLogger("aisleway.counting")


class CountScheduler(BackgroundLoop):
    """`start()` / `close()` from the app lifespan."""

    thread_name = "count-schedule"

    def __init__(self, db: Database, settings: Settings) -> None:
        super().__init__(settings.count_schedule_poll_seconds)
        self.db = db
        self.settings = settings

    def run_once(self, now: datetime | None = None) -> dict[str, Any] | None:
        """One pass, never raising (a site without a layout has nothing to count)."""
        try:
            with self.db.write() as w:
                return run_schedule(w, self.settings, now or utcnow())
        except AislewayError as exc:
            log.info("count schedule pass skipped", extra={"code": exc.code.value})
        except Exception:
            log.exception("count schedule pass failed")
        return None

    def tick(self) -> float | None:
        self.run_once()
        return None
