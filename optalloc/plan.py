"""A plan — levels per instrument and who pays — and its money to the cent.

A :class:`Plan` is what any source of plans produces (the optimiser, the official document, a user's
spreadsheet): the level of each instrument (entries; euros for a money-only line) and, where a cost
component may be paid from several pools, how much each pool pays. ``money_cents`` turns it into whole
cents per instrument and pool: each component is rounded half-up to the cent, and a split over pools is
rounded so that its parts add up to the component exactly (largest remainder, ties to the earlier pool).
Every printed total is a sum of these cents, so printed totals equal the sum of the printed rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .problem import Problem


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


def money_cents(problem: Problem, plan: Plan) -> pd.DataFrame:
    """Cents per (instrument, pool), long format: columns instrument, component, pool, cents."""
    rank = problem.pools["rank"]
    out = []
    for c in problem.costs.itertuples(index=False):
        total = to_cents(plan.level(c.instrument) * float(c.per_unit))
        if len(c.pools) == 1:
            out.append((c.instrument, c.component, c.pools[0], total))
            continue
        amounts = [max(plan.split.get((c.instrument, c.component, p), 0.0), 0.0) for p in c.pools]
        whole = sum(amounts)
        if whole <= 0:
            shares = [1.0 if k == 0 else 0.0 for k in range(len(c.pools))]
        else:
            shares = [a / whole for a in amounts]
        exact = [s * total for s in shares]
        floors = [int(math.floor(e)) for e in exact]
        left = total - sum(floors)
        order = sorted(range(len(c.pools)), key=lambda k: (-(exact[k] - floors[k]), rank[c.pools[k]]))
        for k in order[:left]:
            floors[k] += 1
        out.extend((c.instrument, c.component, p, cents) for p, cents in zip(c.pools, floors))
    return pd.DataFrame(out, columns=["instrument", "component", "pool", "cents"])


def instrument_cents(problem: Problem, cents: pd.DataFrame) -> pd.Series:
    """Whole cents of new money per instrument (all components and pools)."""
    by = cents.groupby("instrument")["cents"].sum()
    return by.reindex(problem.instruments.index, fill_value=0).astype("int64")


def pool_cents(problem: Problem, cents: pd.DataFrame) -> pd.Series:
    by = cents.groupby("pool")["cents"].sum()
    return by.reindex(problem.pools.index, fill_value=0).astype("int64")


def official_plan_levels(problem: Problem) -> pd.Series:
    return problem.instruments["official"].copy()
