"""Sourcing wired into reservation: the data the engine needs, kept in the OMS database, and
the `Chooser` that runs the engine at intake (and when backorders are filled).

- Per site (`site_sourcing`, set by an administrator): handling per order and per line, daily
  order capacity, time zone. Per site and service (`site_carrier_services`): the carrier
  service with its cutoff, ship days and rate card, as the site's edge reports it in
  `carrier_service.changed` (`upsert_site_carrier_service`). Per SKU (`items`): unit weight.
- `make_chooser(db, ...)` returns the Chooser for `OmsServices.choose_sites`. It runs inside
  the reservation's write transaction (it reads through `db.write()`, which joins it: the
  capacity count sees the orders reserved earlier in the same transaction), builds a
  `SiteOffer` per site holding something the order needs, calls `sourcing.choose_sites`, and
  stores the decision (`order_sourcing`), so `GET /orders/{number}/sourcing` says why.
- When the engine cannot decide — a site with stock has no carrier service on record, a SKU
  has no weight, or no plan covers the order (stock short, no capacity, a promise no site can
  keep) — it falls back to the most-ATP chooser and the stored explanation says so.

See docs/sourcing.md#wiring.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.oms.reservations import Allocations, Chooser, ReservationRequest, most_atp_first
from edge_server.oms.sites import site_id
from edge_server.oms.sourcing import (
    Decision,
    Destination,
    OrderLine,
    Plan,
    ServiceOffer,
    SiteOffer,
    SourcingRequest,
    choose_sites,
)
from edge_server.timeutil import iso, utcnow
from edge_server.wms.purchase_orders import Source, fetch_rows
from protocols.errors import ErrorCode
from protocols.rates import SERVICE_CODE_PATTERN, CarrierServiceIn, RateCard

__all__ = [
    "ItemIn",
    "ItemsIn",
    "SiteSourcingIn",
    "SourcingSettingsIn",
    "carrier_service_for",
    "chooser_in",
    "make_chooser",
    "order_sourcing",
    "put_item",
    "put_site_sourcing",
    "put_sourcing_settings",
    "register_with_release",
    "site_sourcing_view",
    "sourcing_settings_view",
    "upsert_site_carrier_service",
]


# -- what an administrator sets ----------------------------------------------------------------
class SiteSourcingIn(BaseModel):
    """`PUT /sites/{code}/sourcing`: a site's handling costs, daily capacity and time zone."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    handling_per_order: Decimal = Field(default=Decimal(0), ge=0, le=100_000, decimal_places=4)
    handling_per_line: Decimal = Field(default=Decimal(0), ge=0, le=100_000, decimal_places=4)
    daily_capacity: int | None = Field(
        default=None, ge=0, le=10_000_000, description="Orders a day; null: no limit."
    )
    timezone: str = Field(default="UTC", min_length=1, max_length=64)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise PydanticCustomError(
                "timezone_unknown",
                "time zone '{zone}' is not an IANA name such as America/Chicago.",
                {"zone": value},
            ) from exc
        return value


class ItemIn(BaseModel):
    """`PUT /items/{sku}`: one SKU's unit weight."""

    model_config = ConfigDict(extra="forbid")

    weight_kg: Decimal = Field(ge=0, le=100_000, decimal_places=3)


class ItemWeight(ItemIn):
    sku: str = Field(min_length=1, max_length=64, pattern=r"^\S+$")


class ItemsIn(BaseModel):
    """`POST /items`: many SKUs' weights at once (a catalogue snapshot)."""

    model_config = ConfigDict(extra="forbid")

    items: list[ItemWeight] = Field(min_length=1, max_length=50_000)

    @field_validator("items")
    @classmethod
    def _unique(cls, value: list[ItemWeight]) -> list[ItemWeight]:
        seen: set[str] = set()
        for item in value:
            if item.sku in seen:
                raise PydanticCustomError(
                    "sku_duplicate", "SKU {sku} appears twice.", {"sku": item.sku}
                )
            seen.add(item.sku)
        return value


class SourcingSettingsIn(BaseModel):
    """`PUT /sourcing/settings`: how sourcing weighs a split shipment."""

    model_config = ConfigDict(extra="forbid")

    split_penalty: Decimal = Field(
        ge=0,
        le=100_000,
        decimal_places=4,
        description="Added for each shipment beyond the first, in the order's currency.",
    )
    max_sites: int = Field(default=3, ge=1, le=10, description="Most sites one order ships from.")


Outcome = Literal["created", "updated", "unchanged"]


def _settings(src: Source) -> tuple[Decimal, int]:
    row = fetch_rows(src, "SELECT split_penalty, max_sites FROM sourcing_settings WHERE id = 1")[0]
    return Decimal(row["split_penalty"]), int(row["max_sites"])


def sourcing_settings_view(src: Source) -> dict[str, Any]:
    penalty, max_sites = _settings(src)
    return {"split_penalty": str(penalty), "max_sites": max_sites}


def put_sourcing_settings(
    w: SUDatabase, body: SourcingSettingsIn
) -> Literal["updated", "unchanged"]:
    if _settings(w) == (body.split_penalty, body.max_sites):
        return "unchanged"
    w.execute(
        "UPDATE sourcing_settings SET split_penalty = ?, max_sites = ?, updated_at = ? "
        "WHERE id = 1",
        [str(body.split_penalty), body.max_sites, iso()],
    )
    return "updated"


def put_site_sourcing(w: SUDatabase, site: str, body: SiteSourcingIn) -> Outcome:
    """Set site `site`'s handling costs, capacity and time zone (UNKNOWN_SITE if unknown)."""
    sid = site_id(w, site)
    values = [
        str(body.handling_per_order),
        str(body.handling_per_line),
        body.daily_capacity,
        body.timezone,
    ]
    row = fetch_rows(
        w,
        "SELECT handling_per_order, handling_per_line, daily_capacity, timezone "
        "FROM site_sourcing WHERE site_id = ?",
        [sid],
    )
    if row and list(row[0].values()) == values:
        return "unchanged"
    w.execute(
        "INSERT INTO site_sourcing (site_id, handling_per_order, handling_per_line, "
        "daily_capacity, timezone, updated_at) VALUES (?,?,?,?,?,?) "
        "ON CONFLICT (site_id) DO UPDATE SET handling_per_order = excluded.handling_per_order, "
        "handling_per_line = excluded.handling_per_line, "
        "daily_capacity = excluded.daily_capacity, timezone = excluded.timezone, "
        "updated_at = excluded.updated_at",
        [sid, *values, iso()],
    )
    return "updated" if row else "created"


def put_item(w: SUDatabase, sku: str, weight_kg: Decimal) -> Outcome:
    """Record the unit weight of `sku` (kg)."""
    row = fetch_rows(w, "SELECT weight_kg FROM items WHERE sku = ?", [sku])
    if row and Decimal(row[0]["weight_kg"]) == weight_kg:
        return "unchanged"
    w.execute(
        "INSERT INTO items (sku, weight_kg, updated_at) VALUES (?,?,?) ON CONFLICT (sku) "
        "DO UPDATE SET weight_kg = excluded.weight_kg, updated_at = excluded.updated_at",
        [sku, str(weight_kg), iso()],
    )
    return "updated" if row else "created"


# -- what the sites report -----------------------------------------------------------------------
class _ServiceEvent(CarrierServiceIn):
    """The `service` of a site's `carrier_service.changed` event (docs/webhooks.md)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)

    code: str = Field(pattern=SERVICE_CODE_PATTERN)
    updated_at: datetime


def upsert_site_carrier_service(
    w: SUDatabase, site: str, payload: Mapping[str, Any]
) -> Literal["created", "updated", "unchanged", "stale"]:
    """Store a carrier service of `site` from its `carrier_service.changed` event: `payload` is
    the event's payload (`{"site", "outcome", "service": {...}}`) or the service itself
    (`code`, `carrier`, `name`, `cutoff_local`, `ship_days`, `active`, `rate_card`,
    `updated_at`). A service older than the one stored is ignored (`stale`). UNKNOWN_SITE for
    an unknown site; VALIDATION_FAILED (nothing stored) for a malformed service."""
    sid = site_id(w, site)
    raw = payload.get("service", payload)
    try:
        svc = _ServiceEvent.model_validate(raw)
    except ValidationError as exc:
        raise AislewayError(
            ErrorCode.VALIDATION_FAILED,
            details={
                "errors": [
                    {"field": ".".join(str(p) for p in e["loc"]), "reason": e["msg"]}
                    for e in exc.errors()[:20]
                ]
            },
        ) from exc
    if svc.updated_at.tzinfo is None:
        raise AislewayError(
            ErrorCode.VALIDATION_FAILED,
            details={"errors": [{"field": "updated_at", "reason": "needs a time zone"}]},
        )
    stamp = iso(svc.updated_at.astimezone(UTC))
    card = json.dumps(svc.rate_card.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    values = [svc.carrier, svc.name, svc.cutoff_local, svc.ship_days, card, int(svc.active)]
    row = fetch_rows(
        w,
        "SELECT carrier, name, cutoff_local, ship_days, rate_card_json, active, updated_at "
        "FROM site_carrier_services WHERE site_id = ? AND code = ?",
        [sid, svc.code],
    )
    if row:
        if row[0]["updated_at"] > stamp:
            return "stale"
        if [row[0][k] for k in list(row[0])[:6]] == values:
            return "unchanged"
    w.execute(
        "INSERT INTO site_carrier_services (site_id, code, carrier, name, cutoff_local, "
        "ship_days, rate_card_json, active, updated_at, received_at) VALUES (?,?,?,?,?,?,?,?,?,?) "
        "ON CONFLICT (site_id, code) DO UPDATE SET carrier = excluded.carrier, "
        "name = excluded.name, cutoff_local = excluded.cutoff_local, "
        "ship_days = excluded.ship_days, rate_card_json = excluded.rate_card_json, "
        "active = excluded.active, updated_at = excluded.updated_at, "
        "received_at = excluded.received_at",
        [sid, svc.code, *values, stamp, iso()],
    )
    return "updated" if row else "created"


# -- reading -------------------------------------------------------------------------------------
def _day_start(now: datetime, timezone: str) -> str:
    """Midnight of `now`'s date at the site, as stored UTC text (comparable with iso())."""
    tz = ZoneInfo(timezone)
    local = now.astimezone(tz).date()
    return iso(datetime.combine(local, time(0), tzinfo=tz).astimezone(UTC))


def _orders_today(src: Source, sid: int, day_start: str, *, besides: int = 0) -> int:
    """Orders held or released at the site since its midnight (not counting order `besides`):
    what counts against its daily capacity."""
    return int(
        fetch_rows(
            src,
            "SELECT COUNT(DISTINCT order_id) AS n FROM reservations WHERE site_id = ? "
            "AND order_id != ? AND ((status = 'held' AND created_at >= ?) "
            "OR (status = 'released' AND released_at >= ?))",
            [sid, besides, day_start, day_start],
        )[0]["n"]
    )


def site_sourcing_view(src: Source, site: str, *, now: datetime | None = None) -> dict[str, Any]:
    """A site's sourcing data: handling, capacity (and orders counted today), time zone, and
    the carrier services on record (rate cards included)."""
    sid = site_id(src, site)
    rows = fetch_rows(src, "SELECT * FROM site_sourcing WHERE site_id = ?", [sid])
    cfg = rows[0] if rows else None
    timezone = cfg["timezone"] if cfg else "UTC"
    used = _orders_today(src, sid, _day_start(now or utcnow(), timezone))
    services = [
        {
            "code": r["code"],
            "carrier": r["carrier"],
            "name": r["name"],
            "cutoff_local": r["cutoff_local"],
            "ship_days": r["ship_days"],
            "active": bool(r["active"]),
            "rate_card": json.loads(r["rate_card_json"]),
            "updated_at": r["updated_at"],
        }
        for r in fetch_rows(
            src, "SELECT * FROM site_carrier_services WHERE site_id = ? ORDER BY code", [sid]
        )
    ]
    return {
        "site": site,
        "configured": cfg is not None,
        "handling_per_order": cfg["handling_per_order"] if cfg else "0",
        "handling_per_line": cfg["handling_per_line"] if cfg else "0",
        "daily_capacity": cfg["daily_capacity"] if cfg else None,
        "orders_today": used,
        "timezone": timezone,
        "carrier_services": services,
    }


def order_sourcing(src: Source, order_id: int) -> list[dict[str, Any]]:
    """Every sourcing decision taken for an order, oldest first."""
    return [
        {"at": r["at"], **json.loads(r["decision_json"])}
        for r in fetch_rows(
            src,
            "SELECT at, decision_json FROM order_sourcing WHERE order_id = ? ORDER BY id",
            [order_id],
        )
    ]


def carrier_service_for(w: Source, order_id: int, site: str) -> str | None:
    """The carrier service the order's latest sourcing decision chose for its shipment from
    `site` (release sends it on the fulfillment order); None: no decision names one (a
    fallback, or the site was not in the plan)."""
    for r in fetch_rows(
        w,
        "SELECT decision_json FROM order_sourcing WHERE order_id = ? ORDER BY id DESC",
        [order_id],
    ):
        plan = json.loads(r["decision_json"]).get("plan") or {}
        for shipment in plan.get("shipments", []):
            if shipment["site"] == site:
                return str(shipment["service"])
    return None


def register_with_release() -> bool:
    """Let release name the carrier service sourcing chose (`release.carrier_service_resolvers`;
    imported late: release imports the services, which import this module)."""
    try:
        module = importlib.import_module("edge_server.oms.release")
    except ImportError:
        return False
    resolvers = getattr(module, "carrier_service_resolvers", None)
    if not isinstance(resolvers, list):
        return False
    if carrier_service_for not in resolvers:
        resolvers.append(carrier_service_for)
    return True


# -- the chooser ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Loaded:
    order_id: int
    currency: str
    promised_by: date | None
    offers: list[SiteOffer]
    weights: dict[str, Decimal]
    missing: list[str]  # why the engine cannot decide (empty: it can)


def _load(w: SUDatabase, request: ReservationRequest, now: datetime) -> _Loaded:
    order = fetch_rows(
        w, "SELECT id, currency, promised_date FROM orders WHERE number = ?", [request.order_number]
    )[0]
    missing: list[str] = []
    weights: dict[str, Decimal] = {}
    skus = sorted(request.needs)
    marks = ",".join("?" * len(skus))
    for r in fetch_rows(w, f"SELECT sku, weight_kg FROM items WHERE sku IN ({marks})", skus):
        weights[r["sku"]] = Decimal(r["weight_kg"])
    unweighed = [s for s in skus if s not in weights]
    if unweighed:
        missing.append(
            "no weight for " + ", ".join(unweighed[:5]) + ("…" if len(unweighed) > 5 else "")
        )
    codes = sorted({site for sku in skus for site in request.atp.get(sku, {})})
    offers: list[SiteOffer] = []
    for code in codes:
        sid = site_id(w, code)
        cfg_rows = fetch_rows(w, "SELECT * FROM site_sourcing WHERE site_id = ?", [sid])
        cfg = cfg_rows[0] if cfg_rows else None
        services: list[ServiceOffer] = []
        for r in fetch_rows(
            w,
            "SELECT code, cutoff_local, ship_days, rate_card_json FROM site_carrier_services "
            "WHERE site_id = ? AND active = 1 ORDER BY code",
            [sid],
        ):
            try:
                card = RateCard.model_validate_json(r["rate_card_json"])
            except ValidationError:
                continue  # stored validated; a card the model no longer accepts is unusable
            services.append(ServiceOffer(r["code"], card, r["cutoff_local"], r["ship_days"]))
        if not services:
            missing.append(f"no rate card on record for {code}")
            continue
        timezone = cfg["timezone"] if cfg else "UTC"
        capacity_left: int | None = None
        if cfg is not None and cfg["daily_capacity"] is not None:
            used = _orders_today(w, sid, _day_start(now, timezone), besides=order["id"])
            capacity_left = int(cfg["daily_capacity"]) - used
        offers.append(
            SiteOffer(
                code=code,
                services=services,
                stock={
                    sku: request.atp[sku][code] for sku in skus if code in request.atp.get(sku, {})
                },
                handling_per_order=Decimal(cfg["handling_per_order"]) if cfg else Decimal(0),
                handling_per_line=Decimal(cfg["handling_per_line"]) if cfg else Decimal(0),
                capacity_left=capacity_left,
                timezone=timezone,
            )
        )
    promised = date.fromisoformat(order["promised_date"]) if order["promised_date"] else None
    return _Loaded(order["id"], order["currency"], promised, offers, weights, missing)


def _plan_out(plan: Plan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    return {
        "sites": sorted(plan.sites),
        "total": str(plan.total.quantize(Decimal("0.01"))),
        "shipments": [
            {
                "site": s.site,
                "items": s.items,
                "weight_kg": str(s.weight_kg),
                "service": s.service,
                "zone": s.zone,
                "ship_at": iso(s.ship_at),
                "delivery_date": s.delivery_date.isoformat() if s.delivery_date else None,
                **plan.breakdown()[s.site],
            }
            for s in plan.shipments
        ],
    }


def _describe(allocations: Allocations) -> str:
    if not allocations:
        return "nothing in stock to reserve"
    parts = [
        f"{qty} {sku} at {site}"
        for sku, chunks in sorted(allocations.items())
        for site, qty in chunks
    ]
    more = f" and {len(parts) - 10} more" if len(parts) > 10 else ""
    return "reserved " + ", ".join(parts[:10]) + more


def _store(
    w: SUDatabase,
    order_id: int,
    method: str,
    explanation: str,
    request: ReservationRequest,
    allocations: Allocations,
    decision: Decision | None,
    fallback: str | None,
) -> None:
    record = {
        "method": method,
        "explanation": explanation,
        "fallback_reason": fallback,
        "needs": dict(sorted(request.needs.items())),
        "allocations": {
            sku: [list(c) for c in chunks] for sku, chunks in sorted(allocations.items())
        },
        "plan": _plan_out(decision.plan) if decision else None,
        "alternative": _plan_out(decision.alternative) if decision else None,
        "excluded": dict(decision.excluded) if decision else {},
        "problems": list(decision.problems) if decision else [],
        "optimal": decision.optimal if decision else False,
        "nodes": decision.nodes if decision else 0,
    }
    w.execute(
        "INSERT INTO order_sourcing (order_id, at, method, explanation, decision_json) "
        "VALUES (?,?,?,?,?)",
        [order_id, iso(), method, explanation, json.dumps(record, separators=(",", ":"))],
    )


def make_chooser(db: Database, *, clock: Callable[[], datetime] = utcnow) -> Chooser:
    """The cost-based Chooser for `OmsServices.choose_sites` (see the module docstring).
    `clock` gives "now" (capacity day, carrier cutoffs, promised dates)."""

    def choose(request: ReservationRequest) -> Allocations:
        # Nested db.write() joins the caller's reservation transaction (a savepoint on the
        # one write connection): what this order's intake or backorder fill reserved before
        # this call is visible, which a read connection would not see.
        with db.write() as w:
            return _choose(w, request, clock())

    return choose


def chooser_in(w: SUDatabase, *, clock: Callable[[], datetime] = utcnow) -> Chooser:
    """The same Chooser bound to an open write transaction `w` (for code that holds `w` but
    not the Database, such as the site-event hooks)."""
    return lambda request: _choose(w, request, clock())


def _choose(w: SUDatabase, request: ReservationRequest, now: datetime) -> Allocations:
    loaded = _load(w, request, now)
    split_penalty, max_sites = _settings(w)
    decision: Decision | None = None
    reason: str | None = None
    short = 0
    if loaded.missing:
        reason = "; ".join(loaded.missing)
    elif not loaded.offers:
        reason = "no site has any of it in stock"
    else:
        # Stock short in total: source what the sites hold; the rest is backordered.
        held = {
            sku: min(need, sum(o.stock.get(sku, 0) for o in loaded.offers))
            for sku, need in request.needs.items()
        }
        short = sum(request.needs.values()) - sum(held.values())
        dest = request.ship_to
        decision = choose_sites(
            SourcingRequest(
                lines=[
                    OrderLine(sku, qty, loaded.weights[sku])
                    for sku, qty in sorted(held.items())
                    if qty > 0
                ],
                ship_to=Destination(
                    str(dest.get("country", "")).upper(), str(dest.get("postal_code", ""))
                ),
                now=now,
                promised_by=loaded.promised_by,
                currency=loaded.currency,
                split_penalty=split_penalty,
                max_sites=max_sites,
            ),
            loaded.offers,
        )
        if not decision.feasible:
            reason = decision.explanation.removesuffix(".")
            if decision.excluded:
                reason += "; " + "; ".join(f"{s}: {why}" for s, why in decision.excluded.items())
    if reason is None:
        assert decision is not None and decision.plan is not None
        allocations: Allocations = {}
        for site, items in sorted(decision.assignment.items()):
            for sku, qty in items.items():
                allocations.setdefault(sku, []).append((site, qty))
        explanation = decision.explanation
        if short:
            explanation += f" {short} unit(s) not in stock at any site are backordered."
        _store(
            w, loaded.order_id, decision.method, explanation, request, allocations, decision, None
        )
        return allocations
    allocations = most_atp_first(request)
    explanation = f"Most-available-first fallback ({reason}): {_describe(allocations)}."
    _store(w, loaded.order_id, "fallback", explanation, request, allocations, decision, reason)
    return allocations
