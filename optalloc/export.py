"""Write a plan's tables to a folder: one CSV per table and one JSON with everything.

CSV money columns are euros with two decimals (computed from whole cents); JSON money is given both in
euros and in cents, so a reader can reconcile exactly.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from .plan import money_cents
from .reports import Comparison, compare
from .solve import Solution


def write_solution(folder: Path | str, opt: Solution, off: Solution, comparison: Comparison | None = None) -> list[Path]:
    """Write the tables of an optimal plan beside the official one (``comparison``, if already made, is
    ``compare(opt, off)``); returns the files written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    tables = (comparison or compare(opt, off)).tables()
    for name, df in tables.items():
        path = folder / f"{name}.csv"
        df.to_csv(path)  # floats as their shortest exact text: money keeps its cents at any size
        written.append(path)
    spec = opt.problem.spec
    cents = money_cents(opt.problem, opt.plan)
    doc = {
        "model": str(spec.path),
        "rates": str(spec.rates_path),
        "scenarios": list(spec.scenarios),
        "basis": opt.problem.basis,
        "response": opt.problem.response_shape,
        "solver": opt.solver,
        "integer": opt.integer,
        "least_money": opt.least_money,
        "expected_integrations": {"official": off.integrations, "optimal": opt.integrations},
        "plan": {
            iid: {
                "level": float(opt.plan.levels[iid]),
                "unit": opt.problem.instruments.at[iid, "unit"],
                "set_by": (str(tables["levels"].at[iid, "set_by"]) if iid in tables["levels"].index else "fixed"),
                "money_cents": {r.pool: int(r.cents) for r in cents[cents.instrument == iid].itertuples() if r.cents},
            }
            for iid in opt.problem.instruments.index
        },
        "tables": {name: _records(df) for name, df in tables.items()},
    }
    path = folder / "plan.json"
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    written.append(path)
    return written


def _records(df: pd.DataFrame) -> list[dict]:
    out = []
    for idx, row in df.iterrows():
        rec = {"index": idx}
        for k, v in row.items():
            if isinstance(v, float) and math.isnan(v):
                v = None
            elif hasattr(v, "item"):
                v = v.item()
            rec[str(k)] = v
        out.append(rec)
    return out
