"""Why each level: what set each instrument's level in a plan — a real limit, its own diminishing returns,
the money, or only the fallback box.

``level_reasons(solution)`` returns one row per instrument the optimiser may change, with ``set_by`` one
of :data:`CATEGORIES` and the constraint that holds it. For an optimal continuous plan the answer comes
from the duals: the value of one more (or one fewer) entry is its marginal rate less the shadow price of
the money it costs. A row whose next entry is worth more than its money is held by an upper limit, one
whose last entry is worth less by a lower limit; the limit is the binding constraint (or bound) whose
shadow price holds it most. A row whose next entry is worth less and whose last entry is worth more sits
at a kink of its response: its own diminishing returns. A row inside a segment of its response is the
marginal use of the money: the budget (or its pool) sets it. Without duals (whole entries, or a plan
that is not an optimum) the binding rows and bounds decide, in the same order of precedence.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd

from .solve import Solution

CATEGORIES = ("places", "customer stock", "policy", "target groups", "diminishing returns", "budget",
              "fallback box", "scenario")
"""What can set a level, in the order the reports count them."""

_KIND = {"capacity": "places", "places": "places", "stock": "customer stock", "policy": "policy", "cap": "policy",
         "coverage": "target groups"}
_BOUND = {"box": "fallback box", "document": "policy", "scenario": "scenario", "places": "places",
          "posts": "places"}
_PRECEDENCE = ("capacity", "places", "policy", "cap", "stock", "coverage")
_MONEY = ("budget", "pool", "split")
TOLERANCE = 1e-7  # integrations per entry: below this a value counts as zero


def level_reasons(solution: Solution) -> pd.DataFrame:
    """Per instrument the optimiser may change: its level, what set it (``set_by``), the constraint or bound
    (``limit``), the value of one more and one fewer entry net of its money, and a sentence."""
    problem = solution.problem
    inst = problem.instruments
    levels = solution.plan.levels.reindex(inst.index).astype(float)
    members = _membership(solution)
    checks = solution.checks.set_index("name")
    binding = set(checks.index[checks["binding"] & checks["ok"]])
    duals = solution.duals
    rows = []
    for iid in inst.index[~inst["fixed"]]:
        x = float(levels[iid])
        lo, hi = float(inst.at[iid, "lower"]), float(inst.at[iid, "upper"])
        tol = 1e-6 * max(1.0, abs(x))
        at = "lower" if x <= lo + tol else "upper" if x >= hi - tol else ""
        last, following = _marginals(problem, iid, x)
        price = _money_price(duals, members[iid]) if duals is not None else math.nan
        up, down = following - price, last - price
        if duals is not None:
            set_by, limit = _from_duals(solution, iid, at, up, down, members[iid], duals)
        else:
            set_by, limit = _from_binding(problem, iid, at, members[iid], binding, last, following)
        what = _label(solution, iid, limit)
        rows.append({"id": iid, "instrument": inst.at[iid, "name"], "level": x, "official": float(inst.at[iid, "official"]),
                     "set_by": set_by, "limit": limit, "what": what, "next_entry": up, "last_entry": down,
                     "meaning": _words(iid, x, set_by, what, up, down)})
    cols = ["id", "instrument", "level", "official", "set_by", "limit", "what", "next_entry", "last_entry", "meaning"]
    return pd.DataFrame(rows, columns=cols).set_index("id")


def counts(reasons: pd.DataFrame) -> pd.Series:
    """How many rows each category sets, in the order of :data:`CATEGORIES`."""
    return reasons["set_by"].value_counts().reindex(CATEGORIES, fill_value=0)


def _membership(solution: Solution) -> dict[str, list[tuple[str, str, float]]]:
    """Per instrument: (constraint, kind, coefficient) of every named row its level appears in."""
    problem = solution.problem
    out: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    for c in problem.costs.itertuples(index=False):
        if len(c.pools) == 1:
            name = problem.pool_row(c.pools[0])
            out[c.instrument].append((name, "budget" if name.startswith("budget") else "pool", float(c.per_unit)))
        else:
            out[c.instrument].append((f"split:{c.instrument}:{c.component}", "split", -float(c.per_unit)))
    inst = problem.instruments
    for cap in problem.caps:
        for i in cap.instruments:
            out[i].append((f"cap:{cap.id}", "cap", float(inst.at[i, "unit_cost"])))
    entries = inst["unit"] == "entries"
    for cov in problem.coverage:
        weight = inst["unit_cost"] if cov.basis == "money" else pd.Series(1.0, index=inst.index)
        share = problem.groups[cov.group]
        for i in inst.index[entries]:
            s = float(share[i])
            coef = float(weight[i]) * ((s - cov.min_share) if cov.min_share is not None else s)
            if coef:
                out[i].append((f"coverage:{cov.id}", "coverage", coef))
    for lim in problem.place_limits:
        for i, k in zip(lim.instruments, lim.per_entry):
            out[i].append((lim.id, "places", float(k)))
    for rule in problem.limits:
        for i, c in rule.terms:
            out[i].append((rule.id, rule.kind, float(c)))
    return out


def _marginals(problem, iid: str, x: float) -> tuple[float, float]:
    """The (weighted) rate of the last entry below ``x`` and of the next entry above it."""
    seg = problem.response[problem.response["instrument"] == iid]
    if seg.empty:
        return 0.0, 0.0
    weight = float(problem.instruments.at[iid, "weight"])
    start, end, rate = seg["start"].to_numpy(), seg["end"].to_numpy(), seg["rate"].to_numpy()
    tol = 1e-9 * max(1.0, abs(x))
    below = np.nonzero(start < x - tol)[0]
    above = np.nonzero(end > x + tol)[0]
    last = rate[below[-1]] if len(below) else rate[0]
    following = rate[above[0]] if len(above) else rate[-1]
    return float(last) * weight, float(following) * weight


def _money_price(duals: pd.Series, rows: list[tuple[str, str, float]]) -> float:
    """Integrations the money of one entry could buy elsewhere: Σ shadow price × cost over the money rows."""
    return sum(float(duals.get(name, 0.0)) * coef for name, kind, coef in rows if kind in _MONEY)


def _from_duals(solution: Solution, iid: str, at: str, up: float, down: float,
                rows: list[tuple[str, str, float]], duals: pd.Series) -> tuple[str, str]:
    """The category and limit from the duals (see the module docstring)."""
    inst = solution.problem.instruments
    if up > TOLERANCE:
        direction = +1.0  # worth growing: held by an upper limit
    elif down < -TOLERANCE:
        direction = -1.0  # worth shrinking: held by a lower limit
    elif up < down - TOLERANCE:
        return "diminishing returns", "its response"
    else:
        return "budget", _money_row(rows)
    holds: list[tuple[float, int, str, str]] = []
    for name, kind, coef in rows:
        if kind in _MONEY:
            continue
        # one entry more moves the row's left side by coef; its value is −dual × coef
        hold = direction * float(duals.get(name, 0.0)) * coef
        if hold > TOLERANCE:
            holds.append((hold, -_PRECEDENCE.index(kind) if kind in _PRECEDENCE else -99, name, kind))
    rc = solution.reduced_costs
    bound_rc = float(rc[iid]) if rc is not None else 0.0
    side = "upper" if direction > 0 else "lower"
    if at == side and direction * bound_rc > TOLERANCE:
        source = inst.at[iid, f"{side}_source"]
        holds.append((direction * bound_rc, -98, f"entries_{'max' if side == 'upper' else 'min'}:{iid}", source))
    if not holds:
        return _from_binding(solution.problem, iid, at, rows, set(), 0.0, 0.0)
    _, _, name, kind = max(holds)
    return (_BOUND.get(kind) or _KIND.get(kind, kind)), name


def _from_binding(problem, iid: str, at: str, rows: list[tuple[str, str, float]], binding: set[str],
                  last: float, following: float) -> tuple[str, str]:
    """Without duals: the row's own bound, else a binding limit it is in, else its kink, else the money."""
    inst = problem.instruments
    if at:
        return _BOUND.get(inst.at[iid, f"{at}_source"], "policy"), f"entries_{'min' if at == 'lower' else 'max'}:{iid}"
    for kind in _PRECEDENCE:
        for name, k, _ in rows:
            if k == kind and name in binding:
                return _KIND[k], name
    if following < last - TOLERANCE:
        return "diminishing returns", "its response"
    return "budget", _money_row(rows)


def _money_row(rows: list[tuple[str, str, float]]) -> str:
    """The money row a row's cost sits in (a split's own row where pools share it)."""
    for name, kind, _ in rows:
        if kind in ("budget", "pool", "split"):
            return name
    return "budget:new_business"


def _label(solution: Solution, iid: str, limit: str) -> str:
    """The limit in words: a row's label, or where a bound comes from."""
    inst = solution.problem.instruments
    if limit.startswith(("entries_min:", "entries_max:")):
        side = "lower" if limit.startswith("entries_min") else "upper"
        return f"{inst.at[iid, side + '_note']}"
    if limit == "its response":
        return "its own diminishing returns"
    info = solution.rows.get(limit)
    return info.label if info is not None else limit


def _words(iid: str, x: float, set_by: str, what: str, up: float, down: float) -> str:
    if set_by == "diminishing returns":
        return (f"{iid} ({x:,.1f} entries) sits where its returns fall: its last entry is worth more than its "
                f"money could buy elsewhere, its next entry less")
    if set_by == "budget":
        return f"{iid} ({x:,.1f} entries) takes what is left of the money ({what})"
    if set_by == "fallback box":
        return (f"{iid} ({x:,.1f} entries) is held by the {what}: nothing real limits it first, so this level "
                f"is not a finding")
    if math.isnan(up) or (up <= TOLERANCE and down >= -TOLERANCE):
        return f"{iid} ({x:,.1f} entries) is held by {what}"
    worth, direction = (up, "more") if up > TOLERANCE else (-down, "fewer")
    return (f"{iid} ({x:,.1f} entries) is held by {what}; each entry {direction} would be worth {worth:.3f} "
            f"integrations more than its money buys elsewhere")
