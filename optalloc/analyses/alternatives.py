"""Near-optimal plans: each instrument's corridor within ε of the optimum, and alternatives that differ.

Planning staff need room, not one vertex. Two answers from the same LP (built once, kept on PuLP's
highspy object and re-solved warm), with the row "expected integrations ≥ (1 − ε) × optimum" added:

- :func:`corridors` — per instrument the optimiser may change, its least and its most level within ε
  (two warm re-solves each: only the cost vector changes). Each end is then proven: its plan keeps every
  rule of the model (:func:`optalloc.solving.check.check_plan`, plain arithmetic) with at least the ε floor of
  integrations, and a re-solve with the level a hundredth of an entry beyond the end (:data:`STEP`)
  reaches less than the floor, or no plan exists there, or the end is the row's own bound. The most
  integrations as a function of one level is concave, so one step beyond proves every level beyond.
- :func:`alternatives` — ``count`` plans within ε that differ from the optimal plan and from each other
  as much as the search finds, in euros moved (Σ unit cost × |Δ entries|, the measure of the frontier).
  Maximising a distance is not a linear program; each plan is found by successive linear programs (the
  distance linearised at the current plan, which can only grow it: |a| ≥ sign × a) from
  :data:`STARTS` seeded starting directions, and the best kept. It is a local optimum, not a proven one
  (``benchmarks/alternatives.py`` compares it with the exact mixed-integer answer).

Every plan returned here is paid (:func:`optalloc.solving.solve.pay`) and checked like the optimal plan; a plan
that fails the check is never returned. :mod:`optalloc.analyses.frontier` uses the same helpers.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pulp

from ..solving.check import check_plan
from ..errors import InfeasibleError, SolverError, UsageError
from ..solving.lp import LinearProgram, RowInfo, build_lp
from ..solving.plan import Plan, instrument_cents, money_cents
from ..model.problem import Problem
from ..outputs.reports import _area_table, _instrument_table, _kennzahlen_table, _row_figures, summary
from ..solving.solve import Solution, _run, integrations_of, optimise
from ..solving.solve import checked_solution as _checked_solution
from ..solving.solve import official as official_plan

DEFAULT_EPSILON = 0.02
DEFAULT_COUNT = 3
STEP = 0.01  # entries beyond a corridor's end at which the proof re-solves
STARTS = 32  # starting directions per alternative (one from the plans found, the rest seeded at random)
SEED = 2016
LEVEL_TOLERANCE = 1e-7  # relative: a solver's level this close to a bound (or the official level) is on it
FLOOR_MARGIN = 1e-9  # relative: the LP keeps this above the ε floor, so that a plan's exact value is not below it

BOUND_WORDS = {"box": "fallback box", "places": "places", "posts": "posts", "document": "its own bound",
               "scenario": "scenario bound", "fixed": "fixed"}


EPSILON_ALLOWED = "a share of the optimum above 0 and below 1: 0.02 or 2%"


def check_epsilon(epsilon: float) -> float:
    """ε as a share of the optimum, strictly between 0 and 1; refuses anything else."""
    if isinstance(epsilon, bool) or not (isinstance(epsilon, (int, float)) and math.isfinite(epsilon)
                                         and 0.0 < epsilon < 1.0):
        raise UsageError("--epsilon", epsilon, EPSILON_ALLOWED)
    return float(epsilon)


def parse_epsilon(text: str) -> float:
    """``2%`` or ``0.02`` as a share (for ``--epsilon``); refuses anything else."""
    s = str(text).strip()
    try:
        value = float(s[:-1]) / 100 if s.endswith("%") else float(s)
    except ValueError:
        raise UsageError("--epsilon", text, EPSILON_ALLOWED) from None
    if not (math.isfinite(value) and 0.0 < value < 1.0):
        raise UsageError("--epsilon", text, EPSILON_ALLOWED)
    return value


def floor_of(optimum: float, epsilon: float) -> float:
    """The least expected integrations a plan within ε of ``optimum`` must reach (ε of its size below it)."""
    return optimum - epsilon * abs(optimum)


def at_box(problem: Problem, iid: str, level: float) -> bool:
    """Whether ``level`` sits on a bound that only the fallback box (an assumption with no source) sets."""
    r = problem.instruments.loc[iid]
    near = LEVEL_TOLERANCE * max(1.0, abs(level))
    return bool((r["lower_source"] == "box" and abs(level - r["lower"]) <= near)
                or (r["upper_source"] == "box" and abs(level - r["upper"]) <= near))


def euros_apart(problem: Problem, a: Plan, b: Plan) -> float:
    """Money moved between two plans: Σ over instruments of |money in a − money in b|, from whole cents."""
    ca = instrument_cents(problem, money_cents(problem, a))
    cb = instrument_cents(problem, money_cents(problem, b))
    return float((ca - cb).abs().sum()) / 100


def snap(problem: Problem, x: np.ndarray) -> pd.Series:
    """A solver's levels (in the order of the instruments) with noise at a bound or at the official level
    put onto it: a row the plan does not change stays exactly as the document plans it."""
    inst = problem.instruments
    out = np.asarray(x, dtype=float).copy()
    for anchor in (inst["official"], inst["lower"], inst["upper"]):
        a = anchor.to_numpy(dtype=float)
        near = np.abs(out - a) <= LEVEL_TOLERANCE * np.maximum(1.0, np.abs(a))
        out[near] = a[near]
    return pd.Series(out, index=inst.index, dtype=float)


def checked_solution(problem: Problem, levels: pd.Series, kind: str, rows: dict[str, RowInfo],
                     level_rows: dict[str, list[tuple[str, str, float]]]) -> Solution:
    """A plan HiGHS found here, paid and checked as every optimal plan is (:func:`optalloc.solving.solve.checked_solution`)."""
    return _checked_solution(problem, levels, kind, "highs", rows, level_rows)


def reference(problem: Problem, optimal: Solution | None, official: Solution | None) -> tuple[Solution, Solution]:
    """The optimal and the official plan, solved here unless given (optimise raises InfeasibleError with a
    diagnosis when no plan keeps every rule)."""
    return optimal or optimise(problem), official or official_plan(problem)


class WarmLP:
    """The plan's LP built once and kept on PuLP's highspy object, re-solved warm as costs, bounds and a few
    rows change. HiGHS minimises: PuLP passed it the negated, scaled integrations (:attr:`costs`)."""

    def __init__(self, problem: Problem):
        import highspy

        self.problem = problem
        self.lp: LinearProgram = build_lp(problem, lean=True)
        status = _run(self.lp, "highs")
        if status == "Infeasible":
            from ..solving.diagnosis import diagnose

            raise InfeasibleError(f"{problem.name}: no plan satisfies every requirement", diagnose(problem))
        if status != "Optimal":
            raise SolverError(f"{problem.name}: the solver stopped with status {status!r}")
        self.inf = highspy.kHighsInf
        self.ok = highspy.HighsModelStatus.kOptimal
        self.infeasible = highspy.HighsModelStatus.kInfeasible
        self.h = self.lp.prob.solverModel
        self.n = self.h.getNumCol()
        self.all_cols = np.arange(self.n, dtype=np.int32)
        self.costs = np.asarray(self.h.getLp().col_cost_, dtype=float).copy()
        self.cols = np.array([self.lp.level[i].index for i in problem.instruments.index], dtype=np.int32)
        self.col_of = dict(zip(problem.instruments.index, self.cols.tolist()))
        self.optimum = float(pulp.value(self.lp.integrations))
        terms = [(v.index, float(c)) for v, c in self.lp.integrations.items() if c != 0.0]
        self.value_cols = np.array([j for j, _ in terms], dtype=np.int32)
        self.value_coefs = np.array([c for _, c in terms], dtype=float)
        self.constant = float(self.lp.integrations.constant)

    def add_floor(self, floor: float) -> int:
        """Add the row "expected integrations ≥ floor" (a hair above it); returns its index."""
        lower = floor + FLOOR_MARGIN * max(1.0, abs(floor)) - self.constant
        self.h.addRow(lower, self.inf, len(self.value_cols), self.value_cols, self.value_coefs)
        return self.h.getNumRow() - 1

    def run(self) -> bool:
        """Re-solve from the last basis; whether an optimum was found."""
        self.h.run()
        return self.h.getModelStatus() == self.ok

    def x(self) -> np.ndarray:
        return np.asarray(self.h.getSolution().col_value, dtype=float)

    def levels(self, x: np.ndarray) -> pd.Series:
        return snap(self.problem, x[self.cols])

    def split(self, x: np.ndarray) -> dict[tuple[str, int, str], float]:
        return {key: max(float(x[v.index]), 0.0) for key, v in self.lp.split.items()}

    def solution(self, levels: pd.Series, kind: str) -> Solution:
        return checked_solution(self.problem, levels, kind, self.lp.rows, self.lp.level_rows())


# ----- corridors -----


@dataclass(frozen=True)
class Corridors:
    """``table``: per instrument the optimiser may change (index: id) its official and optimal level, its
    ``least`` and ``most`` level within ε, what holds each end (``least_by``, ``most_by``: a bound and
    who sets it, a rule, or the ε floor), whether the end is only the fallback box's (``least_box``,
    ``most_box``: not a finding), the proof (``*_integrations``: the end plan's value, ≥ the floor;
    ``*_beyond``: the most integrations a :data:`STEP` beyond it, NaN where no plan exists there or the
    end is a bound; ``*_proof``: "below floor", "no plan", "bound" or "not proven"; ``*_proven``) and the
    money of each end at the row's unit cost. ``ends``: the plan at each (id, end). ``seconds``: the
    2 × n corridor re-solves; ``proof_seconds``: checking every end plan and the re-solves beyond;
    ``rules``: how many rules each end plan was checked against."""

    problem: Problem
    epsilon: float
    optimum: float
    floor: float
    official_value: float
    table: pd.DataFrame
    ends: dict[tuple[str, str], Plan]
    seconds: float
    proof_seconds: float
    rules: int = 0

    @property
    def proven(self) -> bool:
        return bool(self.table["least_proven"].all() and self.table["most_proven"].all())


def corridors(problem: Problem, epsilon: float = DEFAULT_EPSILON, *, optimal: Solution | None = None,
              official: Solution | None = None) -> Corridors:
    """Each adjustable instrument's least and most level among the plans within ``epsilon`` of the optimum,
    every end proven attainable and not exceedable (see the module docstring)."""
    epsilon = check_epsilon(epsilon)
    optimal, official = reference(problem, optimal, official)
    inst = problem.instruments
    warm = WarmLP(problem)
    floor = floor_of(optimal.integrations, epsilon)
    floor_row = warm.add_floor(floor)
    h = warm.h
    h.changeColsCost(warm.n, warm.all_cols, np.zeros(warm.n))
    adjustable = list(inst.index[~inst["fixed"]])

    start = time.perf_counter()
    found: dict[tuple[str, str], np.ndarray] = {}
    for iid in adjustable:
        j = warm.col_of[iid]
        for end, sign in (("least", 1.0), ("most", -1.0)):
            h.changeColCost(j, sign)
            if not warm.run():
                raise SolverError(f"{problem.name}: the corridor of {iid} ({end}) did not solve")
            found[(iid, end)] = warm.x()
        h.changeColCost(j, 0.0)
    seconds = time.perf_counter() - start

    start = time.perf_counter()
    rows = []
    ends: dict[tuple[str, str], Plan] = {}
    checked: dict[bytes, tuple[pd.DataFrame, float]] = {}
    level_rows = warm.lp.level_rows()
    h.changeColsCost(warm.n, warm.all_cols, warm.costs)  # back to maximising integrations
    h.changeRowBounds(floor_row, -warm.inf, warm.inf)  # the proofs ask for the most, whatever it is
    for iid in adjustable:
        lo, hi = float(inst.at[iid, "lower"]), float(inst.at[iid, "upper"])
        rec: dict[str, object] = {"id": iid, "instrument": inst.at[iid, "name"],
                                  "official": float(inst.at[iid, "official"]),
                                  "optimal": float(optimal.plan.levels[iid])}
        for end, bound, side, direction in (("least", lo, "lower", -1.0), ("most", hi, "upper", 1.0)):
            x = found[(iid, end)]
            plan = Plan(warm.levels(x), warm.split(x))
            ends[(iid, end)] = plan
            level = float(plan.levels[iid])
            key = plan.levels.to_numpy().tobytes() + repr(sorted(plan.split.items())).encode()
            if key not in checked:  # several ends can meet at the same plan: check it once
                checked[key] = (check_plan(problem, plan), integrations_of(problem, plan.levels))
            checks, value = checked[key]
            attainable = bool(checks["ok"].all()) and value >= floor
            if level == bound:
                source = str(inst.at[iid, f"{side}_source"])
                held, beyond, how = BOUND_WORDS.get(source, source), math.nan, "bound"
            else:
                beyond, exists = _most_beyond(warm, iid, min(max(level + direction * STEP, lo), hi), lo, hi)
                how = ("below floor" if beyond < floor else "not proven") if exists else "no plan"
                held = "ε floor" if exists else _binding_rule(checks, level_rows[iid])
            rec.update({
                end: level, f"{end}_by": held, f"{end}_box": at_box(problem, iid, level),
                f"{end}_integrations": value, f"{end}_beyond": beyond, f"{end}_proof": how,
                f"{end}_proven": attainable and how != "not proven",
                f"{end}_money": round(level * float(inst.at[iid, "unit_cost"]), 2),
            })
        rows.append(rec)
    proof_seconds = time.perf_counter() - start
    table = pd.DataFrame(rows, columns=None if rows else ["id"]).set_index("id")
    return Corridors(problem, epsilon, optimal.integrations, floor, official.integrations, table, ends, seconds,
                     proof_seconds, rules=len(optimal.checks))


def _most_beyond(warm: WarmLP, iid: str, level: float, lo: float, hi: float) -> tuple[float, bool]:
    """The most expected integrations with ``iid`` fixed at ``level`` (warm), and whether any plan exists."""
    j = warm.col_of[iid]
    warm.h.changeColBounds(j, level, level)
    solved = warm.run()
    status = warm.h.getModelStatus()
    value = float(integrations_of(warm.problem, warm.levels(warm.x()))) if solved else math.nan
    warm.h.changeColBounds(j, lo, hi)
    if not solved and status != warm.infeasible:
        raise SolverError(f"{warm.problem.name}: the re-solve beyond the corridor of {iid} stopped with {status}")
    return value, solved


RULE_ORDER = ("policy", "capacity", "places", "cap", "stock", "coverage", "pool", "budget")
"""Which rules a corridor's end names first: a stated decision or a capacity before the money, which
binds in almost every plan."""


def _binding_rule(checks: pd.DataFrame, names: list[tuple[str, str, float]]) -> str:
    """The rules of the instrument's rows that its end plan uses up (what holds it where no plan goes beyond)."""
    mine = {n for n, _, _ in names}
    used = checks[checks["binding"] & checks["name"].isin(mine) & checks["kind"].isin(RULE_ORDER)]
    used = used.assign(rank=used["kind"].map(RULE_ORDER.index)).sort_values("rank", kind="stable")
    return ", ".join(used["name"].head(2)) if len(used) else "the rules"


# ----- alternatives -----


@dataclass(frozen=True)
class Alternatives:
    """``count`` plans within ε of the optimum, as different as the search finds, beside the official and
    the optimal plan (columns ``official``, ``optimal``, ``alternative 1`` …): ``summary`` (headline
    figures and the euros each plan moves), ``instruments`` (entries and money per printed row),
    ``areas`` (per priority area), ``kennzahlen`` (entries by purpose), ``levels`` (per instrument) and
    ``distances`` (euros moved between every two plans). ``plans`` holds the alternatives' Solutions."""

    problem: Problem
    epsilon: float
    optimum: float
    floor: float
    plans: tuple[Solution, ...]
    official: Solution
    optimal: Solution
    summary: pd.DataFrame
    instruments: pd.DataFrame
    areas: pd.DataFrame
    kennzahlen: pd.DataFrame
    levels: pd.DataFrame
    distances: pd.DataFrame
    starts: int

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"summary": self.summary, "instruments": self.instruments, "areas": self.areas,
                "kennzahlen": self.kennzahlen, "levels": self.levels, "distances": self.distances}


def alternatives(problem: Problem, epsilon: float = DEFAULT_EPSILON, count: int = DEFAULT_COUNT, *,
                 optimal: Solution | None = None, official: Solution | None = None,
                 starts: int = STARTS) -> Alternatives:
    """``count`` plans within ``epsilon`` of the optimum, each as far (in euros moved) from the optimal plan
    and the alternatives before it as the search finds: it maximises the least distance to them."""
    epsilon = check_epsilon(epsilon)
    if not (isinstance(count, int) and count >= 1):
        raise UsageError("--count", count, "a whole number of alternatives, 1 or more")
    optimal, official = reference(problem, optimal, official)
    inst = problem.instruments
    adjustable = list(inst.index[~inst["fixed"]])
    warm = WarmLP(problem)
    floor = floor_of(optimal.integrations, epsilon)
    warm.add_floor(floor)
    search = _DistanceSearch(warm, adjustable)
    rng = np.random.default_rng(SEED)
    found = [optimal.plan.levels[adjustable].to_numpy(dtype=float)]
    plans = []
    for k in range(count):
        x = search.farthest(found, rng, starts)
        plans.append(warm.solution(warm.levels(x), "alternative"))
        found.append(plans[-1].plan.levels[adjustable].to_numpy(dtype=float))
    return _side_by_side(problem, epsilon, optimal, official, tuple(plans), floor, starts)


class _DistanceSearch:
    """Successive linear programs for the plan within the ε floor farthest from given plans.

    Maximise t subject to t ≤ Σ_i c_i s_ij (x_i − p_ij) for every given plan j, where s_ij = ±1 is the side
    of p_ij on which x_i lies: the right-hand side is at most the distance Σ c_i |x_i − p_ij|, and equal to
    it at the current plan. Re-linearised at each new plan, the least distance never falls."""

    def __init__(self, warm: WarmLP, adjustable: list[str]):
        self.warm = warm
        inst = warm.problem.instruments
        self.cost = inst.loc[adjustable, "unit_cost"].to_numpy(dtype=float)
        self.lower = inst.loc[adjustable, "lower"].to_numpy(dtype=float)
        self.upper = inst.loc[adjustable, "upper"].to_numpy(dtype=float)
        self.cols = np.array([warm.col_of[i] for i in adjustable], dtype=np.int32)
        h = warm.h
        h.addCol(0.0, 0.0, warm.inf, 0, np.array([], dtype=np.int32), np.array([], dtype=float))
        self.t = h.getNumCol() - 1
        n = h.getNumCol()
        costs = np.zeros(n)
        costs[self.t] = -1.0  # HiGHS minimises: the most t
        h.changeColsCost(n, np.arange(n, dtype=np.int32), costs)

    def distance(self, x: np.ndarray, plans: list[np.ndarray]) -> float:
        return min(float(np.sum(self.cost * np.abs(x - p))) for p in plans)

    def _solve(self, plans: list[np.ndarray], sides: list[np.ndarray]) -> np.ndarray:
        h, first = self.warm.h, self.warm.h.getNumRow()
        index = np.append(self.cols, self.t).astype(np.int32)
        for p, s in zip(plans, sides):
            h.addRow(-self.warm.inf, -float(np.sum(self.cost * s * p)), len(index), index,
                     np.append(-self.cost * s, 1.0))
        if not self.warm.run():
            raise SolverError(f"{self.warm.problem.name}: the search for an alternative plan did not solve")
        x = self.warm.x()
        h.deleteRows(len(plans), np.arange(first, first + len(plans), dtype=np.int32))
        return x

    def farthest(self, plans: list[np.ndarray], rng: np.random.Generator, starts: int) -> np.ndarray:
        """The best of ``starts`` searches: the first pushes each row to the bound farther (in euros) from
        the plans' mean, the others start from seeded random sides."""
        centre = np.mean(plans, axis=0)
        first = np.where(self.upper - centre >= centre - self.lower, 1.0, -1.0)
        directions = [first] + [rng.choice([-1.0, 1.0], size=len(first)) for _ in range(max(starts, 1) - 1)]
        best_x, best = None, -math.inf
        for side in directions:
            x = self._solve(plans, [side] * len(plans))
            d = self.distance(x[self.cols], plans)
            for _ in range(50):
                sides = [np.where(x[self.cols] > p, 1.0, np.where(x[self.cols] < p, -1.0, side)) for p in plans]
                y = self._solve(plans, sides)
                e = self.distance(y[self.cols], plans)
                if e <= d * (1 + 1e-9):
                    break
                x, d = y, e
            if d > best * (1 + 1e-9):
                best_x, best = x, d
        return best_x


def _side_by_side(problem: Problem, epsilon: float, optimal: Solution, official: Solution,
                  plans: tuple[Solution, ...], floor: float, starts: int) -> Alternatives:
    """The alternatives beside the official and the optimal plan, in the official shape (each plan's
    printed-row figures worked out once, as :func:`optalloc.outputs.reports.compare` does)."""
    named = {"official": official, "optimal": optimal}
    named.update({f"alternative {k + 1}": s for k, s in enumerate(plans)})
    names = list(named)
    cents = {n: instrument_cents(problem, money_cents(problem, s.plan)) for n, s in named.items()}
    apart = pd.DataFrame({a: {b: float((cents[a] - cents[b]).abs().sum()) / 100 for b in names} for a in names})
    apart = apart.loc[names, names]
    head = pd.DataFrame({name: summary(s)["plan"] for name, s in named.items()})
    head.loc["€ moved from the official plan"] = apart.loc["official"]
    head.loc["€ moved from the optimal plan"] = apart.loc["optimal"]
    others = names[1:]
    head.loc["€ moved from the nearest other plan (optimal or alternative)"] = [
        min((apart.at[n, m] for m in others if m != n), default=math.nan) if n != "official" else math.nan
        for n in names]
    model = problem.spec.model
    figures = {name: _row_figures(s) for name, s in named.items()}
    parts = {name: _instrument_table(model, f, None) for name, f in figures.items()}
    instruments = parts["official"][["area", "instrument", "financing", "counted_in", "note"]].copy()
    for what in ("entries", "money", "integrations"):
        for name, t in parts.items():
            instruments[f"{what} {name}"] = t[f"{what}_plan"]
    parts = {name: _area_table(model, f, None) for name, f in figures.items()}
    areas = parts["official"][["chapter", "area"]].copy()
    for what in ("entries", "money"):
        for name, t in parts.items():
            areas[f"{what} {name}"] = t[f"{what}_plan"]
    parts = {name: _kennzahlen_table(model, f, None) for name, f in figures.items()}
    kennzahlen = pd.DataFrame(columns=["purpose", "name", "printed", *parts])  # a model may have no Kennzahlen
    if not parts["official"].empty:
        kennzahlen = parts["official"][["purpose", "name", "printed"]].copy()
        for name, t in parts.items():
            kennzahlen[name] = t["plan"]
    levels = pd.DataFrame({name: s.plan.levels for name, s in named.items()})
    levels.insert(0, "instrument", problem.instruments["name"])
    return Alternatives(problem, epsilon, optimal.integrations, floor, plans, official, optimal, head, instruments,
                        areas, kennzahlen, levels, apart, starts)
