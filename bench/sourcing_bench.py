"""Cost-based sourcing: true cost of `choose_sites` against the exact optimum (brute force),
against always shipping from the nearest site with stock, and time per order.

Network: 3–6 sites drawn from seven US regions (the first digit of a ZIP code runs roughly east
to west: NYC 1, ATL 3, CLE 4, CHI 6, DAL 7, DEN 8, LAX 9). Each site has its own rate card
(weight breaks 1/3/5/10/20/40 kg, extra per kg above): one zone per destination ZIP digit,
distance = |digit − site's digit|, transit 1 + distance // 2 days, price = site factor
(0.8–1.3) × (1 + 0.22 × distance) × weight-break ladder, fuel 5–15%. Handling $1.50–4.00 per
order and $0.20–0.60 per line; capacity: none left at ~5% of sites; stock: each SKU at ~80%
of sites, 1–12 units. Split penalty $3.00.

Orders: 1–8 lines of distinct SKUs (of 40), 1–3 units of 0.2–4 kg each, a random 5-digit US
ZIP, placed Monday–Friday between 08:00 and 20:00 UTC; 40% promise delivery within 4 days.

Exact reference: brute force over every assignment of lines to at most `max_sites` (3) sites
(a line no site holds whole: every distribution of its units), priced directly with
`protocols.rates.price` — independent of the engine's search. Baseline: `nearest_site_plan`
(nearest = fewest transit days to the destination). "heuristic alone" is the engine with a
node budget of 0 (the fallback for big inputs). Time: one `choose_sites` call, in-process,
over the feasible orders.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from edge_server.oms.sourcing import (
    Destination,
    OrderLine,
    ServiceOffer,
    SiteOffer,
    SourcingRequest,
    choose_sites,
    nearest_site_plan,
)
from edge_server.wms.outbound.waves import next_cutoff
from protocols.rates import RateCard, RateError, price, zone_for

SEED = 20240603
REGIONS = (("NYC", 1), ("ATL", 3), ("CLE", 4), ("CHI", 6), ("DAL", 7), ("DEN", 8), ("LAX", 9))
BIG_REGIONS = (*REGIONS, ("BOS", 0), ("MIA", 3), ("MSP", 5), ("SEA", 9))
BIG_ORDERS = 30
BREAKS = ("1", "3", "5", "10", "20", "40")
LADDER = (Decimal("6"), Decimal("8"), Decimal("10"), Decimal("14"), Decimal("22"), Decimal("35"))
SKUS = [f"SKU{n:02}" for n in range(40)]
NETWORKS = (3, 4, 5, 6)
ORDERS_PER_NETWORK = 60
PENALTY = Decimal("3.00")
MAX_SITES = 3
UTC_ZONE = ZoneInfo("UTC")


def _card(rng: random.Random, digit: int) -> RateCard:
    factor = Decimal(str(round(rng.uniform(0.8, 1.3), 2)))
    zones = []
    for d in range(10):
        dist = abs(d - digit)
        scale = factor * (1 + Decimal("0.22") * dist)
        zones.append(
            {
                "name": f"Z{d}",
                "country": "US",
                "postal_prefixes": [str(d)],
                "transit_days": 1 + dist // 2,
                "prices": [str((p * scale).quantize(Decimal("0.01"))) for p in LADDER],
                "extra_per_kg": str((Decimal("0.9") * scale).quantize(Decimal("0.01"))),
            }
        )
    return RateCard.model_validate(
        {
            "currency": "USD",
            "weight_breaks_kg": list(BREAKS),
            "zones": zones,
            "fuel_surcharge_pct": str(rng.choice([5, 8, 10, 12, 15])),
        }
    )


def _network(
    rng: random.Random, n: int, regions: Sequence[tuple[str, int]] = REGIONS
) -> list[SiteOffer]:
    sites = []
    for code, digit in rng.sample(list(regions), n):
        sites.append(
            SiteOffer(
                code=code,
                services=[
                    ServiceOffer(
                        "GROUND", _card(rng, digit), cutoff_local=rng.choice(["16:00", "18:00"])
                    )
                ],
                stock={s: rng.randint(1, 12) for s in SKUS if rng.random() < 0.8},
                handling_per_order=Decimal(str(rng.choice([1.5, 2, 2.5, 3, 4]))),
                handling_per_line=Decimal(str(rng.choice([0.2, 0.35, 0.5, 0.6]))),
                capacity_left=0 if rng.random() < 0.05 else rng.randint(1, 500),
            )
        )
    return sites


def _order(rng: random.Random, sizes: tuple[int, int] = (1, 8)) -> SourcingRequest:
    lines = [
        OrderLine(sku, rng.randint(1, 3), Decimal(str(round(rng.uniform(0.2, 4.0), 2))))
        for sku in rng.sample(SKUS, rng.randint(*sizes))
    ]
    day = date(2025, 6, 2) + timedelta(days=rng.randint(0, 4))
    now = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        minutes=rng.randint(8 * 60, 20 * 60)
    )
    promised = day + timedelta(days=4) if rng.random() < 0.4 else None
    return SourcingRequest(
        lines=lines,
        ship_to=Destination("US", f"{rng.randint(0, 99999):05}"),
        now=now,
        promised_by=promised,
        split_penalty=PENALTY,
        max_sites=MAX_SITES,
    )


# -- the independent exact reference ---------------------------------------------------------------
def _brute_force(req: SourcingRequest, sites: Sequence[SiteOffer]) -> Decimal | None:
    dest = req.ship_to
    ok: list[SiteOffer] = []
    for s in sites:
        if s.capacity_left is not None and s.capacity_left <= 0:
            continue
        svc = s.services[0]
        zone = zone_for(svc.rate_card, dest.country, dest.postal_code)
        cutoff = next_cutoff(req.now, svc.cutoff_local, svc.ship_days, UTC_ZONE)
        assert cutoff is not None and zone.transit_days is not None
        arrives = cutoff.date() + timedelta(days=zone.transit_days)
        if req.promised_by is None or arrives <= req.promised_by:
            ok.append(s)
    memo: dict[tuple[str, Decimal], Decimal | None] = {}

    def ship(site: SiteOffer, kg: Decimal) -> Decimal | None:
        key = (site.code, kg)
        if key not in memo:
            try:
                memo[key] = price(site.services[0].rate_card, "US", dest.postal_code, kg).total
            except RateError:
                memo[key] = None
        return memo[key]

    options: list[list[tuple[tuple[int, int], ...]]] = []  # per line: ((site index, qty), ...)
    for ln in req.lines:
        whole = [((i, ln.qty),) for i, s in enumerate(ok) if s.stock.get(ln.sku, 0) >= ln.qty]
        if whole:
            options.append(whole)
            continue
        ways = []
        for qs in itertools.product(*(range(s.stock.get(ln.sku, 0) + 1) for s in ok)):
            if sum(qs) == ln.qty:
                ways.append(tuple((i, q) for i, q in enumerate(qs) if q))
        if not ways:
            return None
        options.append(ways)
    best: Decimal | None = None
    for combo in itertools.product(*options):
        weight: dict[int, Decimal] = {}
        lines: dict[int, int] = {}
        for ln, parts in zip(req.lines, combo, strict=True):
            for i, q in parts:
                weight[i] = weight.get(i, Decimal(0)) + ln.unit_weight_kg * q
                lines[i] = lines.get(i, 0) + 1
        if len(weight) > req.max_sites:
            continue
        total = req.split_penalty * (len(weight) - 1)
        for i, kg in weight.items():
            cost = ship(ok[i], kg)
            if cost is None:
                break
            total += cost + ok[i].handling_per_order + ok[i].handling_per_line * lines[i]
        else:
            if best is None or total < best:
                best = total
    return best


# -- report ----------------------------------------------------------------------------------------
def _pct(values: list[float]) -> str:
    if not values:
        return "   n/a  "
    return f"{statistics.mean(values) * 100:+6.2f}%"


def _gaps(values: list[float]) -> str:
    if not values:
        return "n/a"
    worse = sum(v > 1e-12 for v in values)
    return f"{_pct(values)} (max {max(values) * 100:6.2f}%, {worse:2} worse)"


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    rng = random.Random(SEED)
    started = time.perf_counter()
    print(
        f"{ORDERS_PER_NETWORK} orders per network, at most {MAX_SITES} sites per order, "
        f"split penalty ${PENALTY}; cost gaps are relative to the exact optimum"
    )
    for n in NETWORKS:
        vs_exact: list[float] = []
        heur_vs_exact: list[float] = []
        nearest_vs_exact: list[float] = []
        saving: list[float] = []
        times: list[float] = []
        heur_times: list[float] = []
        splits = infeasible = nearest_none = 0
        for _ in range(ORDERS_PER_NETWORK):
            sites = _network(rng, n)
            req = _order(rng)
            t0 = time.perf_counter()
            d = choose_sites(req, sites)
            took = time.perf_counter() - t0
            t0 = time.perf_counter()
            h = choose_sites(dataclasses.replace(req, node_limit=0), sites)
            heur_took = time.perf_counter() - t0
            exact = _brute_force(req, sites)
            assert (exact is None) == (d.total is None), (exact, d.explanation)
            if exact is None or d.total is None:
                infeasible += 1
                continue
            times.append(took)
            heur_times.append(heur_took)
            splits += len(d.assignment) > 1
            vs_exact.append(float(d.total / exact - 1))
            if h.total is not None:
                heur_vs_exact.append(float(h.total / exact - 1))
            base = nearest_site_plan(req, sites)
            if base.total is None:
                nearest_none += 1
            else:
                nearest_vs_exact.append(float(base.total / exact - 1))
                saving.append(float(1 - d.total / base.total))
        print(
            f"{n} sites  engine vs exact {_gaps(vs_exact)}  "
            f"heuristic alone {_gaps(heur_vs_exact)}  "
            f"nearest-with-stock {_gaps(nearest_vs_exact)} → engine saves {_pct(saving)}  "
            f"splits {splits:2}  infeasible {infeasible:2}  "
            f"time p50 {_ms(times, 0.5):5.2f} ms p99 {_ms(times, 0.99):5.2f} ms  "
            f"(heuristic p50 {_ms(heur_times, 0.5):5.2f} ms)"
        )
    _big(rng)
    print(f"(bench took {time.perf_counter() - started:.0f} s)")


def _big(rng: random.Random) -> None:
    """Beyond brute force: 11 sites, 12–20 lines; the exact search's node budget decides."""
    methods: dict[str, int] = {}
    times: list[float] = []
    heur_vs_engine: list[float] = []
    for _ in range(BIG_ORDERS):
        sites = _network(rng, len(BIG_REGIONS), BIG_REGIONS)
        req = _order(rng, (12, 20))
        t0 = time.perf_counter()
        d = choose_sites(req, sites)
        times.append(time.perf_counter() - t0)
        methods[d.method] = methods.get(d.method, 0) + 1
        h = choose_sites(dataclasses.replace(req, node_limit=0), sites)
        if d.total is not None and h.total is not None and d.optimal:
            heur_vs_engine.append(float(h.total / d.total - 1))
    shown = ", ".join(f"{k} {v}" for k, v in sorted(methods.items()))
    print(
        f"11 sites, 12–20 lines ({BIG_ORDERS} orders; no brute force): {shown}  "
        f"heuristic alone vs exact {_gaps(heur_vs_engine)}  "
        f"time p50 {_ms(times, 0.5):6.2f} ms p99 {_ms(times, 0.99):6.2f} ms"
    )


if __name__ == "__main__":
    main()
