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
- *caps*, *coverage* requirements and *place limits* as plain rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

import numpy as np
import pandas as pd

from .budget import VBL_POOL, BudgetFigures, cap_base, derive_budget, new_business_pool
from .errors import InputFileError, UsageError
from .loading import Spec
from .schema import Basis, Instrument

FIXED_FINANCING = ("prepaid", "partly_prepaid", "money_only", "external")


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
class Problem:
    """Everything needed to build the LP, check a plan and report it, as plain tables.

    ``instruments`` (index: id) has the columns name, area, financing, unit ("entries" | "euros"), official,
    lower, upper, lot, unit_cost, places_per_entry, rate, weight, cap_category, printed_row (the row the
    entries count into in the document's tables), fixed. ``costs`` lists cost components
    (instrument, component, per_unit, pools). ``pools`` (index: id) has name, available, earmarked, rank.
    ``groups`` is the share of each instrument's entries reaching each group.
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

    def objective_coefficients(self) -> pd.Series:
        return self.instruments["rate"] * self.instruments["weight"]

    def group_reach(self, levels: pd.Series, group: str, basis: str = "entries") -> tuple[float, float]:
        """Entries (or money) of a plan reaching ``group``, and the plan's total entries (or money)."""
        inst = self.instruments
        entries = inst["unit"] == "entries"
        weight = levels.reindex(inst.index).astype(float)
        if basis == "money":
            weight = weight * inst["unit_cost"]
        weight = weight[entries]
        return float((self.groups[group][entries] * weight).sum()), float(weight.sum())


def build_problem(spec: Spec, basis: Basis | None = None) -> Problem:
    """Derive the planning problem of a loaded model; ``basis`` picks gross rates or net effects."""
    model = spec.model
    basis = basis or spec.rates.meta.default_basis
    if basis not in ("gross", "net"):
        raise UsageError("basis", basis, "gross (integration rates) or net (net effects)")
    figures = derive_budget(model)
    rows = {r.id: r for r in model.instruments}
    egt = new_business_pool(model).id
    separate_vbl = model.budget.vbl_pool == "separate"
    decision_rows = [r for r in model.instruments if r.financing != "info"]

    own_level: dict[str, float] = {}
    for r in decision_rows:
        if r.financing == "money_only":
            own_level[r.id] = float(r.new_funds or 0)
        else:
            inside = sum(c.entries or 0 for c in model.instruments if c.entries_in == r.id)
            own_level[r.id] = float((r.entries or 0) - inside)

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
        at = f"instruments[{model.instruments.index(r)}] ({r.id})"
        p = payer(r)
        unit = "euros" if r.financing == "money_only" else "entries"
        places_per_entry = (r.places / r.entries) if (r.places and r.entries and unit == "entries") else math.nan
        entry_places = 1.0 if math.isnan(places_per_entry) else places_per_entry  # a row without places: one each
        components: list[tuple[float, tuple[str, ...], str]] = []
        if r.financing in ("new", "shared", "partly_prepaid", "money_only"):
            money = (p.new_funds or 0) + p.vbl
            if r.unit_cost is not None or p.unit_cost is not None:
                per_unit = r.unit_cost if r.unit_cost is not None else p.unit_cost
            elif r.financing == "money_only":
                per_unit = 1.0
            else:
                n = basis_entries[p.id]
                if n <= 0:
                    raise InputFileError(str(spec.path), f"{at}.entries", r.entries,
                                         "a row with money needs entries left to pay for")
                per_unit = money / n
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
        lower, upper = _bounds(spec, r, official, at)
        lot = r.lot_size or 1
        records.append({
            "id": r.id,
            "name": r.name,
            "gloss": r.gloss,
            "area": r.area,
            "financing": r.financing,
            "unit": unit,
            "official": official,
            "lower": lower,
            "upper": upper,
            "lot": lot,
            "unit_cost": sum(c[0] for c in components),
            "places_per_entry": places_per_entry,
            "max_places": float(r.max_places) if r.max_places is not None else math.nan,
            "rate": _rate(spec, r, basis) if unit == "entries" else 0.0,
            "rate_class": r.rate_class or "",
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
    shares = np.zeros((len(instruments), len(group_ids)))
    for i, rid in enumerate(instruments.index):
        for g, s in rows[rid].groups.items():
            shares[i, group_ids.index(g)] = s
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

    return Problem(
        name=spec.name, basis=basis, instruments=instruments, costs=costs, pools=pools, groups=groups,
        caps=caps, coverage=tuple(coverage), place_limits=tuple(place_limits), budget=figures, spec=spec,
    )


def _rate(spec: Spec, r: Instrument, basis: Basis) -> float:
    if r.rate is not None and getattr(r.rate, basis) is not None:
        return float(getattr(r.rate, basis))
    assert r.rate_class is not None  # checked in loading for every row with entries
    return getattr(spec.rates.classes[r.rate_class], basis).value


def _bounds(spec: Spec, r: Instrument, official: float, at: str) -> tuple[float, float]:
    """Lower and upper level of a row: its own bounds, else fixed or the model's share of the official."""
    a = spec.model.assumptions.bounds
    if r.financing in FIXED_FINANCING:
        lower = upper = official
    else:
        lower = a.min_share_of_official * official
        upper = a.max_share_of_official * official
    if r.bounds is not None:
        if r.bounds.min is not None:
            lower = r.bounds.min
        elif r.bounds.max is not None:
            lower = min(lower, r.bounds.max)
        upper = r.bounds.max if r.bounds.max is not None else max(upper, lower)
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
    return float(lower), float(upper)
