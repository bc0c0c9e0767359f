"""One settings object for the edge server, read from `AISLEWAY_*` environment variables.

Every field is documented in docs/settings.md (a test keeps the two in step).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import Field, field_validator
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
    auth_rate_window_seconds: float = Field(
        default=300.0,
        gt=0,
        description="Sliding window for counting failed logins and pairings per client.",
    )
    auth_rate_max_per_address: int = Field(
        default=20,
        ge=1,
        description="Failed logins + pairings from one remote address within the window "
        "before that address gets 429 TOO_MANY_ATTEMPTS; see docs/security.md.",
    )
    auth_rate_max_per_device: int = Field(
        default=10,
        ge=1,
        description="Failed logins from one paired handheld within the window before it gets "
        "429 TOO_MANY_ATTEMPTS.",
    )
    tls_cert_file: Path | None = Field(
        default=None,
        description="Server certificate (PEM) to serve HTTPS; with tls_key_file. See "
        "docs/security.md (`aisleway edge tls init`).",
    )
    tls_key_file: Path | None = Field(
        default=None, description="Private key (PEM) of tls_cert_file."
    )
    tls_ca_file: Path | None = Field(
        default=None,
        description="The local CA certificate (PEM) whose fingerprint pairing hands to "
        "handhelds; default: ca.pem next to tls_cert_file.",
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
    labor_idle_gap_seconds: float = Field(
        default=300.0,
        gt=0,
        description="A gap between two scans of one task longer than this counts as idle time, "
        "not travel or handling; see docs/labor.md.",
    )
    labor_shifts: str = Field(
        default="early=06:00-14:00,late=14:00-22:00,night=22:00-06:00",
        description="The site's shifts for labor rates, `name=HH:MM-HH:MM` comma-separated, in "
        "site-local time (site_timezone); a shift may cross midnight. See docs/labor.md.",
    )
    oms_embedded: bool = Field(
        default=False,
        description="Run the OMS module inside this edge server's process (a one-site "
        "business), mounted at /oms with its own database (AISLEWAY_OMS_* settings).",
    )
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
    # -- waves and pick strategies (docs/waves.md) ------------------------------------------
    site_timezone: str = Field(
        default="UTC",
        description="IANA time zone of the site (e.g. America/Chicago); carrier cutoffs are "
        "site-local times in it.",
    )
    wave_max_orders: int = Field(default=50, ge=1, description="Most orders in one wave.")
    wave_release_lead_minutes: int = Field(
        default=120,
        ge=0,
        description="A wave is due for release this many minutes before its carrier cutoff.",
    )
    wave_ship_partial: bool = Field(
        default=False,
        description="Also wave backordered orders that hold some allocation (ship what is "
        "there); otherwise only fully allocated orders are waved.",
    )
    wave_auto_release: bool = Field(
        default=True,
        description="Plan and release due waves automatically in the server (a background "
        "loop); otherwise a supervisor releases them.",
    )
    wave_release_poll_seconds: float = Field(
        default=60.0, gt=0, description="How often the automatic wave release looks for work."
    )
    wave_at_risk_minutes: int = Field(
        default=30,
        ge=0,
        description="A wave with unfinished picking this close to its cutoff is flagged at risk.",
    )
    pick_discrete_item_cube_cm3: float = Field(
        default=30000.0,
        gt=0,
        description="An order with an item at least this big (L x W x H, cm3) is picked "
        "discretely (one order per trip).",
    )
    pick_discrete_min_units: int = Field(
        default=20, ge=1, description="An order of at least this many units is picked discretely."
    )
    pick_tote_volume_cm3: float = Field(
        default=40000.0,
        gt=0,
        description="Usable volume of one tote; an order bigger than one tote is picked "
        "discretely.",
    )
    pick_zone_min_zones: int = Field(
        default=3, ge=2, description="Zone picking needs allocations in at least this many zones."
    )
    pick_zone_min_lines: int = Field(
        default=8, ge=1, description="Zone picking needs at least this many order lines."
    )
    pick_fast_movers_batch: bool = Field(
        default=True,
        description="Orders of A-velocity items only are batched even when they would "
        "qualify for zone picking.",
    )
    pick_cart_totes: int = Field(
        default=8, ge=1, description="Totes on a picking cart: most orders in one batch."
    )
    # -- packing and shipping (docs/packing.md) ----------------------------------------------
    gs1_company_prefix: str = Field(
        default="0614141",
        pattern=r"^[0-9]{6,12}$",
        description="The site's GS1 company prefix (6-12 digits) for carton SSCCs; the default "
        "is GS1's example prefix: set your own.",
    )
    # -- cycle counting (docs/counting.md) -----------------------------------------------------
    count_tolerance_units: int = Field(
        default=0,
        ge=0,
        description="A count differing from the books by at most this many units is within "
        "tolerance (0 = any difference needs a recount).",
    )
    count_tolerance_pct: float = Field(
        default=0.0,
        ge=0,
        description="A count differing by at most this percent of the book quantity is within "
        "tolerance (0 = off).",
    )
    count_tolerance_value: Decimal | None = Field(
        default=None,
        ge=0,
        description="A difference worth more than this (units x unit cost) is beyond tolerance "
        "whatever its quantity; unset = no value check.",
    )
    count_approval_value: Decimal = Field(
        default=Decimal("250.00"),
        ge=0,
        description="An adjustment worth more than this waits for a supervisor's approval.",
    )
    count_interval_a_days: int = Field(
        default=30, ge=1, description="Count bins of A items every this many days."
    )
    count_interval_b_days: int = Field(
        default=90, ge=1, description="Count bins of B items every this many days."
    )
    count_interval_c_days: int = Field(
        default=365, ge=1, description="Count bins of C items every this many days."
    )
    count_low_remaining_threshold: int = Field(
        default=2,
        ge=0,
        description="A pick leaving this many units or fewer of the item in the bin asks the "
        "picker to count what remains (0 = only when the bin is empty of it).",
    )
    count_schedule_enabled: bool = Field(
        default=True, description="Make due scheduled count tasks in the server (a loop)."
    )
    count_schedule_poll_seconds: float = Field(
        default=3600.0, gt=0, description="How often the count schedule looks for due counts."
    )
    # -- operations report and payback estimate (docs/reports.md) --------------------------------
    report_labor_cost_per_hour: Decimal = Field(
        default=Decimal("22.00"), ge=0, description="What one labor hour costs (loaded wage)."
    )
    report_cost_per_error: Decimal = Field(
        default=Decimal("45.00"),
        ge=0,
        description="What one wrong item shipped costs (return, reshipment, goodwill).",
    )
    report_system_cost: Decimal = Field(
        default=Decimal("60000"), ge=0, description="One-off cost of the system, for payback."
    )
    report_monthly_running_cost: Decimal = Field(
        default=Decimal("500.00"),
        ge=0,
        description="What running the system costs per month (hosting, support, licences).",
    )
    report_baseline_error_rate_pct: float = Field(
        default=2.0,
        ge=0,
        le=100,
        description="Wrong items per 100 shipments a site without the system would ship.",
    )
    report_baseline_labor_hours_factor: float = Field(
        default=1.3,
        gt=0,
        description="Labor hours a site without the system would need per hour measured here.",
    )
    log_json: bool = Field(default=True, description="Write structured (JSON) log lines.")
    log_level: str = Field(default="INFO", description="Log level.")
    metrics_enabled: bool = Field(
        default=True, description="Serve Prometheus metrics at GET /metrics (docs/operations.md)."
    )
    metrics_token: str | None = Field(
        default=None,
        description="When set, GET /metrics requires 'Authorization: Bearer <this token>'.",
    )
    opentelemetry: bool = Field(
        default=False,
        description="FastAPI's native OpenTelemetry hooks (spans, metrics, logs through the "
        "globally configured OTel providers); off: no per-request telemetry checks.",
    )
    edi_inbox_dir: str | None = Field(
        default=None,
        description="Watched folder for inbound X12 interchanges (docs/edi.md); None: off.",
    )
    edi_outbox_dir: str | None = Field(
        default=None,
        description="Folder our outbound 997s and 945s are written to; None: API only.",
    )
    edi_poll_seconds: float = Field(
        default=30.0, gt=0, description="How often the EDI folders are looked at."
    )

    @field_validator("site_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("labor_shifts")
    @classmethod
    def _valid_shifts(cls, value: str) -> str:
        from edge_server.wms.labor.shifts import parse_shifts

        parse_shifts(value)  # ValueError says what is wrong
        return value
