"""The OMS FastAPI application: standalone (`aisleway oms serve`) in front of several sites,
or mounted at /oms inside a one-site edge server."""

from __future__ import annotations

from types import ModuleType

from fastapi import FastAPI

from edge_server.app import install_error_handlers, run_loops
from edge_server.integration.webhooks import WebhookRelay
from edge_server.oms.api import channels as channels_api
from edge_server.oms.api import health
from edge_server.oms.api import inventory as inventory_api
from edge_server.oms.api import notifications as notifications_api
from edge_server.oms.api import orders as orders_api
from edge_server.oms.api import returns as returns_api
from edge_server.oms.api import site_events as site_events_api
from edge_server.oms.api import sites as sites_api
from edge_server.oms.api import sourcing as sourcing_api
from edge_server.oms.channel_sync import ChannelSync
from edge_server.oms.mailer import Mailer
from edge_server.oms.release import SiteLoop
from edge_server.oms.services import OmsServices, open_oms_services
from edge_server.oms.settings import OmsSettings
from protocols.version import API_BASE_PATH, PROTOCOL_VERSION

__all__ = ["OMS_ROUTERS", "create_oms_app"]

#: The OMS's API routers (each module has `router`), mounted under /api/v1.
OMS_ROUTERS: list[ModuleType] = [
    notifications_api,
    orders_api,
    inventory_api,
    sites_api,
    site_events_api,
    channels_api,
    sourcing_api,
    returns_api,
]


def create_oms_app(
    settings: OmsSettings | None = None, services: OmsServices | None = None
) -> FastAPI:
    settings = settings or OmsSettings()
    services = services or open_oms_services(settings)

    app = FastAPI(
        title="Aisleway OMS",
        version=PROTOCOL_VERSION,
        description=f"Order management over the sites' edge servers. API under {API_BASE_PATH}.",
        lifespan=run_loops,
    )
    app.state.oms = services
    app.state.on_start = []
    app.state.on_stop = []
    install_error_handlers(app)
    app.include_router(health.router)
    for module in OMS_ROUTERS:
        app.include_router(module.router, prefix=API_BASE_PATH)
    if settings.relay_enabled:
        # WebhookRelay reads only the webhook_* fields, which OmsSettings shares.
        relay = WebhookRelay(services.db, settings)  # type: ignore[arg-type]
        app.state.relay = relay
        app.state.on_start.append(relay.start)
        app.state.on_stop.append(relay.close)
    if settings.channel_sync_enabled:
        channel_sync = ChannelSync(services.db, settings)
        app.state.channel_sync = channel_sync
        app.state.on_start.append(channel_sync.start)
        app.state.on_stop.append(channel_sync.close)
    if settings.site_sync_enabled:
        site_loop = SiteLoop(services)
        app.state.site_loop = site_loop
        app.state.on_start.append(site_loop.start)
        app.state.on_stop.append(site_loop.close)
    if settings.mailer_enabled:
        mailer = Mailer(services.db, settings)
        app.state.mailer = mailer
        app.state.on_start.append(mailer.start)
        app.state.on_stop.append(mailer.close)
    return app
