"""The edge server's FastAPI application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from edge_server.api import (
    admin,
    auth,
    billing,
    carriers,
    client_portal,
    clients,
    counting,
    edi,
    health,
    inbound,
    inventory,
    items,
    labels,
    labor,
    layout,
    outbound,
    packing,
    packing_slips,
    picking,
    putaway,
    receiving,
    reports,
    returns,
    scans,
    tasks,
    terminal_reports,
    waves,
    webhooks,
)
from edge_server.dashboard.routes import install as install_dashboard
from edge_server.errors import AislewayError
from edge_server.integration.webhooks import WebhookRelay
from edge_server.labels import PrintSpooler
from edge_server.openapi_errors import install_error_responses
from edge_server.services import Services, open_services
from edge_server.settings import Settings
from edge_server.wms.counting.schedule_loop import CountScheduler
from edge_server.wms.outbound.wave_release import WaveReleaser
from protocols.barcodes import BarcodeError
from protocols.envelope import error_envelope
from protocols.errors import ErrorCode
from protocols.version import API_BASE_PATH, PROTOCOL_VERSION

log = logging.getLogger("aisleway.edge")


def _error(
    status: int, code: ErrorCode, text: str | None = None, details: Any = None
) -> JSONResponse:
    body = error_envelope(code, text=text, details=details).model_dump(mode="json")
    return JSONResponse(status_code=status, content=body)


def install_error_handlers(app: FastAPI) -> None:
    # The OpenAPI declares what these handlers answer (edge_server/openapi_errors.py).
    install_error_responses(app)

    @app.exception_handler(AislewayError)
    async def _aisleway(request: Request, exc: AislewayError) -> JSONResponse:
        log.info("refused", extra={"path": request.url.path, "code": exc.code.value})
        return _error(exc.status, exc.code, exc.text, exc.details or None)

    @app.exception_handler(BarcodeError)
    async def _barcode(request: Request, exc: BarcodeError) -> JSONResponse:
        log.info("scan refused", extra={"path": request.url.path, "code": exc.code.value})
        return _error(exc.status, exc.code, exc.text, exc.details or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
                "reason": e.get("msg"),
            }
            for e in exc.errors()
        ]
        return _error(422, ErrorCode.VALIDATION_FAILED, details={"errors": errors})

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
        # A number no SQLite INTEGER holds, e.g. an id of 2**63 in a path or a query: refused
        # before anything is written (the write transaction rolls back). Any other overflow is
        # our bug, answered like every other one.
        if "SQLite INTEGER" not in str(exc):
            log.exception("unhandled error", extra={"path": request.url.path})
            return _error(500, ErrorCode.INTERNAL)
        log.info("number out of range", extra={"path": request.url.path, "error": str(exc)})
        return _error(
            422,
            ErrorCode.VALIDATION_FAILED,
            "A number in the request is out of range (at most 9223372036854775807).",
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = ErrorCode.NOT_FOUND if exc.status_code == 404 else ErrorCode.VALIDATION_FAILED
        return _error(exc.status_code, code, str(exc.detail) if exc.status_code != 404 else None)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return _error(500, ErrorCode.INTERNAL)


@asynccontextmanager
async def run_loops(app: FastAPI) -> AsyncIterator[None]:
    """The app's lifespan: start what `app.state.on_start` lists (background loops), stop
    `app.state.on_stop` in reverse order on the way out. Shared by the edge and the OMS."""
    for start in app.state.on_start:
        start()
    try:
        yield
    finally:
        for stop in reversed(app.state.on_stop):
            stop()


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    settings = settings or Settings()
    services = services or open_services(settings)

    app = FastAPI(
        title="Aisleway edge server",
        version=PROTOCOL_VERSION,
        description=f"Warehouse site {settings.site}. All API routes live under {API_BASE_PATH}.",
        lifespan=run_loops,
        # Prometheus (/metrics) is ours; FastAPI's OTel bridge costs a few % per request
        telemetry=None
        if settings.opentelemetry
        else {"tracing": False, "metrics": False, "logs": False},
    )
    app.state.services = services
    app.state.on_start = []
    app.state.on_stop = []
    install_error_handlers(app)
    app.include_router(health.router)
    routers = (
        auth,
        admin,
        inventory,
        webhooks,
        layout,
        items,
        scans,
        inbound,
        outbound,
        carriers,
        labels,
        putaway,
        receiving,
        waves,
        packing,
        picking,
        terminal_reports,
        returns,
        labor,
        counting,
        reports,
        tasks,
        clients,
        client_portal,
        edi,
        billing,
        packing_slips,
    )
    for module in routers:
        app.include_router(module.router, prefix=API_BASE_PATH)
    # Print jobs: requests send their own at once; the thread retries with backoff.
    spooler = PrintSpooler(services.db, settings)
    app.state.spooler = spooler
    if settings.print_spooler_enabled:
        app.state.on_start.append(spooler.start)
        app.state.on_stop.append(spooler.close)
    if settings.relay_enabled:
        relay = WebhookRelay(services.db, settings)
        app.state.relay = relay
        app.state.on_start.append(relay.start)
        app.state.on_stop.append(relay.close)
    # Waves: planned and released at their lead time before each cutoff when enabled.
    if settings.wave_auto_release:
        releaser = WaveReleaser(services.db, settings)
        app.state.wave_releaser = releaser
        app.state.on_start.append(releaser.start)
        app.state.on_stop.append(releaser.close)
    # Cycle counting: the ABC schedule makes due count tasks when enabled.
    if settings.count_schedule_enabled:
        counter = CountScheduler(services.db, settings)
        app.state.count_scheduler = counter
        app.state.on_start.append(counter.start)
        app.state.on_stop.append(counter.close)
    # EDI folders: inbound interchanges taken, our 997s/945s written out (docs/edi.md).
    if settings.edi_inbox_dir or settings.edi_outbox_dir:
        from edge_server.wms.edi_folder import EdiFolders

        edi_folders = EdiFolders(services.db, settings)
        app.state.edi_folders = edi_folders
        app.state.on_start.append(edi_folders.start)
        app.state.on_stop.append(edi_folders.close)
    if settings.oms_embedded:
        _mount_oms(app)
    # The supervisors' web page at /dashboard/ and its summary/stream API (docs/dashboard.md).
    install_dashboard(app)
    # Prometheus metrics at /metrics and per-route request counts (docs/operations.md#metrics).
    if settings.metrics_enabled:
        from edge_server.ops.metrics import install_metrics

        install_metrics(app, services.db)
    return app


def _mount_oms(app: FastAPI) -> None:
    """The OMS in this process (one-site business): its own app and database under /oms.
    A mounted app gets no lifespan of its own, so its loops start and stop with ours."""
    from edge_server.oms.app import create_oms_app

    oms_app = create_oms_app()
    app.mount("/oms", oms_app)
    app.state.oms_app = oms_app
    app.state.on_start.extend(oms_app.state.on_start)
    app.state.on_stop[:0] = oms_app.state.on_stop  # stopped after the edge's own loops
