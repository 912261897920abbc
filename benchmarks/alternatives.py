"""Benchmark of the options on the Duisburg 2016 model: corridors, frontier, alternatives, and the search's quality.

    python benchmarks/alternatives.py [--repeat 3] [--epsilon 0.02] [--model models/duisburg-2016.yaml] [--no-exact]

Measured in one run (best of ``--repeat`` for the timings):

- corridors: the 2 × n warm re-solves (the cost vector changes only) and, apart, the proofs of every end
  (each end plan checked against every rule, and a re-solve a hundredth of an entry beyond it);
- frontier: 11 shares of the gain, the least-euros LP and the fewest-rows MILP (with its least-euros pass);
- alternatives: 3 plans within ε by successive linear programs from 32 starts;
- the search's quality: the first alternative's distance from the optimal plan (euros moved) against the exact
  answer of the mixed-integer program that maximises that distance (a binary per row for the side of the
  optimal level it lies on; ``--no-exact`` skips it: it takes seconds).
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import pulp

import optalloc as oa
from optalloc.analyses.alternatives import euros_apart, floor_of
from optalloc.solving.lp import build_lp
from optalloc.solving.solve import make_solver

ROOT = Path(__file__).resolve().parent.parent


def best_of(repeat: int, run):
    """The fastest of ``repeat`` runs: (seconds, the last result)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def exact_farthest(problem, optimal, epsilon: float) -> tuple[float, float]:
    """The most euros any plan within ε can be from the optimal plan: a MILP on HiGHS. Returns (euros, seconds)."""
    inst = problem.instruments
    lp = build_lp(problem, lean=True)
    prob = lp.prob
    prob.addConstraint(lp.integrations >= floor_of(optimal.integrations, epsilon), "near")
    total = []
    for iid in inst.index[~inst["fixed"]]:
        c, lo, hi = (float(inst.at[iid, k]) for k in ("unit_cost", "lower", "upper"))
        p = float(optimal.plan.levels[iid])
        big = 2 * c * (hi - lo)
        t = prob.add_variable(f"t_{iid}", lowBound=0, upBound=c * max(hi - p, p - lo))
        side = prob.add_variable(f"b_{iid}", cat=pulp.LpBinary)
        x = lp.level[iid]
        prob.addConstraint(pulp.LpAffineExpression([(t, 1), (x, -c), (side, -big)]) <= -c * p)
        prob.addConstraint(pulp.LpAffineExpression([(t, 1), (x, c), (side, big)]) <= c * p + big)
        total.append((t, 1.0))
    prob.setObjective(pulp.LpAffineExpression(total))
    start = time.perf_counter()
    status = prob.solve(make_solver("highs", integer=True))
    seconds = time.perf_counter() - start
    if pulp.LpStatus[status] != "Optimal":
        raise RuntimeError(f"the exact program stopped with {pulp.LpStatus[status]}")
    return float(pulp.value(prob.objective)), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "duisburg-2016.yaml"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--epsilon", type=float, default=0.02)
    parser.add_argument("--no-exact", action="store_true")
    args = parser.parse_args()

    problem = oa.load(args.model)
    optimal, official = oa.solve(problem), oa.official(problem)
    print(f"{problem.name}: {int((~problem.instruments['fixed']).sum())} adjustable instruments; "
          f"Python {platform.python_version()}, {platform.machine()}; best of {args.repeat}")

    runs = [oa.corridors(problem, args.epsilon, optimal=optimal, official=official) for _ in range(args.repeat)]
    corr = min(runs, key=lambda c: c.seconds + c.proof_seconds)
    n = len(corr.table)
    print(f"corridors: {2 * n} warm re-solves in {min(c.seconds for c in runs):.3f} s "
          f"({2 * n / min(c.seconds for c in runs):,.0f} per second; the issue's target: under 2 s); proofs of all "
          f"{2 * n} ends in {min(c.proof_seconds for c in runs):.3f} s (all proven: {corr.proven}); together "
          f"{min(c.seconds + c.proof_seconds for c in runs):.3f} s")

    seconds, _ = best_of(args.repeat, lambda: oa.frontier(problem, optimal=optimal, official=official))
    print(f"frontier: 11 shares × (least-euros LP with its tie-break, fewest-rows MILP, least euros within its "
          f"rows) and every plan paid and checked: {seconds:.3f} s")

    seconds, alts = best_of(args.repeat, lambda: oa.alternatives(problem, args.epsilon, 3, optimal=optimal,
                                                                 official=official))
    found = euros_apart(problem, optimal.plan, alts.plans[0].plan)
    print(f"alternatives: 3 plans within {args.epsilon:.0%} in {seconds:.3f} s; the first is {found:,.2f} € from the "
          f"optimal plan")
    if not args.no_exact:
        exact, mip_seconds = exact_farthest(problem, optimal, args.epsilon)
        print(f"exact farthest plan within {args.epsilon:.0%} (MILP, {mip_seconds:.2f} s): {exact:,.2f} € — the search "
              f"finds {found / exact:.1%} of it")


if __name__ == "__main__":
    main()
