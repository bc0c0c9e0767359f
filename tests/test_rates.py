"""Rate cards: validation that names the field and the reason, zone matching (most specific
wins), pricing to the cent, and properties: never cheaper when heavier, JSON round trip."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from protocols.errors import ErrorCode
from protocols.rates import (
    CarrierServiceIn,
    NoZoneError,
    RateCard,
    WeightOutOfRangeError,
    max_weight_kg,
    normalise_postal_code,
    price,
    zone_for,
)

CARD: dict[str, Any] = {
    "currency": "USD",
    "weight_breaks_kg": ["0.5", "1", "5", "10"],
    "fuel_surcharge_pct": "10",
    "dim_divisor": 5000,
    "zones": [
        {"name": "LOCAL", "country": "US", "postal_prefixes": ["606"], "transit_days": 1,
         "prices": ["5.00", "6.00", "9.00", "12.00"]},
        {"name": "NEAR", "country": "US", "postal_prefixes": ["60", "53"], "transit_days": 2,
         "prices": ["6.00", "7.00", "10.00", "14.00"]},
        {"name": "US", "country": "us", "transit_days": 4,
         "prices": ["8.00", "9.50", "14.00", "20.00"], "extra_per_kg": "1.25"},
        {"name": "UK", "country": "GB", "postal_prefixes": ["SW1A", "ec-1"],
         "prices": ["20", "22", "30", "40"]},
        {"name": "WORLD", "country": "*", "transit_days": 9,
         "prices": ["30", "35", "50", "70"]},
    ],
}  # fmt: skip


def card(**changes: Any) -> RateCard:
    data = copy.deepcopy(CARD)
    data.update(changes)
    return RateCard.model_validate(data)


def problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as exc:
        RateCard.model_validate(data)
    return [(".".join(map(str, e["loc"])), e["msg"]) for e in exc.value.errors()]


def changed(path: str, value: Any) -> dict[str, Any]:
    """CARD with one value replaced, `path` like `zones.1.prices`."""
    data = copy.deepcopy(CARD)
    target: Any = data
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value
    return data


# -- zones -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("country", "postal", "zone"),
    [
        ("US", "60612", "LOCAL"),  # 606 is longer than 60
        ("US", "60012", "NEAR"),
        ("US", "53703-1234", "NEAR"),
        ("US", "10001", "US"),  # no prefix matches: the country-wide zone
        ("US", "", "US"),
        ("us", " 606 12 ", "LOCAL"),  # country upper-cased, spaces ignored
        ("GB", "sw1a 1aa", "UK"),
        ("GB", "EC1A 1BB", "UK"),  # the prefix was written "ec-1"
        ("GB", "M1 1AE", "WORLD"),  # GB has no country-wide zone: the '*' zone
        ("JP", "100-0001", "WORLD"),
    ],
)
def test_the_most_specific_zone_wins(country, postal, zone):
    assert zone_for(card(), country, postal).name == zone


def test_no_zone_is_a_clear_refusal():
    without_world = card(zones=[z for z in CARD["zones"] if z["country"] != "*"])
    with pytest.raises(NoZoneError) as exc:
        zone_for(without_world, "JP", "100-0001")
    assert exc.value.code == ErrorCode.RATE_NO_ZONE and exc.value.status == 422
    assert exc.value.details == {"country": "JP", "postal_code": "100-0001"}
    with pytest.raises(NoZoneError):  # only prefixed GB zones, and the postcode matches none
        price(without_world, "GB", "M1 1AE", 1)


def test_postal_codes_are_normalised():
    assert normalise_postal_code(" sw1a-1aa ") == "SW1A1AA"


# -- pricing ---------------------------------------------------------------------------------
def test_price_is_the_first_break_at_or_above_the_weight_plus_fuel():
    found = price(card(), "US", "60612", 1)
    assert found.weight_break_kg == Decimal("1") and found.base == Decimal("6.00")
    assert found.fuel_surcharge == Decimal("0.60") and found.total == Decimal("6.60")
    assert (found.zone, found.transit_days, found.currency) == ("LOCAL", 1, "USD")
    just_over = price(card(), "US", "60612", 1.0001)
    assert just_over.weight_kg == Decimal("1.001")  # rounded up to the gram
    assert just_over.weight_break_kg == Decimal("5") and just_over.total == Decimal("9.90")


def test_amounts_round_half_up_to_the_cent():
    odd = card(fuel_surcharge_pct="12.5")
    # 6.00 * 12.5 % = 0.75; 9.00 * 12.5 % = 1.125 -> 1.13
    assert price(odd, "US", "60612", 3).fuel_surcharge == Decimal("1.13")
    assert price(odd, "US", "60612", 3).total == Decimal("10.13")


def test_volumetric_weight_bills_a_light_bulky_carton():
    found = price(card(), "US", "60612", 0.4, dims_cm=(40, 30, 20))  # 24000 cm3 / 5000
    assert found.volumetric_weight_kg == Decimal("4.800")
    assert found.billable_weight_kg == Decimal("4.800") and found.base == Decimal("9.00")
    dense = price(card(), "US", "60612", 4.9, dims_cm=(10, 10, 10))
    assert dense.billable_weight_kg == Decimal("4.900")
    no_divisor = card(dim_divisor=None)
    assert price(no_divisor, "US", "60612", 0.4, dims_cm=(40, 30, 20)).volumetric_weight_kg is None


def test_above_the_last_break_costs_per_started_kg_or_is_refused():
    found = price(card(), "US", "10001", 12.2)  # US zone has extra_per_kg 1.25
    assert found.weight_break_kg is None
    assert found.base == Decimal("20.00") + 3 * Decimal("1.25")  # 2.2 kg over: 3 started kg
    c = card()
    assert max_weight_kg(c, zone_for(c, "US", "10001")) is None
    assert max_weight_kg(c, zone_for(c, "US", "60612")) == Decimal("10")
    with pytest.raises(WeightOutOfRangeError) as exc:
        price(c, "US", "60612", 10.0005)
    assert exc.value.code == ErrorCode.RATE_WEIGHT_OUT_OF_RANGE
    assert exc.value.details["max_kg"] == "10" and exc.value.details["zone"] == "LOCAL"
    assert price(c, "US", "60612", 10).total == Decimal("13.20")  # the bound itself is in


@pytest.mark.parametrize("weight", [0, -1, Decimal("-0.5")])
def test_a_weight_not_above_zero_is_refused(weight):
    with pytest.raises(WeightOutOfRangeError) as exc:
        price(card(), "US", "60612", weight)
    assert "above zero" in exc.value.details["reason"]


# -- validation ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        (changed("weight_breaks_kg", ["1", "5", "5"]), "weight_breaks_kg", "must rise strictly"),
        (changed("weight_breaks_kg", ["5", "1", "10", "20"]), "weight_breaks_kg", "break 1"),
        (changed("weight_breaks_kg", ["0", "1", "5", "10"]), "weight_breaks_kg.0", "greater"),
        (changed("weight_breaks_kg", []), "weight_breaks_kg", "at least 1"),
        (changed("zones.1.prices", ["6", "7", "10"]), "zones", "has 3 prices for 4 weight"),
        (changed("zones.1.prices", ["6", "-7", "10", "14"]), "zones.1.prices.1", "greater"),
        (changed("zones.1.prices", ["6", "7", "5", "14"]), "zones.1.prices", "must not fall"),
        (changed("zones.1.name", "LOCAL"), "zones", "'LOCAL' is used twice"),
        (changed("zones.1.postal_prefixes", ["606"]), "zones", "already claimed by zone 'LOCAL'"),
        (changed("zones.1.postal_prefixes", []), "zones", "the whole country in US"),
        (changed("zones.3.country", "*"), "zones.3.postal_prefixes", "'*' zone"),
        (changed("zones.3.country", "GBR"), "zones.3.country", "two-letter"),
        (changed("zones.3.postal_prefixes", ["SW1A", "sw1a"]), "zones.3.postal_prefixes", "twice"),
        (changed("zones.3.postal_prefixes", ["S/1"]), "zones.3.postal_prefixes", "1-10 letters"),
        (changed("zones.0.extra_per_kg", "-1"), "zones.0.extra_per_kg", "greater"),
        (changed("zones.0.transit_days", -2), "zones.0.transit_days", "greater"),
        (changed("zones", []), "zones", "at least 1"),
        (changed("currency", "usd"), "currency", "pattern"),
        (changed("fuel_surcharge_pct", "-1"), "fuel_surcharge_pct", "greater"),
        (changed("dim_divisor", 0), "dim_divisor", "greater"),
        ({**CARD, "surcharge": "5"}, "surcharge", "Extra inputs"),
    ],
)
def test_a_bad_card_is_refused_naming_the_field_and_the_reason(data, field, reason):
    found = problems(data)
    assert any(f == field and reason in msg for f, msg in found), found


def test_a_second_star_zone_is_refused():
    data = copy.deepcopy(CARD)
    data["zones"].append({"name": "WORLD2", "country": "*", "prices": ["1", "2", "3", "4"]})
    assert any("every other destination" in msg for _, msg in problems(data))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"cutoff_local": "24:00"}, "cutoff_local"),
        ({"cutoff_local": "7:30"}, "cutoff_local"),
        ({"cutoff_local": "17:60"}, "cutoff_local"),
        ({"ship_days": ""}, "ship_days"),
        ({"ship_days": "8"}, "ship_days"),
        ({"ship_days": "1123"}, "ship_days"),
        ({"ship_days": "Mon"}, "ship_days"),
        ({"carrier": ""}, "carrier"),
    ],
)
def test_bad_service_fields_are_refused(changes, field):
    body = {"carrier": "UPS", "cutoff_local": "17:00", "rate_card": CARD, **changes}
    with pytest.raises(ValidationError) as exc:
        CarrierServiceIn.model_validate(body)
    assert [e["loc"][0] for e in exc.value.errors()] == [field]


def test_ship_days_are_kept_in_weekday_order():
    body = {"carrier": "UPS", "cutoff_local": "07:30", "ship_days": "531", "rate_card": CARD}
    assert CarrierServiceIn.model_validate(body).ship_days == "135"


# -- properties ------------------------------------------------------------------------------
money = st.decimals(min_value=0, max_value=500, places=2)


@st.composite
def rate_cards(draw: st.DrawFn) -> RateCard:
    n = draw(st.integers(1, 6))
    steps = draw(st.lists(st.decimals("0.1", "20", places=1), min_size=n, max_size=n))
    breaks, total = [], Decimal(0)
    for step in steps:
        total += step
        breaks.append(total)
    zones = []
    for i, country in enumerate(draw(st.lists(st.sampled_from(["US", "CA", "*"]), unique=True,
                                              min_size=1, max_size=3))):  # fmt: skip
        increments = draw(st.lists(money, min_size=n, max_size=n))
        prices = [sum(increments[: k + 1], Decimal(0)) for k in range(n)]
        extra = draw(st.none() | money)
        zones.append({"name": f"Z{i}", "country": country, "prices": prices,
                      "extra_per_kg": extra})  # fmt: skip
    return RateCard.model_validate(
        {
            "currency": "EUR",
            "weight_breaks_kg": breaks,
            "zones": zones,
            "fuel_surcharge_pct": draw(st.decimals(0, 40, places=2)),
            "dim_divisor": draw(st.none() | st.integers(1000, 8000)),
        }
    )


weights = st.decimals(min_value="0.001", max_value="200", places=3)


@given(rate_cards(), weights, weights, st.sampled_from(["US", "CA", "MX"]))
def test_price_never_falls_as_weight_rises(c, a, b, country):
    light, heavy = sorted((a, b))
    try:
        heavy_price = price(c, country, "", heavy)
    except (NoZoneError, WeightOutOfRangeError):
        return
    light_price = price(c, country, "", light)  # a lighter carton is priced where a heavier is
    assert light_price.total <= heavy_price.total
    assert light_price.base <= heavy_price.base


@given(rate_cards())
def test_a_card_survives_a_json_round_trip(c):
    again = RateCard.model_validate_json(c.model_dump_json())
    assert again == c
    assert RateCard.model_validate(c.model_dump(mode="json")) == c
