"""What one OMS process holds, built once at start-up: settings, its database, API keys."""

from __future__ import annotations

from dataclasses import dataclass, field

from edge_server.access.api_keys import ApiKeyService
from edge_server.db import Database
from edge_server.oms.backorders import register_with_site_events
from edge_server.oms.migrations import oms_migrations
from edge_server.oms.reservations import Chooser, most_atp_first
from edge_server.oms.settings import OmsSettings
from edge_server.oms.sourcing_adapter import make_chooser, register_with_release

__all__ = ["OmsServices", "open_oms_services"]


@dataclass
class OmsServices:
    settings: OmsSettings
    db: Database
    api_keys: ApiKeyService = field(init=False)
    #: Which site(s) reserve an order's lines (reservations.Chooser); sourcing sets a better one.
    choose_sites: Chooser = field(default=most_atp_first)

    def __post_init__(self) -> None:
        self.api_keys = ApiKeyService(self.db)


def open_oms_services(settings: OmsSettings) -> OmsServices:
    db = Database(settings.db_path)
    db.migrate(oms_migrations)
    register_with_site_events()  # stock arriving at a site fills backorders, oldest first
    register_with_release()  # fulfillment orders name the carrier service sourcing chose
    # Cost-based sourcing (docs/sourcing.md#wiring); falls back to most-ATP without its data.
    return OmsServices(settings=settings, db=db, choose_sites=make_chooser(db))
