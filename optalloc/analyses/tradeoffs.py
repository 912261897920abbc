"""Trade-off between expected integrations and a target group's coverage: the Pareto front.

``tradeoff(problem, group)`` asks: if the plan must reach more members of ``group`` (long-term
recipients, single parents, ...), how many expected integrations does that cost? It adds a requirement
"entries reaching the group ≥ c" and re-solves for c from the most reach an optimal plan can have up to
the most the constraints allow (the ε-constraint method: every point is on the Pareto front of
integrations and reach). The LP is built once and re-solved warm, as in budget sweeps.

The front is a table: per point the required reach, the group's share of all entries, the expected
integrations, the marginal cost of coverage (integrations given up per additional entry reaching the
group) and every instrument's entries.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pulp

from ..solving.diagnosis import diagnose
from ..errors import InfeasibleError, SolverError, UsageError
from ..solving.lp import LinearProgram, build_lp
from ..model.problem import CoverageRule, Problem
from ..solving.solve import _run, integrations_of
from .sweeps import parametric


@dataclass(frozen=True)
class Tradeoff:
    """``front``: per point (index: required reach in entries) the share, integrations and marginal cost;
    ``entries``: the instruments' entries per point; ``official``: the official plan's reach and value."""

    problem: Problem
    group: str
    front: pd.DataFrame
    entries: pd.DataFrame
    official: tuple[float, float] | None = None


def _reach(problem: Problem, levels: pd.Series, group: str) -> tuple[float, float]:
    """Entries reaching ``group`` and their share of all entries."""
    reach, total = problem.group_reach(levels, group)
    return reach, reach / total if total else float("nan")


def tradeoff(problem: Problem, group: str, points: int = 21, official_levels: pd.Series | None = None) -> Tradeoff:
    """The Pareto front of expected integrations against the entries reaching ``group``."""
    if group not in problem.groups.columns:
        raise UsageError("group", group, "one of the model's groups: " + ", ".join(problem.groups.columns))
    if points < 2:
        raise ValueError("a front needs at least 2 points")
    low = _most_reach(problem, group, keep_optimum=True)  # the most reach at no cost: the front starts here
    high = _most_reach(problem, group)
    rule_id = f"tradeoff_{group}"
    rule = CoverageRule(rule_id, group, "entries", None, 0.0, "trade-off: required reach")
    varied = dataclasses.replace(problem, coverage=problem.coverage + (rule,))
    top = high - 1e-7 * max(1.0, high)  # the top, a hair inside the solver's reach
    # no room between the two: the group gets all it can have at no cost, the front is one point
    counts = np.linspace(low, top, points) if top > low else np.array([low])
    levels, duals, status = parametric(varied, f"coverage:{rule_id}", "lower", counts)
    ids = list(problem.instruments.index)
    entries = pd.DataFrame(levels, index=pd.Index(counts, name="reach"), columns=ids)
    integrations = problem.integrations_matrix(np.nan_to_num(levels)).sum(axis=1)
    shares = [_reach(problem, entries.loc[c], group)[1] if s == "optimal" else np.nan for c, s in zip(counts, status)]
    front = pd.DataFrame({
        "share": shares,
        "integrations": np.where(np.array(status) == "optimal", integrations, np.nan),
        "cost_per_entry": 0.0 - np.asarray(duals),  # NaN where no plan; 0.0 - 0.0 keeps a zero unsigned
        "status": status,
    }, index=entries.index)
    official = None
    if official_levels is not None:
        official = (_reach(problem, official_levels, group)[0], integrations_of(problem, official_levels))
    return Tradeoff(problem, group, front, entries, official)


def _most_reach(problem: Problem, group: str, keep_optimum: bool = False) -> float:
    """The most entries the constraints let reach ``group`` (with ``keep_optimum``: among the optimal plans);
    raises InfeasibleError with a diagnosis if no plan satisfies every requirement."""
    lp = build_lp(problem)
    counted = problem.instruments["unit"] == "entries"  # money-only lines have no entries to reach anyone
    share = problem.groups[group].where(counted, 0.0)
    if keep_optimum:
        _solve_or_diagnose(problem, lp)
        lp.keep_optimum(float(pulp.value(lp.objective) or 0.0), tolerance=1e-12)
    lp.prob.setObjective(pulp.LpAffineExpression([(lp.level[i], float(share[i])) for i in lp.level if share[i] > 0]))
    _solve_or_diagnose(problem, lp)
    levels = pd.Series({i: float(v.varValue or 0.0) for i, v in lp.level.items()})
    return problem.group_reach(levels, group)[0]


def _solve_or_diagnose(problem: Problem, lp: LinearProgram) -> None:
    status = _run(lp, "highs")
    if status == "Infeasible":
        raise InfeasibleError(f"{problem.name}: no plan satisfies every requirement", diagnose(problem))
    if status != "Optimal":
        raise SolverError(f"{problem.name}: the solver stopped with status {status!r}")
