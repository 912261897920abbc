"""Benchmark: how loading, checking, building and solving a model grow with its number of rows.

    python benchmarks/scaling.py [--rows 1000,5000,20000] [--repeat 1] [--budget-seconds 120]

Writes synthetic model files shaped like the Duisburg 2016 model (:func:`synthetic_model`: instruments in
ten priority areas, rows bought with new money, rows whose money sits in another row's budget and rows
counted in another row's entries, contracts with capacities, groups with coverage requirements, a legal cap
on the § 16e/§ 16f rows, a stated decision, a reserve, a budget that binds) of 1,000, 5,000 and 20,000 rows,
and times each stage of ``optalloc validate`` and ``optalloc solve`` on them:

- read: the YAML file read and parsed (:func:`optalloc.model.loading.read_yaml`);
- load: read, checked against the schema and every cross-reference (:func:`optalloc.model.loading.load_model`);
- reconcile: every printed sum recomputed (what ``validate`` adds);
- build: the validated planning problem (:func:`optalloc.model.problem.build_problem`);
- optimise: the LP built, solved with HiGHS, tie-broken and checked independently (:func:`optalloc.solving.solve.optimise`);
- official: the official plan evaluated in the same model;
- compare: the tables of the report (:func:`optalloc.outputs.reports.compare`).

For each stage it prints the CPU seconds of this process per size (``time.process_time``: other work on a
shared machine slows the wall clock, much less the CPU time) and the growth exponent k of time ∝ rows^k,
fitted by least squares on log time against log rows (k = 1 is linear, 2 quadratic). A stage whose projected time at the next
size exceeds ``--budget-seconds`` (from the exponent measured so far, at least 1) is skipped there and
marked so. The issue's target: loading and solving grow at most with k ≤ 1.2.
"""

from __future__ import annotations

import argparse
import math
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optalloc.model.loading import load_model, read_yaml  # noqa: E402
from optalloc.model.problem import build_problem  # noqa: E402
from optalloc.model.reconcile import reconcile  # noqa: E402
from optalloc.outputs.reports import compare  # noqa: E402
from optalloc.solving.solve import official, optimise  # noqa: E402

RATES = ROOT / "models" / "rates" / "sgb2-defaults.yaml"
CLASSES = ("egz", "fbw", "activation", "esg", "agh_mae", "bae")
GROUPS = ("u25", "long_term", "single_parents", "market_close")
AREAS = 10


def synthetic_model(rows: int) -> dict:
    """A valid model of ``rows`` instrument rows, shaped like the Duisburg model (see the module docstring).

    Every 10th row is a 'shared' row paid from the row before it, every 25th a row counted in the entries
    of the row before it (the parent prints both), every 7th row is bought under a contract (capacity:
    contract), every 13th is a § 16f row under the legal cap. The budget makes 1.05 × the official plan's
    money available less a reserve of 2 %, so that money binds."""
    instruments = []
    money = 0.0
    for i in range(rows):
        entries = 20 + (i * 37) % 400
        row: dict = {"id": f"row_{i}", "name": f"Instrument {i}", "area": f"area_{i % AREAS}",
                     "rate_class": CLASSES[i % len(CLASSES)],
                     "groups": {GROUPS[i % len(GROUPS)]: round(0.2 + (i % 7) / 10, 2)}}
        parent = instruments[-1] if instruments else None
        if i % 10 == 9 and parent and parent["financing"] == "new" and "entries_in" not in parent:
            row.update(financing="shared", money_in=parent["id"], entries=entries)
        elif i % 25 == 24 and parent and parent["financing"] == "new" and "entries_in" not in parent:
            row.update(financing="new", entries=entries // 4, new_funds=round(900.0 * (entries // 4), 2),
                       entries_in=parent["id"])
            parent["entries"] += entries // 4
            money += row["new_funds"]
        else:
            row.update(financing="new", entries=entries, new_funds=round(1_000.0 * entries * (1 + (i % 9) / 10), 2))
            money += row["new_funds"]
        if i % 7 == 3 and row["financing"] == "new" and "entries_in" not in row:
            row["capacity"] = "contract"
        if i % 13 == 5 and row["financing"] == "new":
            row["cap_category"] = "16f"
        instruments.append(row)
    allocation = round(money * 1.05 / 0.98, 2)
    return {
        "meta": {"jobcenter": "Synthetic", "year": 2016, "title": f"synthetic model of {rows} rows",
                 "rates_file": str(RATES)},
        "budget": {"egt_allocation": allocation, "shift_to_administration": 0.0, "reserve_share": 0.02},
        "pools": [{"id": "egt", "name": "Neufallbudget (EGT)", "derived": "new_business"}],
        "caps": [{"id": "fav_free", "name": "FAV und Freie Förderung", "categories": ["16e", "16f"],
                  "max_share": 0.2, "base": "egt_allocation"}],
        "groups": [{"id": g, "name": g, "customer_share": 0.2} for g in GROUPS],
        "assumptions": {"bounds": {"min_share_of_official": 0.5, "max_share_of_official": 1.5},
                        "response": {"shape": "concave", "low_end_at": 1.2},
                        "capacity": {"extension_share": 0.2, "status": "assumption"}},
        "coverage": [{"id": "u25_share", "group": "u25", "min_share": 0.1},
                     {"id": "long_term_reach", "group": "long_term", "min_count": "official"}],
        "policy": [{"id": "first_rows", "name": "the first rows not cut", "rows": ["row_0", "row_1"],
                    "measure": "entries", "min": "official", "source": "synthetic: a stated decision"}],
        "areas": [{"id": f"area_{k}", "chapter": f"5.{k}", "name": f"Area {k}"} for k in range(AREAS)],
        "instruments": instruments,
    }


def exponent(sizes: list[int], seconds: list[float]) -> float:
    """k of seconds ∝ sizes^k, least squares on the logarithms."""
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """The least CPU time of ``repeat`` runs of ``fn``, and what it returned."""
    best, out = math.inf, None
    for _ in range(repeat):
        start = time.process_time()
        out = fn()
        best = min(best, time.process_time() - start)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="1000,5000,20000", help="comma-separated model sizes")
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs per stage")
    parser.add_argument("--budget-seconds", type=float, default=120.0,
                        help="skip a stage at a size where it would take longer than this")
    args = parser.parse_args()
    sizes = [int(s) for s in args.rows.split(",")]
    stages = ("read", "load", "reconcile", "build", "optimise", "official", "compare")
    times: dict[str, dict[int, float]] = {s: {} for s in stages}
    print(f"optalloc scaling benchmark · Python {platform.python_version()} · {platform.machine()} · "
          f"CPU seconds, best of {args.repeat}")
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            path = Path(folder) / f"model-{n}.yaml"
            path.write_text(yaml.safe_dump(synthetic_model(n), sort_keys=False, allow_unicode=True), encoding="utf-8")
            size_mb = path.stat().st_size / 1e6
            results: dict[str, object] = {}
            runs: dict[str, Callable[[], object]] = {
                "read": lambda: read_yaml(path, "model file"),
                "load": lambda: load_model(path),
                "reconcile": lambda: reconcile(results["load"]),
                "build": lambda: build_problem(results["load"]),
                "optimise": lambda: optimise(results["build"]),
                "official": lambda: official(results["build"]),
                "compare": lambda: compare(results["optimise"], results["official"]),
            }
            cells = []
            for stage in stages:
                done = times[stage]
                if done:
                    last = max(done)
                    k = max(1.0, exponent(sorted(done), [done[m] for m in sorted(done)]) if len(done) > 1 else 1.0)
                    projected = done[last] * (n / last) ** k
                    if projected > args.budget_seconds:
                        cells.append(f"{stage} skipped (~{projected:,.0f} s)")
                        continue
                if any(dep not in results for dep in _needs(stage)):
                    cells.append(f"{stage} skipped")
                    continue
                seconds, results[stage] = timed(runs[stage], args.repeat)
                done[n] = seconds
                cells.append(f"{stage} {seconds:.2f} s")
            print(f"{n:>7,} rows ({size_mb:.1f} MB): " + " · ".join(cells), flush=True)
    print()
    print(f"{'stage':<10} " + " ".join(f"{n:>10,}" for n in sizes) + "   exponent k (time ∝ rows^k)")
    for stage in stages:
        done = times[stage]
        row = " ".join(f"{done[n]:>9.2f}s" if n in done else f"{'—':>10}" for n in sizes)
        k = f"{exponent(sorted(done), [done[m] for m in sorted(done)]):.2f}" if len(done) > 1 else "—"
        print(f"{stage:<10} {row}   {k}" + (f" (from {min(done):,} to {max(done):,} rows)" if len(done) > 1 else ""))
    solve = [s for s in ("load", "build", "optimise") if len(times[s]) == len(sizes)]
    if len(solve) == 3:
        total = [sum(times[s][n] for s in solve) for n in sizes]
        print(f"\nload + build + optimise: {' · '.join(f'{n:,} rows {t:.1f} s' for n, t in zip(sizes, total))}; "
              f"exponent {exponent(sizes, total):.2f} (target ≤ 1.2)")


def _needs(stage: str) -> tuple[str, ...]:
    return {"reconcile": ("load",), "build": ("load",), "optimise": ("build",), "official": ("build",),
            "compare": ("optimise", "official")}.get(stage, ())


if __name__ == "__main__":
    main()
