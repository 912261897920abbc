"""The linear program (PuLP), with every variable and constraint named after what it constrains.

Variables
    ``x_<instrument>``           level: entries (euros for a money-only line), bounded by the problem
    ``r_<instrument>_<k>``       entries within segment k of the instrument's response curve, between its
                                 bounds (the part below the lower bound is always there: a constant)
    ``m_<instrument>_<k>_<pool>`` money of cost component k paid from a pool, where several pools may pay
    ``n_<instrument>``           number of lots (integer mode, lot size above 1)

Constraints (the name is how results map duals and slacks back to the model)
    ``budget:new_business``      money paid from the new-business budget ≤ what it makes available
    ``pool:<id>``                money paid from an earmarked pool ≤ its available amount
    ``split:<instrument>:<k>``   the pools' money of a component = its cost per unit × level
    ``cap:<id>``                 money of the capped categories ≤ max share × base − committed
    ``coverage:<id>``            entries (money) reaching a group ≥ a share of the total, or a count
    ``places:<pool>``            places of a programme's rows ≤ the places granted
    ``places_max:<instrument>``  places of a row ≤ its capacity
    ``capacity:<instrument>``    places (or contracted entries) of a row and those sharing its places ≤
                                 its contracted capacity with the legal extension
    ``policy:<id>``              entries (money) of the rows of a stated decision ≥ or ≤ its figure
    ``stock:<group>``            entries reaching a group ≤ the participation share of its stock
    ``response:<instrument>``    level = lower bound + the entries of its response segments
    ``lot:<instrument>``         level = lot size × number of lots (integer mode)

Objective: maximise expected integrations — Σ weight × rate of each response segment × the entries in
it, plus the constant integrations below the lower bounds; a concave response fills its best segments
first without any binary variable — divided by the largest coefficient
(``LinearProgram.scale``) so that the solvers see coefficients near 1 whatever the rates' size; duals
and ranges are multiplied back. Where several plans are equally good (two instruments with the same rate
and cost, say), a second solve on the optimal face — every variable with a nonzero reduced cost fixed,
every row with a nonzero dual held tight — maximises :func:`preference`, a fixed preference in which
earlier rows of the model weigh more. The optimum is kept exactly, and the same input gives the same plan
on every solver, warm or cold.

Money rows hold exactly; the plan's money is rounded to the cent in :mod:`optalloc.solving.plan` so that each
pool's cents add up to its rounded exact total, which therefore fits the pool.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field

import pulp

from ..model.problem import FIXED_FINANCING, Problem

OPTIMUM_TOLERANCE = 1e-9  # relative: a later pass keeps integrations ≥ (1 − this) × optimum


@dataclass(frozen=True)
class RowInfo:
    """What a named constraint is, for reports: ``unit`` of its right-hand side, ``kind`` of rule."""

    kind: str  # budget | pool | cap | coverage | places | capacity | policy | stock | split | lot | response
    unit: str  # € | entries
    label: str
    ref: str  # the model object it belongs to (pool, cap, coverage id, instrument)
    sense: str  # <= | >= | =
    rhs: float


@dataclass
class LinearProgram:
    problem: Problem
    prob: pulp.LpProblem
    level: dict[str, pulp.LpVariable]
    split: dict[tuple[str, int, str], pulp.LpVariable]
    lots: dict[str, pulp.LpVariable]
    rows: dict[str, RowInfo]
    integrations: pulp.LpAffineExpression
    money: pulp.LpAffineExpression
    integer: bool
    constraint: dict[str, pulp.LpConstraint] = field(default_factory=dict)
    slack: dict[str, pulp.LpVariable] = field(default_factory=dict)
    scale: float = 1.0  # the objective is integrations / scale
    segments: dict[tuple[str, int], pulp.LpVariable] = field(default_factory=dict)

    def level_rows(self) -> dict[str, list[tuple[str, str, float]]]:
        """Per instrument, (name, kind, coefficient) of every named row its level appears in — the LP's own
        coefficients, for reports that price a level against the rows' duals (the response's link rows and
        the lots' rows left out)."""
        by_column = {v.name: iid for iid, v in self.level.items()}
        out: dict[str, list[tuple[str, str, float]]] = {iid: [] for iid in self.level}
        for name, c in self.constraint.items():
            kind = self.rows[name].kind
            if kind in ("response", "lot"):
                continue
            for v, coef in c.items():
                iid = by_column.get(v.name)
                if iid is not None and coef != 0.0:
                    out[iid].append((name, kind, float(coef)))
        return out

    @property
    def objective(self) -> pulp.LpAffineExpression:
        """What the solver maximises: the integrations divided by ``scale``."""
        return self.integrations * (1.0 / self.scale)

    def keep_optimum(self, value: float, tolerance: float = OPTIMUM_TOLERANCE,
                     name: str = "optimum:integrations") -> None:
        """Add a row keeping the (scaled) objective at ``value`` less a relative tolerance, for a later pass."""
        keep = value - tolerance * max(1.0, abs(value))
        self.prob.addConstraint(self.objective >= keep, name)


def build_lp(
    problem: Problem,
    integer: bool = False,
    fixed_levels: dict[str, float] | None = None,
    elastic: Collection[str] = (),
    money_rows_only: bool = False,
    lean: bool = False,
) -> LinearProgram:
    """Build the LP of a problem.

    ``fixed_levels`` pins instruments to given levels (to evaluate a plan). ``elastic`` names constraint
    kinds (budget, pool, cap, coverage, places) whose rows get a slack variable ``s_<row>`` that may
    relax them, collected in ``LinearProgram.slack`` for the caller to price; ``entries_min`` and
    ``entries_max`` turn the bounds of the instruments the optimiser may change into such rows
    (``entries_min:<id>``, ``entries_max:<id>``). ``money_rows_only`` leaves out caps, coverage and
    places: to find how pools pay for a fixed plan. ``lean`` builds the response only between the levels'
    bounds (the same optimum, fewer columns; a bound's reduced cost may then sit on a segment instead).
    """
    inst = problem.instruments
    prob = pulp.LpProblem("optalloc", pulp.LpMaximize)
    level: dict[str, pulp.LpVariable] = {}
    lots: dict[str, pulp.LpVariable] = {}
    rows: dict[str, RowInfo] = {}
    constraint: dict[str, pulp.LpConstraint] = {}

    slack: dict[str, pulp.LpVariable] = {}

    def add(name: str, terms: list[tuple[pulp.LpVariable, float]], info: RowInfo) -> None:
        """Add a named row; with ``elastic`` pricing its kind, a slack variable may relax it."""
        terms = list(terms)
        if info.kind in elastic and info.sense != "=":
            s = prob.add_variable(f"s_{name.replace(':', '__')}", lowBound=0)
            slack[name] = s
            terms.append((s, -1.0 if info.sense == "<=" else 1.0))
        expr = pulp.LpAffineExpression(terms)
        c = {"<=": expr <= info.rhs, ">=": expr >= info.rhs, "=": expr == info.rhs}[info.sense]
        prob.addConstraint(c, name)
        rows[name] = info
        constraint[name] = prob.get_constraint_by_name(name)

    columns = ["lower", "upper", "unit", "lot", "financing", "lower_source", "upper_source", "lower_note", "upper_note"]
    for iid, r in inst[columns].to_dict("index").items():
        lo, hi = float(r["lower"]), float(r["upper"])
        if fixed_levels is not None and iid in fixed_levels:
            lo = hi = float(fixed_levels[iid])
        cat = pulp.LpInteger if (integer and r["unit"] == "entries" and int(r["lot"]) == 1) else pulp.LpContinuous
        if integer and r["unit"] == "entries" and lo < hi:
            lo, hi = whole_bounds(lo, hi, int(r["lot"]))  # tightens the relaxation for the MIP
        # a minimum or maximum the user set can give way (even one that fixes the row), a prepaid,
        # money-only or externally paid row's printed level cannot
        negotiable = r["financing"] not in FIXED_FINANCING and (fixed_levels is None or iid not in fixed_levels)
        # a bound that a contract or employers' posts set belongs to the capacity family, not to the minimums
        # or maxima the user or the box set
        min_kind = "capacity" if r["lower_source"] in ("places", "posts") else "entries_min"
        max_kind = "capacity" if r["upper_source"] in ("places", "posts") else "entries_max"
        soft_min = min_kind in elastic and negotiable
        soft_max = max_kind in elastic and negotiable
        level[iid] = prob.add_variable(f"x_{iid}", lowBound=0.0 if soft_min else lo, upBound=None if soft_max else hi,
                                       cat=cat)
        unit = "€" if r["unit"] == "euros" else "entries"
        if soft_min:
            add(f"entries_min:{iid}", [(level[iid], 1.0)], RowInfo(min_kind, unit, r["lower_note"], iid, ">=", lo))
        if soft_max:
            add(f"entries_max:{iid}", [(level[iid], 1.0)], RowInfo(max_kind, unit, r["upper_note"], iid, "<=", hi))
        if integer and int(r["lot"]) > 1:
            lot = int(r["lot"])
            lots[iid] = prob.add_variable(f"n_{iid}", lowBound=0, cat=pulp.LpInteger)
            add(f"lot:{iid}", [(level[iid], 1.0), (lots[iid], -float(lot))],
                RowInfo("lot", "entries", f"{iid} in lots of {lot}", iid, "=", 0.0))

    # money: direct terms per pool, or split variables where several pools may pay
    pool_terms: dict[str, list[tuple[pulp.LpVariable, float]]] = {p: [] for p in problem.pools.index}
    split: dict[tuple[str, int, str], pulp.LpVariable] = {}
    for c in problem.costs.itertuples(index=False):
        x = level[c.instrument]
        if len(c.pools) == 1:
            pool_terms[c.pools[0]].append((x, float(c.per_unit)))
            continue
        parts = []
        for p in c.pools:
            v = prob.add_variable(f"m_{c.instrument}_{c.component}_{p}", lowBound=0)
            split[(c.instrument, c.component, p)] = v
            pool_terms[p].append((v, 1.0))
            parts.append((v, 1.0))
        add(f"split:{c.instrument}:{c.component}", parts + [(x, -float(c.per_unit))],
            RowInfo("split", "€", f"money of {c.instrument} ({c.label}) from {' or '.join(c.pools)}", c.instrument, "=", 0.0))

    for pid, pool in problem.pools.iterrows():
        terms = pool_terms[pid]
        if not terms:
            continue
        name = problem.pool_row(pid)
        add(name, terms,
            RowInfo("budget" if name.startswith("budget") else "pool", "€", pool["name"], pid, "<=", float(pool["available"])))

    unit_cost = inst["unit_cost"]
    money = pulp.LpAffineExpression([(level[i], float(unit_cost[i])) for i in inst.index if unit_cost[i] != 0.0])
    segments: dict[tuple[str, int], pulp.LpVariable] = {}
    if money_rows_only:
        integrations = pulp.LpAffineExpression()
        return LinearProgram(problem, prob, level, split, lots, rows, integrations, money, integer, constraint, slack,
                             1.0, segments)
    terms, constant = _response(problem, level, segments, add, prob, beyond_bounds=not lean)
    # every level in the objective, at 0 where it earns nothing there: a level that appears in no row (a prepaid
    # row once a scenario drops every coverage requirement) still reaches the solver and has a column
    carried = {v.name for v, _ in terms}
    integrations = pulp.LpAffineExpression(terms + [(v, 0.0) for v in level.values() if v.name not in carried],
                                           constant=constant)
    scale = max((abs(c) for _, c in terms), default=0.0)
    if not 0.0 < scale < math.inf or not math.isfinite(1.0 / scale):  # no rate, or one so small 1/it overflows
        scale = 1.0
    prob.setObjective(integrations * (1.0 / scale))

    for cap in problem.caps:
        terms = [(level[i], float(unit_cost[i])) for i in cap.instruments if unit_cost[i] > 0]
        add(f"cap:{cap.id}", terms,
            RowInfo("cap", "€", cap.name, cap.id, "<=", cap.limit))

    entries_ids = [i for i in inst.index if inst.at[i, "unit"] == "entries"]
    for cov in problem.coverage:
        share = problem.groups[cov.group]
        weight = unit_cost if cov.basis == "money" else None
        coeffs = []
        for i in entries_ids:
            w = float(weight[i]) if weight is not None else 1.0
            s = float(share[i])
            coef = w * (s - cov.min_share) if cov.min_share is not None else w * s
            if coef != 0.0:
                coeffs.append((level[i], coef))
        rhs = 0.0 if cov.min_share is not None else float(cov.min_count or 0.0)
        unit = "€" if cov.basis == "money" else "entries"
        what = f"at least {cov.min_share:.1%} of all {cov.basis}" if cov.min_share is not None else f"at least {rhs:,.0f} {cov.basis}"
        add(f"coverage:{cov.id}", coeffs,
            RowInfo("coverage", unit, f"{cov.group}: {what}", cov.id, ">=", rhs))

    for lim in problem.place_limits:
        terms = [(level[i], float(k)) for i, k in zip(lim.instruments, lim.per_entry)]
        add(lim.id, terms,
            RowInfo("places", "places", f"places of {', '.join(lim.instruments)}", lim.id.split(":", 1)[1], "<=", lim.max_places))

    for rule in problem.limits:
        add(rule.id, [(level[i], float(c)) for i, c in rule.terms if c != 0.0],
            RowInfo(rule.kind, rule.unit, rule.label, rule.id.split(":", 1)[1].split(":")[0], rule.sense, rule.rhs))

    return LinearProgram(problem, prob, level, split, lots, rows, integrations, money, integer, constraint, slack,
                         scale, segments)


def _response(problem: Problem, level: dict[str, pulp.LpVariable], segments: dict[tuple[str, int], pulp.LpVariable],
              add, prob: pulp.LpProblem, beyond_bounds: bool = True) -> tuple[list[tuple[pulp.LpVariable, float]], float]:
    """The objective's terms: one variable per response segment around each level's bounds, tied to the
    level by ``response:<id>``; the integrations below the first of them (or of a fixed level) are a
    constant. The segments reach from the breakpoint below the lower bound to the breakpoint above the
    upper bound, so that the level's own bounds, not a segment's, hold it there: the level's reduced cost
    is then what a bound is worth. Without ``beyond_bounds`` (sweeps, which read no bound's worth) the
    segments stop at the bounds: fewer columns, the same optimum."""
    weight = problem.instruments["weight"].to_dict()
    terms: list[tuple[pulp.LpVariable, float]] = []
    constant = 0.0
    for iid, (numbers, starts, ends, rates) in problem.curves.items():
        x = level[iid]
        lower = float(x.lowBound or 0.0)
        upper = math.inf if x.upBound is None else float(x.upBound)
        w = float(weight[iid])
        if upper - lower <= 1e-12:  # a fixed level: its integrations are a constant
            base = top = lower
        elif not beyond_bounds:
            base, top = lower, upper
        else:
            base = float(max((s for s in starts if s < lower - 1e-9 * max(1.0, lower)), default=0.0))
            top = float(min((e for e in ends if e > upper + 1e-9 * max(1.0, upper)), default=math.inf))
        parts = []
        if len(rates) == 1 and starts[0] == 0.0:  # constant rate: the level itself carries it (the first form)
            if upper - lower > 1e-12:
                terms.append((x, w * float(rates[0])))
            else:
                constant += w * float(rates[0]) * lower
            continue
        for k, start, end, rate in zip(numbers, starts, ends, rates):
            constant += w * float(rate) * max(0.0, min(end, base) - start)
            width = min(end, top) - max(start, base)
            if width <= 1e-12:
                continue  # outside the range the level can take
            v = prob.add_variable(f"r_{iid}_{k}", lowBound=0.0, upBound=None if math.isinf(width) else width)
            segments[(iid, int(k))] = v
            parts.append((v, -1.0))
            terms.append((v, w * float(rate)))
        if parts:
            add(f"response:{iid}", [(x, 1.0), *parts],
                RowInfo("response", "entries", f"{iid}: its entries in the segments of its response", iid, "=", base))
    return terms, constant


def whole_bounds(lower: float, upper: float, lot: int) -> tuple[float, float]:
    """A row's bounds in whole entries (lots): rounded inward, as the whole-entry LP takes them."""
    return math.ceil(lower / lot - 1e-9) * lot, math.floor(upper / lot + 1e-9) * lot


def preference_weights(problem: Problem) -> dict[str, float]:
    """Weights of the tie-break objective: (N − row order) / N, divided by the instrument's range of levels
    (so that a money line in euros does not outweigh entries). Earlier rows weigh more per unit of their
    range; distinct weights make the tie-break's optimum unique."""
    inst = problem.instruments
    n = float(len(inst))
    weights = (n - inst["order"].astype(float)) / n / (inst["upper"] - inst["lower"]).clip(lower=1.0)
    return {str(i): float(w) for i, w in weights.items()}


def preference(lp: LinearProgram) -> pulp.LpAffineExpression:
    """The tie-break objective over the levels (see :func:`preference_weights`)."""
    weights = preference_weights(lp.problem)
    return pulp.LpAffineExpression([(v, weights[i]) for i, v in lp.level.items()])
