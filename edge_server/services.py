"""The services one edge server process holds, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field

from edge_server.access.api_keys import ApiKeyService
from edge_server.access.devices import DeviceService
from edge_server.access.rate_limit import AttemptLimiter
from edge_server.access.tokens import TokenSigner
from edge_server.access.users import UserService
from edge_server.db import Database
from edge_server.meta import token_secret
from edge_server.settings import Settings


@dataclass
class Services:
    settings: Settings
    db: Database
    users: UserService = field(init=False)
    devices: DeviceService = field(init=False)
    api_keys: ApiKeyService = field(init=False)
    tokens: TokenSigner = field(init=False)
    attempts: AttemptLimiter = field(init=False)  # failed logins/pairings per client

    def __post_init__(self) -> None:
        self.users = UserService(self.db, self.settings)
        self.devices = DeviceService(self.db, self.settings)
        self.api_keys = ApiKeyService(self.db, clients=True)
        self.tokens = TokenSigner(token_secret(self.db), self.settings.token_ttl_seconds)
        self.attempts = AttemptLimiter(self.settings)


def open_services(settings: Settings) -> Services:
    db = Database(settings.db_path)
    db.migrate()
    return Services(settings=settings, db=db)
