"""A plan — levels per instrument and who pays — and its money to the cent.

A :class:`Plan` is what any source of plans produces (the optimiser, the official document, a user's
spreadsheet): the level of each instrument (entries; euros for a money-only line) and, where a cost
component may be paid from several pools, how much each pool pays. ``money_cents`` turns it into whole
cents per instrument, component and pool. Each pool's terms are rounded together (largest remainder):
their cents add up to the pool's exact total rounded half-up, each term is within a cent of its exact
value, and a figure that already is a whole number of cents (the official plan's) stays as it is. So a
plan whose exact money fits a pool also fits it in cents, and every printed total is the sum of its rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from ..model.problem import Problem


@dataclass(frozen=True)
class Plan:
    """``levels`` (index: instrument id); ``split`` maps (instrument, component, pool) to euros."""

    levels: pd.Series
    split: dict[tuple[str, int, str], float]

    def level(self, instrument: str) -> float:
        return float(self.levels[instrument])


def to_cents(euros: float) -> int:
    """Round half-up to whole cents (the 1e-6 guards against 0.145 stored as 0.14499999)."""
    return int(math.floor(euros * 100 + 0.5 + 1e-6))


def _exact_terms(problem: Problem, plan: Plan) -> list[tuple[str, int, str, float]]:
    """(instrument, component, pool, euros) of every money term of the plan, before rounding."""
    out = []
    for c in problem.costs.itertuples(index=False):
        cost = max(plan.level(c.instrument), 0.0) * float(c.per_unit)
        if len(c.pools) == 1:
            out.append((c.instrument, c.component, c.pools[0], cost))
            continue
        parts = [max(plan.split.get((c.instrument, c.component, p), 0.0), 0.0) for p in c.pools]
        whole = sum(parts)
        shares = [x / whole for x in parts] if whole > 0 else [1.0] + [0.0] * (len(parts) - 1)
        out.extend((c.instrument, c.component, p, cost * share) for p, share in zip(c.pools, shares))
    return out


def money_cents(problem: Problem, plan: Plan) -> pd.DataFrame:
    """Cents per (instrument, component, pool), long format: columns instrument, component, pool, cents."""
    order = problem.instruments["order"]
    terms = _exact_terms(problem, plan)
    cents = [0] * len(terms)
    by_pool: dict[str, list[int]] = {}
    for k, t in enumerate(terms):
        by_pool.setdefault(t[2], []).append(k)
    for members in by_pool.values():
        exact = [terms[k][3] * 100 for k in members]
        target = to_cents(sum(terms[k][3] for k in members))
        floors = [int(math.floor(e + 1e-6)) for e in exact]
        left = target - sum(floors)
        rank = sorted(range(len(members)), key=lambda j: (-(exact[j] - floors[j]), order[terms[members[j]][0]]))
        for j in rank[: max(left, 0)]:
            floors[j] += 1
        for j, k in enumerate(members):
            cents[k] = floors[j]
    return pd.DataFrame([(t[0], t[1], t[2], c) for t, c in zip(terms, cents)],
                        columns=["instrument", "component", "pool", "cents"])


def instrument_cents(problem: Problem, cents: pd.DataFrame) -> pd.Series:
    """Whole cents of new money per instrument (all components and pools)."""
    by = cents.groupby("instrument")["cents"].sum()
    return by.reindex(problem.instruments.index, fill_value=0).astype("int64")


def pool_cents(problem: Problem, cents: pd.DataFrame) -> pd.Series:
    by = cents.groupby("pool")["cents"].sum()
    return by.reindex(problem.pools.index, fill_value=0).astype("int64")

