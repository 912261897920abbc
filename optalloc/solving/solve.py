"""Solve the LP: the optimal plan, or a given plan (the official one) evaluated in the same model.

``optimise(problem)`` runs up to three passes on one LP:

1. maximise expected integrations (duals and reduced costs are read here, with the sign of the
   maximisation: PuLP hands HiGHS the negated objective and does not negate the duals back);
2. optionally (``least_money``) spend the least money for the optimum, leaving a reserve: on the optimal
   face of pass 1 (for whole entries, which have no duals, with the optimum kept as a row);
3. where several plans are equally good, break the tie on the optimal face (variables with a nonzero
   reduced cost fixed, rows with a nonzero dual held tight) by preferring earlier rows of the model — the
   same plan on every solver, warm or cold, at exactly the optimum.

With CBC, its optimum is cross-checked on HiGHS (the same value within 10⁻⁶; for whole entries, which CBC
proves only to 1 % in reasonable time, HiGHS's exact optimum within CBC's gap) and the plan is taken on
HiGHS's optimal face, so that CBC's eight significant digits and its own choice among equally good
plans do not change the plan. Then :func:`pay` decides, on HiGHS, how interchangeable pools (refugee
tranches 1 and 2) pay for the plan — earmarked pools first, earlier rows first. ``evaluate(problem, levels)`` fixes the levels (the official plan's entries)
and finds how the pools pay for them; pools are elastic there, so a plan that overspends a pool is
reported, not refused.

HiGHS (through highspy) is the default solver, PuLP's bundled CBC the alternative.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from dataclasses import dataclass, field

import pandas as pd
import pulp

from .check import check_plan
from ..errors import InfeasibleError, SolverError
from .lp import OPTIMUM_TOLERANCE, LinearProgram, RowInfo, build_lp, preference
from .plan import Plan, money_cents, pool_cents
from ..model.problem import Problem

SOLVERS = ("highs", "cbc")
CBC_MIP_GAP = 1e-2  # CBC proves whole-entry plans only to 1 % in reasonable time (Duisburg: 0.1 % not in 60 s)
CBC_MIP_SECONDS = 120


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
    level_rows: dict[str, list[tuple[str, str, float]]] = field(default_factory=dict, repr=False)
    """Per instrument, the named rows its level appears in, with the LP's coefficients."""

    @property
    def feasible(self) -> bool:
        return bool(self.checks["ok"].all())

    def spent(self) -> pd.Series:
        """Euros each pool pays for the plan, summed from whole cents as the reports and checks count them."""
        return (pool_cents(self.problem, money_cents(self.problem, self.plan)) / 100).rename("euros")


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
            solver = (pulp.PULP_CBC_CMD(msg=False, gapRel=CBC_MIP_GAP, timeLimit=CBC_MIP_SECONDS) if integer
                      else pulp.PULP_CBC_CMD(msg=False))
        if not solver.available():
            raise SolverError("CBC is not available: PuLP's bundled CBC binary was not found")
        return solver
    raise SolverError(f"unknown solver {name!r}: one of {', '.join(SOLVERS)}")


def _run(lp: LinearProgram, solver: str) -> str:
    start = time.perf_counter()
    status = lp.prob.solve(make_solver(solver, lp.integer))
    if solver == "cbc" and lp.integer and time.perf_counter() - start >= CBC_MIP_SECONDS - 1:
        # PuLP reports CBC's incumbent at its time limit as "Optimal": it is not proven
        raise SolverError(f"CBC found whole-entry plans but did not prove one optimal within {CBC_MIP_SECONDS} s "
                          "(to 1 %): use --solver highs")
    return pulp.LpStatus[status]


def _read_duals(lp: LinearProgram, solver: str) -> tuple[pd.Series, pd.Series]:
    """d(integrations)/d(right-hand side) per row and d(integrations)/d(level) per instrument.

    PuLP hands HiGHS the negated objective of a maximisation and does not negate the duals back (CBC's
    come back right); the objective is also divided by ``lp.scale``, which is multiplied back here."""
    sign = -1.0 if solver == "highs" and lp.prob.sense == pulp.LpMaximize else 1.0
    factor = sign * lp.scale
    duals = pd.Series({name: factor * float(c.pi or 0.0) for name, c in lp.constraint.items()}, dtype=float)
    reduced = pd.Series({iid: factor * float(v.dj or 0.0) for iid, v in lp.level.items()}, dtype=float)
    return duals, reduced


DUAL_TOLERANCE = 1e-7  # a scaled reduced cost or dual below this counts as zero (HiGHS's own tolerance)


def _ties_possible(lp: LinearProgram) -> bool:
    """Whether another plan could be as good: a variable that may move has a zero reduced cost."""
    for v in lp.prob.variables():
        if v.lowBound is not None and v.upBound is not None and v.upBound - v.lowBound <= 1e-12:
            continue
        x = float(v.varValue or 0.0)
        at_bound = (v.lowBound is not None and abs(x - v.lowBound) <= 1e-9) or \
                   (v.upBound is not None and abs(x - v.upBound) <= 1e-9)
        if at_bound and abs(float(v.dj or 0.0)) <= DUAL_TOLERANCE:
            return True
    return False


def _fix_to_optimal_face(lp: LinearProgram) -> None:
    """Restrict the LP to its optimal face: fix every variable whose reduced cost is not zero at its value,
    and hold every row whose dual is not zero at equality. Any plan left is exactly as good."""
    for v in lp.prob.variables():
        if abs(float(v.dj or 0.0)) > DUAL_TOLERANCE:
            v.lowBound = v.upBound = float(v.varValue or 0.0)
    for c in lp.constraint.values():
        if abs(float(c.pi or 0.0)) > DUAL_TOLERANCE:
            c.sense = pulp.LpConstraintEQ


def _money_scale(lp: LinearProgram) -> float:
    """The largest cost per unit in the money objective, so that the least-money pass sees coefficients near 1
    (its reduced costs are then compared with :data:`DUAL_TOLERANCE` as the first pass's are)."""
    largest = max((abs(float(c)) for c in lp.money.values()), default=0.0)
    return largest if 0.0 < largest < float("inf") else 1.0


def _run_pass(lp: LinearProgram, solver: str, sense: int, objective: pulp.LpAffineExpression, name: str) -> None:
    """A later pass on the same LP: a new objective, solved; raises SolverError where it does not finish."""
    lp.prob.sense = sense
    lp.prob.setObjective(objective)
    if _run(lp, solver) != "Optimal":
        raise SolverError(f"{lp.problem.name}: the {name} pass did not finish")


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


def pay(problem: Problem, levels: pd.Series) -> tuple[Plan, dict[str, float]]:
    """How the pools pay for fixed levels: the least overspending, then earmarked pools first.

    Two passes on the money rows only, always with HiGHS (this is accounting, not the optimisation):
    (1) minimise the money beyond each pool's means (0 for a plan that fits); (2) with that fixed,
    split money between interchangeable pools deterministically — a euro from a later pool costs more,
    and more for an earlier row, so the unique optimum fills the earliest pools with the earliest rows'
    money. Returns the plan and the overspending per pool (euros, only where above zero).
    """
    lp = build_lp(problem, fixed_levels=levels.to_dict(), elastic=("budget", "pool"),
                  money_rows_only=True)
    lp.prob.sense = pulp.LpMinimize
    lp.prob.setObjective(pulp.LpAffineExpression([(s, 1.0) for s in lp.slack.values()]))
    if _run(lp, "highs") != "Optimal":
        raise SolverError(f"{problem.name}: finding how the pools pay for the plan failed")
    over = {lp.rows[name].ref: float(s.varValue or 0.0) for name, s in lp.slack.items() if (s.varValue or 0.0) > 0}
    if lp.split:
        for name, s in lp.slack.items():
            # what pass (1) found, with room for the floats at any size of pool (priced below, not used)
            s.upBound = float(s.varValue or 0.0) + 1e-7 + 1e-9 * abs(lp.rows[name].rhs)
        rank = problem.pools["rank"]
        order = problem.instruments["order"]
        n = float(len(order))
        overspend = 1000.0 * (float(rank.max()) + 2.0)  # dearer than any choice between pools
        lp.prob.setObjective(pulp.LpAffineExpression(
            [(v, float(rank[p]) * (1.0 + (n - float(order[i])) / n)) for (i, _, p), v in lp.split.items()]
            + [(s, overspend) for s in lp.slack.values()]
        ))
        if _run(lp, "highs") != "Optimal":
            raise SolverError(f"{problem.name}: splitting the money between pools failed")
    split = {key: max(float(v.varValue or 0.0), 0.0) for key, v in lp.split.items()}
    return Plan(levels=levels.copy(), split=split), over


def _cross_check_on_highs(problem: Problem, found: LinearProgram) -> LinearProgram:
    """CBC's optimum, cross-checked: the same LP solved on HiGHS must reach the same value (within 10⁻⁶ of the
    scaled objective, relative where it exceeds 1: on a badly scaled model CBC may stop some 5 × 10⁻⁵ short and
    still pass), and the plan is then taken on HiGHS's optimal face. CBC reports about eight significant digits, and
    solvers pick different plans among equally good ones; the cross-check keeps CBC's verdict on the
    optimum while the plan (and its tie-break) does not depend on the solver. For whole entries CBC's
    optimum is proven to :data:`CBC_MIP_GAP` only: HiGHS's exact optimum must lie between CBC's value and
    CBC's bound."""
    value = float(pulp.value(found.objective) or 0.0)
    lp = build_lp(problem, integer=found.integer)
    if _run(lp, "highs") != "Optimal":
        raise SolverError(f"{problem.name}: CBC found an optimum, HiGHS none")
    other = float(pulp.value(lp.objective) or 0.0)
    gap = CBC_MIP_GAP if found.integer else 0.0
    low, high = value - 1e-6 * max(1.0, abs(value)), value + (gap + 1e-6) * max(1.0, abs(value))
    if not low <= other <= high:
        raise SolverError(f"{problem.name}: CBC and HiGHS disagree on the optimum "
                          f"({value * lp.scale:,.6f} vs {other * lp.scale:,.6f} integrations)")
    return lp


def _fit_to_pools(problem: Problem, plan: Plan, over: dict[str, float]) -> Plan:
    """Trim the last digits of a solver's levels where they overspend a pool by less than a euro (a
    solver's feasibility tolerance on rows of many millions of euros). Takes the overspending from the
    instruments with the least integrations per euro that the pool actually pays for."""
    inst = problem.instruments
    coef = problem.marginal_rates(plan.levels)
    levels = plan.levels.copy()
    for pool, excess in over.items():
        if excess > 1.0:
            raise SolverError(f"{problem.name}: the solver's plan overspends {pool} by {excess:,.2f} €")
        paying = [r for r in problem.costs.itertuples() if pool in r.pools and r.per_unit > 0
                  and (len(r.pools) == 1 or plan.split.get((r.instrument, r.component, pool), 0.0) > 0)]
        ranked = sorted((float(coef[r.instrument]) / float(r.per_unit), int(inst.at[r.instrument, "order"]),
                         r.instrument, float(r.per_unit)) for r in paying)
        left = excess + 1e-4
        for _, _, iid, per_unit in ranked:
            room = float(levels[iid]) - float(inst.at[iid, "lower"])
            if room <= 0:
                continue
            cut = min(room, left / per_unit)
            levels[iid] -= cut
            left -= cut * per_unit
            if left <= 0:
                break
    return Plan(levels=levels, split=plan.split)


def first_pass(problem: Problem, solver: str = "highs", integer: bool = False) -> LinearProgram:
    """Pass 1 alone: the LP maximised by ``solver``, before any cross-check, tie-break or payment — the
    solver's own plan and value (how the tests compare CBC's optimum with HiGHS's)."""
    lp = build_lp(problem, integer=integer)
    status = _run(lp, solver)
    if status == "Infeasible":
        from .diagnosis import diagnose

        raise InfeasibleError(f"{problem.name}: no plan satisfies every requirement", diagnose(problem, integer))
    if status != "Optimal":
        raise SolverError(f"{problem.name}: the solver stopped with status {status!r}")
    return lp


def optimise(problem: Problem, solver: str = "highs", integer: bool = False, least_money: bool = False) -> Solution:
    """The plan with the most expected integrations (and, with ``least_money``, the least money for them).

    Passes on one LP: (1) maximise integrations — the duals are read here; (2) with ``least_money``, keep
    the optimum and spend the least money; (3) break ties between equally good plans (see the module
    docstring). Then :func:`pay` decides how interchangeable pools pay. A plan that fails the independent
    checker is never returned.
    """
    lp = first_pass(problem, solver, integer)
    duals = reduced = None
    if not integer:
        duals, reduced = _read_duals(lp, solver)
    rest = solver
    if solver == "cbc":
        lp, rest = _cross_check_on_highs(problem, lp), "highs"
        if not integer:  # the plan is taken on HiGHS's face: read its duals too, so reports agree across solvers
            duals, reduced = _read_duals(lp, "highs")
    tie_break = True
    if integer:
        # whole entries have no duals to fix a face by: keep the MIP's optimum (taken at its whole entries,
        # within the MIP's integrality tolerance) and the least money as rows, then prefer earlier rows
        lp.keep_optimum(integrations_of(problem, _read_plan(lp).levels) / lp.scale, tolerance=1e-7)
        if least_money:
            _run_pass(lp, rest, pulp.LpMinimize, lp.money, "least-money")
            least = float(pulp.value(lp.money) or 0.0)
            # kept as a row whether or not the first pass already spent the least: the tie-break must not spend more
            lp.prob.addConstraint(lp.money <= least + OPTIMUM_TOLERANCE * max(1.0, least), "least:money")
    elif least_money:
        # lexicographic on optimal faces, exactly: the most integrations, then the least money among those
        # plans, then the preference among those; no pass gives up a tolerance of the one before
        _fix_to_optimal_face(lp)
        _run_pass(lp, rest, pulp.LpMinimize, lp.money * (1.0 / _money_scale(lp)), "least-money")
        _fix_to_optimal_face(lp)
    elif _ties_possible(lp):
        _fix_to_optimal_face(lp)
    else:
        tie_break = False
    if tie_break:
        _run_pass(lp, rest, pulp.LpMaximize, preference(lp), "tie-break")
    return checked_solution(problem, _read_plan(lp).levels, "optimal", solver, lp.rows, lp.level_rows(), duals,
                            reduced, integer, least_money)


def checked_solution(problem: Problem, levels: pd.Series, kind: str, solver: str, rows: dict[str, RowInfo],
                     level_rows: dict[str, list[tuple[str, str, float]]], duals: pd.Series | None = None,
                     reduced: pd.Series | None = None, integer: bool = False, least_money: bool = False) -> Solution:
    """A plan a solver found, paid as every optimal plan is paid (:func:`pay`, the pools fitted to the cent)
    and checked independently (:func:`~optalloc.solving.check.check_plan`); refused if it breaks a rule."""
    plan, over = pay(problem, levels)
    if any(v > 1e-3 for v in over.values()):
        plan, over = pay(problem, _fit_to_pools(problem, plan, over).levels)
    checks = check_plan(problem, plan, integer=integer)
    broken = checks[~checks["ok"]]
    if not broken.empty:
        raise SolverError(f"{problem.name}: the {solver} {kind} plan breaks {', '.join(broken['name'].head(5))} "
                          "(checked independently); try the other solver")
    return Solution(problem, plan, kind, solver, integer, integrations_of(problem, plan.levels), rows, duals, reduced,
                    checks, least_money, level_rows)


def evaluate(problem: Problem, levels: pd.Series, solver: str = "highs", kind: str = "evaluated") -> Solution:
    """A given plan in the model: how the pools pay for it (overspending allowed and reported) and its checks."""
    plan, _ = pay(problem, levels)
    lp = build_lp(problem, fixed_levels=levels.to_dict())
    checks = check_plan(problem, plan)
    return Solution(problem, plan, kind, solver, False, integrations_of(problem, plan.levels), lp.rows,
                    None, None, checks, level_rows=lp.level_rows())


def integrations_of(problem: Problem, levels: pd.Series) -> float:
    """Expected (weighted) integrations of a plan: Σ weight × its response at each level."""
    return float(problem.integrations(levels).sum())


def official(problem: Problem, solver: str = "highs") -> Solution:
    """The document's plan evaluated in the model."""
    return evaluate(problem, problem.instruments["official"], solver=solver, kind="official")
