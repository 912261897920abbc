"""Constraint checker: does a plan satisfy every rule of the problem? Plain arithmetic, no solver.

Separate from the LP and the solver, not from optalloc: it checks a plan against optalloc's own reading of the
model (the :class:`~optalloc.model.problem.Problem`). The tests hold the independent reading (``tests/raw_check.py``).

``check_plan(problem, plan)`` recomputes each constraint the LP claims — bounds, lots, pool money, legal
caps, coverage, places, contracted capacity, stated policy rules, customer stock — from the plan's levels and its money, and returns one row per constraint, named
as in the LP, with its left- and right-hand side, slack and verdict. Pool money is compared in the whole
cents the reports print, exactly; money that is not printed per pool (a cap, coverage on money, the
pools' parts of a cost) in exact euros within a cent (``SPLIT_TOLERANCE``); entries within
``ENTRY_TOLERANCE``. A row is ``binding`` when its slack is below ``BINDING_EUROS`` (money) or
``BINDING_ENTRIES`` (entries, places).
"""

from __future__ import annotations

import pandas as pd

from .plan import Plan, money_cents, pool_cents, to_cents
from ..model.problem import Problem

ENTRY_TOLERANCE = 1e-6  # entries: what a solver's feasibility tolerance may leave
SPLIT_TOLERANCE = 0.01  # euros: the pools' parts of a component against its cost
BINDING_EUROS = 0.50  # a money row with less slack than this is used up (rounding to cents leaves cents over)
BINDING_ENTRIES = 1e-4

COLUMNS = ["name", "kind", "ref", "unit", "lhs", "sense", "rhs", "slack", "ok", "binding"]


def check_plan(problem: Problem, plan: Plan, integer: bool = False) -> pd.DataFrame:
    inst = problem.instruments
    levels = plan.levels.reindex(inst.index)
    rows: list[tuple] = []

    def row(name: str, kind: str, ref: str, unit: str, lhs: float, sense: str, rhs: float) -> None:
        slack = rhs - lhs if sense == "<=" else lhs - rhs if sense == ">=" else -abs(lhs - rhs)
        if unit == "€":
            ok = slack >= -1e-9
            binding = slack < BINDING_EUROS
        elif unit == "€ (exact)":
            ok = slack >= -(SPLIT_TOLERANCE + 1e-9 * abs(rhs))
            binding = kind == "split" or slack < BINDING_EUROS
        else:
            ok = slack >= -ENTRY_TOLERANCE * max(1.0, abs(rhs))
            binding = abs(slack) < BINDING_ENTRIES
        rows.append((name, kind, ref, unit, lhs, sense, rhs, slack, bool(ok), bool(binding)))

    if levels.isna().any():
        missing = ", ".join(levels.index[levels.isna()])
        raise ValueError(f"the plan has no level for: {missing}")

    for iid, r in inst[["lower", "upper", "unit", "lot", "financing"]].to_dict("index").items():
        x = float(levels[iid])
        unit = "€" if r["unit"] == "euros" else "entries"
        row(f"entries_min:{iid}", "bound", iid, unit, x, ">=", float(r["lower"]))
        row(f"entries_max:{iid}", "bound", iid, unit, x, "<=", float(r["upper"]))
        if integer and r["unit"] == "entries":
            lot = int(r["lot"])
            lots = x / lot
            row(f"lot:{iid}", "lot", iid, "entries", abs(lots - round(lots)) * lot, "<=", 0.0)

    for c in problem.costs.itertuples(index=False):
        if len(c.pools) > 1:
            paid = sum(plan.split.get((c.instrument, c.component, p), 0.0) for p in c.pools)
            row(f"split:{c.instrument}:{c.component}", "split", c.instrument, "€ (exact)", paid, "=",
                float(levels[c.instrument]) * float(c.per_unit))
            for p in c.pools:
                v = plan.split.get((c.instrument, c.component, p), 0.0)
                if v < -SPLIT_TOLERANCE:
                    row(f"split:{c.instrument}:{c.component}:{p}", "split", c.instrument, "€ (exact)", v, ">=", 0.0)

    cents = money_cents(problem, plan)
    by_pool = pool_cents(problem, cents)
    used_pools = set(cents["pool"])
    for pid, pool in problem.pools.iterrows():
        if pid not in used_pools:
            continue
        name = problem.pool_row(pid)
        row(name, "budget" if pid == problem.new_business_pool else "pool", pid, "€", by_pool[pid] / 100,
            "<=", to_cents(float(pool["available"])) / 100)

    for cap in problem.caps:
        # the capped rows' exact money (their cents are rounded within each pool, not within the cap)
        spent = sum(float(levels[i]) * float(inst.at[i, "unit_cost"]) for i in cap.instruments)
        row(f"cap:{cap.id}", "cap", cap.id, "€ (exact)", spent, "<=", cap.limit)

    for cov in problem.coverage:
        reach, total = problem.group_reach(levels, cov.group, cov.basis)
        need = cov.min_share * total if cov.min_share is not None else float(cov.min_count or 0.0)
        # money coverage is not rounded to cents: it holds to a cent, like the solver's own tolerance
        row(f"coverage:{cov.id}", "coverage", cov.id, "€ (exact)" if cov.basis == "money" else "entries", reach, ">=", need)

    for lim in problem.place_limits:
        used = sum(float(levels[i]) * k for i, k in zip(lim.instruments, lim.per_entry))
        row(lim.id, "places", lim.id.split(":", 1)[1], "places", used, "<=", lim.max_places)

    for rule in problem.limits:
        # capacity (places or entries), a stated decision (entries or exact euros), customer stock (entries)
        lhs = sum(float(levels[i]) * c for i, c in rule.terms)
        unit = "€ (exact)" if rule.unit == "€" else rule.unit
        row(rule.id, rule.kind, rule.id.split(":", 1)[1].split(":")[0], unit, lhs, rule.sense, rule.rhs)

    return pd.DataFrame(rows, columns=COLUMNS)

