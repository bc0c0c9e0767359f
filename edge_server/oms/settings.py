"""OMS settings (environment `AISLEWAY_OMS_*`; every field documented in docs/settings.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
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
    # -- customer e-mails (docs/oms-notifications.md) --
    mailer_enabled: bool = Field(
        default=False, description="Run the mailer (customer e-mails over SMTP) in the OMS."
    )
    smtp_host: str = Field(default="127.0.0.1", description="SMTP server (relay) host.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP server port.")
    smtp_user: str = Field(default="", description="SMTP login user; empty: no login.")
    smtp_password: SecretStr = Field(default=SecretStr(""), description="SMTP login password.")
    smtp_starttls: bool = Field(default=False, description="Upgrade with STARTTLS after EHLO.")
    smtp_ssl: bool = Field(default=False, description="Implicit TLS from the start (port 465).")
    smtp_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Timeout of each SMTP network operation."
    )
    mail_from: str = Field(
        default="orders@example.com", description="The From: address of customer e-mails."
    )
    mail_max_attempts: int = Field(
        default=12, ge=1, description="Send attempts before a customer e-mail is marked failed."
    )
    mail_backoff_base_seconds: float = Field(
        default=30.0, ge=0, description="First retry delay of an e-mail; doubles (with jitter)."
    )
    mail_backoff_max_seconds: float = Field(
        default=3600.0, ge=0, description="Longest delay between two attempts of an e-mail."
    )
    mail_claim_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How long an attempt holds an e-mail; after a crash it is resent then.",
    )
    # -- channel inventory sync (docs/oms-channels.md) --
    channel_sync_enabled: bool = Field(
        default=True, description="Run the channel inventory sync loop (debounced pushes)."
    )
    channel_debounce_seconds: float = Field(
        default=0.15,
        ge=0,
        le=0.9,
        description="Changes of one SKU within this window become one push (latest value).",
    )
    channel_reconcile_interval_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="Push every channel its full published list this often; 0: only on request.",
    )
    # -- site integration: events, release, reconciliation (docs/oms-sites.md) --
    public_url: str = Field(
        default="",
        description="The OMS's base URL as the sites reach it (their webhooks' target).",
    )
    site_sync_enabled: bool = Field(
        default=True, description="Run the site loop (release retries, auto-release, reconcile)."
    )
    site_poll_seconds: float = Field(
        default=5.0, gt=0, description="How often the site loop looks for releases to send."
    )
    site_reconcile_seconds: float = Field(
        default=300.0, ge=0, description="Pull each site's stock snapshot this often; 0: never."
    )
    site_timeout_seconds: float = Field(
        default=10.0, gt=0, description="HTTP timeout of one call to a site's edge server."
    )
    release_retry_max_seconds: float = Field(
        default=300.0, gt=0, description="Longest wait between two attempts of a release."
    )
    auto_release: bool = Field(
        default=True,
        description="Release a fully reserved order to its sites once payment is authorized.",
    )
    log_json: bool = Field(default=True, description="Write structured (JSON) log lines.")
    log_level: str = Field(default="INFO", description="Log level.")

    @model_validator(mode="after")
    def _one_tls_mode(self) -> OmsSettings:
        if self.smtp_ssl and self.smtp_starttls:
            raise ValueError("choose smtp_ssl (implicit TLS) or smtp_starttls, not both")
        return self
