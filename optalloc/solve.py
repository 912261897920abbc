"""Solve the LP: the optimal plan, or a given plan (the official one) evaluated in the same model.

``optimise(problem)`` runs up to three passes on one LP:

1. maximise expected integrations (duals and reduced costs are read here, with the sign of the
   maximisation: PuLP hands HiGHS the negated objective and does not negate the duals back);
2. optionally (``least_money``) keep the optimum and spend the least money, leaving a reserve;
3. where a cost may be paid from several pools (refugee tranches 1 and 2), fix the entries and split the
   money deterministically: earmarked pools first, in the model's order. Solvers split such ties
   differently; this pass makes the same input give the same plan on every solver.

``evaluate(problem, levels)`` fixes the levels (the official plan's entries) and finds how the pools pay
for them; pools are elastic there, so a plan that overspends a pool is reported, not refused.

HiGHS (through highspy) is the default solver, PuLP's bundled CBC the alternative.
"""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass

import pandas as pd
import pulp

from .check import check_plan
from .errors import InfeasibleError, SolverError
from .lp import LinearProgram, RowInfo, build_lp, tie_broken_objective
from .plan import Plan
from .problem import Problem

SOLVERS = ("highs", "cbc")
OPTIMUM_TOLERANCE = 1e-9  # relative: pass 2 keeps integrations ≥ (1 − this) × optimum


@dataclass(frozen=True)
class Solution:
    """What a solve returns: the plan, its value and the duals of the first pass (continuous mode)."""

    problem: Problem
    plan: Plan
    kind: str  # optimal | official | evaluated
    solver: str
    integer: bool
    integrations: float
    rows: dict[str, RowInfo]
    duals: pd.Series | None  # d(integrations)/d(right-hand side), by constraint name
    reduced_costs: pd.Series | None  # d(integrations)/d(level), by instrument
    checks: pd.DataFrame
    least_money: bool = False

    @property
    def feasible(self) -> bool:
        return bool(self.checks["ok"].all())


_banner_done = False


def _silence_highs_banner() -> None:
    """HiGHS prints a banner on stdout when its first solver object is made; make that one silently."""
    global _banner_done
    if _banner_done:
        return
    import highspy

    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    _banner_done = True


def make_solver(name: str, integer: bool = False) -> pulp.LpSolver:
    if name == "highs":
        if not pulp.HiGHS().available():
            raise SolverError("HiGHS is not available: install highspy (pip install highspy)")
        _silence_highs_banner()
        return pulp.HiGHS(msg=False, gapRel=0.0) if integer else pulp.HiGHS(msg=False)
    if name == "cbc":
        # PuLP 3 bundles CBC as PULP_CBC_CMD and warns that 4.0 will move it to the pulp[cbc] extra;
        # pyproject pins pulp < 4 until then.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            solver = pulp.PULP_CBC_CMD(msg=False, gapRel=0.0) if integer else pulp.PULP_CBC_CMD(msg=False)
        if not solver.available():
            raise SolverError("CBC is not available: PuLP's bundled CBC binary was not found")
        return solver
    raise SolverError(f"unknown solver {name!r}: one of {', '.join(SOLVERS)}")


def _run(lp: LinearProgram, solver: str) -> str:
    status = lp.prob.solve(make_solver(solver, lp.integer))
    return pulp.LpStatus[status]


def _sign(lp: LinearProgram, solver: str) -> float:
    """Factor that turns the solver's duals into d(objective)/d(rhs) of the problem as posed."""
    if solver == "highs" and lp.prob.sense == pulp.LpMaximize:
        return -1.0
    return 1.0


def _read_duals(lp: LinearProgram, solver: str) -> tuple[pd.Series, pd.Series]:
    sign = _sign(lp, solver)
    duals = pd.Series({name: sign * float(c.pi or 0.0) for name, c in lp.constraint.items()}, dtype=float)
    reduced = pd.Series({iid: sign * float(v.dj or 0.0) for iid, v in lp.level.items()}, dtype=float)
    return duals, reduced


def _true_duals(lp: LinearProgram, solver: str) -> tuple[pd.Series, pd.Series]:
    """Duals of the true objective: re-solve without the tie-break (the plan is already read).

    Where the tie-break chose between equally good plans, the true LP's duals are still unique, so
    they are read from its own optimum; the plan keeps the tie-broken choice.
    """
    lp.prob.setObjective(lp.integrations)
    status = _run(lp, solver)
    if status != "Optimal":
        raise SolverError(f"re-solving for shadow prices stopped with status {status!r}")
    duals = _read_duals(lp, solver)
    lp.prob.setObjective(tie_broken_objective(lp.problem, lp.level))
    return duals


def _read_plan(lp: LinearProgram) -> Plan:
    inst = lp.problem.instruments
    levels = {}
    for iid, v in lp.level.items():
        if v.varValue is None:  # a fixed variable in no row never reaches the solver
            x = float(v.lowBound) if v.lowBound == v.upBound else 0.0
        else:
            x = float(v.varValue)
        lo, hi = float(inst.at[iid, "lower"]), float(inst.at[iid, "upper"])
        if lp.integer and inst.at[iid, "unit"] == "entries":
            x = float(round(x))
        # snap solver noise at a bound onto the bound
        if abs(x - lo) <= 1e-9 * max(1.0, abs(lo)):
            x = lo
        elif abs(x - hi) <= 1e-9 * max(1.0, abs(hi)):
            x = hi
        levels[iid] = x
    split = {key: max(float(v.varValue or 0.0), 0.0) for key, v in lp.split.items()}
    return Plan(levels=pd.Series(levels, dtype=float), split=split)


def _split_by_rank(lp: LinearProgram, solver: str, plan: Plan) -> Plan:
    """Last pass: with the levels fixed, pay from earmarked pools first, deterministically.

    ``lp`` must have been built with the plan's levels fixed (and only the rows that concern money).
    """
    if not lp.split:
        return plan
    rank = lp.problem.pools["rank"]
    order = lp.problem.instruments["order"]
    n = float(len(order))
    lp.prob.sense = pulp.LpMinimize
    # a euro from a later pool costs more, and more for an earlier row: the unique optimum fills the
    # earliest pools with the earliest rows' money
    lp.prob.setObjective(pulp.LpAffineExpression(
        [(v, float(rank[p]) * (1.0 + (n - float(order[i])) / n)) for (i, _, p), v in lp.split.items()]
    ))
    status = _run(lp, solver)
    if status != "Optimal":
        raise SolverError(f"splitting the money between pools failed ({status})")
    split = {key: max(float(v.varValue or 0.0), 0.0) for key, v in lp.split.items()}
    return Plan(levels=plan.levels, split=split)


def optimise(problem: Problem, solver: str = "highs", integer: bool = False, least_money: bool = False) -> Solution:
    """The plan with the most expected integrations (and, with ``least_money``, the least money for them)."""
    lp = build_lp(problem, integer=integer)
    status = _run(lp, solver)
    if status == "Infeasible":
        raise InfeasibleError(f"{problem.name}: no plan satisfies every requirement")
    if status != "Optimal":
        raise SolverError(f"{problem.name}: the solver stopped with status {status!r}")
    optimum = float(pulp.value(lp.integrations) or 0.0)
    plan = _read_plan(lp)
    duals = reduced = None
    if not integer:
        duals, reduced = _true_duals(lp, solver)
    if least_money:
        keep = optimum - OPTIMUM_TOLERANCE * max(1.0, abs(optimum))
        lp.prob.addConstraint(lp.integrations >= keep, "optimum:integrations")
        lp.prob.sense = pulp.LpMinimize
        lp.prob.setObjective(lp.money)
        status = _run(lp, solver)
        if status != "Optimal":
            raise SolverError(f"{problem.name}: the least-money pass stopped with status {status!r}")
        plan = _read_plan(lp)
    if lp.split:
        fixed = build_lp(problem, fixed_levels=plan.levels.to_dict(), money_rows_only=True)
        plan = _split_by_rank(fixed, solver, plan)
    value = integrations_of(problem, plan.levels)
    checks = check_plan(problem, plan, integer=integer)
    return Solution(problem, plan, "optimal", solver, integer, value, lp.rows, duals, reduced, checks, least_money)


def evaluate(problem: Problem, levels: pd.Series, solver: str = "highs", kind: str = "evaluated") -> Solution:
    """A given plan in the model: its money split over the pools (overspending allowed) and its checks."""
    lp = build_lp(problem, margin=False, fixed_levels=levels.to_dict(), elastic={"budget": 1.0, "pool": 1.0},
                  money_rows_only=True)
    lp.prob.sense = pulp.LpMinimize
    lp.prob.setObjective(pulp.LpAffineExpression([(s, 1.0) for s in lp.slack.values()]))
    status = _run(lp, solver)
    if status != "Optimal":
        raise SolverError(f"{problem.name}: evaluating the plan failed ({status})")
    plan = _read_plan(lp)
    for s in lp.slack.values():
        s.upBound = float(s.varValue or 0.0) + 1e-6
    plan = _split_by_rank(lp, solver, plan)
    checks = check_plan(problem, plan)
    return Solution(problem, plan, kind, solver, False, integrations_of(problem, plan.levels), lp.rows,
                    None, None, checks)


def integrations_of(problem: Problem, levels: pd.Series) -> float:
    """Expected (weighted) integrations of a plan: Σ rate × weight × level."""
    coef = problem.objective_coefficients()
    return float((coef * levels.reindex(coef.index)).sum())


def official(problem: Problem, solver: str = "highs") -> Solution:
    """The document's plan evaluated in the model."""
    return evaluate(problem, problem.instruments["official"], solver=solver, kind="official")
