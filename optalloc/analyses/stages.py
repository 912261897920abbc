"""Decisions in stages: a scenario-tree LP over the events the year waits for.

The timing file's ``stages.events`` are independent yes/no events (the allocation passes lower, the second
refugee tranche does not come, the ESF-LZA grant is recalculated), each with a probability and a scenario
overlay; they are known from the start of quarter ``resolves_in``. Every combination is an outcome with its
own problem (the overlays applied in order) and its own copy of the quarterly LP
(:func:`optalloc.analyses.timing.add_quarters`); the entries of the quarters before ``resolves_in`` are decided now and
are the same in every outcome, the later ones adapt. The objective is the expected integrations.

:func:`plan_stages` solves it twice: staged (later quarters adapt) and fixed (one plan for the whole year that
holds in every outcome — only a federal programme's rows follow their grant after the events); the difference
is the value of planning in stages. With ``reserve: release`` the
reserve for the year is planned in every outcome: the events it was kept for are modelled instead.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import pandas as pd
import pulp

from ..errors import InfeasibleError, SolverError
from ..solving.lp import LinearProgram, build_lp
from ..model.problem import Problem, build_problem
from ..model.scenarios import apply_scenarios
from ..solving.solve import evaluate, make_solver
from .timing import (QUARTERS, QuarterLayer, TimedPlan, Timing, add_quarters, check_quarters, commitment_limits,
                     commitments, in_year_problem, monthly_cash, official_quarters, quarter_table, solve_timed)


@dataclass(frozen=True)
class Outcome:
    id: str
    probability: float
    events: tuple[str, ...]  # the events that happen in it
    problem: Problem


def outcomes(problem: Problem, timing: Timing, events: list[str] | None = None) -> list[Outcome]:
    """Every combination of the timing file's events (or of those named in ``events``), with its
    probability and its problem; with no events, the one certain outcome."""
    stages = timing.file.stages
    chosen = [e for e in (stages.events if stages else []) if events is None or e.id in events]
    base_overlays: list = []
    if stages is not None and stages.reserve == "release":
        base_overlays.append({"name": "reserve released", "budget": {"reserve_amount": 0}})
    out = []
    for happens in itertools.product((False, True), repeat=len(chosen)):
        p = 1.0
        overlays = list(base_overlays)
        names = []
        for event, yes in zip(chosen, happens):
            p *= event.probability if yes else 1 - event.probability
            if yes:
                names.append(event.id)
                overlays.append(event.scenario if isinstance(event.scenario, dict)
                                else (timing.path.parent / event.scenario).resolve())
        spec = apply_scenarios(problem.spec, overlays) if overlays else problem.spec
        outcome_problem = build_problem(spec, basis=problem.basis, response=problem.response_shape)
        out.append(Outcome(" + ".join(names) or "as planned", p, tuple(names), outcome_problem))
    return out


@dataclass
class StagedPlan:
    """A solved staged (or fixed) plan: per outcome its quarterly entries and its expected integrations."""

    outcomes: list[Outcome]
    fixed: bool
    integrations: pd.Series  # per outcome
    quarters: dict[str, pd.DataFrame]  # per outcome: instruments × quarters
    seconds: float
    levels: dict[str, pd.Series] = field(default_factory=dict)

    @property
    def expected(self) -> float:
        p = pd.Series({o.id: o.probability for o in self.outcomes})
        return float((self.integrations * p).sum())


def solve_staged(problem: Problem, timing: Timing, fixed: bool = False, events: list[str] | None = None,
                 outcome_list: list[Outcome] | None = None) -> StagedPlan:
    """The scenario-tree LP (see the module docstring); ``fixed`` makes every quarter the same in every
    outcome (a plan for the whole year)."""
    outs = outcome_list if outcome_list is not None else outcomes(problem, timing, events)
    stages = timing.file.stages
    decided_now = [q for q in QUARTERS if q < (stages.resolves_in if stages else 5)]
    big = pulp.LpProblem("optalloc_stages", pulp.LpMaximize)
    lps: list[tuple[LinearProgram, QuarterLayer]] = []
    # the commitment limits are set for the year (the budget law's), the same in every outcome: the problem's own
    limits = commitment_limits(problem, timing)
    objective = []
    scale = 1.0
    for k, o in enumerate(outs):
        lp = build_lp(o.problem)
        layer = add_quarters(lp, timing, limits=limits)
        prefix = f"w{k}_"
        for v in lp.prob.variables():
            v.name = prefix + v.name
        for name, c in lp.constraint.items():  # every row build_lp and add_quarters made, by name
            big.addConstraint(c, prefix + name)
        objective.append((o.probability, lp.integrations))
        scale = max(scale, lp.scale)
        lps.append((lp, layer))
    first_layer = lps[0][1]
    timed = set(timing.factors.index)
    for k, (lp, layer) in enumerate(lps[1:], start=1):
        for iid in problem.instruments.index:
            # a federal programme's row follows its grant in each outcome: fixed only where decided now
            for q in (QUARTERS if fixed and iid in timed else decided_now):
                big.addConstraint(layer.entries[(iid, q)] - first_layer.entries[(iid, q)] == 0,
                                  f"same_{k}_{iid}_{q}")
    big.setObjective(pulp.lpSum(p * expr for p, expr in objective) * (1.0 / scale))
    start = time.perf_counter()
    status = pulp.LpStatus[big.solve(make_solver("highs"))]
    seconds = time.perf_counter() - start
    if status == "Infeasible":
        from ..solving.diagnosis import diagnose
        from ..solving.solve import optimise

        for o in outs:  # say which outcome has no plan on its own, with its diagnosis
            try:
                optimise(o.problem)
            except InfeasibleError as exc:
                raise InfeasibleError(f"{problem.name}: in the outcome '{o.id}' no plan satisfies every requirement",
                                      exc.diagnosis) from None
        raise InfeasibleError(f"{problem.name}: no {'fixed' if fixed else 'staged'} plan holds in every outcome "
                              "(each outcome has a plan of its own, but the entries decided now cannot serve all)",
                              diagnose(outs[0].problem))
    if status != "Optimal":
        raise SolverError(f"{problem.name}: the staged LP stopped with status {status!r}")
    ids = list(problem.instruments.index)
    integrations, quarters, levels = {}, {}, {}
    for o, (lp, layer) in zip(outs, lps):
        table = quarter_table(layer, ids)
        quarters[o.id] = table
        lv = table.sum(axis=1)
        levels[o.id] = lv
        integrations[o.id] = float(o.problem.integrations(lv).sum())
    return StagedPlan(outs, fixed, pd.Series(integrations), quarters, seconds, levels)


@dataclass(frozen=True)
class StagesResult:
    staged: StagedPlan
    fixed: StagedPlan

    @property
    def value_of_stages(self) -> float:
        return self.staged.expected - self.fixed.expected

    def table(self) -> pd.DataFrame:
        """Per outcome: probability, integrations of the staged and the fixed plan."""
        rows = []
        for o in self.staged.outcomes:
            rows.append({"outcome": o.id, "probability": o.probability,
                         "staged": self.staged.integrations[o.id], "fixed": self.fixed.integrations[o.id]})
        out = pd.DataFrame(rows).set_index("outcome")
        out["difference"] = out["staged"] - out["fixed"]
        return out

    def checks(self, timing: Timing) -> dict[str, list[str]]:
        """Per plan and outcome, the rules broken (empty: all hold), in plain arithmetic: the yearly rules
        with each row's money at what its quarters cost in 2016 (:func:`~optalloc.solving.check.check_plan`), and
        the quarters' own rules (:func:`~optalloc.analyses.timing.check_quarters`)."""
        out = {}
        base = self.staged.outcomes[0].problem
        limits = commitment_limits(base, timing)
        for plan in (self.staged, self.fixed):
            for o in plan.outcomes:
                q, lv = plan.quarters[o.id], plan.levels[o.id]
                sol = evaluate(in_year_problem(o.problem, timing, q), lv)
                broken = list(sol.checks.loc[~sol.checks["ok"], "name"])
                out[f"{'fixed' if plan.fixed else 'staged'}: {o.id}"] = broken + check_quarters(o.problem, timing, q, lv,
                                                                                              limits)
        return out


def plan_stages(problem: Problem, timing: Timing, events: list[str] | None = None) -> StagesResult:
    """The staged plan and the fixed plan over the same outcomes."""
    outs = outcomes(problem, timing, events)
    return StagesResult(solve_staged(problem, timing, False, outcome_list=outs),
                        solve_staged(problem, timing, True, outcome_list=outs))


@dataclass(frozen=True)
class Year:
    """The year and the years after, for one problem: the official plan spread as the document's, the
    optimal plan by quarter, cash per month, commitments, and decisions in stages."""

    problem: Problem
    timing: Timing
    official_quarters: pd.DataFrame
    timed: TimedPlan
    yearly: pd.Series  # the yearly optimum's levels (optalloc solve: entries spread as the official plan's)
    yearly_integrations: float
    cash: pd.DataFrame  # per month: official and optimal, and their running totals
    cash_by_row: dict[str, pd.DataFrame]  # per plan: instruments × months
    commitments: pd.DataFrame  # per year after: official, optimal, limit, worth of the limit
    stages: StagesResult | None
    reserve_worth: float  # integrations the timed optimum gains when the reserve is planned (re-solved)
    official_broken: list[str]  # the rules the official plan breaks in this problem (empty: none)

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {"cash_by_month": self.cash, "commitments": self.commitments,
               "quarters_optimal": self.timed.quarters, "quarters_official": self.official_quarters,
               "cash_by_row_official": self.cash_by_row["official"], "cash_by_row_optimal": self.cash_by_row["optimal"]}
        if self.stages is not None:
            out["stages"] = self.stages.table()
        return out


def plan_year(problem: Problem, timing: Timing, staged: bool = True) -> Year:
    """Everything ``optalloc year`` reports (see :class:`Year`)."""
    official_q = official_quarters(problem, timing)
    from ..solving.solve import optimise

    timed = solve_timed(problem, timing)
    yearly = optimise(problem)
    yearly_q = official_quarters(problem, timing, yearly.plan.levels)
    by_row = {"official": monthly_cash(problem, timing, official_q), "optimal": monthly_cash(problem, timing, timed.quarters)}
    cash = pd.DataFrame({name: t.sum(axis=0) for name, t in by_row.items()})
    cash["official_to_date"] = cash["official"].cumsum()
    cash["optimal_to_date"] = cash["optimal"].cumsum()
    bound = {"official": commitments(problem, timing, official_q), "yearly": commitments(problem, timing, yearly_q),
             "optimal": commitments(problem, timing, timed.quarters)}
    rows = []
    for key, year in (("next_year", f"{timing.year + 1}"), ("year_after", f"{timing.year + 2}"),
                      ("later", f"{timing.year + 3}+")):
        rows.append({"year": year, "official": bound["official"][key], "yearly_optimum": bound["yearly"][key],
                     "optimal": bound["optimal"][key], "limit": timed.limits[key],
                     "per_1000_eur": timed.prices[key] * 1000})
    commit = pd.DataFrame(rows).set_index("year")
    stages = plan_stages(problem, timing) if staged and timing.file.stages and timing.file.stages.events else None
    reserve_worth = 0.0
    if float(problem.budget.reserve) > 0:
        released = build_problem(apply_scenarios(problem.spec, [{"name": "reserve released",
                                                                 "budget": {"reserve_amount": 0}}]),
                                 basis=problem.basis, response=problem.response_shape)
        reserve_worth = solve_timed(released, timing, limits=timed.limits).integrations - timed.integrations
    official_sol = evaluate(problem, problem.instruments["official"])
    broken = list(official_sol.checks.loc[~official_sol.checks["ok"], "name"])
    return Year(problem, timing, official_q, timed, yearly.plan.levels, yearly.integrations, cash, by_row, commit,
                stages, reserve_worth, broken)
