"""The public API: a handful of functions that return pandas tables, for notebooks and scripts.

    import optalloc as oa

    problem = oa.load("models/duisburg-2016.yaml", scenarios=["scenarios/cut-10.yaml"])
    plan = oa.solve(problem)                      # the optimal plan (a Solution)
    base = oa.official(problem)                   # the document's plan in the same model
    cmp = oa.compare(plan, base)                  # tables: summary, instruments, areas, kennzahlen, budget
    curve = oa.sweep(problem, "min:110%", 101)    # .curve, .entries, .cut_order
    why = oa.explain(problem)                     # .constraints, .instruments (shadow prices, ranges, words)
    front = oa.tradeoff(problem, "long_term")     # .front: integrations against a group's reach
    oa.diagnose(problem)                          # for an infeasible scenario: .conflict, .fixes
    risk = oa.risk(problem, draws=1000, seed=0)   # .summary, .value_of_information, .corridors
    year = oa.year(problem)                       # .cash, .commitments, .timed.quarters, .stages (by quarter)
    oa.frontier(problem)                          # .table, .changes: least change for 10 % … 100 % of the gain
    oa.corridors(problem, epsilon=0.02)           # .table: each instrument's least and most level within ε
    oa.alternatives(problem, epsilon=0.02, count=3)  # .summary, .areas, .instruments: plans within ε, side by side
    oa.evaluate(problem, "my-plan.csv")           # .broken, .comparison: a user's plan checked and valued

Every function raises :class:`~optalloc.errors.OptallocError` subclasses with a message a user can act on;
an infeasible problem raises :class:`~optalloc.errors.InfeasibleError` whose ``diagnosis`` says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .analyses.alternatives import DEFAULT_COUNT, DEFAULT_EPSILON, Alternatives, Corridors
from .analyses.alternatives import alternatives as _alternatives
from .analyses.alternatives import corridors as _corridors
from .solving.diagnosis import Diagnosis
from .solving.diagnosis import diagnose as _diagnose
from .analyses.explanation import Explanation
from .analyses.explanation import explain as _explain
from .analyses.frontier import DEFAULT_SHARES, Frontier
from .analyses.frontier import frontier as _frontier
from .model.loading import check_plannable, load_model
from .analyses.planfile import PlanCheck, evaluate_plan
from .model.problem import Problem, build_problem, check_objective
from .analyses.risk import Risk, assess
from .outputs.reports import Comparison, compare
from .model.scenarios import apply_scenarios
from .solving.solve import Solution, optimise
from .solving.solve import official as _official
from .analyses.sweeps import DEFAULT_RANGE, Sweep, cut_order, levels_of, sweep_budget
from .analyses.tradeoffs import Tradeoff
from .analyses.tradeoffs import tradeoff as _tradeoff


def load(model: str | Path, scenarios: Sequence[str | Path | Mapping[str, Any]] = (), rates: str | Path | None = None,
         basis: str | None = None, response: str | None = None) -> Problem:
    """Load a model file, apply scenario overlays in order, and build the planning problem.

    A scenario is a file path or a mapping with what a scenario file holds, e.g.
    ``{"name": "cut 15 %", "budget": {"cut_share": 0.15}}``. ``rates`` replaces the rates file the model
    names; ``basis`` is "gross" (integration rates, the default of the shipped rates) or "net" (net effects);
    ``response`` "concave" (diminishing returns, the model's default) or "linear" (constant rates)."""
    spec = load_model(model, rates=rates)
    if isinstance(scenarios, (str, Path, Mapping)):
        scenarios = [scenarios]
    if scenarios:
        spec = apply_scenarios(spec, list(scenarios))
    check_plannable(spec)  # a budget of 0 € or less: nothing to plan (one rule for every command)
    problem = build_problem(spec, basis=basis, response=response)  # type: ignore[arg-type]
    check_objective(problem)  # every rate 0: nothing to maximise
    return problem


def solve(problem: Problem, solver: str = "highs", integer: bool = False, least_money: bool = False) -> Solution:
    """The plan with the most expected integrations. ``integer``: whole entries bought in lots;
    ``least_money``: the least money for that optimum; ``solver``: "highs" or "cbc"."""
    return optimise(problem, solver=solver, integer=integer, least_money=least_money)


def official(problem: Problem) -> Solution:
    """The official plan (the document's entries) evaluated in the same model."""
    return _official(problem)


def sweep(problem: Problem, budget: str = DEFAULT_RANGE, steps: int = 101) -> Sweep:
    """The optimum at ``steps`` levels of the new-business budget (percent of the model's, "70%:110%",
    euros, "15e6:30e6", or from the least money a feasible plan needs, "min:110%", the default). The
    result has ``.curve``, ``.entries`` and ``.cut_order``."""
    return sweep_budget(problem, levels_of(problem, budget, steps))


def explain(problem: Problem) -> Explanation:
    """Binding constraints with their shadow prices, every instrument's reduced cost and ranges, in words."""
    return _explain(problem)


def diagnose(problem: Problem) -> Diagnosis:
    """For an infeasible problem: the requirements that collide and the smallest fixes, ranked."""
    return _diagnose(problem)


def year(problem: Problem, timing: str | Path | None = None, staged: bool = True):
    """The year in quarters (see :mod:`optalloc.analyses.timing` and :mod:`optalloc.analyses.stages`): cash per month, commitments
    into the next two years, the optimal plan by quarter and, with ``staged``, decisions in stages over the
    timing file's events. ``timing`` defaults to the model's ``<model>-timing.yaml``."""
    from .analyses.stages import plan_year
    from .analyses.timing import default_timing_path, load_timing

    path = timing or default_timing_path(problem.spec.path)
    return plan_year(problem, load_timing(path, problem), staged=staged)


def risk(problem: Problem, draws: int = 1000, seed: int = 0, distribution: str = "pert", correlation: float = 0.0,
         tail: float = 0.05, floor: str | float = "max", reoptimise: bool = True) -> Risk:
    """The official, optimal and a robust plan over ``draws`` random draws of the rates within their ranges
    (reproducible from ``seed``): distributions, regret, value of information per rate class, corridors.
    The result has ``.summary``, ``.values``, ``.value_of_information``, ``.corridors``, ``.plans``."""
    return assess(problem, draws=draws, seed=seed, distribution=distribution, correlation=correlation, tail=tail,
                  floor=floor, reoptimise=reoptimise)


def tradeoff(problem: Problem, group: str, points: int = 21) -> Tradeoff:
    """The Pareto front of expected integrations against the entries reaching ``group``."""
    return _tradeoff(problem, group, points=points, official_levels=problem.instruments["official"])


def frontier(problem: Problem, shares: Sequence[float] = DEFAULT_SHARES, *, optimal: Solution | None = None,
             official: Solution | None = None) -> Frontier:
    """For each share of the attainable gain (0, 0.1 … 1), the plan closest to the official one: the least
    euros moved (an LP) and the fewest rows touched (a MILP). The result has ``.table``, ``.changes`` (which
    rows change, by how much) and ``.plans``; pass ``optimal``/``official`` if already solved."""
    return _frontier(problem, tuple(shares), optimal=optimal, official=official)


def corridors(problem: Problem, epsilon: float = DEFAULT_EPSILON, *, optimal: Solution | None = None,
              official: Solution | None = None) -> Corridors:
    """Each adjustable instrument's least and most level among the plans within ``epsilon`` (a share, 0.02) of
    the optimum, every end proven; ``.table`` (ends, what holds them, the proofs), ``.seconds``."""
    return _corridors(problem, epsilon, optimal=optimal, official=official)


def alternatives(problem: Problem, epsilon: float = DEFAULT_EPSILON, count: int = DEFAULT_COUNT, *,
                 optimal: Solution | None = None, official: Solution | None = None) -> Alternatives:
    """``count`` plans within ``epsilon`` of the optimum that differ from the optimal plan and from each other
    as much as the search finds, beside the official and optimal plan: ``.summary``, ``.areas``,
    ``.instruments``, ``.kennzahlen``, ``.levels``, ``.distances``; ``.plans`` holds their Solutions."""
    return _alternatives(problem, epsilon, count, optimal=optimal, official=official)


def evaluate(problem: Problem, plan: str | Path | Mapping[str, float], integer: bool = False, *,
             optimal: Solution | None = None, official: Solution | None = None) -> PlanCheck:
    """A user's plan — a plan file (CSV with id and level, or plan.json of ``solve --out``) or levels per
    instrument id, the others at their official level — valued like the official plan: ``.solution``,
    ``.comparison`` (the official shape), ``.broken`` (each broken rule and by how much), ``.ok``,
    ``.share_of_gain``; pass ``optimal``/``official`` if already solved."""
    return evaluate_plan(problem, plan, integer=integer, optimal=optimal, official=official)


__all__ = ["Comparison", "alternatives", "compare", "corridors", "cut_order", "diagnose", "evaluate", "explain",
           "frontier", "load", "official", "risk", "solve", "sweep", "year", "tradeoff"]
