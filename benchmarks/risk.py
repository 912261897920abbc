"""Benchmark of the risk assessment on the Duisburg 2016 model: evaluating plans on draws, re-optimising
each draw on the fast path, the naive rebuild per draw, and the solver's floor.

    python benchmarks/risk.py [--draws 1000] [--evaluate 10000] [--rebuild 40] [--repeat 3]

Measured in one run:

- evaluating a fixed plan on ``--evaluate`` draws: one matrix product (``RateDraws.values``), against a
  loop over the draws that values the plan segment by segment — the two must agree;
- re-optimising every draw on the fast path (``Reoptimiser``: the LP built and solved once, then only its
  objective changes to the draw's rates and HiGHS re-solves warm; the levels read back), as
  ``optalloc risk`` runs it;
- the naive loop: a fresh PuLP model built and solved per draw with the draw's rates as its objective
  (timed on the first ``--rebuild`` draws and given per draw);
- the solver's floor: the same warm re-solves with nothing read back, the time inside ``Highs.run`` alone.

Targets (issue "How sure is the gain?"): evaluation of 10,000 draws under 0.1 s; the fast path at least 20×
faster per draw than rebuilding and within 3× of the floor. The fast path and the floor take the best of
``--repeat`` runs, alternated so that a busy spell of the machine falls on both alike.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import pulp

import optalloc as oa
from optalloc.solving.lp import build_lp
from optalloc.analyses.risk import Reoptimiser, draw_rates
from optalloc.solving.solve import make_solver

ROOT = Path(__file__).resolve().parent.parent


def loop_values(rd, levels: np.ndarray, draws: int) -> np.ndarray:
    """A plan's value on the first ``draws`` draws, segment by segment in Python: the naive way, and a check
    of the product."""
    seg = rd.problem.response
    pos = {iid: k for k, iid in enumerate(rd.problem.instruments.index)}
    out = np.zeros(draws)
    for d in range(draws):
        total = 0.0
        for s, (iid, start, end) in enumerate(zip(seg["instrument"], seg["start"], seg["end"])):
            total += rd.segment_rates[d, s] * max(0.0, min(levels[pos[iid]], end) - start)
        out[d] = total
    return out


def rebuild_per_draw(problem, rd, draws: int) -> float:
    """Seconds per draw of the naive loop: build the PuLP model, set the draw's objective, solve, read."""
    start = time.perf_counter()
    for d in range(draws):
        lp = build_lp(problem, lean=True)
        seg = problem.response
        where = {(str(i), int(k)): s for s, (i, k) in enumerate(zip(seg["instrument"], seg["segment"]))}
        terms = [(v, float(rd.segment_rates[d, where[key]])) for key, v in lp.segments.items()]
        for iid, v in lp.level.items():
            curve = problem.curves.get(iid)
            if curve is not None and len(curve[0]) == 1 and (v.upBound or 0) > (v.lowBound or 0):
                terms.append((v, float(rd.segment_rates[d, where[(iid, int(curve[0][0]))]])))
        lp.prob.setObjective(pulp.LpAffineExpression(terms))
        lp.prob.solve(make_solver("highs"))
        [v.varValue for v in lp.level.values()]
    return (time.perf_counter() - start) / draws


def fast_and_floor(problem, rd) -> tuple[float, float]:
    """Seconds of re-optimising every draw on the fast path, and of the bare warm re-solves alone."""
    engine = Reoptimiser(problem)
    start = time.perf_counter()
    for d in range(len(rd)):
        engine.solve(rd.segment_rates[d])
    fast = time.perf_counter() - start
    floor_engine = Reoptimiser(problem)
    h = floor_engine.h
    costs = -rd.segment_rates[:, floor_engine.segs]
    scales = np.abs(costs).max(axis=1)
    prepared = costs / scales[:, None]
    floor = 0.0
    for d in range(len(rd)):
        h.changeColsCost(len(floor_engine.cols), floor_engine.cols, prepared[d])
        start = time.perf_counter()
        h.run()
        floor += time.perf_counter() - start
    return fast, floor


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(ROOT / "models" / "duisburg-2016.yaml"))
    ap.add_argument("--draws", type=int, default=1000, help="draws re-optimised (fast path and floor)")
    ap.add_argument("--evaluate", type=int, default=10_000, help="draws a fixed plan is evaluated on")
    ap.add_argument("--rebuild", type=int, default=40, help="draws the naive rebuild loop is timed on")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    problem = oa.load(args.model)
    plan = oa.solve(problem).plan.levels.reindex(problem.instruments.index).to_numpy(float)
    print(f"{problem.name}: {len(problem.instruments)} rows, {len(problem.response)} response segments; "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")

    big = draw_rates(problem, args.evaluate, seed=1)
    product = min(_timed(lambda: big.values(plan)) for _ in range(args.repeat * 3))
    sample = min(1000, args.evaluate)
    start = time.perf_counter()
    looped = loop_values(big, plan, sample)
    loop = (time.perf_counter() - start) * args.evaluate / sample
    agree = np.max(np.abs(looped - big.values(plan)[:sample, 0]))
    print(f"\nEvaluate a fixed plan on {args.evaluate:,} draws")
    print(f"  matrix product   {product * 1000:8.2f} ms   (target < 100 ms: {'met' if product < 0.1 else 'NOT met'})")
    print(f"  loop over draws  {loop * 1000:8.2f} ms   ({loop / product:,.0f}× the product; timed on {sample:,} draws; "
          f"largest difference {agree:.1e})")

    rd = draw_rates(problem, args.draws, seed=2)
    fast = floor = float("inf")
    for _ in range(args.repeat):
        f, fl = fast_and_floor(problem, rd)
        fast, floor = min(fast, f), min(floor, fl)
    rebuild = rebuild_per_draw(problem, rd, min(args.rebuild, args.draws))
    per_fast, per_floor = fast / len(rd), floor / len(rd)
    print(f"\nRe-optimise each of {len(rd):,} draws (best of {args.repeat})")
    print(f"  naive rebuild    {rebuild * 1000:8.2f} ms per draw   (timed on {min(args.rebuild, args.draws)} draws)")
    print(f"  fast path        {per_fast * 1000:8.2f} ms per draw   {fast:6.2f} s in all")
    print(f"  solver floor     {per_floor * 1000:8.2f} ms per draw   {floor:6.2f} s in all")
    speedup, over_floor = rebuild / per_fast, per_fast / per_floor
    print(f"  fast vs rebuild  {speedup:8.1f}×  (target ≥ 20×: {'met' if speedup >= 20 else 'NOT met'})")
    print(f"  fast vs floor    {over_floor:8.2f}×  (target ≤ 3×: {'met' if over_floor <= 3 else 'NOT met'})")


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
