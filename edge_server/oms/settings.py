"""OMS settings (environment `AISLEWAY_OMS_*`; every field documented in docs/settings.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["OmsSettings"]


class OmsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AISLEWAY_OMS_", extra="ignore")

    db_path: Path = Field(default=Path("var/oms.db"), description="The OMS's SQLite file.")
    host: str = Field(default="127.0.0.1", description="Address `aisleway oms serve` binds.")
    port: int = Field(default=8100, description="Port `aisleway oms serve` binds.")
    relay_enabled: bool = Field(
        default=True, description="Run the webhook relay (channel pushes, events) in the OMS."
    )
    webhook_max_attempts: int = Field(
        default=12, description="Delivery attempts before an OMS webhook is marked failed."
    )
    webhook_backoff_base_seconds: float = Field(
        default=1.0, description="First retry delay of an OMS webhook; doubles (with jitter)."
    )
    webhook_backoff_max_seconds: float = Field(
        default=900.0, description="Longest delay between two OMS webhook attempts."
    )
    webhook_timeout_seconds: float = Field(
        default=5.0, description="HTTP timeout of one OMS webhook delivery."
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Allow OMS webhook targets and sites on loopback/private addresses "
        "(tests, demo, a LAN).",
    )
    log_json: bool = Field(default=True, description="Write structured (JSON) log lines.")
    log_level: str = Field(default="INFO", description="Log level.")
