"""Benchmark of budget sweeps on the Duisburg 2016 model: fast path, naive loop and the solver's floor.

    python benchmarks/sweep.py [--points 1000] [--repeat 3] [--model models/duisburg-2016.yaml]

Measured in one run, over the same budget levels (90 % to 110 % of the new-business budget):

- naive loop: build a fresh PuLP model and solve it at every level (``sweep_budget(method="rebuild")``);
- fast path: build once, change the budget row's bound on PuLP's highspy object, re-solve warm and read
  the plan and the true shadow price back (``sweep_budget(method="fast")``, what ``optalloc sweep`` runs);
- solver time of the fast path: the time HiGHS itself spends in those very solves (each level is one
  solve, plus a second one on the optimal face where equally good plans must be told apart and the
  vertex found is not already the tie-break's choice);
- one-solve floor: re-solving the budget LP at each level with nothing read back and no tie-break
  (``floor_seconds``): what the solver alone would need if ties did not matter.

Prints levels per second and the ratios; the fast path's results are compared with the naive loop's.
The fast path and the floors take the best of ``--repeat`` runs; the naive loop runs once
(``--no-naive`` skips it).

The same run also times the model's second form (diminishing returns, capacities, customer stock, stated
decisions, reserve: the shipped model) against its first form (the same file with constant rates and none
of those limits: :data:`FIRST_FORM`), for one full solve and for the fast sweep: the second form should
stay within 1.5× of the first.
"""

from __future__ import annotations

import argparse
import math
import platform
import time
from pathlib import Path

import numpy as np

import yaml

from optalloc.model.loading import load_model
from optalloc.model.problem import build_problem
from optalloc.model.scenarios import apply_scenarios
from optalloc.solving.solve import optimise
from optalloc.analyses.sweeps import BUDGET_ROW, budget_levels, floor_seconds, parametric, sweep_budget

ROOT = Path(__file__).resolve().parent.parent
RANGE = "90%:110%"  # every level feasible in both forms (below about 87 % the second form has no plan)


def first_form(model: Path) -> dict:
    """The model as its first form had it: constant rates, no reserve, no capacity, stock or policy limits."""
    policy = yaml.safe_load(model.read_text(encoding="utf-8")).get("policy", [])
    return {"name": "first form", "budget": {"reserve_amount": 0},
            "assumptions": {"response": {"shape": "linear"}, "capacity": {"extension_share": 10},
                            "employers": {"growth_share": 10}, "participation": {"max_share": 1}},
            "policy": {r["id"]: {"drop": True} for r in policy}}


def paired(first, second, rounds: int) -> tuple[float, float]:
    """The best time of each of two callables, measured alternately (first, second, first, ...) so that a
    busy spell of the machine falls on both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        for fn, out in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return min(times[0]), min(times[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "duisburg-2016.yaml")
    parser.add_argument("--no-naive", dest="naive", action="store_false", help="skip the naive loop (slow)")
    args = parser.parse_args()

    spec = load_model(args.model)
    problem = build_problem(spec)
    levels = budget_levels(RANGE, args.points, float(problem.pools.at["egt", "available"]))
    sweep_budget(problem, levels[:5])  # warm up imports and the solver

    fast_times, solver_times = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        fast = sweep_budget(problem, levels, method="fast")
        fast_times.append(time.perf_counter() - start)
        inside: list[float] = []
        parametric(problem, BUDGET_ROW, "upper", levels, solver_seconds=inside)
        solver_times.append(sum(inside))
    solver_time = min(solver_times)
    floor = min(floor_seconds(problem, levels) for _ in range(args.repeat))
    fast_time = min(fast_times)
    naive, naive_time = fast, math.nan
    if args.naive:
        start = time.perf_counter()
        naive = sweep_budget(problem, levels, method="rebuild")
        naive_time = time.perf_counter() - start

    entries_diff = float(np.nanmax(np.abs(fast.entries.to_numpy() - naive.entries.to_numpy())))
    value_diff = float(np.nanmax(np.abs(fast.curve["integrations"] - naive.curve["integrations"])))
    dual_diff = float(np.nanmax(np.abs(fast.curve["per_1000_eur"] - naive.curve["per_1000_eur"])))

    print(f"budget sweep benchmark — {problem.name}, {len(problem.instruments)} instruments, "
          f"{args.points} budget levels; Python {platform.python_version()} on {platform.machine()}")
    print(f"{'method':<44} {'seconds':>9} {'levels/s':>10}")
    for name, secs in (("naive loop (rebuild PuLP model each level)", naive_time),
                       ("fast path (build once, warm re-solve)", fast_time),
                       ("  of which inside HiGHS (the same solves)", solver_time),
                       ("one-solve floor (no tie-break, nothing read)", floor)):
        print(f"{name:<44} {secs:>9.3f} {args.points / secs:>10,.0f}")
    print(f"fast path vs naive loop: {naive_time / fast_time:.1f}× faster (target: at least 20×)")
    print(f"fast path vs the bare solver floor (one re-solve per level): {fast_time / floor:.2f}× (target: within 3×)")
    print(f"fast path vs the solver time of its own solves: {fast_time / solver_time:.2f}× (the rest is reading "
          f"the results back and checking whether the tie-break needs a second solve)")
    print(f"fast path vs naive results: max |Δ entries| {entries_diff:.2e}, max |Δ integrations| {value_diff:.2e}, "
          f"max |Δ per 1,000 €| {dual_diff:.2e}")

    first = build_problem(apply_scenarios(spec, [first_form(args.model)]))
    first_levels = budget_levels(RANGE, args.points, float(first.pools.at["egt", "available"]))
    sweep_budget(first, first_levels[:5])
    rows = [("one full solve (optimise: passes, tie-break, pay, check)",
             *paired(lambda: optimise(first), lambda: optimise(problem), args.repeat * 7)),
            (f"fast sweep, {args.points} levels",
             *paired(lambda: sweep_budget(first, first_levels), lambda: sweep_budget(problem, levels), args.repeat * 2))]
    print()
    print(f"{'second form against first form (same run)':<58} {'first s':>9} {'second s':>9} {'ratio':>7}")
    for name, a, b in rows:
        print(f"{name:<58} {a:>9.3f} {b:>9.3f} {b / a:>6.2f}×")
    print("target: the second form within 1.5× of the first")


if __name__ == "__main__":
    main()
