"""The validated planning problem: the model's rows turned into decision units with costs, bounds and rates.

``build_problem(spec)`` derives, from a loaded model, everything the optimiser, the independent checker
and the reports share:

- one *instrument* per row that has entries or money of its own (information rows drop out). Its
  ``level`` is its entries — or euros, for a money-only line. A row whose printed entries include other
  rows (FbW includes FbW-U25 and Reha FbW) keeps only its own entries; the printed figure is rebuilt in
  the reports.
- its *unit cost*: the row's money (new funds + VBL part) over the entries that money pays for — its own
  and those of the rows whose money is inside it (AGH-MAE pays AGH-MAE U25 too). Prepaid and externally
  paid rows cost nothing new.
- *cost components*: per unit, which pools may pay (a programme's EGT co-funding is a component of its own);
- *bounds*: prepaid, money-only and externally paid rows fixed; the others between the model's share of
  the official entries (an assumption, with a range) unless the row gives its own;
- the *rate* per entry (gross or net, from the rates file) and the *weight* from group priorities;
- the *response*: each row's expected integrations as a concave piecewise-linear function of its level
  (diminishing returns, :func:`response_curve`), whose average over the planned entries is the rate;
- *caps*, *coverage* requirements and *place limits* as plain rules, and the *limits* of the adoptable
  plan: contracted capacity (``capacity:<row>``), the document's stated decisions (``policy:<id>``) and
  the customer stock of each group (``stock:<group>``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

import numpy as np
import pandas as pd

from .budget import VBL_POOL, BudgetFigures, cap_base, derive_budget, new_business_pool
from ..errors import MISSING, NOT_SHOWN, InputFileError, UsageError
from .loading import Spec, money_line_unit
from .schema import Basis, Instrument

FIXED_FINANCING = ("prepaid", "partly_prepaid", "money_only", "external")
MONEY_LINE = "money_line"
"""The ``financing`` of a money-only line the plan may change (valued per 1,000 € or by a unit cost): not fixed."""


@dataclass(frozen=True)
class CapRule:
    id: str
    name: str
    categories: tuple[str, ...]
    instruments: tuple[str, ...]
    limit: float  # max_share × base − committed, in €
    base_amount: float
    max_share: float
    committed: float


@dataclass(frozen=True)
class CoverageRule:
    id: str
    group: str
    basis: str  # entries | money
    min_share: float | None
    min_count: float | None
    source: str


@dataclass(frozen=True)
class PlaceLimit:
    id: str
    instruments: tuple[str, ...]
    max_places: float
    per_entry: tuple[float, ...]  # places per unit of level, aligned with instruments


@dataclass(frozen=True)
class LimitRule:
    """A linear rule on the levels: Σ coefficient × level (sense) rhs. ``kind`` is capacity, policy or
    stock; ``unit`` the unit of both sides (places, entries, €); ``source`` where the rule comes from."""

    id: str
    kind: str
    label: str
    terms: tuple[tuple[str, float], ...]
    sense: str  # <= | >=
    rhs: float
    unit: str
    source: str = ""


@dataclass(frozen=True)
class Problem:
    """Everything needed to build the LP, check a plan and report it, as plain tables.

    ``instruments`` (index: id) has the columns name, area, financing (the model's; ``money_line`` for a
    money-only line the plan may change), unit ("entries" | "euros"), official, lower, upper, lot, unit_cost,
    places_per_entry, rate (per entry; per euro for a line in euros), weight, cap_category, printed_row (the row the
    entries count into in the document's tables), fixed. ``costs`` lists cost components
    (instrument, component, per_unit, pools). ``pools`` (index: id) has name, available, earmarked, rank.
    ``groups`` is the share of each instrument's entries reaching each group. ``response`` holds each
    instrument's response curve as segments (instrument, start, end, rate): the marginal expected
    integrations per entry from ``start`` to ``end`` entries (``end`` infinite for the last), unweighted;
    ``limits`` the capacity, policy and customer-stock rules. ``lower_source``/``upper_source`` say what
    sets each bound: fixed, box (the fallback assumption), document (the row's own bounds) or scenario.
    """

    name: str
    basis: Basis
    instruments: pd.DataFrame
    costs: pd.DataFrame
    pools: pd.DataFrame
    groups: pd.DataFrame
    caps: tuple[CapRule, ...]
    coverage: tuple[CoverageRule, ...]
    place_limits: tuple[PlaceLimit, ...]
    budget: BudgetFigures
    spec: Spec = field(repr=False)
    response: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RESPONSE_COLUMNS), repr=False)
    limits: tuple[LimitRule, ...] = ()
    response_shape: str = "linear"

    @property
    def new_business_pool(self) -> str:
        """The id of the pool the new-business budget fills (the one pool that is not earmarked)."""
        return str(self.pools.index[~self.pools["earmarked"]][0])

    @property
    def new_business_available(self) -> float:
        """What the new-business pool makes available: the budget less a reserve and a separate VBL pool."""
        return float(self.pools.at[self.new_business_pool, "available"])

    def pool_row(self, pool: str) -> str:
        """The name of a pool's money row in the LP and the checks."""
        return "budget:new_business" if pool == self.new_business_pool else f"pool:{pool}"

    @functools.cached_property
    def curves(self) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Per instrument with a response: its segments' numbers, starts, ends and rates (numpy arrays)."""
        out = {}
        for iid, seg in self.response.groupby("instrument", sort=False):
            out[str(iid)] = (seg["segment"].to_numpy(), seg["start"].to_numpy(dtype=float),
                             seg["end"].to_numpy(dtype=float), seg["rate"].to_numpy(dtype=float))
        return out

    def integrations(self, levels: pd.Series, weighted: bool = True) -> pd.Series:
        """Expected (weighted) integrations of each instrument at the given levels, from its response curve;
        ``weighted=False`` leaves out the priorities' weights (the integrations themselves)."""
        ids = self.instruments.index
        x = levels.reindex(ids).astype(float).to_numpy()
        return pd.Series(self.integrations_matrix(x[None, :], weighted)[0], index=ids)

    @property
    def weighted(self) -> bool:
        """Do priorities weigh some row's integrations (a weight other than 1)?"""
        return bool((self.instruments["weight"] != 1.0).any())

    def integrations_matrix(self, levels: np.ndarray, weighted: bool = True) -> np.ndarray:
        """Per row of ``levels`` (one plan per row, columns in the order of ``instruments``), the expected
        (weighted) integrations of each instrument: Σ over segments of rate × the entries within it."""
        levels = np.atleast_2d(np.asarray(levels, dtype=float))
        out = np.zeros_like(levels)
        seg = self.response
        if seg.empty:
            return out
        col = self.instruments.index.get_indexer(seg["instrument"])
        start, end = seg["start"].to_numpy(), seg["end"].to_numpy()
        filled = np.clip(levels[:, col] - start, 0.0, end - start)
        weight = self.instruments["weight"].to_numpy()[col] if weighted else 1.0
        np.add.at(out.T, col, (filled * (seg["rate"].to_numpy() * weight)).T)
        return out

    def rates_around(self, iid: str, level: float, tolerance: float = 1e-9) -> tuple[float, float, bool]:
        """The (unweighted) rates of the entry just below ``level`` and just above it on the instrument's
        response, and whether ``level`` sits at a breakpoint (within ``tolerance`` entries)."""
        curve = self.curves.get(iid)
        if curve is None:
            return 0.0, 0.0, False
        _, starts, ends, rates = curve
        below = np.nonzero(starts < level - tolerance)[0]
        above = np.nonzero(ends > level + tolerance)[0]
        last = rates[below[-1]] if len(below) else rates[0]
        following = rates[above[0]] if len(above) else rates[-1]
        kink = bool(np.any(np.abs(ends - level) <= tolerance) and level > tolerance)
        return float(last), float(following), kink

    def marginal_rates(self, levels: pd.Series) -> pd.Series:
        """The (weighted) rate of each instrument's last entries at the given levels (the first segment's at
        level 0)."""
        weight = self.instruments["weight"]
        return pd.Series({iid: self.rates_around(iid, float(levels[iid]))[0] * float(weight[iid])
                          for iid in self.instruments.index}, dtype=float)

    def group_reach(self, levels: pd.Series, group: str, basis: str = "entries") -> tuple[float, float]:
        """Entries (or money) of a plan reaching ``group``, and the plan's total entries (or money)."""
        inst = self.instruments
        entries = inst["unit"] == "entries"
        weight = levels.reindex(inst.index).astype(float)
        if basis == "money":
            weight = weight * inst["unit_cost"]
        weight = weight[entries]
        return float((self.groups[group][entries] * weight).sum()), float(weight.sum())


def build_problem(spec: Spec, basis: Basis | None = None, response: str | None = None) -> Problem:
    """Derive the planning problem of a loaded model; ``basis`` picks gross rates or net effects,
    ``response`` "concave" (diminishing returns) or "linear" (constant rates) over the model's choice."""
    model = spec.model
    basis = basis or spec.rates.meta.default_basis
    if basis not in ("gross", "net"):
        raise UsageError("basis", basis, "gross (integration rates) or net (net effects)")
    figures = derive_budget(model)
    rows = {r.id: r for r in model.instruments}
    egt = new_business_pool(model).id
    separate_vbl = model.budget.vbl_pool == "separate"
    decision_rows = [r for r in model.instruments if r.financing != "info"]
    position = {r.id: k for k, r in enumerate(model.instruments)}  # each row's place in the file (for messages)
    counted_in: dict[str, int] = {}  # entries of the decision rows counted in each row (linear in the rows)
    for c in model.instruments:
        if c.entries_in and c.financing != "info":  # an info row is shown only: its host plans all its entries
            counted_in[c.entries_in] = counted_in.get(c.entries_in, 0) + (c.entries or 0)

    money_line = {r.id: money_line_unit(r, spec.rates) for r in decision_rows}  # euros | entries | None (fixed)
    own_level: dict[str, float] = {}
    for r in decision_rows:
        if r.financing == "money_only" and money_line[r.id] == "entries":
            own_level[r.id] = float(r.new_funds or 0) / float(r.unit_cost or 1)  # fractional entries
        elif r.financing == "money_only":
            own_level[r.id] = float(r.new_funds or 0)
        else:
            own_level[r.id] = float((r.entries or 0) - counted_in.get(r.id, 0))

    def payer(r: Instrument) -> Instrument:
        return rows[r.money_in] if r.financing == "shared" and r.money_in else r

    basis_entries: dict[str, float] = {}
    for r in decision_rows:
        p = payer(r)
        basis_entries[p.id] = basis_entries.get(p.id, 0.0) + own_level[r.id]

    records = []
    cost_rows = []
    pools_of_model = {p.id: p for p in model.pools}
    for i, r in enumerate(decision_rows):
        at = f"instruments[{position[r.id]}] ({r.id})"
        p = payer(r)
        unit = "euros" if r.financing == "money_only" and money_line[r.id] != "entries" else "entries"
        valued = r.financing != "money_only" or money_line[r.id] is not None  # has a rate
        places_per_entry = (r.places / r.entries) if (r.places and r.entries and unit == "entries") else math.nan
        entry_places = 1.0 if math.isnan(places_per_entry) else places_per_entry  # a row without places: one each
        components: list[tuple[float, tuple[str, ...], str]] = []
        document_extra = 0.0  # what the document's own cost per entry adds to a cost a scenario changed
        if r.financing in ("new", "shared", "partly_prepaid", "money_only"):
            money = (p.new_funds or 0) + p.vbl
            override = r.unit_cost if r.unit_cost is not None else p.unit_cost
            n = basis_entries[p.id]
            if r.financing == "money_only":
                printed_per_unit = float(r.unit_cost) if unit == "entries" and r.unit_cost else 1.0
            elif n > 0:
                printed_per_unit = money / n
            elif override is None:
                raise InputFileError(str(spec.path), f"{at}.entries", r.entries,
                                     "a row with money needs entries left to pay for")
            else:
                printed_per_unit = override
            per_unit = override if override is not None else printed_per_unit
            document_extra = printed_per_unit - per_unit
            pools = tuple(p.pools or [egt])
            if separate_vbl and p.vbl > 0 and VBL_POOL not in pools:
                pools = pools + (VBL_POOL,)
            components.append((per_unit, pools, "Neufall"))
        elif r.financing == "programme":
            components.append(((r.new_funds or 0) / (r.entries or 1), tuple(r.pools or ()), "programme"))
            for pid in r.pools or ():
                pool = pools_of_model[pid]
                if pool.egt_cofunding and pool.max_places:
                    components.append((pool.egt_cofunding / pool.max_places * entry_places, (egt,),
                                       f"EGT co-funding of {pid}"))
        for k, (per_unit, pools, label) in enumerate(components):
            cost_rows.append({"instrument": r.id, "component": k, "per_unit": per_unit, "pools": pools, "label": label})

        official = own_level[r.id]
        lower, upper, lower_source, upper_source = _bounds(spec, r, official, at, money_line[r.id] is not None)
        lot = r.lot_size or 1
        records.append({
            "id": r.id,
            "name": r.name,
            "gloss": r.gloss,
            "area": r.area,
            "financing": MONEY_LINE if money_line[r.id] is not None else r.financing,
            "unit": unit,
            "official": official,
            "lower": lower,
            "upper": upper,
            "lower_source": lower_source,
            "upper_source": upper_source,
            "lower_note": _bound_note(spec, r, lower_source, "min"),
            "upper_note": _bound_note(spec, r, upper_source, "max"),
            "lot": lot,
            "unit_cost": sum(c[0] for c in components),
            "document_cost": sum(c[0] for c in components) + document_extra,
            "places_per_entry": places_per_entry,
            "max_places": float(r.max_places) if r.max_places is not None else math.nan,
            "rate": _rate(spec, r, basis) / (1000.0 if unit == "euros" else 1.0) if valued else 0.0,
            "rate_low": _rate_low(spec, r, basis) / (1000.0 if unit == "euros" else 1.0) if valued else 0.0,
            "rate_class": r.rate_class or "",
            "capacity": r.capacity or "",
            "weight": 1.0 + sum(share * model.priorities.get(g, 0.0) for g, share in r.groups.items()),
            "cap_category": r.cap_category or "",
            "printed_row": r.entries_in or r.id,
            "money_row": p.id,
            "fixed": lower == upper,
            "order": i,
        })
    instruments = pd.DataFrame.from_records(records).set_index("id")
    costs = pd.DataFrame.from_records(cost_rows, columns=["instrument", "component", "per_unit", "pools", "label"])

    pool_records = []
    # earmarked pools first (in the model's order), then the new-business pool: the order pools pay in
    for rank, (pid, fig) in enumerate(sorted(figures.pools.items(), key=lambda kv: not kv[1].earmarked)):
        pool_records.append({"id": pid, "name": fig.name, "available": float(fig.available),
                             "earmarked": fig.earmarked, "rank": rank})
    pools = pd.DataFrame.from_records(pool_records).set_index("id")
    group_ids = [g.id for g in model.groups]
    group_column = {g: k for k, g in enumerate(group_ids)}
    shares = np.zeros((len(instruments), len(group_ids)))
    for i, rid in enumerate(instruments.index):
        for g, s in rows[rid].groups.items():
            shares[i, group_column[g]] = s
    groups = pd.DataFrame(shares, index=instruments.index, columns=group_ids)

    caps = tuple(
        CapRule(
            id=c.id, name=c.name, categories=tuple(c.categories),
            instruments=tuple(instruments.index[instruments["cap_category"].isin(c.categories)]),
            # a cap is a sum of money: whole cents, rounded down so that what fits the cap fits the law
            limit=float((Decimal(str(c.max_share)) * cap_base(figures, c.base) - Decimal(str(c.committed)))
                        .quantize(Decimal("0.01"), rounding=ROUND_FLOOR)),
            base_amount=float(cap_base(figures, c.base)), max_share=c.max_share, committed=c.committed,
        )
        for c in model.caps
    )
    entries_mask = instruments["unit"] == "entries"
    coverage = []
    for c in model.coverage:
        count = None
        if c.min_count == "official":
            weight = instruments["official"] * (instruments["unit_cost"] if c.basis == "money" else 1.0)
            count = float((groups[c.group] * weight)[entries_mask].sum())  # as Problem.group_reach, before it exists
        elif c.min_count is not None:
            count = float(c.min_count)
        coverage.append(CoverageRule(c.id, c.group, c.basis, c.min_share, count, c.source))

    places_each = instruments["places_per_entry"].fillna(1.0)  # places one entry takes (one if none printed)
    place_limits = []
    for pool in model.pools:
        if pool.max_places:
            members = tuple(r.id for r in decision_rows if r.pools and pool.id in r.pools)
            if members:
                place_limits.append(PlaceLimit(f"places:{pool.id}", members, float(pool.max_places),
                                               tuple(places_each[m] for m in members)))
    for rid, row in instruments.iterrows():
        if not math.isnan(row["max_places"]):
            place_limits.append(PlaceLimit(f"places_max:{rid}", (rid,), row["max_places"], (places_each[rid],)))

    assumptions = model.assumptions
    shape = response or (assumptions.response.shape if assumptions.response else "linear")
    if shape not in ("concave", "linear"):
        raise UsageError("response", shape, "concave (diminishing returns) or linear (constant rates)")
    low_end_at = assumptions.response.low_end_at if assumptions.response else 1.2
    segments = []
    for iid, row in instruments.iterrows():
        if row["unit"] != "entries" and row["financing"] != MONEY_LINE:
            continue
        curve = (response_curve(float(row["official"]), float(row["rate"]), float(row["rate_low"]), low_end_at)
                 if shape == "concave" else [(0.0, math.inf, float(row["rate"]))])
        segments.extend((iid, k, a, b, rate) for k, (a, b, rate) in enumerate(curve))
    response_table = pd.DataFrame(segments, columns=RESPONSE_COLUMNS)
    capacity = _fold_into_bounds(instruments, _capacity_rules(spec, instruments, decision_rows),
                                 _scenario_own_sides(decision_rows, instruments))
    limits = capacity + _policy_rules(spec, instruments) + _stock_rules(spec, instruments, groups)

    return Problem(
        name=spec.name, basis=basis, instruments=instruments, costs=costs, pools=pools, groups=groups,
        caps=caps, coverage=tuple(coverage), place_limits=tuple(place_limits), budget=figures, spec=spec,
        response=response_table, limits=tuple(limits), response_shape=shape,
    )


RESPONSE_COLUMNS = ["instrument", "segment", "start", "end", "rate"]
GRID_BELOW_PLAN = (0.0, 0.5, 1.0)  # breakpoints below the planned level, as multiples of it
STEP_BEYOND = 0.25  # breakpoints beyond the low end of the range, as multiples of the planned level
MAX_STEPS = 16


def response_curve(official: float, rate: float, rate_low: float, low_end_at: float) -> list[tuple[float, float, float]]:
    """Diminishing returns of one row: segments (start, end, rate) in entries, the last one open-ended.

    The marginal rate falls linearly with the level z (in multiples of the planned entries ``official``):
    m(z) = rate + spread × (1 − 2z) / (2 × low_end_at − 1), spread = rate − rate_low. Its average over
    [0, 1] is ``rate`` (the official plan keeps its value) and it reaches ``rate_low`` at ``low_end_at``;
    beyond, it keeps falling to a floor of min(rate_low, 0) and stays there. Where the first entries would
    reach a rate above 1, the fall is made flatter so that m(0) = 1. Each segment's rate is m at its
    midpoint — exact for a linear m — with breakpoints at 0, ½ and 1 × the plan, two steps up to
    ``low_end_at``, steps of a quarter of the plan beyond, and the point where m reaches the floor.
    A row with no spread, no planned entries or a rate of 1 has one segment at ``rate``."""
    spread = rate - rate_low
    if official <= 0 or spread <= 0 or rate >= 1.0:  # a rate of 1 cannot average 1 and fall
        return [(0.0, math.inf, rate)]
    if rate + spread / (2 * low_end_at - 1) > 1.0:  # keep the first entries' rate a share
        low_end_at = (spread / (1.0 - rate) + 1) / 2
    slope = 2 * spread / (2 * low_end_at - 1)  # per unit of z

    def marginal(z: float) -> float:
        return rate + spread / (2 * low_end_at - 1) - slope * z

    floor = min(rate_low, 0.0)
    at_floor = (marginal(0.0) - floor) / slope
    points = [*GRID_BELOW_PLAN, 1 + (low_end_at - 1) / 2, low_end_at]
    z = low_end_at
    for _ in range(MAX_STEPS):
        z += STEP_BEYOND
        if z >= at_floor - 1e-12:
            break
        points.append(z)
    points = sorted({p for p in points if p < at_floor - 1e-12} | {at_floor})
    out = []
    for a, b in zip(points, points[1:]):
        out.append((a * official, b * official, max(marginal((a + b) / 2), floor)))
    out.append((points[-1] * official, math.inf, floor))
    return out


def _capacity_rules(spec: Spec, inst: pd.DataFrame, rows: list[Instrument]) -> list[LimitRule]:
    """Capacity of the rows that name one.

    ``places``: contracted places × turnover (planned entries per place) × (1 + extension share), shared
    with the rows whose places are counted in it (``places_in``); ``contract`` (an allocation corridor or
    modules): the printed entries × (1 + extension share); ``posts``: employers' printed posts × (1 + growth
    share). A contract (places or contract) also keeps each of its rows at least at (1 − extension share) ×
    its planned entries: bought measures are used in full, and a contract may shrink by the same legal margin.
    """
    model = spec.model
    with_capacity = [r for r in rows if r.capacity in ("places", "contract", "posts") and r.places_in is None
                     and r.id in inst.index]
    for r in with_capacity:
        needed = "employers" if r.capacity == "posts" else "capacity"
        if getattr(model.assumptions, needed) is None:
            i = model.instruments.index(r)
            what = "employers' growth_share" if needed == "employers" else "contracts' extension_share"
            raise InputFileError(str(spec.path), f"assumptions.{needed}", MISSING,
                                 f"required: instruments[{i}] ({r.id}) names 'capacity: {r.capacity}', which needs "
                                 f"the {what}")
    sharing: dict[str, list[str]] = {}  # per row, the rows whose places are counted in it (one pass)
    for c in rows:
        if c.places_in is not None and c.id in inst.index:
            sharing.setdefault(c.places_in, []).append(c.id)
    out = []
    for r in with_capacity:
        members = [r.id] + sharing.get(r.id, [])
        planned = float(sum(inst.at[m, "official"] for m in members))
        shared = f" (shared with {', '.join(members[1:])})" if len(members) > 1 else ""
        if r.capacity == "posts":
            share = model.assumptions.employers.growth_share  # type: ignore[union-attr]
            seats, unit, what = float(r.places or 0), "posts", "posts at employers"
            source = "employers' posts (Stellen) printed for the row, with the assumed growth"
        else:
            share = model.assumptions.capacity.extension_share  # type: ignore[union-attr]
            if r.capacity == "places":
                seats, unit, what = float(r.places or 0), "places", "contracted places"
            else:
                seats, unit, what = planned, "entries", f"contracted entries ({r.cells.get('places', 'contract')})"
            source = "the contract's printed volume with the legal extension (§ 130 Abs. 2 GWB)"
        per_entry = seats / planned if planned > 0 else 1.0
        bought = f" × {r.capacity_factor:g} bought" if r.capacity_factor != 1 else ""
        out.append(LimitRule(f"capacity:{r.id}", "capacity",
                             f"{what} of {r.id}: {seats:,.0f}{bought} × {1 + share:.2f}{shared}",
                             tuple((m, per_entry) for m in members), "<=", seats * r.capacity_factor * (1 + share),
                             unit, source))
        if r.capacity == "posts" or share >= 1:
            continue
        # fewer places bought (capacity_factor below (1 − e) ÷ (1 + e)): the floor yields to what is bought
        used = min(1 - share, r.capacity_factor * (1 + share))
        for m in members:
            official = float(inst.at[m, "official"])
            what = (f"its contracted entries less the legal margin ({official:,.0f} × {1 - share:.2f})" if used == 1 - share
                    else f"its contracted entries, fewer places bought ({official:,.0f} × {r.capacity_factor:g} × "
                         f"{1 + share:.2f})")
            out.append(LimitRule(f"capacity:{m}:min", "capacity", f"{m}: {what}", ((m, 1.0),), ">=",
                                 official * used, "entries", "bought measures are used in full (chapter 2: "
                                 "\"Sicherstellung einer Ausschöpfung eingekaufter Maßnahmen zu 100%\"); a contract may "
                                 "shrink by the legal margin"))
    return out


def _scenario_own_sides(rows: list[Instrument], inst: pd.DataFrame) -> set[tuple[str, str]]:
    """(row, "lower" | "upper") for each bound a scenario set on the row itself (min, max, fix or drop; a max
    below the box's minimum sets both sides) — not a fallback box a scenario changed, which stays a box."""
    own = set()
    for r in rows:
        if r.bounds is None or not r.scenario_bounds or r.id not in inst.index:
            continue
        if "min" in r.scenario_bounds and r.bounds.min is not None:
            own.add((r.id, "lower"))
        if "max" in r.scenario_bounds and r.bounds.max is not None:
            own.add((r.id, "upper"))
            if r.bounds.min is None and float(inst.at[r.id, "lower"]) == float(r.bounds.max):
                own.add((r.id, "lower"))
    return own


def _fold_into_bounds(inst: pd.DataFrame, rules: list[LimitRule], scenario_own: set[tuple[str, str]]) -> list[LimitRule]:
    """A capacity rule on one row becomes that row's bound where it is tighter (its source then names the
    capacity: places, contract or posts), so the LP stays small; rules on several rows stay rules. Where
    it crosses the row's other bound, the fallback box (the model's or a scenario's) yields to it, a bound a
    scenario sets on the row itself overrides it (the scenario changes the contract), and a bound the document
    states keeps the conflict: the rule stays a rule and the infeasibility is diagnosed. A row a scenario fixes
    or drops loses its one-row capacity rules (its contract ends or is renegotiated); other fixed rows keep them."""
    kept = []
    for rule in rules:
        if len(rule.terms) != 1:
            kept.append(rule)
            continue
        iid, coef = rule.terms[0]
        if inst.at[iid, "fixed"]:
            if not {(iid, "lower"), (iid, "upper")} & scenario_own:
                kept.append(rule)
            continue
        level = rule.rhs / coef
        kind = "places" if rule.unit in ("places", "entries") else "posts"
        side = "upper" if rule.sense == "<=" else "lower"
        other = "lower" if side == "upper" else "upper"
        sign = 1.0 if side == "upper" else -1.0
        if sign * (level - float(inst.at[iid, other])) < -1e-9:  # the capacity crosses the other bound
            if (iid, other) in scenario_own:
                continue  # a scenario's own bound overrides the contract (the scenario changes it)
            if inst.at[iid, f"{other}_source"] not in ("box", "scenario"):
                kept.append(rule)  # a stated bound against a contract: the conflict is diagnosed
                continue
            inst.at[iid, other] = level  # the fallback box yields to a real limit
        if sign * (level - float(inst.at[iid, side])) <= 1e-9:
            inst.at[iid, side], inst.at[iid, f"{side}_source"], inst.at[iid, f"{side}_note"] = level, kind, rule.label
    inst["fixed"] = inst["lower"] == inst["upper"]
    return kept


def _policy_rules(spec: Spec, inst: pd.DataFrame) -> list[LimitRule]:
    """The document's stated decisions: Σ entries (or money) of some rows at least / at most a figure."""
    out = []
    model_rows = {r.id: r for r in spec.model.instruments}
    counted: dict[str, list[str]] = {}  # per row, the rows counted in its entries (one pass)
    for c in spec.model.instruments:
        if c.entries_in is not None and c.id in inst.index:
            counted.setdefault(c.entries_in, []).append(c.id)
    for rule in spec.model.policy:
        rows = [r for r in rule.rows if r in inst.index]
        share = dict.fromkeys(rows, 1.0)
        if rule.part is not None:  # a 'davon' part: its printed share of each row and of the rows counted in it
            for r in list(rows):
                row = model_rows[r]
                part = next(b for b in row.breakdown if b.id == rule.part)
                share[r] = float(part.entries or 0) / float(row.entries or 1)
                for child in counted.get(r, []):
                    if child not in share:
                        rows.append(child)
                        share[child] = share[r]
        money = rule.measure == "money"
        coef = {r: share[r] * (float(inst.at[r, "unit_cost"]) if money else 1.0) for r in rows}
        # the official figure at the document's own cost per entry (a scenario's cost change moves the plan's
        # money, not what the document decided)
        official = sum(share[r] * (float(inst.at[r, "document_cost"]) if money else 1.0)
                       * float(inst.at[r, "official"]) for r in rows)
        unit = "€" if money else "entries"
        for sense, limit in ((">=", rule.min), ("<=", rule.max)):
            if limit is None:
                continue
            rhs = official if limit == "official" else float(limit)
            suffix = "" if rule.min is None or rule.max is None else (":min" if sense == ">=" else ":max")
            words = "at least" if sense == ">=" else "at most"
            amount = f"{rhs:,.2f} €" if unit == "€" else f"{rhs:,.0f} entries"
            out.append(LimitRule(f"policy:{rule.id}{suffix}", "policy", f"{rule.name} ({words} {amount})",
                                 tuple((r, coef[r]) for r in rows), sense, rhs, unit, " ".join(rule.source.split())))
    return out


def _stock_rules(spec: Spec, inst: pd.DataFrame, groups: pd.DataFrame) -> list[LimitRule]:
    """Customer stock: entries reaching a group ≤ participation share × the group's average stock."""
    model = spec.model
    if model.assumptions.participation is None:
        return []
    share = model.assumptions.participation.max_share
    entries = inst["unit"] == "entries"
    out = []
    for g in model.groups:
        stock = g.stock if g.stock is not None else (
            g.customer_share * model.customers if g.customer_share is not None and model.customers else None)
        reach = groups[g.id][entries]
        if stock is None or not (reach > 0).any():
            continue
        out.append(LimitRule(f"stock:{g.id}", "stock", f"{g.id}: at most {share:.0%} of {stock:,.0f} customers",
                             tuple((i, float(s)) for i, s in reach.items() if s > 0), "<=", share * float(stock),
                             "entries", g.note or "chapter 5.1"))
    return out


MIN_RATE = 1e-6
"""The largest rate of a model must reach this (one integration in a million entries): below it every plan
counts (almost) nothing, the optimum is a tie of all plans and no shadow price is told apart from zero."""


def check_objective(problem: Problem) -> None:
    """Raise :class:`~optalloc.errors.InputFileError` if every row the plan values has a rate of (about) 0
    in the basis counted: the objective would count nothing. :func:`optalloc.api.load` calls it (every
    command goes through it); :func:`build_problem` alone does not, so that such a model can still be built."""
    spec, basis, instruments = problem.spec, problem.basis, problem.instruments
    rates = instruments.loc[(instruments["unit"] == "entries") | (instruments["financing"] == MONEY_LINE), "rate"].abs()
    if len(rates) and float(rates.max()) < MIN_RATE:
        where = f"the rates file {spec.rates_path}" + (f" and the scenarios {', '.join(spec.scenarios)}"
                                                       if spec.scenarios else "")
        raise InputFileError(str(spec.path), f"the {basis} rates of its rows", NOT_SHOWN,
                             f"every row with entries has a {basis} rate below {MIN_RATE:g} (the largest is "
                             f"{float(rates.max()):g}, from {where}): a plan would count no integrations, so every "
                             "plan would be 'optimal'; give rates as shares (0.25 = 25 %)"
                             + (" (or count net effects instead)" if basis == "gross" else ""))


def _rate(spec: Spec, r: Instrument, basis: Basis) -> float:
    if r.rate is not None and getattr(r.rate, basis) is not None:
        return float(getattr(r.rate, basis))
    assert r.rate_class is not None  # checked in loading for every row with entries
    return getattr(spec.rates.classes[r.rate_class], basis).value


def _bound_note(spec: Spec, r: Instrument, source: str, side: str) -> str:
    """Where a row's bound comes from, in words."""
    b = spec.model.assumptions.bounds
    key = "min" if side == "min" else "max"
    if source == "box":
        return (f"fallback box {b.min_share_of_official:.0%}–{b.max_share_of_official:.0%} of plan "
                "(an assumption with no source)")
    if source == "scenario":
        name = r.scenario_bounds.get(key) or b.scenario_sides.get(key, "")
        what = f"its {key}imum" if key in r.scenario_bounds else f"the box's {key}imum ({b.min_share_of_official:.0%}–" \
            f"{b.max_share_of_official:.0%} of plan)"
        return f"the scenario '{name}' set {what}"
    if source == "document":
        return r.bounds_note or f"the row's own {side}imum"
    return {"fixed": f"fixed: {r.financing}"}.get(source, source)


def _rate_low(spec: Spec, r: Instrument, basis: Basis) -> float:
    """The low end of a row's rate: the class's range, its spread below the value scaled with the row's own
    rate where the row (or a scenario) overrides it."""
    figure = getattr(spec.rates.classes[r.rate_class], basis) if r.rate_class else None
    rate = _rate(spec, r, basis)
    if figure is None:
        return rate
    spread = figure.value - figure.low
    if figure.value != 0:
        spread *= abs(rate / figure.value)
    return rate - spread


def _bounds(spec: Spec, r: Instrument, official: float, at: str, money_line: bool = False) -> tuple[float, float, str, str]:
    """Lower and upper level of a row and what sets each: its own bounds ("document", or "scenario" when a
    scenario set them), else fixed, or the fallback box of the model's shares of the official. A money-only
    line the plan may change (``money_line``) is bounded like a row bought with new money."""
    a = spec.model.assumptions.bounds
    if r.financing in FIXED_FINANCING and not money_line:
        lower = upper = official
        lower_source = upper_source = "fixed"
    else:
        lower = a.min_share_of_official * official
        upper = a.max_share_of_official * official
        lower_source = "scenario" if "min" in a.scenario_sides else "box"
        upper_source = "scenario" if "max" in a.scenario_sides else "box"
    if r.bounds is not None:
        def own(side: str) -> str:
            return "scenario" if side in r.scenario_bounds else "document"

        if r.bounds.min is not None:
            lower, lower_source = r.bounds.min, own("min")
        elif r.bounds.max is not None and r.bounds.max < lower:
            lower, lower_source = r.bounds.max, own("max")
        if r.bounds.max is not None:
            upper, upper_source = r.bounds.max, own("max")
        elif lower > upper:
            upper, upper_source = lower, lower_source
    if r.financing in ("prepaid", "partly_prepaid", "external") and upper > official + 1e-9:
        raise InputFileError(str(spec.path), f"{at}.bounds.max", upper,
                             f"at most the {official:g} entries printed: a {r.financing} row has no price for more "
                             "(model the extra entries as a row bought with new money)")
    lot = r.lot_size or 1
    if lot > 1:
        low_lot = math.ceil(lower / lot - 1e-9) * lot
        high_lot = math.floor(upper / lot + 1e-9) * lot
        if low_lot > high_lot:
            raise InputFileError(str(spec.path), f"{at}.lot_size", lot,
                                 f"no whole number of lots fits between {lower:g} and {upper:g} entries")
    if lower > upper:
        raise InputFileError(str(spec.path), f"{at}.bounds", {"min": lower, "max": upper}, "min may not exceed max")
    return float(lower), float(upper), lower_source, upper_source
