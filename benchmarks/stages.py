"""Benchmark of the year in quarters and the staged plan on the Duisburg 2016 model.

    python benchmarks/stages.py [--repeat 3]

Prints, best of ``--repeat``: the quarterly LP (build and HiGHS solve), and the scenario-tree LP over the
timing file's three events (8 outcomes) — the outcomes' problems, the build of the joined LP and the HiGHS
solve, staged and fixed. Target (issue "The year and the years after"): the staged model solves in under 1 s.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import optalloc as oa
from optalloc.analyses import stages as st
from optalloc.analyses import timing as tm

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(ROOT / "models" / "duisburg-2016.yaml"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    problem = oa.load(args.model)
    timing = tm.load_timing(tm.default_timing_path(args.model), problem)
    print(f"{problem.name}: {len(problem.instruments)} rows, {len(timing.factors)} timed; "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")

    best: dict[str, float] = {}

    def keep(name: str, seconds: float) -> None:
        best[name] = min(best.get(name, float("inf")), seconds)

    for _ in range(args.repeat):
        start = time.perf_counter()
        timed = tm.solve_timed(problem, timing)
        keep("quarterly LP: build and solve", time.perf_counter() - start)
        keep("quarterly LP: HiGHS solve", timed.seconds)
        start = time.perf_counter()
        outs = st.outcomes(problem, timing)
        keep("staged: the outcomes' problems", time.perf_counter() - start)
        for fixed in (False, True):
            start = time.perf_counter()
            plan = st.solve_staged(problem, timing, fixed=fixed, outcome_list=outs)
            label = "fixed" if fixed else "staged"
            keep(f"{label}: build and solve", time.perf_counter() - start)
            keep(f"{label}: HiGHS solve", plan.seconds)
    for name, seconds in best.items():
        print(f"  {name:36s} {seconds:7.3f} s")
    solve = best["staged: HiGHS solve"]
    print(f"  staged model solve under 1 s: {'met' if solve < 1 else 'NOT met'} ({len(outs)} outcomes)")


if __name__ == "__main__":
    main()
