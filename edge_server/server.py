"""`aisleway edge serve`: run one site's edge server under uvicorn, advertised with zeroconf.

Order of events (docs/serving.md):
start: logging → database (migrations) → app lifespan start hooks → bind → "listening" line →
zeroconf registration in the background.
stop (Ctrl-C / SIGTERM): withdraw the zeroconf service first, so terminals stop choosing this
server → stop accepting, let open requests finish (at most GRACEFUL_SHUTDOWN_SECONDS) → app
lifespan stop hooks → close the database → "stopped" line → exit status 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import uvicorn

from edge_server.app import create_app
from edge_server.discovery import AdvertiseError, Advertiser
from edge_server.logging_setup import configure_logging
from edge_server.services import Services
from edge_server.settings import Settings

__all__ = ["GRACEFUL_SHUTDOWN_SECONDS", "serve"]

log = logging.getLogger("aisleway.edge.server")

#: How long open requests (a dashboard's event stream, a slow upload) may run after a stop
#: signal before they are cancelled.
GRACEFUL_SHUTDOWN_SECONDS = 5

#: Exit status when the configuration or the start-up is refused (bad advertise settings,
#: port in use, a failing start hook).
EXIT_START_FAILED = 2


class _EdgeUvicorn(uvicorn.Server):
    """uvicorn's server, plus: log where we listen, and advertise only while we listen."""

    def __init__(self, config: uvicorn.Config, settings: Settings, advertiser: Advertiser | None):
        super().__init__(config)
        self._settings = settings
        self._advertiser = advertiser
        self._advertising: asyncio.Task[None] | None = None

    def bound_port(self) -> int:
        for server in self.servers:
            for sock in server.sockets:
                if sock.family in (socket.AF_INET, socket.AF_INET6):
                    return int(sock.getsockname()[1])
        return self.config.port

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        port = self.bound_port()
        host = self._settings.host
        shown = f"[{host}]" if ":" in host else host
        scheme = "https" if self._settings.tls_cert_file else "http"
        log.info(
            f"edge server for site {self._settings.site} listening on {scheme}://{shown}:{port}",
            extra={"site": self._settings.site, "host": host, "port": port},
        )
        if self._advertiser is not None:
            # Registration probes the LAN for ~2 s; the server answers meanwhile.
            self._advertising = asyncio.create_task(self._advertise(self._advertiser, port))

    async def _advertise(self, advertiser: Advertiser, port: int) -> None:
        try:
            await asyncio.to_thread(advertiser.start, port)
        except Exception:
            # The server stays useful without discovery: terminals can type the URL.
            log.exception("zeroconf advertising failed; terminals must use the server's URL")

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._advertiser is not None:
            if self._advertising is not None:
                await self._advertising  # a registration in progress finishes first
            await asyncio.to_thread(self._advertiser.stop)
        await super().shutdown(sockets)


@contextmanager
def _stop_signals_to(server: uvicorn.Server) -> Iterator[list[int]]:
    """Turn SIGINT/SIGTERM into a graceful stop of `server`, for the life of the block.

    uvicorn installs its own handlers while it runs, then re-raises the signal it got so that
    the default action (KeyboardInterrupt, or death by SIGTERM) follows its graceful stop. We
    have stopped cleanly by then and want to return 0, so the re-raised signal lands here. A
    signal that comes before uvicorn's handlers are in place also lands here, and stops it.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def record(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        server.handle_exit(signum, frame)

    previous = {sig: signal.signal(sig, record) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _tls_problem(settings: Settings) -> str | None:
    """Why the TLS settings cannot work, or None (also None when TLS is off)."""
    from edge_server.access.tls import ca_file_for

    cert, key = settings.tls_cert_file, settings.tls_key_file
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        return "set both AISLEWAY_TLS_CERT_FILE and AISLEWAY_TLS_KEY_FILE, or neither"
    for path in (cert, key, ca_file_for(settings)):
        if path is not None and not path.is_file():
            return f"TLS file {path} not found (make them with `aisleway edge tls init`)"
    return None


def serve(settings: Settings) -> int:
    """Run the edge server until Ctrl-C or SIGTERM; return the process exit status."""
    configure_logging(settings.log_level, settings.log_json)
    advertiser: Advertiser | None = None
    if settings.advertise:
        try:
            advertiser = Advertiser(settings)
        except AdvertiseError as exc:
            log.error(f"not starting: {exc}", extra={"site": settings.site})
            return EXIT_START_FAILED

    tls_problem = _tls_problem(settings)
    if tls_problem:
        log.error(f"not starting: {tls_problem}", extra={"site": settings.site})
        return EXIT_START_FAILED
    app = create_app(settings)
    services: Services = app.state.services
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,  # our JSON handler on the root logger formats uvicorn's lines too
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        # HTTPS when both are set (docs/security.md#tls-and-pinning)
        ssl_certfile=str(settings.tls_cert_file) if settings.tls_cert_file else None,
        ssl_keyfile=str(settings.tls_key_file) if settings.tls_key_file else None,
    )
    server = _EdgeUvicorn(config, settings, advertiser)
    try:
        with _stop_signals_to(server) as received:
            server.run()
    except SystemExit:
        # uvicorn exits on a start-up failure (port in use, start hook failed), already logged.
        log.error("edge server did not start", extra={"site": settings.site})
        return EXIT_START_FAILED
    finally:
        if advertiser is not None:
            advertiser.stop()  # no-op unless shutdown never ran (stopped during start-up)
        services.db.close()

    names = [signal.Signals(s).name for s in received]
    log.info(
        f"edge server for site {settings.site} stopped",
        extra={"site": settings.site, "signal": names[0] if names else None},
    )
    return 0
