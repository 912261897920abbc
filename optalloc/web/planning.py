"""One browser session's planning: the user's choices turned into a problem, solved fast enough to play with.

A :class:`Choices` is everything the page lets a user set: model, scenarios (applied in order), the budget
level (a cut or a raise), the reserve, each rate class within its range, the basis, the priorities and which
policy rules hold. :class:`PlanningSession` turns choices into a :class:`Outcome` — the optimal plan beside
the official one, or the diagnosis of why no plan exists — with the library's own functions.

Speed comes from doing each step only when its input changed:

- model files are read once per process (:class:`~optalloc.web.library.ModelLibrary`), a model with its
  scenario files applied once per session;
- the LP of one problem structure is built once (:class:`WarmPlanner`); a change of the budget level or the
  reserve, which only moves the new-business budget row's bound, changes that bound on PuLP's highspy object
  and re-solves it, then runs the same later passes as :func:`optalloc.solving.solve.optimise` (tie-break on the
  optimal face, how the pools pay, the independent check); the problem itself only gets new budget figures
  (:func:`rebudgeted`);
- each plan's printed-row figures are summed from a layout found once per structure, and the official
  plan's, which a budget change does not move, are remembered (:class:`Comparer`).
Any other change (rates, basis, priorities, policy rules, scenarios) rebuilds the problem and the LP.

The re-solve starts HiGHS afresh on the kept object (:data:`WARM_BASIS` off): started from the last basis,
HiGHS can end at another vertex of the same optimum — the same plan, other duals — and what the page says
set each level would then differ from ``optalloc solve``'s for the same choice (measured on Duisburg: 12
of 20 budget levels between −12 % and +20 %; ``tests/test_web.py`` fails with the warm start switched on).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pulp

from ..outputs import reports
from ..solving.diagnosis import Diagnosis, diagnose
from ..errors import InfeasibleError, OptallocError, SolverError
from ..model.loading import Spec, check_plannable
from ..solving.lp import build_lp, preference_weights
from ..model.problem import Problem, build_problem
from ..analyses.reasons import level_reasons
from ..model.budget import cap_base, derive_budget
from ..solving.check import check_plan
from ..model.scenarios import apply_scenarios
from ..outputs.text import money
from ..solving.solve import (DUAL_TOLERANCE, Solution, checked_solution, _read_duals, _read_plan, _run, _ties_possible,
                     integrations_of, pay)
from ..analyses.sweeps import BUDGET_ROW, with_budget

SCENARIO_NAME_MAX = 80  # a scenario's name is text of at most 80 characters (the scenario schema)
BUDGET_CHANGE_RANGE = (-0.30, 0.20)
"""The budget level a user may set: from a 30 % cut to 20 % more than the model's new-business budget."""


@dataclass(frozen=True)
class Choices:
    """What the page lets a user set. ``budget_change`` is a share of the model's new-business budget (before
    any cut): −0.10 cuts it by 10 % (as a scenario's ``cut_share`` does: the cut takes the reserve first),
    +0.05 adds 5 % of it to what the new-business pool makes available. ``reserve`` in euros (None: the
    model's own). ``rates`` are (class, value on the chosen basis) pairs, only those the user moved;
    ``priorities`` (group, bonus weight) pairs; ``policy_off`` the stated decisions switched off."""

    model: str
    scenarios: tuple[str, ...] = ()
    budget_change: float = 0.0
    reserve: float | None = None
    basis: str | None = None
    rates: tuple[tuple[str, float], ...] = ()
    priorities: tuple[tuple[str, float], ...] = ()
    policy_off: tuple[str, ...] = ()

    def overlay(self) -> dict[str, Any] | None:
        """The page's own changes as a scenario overlay (applied after the scenario files), or None; its name
        says what it changes, as a scenario file's name does ("cut 20 %")."""
        budget: dict[str, Any] = {}
        names = []
        if self.budget_change < 0:
            budget["cut_share"] = round(-self.budget_change, 6)
            names.append(budget_label(self.budget_change))
        if self.reserve is not None:
            budget["reserve_amount"] = round(float(self.reserve), 2)
            names.append(f"reserve {money(budget['reserve_amount'])} €")
        out: dict[str, Any] = {}
        if budget:
            out["budget"] = budget
        if self.priorities:
            out["priorities"] = dict(self.priorities)
            names.append("priorities " + ", ".join(f"{g} {w:g}" for g, w in self.priorities))
        if self.policy_off:
            out["policy"] = {rid: {"drop": True} for rid in self.policy_off}
            names.append("without " + ", ".join(self.policy_off))
        if not out:
            return None
        name = "; ".join(names)
        if len(name) > SCENARIO_NAME_MAX:
            name = name[:SCENARIO_NAME_MAX - 1] + "…"
        return {"name": name, **out}


@dataclass(frozen=True)
class Outcome:
    """What one set of choices gives: the optimal and official plans with their comparison, or (``diagnosis``)
    why no plan satisfies every requirement, or (``error``) the one-line message of a refused input."""

    choices: Choices
    problem: Problem | None = None
    optimal: Solution | None = None
    official: Solution | None = None
    comparison: Comparison | None = None
    diagnosis: Diagnosis | None = None
    message: str = ""
    error: str = ""
    warm: bool = False  # the plan came from re-solving the session's LP (only the budget changed)
    seconds: float = 0.0  # time to find the outcome (the page's tables are worked out when shown)

    @property
    def feasible(self) -> bool:
        return self.optimal is not None


def same_structure(a: Problem, b: Problem) -> bool:
    """Whether the LPs of ``a`` and ``b`` are built from the same figures, apart from the amount of the
    new-business pool: then they differ only in the bound of the budget row."""
    if (a.basis, a.response_shape, a.caps, a.coverage, a.place_limits, a.limits) != \
            (b.basis, b.response_shape, b.caps, b.coverage, b.place_limits, b.limits):
        return False
    if a.new_business_pool != b.new_business_pool:
        return False
    pool = a.new_business_pool
    return (a.instruments.equals(b.instruments) and a.costs.equals(b.costs) and a.groups.equals(b.groups)
            and a.response.equals(b.response)
            and a.pools.drop(index=pool).equals(b.pools.drop(index=pool))
            and a.pools.drop(columns="available").equals(b.pools.drop(columns="available")))


def _with_budget_row(rows: dict, problem: Problem) -> dict:
    """An LP's row records with the budget row's right-hand side of ``problem`` (the same rows otherwise)."""
    if BUDGET_ROW not in rows:
        return rows
    out = dict(rows)
    out[BUDGET_ROW] = dataclasses.replace(out[BUDGET_ROW], rhs=float(problem.new_business_available))
    return out


_TOKENS = itertools.count(1)
WARM_BASIS = False
"""Start each re-solve from the basis of the structure's first solve (faster, but the duals, and so the
reasons per level, can differ from a fresh solve's at a degenerate optimum); off: afresh, as the CLI."""


class WarmPlanner:
    """The LP of one problem structure, built once, then re-solved for other budget levels.

    :meth:`solve` gives what :func:`optalloc.solving.solve.optimise` gives for the same problem (continuous
    entries, HiGHS): pass 1 re-solves PuLP's own highspy object with the budget row's new bound (afresh,
    see :data:`WARM_BASIS`); the duals are read as ``optimise`` reads them; where other plans are as good,
    the same tie-break runs on the optimal face (on a second HiGHS copy that keeps the preference costs);
    then how the pools pay, the trim of a solver's last digits, and the independent check.
    :meth:`official` evaluates the official plan as :func:`optalloc.solving.solve.official` does."""

    def __init__(self, problem: Problem):
        import highspy

        self.problem = problem
        self.token = next(_TOKENS)  # names this structure in the Comparer's memory
        self.lp = build_lp(problem)
        self._status = _run(self.lp, "highs")  # builds PuLP's highspy object: lp.prob.solverModel
        self.h = self.lp.prob.solverModel
        self.row = self.lp.constraint[BUDGET_ROW].index
        self.basis = self.h.getBasis() if self._status == "Optimal" else None
        self._inf = highspy.kHighsInf
        self._optimal = highspy.HighsModelStatus.kOptimal
        self._infeasible = (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible)
        self._tie = None
        self._reader = pulp.HiGHS(msg=False)
        self._level_rows = self.lp.level_rows()
        self._official_rows: tuple[dict, dict] | None = None
        self.solves = 0

    def fits(self, problem: Problem) -> bool:
        return same_structure(problem, self.problem)

    def solve(self, problem: Problem) -> Solution:
        """The optimal plan of ``problem`` (whose structure must be this planner's). Raises InfeasibleError
        with the diagnosis where no plan exists."""
        lp, h = self.lp, self.h
        h.changeRowBounds(self.row, -self._inf, float(problem.new_business_available))
        if WARM_BASIS and self.basis is not None:
            h.setBasis(self.basis)
        else:
            h.clearSolver()
        h.run()
        self.solves += 1
        status = h.getModelStatus()
        if status in self._infeasible:
            raise InfeasibleError(f"{problem.name}: no plan satisfies every requirement", diagnose(problem))
        if status != self._optimal:
            raise SolverError(f"{problem.name}: the solver stopped with status {status!r}")
        if self.basis is None:
            self.basis = h.getBasis()
        self._reader.findSolutionValues(lp.prob)  # values, duals and reduced costs onto PuLP's objects
        duals, reduced = _read_duals(lp, "highs")
        if _ties_possible(lp):
            self._break_tie(float(problem.new_business_available))
        return checked_solution(problem, _read_plan(lp).levels, "optimal", "highs", _with_budget_row(lp.rows, problem),
                                self._level_rows, duals, reduced)

    def official(self, problem: Problem) -> Solution:
        """:func:`optalloc.solving.solve.official` for ``problem`` (of this planner's structure): how the pools pay for
        the document's entries and its checks; the rows of its fixed-level LP are built once."""
        levels = problem.instruments["official"]
        plan, _ = pay(problem, levels)
        checks = check_plan(problem, plan)
        if self._official_rows is None:
            fixed = build_lp(problem, fixed_levels=levels.to_dict())
            self._official_rows = (fixed.rows, fixed.level_rows())
        rows, level_rows = self._official_rows
        return Solution(problem, plan, "official", "highs", False, integrations_of(problem, plan.levels),
                        _with_budget_row(rows, problem), None, None, checks, level_rows=level_rows)

    def _break_tie(self, available: float) -> None:
        """The tie-break of ``optimise`` on the optimal face: every column with a nonzero reduced cost fixed
        at its value, every row with a nonzero dual held at its activity, then the preference for earlier
        rows; the result goes back onto PuLP's variables."""
        import highspy

        h = self.h
        model = h.getLp()
        n, m = h.getNumCol(), h.getNumRow()
        if self._tie is None:
            tie = highspy.Highs()
            tie.setOptionValue("output_flag", False)
            tie.passModel(model)
            costs = np.zeros(n)
            for iid, weight in preference_weights(self.lp.problem).items():
                costs[self.lp.level[iid].index] = -weight  # HiGHS minimises: the negated preference
            tie.changeColsCost(n, np.arange(n, dtype=np.int32), costs)
            self._tie = tie
        sol = h.getSolution()
        x, col_dual = np.asarray(sol.col_value), np.asarray(sol.col_dual)
        activity, row_dual = np.asarray(sol.row_value), np.asarray(sol.row_dual)
        col_lo, col_hi = np.asarray(model.col_lower_, dtype=float), np.asarray(model.col_upper_, dtype=float)
        row_lo, row_hi = np.asarray(model.row_lower_, dtype=float), np.asarray(model.row_upper_, dtype=float)
        fixed, tight = np.abs(col_dual) > DUAL_TOLERANCE, np.abs(row_dual) > DUAL_TOLERANCE
        tie = self._tie
        tie.changeColsBounds(n, np.arange(n, dtype=np.int32), np.where(fixed, x, col_lo), np.where(fixed, x, col_hi))
        tie.changeRowsBounds(m, np.arange(m, dtype=np.int32), np.where(tight, activity, row_lo),
                             np.where(tight, activity, row_hi))
        tie.run()
        if tie.getModelStatus() != self._optimal:
            raise SolverError(f"the tie-break pass failed at a new-business budget of {available:,.2f} €")
        values = np.asarray(tie.getSolution().col_value)
        for v in self.lp.prob.variables():
            v.varValue = float(values[v.index])


class Comparison:
    """The tables of :func:`optalloc.outputs.reports.compare`, each worked out when first read: a page shows a few
    of them at a time (the others sit on tabs not shown), and each plan's printed-row figures come from the
    session's memory where the plan has not changed (see :class:`Comparer`)."""

    def __init__(self, plan: Solution, baseline: Solution, figures: Callable[[Solution], pd.DataFrame]):
        self.plan, self.baseline, self._figures = plan, baseline, figures
        self._tables: dict[str, pd.DataFrame] = {}

    def _table(self, name: str, make: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        if name not in self._tables:
            self._tables[name] = make()
        return self._tables[name]

    @property
    def _model(self):
        return self.plan.problem.spec.model

    @property
    def summary(self) -> pd.DataFrame:
        return self._table("summary", lambda: reports.summary(self.plan, self.baseline))

    @property
    def instruments(self) -> pd.DataFrame:
        return self._table("instruments", lambda: reports._instrument_table(
            self._model, self._figures(self.plan), self._figures(self.baseline)))

    @property
    def areas(self) -> pd.DataFrame:
        return self._table("areas", lambda: reports._area_table(
            self._model, self._figures(self.plan), self._figures(self.baseline)))

    @property
    def kennzahlen(self) -> pd.DataFrame:
        return self._table("kennzahlen", lambda: reports._kennzahlen_table(
            self._model, self._figures(self.plan), self._figures(self.baseline)))

    @property
    def budget(self) -> pd.DataFrame:
        return self._table("budget", lambda: reports.budget_table(self.plan, self.baseline))

    @property
    def constraints(self) -> pd.DataFrame:
        return self._table("constraints", lambda: reports.constraint_table(self.plan))

    @property
    def bounds(self) -> pd.DataFrame:
        return self._table("bounds", lambda: reports.bound_table(self.plan))

    @property
    def levels(self) -> pd.DataFrame:
        return self._table("levels", lambda: level_reasons(self.plan))

    def complete(self) -> reports.Comparison:
        """All tables, as ``reports.compare`` returns them."""
        return reports.Comparison(**{f.name: getattr(self, f.name) for f in dataclasses.fields(reports.Comparison)})


@dataclass(frozen=True)
class _RowLayout:
    """Which instruments each printed row of a model sums (positions in ``problem.instruments``), found once
    per problem structure, so that a plan's printed-row figures are a few numpy sums instead of
    ``reports._row_figures``'s pandas look-ups row by row (about 60 ms for Duisburg). :class:`Comparer` uses
    it only where it reproduces ``reports._row_figures`` exactly on the structure's official plan."""

    ids: tuple[str, ...]
    own: tuple[int, ...]  # position of the row's own instrument, −1 for an information row
    others: tuple[np.ndarray, ...]  # the other rows whose entries the document counts in this one
    members: tuple[np.ndarray, ...]  # the rows whose integrations it shows
    payers: tuple[np.ndarray, ...]  # the rows whose money it shows
    euros: tuple[bool, ...]  # a money-only line (no entries, no places)
    places_per_entry: tuple[float, ...]
    financing: tuple[str, ...]

    @classmethod
    def of(cls, problem: Problem) -> _RowLayout:
        inst = problem.instruments
        position = {iid: k for k, iid in enumerate(inst.index)}
        printed_row, money_row = inst["printed_row"].to_numpy(), inst["money_row"].to_numpy()
        unit, ppe_column, financing = inst["unit"].to_numpy(), inst["places_per_entry"].to_numpy(), \
            inst["financing"].to_numpy()
        fields: dict[str, list] = {f: [] for f in ("ids", "own", "others", "members", "payers", "euros",
                                                   "places_per_entry", "financing")}
        empty = np.zeros(0, dtype=int)
        for r in problem.spec.model.instruments:
            k = position.get(r.id, -1)
            group = [] if k < 0 else [k] if r.entries_in else list(np.flatnonzero(printed_row == r.id))
            row = {"ids": r.id, "own": k, "members": np.asarray(group, dtype=int),
                   "others": np.asarray([m for m in group if m != k], dtype=int),
                   "payers": empty if k < 0 else np.flatnonzero(money_row == r.id),
                   "euros": k >= 0 and unit[k] == "euros",
                   "places_per_entry": math.nan if k < 0 else float(ppe_column[k]),
                   "financing": r.financing if k < 0 else financing[k]}
            for name, value in row.items():
                fields[name].append(value)
        return cls(**{name: tuple(values) for name, values in fields.items()})

    def figures(self, solution: Solution) -> pd.DataFrame:
        """Per printed row: entries, places, money (cents), integrations and financing, as
        ``reports._row_figures`` gives them."""
        problem = solution.problem
        ids = problem.instruments.index
        levels = solution.plan.levels.reindex(ids)
        x = levels.to_numpy(dtype=float)
        cents = reports._cents(solution).to_numpy()
        value = problem.integrations(levels).to_numpy(dtype=float)
        out = []
        for n, k in enumerate(self.own):
            if k < 0:
                out.append((self.ids[n], math.nan, math.nan, math.nan, math.nan, self.financing[n]))
                continue
            if self.euros[n]:
                entries = places = math.nan
            else:
                others = self.others[n]
                entries = float(x[k]) + float(x[others].sum()) if len(self.members[n]) else float(x[k])
                ppe = self.places_per_entry[n]
                places = entries * ppe if not math.isnan(ppe) else math.nan
            payers = self.payers[n]
            money_cents = float(cents[payers].sum()) if len(payers) else math.nan
            members = self.members[n]
            integrations = float(value[members].sum()) if len(members) else 0.0
            out.append((self.ids[n], entries, places, money_cents, integrations, self.financing[n]))
        return pd.DataFrame(out, columns=["id", "entries", "places", "cents", "integrations", "financing"]) \
            .set_index("id")


def _layout_key(problem: Problem) -> tuple:
    """What a :class:`_RowLayout` is read from: the model's rows and the instruments' row links, units and
    places (not the rates, bounds or weights, which a change on the page moves)."""
    inst = problem.instruments
    columns = ["printed_row", "money_row", "unit", "financing", "places_per_entry"]
    rows = tuple((r.id, r.entries_in, r.financing) for r in problem.spec.model.instruments)
    return (rows, tuple(inst.index),
            tuple(tuple(map(str, inst[c].to_numpy())) for c in columns))


class Comparer:
    """:func:`optalloc.outputs.reports.compare` for a page that redraws on every change: tables worked out when a
    page reads them, each plan's printed-row figures remembered (the official plan's do not move while the
    user moves the budget), and summed by a :class:`_RowLayout` where that gives exactly what
    ``reports._row_figures`` gives — checked on the first plan of each structure; where it does not (the
    reports changed), the library's own function is used. ``tests/test_web.py`` checks that every table
    equals ``reports.compare``'s and that the fast sums are in use on Duisburg."""

    def __init__(self, size: int = 8):
        self._figures: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
        self._layout: tuple[int, _RowLayout | None] | None = None
        self._checked: dict[tuple, _RowLayout | None] = {}  # layouts checked against reports, by what they read
        self._size = size

    def fast(self, structure: int) -> bool:
        """Whether the structure's figures come from the fast sums (verified against the library)."""
        return self._layout is not None and self._layout[0] == structure and self._layout[1] is not None

    def _figures_of(self, solution: Solution, structure: int) -> pd.DataFrame:
        if self._layout is None or self._layout[0] != structure:
            key = _layout_key(solution.problem)
            if key in self._checked:
                self._layout = (structure, self._checked[key])
            else:
                exact = reports._row_figures(solution)
                layout: _RowLayout | None = _RowLayout.of(solution.problem)
                try:
                    pd.testing.assert_frame_equal(layout.figures(solution), exact)
                except (AssertionError, KeyError, ValueError, TypeError):
                    layout = None
                self._checked[key] = layout
                self._layout = (structure, layout)
                return exact
        layout = self._layout[1]
        return layout.figures(solution) if layout is not None else reports._row_figures(solution)

    def row_figures(self, solution: Solution, structure: int) -> pd.DataFrame:
        """``structure``: the token of the problem structure the solution belongs to (the figures depend on
        the plan's levels, how its pools pay, and the structure's costs, rows and rates)."""
        plan = solution.plan
        key = (structure, plan.levels.to_numpy().tobytes(), tuple(plan.levels.index),
               tuple(sorted(plan.split.items())))
        found = self._figures.get(key)
        if found is None:
            found = self._figures_of(solution, structure)
            self._figures[key] = found
            while len(self._figures) > self._size:
                self._figures.popitem(last=False)
        else:
            self._figures.move_to_end(key)
        return found

    def compare(self, plan: Solution, baseline: Solution, structure: int) -> Comparison:
        """The tables of ``reports.compare(plan, baseline)``, each worked out when read."""
        return Comparison(plan, baseline, lambda s: self.row_figures(s, structure))


def with_rates(spec: Spec, rates: Sequence[tuple[str, float]], basis: str) -> Spec:
    """The spec with some rate classes' values on ``basis`` replaced (each within its range, or refused by
    the rates schema with the same message as a rates file)."""
    if not rates:
        return spec
    classes = dict(spec.rates.classes)
    label = "rates " + ", ".join(f"{cls} {value:g}" for cls, value in rates)
    for cls, value in rates:
        rc = classes[cls]
        figure = getattr(rc, basis)
        moved = type(figure).model_validate({**figure.model_dump(), "value": float(value)})
        classes[cls] = rc.model_copy(update={basis: moved})
    return dataclasses.replace(spec, rates=spec.rates.model_copy(update={"classes": classes}),
                               scenarios=spec.scenarios + (label,))


def rebudgeted(problem: Problem, spec: Spec) -> Problem | None:
    """``build_problem(spec)`` where ``spec`` differs from ``problem.spec`` only in its budget (the budget
    section and the new-business pool's reserved parts: what a cut or a reserve changes): the budget figures
    derived again, the pools' amounts and the caps' bases from them, everything else kept. None where the
    pools or a cap's base would change otherwise (then build the problem in full)."""
    figures = derive_budget(spec.model)
    if any(cap_base(figures, c.base) != cap_base(problem.budget, c.base) for c in spec.model.caps):
        return None
    pools = problem.pools.copy()
    if set(figures.pools) != set(pools.index) or any(
            figures.pools[pid].name != pools.at[pid, "name"] or figures.pools[pid].earmarked != pools.at[pid, "earmarked"]
            for pid in pools.index):
        return None
    pools["available"] = [float(figures.pools[pid].available) for pid in pools.index]
    return _keeping_curves(problem, dataclasses.replace(problem, name=spec.name, spec=spec, budget=figures,
                                                        pools=pools))


def _keeping_curves(old: Problem, new: Problem) -> Problem:
    """``new`` (a copy of ``old`` with other money) with ``old``'s response curves as numpy arrays, worked out
    already: the curves do not depend on the money."""
    if "curves" in old.__dict__:
        new.__dict__["curves"] = old.__dict__["curves"]
    return new


def raised(problem: Problem, share: float) -> Problem:
    """``problem`` with ``share`` of its new-business budget added to what the new-business pool makes
    available (a budget raise: the reserve stays as it is, as more money does not raise it)."""
    if share <= 0:
        return problem
    extra = share * float(problem.budget.new_business)
    return _keeping_curves(problem, with_budget(problem, problem.new_business_available + extra))


@dataclass
class PlanningSession:
    """One browser session's state: its own caches and warm LP, never shared with another session.

    ``spec_of`` loads a model key (see :class:`~optalloc.web.library.ModelLibrary`); ``scenario_path``
    turns a scenario key into its file."""

    spec_of: Callable[[str], Spec]
    scenario_path: Callable[[str], Path]
    planner: WarmPlanner | None = None
    comparer: Comparer = field(default_factory=Comparer)
    _specs: OrderedDict = field(default_factory=OrderedDict)
    _last: tuple[Choices, Problem] | None = None  # the last problem built in full, by its choices but the budget
    _outcomes: OrderedDict = field(default_factory=OrderedDict)  # the last few outcomes, by their choices

    def spec(self, model: str, scenarios: tuple[str, ...]) -> Spec:
        """The model with the scenario files applied in order (remembered for the session)."""
        key = (model, scenarios)
        if key not in self._specs:
            spec = self.spec_of(model)
            if scenarios:
                spec = apply_scenarios(spec, [self.scenario_path(s) for s in scenarios])
            self._specs[key] = spec
            while len(self._specs) > 8:
                self._specs.popitem(last=False)
        return self._specs[key]

    def problem(self, choices: Choices) -> Problem:
        """The planning problem of ``choices``: scenario files, then the page's overlay, then the rates, the
        basis and a raise of the budget. Where only the budget level or the reserve changed since the last
        problem, only the budget figures are derived again (:func:`rebudgeted`)."""
        spec = self.spec(choices.model, choices.scenarios)
        overlay = choices.overlay()
        if overlay is not None:
            spec = apply_scenarios(spec, [overlay])
        basis = choices.basis or spec.rates.meta.default_basis
        spec = with_rates(spec, choices.rates, basis)
        check_plannable(spec)
        structure = dataclasses.replace(choices, budget_change=0.0, reserve=None)
        last = self._last
        problem = rebudgeted(last[1], spec) if last is not None and last[0] == structure else None
        if problem is None:
            problem = build_problem(spec, basis=choices.basis)
            self._last = (structure, problem)
        if choices.budget_change > 0:
            problem = _keeping_curves(problem, dataclasses.replace(
                raised(problem, choices.budget_change), name=f"{problem.name} + {budget_label(choices.budget_change)}"))
        return problem

    def planner_for(self, problem: Problem) -> tuple[WarmPlanner, bool]:
        """The session's LP for ``problem``'s structure (built now if the structure changed), and whether it
        was there already (then a change re-solves it)."""
        warm = self.planner is not None and self.planner.fits(problem)
        if not warm:
            self.planner = WarmPlanner(problem)
        assert self.planner is not None
        return self.planner, warm

    def outcome(self, choices: Choices) -> Outcome:
        """Everything the page shows for ``choices``; a refused input or an infeasible choice is an outcome
        too, never an exception. The same choices again (a control redrawn, a user going back) give the
        outcome already found."""
        found = self._outcomes.get(choices)
        if found is None:
            start = time.perf_counter()
            found = dataclasses.replace(self._outcome(choices), seconds=time.perf_counter() - start)
            self._outcomes[choices] = found
            while len(self._outcomes) > 4:
                self._outcomes.popitem(last=False)
        return found

    def _outcome(self, choices: Choices) -> Outcome:
        try:
            problem = self.problem(choices)
        except OptallocError as exc:
            return Outcome(choices, error=str(exc))
        planner, warm = self.planner_for(problem)
        base = planner.official(problem)
        try:
            opt = planner.solve(problem)
        except InfeasibleError as exc:
            return Outcome(choices, problem, official=base, diagnosis=exc.diagnosis, message=str(exc))
        except OptallocError as exc:
            return Outcome(choices, problem, official=base, error=str(exc))
        comparison = self.comparer.compare(opt, base, planner.token)
        return Outcome(choices, problem, opt, base, comparison, warm=warm)


def budget_label(change: float) -> str:
    """The budget level in words: "the model's budget", "cut 10 %", "raised 5 %"."""
    if abs(change) < 1e-12:
        return "the model's budget"
    pct = abs(change) * 100
    text = f"{pct:.0f} %" if math.isclose(pct, round(pct)) else f"{pct:.1f} %"
    return f"cut {text}" if change < 0 else f"raised {text}"
