"""Cost-based sourcing: which site(s) ship an order at the lowest true cost, and why. Pure.

True cost = shipping (each site's cheapest carrier service that makes the promise, priced on
the shipment's total weight with `protocols.rates.price`) + handling (per order and per line
at each shipping site) + a split penalty per shipment beyond the first; subject to stock, each
site's remaining capacity (orders today) and the promised delivery date (next carrier cutoff
+ the zone's transit days). See docs/sourcing.md for the model, the tie rule and complexity.

`choose_sites` is the engine (exact branch and bound, a heuristic above a node budget);
`nearest_site_plan` is the baseline it is measured against (bench/sourcing_bench.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from edge_server.wms.outbound.waves import next_cutoff
from protocols.rates import RateCard, RateError, RateZone, price, zone_for

__all__ = [
    "DEFAULT_NODE_LIMIT",
    "Decision",
    "Destination",
    "OrderLine",
    "Plan",
    "ServiceOffer",
    "Shipment",
    "SiteOffer",
    "SourcingRequest",
    "choose_sites",
    "evaluate",
    "nearest_site_plan",
    "site_distance",
]

ZERO = Decimal(0)
CENT = Decimal("0.01")
MIN_WEIGHT = Decimal("0.001")  # a shipment of weightless items is billed as one gram
#: Search nodes (partial assignments) the exact search may visit before the heuristic takes over.
DEFAULT_NODE_LIMIT = 200_000
_SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "EUR": "€", "GBP": "£"}

Method = Literal["exact", "heuristic", "nearest", "given"]


# -- inputs ------------------------------------------------------------------------------------
class HasDestination(Protocol):
    """Anything with a country and a postal code, e.g. protocols.outbound.ShipTo."""

    @property
    def country(self) -> str: ...

    @property
    def postal_code(self) -> str: ...


@dataclass(frozen=True)
class Destination:
    country: str
    postal_code: str = ""


@dataclass(frozen=True)
class OrderLine:
    sku: str
    qty: int
    unit_weight_kg: Decimal = ZERO


@dataclass(frozen=True)
class ServiceOffer:
    """A carrier service of a site, as the edge describes it (`carrier_service.changed`)."""

    code: str
    rate_card: RateCard
    cutoff_local: str = "17:00"
    ship_days: str = "12345"
    active: bool = True


@dataclass(frozen=True)
class SiteOffer:
    """What a site offers an order: services, stock (available-to-promise), costs, capacity."""

    code: str
    services: Sequence[ServiceOffer]
    stock: Mapping[str, int]
    handling_per_order: Decimal = ZERO
    handling_per_line: Decimal = ZERO
    capacity_left: int | None = None  # orders it can still take today; None: no limit
    timezone: str = "UTC"


@dataclass(frozen=True)
class SourcingRequest:
    lines: Sequence[OrderLine]
    ship_to: HasDestination
    now: datetime  # aware
    promised_by: date | None = None  # latest acceptable delivery date, destination-local
    currency: str = "USD"
    split_penalty: Decimal = Decimal("5.00")  # per shipment beyond the first
    max_sites: int = 3
    node_limit: int = DEFAULT_NODE_LIMIT


# -- outputs -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Shipment:
    site: str
    items: dict[str, int]
    weight_kg: Decimal
    service: str
    zone: str
    ship_at: datetime  # the carrier cutoff it leaves with (UTC)
    delivery_date: date | None  # None: the zone has no transit days (and no promise was asked)
    shipping: Decimal
    handling: Decimal
    penalty: Decimal

    @property
    def total(self) -> Decimal:
        return self.shipping + self.handling + self.penalty


@dataclass(frozen=True)
class Plan:
    """One way to ship the order: a shipment per site."""

    shipments: tuple[Shipment, ...]

    @property
    def sites(self) -> tuple[str, ...]:
        return tuple(s.site for s in self.shipments)

    @property
    def total(self) -> Decimal:
        return sum((s.total for s in self.shipments), ZERO)

    @property
    def penalty(self) -> Decimal:
        return sum((s.penalty for s in self.shipments), ZERO)

    @property
    def delivery_date(self) -> date | None:
        dates = [s.delivery_date for s in self.shipments]
        return None if any(d is None for d in dates) else max(d for d in dates if d)

    @property
    def assignment(self) -> dict[str, dict[str, int]]:
        return {s.site: dict(s.items) for s in self.shipments}

    def label(self) -> str:
        return " + ".join(sorted(self.sites))

    def breakdown(self) -> dict[str, dict[str, str]]:
        return {
            s.site: {
                "shipping": str(s.shipping.quantize(CENT)),
                "handling": str(s.handling.quantize(CENT)),
                "penalty": str(s.penalty.quantize(CENT)),
                "total": str(s.total.quantize(CENT)),
            }
            for s in self.shipments
        }


@dataclass(frozen=True)
class Decision:
    """The chosen plan (None when infeasible), the best alternative, and why."""

    plan: Plan | None
    alternative: Plan | None
    excluded: dict[str, str]  # site → why it cannot ship any of this order
    explanation: str
    method: Method
    optimal: bool  # the plan is the exact optimum of the model (docs/sourcing.md)
    nodes: int = 0
    problems: tuple[str, ...] = ()  # why no plan, when infeasible

    @property
    def feasible(self) -> bool:
        return self.plan is not None

    @property
    def total(self) -> Decimal | None:
        return self.plan.total if self.plan else None

    @property
    def assignment(self) -> dict[str, dict[str, int]]:
        return self.plan.assignment if self.plan else {}


# -- per-site pricing ----------------------------------------------------------------------------
@dataclass
class _Route:
    """A service that reaches the destination in time: its zone, cutoff and delivery date."""

    service: ServiceOffer
    zone: RateZone
    ship_at: datetime
    delivery: date | None


@dataclass
class _Site:
    offer: SiteOffer
    routes: list[_Route]
    cache: dict[Decimal, tuple[Decimal, _Route] | None] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.offer.code

    def shipping(self, weight: Decimal, dest: HasDestination) -> tuple[Decimal, _Route] | None:
        """Cheapest route for a shipment of `weight` kg (then earliest delivery, then code)."""
        weight = max(weight, MIN_WEIGHT)
        if weight in self.cache:
            return self.cache[weight]
        best: tuple[Decimal, _Route] | None = None
        for route in self.routes:
            try:
                cost = price(route.service.rate_card, dest.country, dest.postal_code, weight).total
            except RateError:
                continue
            if best is None or _route_key(cost, route) < _route_key(*best):
                best = (cost, route)
        self.cache[weight] = best
        return best

    def cost(self, weight: Decimal, lines: int, dest: HasDestination) -> Decimal | None:
        """Shipping + handling of one shipment, or None when no route takes that weight."""
        found = self.shipping(weight, dest)
        if found is None:
            return None
        return found[0] + self.offer.handling_per_order + self.offer.handling_per_line * lines


def _route_key(cost: Decimal, route: _Route) -> tuple[Decimal, date, str]:
    return (cost, route.delivery or date.max, route.service.code)


def _money(amount: Decimal, currency: str) -> str:
    symbol = _SYMBOLS.get(currency)
    q = amount.quantize(CENT)
    return f"{symbol}{q}" if symbol else f"{currency} {q}"


def _routes(site: SiteOffer, req: SourcingRequest) -> tuple[list[_Route], str | None]:
    """The site's services that reach the destination by the promise; else why none does."""
    dest = req.ship_to
    tz = ZoneInfo(site.timezone)
    routes: list[_Route] = []
    late: list[str] = []
    covered = False
    for svc in site.services:
        if not svc.active or svc.rate_card.currency != req.currency:
            continue
        try:
            zone = zone_for(svc.rate_card, dest.country, dest.postal_code)
        except RateError:
            continue
        covered = True
        cutoff = next_cutoff(req.now, svc.cutoff_local, svc.ship_days, tz)
        if cutoff is None:
            continue
        delivery = (
            cutoff.astimezone(tz).date() + timedelta(days=zone.transit_days)
            if zone.transit_days is not None
            else None
        )
        if req.promised_by is not None and (delivery is None or delivery > req.promised_by):
            when = f"{delivery.isoformat()}" if delivery else "an unknown date"
            late.append(f"{svc.code} delivers {when}")
            continue
        routes.append(_Route(svc, zone, cutoff, delivery))
    if routes:
        return routes, None
    if late:
        promised = req.promised_by.isoformat() if req.promised_by else "?"
        return [], f"cannot deliver by {promised} ({'; '.join(late)})"
    if covered:
        return [], "no carrier service with a pickup day"
    where = f"{dest.country} {dest.postal_code}".strip()
    return [], f"no active {req.currency} carrier service delivers to {where}"


# -- the model -----------------------------------------------------------------------------------
@dataclass
class _Problem:
    req: SourcingRequest
    skus: list[str]  # heaviest line first
    qty: dict[str, int]
    weight: dict[str, Decimal]  # unit weight
    sites: list[_Site]  # candidates, by code
    excluded: dict[str, str]
    split_skus: frozenset[str]  # no candidate holds all of it: it is filled site by site
    problems: list[str]

    def stock(self, site: _Site, sku: str) -> int:
        return max(0, int(site.offer.stock.get(sku, 0)))


def _merge(lines: Sequence[OrderLine]) -> tuple[dict[str, int], dict[str, Decimal]]:
    qty: dict[str, int] = {}
    weight: dict[str, Decimal] = {}
    for line in lines:
        if line.qty <= 0:
            raise ValueError(f"line {line.sku}: qty must be above zero")
        if line.unit_weight_kg < 0:
            raise ValueError(f"line {line.sku}: unit weight must not be negative")
        if line.sku in weight and weight[line.sku] != line.unit_weight_kg:
            raise ValueError(f"SKU {line.sku} is given two unit weights")
        qty[line.sku] = qty.get(line.sku, 0) + line.qty
        weight[line.sku] = line.unit_weight_kg
    return qty, weight


def _problem(req: SourcingRequest, offers: Sequence[SiteOffer]) -> _Problem:
    if req.now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not req.lines:
        raise ValueError("an order needs at least one line")
    if req.max_sites < 1:
        raise ValueError("max_sites must be at least 1")
    if len({o.code for o in offers}) != len(offers):
        raise ValueError("site codes must be unique")
    qty, weight = _merge(req.lines)
    skus = sorted(qty, key=lambda s: (-weight[s] * qty[s], s))
    excluded: dict[str, str] = {}
    sites: list[_Site] = []
    for offer in sorted(offers, key=lambda o: o.code):
        if offer.capacity_left is not None and offer.capacity_left <= 0:
            excluded[offer.code] = "no capacity left today"
            continue
        if not any(offer.stock.get(sku, 0) > 0 for sku in skus):
            excluded[offer.code] = "no stock of any line"
            continue
        routes, why = _routes(offer, req)
        if why is not None:
            excluded[offer.code] = why
            continue
        sites.append(_Site(offer, routes))
    problems: list[str] = []
    split: set[str] = set()
    for sku in skus:
        held = [max(0, int(s.offer.stock.get(sku, 0))) for s in sites]
        if not any(h >= qty[sku] for h in held):
            split.add(sku)
            if sum(held) < qty[sku]:
                problems.append(
                    f"{sku}: {qty[sku]} ordered, {sum(held)} in stock at the sites that can ship"
                )
    return _Problem(req, skus, qty, weight, sites, excluded, frozenset(split), problems)


def _fill_orders(p: _Problem, sku: str, subset: Sequence[_Site]) -> Iterator[dict[int, int]]:
    """Ways to split a line no site holds whole: each site in turn gives all it has, in every
    order of the subset's holders; distinct distributions only (index in subset → qty)."""
    holders = [i for i, s in enumerate(subset) if p.stock(s, sku) > 0]
    seen: set[tuple[tuple[int, int], ...]] = set()
    for order in itertools.permutations(holders):
        left = p.qty[sku]
        parts: dict[int, int] = {}
        for i in order:
            if left == 0:
                break
            take = min(left, p.stock(subset[i], sku))
            parts[i] = take
            left -= take
        key = tuple(sorted(parts.items()))
        if left == 0 and key not in seen:
            seen.add(key)
            yield parts


def _build(p: _Problem, subset: Sequence[_Site], items: Sequence[dict[str, int]]) -> Plan | None:
    """The plan for `items[i]` shipped from `subset[i]` (every one non-empty), or None."""
    req = p.req
    rows: list[tuple[_Site, dict[str, int], Decimal, Decimal, _Route]] = []
    for site, its in zip(subset, items, strict=True):
        weight = sum((p.weight[s] * q for s, q in its.items()), ZERO)
        found = site.shipping(weight, req.ship_to)
        if found is None:
            return None
        rows.append((site, its, weight, found[0], found[1]))
    # The largest shipment (units, then site code) carries no penalty; each other one does.
    rows.sort(key=lambda r: (-sum(r[1].values()), r[0].code))
    shipments = []
    for n, (site, its, weight, ship_cost, route) in enumerate(rows):
        shipments.append(
            Shipment(
                site=site.code,
                items=dict(sorted(its.items())),
                weight_kg=weight,
                service=route.service.code,
                zone=route.zone.name,
                ship_at=route.ship_at,
                delivery_date=route.delivery,
                shipping=ship_cost,
                handling=site.offer.handling_per_order + site.offer.handling_per_line * len(its),
                penalty=req.split_penalty if n else ZERO,
            )
        )
    return Plan(tuple(shipments))


def _plan_key(
    plan: Plan,
) -> tuple[Decimal, int, date, tuple[str, ...], tuple[tuple[str, str, int], ...]]:
    """The tie rule: cheaper, then fewer shipments, then earlier delivery, then site codes,
    then the assignment itself (so the same input always gives the same answer)."""
    when = plan.delivery_date or date.max
    cells = tuple(sorted((s.site, sku, q) for s in plan.shipments for sku, q in s.items.items()))
    return (plan.total, len(plan.shipments), when, tuple(sorted(plan.sites)), cells)


class _Top2:
    """The best plan and the best plan on another set of sites (the alternative)."""

    def __init__(self) -> None:
        self.best: Plan | None = None
        self.runner: Plan | None = None

    def offer(self, plan: Plan) -> None:
        key, sites = _plan_key(plan), frozenset(plan.sites)
        if self.best is None:
            self.best = plan
        elif frozenset(self.best.sites) == sites:
            if key < _plan_key(self.best):
                self.best = plan
        elif key < _plan_key(self.best):
            # the old best is on another set of sites than `plan`: it is the alternative now
            self.best, self.runner = plan, self.best
        elif self.runner is None or key < _plan_key(self.runner):
            self.runner = plan

    def bound_for(self, sites: frozenset[str]) -> Decimal | None:
        """A partial plan on `sites` costing more than this cannot change the result."""
        if self.best is not None and frozenset(self.best.sites) == sites:
            return self.best.total
        return self.runner.total if self.runner is not None else None


class _Budget(Exception):
    pass


def _exact(p: _Problem, top: _Top2) -> int:
    """Branch and bound over site subsets by increasing size; raises _Budget past the limit.
    Returns the nodes visited."""
    req, dest = p.req, p.req.ship_to
    floor_w = min((p.weight[s] for s in p.skus), default=ZERO)
    floors: dict[str, Decimal] = {}
    for site in p.sites:
        c = site.cost(floor_w, 1, dest)
        floors[site.code] = c if c is not None else Decimal("Infinity")
    nodes = 0
    max_k = min(req.max_sites, len(p.sites))
    for k in range(1, max_k + 1):
        cheapest = sorted(floors.values())[:k]
        lower = sum(cheapest, ZERO) + req.split_penalty * (k - 1)
        limit = top.runner.total if top.runner is not None else None
        if limit is not None and top.best is not None and lower > limit:
            break
        for subset in itertools.combinations(p.sites, k):
            codes = frozenset(s.code for s in subset)
            bound = top.bound_for(codes)
            base = sum((floors[s.code] for s in subset), ZERO) + req.split_penalty * (k - 1)
            if bound is not None and base > bound:
                continue
            if not _subset_can_cover(p, subset):
                continue
            nodes += _search(p, subset, top, codes, nodes)
    return nodes


def _subset_can_cover(p: _Problem, subset: Sequence[_Site]) -> bool:
    for sku in p.skus:
        held = [p.stock(s, sku) for s in subset]
        if sku in p.split_skus:
            if sum(held) < p.qty[sku]:
                return False
        elif max(held) < p.qty[sku]:
            return False
    # every site must be able to take something
    return all(any(p.stock(s, sku) > 0 for sku in p.skus) for s in subset)


def _search(
    p: _Problem, subset: Sequence[_Site], top: _Top2, codes: frozenset[str], used: int
) -> int:
    req, dest = p.req, p.req.ship_to
    k = len(subset)
    penalty = req.split_penalty * (k - 1)
    floor_w = min((p.weight[s] for s in p.skus), default=ZERO)
    floors = []
    for s in subset:
        c = s.cost(floor_w, 1, dest)
        if c is None:
            return 0
        floors.append(c)
    weights = [ZERO] * k
    items: list[dict[str, int]] = [{} for _ in range(k)]
    nodes = 0

    def partial_cost() -> Decimal | None:
        total = penalty
        for i in range(k):
            if items[i]:
                c = subset[i].cost(weights[i], len(items[i]), dest)
                if c is None:
                    return None
                total += c
            else:
                total += floors[i]
        return total

    def dfs(j: int) -> None:
        nonlocal nodes
        nodes += 1
        if used + nodes > req.node_limit:
            raise _Budget
        lower = partial_cost()
        if lower is None:
            return
        bound = top.bound_for(codes)
        if bound is not None and lower > bound:
            return
        if j == len(p.skus):
            if all(items):
                plan = _build(p, subset, items)
                if plan is not None:
                    top.offer(plan)
            return
        sku = p.skus[j]
        if sku in p.split_skus:
            choices = list(_fill_orders(p, sku, subset))
        else:
            choices = [{i: p.qty[sku]} for i in range(k) if p.stock(subset[i], sku) >= p.qty[sku]]
        for parts in choices:
            for i, q in parts.items():
                items[i][sku] = q
                weights[i] += p.weight[sku] * q
            dfs(j + 1)
            for i, q in parts.items():
                del items[i][sku]
                weights[i] -= p.weight[sku] * q

    dfs(0)
    return nodes


# -- heuristic (big inputs) ------------------------------------------------------------------------
def _plan_from(p: _Problem, assign: dict[str, dict[str, int]]) -> Plan | None:
    by_code = {s.code: s for s in p.sites}
    used = [c for c in sorted(assign) if assign[c]]
    if len(used) > p.req.max_sites:
        return None
    return _build(p, [by_code[c] for c in used], [assign[c] for c in used])


def _greedy(p: _Problem, top: _Top2) -> None:
    """Best single sites, then lines one by one to the site adding the least cost, then moves
    of single lines between sites while that lowers the cost."""
    for site in p.sites:
        if all(p.stock(site, sku) >= p.qty[sku] for sku in p.skus):
            plan = _plan_from(p, {site.code: dict(p.qty)})
            if plan is not None:
                top.offer(plan)
    assign: dict[str, dict[str, int]] = {s.code: {} for s in p.sites}
    for sku in p.skus:
        options: list[tuple[Decimal, dict[str, int]]] = []
        holders = sorted(p.sites, key=lambda s: -p.stock(s, sku))
        if sku in p.split_skus:
            parts: dict[str, int] = {}
            left = p.qty[sku]
            for s in holders:
                if left == 0:
                    break
                take = min(left, p.stock(s, sku))
                if take:
                    parts[s.code] = take
                    left -= take
            options.append((ZERO, parts))
        else:
            for s in holders:
                if p.stock(s, sku) < p.qty[sku]:
                    continue
                trial = {c: dict(v) for c, v in assign.items()}
                trial[s.code][sku] = p.qty[sku]
                plan = _plan_from(p, trial)
                if plan is not None:
                    options.append((plan.total, {s.code: p.qty[sku]}))
        if not options:
            return
        _, parts = min(options, key=lambda o: (o[0], sorted(o[1])))
        for code, q in parts.items():
            assign[code][sku] = q
    current = _plan_from(p, assign)
    if current is None:
        return
    top.offer(current)
    improved = True
    while improved:
        improved = False
        for sku in p.skus:
            if sku in p.split_skus:
                continue
            src = next(c for c, v in assign.items() if sku in v)
            for s in p.sites:
                if s.code == src or p.stock(s, sku) < p.qty[sku]:
                    continue
                trial = {c: dict(v) for c, v in assign.items()}
                del trial[src][sku]
                trial[s.code][sku] = p.qty[sku]
                plan = _plan_from(p, trial)
                if plan is not None and _plan_key(plan) < _plan_key(current):
                    assign, current, improved = trial, plan, True
                    top.offer(plan)
                    break


# -- public ------------------------------------------------------------------------------------
def _explain(plan: Plan | None, alt: Plan | None, currency: str, problems: Sequence[str]) -> str:
    if plan is None:
        return "No feasible plan: " + "; ".join(problems) if problems else "No feasible plan."
    label = plan.label()
    if alt is None:
        return f"{label} is the only feasible choice ({_money(plan.total, currency)})."
    diff = alt.total - plan.total
    if diff == 0:
        return (
            f"{label} ties with {alt.label()} at {_money(plan.total, currency)}; chosen by the "
            "tie rule (fewer shipments, then earlier delivery, then site code)."
        )
    return f"{label} saves {_money(diff, currency)} over {alt.label()}."


def _decision(p: _Problem, top: _Top2, method: Method, optimal: bool, nodes: int) -> Decision:
    problems = list(p.problems)
    if top.best is None and not problems:
        if not p.sites:
            problems.append("no site can ship any of it")
        else:
            problems.append(f"no combination of at most {p.req.max_sites} site(s) covers it")
    plan = top.best
    return Decision(
        plan=plan,
        alternative=top.runner if plan else None,
        excluded=dict(p.excluded),
        explanation=_explain(plan, top.runner, p.req.currency, problems),
        method=method,
        optimal=optimal and plan is not None,
        nodes=nodes,
        problems=tuple(problems) if plan is None else (),
    )


def choose_sites(req: SourcingRequest, sites: Sequence[SiteOffer]) -> Decision:
    """The cheapest feasible plan and its best alternative on another set of sites, explained.
    Exact within the model (docs/sourcing.md) unless the search passes `req.node_limit` nodes;
    then the better of the best plan found so far and the heuristic's (`optimal` False)."""
    p = _problem(req, sites)
    top = _Top2()
    if p.problems:
        return _decision(p, top, "exact", True, 0)
    try:
        nodes = _exact(p, top)
    except _Budget:
        _greedy(p, top)
        return _decision(p, top, "heuristic", False, req.node_limit)
    return _decision(p, top, "exact", True, nodes)


def evaluate(
    req: SourcingRequest, sites: Sequence[SiteOffer], assignment: Mapping[str, Mapping[str, int]]
) -> Plan | None:
    """Price a given assignment {site: {sku: qty}} with the engine's cost model; None when it
    breaks a constraint (unknown or excluded site, stock, coverage, weight, `max_sites`, a line
    split although one site could ship it whole)."""
    p = _problem(req, sites)
    by_code = {s.code: s for s in p.sites}
    used = {c: dict(v) for c, v in assignment.items() if any(q > 0 for q in v.values())}
    if not used or len(used) > req.max_sites or any(c not in by_code for c in used):
        return None
    shipped: dict[str, int] = {}
    for code, its in used.items():
        for sku, q in its.items():
            if q < 0 or q > p.stock(by_code[code], sku):
                return None
            shipped[sku] = shipped.get(sku, 0) + q
    if {k: v for k, v in shipped.items() if v} != p.qty:
        return None
    for sku in p.qty:
        senders = [c for c, its in used.items() if its.get(sku, 0) > 0]
        if sku not in p.split_skus and len(senders) > 1:
            return None  # a line one site could ship whole is never split
    codes = sorted(used)
    return _build(
        p,
        [by_code[c] for c in codes],
        [{s: q for s, q in used[c].items() if q} for c in codes],
    )


def site_distance(site: SiteOffer, dest: HasDestination) -> int | None:
    """How near a site is, for the baseline: the fewest transit days of any active service's
    zone for the destination (None: no transit days known, or no service reaches it)."""
    days: list[int] = []
    for svc in site.services:
        if not svc.active:
            continue
        try:
            zone = zone_for(svc.rate_card, dest.country, dest.postal_code)
        except RateError:
            continue
        if zone.transit_days is not None:
            days.append(zone.transit_days)
    return min(days) if days else None


def nearest_site_plan(req: SourcingRequest, sites: Sequence[SiteOffer]) -> Decision:
    """The baseline: the nearest feasible site (`site_distance`, then code) holding all of
    the order; if none does, each line from the nearest site holding it whole, a line no site
    holds whole filled nearest first. Same constraints and cost model as `choose_sites`."""
    p = _problem(req, sites)
    top = _Top2()
    if not p.problems:
        dest = req.ship_to
        near = sorted(
            p.sites,
            key=lambda s: (
                d if (d := site_distance(s.offer, dest)) is not None else 10**6,
                s.code,
            ),
        )
        assign: dict[str, dict[str, int]] = {}
        whole = next((s for s in near if all(p.stock(s, k) >= p.qty[k] for k in p.skus)), None)
        if whole is not None:
            assign = {whole.code: dict(p.qty)}
        else:
            for sku in p.skus:
                left = p.qty[sku]
                holder = next((s for s in near if p.stock(s, sku) >= left), None)
                order = [holder] if holder else near
                for s in order:
                    take = min(left, p.stock(s, sku))
                    if take:
                        assign.setdefault(s.code, {})[sku] = take
                        left -= take
                    if left == 0:
                        break
        plan = _plan_from(p, assign)
        if plan is not None:
            top.offer(plan)
    return _decision(p, top, "nearest", False, 0)
