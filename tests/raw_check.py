"""A second reading of a model file, for the tests: every rule of a plan and its objective value, from the raw YAML.

Written from the data-format description alone — docs/data-notes.md, /work/shared/design.md, the README's
list of scenario fields and the comments in ``models/duisburg-2016.yaml`` and ``models/rates/sgb2-defaults.yaml``
— not from optalloc's code. It imports nothing from optalloc and nothing from the other test helpers, so a
bug in optalloc's reading of the document shows up as a disagreement with this one.

    reading = read(MODEL, scenarios=[...], basis="gross")   # the model as rules over plain numbers
    violations(reading, levels, split)                       # every rule a plan breaks ([] = feasible)
    integrations(reading, levels)                            # the plan's expected integrations
    program = linear_program(reading)                        # the same rules as an LP (for the dual certificate)
    optimum(program, reading)                                # its optimum and row prices from bare highspy
    certify(reading, program, prices, levels, split)         # a plan against a dual bound (optimal or not)

A plan is ``levels`` (instrument id → entries; euros for a money-only line) and ``split`` (where several pools
may pay a row: (instrument, component, pool) → euros; the component number is ignored here, a row has at most
one cost that several pools share).

Money is compared as the reports print it: a pool's money to the cent (its exact total rounded half up,
against the whole cents it makes available), other money (caps, policy rules on money, how a shared cost is split) within a
cent, entries within 10⁻⁶ relative.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import yaml

FIXED_FINANCING = {"prepaid", "partly_prepaid", "money_only", "external"}  # fixed at the printed figure
NEW_MONEY = {"new", "partly_prepaid", "money_only"}  # rows whose printed money is new money of their pools
CONTRACTS = {"places", "contract"}  # capacities bought from a provider: they also keep a floor
CENT = Decimal("0.01")
ENTRY_TOLERANCE = 1e-6  # relative, on entries (and places, customers, entries of a rule)
MONEY_TOLERANCE = 0.01  # euros, on money that is not printed per pool
BIG = 1e30  # an infinite side of a rule or bound in the LP


def euros(x: float | int | str | Decimal) -> Decimal:
    """A figure of the files as an exact decimal (a float through its shortest repr: 0.1 stays 0.1)."""
    return x if isinstance(x, Decimal) else Decimal(repr(x) if isinstance(x, float) else str(x))


def cents_half_up(x: float | Decimal) -> Decimal:
    """Euros rounded half up to the cent."""
    return euros(x).quantize(CENT, rounding=ROUND_HALF_UP)


# ----- reading: files and scenario overlays -----


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # yaml.safe_load's loader, in C where built
_PARSED: dict[tuple[str, float], dict] = {}


def load_yaml(path: Path | str) -> dict:
    """A YAML file as plain data (the safe loader; parsed once per file and version, a fresh copy each time)."""
    path = Path(path).resolve()
    key = (str(path), path.stat().st_mtime)
    if key not in _PARSED:
        _PARSED[key] = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    return copy.deepcopy(_PARSED[key])


@dataclass
class Overlay:
    """What the scenarios changed that is not a plain replacement of a field of the model file."""

    cuts: list[Decimal] = field(default_factory=list)  # euros off the new-business pool, in order
    fix: dict[str, float] = field(default_factory=dict)
    low: dict[str, float] = field(default_factory=dict)  # a scenario's own minimum
    high: dict[str, float] = field(default_factory=dict)  # a scenario's own maximum
    rate: dict[str, dict[str, float]] = field(default_factory=dict)  # basis → rate, replacing the class's
    rate_factor: dict[str, float] = field(default_factory=dict)
    unit_cost: dict[str, float] = field(default_factory=dict)
    cost_factor: dict[str, float] = field(default_factory=dict)
    capacity_factor: dict[str, float] = field(default_factory=dict)
    count_factor: dict[str, float] = field(default_factory=dict)  # coverage id → factor on the official reach
    names: list[str] = field(default_factory=list)


def apply_overlay(model: dict, overlay: Overlay, scenario: Mapping[str, Any]) -> dict:
    """The model with one scenario applied (the README's list of what a scenario may set); cuts, factors and
    bounds go to ``overlay``."""
    model = copy.deepcopy(model)
    overlay.names.append(str(scenario.get("name", "")))
    budget = scenario.get("budget") or {}
    if "allocation_cut_share" in budget:  # first, and on what earlier scenarios left: allocation cuts compound
        allocation = euros(model["budget"]["egt_allocation"])
        model["budget"]["egt_allocation"] = float(cents_half_up(allocation * (1 - euros(budget["allocation_cut_share"]))))
    for key, value in budget.items():
        if key == "cut_share":  # a share of the new-business budget after the allocation cuts so far, booked apart
            overlay.cuts.append(cents_half_up(euros(value) * _new_business(model, Overlay())))
        elif key == "cut_amount":
            overlay.cuts.append(euros(value))
        elif key != "allocation_cut_share":  # reserve_share, reserve_amount, vbl_pool
            model["budget"][key] = value
    pools = {p["id"]: p for p in model["pools"]}
    for pid, change in (scenario.get("pools") or {}).items():
        for key, value in change.items():
            if key == "cut_share":  # off the amount left, to the cent: pool cuts compound
                pools[pid]["amount"] = float(cents_half_up(euros(pools[pid]["amount"]) * (1 - euros(value))))
                pools[pid].pop("printed", None)
            else:
                pools[pid][key] = value
    caps = {c["id"]: c for c in model.get("caps") or []}
    for cid, change in (scenario.get("caps") or {}).items():
        caps[cid].update(change)
    rows = {r["id"]: r for r in model["instruments"]}
    for iid, change in (scenario.get("instruments") or {}).items():
        for key, value in change.items():
            if key == "fix":
                overlay.fix[iid] = float(value)
            elif key == "drop":
                if value:
                    overlay.fix[iid] = 0.0
            elif key == "min":
                overlay.low[iid] = float(value)
            elif key == "max":
                overlay.high[iid] = float(value)
            elif key == "rate":
                overlay.rate.setdefault(iid, {}).update({b: float(v) for b, v in value.items()})
            elif key in ("rate_factor", "cost_factor", "capacity_factor"):
                factors = getattr(overlay, key)
                factors[iid] = factors.get(iid, 1.0) * float(value)
            elif key == "unit_cost":
                overlay.unit_cost[iid] = float(value)
            elif key == "pools":
                rows[iid]["pools"] = list(value)
            else:
                raise ValueError(f"scenario field instruments.{iid}.{key} is not read by raw_check")
    coverage = {c["id"]: c for c in model.get("coverage") or []}
    for cid, change in (scenario.get("coverage") or {}).items():
        if change.get("drop"):
            model["coverage"] = [c for c in model["coverage"] if c["id"] != cid]
            coverage.pop(cid, None)
            continue
        change = dict(change)
        if "min_count_factor" in change:
            overlay.count_factor[cid] = overlay.count_factor.get(cid, 1.0) * float(change.pop("min_count_factor"))
        if cid in coverage:
            if "min_share" in change:
                coverage[cid].pop("min_count", None)
            if "min_count" in change:
                coverage[cid].pop("min_share", None)
            coverage[cid].update(change)
        else:
            model.setdefault("coverage", []).append({"id": cid, **change})
    rules = {p["id"]: p for p in model.get("policy") or []}
    for pid, change in (scenario.get("policy") or {}).items():
        if change.get("drop"):
            model["policy"] = [p for p in model["policy"] if p["id"] != pid]
        else:
            rules[pid].update(change)
    if scenario.get("priorities"):
        model["priorities"] = {**(model.get("priorities") or {}), **scenario["priorities"]}
    for name, change in (scenario.get("assumptions") or {}).items():
        model.setdefault("assumptions", {}).setdefault(name, {}).update(change)
    return model


# ----- the reading: rows, pools, rules -----


@dataclass(frozen=True)
class Cost:
    """One cost of a row per unit of its level, paid by one pool or shared by several."""

    per_unit: float
    pools: tuple[str, ...]
    document: float  # the document's own cost per unit (before a unit-cost override or a cost factor)


@dataclass
class Row:
    id: str
    unit: str  # entries | euros
    official: float  # the row's own level in the official plan (entries; euros for a money-only line)
    printed_entries: float
    low: float
    high: float
    costs: list[Cost]
    groups: dict[str, float]
    weight: float
    segments: list[tuple[float, float, float]]  # (start, end, rate) in the row's units; the last is open
    lot: int
    raw: dict
    rate: float = 0.0  # expected integrations per entry (gross or net), before the response and the weight

    @property
    def per_unit(self) -> float:
        return sum(c.per_unit for c in self.costs)

    @property
    def document_per_unit(self) -> float:
        return sum(c.document for c in self.costs)


@dataclass(frozen=True)
class Rule:
    """low ≤ Σ coefficient × term ≤ high. A term is ("level", row) or ("split", row, pool)."""

    name: str
    terms: dict[tuple[str, ...], float]
    low: float | None
    high: float | None
    kind: str  # pool (to the cent) | money (within a cent) | entries (10⁻⁶ relative) | bounds


@dataclass
class Reading:
    name: str
    rows: dict[str, Row]
    rules: list[Rule]
    available: dict[str, Decimal]  # euros each pool makes available
    new_business: Decimal
    reserve: Decimal
    egt: str


def read(model: Path | str | Mapping[str, Any], scenarios: Iterable[Path | str | Mapping[str, Any]] = (),
         rates: Path | str | Mapping[str, Any] | None = None, basis: str | None = None,
         response: str | None = None) -> Reading:
    """The model file (a path or its dict), with scenario files (or dicts) applied in order, as rules."""
    if isinstance(model, Mapping):
        raw, folder = copy.deepcopy(dict(model)), None
    else:
        raw, folder = load_yaml(model), Path(model).parent
    if rates is None:
        if folder is None:
            raise ValueError("a model given as a dict needs its rates")
        rates = folder / raw["meta"]["rates_file"]
    rate_file = dict(rates) if isinstance(rates, Mapping) else load_yaml(rates)
    overlay = Overlay()
    for scenario in scenarios:
        raw = apply_overlay(raw, overlay, scenario if isinstance(scenario, Mapping) else load_yaml(scenario))
    return _reading(raw, rate_file, overlay, basis or rate_file["meta"].get("default_basis", "gross"), response)


def _new_business(model: dict, overlay: Overlay) -> Decimal:
    """Chapter 2: allocation − shift to administration + returns = spendable funds; − commitments."""
    return _spendable(model, overlay) - euros(model["budget"].get("commitments", 0))


def _allocation(model: dict, overlay: Overlay) -> Decimal:
    return euros(model["budget"]["egt_allocation"])  # a scenario's allocation cut is already taken off (apply_overlay)


def _spendable(model: dict, overlay: Overlay) -> Decimal:
    b = model["budget"]
    return (_allocation(model, overlay) - euros(b.get("shift_to_administration", 0))
            + euros(b.get("expected_returns", 0)))


def _earmarked_available(pool: dict, overlay: Overlay) -> Decimal:
    """(granted or amount) × planning share − reserved parts, rounded half up to the cent (a scenario's cut share
    already came off the amount, rounded to the cent: docs/data-notes.md, "Cuts in scenarios")."""
    amount = euros(pool.get("granted", pool.get("amount", 0)))
    reserved = sum((euros(v) for v in (pool.get("reserved") or {}).values()), Decimal(0))
    return cents_half_up(amount * euros(pool.get("planning_share", 1.0))) - reserved


def _reading(raw: dict, rate_file: dict, overlay: Overlay, basis: str, response: str | None) -> Reading:
    b = raw["budget"]
    instruments = [r for r in raw["instruments"] if r["financing"] != "info"]
    by_id = {r["id"]: r for r in raw["instruments"]}
    egt_pool = next(p for p in raw["pools"] if p.get("derived"))
    egt = egt_pool["id"]
    new_business = _new_business(raw, overlay)
    vbl_separate = b.get("vbl_pool", "merged") == "separate"

    # levels of the official plan: a row's own entries (less the rows counted in them), euros for money lines
    official: dict[str, float] = {}
    for r in instruments:
        if r["financing"] == "money_only":
            official[r["id"]] = float(r["new_funds"])
        else:
            inside = sum(float(c.get("entries") or 0) for c in instruments if c.get("entries_in") == r["id"])
            official[r["id"]] = float(r["entries"]) - inside

    # pools: what each makes available; the new-business pool less the reserve and the scenarios' cuts
    available: dict[str, Decimal] = {}
    for p in raw["pools"]:
        if not p.get("derived"):
            available[p["id"]] = _earmarked_available(p, overlay)
    reserve = _reserve(raw, instruments, available, new_business, overlay, egt_pool)
    reserved = sum((euros(v) for v in (egt_pool.get("reserved") or {}).values()), Decimal(0)) + sum(overlay.cuts, Decimal(0))
    available[egt] = cents_half_up(new_business * euros(egt_pool.get("planning_share", 1.0))) - reserved - reserve
    if vbl_separate:
        available[egt] -= euros(b["vbl_credit"])
        available["vbl"] = euros(b["vbl_credit"])

    # cost per unit: a row's printed money over the entries it pays (its own and those of the rows paid from it)
    def payer(r: dict) -> dict:
        return by_id[r["money_in"]] if r["financing"] == "shared" else r

    paid_entries: dict[str, float] = {}
    for r in instruments:
        if r["financing"] in ("new", "shared", "partly_prepaid"):
            paid_entries[payer(r)["id"]] = paid_entries.get(payer(r)["id"], 0.0) + official[r["id"]]
    costs: dict[str, list[Cost]] = {}
    for r in instruments:
        iid, p = r["id"], payer(r)
        row_costs: list[Cost] = []
        if r["financing"] in ("new", "shared", "partly_prepaid", "money_only"):
            money = float(p.get("new_funds") or 0) + float(p.get("vbl") or 0)
            document = 1.0 if r["financing"] == "money_only" else (money / paid_entries[p["id"]] if paid_entries[p["id"]] else 0.0)
            per = overlay.unit_cost.get(iid, p.get("unit_cost") if p.get("unit_cost") is not None else document)
            per *= overlay.cost_factor.get(iid, 1.0)
            pools = list(p.get("pools") or [egt])  # a shared row's money is in its payer's budget
            if vbl_separate and float(p.get("vbl") or 0) > 0:
                pools.append("vbl")
            if money > 0 or per > 0:
                row_costs.append(Cost(per, tuple(pools), document))
        elif r["financing"] == "programme":
            document = float(r["new_funds"]) / float(r["entries"])
            per = overlay.unit_cost.get(iid, r.get("unit_cost") if r.get("unit_cost") is not None else document)
            row_costs.append(Cost(per * overlay.cost_factor.get(iid, 1.0), tuple(r["pools"]), document))
            for pid in r["pools"]:
                pool = next(x for x in raw["pools"] if x["id"] == pid)
                if pool.get("egt_cofunding"):
                    per_place = float(pool["egt_cofunding"]) / float(pool["max_places"])
                    cofunding = per_place * _places_per_entry(r)
                    row_costs.append(Cost(cofunding, (egt,), cofunding))
        costs[iid] = row_costs

    # rates and the response
    classes = rate_file["classes"]
    priorities = raw.get("priorities") or {}
    resp = (raw.get("assumptions") or {}).get("response")
    # a response section means diminishing returns unless it says `shape: linear`; none means constant rates
    shape = response or ("linear" if resp is None else resp.get("shape", "concave"))
    resp = resp or {}
    a = raw.get("assumptions") or {}
    extension = float((a.get("capacity") or {}).get("extension_share", 0.0))
    growth = float((a.get("employers") or {}).get("growth_share", 0.0))

    rows: dict[str, Row] = {}
    for r in instruments:
        iid = r["id"]
        if r["financing"] == "money_only" and (r.get("unit_cost") is not None or
                                               classes.get(r.get("rate_class"), {}).get("per") == "thousand_euros"):
            raise NotImplementedError(f"{iid}: a money line valued by a unit cost or per 1,000 € is not read here yet")
        unit = "euros" if r["financing"] == "money_only" else "entries"
        o = official[iid]
        weight = 1.0 + sum(float(s) * float(priorities.get(g, 0.0)) for g, s in (r.get("groups") or {}).items())
        segments = [(0.0, math.inf, 0.0)]
        rate = 0.0
        if unit == "entries" and r.get("rate_class"):
            figure = classes[r["rate_class"]][basis]
            value, low = float(figure["value"]), float(figure["low"])
            rate = (overlay.rate.get(iid) or {}).get(basis, ((r.get("rate") or {}).get(basis)))
            rate = value if rate is None else float(rate)
            rate *= overlay.rate_factor.get(iid, 1.0)
            spread = rate * (value - low) / value if value != 0 else value - low
            if shape == "concave":
                segments = response_segments(o, rate, spread, float(resp.get("low_end_at", 1.2)))
            else:
                segments = [(0.0, math.inf, rate)]
        low, high = _bounds(r, o, raw, overlay, extension, growth, instruments, official)
        rows[iid] = Row(iid, unit, o, float(r.get("entries") or 0), low, high, costs[iid],
                        {g: float(s) for g, s in (r.get("groups") or {}).items()}, weight, segments,
                        int(r.get("lot_size") or 1), r, rate)

    rules = [Rule(f"bounds:{iid}", {("level", iid): 1.0}, row.low, row.high, "bounds") for iid, row in rows.items()]
    rules += _pool_rules(rows, available)
    rules += _cap_rules(raw, rows, overlay, new_business)
    rules += _coverage_rules(raw, rows, overlay)
    rules += _places_rules(raw, rows)
    rules += _capacity_rules(rows, instruments, official, overlay, extension)
    rules += [Rule(f"capacity:{iid}:min", {("level", iid): 1.0}, (1 - extension) * row.official, None, "entries")
              for iid, row in rows.items() if row.raw.get("capacity") in CONTRACTS and iid not in overlay.fix
              and iid not in overlay.high and floor_conflict(row.raw, row.official, row.high, extension)]
    rules += _stock_rules(raw, rows)
    rules += _policy_rules(raw, rows)
    name = " + ".join([f"{raw['meta'].get('jobcenter', '')} {raw['meta'].get('year', '')}".strip(), *overlay.names])
    return Reading(name, rows, rules, available, new_business, reserve, egt)


def _places_per_entry(r: dict) -> float:
    return float(r["places"]) / float(r["entries"]) if r.get("places") and r.get("entries") else 1.0


def _reserve(raw: dict, instruments: list[dict], available: dict[str, Decimal], new_business: Decimal,
             overlay: Overlay, egt_pool: dict) -> Decimal:
    """Data notes, "Reserve for the year": a number, a share of the new-business budget, or 'official' —
    what the official plan leaves of the printed budget, no more than it leaves of the pool as it stands
    (cuts booked there), never below 0."""
    b = raw["budget"]
    if float(b.get("reserve_share") or 0.0) > 0:
        return cents_half_up(new_business * euros(b["reserve_share"]))
    amount = b.get("reserve_amount")
    if amount is None:
        return Decimal(0)
    if amount != "official":
        return euros(amount)
    egt = egt_pool["id"]
    spent = Decimal(0)
    shared_with: dict[tuple[str, ...], Decimal] = {}  # earmarked pools → money of the rows they share with egt
    for r in instruments:
        pools = r.get("pools") or [egt]
        if r["financing"] in NEW_MONEY and egt in pools:
            money = euros(r.get("new_funds") or 0) + euros(r.get("vbl") or 0)
            others = tuple(sorted(p for p in pools if p != egt))
            if others:
                shared_with[others] = shared_with.get(others, Decimal(0)) + money
            else:
                spent += money
    for others, money in shared_with.items():
        spent += max(money - sum((available[p] for p in others), Decimal(0)), Decimal(0))
    for p in raw["pools"]:
        if p.get("egt_cofunding"):
            places = sum(float(r.get("places") or r.get("entries") or 0) for r in instruments
                         if r["financing"] == "programme" and p["id"] in (r.get("pools") or []))
            cofunding = euros(p["egt_cofunding"])
            spent += min(cofunding, cofunding * euros(places) / euros(p["max_places"]))
    share = euros(egt_pool.get("planning_share", 1.0))
    reserved = sum((euros(v) for v in (egt_pool.get("reserved") or {}).values()), Decimal(0)) + sum(overlay.cuts, Decimal(0))
    now = new_business * share - reserved - spent
    printed = (b.get("printed") or {}).get("new_business")
    document = (euros(printed) if printed is not None else _new_business(raw, Overlay())) - spent
    return max(min(now, document), Decimal(0))


def floor_conflict(r: dict, o: float, high: float, extension: float) -> bool:
    """A contract's floor above the row's own stated maximum: the stated bound stays the bound and the floor a
    rule of its own, so that the conflict is named (data notes: "a bound the document states keeps the conflict
    as a rule")."""
    return ((r.get("bounds") or {}).get("max") is not None and extension < 1
            and (1 - extension) * o > high + 1e-9)


def _bounds(r: dict, o: float, raw: dict, overlay: Overlay, extension: float, growth: float,
            instruments: list[dict], official: dict[str, float]) -> tuple[float, float]:
    """A row's lowest and highest level (data notes: fallback box, own bounds, capacity, contract floor,
    scenario bounds per side)."""
    iid = r["id"]
    if r["financing"] in FIXED_FINANCING:
        low = high = o
    else:
        box = (raw.get("assumptions") or {}).get("bounds") or {}
        low, high = float(box.get("min_share_of_official", 0.0)) * o, float(box.get("max_share_of_official", 1.0)) * o
        own = r.get("bounds") or {}  # the row's own bounds override the box; the box's other side yields
        stated_low = own.get("min") is not None
        if stated_low:
            low = float(own["min"])
            high = max(high, low)
        if own.get("max") is not None:
            high = float(own["max"])
            low = min(low, high) if not stated_low else low
        kind = r.get("capacity")
        hosts = any(c.get("places_in") == iid for c in instruments)
        factor = overlay.capacity_factor.get(iid, 1.0)
        if kind in CONTRACTS and not floor_conflict(r, o, high, extension):
            low = max(low, (1 - extension) * o)  # a contract is used at least to (1 − e) of its plan
        if kind in ("places", "contract", "posts") and not r.get("places_in") and not hosts:
            share = growth if kind == "posts" else extension
            limit = o * (1 + share) * factor  # places × turnover × (1 + share) = entries × (1 + share)
            if limit < low and not stated_low:
                low = limit  # the minimum yields to a real capacity below it (fewer places bought)
            high = min(high, limit)
    if iid in overlay.low:
        low = overlay.low[iid]
    if iid in overlay.high:
        high = overlay.high[iid]
        if iid not in overlay.low:
            low = min(low, high)  # a scenario's maximum below a contract's floor (or the box's minimum) wins
    if iid in overlay.fix:
        low = high = overlay.fix[iid]
    return low, high


def _pool_rules(rows: dict[str, Row], available: dict[str, Decimal]) -> list[Rule]:
    """Each pool pays at most what it makes available; a cost shared by several pools is paid in full."""
    terms: dict[str, dict[tuple[str, ...], float]] = {p: {} for p in available}
    rules = []
    for iid, row in rows.items():
        for c in row.costs:
            if len(c.pools) == 1:
                key = ("level", iid)
                terms[c.pools[0]][key] = terms[c.pools[0]].get(key, 0.0) + c.per_unit
            else:
                pay = {("split", iid, p): 1.0 for p in c.pools}
                pay[("level", iid)] = -c.per_unit
                rules.append(Rule(f"pay:{iid}", pay, 0.0, 0.0, "money"))
                for p in c.pools:
                    terms[p][("split", iid, p)] = 1.0
    return [Rule(f"pool:{p}", t, None, float(available[p]), "pool") for p, t in terms.items()] + rules


def _cap_rules(raw: dict, rows: dict[str, Row], overlay: Overlay, new_business: Decimal) -> list[Rule]:
    """§ 16e/§ 16f: money of the capped categories ≤ share × base − what earlier commitments spend there."""
    bases = {"egt_allocation": _allocation(raw, overlay), "spendable_funds": _spendable(raw, overlay),
             "new_business": new_business}
    out = []
    for cap in raw.get("caps") or []:
        limit = euros(cap["max_share"]) * bases[cap["base"]] - euros(cap.get("committed") or 0)
        terms = {("level", iid): row.per_unit for iid, row in rows.items()
                 if row.raw.get("cap_category") in cap["categories"] and row.per_unit}
        out.append(Rule(f"cap:{cap['id']}", terms, None, float(limit), "money"))
    return out


def _reach_weight(row: Row, basis: str) -> float:
    return row.per_unit if basis == "money" else 1.0


def _coverage_rules(raw: dict, rows: dict[str, Row], overlay: Overlay) -> list[Rule]:
    """A group's reach (entries or money) at least a share of all entries (money), or a count."""
    out = []
    with_entries = [row for row in rows.values() if row.unit == "entries"]
    for cov in raw.get("coverage") or []:
        g, basis = cov["group"], cov.get("basis", "entries")
        if cov.get("min_share") is not None:
            share = float(cov["min_share"])
            terms = {("level", row.id): (row.groups.get(g, 0.0) - share) * _reach_weight(row, basis)
                     for row in with_entries}
            out.append(Rule(f"coverage:{cov['id']}", terms, 0.0, None, "money" if basis == "money" else "entries"))
            continue
        need = cov["min_count"]
        if need == "official":  # the official plan's reach as the model prices it (the notes say no more)
            need = sum(row.groups.get(g, 0.0) * row.official * _reach_weight(row, basis) for row in with_entries)
        need = float(need) * overlay.count_factor.get(cov["id"], 1.0)
        terms = {("level", row.id): row.groups.get(g, 0.0) * _reach_weight(row, basis)
                 for row in with_entries if row.groups.get(g)}
        out.append(Rule(f"coverage:{cov['id']}", terms, need, None, "money" if basis == "money" else "entries"))
    return out


def _places_rules(raw: dict, rows: dict[str, Row]) -> list[Rule]:
    """A programme pool's places (Soziale Teilhabe: up to 90) over the rows it pays; a row's own
    `max_places` (a field of the model format that the data notes do not use) over its entries."""
    out = []
    for p in raw["pools"]:
        if p.get("max_places"):
            terms = {("level", iid): _places_per_entry(row.raw) for iid, row in rows.items()
                     if p["id"] in (row.raw.get("pools") or [])}
            out.append(Rule(f"places:{p['id']}", terms, None, float(p["max_places"]), "entries"))
    for iid, row in rows.items():
        if row.raw.get("max_places") is not None and row.unit == "entries":
            out.append(Rule(f"places_max:{iid}", {("level", iid): _places_per_entry(row.raw)}, None,
                            float(row.raw["max_places"]), "entries"))
    return out


def _capacity_rules(rows: dict[str, Row], instruments: list[dict], official: dict[str, float], overlay: Overlay,
                    extension: float) -> list[Rule]:
    """Places shared by several rows (`places_in`): each entry takes places ÷ the planned entries of all."""
    out = []
    for host in instruments:
        members = [r for r in instruments if r.get("places_in") == host["id"]]
        if not members or host.get("capacity") != "places":
            continue
        ids = [host["id"], *(m["id"] for m in members)]
        planned = sum(official[i] for i in ids)
        places = float(host.get("places") or planned)
        terms = {("level", i): places / planned for i in ids if i not in overlay.fix}
        limit = places * (1 + extension) * overlay.capacity_factor.get(host["id"], 1.0)
        limit -= sum(overlay.fix[i] * places / planned for i in ids if i in overlay.fix)
        out.append(Rule(f"capacity:{host['id']}", terms, None, limit, "entries"))
    return out


def _stock_rules(raw: dict, rows: dict[str, Row]) -> list[Rule]:
    """Entries reaching a group (every row with entries, fixed ones too) ≤ participation share × its stock."""
    part = ((raw.get("assumptions") or {}).get("participation") or {}).get("max_share")
    if part is None:
        return []
    out = []
    for group in raw.get("groups") or []:
        stock = group.get("stock")
        if stock is None and group.get("customer_share") is not None and raw.get("customers"):
            stock = float(group["customer_share"]) * float(raw["customers"])
        if stock is None:
            continue
        terms = {("level", iid): row.groups[group["id"]] for iid, row in rows.items()
                 if row.unit == "entries" and row.groups.get(group["id"])}
        out.append(Rule(f"stock:{group['id']}", terms, None, float(part) * float(stock), "entries"))
    return out


def _policy_rules(raw: dict, rows: dict[str, Row]) -> list[Rule]:
    """Stated decisions: Σ entries (or money) of a rule's rows, a "davon" part counted as the Kennzahlen do."""
    out = []
    for rule in raw.get("policy") or []:
        money = rule.get("measure", "entries") == "money"
        share = dict.fromkeys(rule["rows"], 1.0)
        if rule.get("part"):
            for rid in rule["rows"]:
                row = rows[rid]
                part = next(b for b in row.raw["breakdown"] if b["id"] == rule["part"])
                share[rid] = float(part["entries"]) / row.printed_entries
                for child in rows.values():
                    if child.raw.get("entries_in") == rid:
                        share.setdefault(child.id, share[rid])
        terms = {("level", i): s * (rows[i].per_unit if money else 1.0) for i, s in share.items()}
        official = sum(s * rows[i].official * (rows[i].document_per_unit if money else 1.0) for i, s in share.items())

        def limit(side: str) -> float | None:
            value = rule.get(side)
            return None if value is None else official if value == "official" else float(value)

        out.append(Rule(f"policy:{rule['id']}", terms, limit("min"), limit("max"), "money" if money else "entries"))
    return out


def response_segments(o: float, r: float, spread: float, low_end_at: float) -> list[tuple[float, float, float]]:
    """The diminishing returns of a row (data notes): (start, end, rate) in entries, the last one open.

    m(z) = r + s(1 − 2z) ÷ (2L − 1) at z = entries ÷ o; falls at the same slope beyond L to a floor of
    min(r − s, 0); L raised where m(0) would exceed 1. Cut at 0, ½, 1, (1 + L) ÷ 2, L, every ¼ beyond L
    (at most 16 steps) and where m meets the floor; each piece at m of its midpoint, then the floor."""
    if spread <= 0 or o <= 0 or r >= 1:
        return [(0.0, math.inf, r)]
    s, L = spread, low_end_at
    if r + s / (2 * L - 1) > 1:
        L = (1 + s / (1 - r)) / 2
    floor = min(r - s, 0.0)

    def m(z: float) -> float:
        return r + s * (1 - 2 * z) / (2 * L - 1)

    z_floor = (1 - (floor - r) * (2 * L - 1) / s) / 2
    cuts = {0.0, 0.5, 1.0, (1 + L) / 2, L, z_floor}
    cuts |= {L + k / 4 for k in range(1, 17) if L + k / 4 < z_floor}
    zs: list[float] = []
    for z in sorted(z for z in cuts if z < z_floor - 1e-12 * max(1.0, z_floor)):
        if not zs or z > zs[-1]:
            zs.append(z)
    zs.append(z_floor)  # cut points closer than float noise to where m meets the floor are that point
    pieces = [(a * o, b * o, m((a + b) / 2)) for a, b in zip(zs, zs[1:]) if b > a]
    return pieces + [(z_floor * o, math.inf, floor)]


# ----- a plan against the reading -----


def integrations(reading: Reading, levels: Mapping[str, float]) -> float:
    """Σ weight × the response of each row with entries at its level (the objective)."""
    total = 0.0
    for iid, row in reading.rows.items():
        if row.unit != "entries":
            continue
        x = float(levels[iid])
        total += row.weight * sum(rate * max(0.0, min(x, end) - start) for start, end, rate in row.segments)
    return total


def _split_of(split: Mapping[tuple, float]) -> dict[tuple[str, str], float]:
    """(instrument, pool) → euros, over the components (a row has one cost that several pools share)."""
    out: dict[tuple[str, str], float] = {}
    for key, value in split.items():
        iid, pool = key[0], key[-1]
        out[(iid, pool)] = out.get((iid, pool), 0.0) + float(value)
    return out


def rule_value(rule: Rule, levels: Mapping[str, float], split: Mapping[tuple[str, str], float]) -> float:
    total = 0.0
    for term, coef in rule.terms.items():
        total += coef * (float(levels[term[1]]) if term[0] == "level" else split.get((term[1], term[2]), 0.0))
    return total


def _pool_money(rule: Rule, levels: Mapping[str, float], split: Mapping[tuple[str, str], float]) -> Decimal:
    """A pool's money as the reports print it: its exact total rounded half up to the cent."""
    return cents_half_up(rule_value(rule, levels, split))


def pool_cents(reading: Reading, levels: Mapping[str, float], split: Mapping[tuple, float] = {}) -> dict[str, int]:
    """Each pool's money of a plan in whole cents: its exact total rounded half up."""
    by_pool = _split_of(split)
    return {r.name.split(":", 1)[1]: int(_pool_money(r, levels, by_pool) * 100) for r in reading.rules if r.kind == "pool"}


def available_cents(reading: Reading) -> dict[str, int]:
    """The whole cents each pool makes available."""
    return {p: int(euros(a).quantize(CENT, rounding=ROUND_FLOOR) * 100) for p, a in reading.available.items()}


def violations(reading: Reading, levels: Mapping[str, float], split: Mapping[tuple, float] = {},
               integer: bool = False, money_tolerance: float = 0.0, entry_tolerance: float = 0.0) -> list[str]:
    """Every rule the plan breaks, in words (empty: the plan keeps every rule). ``money_tolerance`` (euros)
    and ``entry_tolerance`` (entries, at least) loosen the rules for a solver's raw plan (CBC carries about
    eight significant digits)."""
    missing = set(reading.rows) ^ set(levels)
    if missing:
        return [f"levels: the plan and the model disagree on the rows {sorted(missing)}"]
    by_pool = _split_of(split)
    bad = []
    for rule in reading.rules:
        if rule.kind == "pool":  # as the budget table prints it: whole cents used of the whole cents there are
            used = _pool_money(rule, levels, by_pool)
            limit = euros(rule.high).quantize(CENT, rounding=ROUND_FLOOR) + cents_half_up(money_tolerance)
            if used > limit:
                bad.append(f"{rule.name}: uses {used:,} € of {limit:,} €")
            continue
        value = rule_value(rule, levels, by_pool)
        for side, limit in (("min", rule.low), ("max", rule.high)):
            if limit is None:
                continue
            tol = (MONEY_TOLERANCE + money_tolerance if rule.kind == "money"
                   else max(entry_tolerance, ENTRY_TOLERANCE * max(1.0, abs(limit))))
            if (value < limit - tol) if side == "min" else (value > limit + tol):
                bad.append(f"{rule.name}: {value:,.6f} {'below' if side == 'min' else 'above'} {limit:,.6f}")
    for (iid, pool), value in by_pool.items():
        if value < -MONEY_TOLERANCE:
            bad.append(f"split {iid}: {pool} pays {value:,.2f} €")
    if integer:
        for iid, row in reading.rows.items():
            if row.unit == "entries":
                lots = float(levels[iid]) / row.lot
                if abs(lots - round(lots)) > 1e-6:
                    bad.append(f"lot:{iid}: {levels[iid]} is not a whole number of lots of {row.lot}")
    return bad


# ----- the same rules as a linear program -----


@dataclass
class LinearProgram:
    """max c·y subject to row_low ≤ A y ≤ row_high and col_low ≤ y ≤ col_high (y: segment entries, money
    lines' euros, shared costs per pool, and in integer mode the lots of each row)."""

    columns: list[tuple]
    c: np.ndarray
    col_low: np.ndarray
    col_high: np.ndarray
    integral: np.ndarray
    row_names: list[str]
    A: np.ndarray
    row_low: np.ndarray
    row_high: np.ndarray


def linear_program(reading: Reading, integer: bool = False) -> LinearProgram:
    """The reading as an LP: each row with entries is the sum of its response segments (0 ≤ y ≤ width,
    rate × weight each), a money line one column, a cost shared by pools one column per pool. In integer
    mode a row's entries are its lot size × a whole number of lots."""
    columns: list[tuple] = []
    c, low, high, integral = [], [], [], []
    level_of: dict[str, list[tuple[int, float]]] = {}
    for iid, row in reading.rows.items():
        if row.unit == "entries":
            idx = []
            for k, (start, end, rate) in enumerate(row.segments):
                columns.append(("segment", iid, k))
                c.append(row.weight * rate)
                low.append(0.0)
                # a segment holds at most its width, and no more than the row's highest level (implied by
                # the bounds row; stated, so that no column is open-ended where the row is not)
                high.append(min(end - start, max(row.high, 0.0)) if math.isfinite(end) or math.isfinite(row.high)
                            else BIG)
                integral.append(False)
                idx.append((len(columns) - 1, 1.0))
            level_of[iid] = idx
        else:
            columns.append(("level", iid))
            c.append(0.0)
            low.append(-BIG)
            high.append(BIG)
            integral.append(False)
            level_of[iid] = [(len(columns) - 1, 1.0)]
    split_col: dict[tuple[str, str], int] = {}
    for rule in reading.rules:
        for term in rule.terms:
            if term[0] == "split" and (term[1], term[2]) not in split_col:
                row = reading.rows[term[1]]
                columns.append(term)
                c.append(0.0)
                low.append(0.0)
                shared = max(c_.per_unit for c_ in row.costs if len(c_.pools) > 1)
                high.append(shared * max(row.high, 0.0))  # a pool pays at most the whole shared cost
                integral.append(False)
                split_col[(term[1], term[2])] = len(columns) - 1
    rows_coef: list[dict[int, float]] = []
    names, row_low, row_high = [], [], []
    for rule in reading.rules:
        coef: dict[int, float] = {}
        for term, a in rule.terms.items():
            targets = level_of[term[1]] if term[0] == "level" else [(split_col[(term[1], term[2])], 1.0)]
            for j, unit in targets:
                coef[j] = coef.get(j, 0.0) + a * unit
        lo, hi = rule.low, rule.high
        if integer and rule.kind == "bounds" and reading.rows[rule.name.split(":", 1)[1]].unit == "entries":
            lot = reading.rows[rule.name.split(":", 1)[1]].lot
            lo, hi = whole_lots(lo, lot, up=True), whole_lots(hi, lot, up=False)
        rows_coef.append(coef)
        names.append(rule.name)
        row_low.append(-BIG if lo is None else lo)
        row_high.append(BIG if hi is None else hi)
    if integer:
        for iid, row in reading.rows.items():
            if row.unit != "entries":
                continue
            columns.append(("lots", iid))
            c.append(0.0)
            low.append(0.0)
            high.append(BIG)
            integral.append(True)
            coef = {j: 1.0 for j, _ in level_of[iid]}
            coef[len(columns) - 1] = -float(row.lot)
            rows_coef.append(coef)
            names.append(f"lot:{iid}")
            row_low.append(0.0)
            row_high.append(0.0)
    A = np.zeros((len(rows_coef), len(columns)))
    for i, coef in enumerate(rows_coef):
        for j, a in coef.items():
            A[i, j] = a
    return LinearProgram(columns, np.array(c), np.array(low), np.array(high), np.array(integral), names, A,
                         np.array(row_low), np.array(row_high))


def whole_lots(bound: float | None, lot: int, up: bool) -> float | None:
    """A bound moved inward to a whole number of lots (64 × 1.2 = 76.8 leaves a row of lots of 16 at 64)."""
    if bound is None:
        return None
    lots = euros(bound) / lot
    return float(lots.to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR) * lot) if abs(
        float(lots) - round(float(lots))) > 1e-9 else float(round(float(lots)) * lot)


def columns_of_plan(program: LinearProgram, reading: Reading, levels: Mapping[str, float],
                    split: Mapping[tuple, float] = {}) -> np.ndarray:
    """A plan as the LP's columns: each row's entries fill its best segments first (the response is
    concave, so that is the most a level can give), shared costs per pool as split."""
    by_pool = _split_of(split)
    y = np.zeros(len(program.columns))
    for j, col in enumerate(program.columns):
        if col[0] == "segment":
            start, end, _ = reading.rows[col[1]].segments[col[2]]
            y[j] = max(0.0, min(float(levels[col[1]]), end) - start)
        elif col[0] == "level":
            y[j] = float(levels[col[1]])
        elif col[0] == "split":
            y[j] = by_pool.get((col[1], col[2]), 0.0)
        elif col[0] == "lots":
            y[j] = float(levels[col[1]]) / reading.rows[col[1]].lot
    return y


@dataclass
class Optimum:
    value: float
    y: np.ndarray
    row_price: np.ndarray  # d(optimum)/d(row bound), the sign of the maximisation
    status: str
    levels: dict[str, float]
    bound: float  # a MIP's proven bound on its optimum (the value itself for an LP)
    split: dict[tuple[str, int, str], float]  # (instrument, 0, pool) → euros where pools share a cost


def optimum(program: LinearProgram, reading: Reading, time_limit: float = 60.0, mip_gap: float = 0.0,
            integrality_tolerance: float = 1e-9) -> Optimum:
    """The LP's (or MIP's) optimum from bare highspy, with its row prices (continuous mode)."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    # whole lots, not 248.9999993 of them; HiGHS holds the rows to the same tolerance (ERGO-Code/HiGHS#560), which
    # at 1e-9 is below what a double resolves on rows of millions of euros: a caller may retry at 1e-6
    h.setOptionValue("mip_feasibility_tolerance", float(integrality_tolerance))
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    n, m = len(program.columns), len(program.row_names)
    lp.num_col_, lp.num_row_ = n, m

    def finite(v: np.ndarray) -> np.ndarray:
        return np.where(v <= -BIG, -inf, np.where(v >= BIG, inf, v))

    lp.col_cost_ = -program.c  # HiGHS minimises: minimise −integrations
    lp.col_lower_, lp.col_upper_ = finite(program.col_low), finite(program.col_high)
    lp.row_lower_, lp.row_upper_ = finite(program.row_low), finite(program.row_high)
    cols = program.A.T
    starts, index, value = [0], [], []
    for j in range(n):
        nz = np.nonzero(cols[j])[0]
        index.extend(nz.tolist())
        value.extend(cols[j][nz].tolist())
        starts.append(len(index))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = starts, index, value
    if program.integral.any():
        lp.integrality_ = [highspy.HighsVarType.kInteger if k else highspy.HighsVarType.kContinuous
                           for k in program.integral]
    h.passModel(lp)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    solution = h.getSolution()
    y = np.array(solution.col_value)
    prices = -np.array(solution.row_dual) if solution.dual_valid else np.zeros(m)
    levels = {}
    for iid, row in reading.rows.items():
        js = [j for j, col in enumerate(program.columns) if col[1] == iid and col[0] in ("segment", "level")]
        levels[iid] = float(y[js].sum()) if len(y) else math.nan
    info = h.getInfo()
    value = -float(info.objective_function_value)
    bound = -float(info.mip_dual_bound) if program.integral.any() else value
    split = {(col[1], 0, col[2]): float(y[j]) for j, col in enumerate(program.columns) if col[0] == "split"}
    return Optimum(value, y, prices, status, levels, bound, split)


# ----- a dual certificate: a plan as good as a dual bound is optimal -----


PRICE_ZERO = 1e-9  # a price or reduced cost this small on a side that does not exist counts as zero
GAP = 1e-7  # relative: the plan's value within this of the dual bound (HiGHS's tolerances, with room)


@dataclass
class Certificate:
    value: float  # the plan's expected integrations (raw reading)
    bound: float  # D(π)
    problems: list[str]  # rules the plan breaks, and where π is not dual feasible

    @property
    def gap(self) -> float:
        return self.bound - self.value

    @property
    def proves_optimal(self) -> bool:
        return not self.problems and self.gap <= GAP * max(1.0, abs(self.value))


def dual_bound(program: LinearProgram, price: np.ndarray) -> tuple[float, list[str]]:
    """D(π) and where π is not dual feasible (a price on a missing side, a gain on an unbounded column)."""
    reduced = program.c - program.A.T @ price
    problems, total = [], 0.0
    for name, p, low, high in zip(program.row_names, price, program.row_low, program.row_high):
        side = high if p > 0 else low
        if abs(side) >= BIG:
            if abs(p) > PRICE_ZERO:
                problems.append(f"dual: row {name} priced {p:.3g} on a side it does not have")
            continue
        total += p * side
    for col, d, low, high in zip(program.columns, reduced, program.col_low, program.col_high):
        end = high if d > 0 else low
        if abs(end) >= BIG:
            if abs(d) > PRICE_ZERO:
                problems.append(f"dual: column {col} has reduced cost {d:.3g} toward an open end")
            continue
        total += d * end
    return total, problems


def certify(reading: Reading, program: LinearProgram, price: np.ndarray, levels, split,
            integer: bool = False) -> Certificate:
    """Check a plan against the raw reading and a dual bound: feasible, and as good as the bound."""
    bound, problems = dual_bound(program, price)
    problems = violations(reading, levels, split, integer=integer) + problems
    value = float(program.c @ columns_of_plan(program, reading, levels, split))
    return Certificate(value, bound, problems)
