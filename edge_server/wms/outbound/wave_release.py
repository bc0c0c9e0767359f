"""Automatic wave release: plan, then release every planned wave whose `release_at` has come.

`release_due(db, site, config, now)` is one pass (tests drive it with their own `now`);
`WaveReleaser` runs it every `wave_release_poll_seconds` in a thread of the server when
`wave_auto_release` is on. A failing wave is logged and skipped; the loop never dies.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from edge_server.background import BackgroundLoop
from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.settings import Settings
from edge_server.timeutil import iso, utcnow
from edge_server.wms.outbound.waves import WaveConfig, plan_waves, release_wave

__all__ = ["WaveReleaser", "release_due"]

log = logging.getLogger("aisleway.waves")


def release_due(db: Database, site: str, config: WaveConfig, now: datetime) -> dict[str, Any]:
    """One pass: plan (one transaction), then release each due wave (one transaction each,
    mode `auto`, earliest release first). Returns what was planned, released and refused."""
    with db.write() as w:
        planned = plan_waves(w, site, now, config)
    due = db.query(
        "SELECT wv.number FROM waves wv JOIN sites s ON s.id = wv.site_id "
        "WHERE s.code = ? AND wv.status = 'planned' AND wv.release_at <= ? "
        "ORDER BY wv.release_at, wv.number",
        [site, iso(now)],
    )
    released: list[str] = []
    failed: list[dict[str, Any]] = []
    for row in due:
        number = row["number"]
        try:
            with db.write() as w:
                release_wave(w, site, number, mode="auto", user_id=None, config=config, now=now)
            released.append(number)
        except AislewayError as exc:  # e.g. released by a supervisor meanwhile
            failed.append({"number": number, "code": exc.code.value})
            log.info("wave not auto-released", extra={"wave": number, "code": exc.code.value})
        except Exception as exc:
            failed.append({"number": number, "code": "INTERNAL", "error": str(exc)[:200]})
            log.exception("wave auto-release failed", extra={"wave": number})
    return {"planned": planned, "released": released, "failed": failed}


class WaveReleaser(BackgroundLoop):
    """The background loop: `start()` / `close()` from the app lifespan."""

    thread_name = "wave-release"

    def __init__(self, db: Database, settings: Settings) -> None:
        super().__init__(settings.wave_release_poll_seconds)
        self.db = db
        self.site = settings.site
        self.config = WaveConfig.from_settings(settings)

    def run_once(self, now: datetime | None = None) -> dict[str, Any] | None:
        """One pass, never raising (a site without a layout yet has nothing to wave)."""
        try:
            return release_due(self.db, self.site, self.config, now or utcnow())
        except AislewayError as exc:
            log.info("wave release pass skipped", extra={"code": exc.code.value})
        except Exception:
            log.exception("wave release pass failed")
        return None

    def tick(self) -> float | None:
        self.run_once()
        return None
