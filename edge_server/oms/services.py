"""What one OMS process holds, built once at start-up: settings, its database, API keys."""

from __future__ import annotations

from dataclasses import dataclass, field

from edge_server.access.api_keys import ApiKeyService
from edge_server.db import Database
from edge_server.oms.migrations import oms_migrations
from edge_server.oms.settings import OmsSettings

__all__ = ["OmsServices", "open_oms_services"]


@dataclass
class OmsServices:
    settings: OmsSettings
    db: Database
    api_keys: ApiKeyService = field(init=False)

    def __post_init__(self) -> None:
        self.api_keys = ApiKeyService(self.db)


def open_oms_services(settings: OmsSettings) -> OmsServices:
    db = Database(settings.db_path)
    db.migrate(oms_migrations)
    return OmsServices(settings=settings, db=db)
