"""Prometheus metrics at `GET /metrics` (text exposition format; docs/operations.md#metrics).

Each app gets its own `CollectorRegistry` (never the process-global one), so several apps in one
process — tests, the demo's two sites — keep separate figures. HTTP requests are counted by a
small ASGI middleware under their route *template* (`/api/v1/waves/{number}`), never the raw
path, so the label set stays small. The site's figures (outbox, webhooks, pick tasks,
handhelds, count approvals, database size) are read from the database at scrape time with a few
cheap queries.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.routing import Mount

from edge_server.dashboard.summary import handhelds_panel
from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.timeutil import parse_iso, utcnow
from protocols.errors import ErrorCode

__all__ = ["HTTP_BUCKETS", "SiteCollector", "install_metrics", "route_template"]

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "<unmatched>"

router = APIRouter(tags=["operations"])


def _route_paths(app: Any) -> dict[int, str]:
    """id(route) -> full path template, through included routers (FastAPI keeps them lazily)
    and mounted apps (the embedded OMS under /oms)."""
    found: dict[int, str] = {}

    def walk(routes: Any, prefix: str) -> None:
        for route in routes:
            if hasattr(route, "original_router"):
                walk(route.original_router.routes, prefix + route.include_context.prefix)
            elif hasattr(route, "path_format"):
                found[id(route)] = prefix + route.path_format
                inner: Any = getattr(route, "app", None)
                if isinstance(route, Mount) and hasattr(inner, "routes"):
                    walk(inner.routes, prefix + route.path)

    walk(app.routes, "")
    return found


def route_template(scope: dict[str, Any], paths: dict[int, str]) -> str:
    """The template of the route that served `scope` (after the app ran)."""
    route = scope.get("route")
    if route is not None:
        known = paths.get(id(route))
        if known is not None:
            return known
        return str(scope.get("root_path", "")) + str(getattr(route, "path_format", UNMATCHED))
    root = str(scope.get("root_path", ""))
    return f"{root}/{{path}}" if root else UNMATCHED  # static files under a mount, or a 404


class HTTPMetrics:
    """ASGI middleware: count and time every HTTP request by method, route template, status."""

    def __init__(self, app: Any, *, registry: CollectorRegistry, root: FastAPI) -> None:
        self.app = app
        self.root = root
        self._paths: dict[int, str] | None = None
        self.requests = Counter(
            "aisleway_http_requests",
            "HTTP requests served, by method, route template and status code.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "aisleway_http_request_duration_seconds",
            "Time to the end of the response, by method and route template.",
            ["method", "route"],
            buckets=HTTP_BUCKETS,
            registry=registry,
        )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def send_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            if self._paths is None:
                self._paths = _route_paths(self.root)
            route = route_template(scope, self._paths)
            method = str(scope.get("method", ""))
            self.requests.labels(method, route, str(status)).inc()
            self.latency.labels(method, route).observe(time.perf_counter() - start)


class SiteCollector(Collector):
    """The site's state, read at scrape time."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        db = self.db
        now = utcnow()
        row = db.query_one(
            "SELECT "
            "(SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending') AS pending, "
            "(SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'failed') AS failed, "
            "(SELECT MIN(o.created_at) FROM webhook_deliveries d JOIN outbox o "
            " ON o.id = d.outbox_id WHERE d.status = 'pending') AS oldest_pending_at, "
            "(SELECT MAX(id) FROM outbox) AS last_event, "
            "(SELECT COUNT(DISTINCT outbox_id) FROM webhook_deliveries "
            " WHERE status = 'pending') AS backlog_events, "
            "(SELECT COUNT(*) FROM count_variances WHERE status = 'awaiting_approval') "
            " AS approvals"
        )
        assert row is not None
        tasks = {
            r["status"]: r["n"]
            for r in db.query(
                "SELECT status, COUNT(*) AS n FROM pick_tasks "
                "WHERE status IN ('open', 'in_progress') GROUP BY status"
            )
        }
        handhelds = handhelds_panel(db, now)

        g = GaugeMetricFamily(
            "aisleway_outbox_backlog_events",
            "Outbox events with at least one webhook delivery still pending.",
            value=row["backlog_events"],
        )
        yield g
        oldest = row["oldest_pending_at"]
        age = (now - parse_iso(oldest)).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily(
            "aisleway_outbox_backlog_seconds",
            "Age of the oldest event with a pending webhook delivery (0 when none).",
            value=max(age, 0.0),
        )
        yield GaugeMetricFamily(
            "aisleway_outbox_last_event_id",
            "Sequence number of the newest outbox event.",
            value=row["last_event"] or 0,
        )
        deliveries = GaugeMetricFamily(
            "aisleway_webhook_deliveries",
            "Webhook deliveries waiting (pending) or given up on (failed).",
            labels=["status"],
        )
        deliveries.add_metric(["pending"], row["pending"])
        deliveries.add_metric(["failed"], row["failed"])
        yield deliveries
        picks = GaugeMetricFamily(
            "aisleway_pick_tasks_open",
            "Pick tasks not yet done: open (unassigned or not started) or in progress.",
            labels=["status"],
        )
        for status in ("open", "in_progress"):
            picks.add_metric([status], tasks.get(status, 0))
        yield picks
        devices = GaugeMetricFamily(
            "aisleway_handhelds",
            "Paired handhelds by whether they were seen in the last "
            f"{handhelds['offline_after_seconds']} s.",
            labels=["state"],
        )
        devices.add_metric(["online"], handhelds["online"])
        devices.add_metric(["offline"], handhelds["offline"])
        yield devices
        yield GaugeMetricFamily(
            "aisleway_handheld_pending_scans",
            "Scans queued on handhelds, from their last heartbeats.",
            value=handhelds["pending_scans"],
        )
        yield GaugeMetricFamily(
            "aisleway_count_approvals_pending",
            "Count variances awaiting a supervisor's approval.",
            value=row["approvals"],
        )
        size = GaugeMetricFamily(
            "aisleway_db_size_bytes",
            "Size of the site database files on disk.",
            labels=["file"],
        )
        for name, suffix in (("db", ""), ("wal", "-wal")):
            path = Path(f"{db.path}{suffix}")
            size.add_metric([name], path.stat().st_size if path.exists() else 0)
        yield size
        # group commit (edge_server/db/database.py): commands per COMMIT = commands / commits
        commits = CounterMetricFamily(
            "aisleway_db_group_commits",
            "Write transactions committed for commands (one fsync each) since start.",
            value=db.batches,
        )
        yield commits
        yield CounterMetricFamily(
            "aisleway_db_group_commit_commands",
            "Commands those transactions carried since start.",
            value=db.batched,
        )


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    summary="Prometheus metrics (text exposition format)",
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
def metrics(request: Request) -> Response:
    """Public unless `AISLEWAY_METRICS_TOKEN` is set; then `Authorization: Bearer <token>`."""
    token = request.app.state.services.settings.metrics_token
    if token:
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if not given:
            raise AislewayError(ErrorCode.AUTH_REQUIRED)
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip(), token):
            raise AislewayError(ErrorCode.TOKEN_INVALID)
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def install_metrics(app: FastAPI, db: Database) -> CollectorRegistry:
    """`GET /metrics` and the request middleware on `app`, with a registry of its own."""
    # No `*_created` series (a start timestamp per label set): noise for a scraper.
    disable_created_metrics()  # type: ignore[no-untyped-call]
    registry = CollectorRegistry(auto_describe=True)
    registry.register(SiteCollector(db))
    app.state.metrics_registry = registry
    app.add_middleware(HTTPMetrics, registry=registry, root=app)
    app.include_router(router)
    return registry
