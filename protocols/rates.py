"""Carrier rate cards and pricing: zone x weight tables, pure (no I/O).

The edge server prices and labels cartons with these; the OMS prices candidate shipments with
the same cards for cost-based sourcing. See docs/shipping.md for the format and the rules.

- A card has ascending weight breaks (upper bounds, kg) and zones; each zone matches a
  destination by country (or `*`, anywhere) and optional postal-code prefixes, and has one
  price per weight break.
- The zone for a destination is the most specific match: the longest matching postal prefix,
  else the country-wide zone, else the `*` zone. Validation refuses two zones claiming the same
  country + prefix (or two country-wide zones for a country, or two `*` zones), so there is
  never a tie.
- The billable weight is the larger of the actual and the volumetric weight (when the card has
  a divisor and dimensions are given); the price is that of the first break at or above it.
  Beyond the last break the zone's `extra_per_kg` is charged per started kg, or the weight is
  refused. A fuel surcharge (% of the base) is added; amounts are rounded to cents, half up.
"""

from __future__ import annotations

import bisect
import math
import re
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from protocols.errors import ErrorCode, message_for

__all__ = [
    "ANY_COUNTRY",
    "SERVICE_CODE_PATTERN",
    "CarrierServiceIn",
    "NoZoneError",
    "PriceBreakdown",
    "RateCard",
    "RateError",
    "RateZone",
    "WeightOutOfRangeError",
    "max_weight_kg",
    "normalise_postal_code",
    "price",
    "zone_for",
]

#: The country of a zone that matches every destination no other zone matches.
ANY_COUNTRY = "*"
#: What a carrier service's code may look like (fulfillment orders name it).
SERVICE_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

CENT = Decimal("0.01")
GRAM = Decimal("0.001")

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_PREFIX = re.compile(r"^[A-Z0-9]{1,10}$")
_POSTAL_NOISE = re.compile(r"[\s-]")
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")

Money = Annotated[Decimal, Field(ge=0, le=Decimal("1000000"), decimal_places=4)]
WeightKg = Annotated[Decimal, Field(gt=0, le=Decimal("100000"), decimal_places=3)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


def normalise_postal_code(postal_code: str) -> str:
    """Upper case without spaces or hyphens: `sw1a 1aa` → `SW1A1AA`, `60612-1234` → `606121234`."""
    return _POSTAL_NOISE.sub("", postal_code).upper()


class RateZone(_Strict):
    """One zone of a rate card: where it delivers, what each weight break costs, how long."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,31}$")
    country: str = Field(description="ISO 3166-1 alpha-2 code, or `*` for anywhere else.")
    postal_prefixes: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description="Postal-code prefixes (spaces and hyphens ignored); empty: the whole country.",
    )
    prices: list[Money] = Field(
        min_length=1, description="One price per weight break, in the card's currency."
    )
    extra_per_kg: Money | None = Field(
        default=None,
        description="Price per started kg above the last break; without it, heavier is refused.",
    )
    transit_days: int | None = Field(default=None, ge=0, le=60)

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().upper()
            if value != ANY_COUNTRY and not _COUNTRY.match(value):
                raise PydanticCustomError(
                    "country_invalid",
                    "country '{country}' is not a two-letter ISO 3166-1 code or '*'.",
                    {"country": value},
                )
        return value

    @field_validator("postal_prefixes")
    @classmethod
    def _prefixes(cls, value: list[str], info: ValidationInfo) -> list[str]:
        out: list[str] = []
        for raw in value:
            prefix = normalise_postal_code(raw)
            if not _PREFIX.match(prefix):
                raise PydanticCustomError(
                    "postal_prefix_invalid",
                    "postal prefix '{prefix}' must be 1-10 letters or digits.",
                    {"prefix": raw},
                )
            if prefix in out:
                raise PydanticCustomError(
                    "postal_prefix_duplicate",
                    "postal prefix '{prefix}' is listed twice.",
                    {"prefix": prefix},
                )
            out.append(prefix)
        if out and info.data.get("country") == ANY_COUNTRY:
            raise PydanticCustomError(
                "postal_prefix_without_country",
                "a '*' zone cannot have postal prefixes: give the country.",
            )
        return out

    @field_validator("prices")
    @classmethod
    def _never_cheaper_when_heavier(cls, value: list[Decimal]) -> list[Decimal]:
        for i in range(1, len(value)):
            if value[i] < value[i - 1]:
                raise PydanticCustomError(
                    "prices_decreasing",
                    "prices must not fall as the weight rises: price {i} ({price}) is below "
                    "price {j} ({before}).",
                    {"i": i, "j": i - 1, "price": str(value[i]), "before": str(value[i - 1])},
                )
        return value


class RateCard(_Strict):
    """A carrier service's prices: zones x ascending weight breaks (docs/shipping.md)."""

    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. USD, EUR.")
    weight_breaks_kg: list[WeightKg] = Field(
        min_length=1, max_length=200, description="Ascending upper bounds of the weight bands."
    )
    zones: list[RateZone] = Field(min_length=1, max_length=500)
    fuel_surcharge_pct: Decimal = Field(default=Decimal(0), ge=0, le=100, decimal_places=3)
    dim_divisor: int | None = Field(
        default=None,
        gt=0,
        le=100_000,
        description="Volumetric weight = L x W x H (cm) / divisor (kg), e.g. 5000; none: unused.",
    )

    @field_validator("weight_breaks_kg")
    @classmethod
    def _ascending(cls, value: list[Decimal]) -> list[Decimal]:
        for i in range(1, len(value)):
            if value[i] <= value[i - 1]:
                raise PydanticCustomError(
                    "weight_breaks_not_ascending",
                    "weight breaks must rise strictly: break {i} ({kg} kg) is not above break "
                    "{j} ({before} kg).",
                    {"i": i, "j": i - 1, "kg": str(value[i]), "before": str(value[i - 1])},
                )
        return value

    @field_validator("zones")
    @classmethod
    def _zones_consistent(cls, value: list[RateZone], info: ValidationInfo) -> list[RateZone]:
        problems: list[str] = []
        names: set[str] = set()
        claims: dict[tuple[str, str], str] = {}
        breaks = info.data.get("weight_breaks_kg")
        for i, zone in enumerate(value):
            if zone.name in names:
                problems.append(f"zones[{i}]: zone name {zone.name!r} is used twice")
            names.add(zone.name)
            if breaks is not None and len(zone.prices) != len(breaks):
                problems.append(
                    f"zones[{i}].prices: zone {zone.name!r} has {len(zone.prices)} prices for "
                    f"{len(breaks)} weight breaks (one price per break)"
                )
            for prefix in zone.postal_prefixes or [""]:
                key = (zone.country, prefix)
                if key in claims:
                    where = f"postal prefix '{prefix}'" if prefix else "the whole country"
                    if zone.country == ANY_COUNTRY:
                        where = "every other destination ('*')"
                    problems.append(
                        f"zones[{i}]: zone {zone.name!r} claims {where} in {zone.country}, "
                        f"already claimed by zone {claims[key]!r}"
                    )
                else:
                    claims[key] = zone.name
        if problems:
            raise PydanticCustomError(
                "rate_card_zones_invalid", "{problems}", {"problems": "; ".join(problems)}
            )
        return value


class PriceBreakdown(_Strict):
    """What a carton costs with one rate card, and why."""

    zone: str
    transit_days: int | None
    currency: str
    weight_kg: Decimal  # actual, rounded up to the gram
    volumetric_weight_kg: Decimal | None
    billable_weight_kg: Decimal
    weight_break_kg: Decimal | None  # the break priced; None above the last break
    base: Decimal
    fuel_surcharge: Decimal
    total: Decimal


class CarrierServiceIn(_Strict):
    """A carrier service of a site (PUT /carrier-services/{code}, `load-carriers` files)."""

    carrier: str = Field(
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$",
        description="Carrier name; chooses the adapter (docs/shipping.md#adapters).",
    )
    name: str = Field(default="", max_length=80)
    cutoff_local: str = Field(description="Daily pickup cutoff, 'HH:MM' in the site's time zone.")
    ship_days: str = Field(
        default="12345", description="ISO weekdays with a pickup, e.g. '12345' (Mon-Fri)."
    )
    rate_card: RateCard
    active: bool = True

    @field_validator("cutoff_local")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise PydanticCustomError(
                "cutoff_invalid",
                "cutoff '{value}' is not a 24-hour time 'HH:MM' (00:00 to 23:59).",
                {"value": value},
            )
        return value

    @field_validator("ship_days")
    @classmethod
    def _weekdays(cls, value: str) -> str:
        if not value or any(c not in "1234567" for c in value) or len(set(value)) != len(value):
            raise PydanticCustomError(
                "ship_days_invalid",
                "ship_days '{value}' must list ISO weekday digits 1 (Monday) to 7 (Sunday), "
                "each at most once, e.g. '12345'.",
                {"value": value},
            )
        return "".join(sorted(value))


# -- pricing ---------------------------------------------------------------------------------
class RateError(Exception):
    """A destination or weight the card cannot price: a catalogue code and details."""

    code: ErrorCode

    def __init__(self, details: dict[str, Any]) -> None:
        self.text = message_for(self.code).text
        self.status = message_for(self.code).status
        self.details = details
        super().__init__(f"{self.code.value}: {details}")


class NoZoneError(RateError):
    code = ErrorCode.RATE_NO_ZONE


class WeightOutOfRangeError(RateError):
    code = ErrorCode.RATE_WEIGHT_OUT_OF_RANGE


def _specificity(zone: RateZone, country: str, postal: str) -> int | None:
    """How specifically `zone` matches: prefix length + 2, 1 country-wide, 0 `*`; None: no."""
    if zone.country == ANY_COUNTRY:
        return 0
    if zone.country != country:
        return None
    if not zone.postal_prefixes:
        return 1
    matched = [len(p) for p in zone.postal_prefixes if postal.startswith(p)]
    return max(matched) + 2 if matched else None


def zone_for(card: RateCard, country: str, postal_code: str = "") -> RateZone:
    """The zone delivering to `country`/`postal_code` (most specific match); NoZoneError."""
    country = country.strip().upper()
    postal = normalise_postal_code(postal_code)
    best: tuple[int, RateZone] | None = None
    for zone in card.zones:
        rank = _specificity(zone, country, postal)
        if rank is not None and (best is None or rank > best[0]):
            best = (rank, zone)
    if best is None:
        raise NoZoneError({"country": country, "postal_code": postal_code})
    return best[1]


def max_weight_kg(card: RateCard, zone: RateZone) -> Decimal | None:
    """The heaviest billable weight `zone` accepts; None when unlimited (`extra_per_kg`)."""
    return None if zone.extra_per_kg is not None else card.weight_breaks_kg[-1]


def _decimal(value: float | Decimal | int, what: str) -> Decimal:
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{what} must be a finite number")
    return number


def price(
    card: RateCard,
    country: str,
    postal_code: str,
    weight_kg: float | Decimal,
    *,
    dims_cm: tuple[float | Decimal, float | Decimal, float | Decimal] | None = None,
) -> PriceBreakdown:
    """Price one carton. NoZoneError when no zone covers the destination; WeightOutOfRangeError
    for a weight not above zero or above the zone's last break (without `extra_per_kg`)."""
    zone = zone_for(card, country, postal_code)
    weight = _decimal(weight_kg, "weight_kg")
    if weight <= 0:
        raise WeightOutOfRangeError(
            {"weight_kg": str(weight), "reason": "the weight must be above zero"}
        )
    weight = weight.quantize(GRAM, rounding=ROUND_CEILING)
    volumetric: Decimal | None = None
    if dims_cm is not None:
        sides = [_decimal(d, "dims_cm") for d in dims_cm]
        if any(side <= 0 for side in sides):
            raise ValueError("every dimension must be above zero")
        if card.dim_divisor is not None:
            volume = sides[0] * sides[1] * sides[2]
            volumetric = (volume / card.dim_divisor).quantize(GRAM, rounding=ROUND_CEILING)
    billable = max(weight, volumetric) if volumetric is not None else weight
    breaks = card.weight_breaks_kg
    i = bisect.bisect_left(breaks, billable)
    weight_break: Decimal | None
    if i < len(breaks):
        weight_break = breaks[i]
        base = zone.prices[i]
    elif zone.extra_per_kg is not None:
        weight_break = None
        extra_kg = math.ceil(billable - breaks[-1])
        base = zone.prices[-1] + extra_kg * zone.extra_per_kg
    else:
        raise WeightOutOfRangeError(
            {
                "weight_kg": str(billable),
                "max_kg": str(breaks[-1]),
                "zone": zone.name,
                "reason": "heavier than the rate card's last weight break",
            }
        )
    base = base.quantize(CENT, rounding=ROUND_HALF_UP)
    surcharge = (base * card.fuel_surcharge_pct / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return PriceBreakdown(
        zone=zone.name,
        transit_days=zone.transit_days,
        currency=card.currency,
        weight_kg=weight,
        volumetric_weight_kg=volumetric,
        billable_weight_kg=billable,
        weight_break_kg=weight_break,
        base=base,
        fuel_surcharge=surcharge,
        total=base + surcharge,
    )
