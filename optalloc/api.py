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

Every function raises :class:`~optalloc.errors.OptallocError` subclasses with a message a user can act on;
an infeasible problem raises :class:`~optalloc.errors.InfeasibleError` whose ``diagnosis`` says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .diagnosis import Diagnosis
from .diagnosis import diagnose as _diagnose
from .explanation import Explanation
from .explanation import explain as _explain
from .loading import load_model
from .problem import Problem, build_problem
from .risk import Risk, assess
from .reports import Comparison, compare
from .scenarios import apply_scenarios
from .solve import Solution, optimise
from .solve import official as _official
from .sweeps import DEFAULT_RANGE, Sweep, cut_order, levels_of, sweep_budget
from .tradeoffs import Tradeoff
from .tradeoffs import tradeoff as _tradeoff


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
    return build_problem(spec, basis=basis, response=response)  # type: ignore[arg-type]


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


__all__ = ["Comparison", "compare", "cut_order", "diagnose", "explain", "load", "official", "risk", "solve", "sweep",
           "tradeoff"]
