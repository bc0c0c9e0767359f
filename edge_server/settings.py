"""One settings object for the edge server, read from `AISLEWAY_*` environment variables.

Every field is documented in docs/settings.md (a test keeps the two in step).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AISLEWAY_", extra="ignore")

    db_path: Path = Field(default=Path("var/aisleway.db"), description="Site SQLite file.")
    site: str = Field(default="CHI", description="Site code this edge server runs.")
    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds.")
    port: int = Field(default=8000, description="Port the HTTP server binds.")
    advertise: bool = Field(default=True, description="Advertise the server with zeroconf.")
    advertise_interface: str | None = Field(
        default=None,
        description=(
            "IPv4 address of the interface zeroconf advertises on when the server binds every "
            "address (0.0.0.0); otherwise the bind address is used and this must match it."
        ),
    )
    token_ttl_seconds: int = Field(
        default=12 * 3600, description="Lifetime of a login token (one shift by default)."
    )
    pin_max_attempts: int = Field(
        default=5, description="Wrong PINs in a row before a badge is locked."
    )
    pin_lockout_seconds: int = Field(default=300, description="How long a lockout lasts.")
    pin_hash_time_cost: int = Field(default=2, description="Argon2id time cost for PIN hashes.")
    pin_hash_memory_kib: int = Field(
        default=19456, description="Argon2id memory cost (KiB) for PIN hashes."
    )
    pairing_code_ttl_seconds: int = Field(
        default=900, description="How long a handheld pairing code stays valid."
    )
    webhook_max_attempts: int = Field(
        default=12, description="Delivery attempts before a webhook is marked failed."
    )
    webhook_backoff_base_seconds: float = Field(
        default=1.0, description="First retry delay; doubles each attempt (with jitter)."
    )
    webhook_backoff_max_seconds: float = Field(
        default=900.0, description="Longest delay between two delivery attempts."
    )
    webhook_timeout_seconds: float = Field(
        default=5.0, description="HTTP timeout of one webhook delivery."
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Allow webhook subscribers on loopback/link-local addresses (tests, demo).",
    )
    count_every_nth_putaway: int = Field(
        default=0,
        ge=0,
        description=(
            "Ask for a count of a bin on every Nth putaway into it (0 = never); see "
            "docs/putaway.md."
        ),
    )
    relay_enabled: bool = Field(default=True, description="Run the webhook relay in the server.")
    receiving_over_tolerance_pct: float = Field(
        default=5.0,
        ge=0,
        description="How far (percent of the expected quantity) a PO line may be over-received "
        "before a supervisor must approve.",
    )
    receiving_blind_default: bool = Field(
        default=False,
        description="Receive blind (expected quantities never shown) unless the PO says otherwise.",
    )
    receiving_accuracy_target: float = Field(
        default=99.5, ge=0, le=100, description="Target receiving accuracy, percent of lines."
    )
    printer_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Connect and send timeout of one print job (raw TCP)."
    )
    printer_allow_loopback: bool = Field(
        default=False,
        description="Allow printers on loopback addresses (tests, an emulator on this host).",
    )
    print_max_attempts: int = Field(
        default=10, ge=1, description="Attempts before a print job is marked failed."
    )
    print_backoff_base_seconds: float = Field(
        default=5.0, gt=0, description="First print retry delay; doubles each attempt (jitter)."
    )
    print_backoff_max_seconds: float = Field(
        default=300.0, gt=0, description="Longest delay between two attempts of a print job."
    )
    print_spooler_enabled: bool = Field(
        default=True, description="Run the print spooler (sends and retries jobs) in the server."
    )
    log_json: bool = Field(default=True, description="Write structured (JSON) log lines.")
    log_level: str = Field(default="INFO", description="Log level.")
