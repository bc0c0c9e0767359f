"""Pick strategy rules: the decision table case by case (pure), what the rules read from the
database (item cube, velocity, zones), and the tasks a wave release makes for each strategy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from test_fulfillment_orders import FACE, FACE2, load_site, stock
from test_waves import CFG, MON, carrier, place, plan, release, wave

from edge_server.services import Services
from edge_server.settings import Settings
from edge_server.wms.items import upsert_item, validate_item
from edge_server.wms.outbound.strategy import (
    LineProfile,
    OrderProfile,
    PickRules,
    choose_strategy,
    item_cube,
)
from edge_server.wms.outbound.waves import WaveConfig, order_profiles

RULES = PickRules()  # the documented defaults


def order(*lines: LineProfile) -> OrderProfile:
    return OrderProfile(1, tuple(lines))


def line(
    units: int = 1,
    cube: float = 0.0,
    velocity: str = "C",
    zones: tuple[str, ...] = ("A",),
    sku: str = "SKU",
) -> LineProfile:
    return LineProfile(sku, units, cube, velocity, frozenset(zones))


def spread(n: int, velocity: str = "C", zones: tuple[str, ...] = ("A", "B", "C")) -> list[Any]:
    """n one-unit lines spread round-robin over `zones`."""
    return [line(velocity=velocity, zones=(zones[i % len(zones)],), sku=f"S{i}") for i in range(n)]


# -- the decision table, row by row -------------------------------------------------------------
@pytest.mark.parametrize(
    ("profile", "rules", "strategy", "rule"),
    [
        # 1. bulky item (at the threshold counts), whatever else the order is
        (order(line(cube=30000.0, sku="SOFA")), RULES, "discrete", "bulky_item"),
        (order(line(cube=29999.0)), RULES, "batch", "small_order"),
        (order(line(cube=50000.0), *spread(8)), RULES, "discrete", "bulky_item"),
        # 2. more than one tote (40,000 cm³): 2 x 25,000
        (order(line(units=2, cube=25000.0)), RULES, "discrete", "over_tote"),
        (order(line(units=1, cube=25000.0), line(cube=15000.0)), RULES, "batch", "small_order"),
        # 3. many units
        (order(line(units=20)), RULES, "discrete", "many_units"),
        (order(line(units=19)), RULES, "batch", "small_order"),
        # 4. fast movers only batch even across zones; off: zone
        (order(*spread(8, velocity="A")), RULES, "batch", "fast_movers"),
        (
            order(*spread(8, velocity="A")),
            PickRules(fast_movers_batch=False),
            "zone",
            "multi_zone",
        ),
        (
            order(*spread(7, velocity="A"), line(velocity="B", zones=("A",))),
            RULES,
            "zone",
            "multi_zone",
        ),
        # 5. zone: enough zones and lines; one short of either: batch
        (order(*spread(8)), RULES, "zone", "multi_zone"),
        (order(*spread(7)), RULES, "batch", "small_order"),
        (order(*spread(8, zones=("A", "B"))), RULES, "batch", "small_order"),
        (order(*spread(8, zones=("A", "B"))), PickRules(zone_min_zones=2), "zone", "multi_zone"),
        # 6. missing dimensions count as small (cube 0)
        (order(line(units=5, cube=item_cube(None, 200.0, 200.0))), RULES, "batch", "small_order"),
    ],
)
def test_decision_table(profile: OrderProfile, rules: PickRules, strategy: str, rule: str) -> None:
    decision = choose_strategy(profile, rules)
    assert (decision.strategy, decision.rule) == (strategy, rule)
    assert decision.reason.endswith(".")


def test_reasons_name_the_facts_and_the_threshold() -> None:
    bulky = choose_strategy(order(line(cube=1_440_000.0, sku="SOFA-3")), RULES)
    assert bulky.reason == "SOFA-3 is bulky (1,440,000 cm³ ≥ 30,000 cm³): one order per trip."
    zone = choose_strategy(order(*spread(9)), RULES)
    assert zone.reason.startswith("The order spans 3 zones (≥ 3) with 9 lines (≥ 8)")
    many = choose_strategy(order(line(units=25)), RULES)
    assert many.reason == "The order has 25 units (≥ 20): one order per trip."


def test_item_cube() -> None:
    assert item_cube(10.0, 20.0, 30.0) == 6000.0
    assert item_cube(None, 20.0, 30.0) == 0.0
    assert item_cube(10.0, 0.0, 30.0) == 0.0


def test_rules_come_from_settings(tmp_path: Any) -> None:
    s = Settings(
        db_path=tmp_path / "x.db",
        pick_discrete_item_cube_cm3=1000.0,
        pick_discrete_min_units=5,
        pick_tote_volume_cm3=2000.0,
        pick_zone_min_zones=2,
        pick_zone_min_lines=3,
        pick_fast_movers_batch=False,
        pick_cart_totes=4,
    )
    rules = PickRules.from_settings(s)
    assert rules == PickRules(1000.0, 5, 2000.0, 2, 3, False, 4)
    assert rules.cart_cube_cm3 == 8000.0
    assert WaveConfig.from_settings(s).rules == rules


# -- against the database --------------------------------------------------------------------
ITEMS = [
    {"sku": "SOFA-3", "description": "Sofa", "length_cm": 200, "width_cm": 90, "height_cm": 80},
    {
        "sku": "PEN-A",
        "description": "Pen",
        "length_cm": 15,
        "width_cm": 1,
        "height_cm": 1,
        "velocity": "A",
    },
    *({"sku": f"PART-{i}", "description": f"Part {i}"} for i in range(8)),
]
ZONE_BINS = ["A01-03-1L", "B01-01-1L", "LONG-01"]  # zones A, B and ODD


@pytest.fixture
def site(services: Services) -> Services:
    load_site(services)
    with services.db.write() as w:
        for data in ITEMS:
            item, _ = validate_item(data)
            upsert_item(w, item)
    stock(services, FACE, "MUG-01", 500)
    stock(services, FACE2, "SOFA-3", 5)
    stock(services, "A01-04-1L", "PEN-A", 100)
    for i in range(8):
        stock(services, ZONE_BINS[i % 3], f"PART-{i}", 50)
    carrier(services, "UPS-GROUND", cutoff="17:00")
    return services


def parts_order(n: int = 8) -> list[dict[str, Any]]:
    return [{"line_no": i + 1, "sku": f"PART-{i}", "qty": 1} for i in range(n)]


def test_profiles_read_cube_velocity_and_zones(site: Services) -> None:
    place(site, "SO-SOFA", lines=[{"line_no": 1, "sku": "SOFA-3", "qty": 1}])
    place(site, "SO-PARTS", lines=parts_order())
    place(site, "SO-MUG", lines=[{"line_no": 1, "sku": "MUG-01", "qty": 4}])
    ids = {r["number"]: r["id"] for r in site.db.query("SELECT id, number FROM fulfillment_orders")}
    profiles = order_profiles(site.db, list(ids.values()))
    sofa, parts, mug = (profiles[ids[n]] for n in ("SO-SOFA", "SO-PARTS", "SO-MUG"))
    assert sofa.lines[0].unit_cube_cm3 == 200 * 90 * 80
    assert parts.zones == {"A", "B", "ODD"} and len(parts.lines) == 8
    assert mug.units == 4 and mug.cube_cm3 == 0.0  # no dimensions: small
    assert [choose_strategy(p, RULES).strategy for p in (sofa, parts, mug)] == [
        "discrete",
        "zone",
        "batch",
    ]


def test_release_makes_tasks_per_strategy(site: Services) -> None:
    place(site, "SO-SOFA", priority=9, lines=[{"line_no": 1, "sku": "SOFA-3", "qty": 1}])
    place(site, "SO-ZONE1", priority=8, lines=parts_order())
    place(site, "SO-ZONE2", priority=7, lines=parts_order(9 - 1))
    for n in range(3):
        place(
            site, f"SO-SMALL{n}", priority=5 - n, lines=[{"line_no": 1, "sku": "MUG-01", "qty": 2}]
        )
    place(site, "SO-PENS", priority=1, lines=[{"line_no": 1, "sku": "PEN-A", "qty": 3}])
    config = WaveConfig(rules=PickRules(cart_totes=2))
    plan(site, MON, config)
    result = release(site, "W300114-001", config)
    strategies = {o["number"]: o["strategy"] for o in result["orders"]}
    assert strategies == {
        "SO-SOFA": "discrete",
        "SO-ZONE1": "zone",
        "SO-ZONE2": "zone",
        "SO-SMALL0": "batch",
        "SO-SMALL1": "batch",
        "SO-SMALL2": "batch",
        "SO-PENS": "batch",
    }
    tasks = [(t["strategy"], t["zone"], t["orders"]) for t in result["tasks"]]
    # the most urgent order's task first; zone orders share a cart, one task per zone
    assert tasks[0] == ("discrete", None, ["SO-SOFA"])
    zone_tasks = sorted(t for t in tasks if t[0] == "zone")
    assert zone_tasks == [("zone", zone, ["SO-ZONE1", "SO-ZONE2"]) for zone in ("A", "B", "ODD")]
    batches = [t[2] for t in tasks if t[0] == "batch"]
    assert sorted(o for b in batches for o in b) == [
        "SO-PENS",
        "SO-SMALL0",
        "SO-SMALL1",
        "SO-SMALL2",
    ]
    assert all(len(b) <= 2 for b in batches) and len(batches) == 2  # two totes per cart
    stored = site.db.query(
        "SELECT t.strategy, t.zone, COUNT(pl.id) AS lines FROM pick_tasks t "
        "JOIN pick_lines pl ON pl.task_id = t.id GROUP BY t.id ORDER BY t.id"
    )
    assert [(r["strategy"], r["zone"]) for r in stored] == [(s, z or "") for s, z, _ in tasks]
    # every allocated unit of the wave is in exactly one task line
    got = wave(site, "W300114-001", datetime(2030, 1, 14, 15, 0, tzinfo=UTC))
    assert got["progress"]["units"]["total"] == 1 + 8 + 8 + 6 + 3
    reasons = {o["number"]: o["strategy_reason"] for o in got["order_list"]}
    assert reasons["SO-SOFA"].startswith("SOFA-3 is bulky")
    assert reasons["SO-PENS"].startswith("Every line is an A-velocity item")


def test_planned_wave_shows_the_strategies_it_would_use(site: Services) -> None:
    place(site, "SO-SOFA", lines=[{"line_no": 1, "sku": "SOFA-3", "qty": 1}])
    plan(site)
    got = wave(site, "W300114-001")
    assert got["status"] == "planned" and got["task_list"] == []
    assert [(o["number"], o["strategy"]) for o in got["order_list"]] == [("SO-SOFA", "discrete")]
    assert got["progress"]["units"] == {"total": 1, "picked": 0, "short": 0, "open": 1}
    assert CFG.rules == RULES
