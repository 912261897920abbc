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
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..solving.lp import whole_bounds
from ..solving.solve import Solution

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
    (``limit``, in words ``what``), the value of one more and one fewer entry net of its money, and a
    sentence."""
    problem = solution.problem
    inst = problem.instruments
    levels = solution.plan.levels.reindex(inst.index).astype(float)
    members = solution.level_rows
    checks = solution.checks.set_index("name")
    binding = set(checks.index[checks["binding"] & checks["ok"]])
    duals = solution.duals.to_dict() if solution.duals is not None else None
    reduced = solution.reduced_costs.to_dict() if solution.reduced_costs is not None else {}
    # plain dicts per row: a pandas look-up per cell would make this the slowest part of a report
    by_id = inst[list(_COLUMNS)].to_dict("index")
    x_of = levels.to_dict()
    rows = []
    for iid in inst.index[~inst["fixed"]]:
        rec = by_id[iid]
        x = float(x_of[iid])
        lo, hi = _bounds(rec, solution.integer)
        near = max(1e-3, 1e-7 * abs(x))  # a solver's tolerance on the optimum leaves levels this close
        at = "lower" if x <= lo + near else "upper" if x >= hi - near else ""
        weight = float(rec["weight"])
        last, following, kink = problem.rates_around(iid, x, near)
        last, following = last * weight, following * weight
        price = _money_price(duals, members[iid]) if duals is not None else math.nan
        up, down = following - price, last - price
        if duals is not None:
            set_by, limit = _from_duals(rec, iid, at, up, down, kink, members[iid], duals,
                                        float(reduced.get(iid, 0.0)))
        else:
            set_by, limit = _from_binding(rec, iid, at, kink, members[iid], binding)
        what = _label(solution, rec, limit)
        unit = str(rec["unit"])
        rows.append({"id": iid, "instrument": rec["name"], "level": x, "official": float(rec["official"]),
                     "set_by": set_by, "limit": limit, "what": what, "next_entry": up, "last_entry": down,
                     "meaning": _words(iid, x, set_by, what, up, down, unit), "unit": unit})
    cols = ["id", "instrument", "level", "official", "set_by", "limit", "what", "next_entry", "last_entry", "meaning",
            "unit"]
    return pd.DataFrame(rows, columns=cols).set_index("id")


_COLUMNS = ("name", "official", "unit", "weight", "lower", "upper", "lot", "lower_source", "upper_source",
            "lower_note", "upper_note")
"""The columns of the instruments table the reasons read."""


def _bounds(rec: Mapping[str, Any], integer: bool) -> tuple[float, float]:
    """A row's bounds as the LP had them (in whole-entry mode rounded inward to whole entries or lots)."""
    lo, hi = float(rec["lower"]), float(rec["upper"])
    if integer and rec["unit"] == "entries" and lo < hi:
        return whole_bounds(lo, hi, int(rec["lot"]))
    return lo, hi


def counts(reasons: pd.DataFrame) -> pd.Series:
    """How many rows each category sets, in the order of :data:`CATEGORIES`."""
    return reasons["set_by"].value_counts().reindex(CATEGORIES, fill_value=0)


def _money_price(duals: Mapping[str, float], rows: list[tuple[str, str, float]]) -> float:
    """Integrations the money of one entry could buy elsewhere: Σ shadow price × cost over the money rows."""
    return sum(float(duals.get(name, 0.0)) * coef for name, kind, coef in rows if kind in _MONEY)


def _from_duals(rec: Mapping[str, Any], iid: str, at: str, up: float, down: float, kink: bool,
                rows: list[tuple[str, str, float]], duals: Mapping[str, float], bound_rc: float) -> tuple[str, str]:
    """The category and limit from the duals (see the module docstring).

    A row at its own bound whose reduced cost points outward (it would gain from moving past it) is set by
    that bound. Else, counting every limit's shadow price, a row that would still gain from moving is held
    by the shared limit that holds it most. A row at a kink of its response is set by its diminishing
    returns unless, on money alone, it would move and a shared limit holds it; a row inside a segment is
    held by such a limit, or else it takes what the budget leaves."""
    if (at == "upper" and bound_rc > TOLERANCE) or (at == "lower" and bound_rc < -TOLERANCE):
        return _bound(rec, iid, at)
    others = sum(float(duals.get(name, 0.0)) * coef for name, kind, coef in rows if kind not in _MONEY)
    for worth, direction in ((up - others, +1.0), (others - down, -1.0), (up, +1.0), (-down, -1.0)):
        if worth > TOLERANCE:
            held = _holding(rows, duals, direction)
            if held is not None:
                return held
    if kink and up < down - TOLERANCE:
        return "diminishing returns", "its response"
    if at:
        return _bound(rec, iid, at)
    return "budget", _money_row(rows)


def _holding(rows: list[tuple[str, str, float]], duals: Mapping[str, float], direction: float) -> tuple[str, str] | None:
    """The shared limit whose shadow price holds the row most in ``direction`` (+1: from growing)."""
    holds = []
    for name, kind, coef in rows:
        if kind in _MONEY:
            continue
        hold = direction * float(duals.get(name, 0.0)) * coef  # one entry more moves the row's side by coef
        if hold > TOLERANCE:
            holds.append((hold, -_PRECEDENCE.index(kind) if kind in _PRECEDENCE else -99, name, kind))
    if not holds:
        return None
    _, _, name, kind = max(holds)
    return _KIND.get(kind, kind), name


def _bound(rec: Mapping[str, Any], iid: str, at: str) -> tuple[str, str]:
    source = rec[f"{at}_source"]
    return _BOUND.get(source, "policy"), f"entries_{'min' if at == 'lower' else 'max'}:{iid}"


def _from_binding(rec: Mapping[str, Any], iid: str, at: str, kink: bool, rows: list[tuple[str, str, float]],
                  binding: set[str]) -> tuple[str, str]:
    """Without duals (whole entries): the row's own bound, else a binding limit it is in, else its kink,
    else the money."""
    if at:
        return _bound(rec, iid, at)
    for kind in _PRECEDENCE:
        for name, k, _ in rows:
            if k == kind and name in binding:
                return _KIND[k], name
    if kink:
        return "diminishing returns", "its response"
    return "budget", _money_row(rows)


def _money_row(rows: list[tuple[str, str, float]]) -> str:
    """The money row a row's cost sits in (a split's own row where pools share it)."""
    for name, kind, _ in rows:
        if kind in ("budget", "pool", "split"):
            return name
    return "budget:new_business"


def _label(solution: Solution, rec: Mapping[str, Any], limit: str) -> str:
    """The limit in words: a row's label, or where a bound comes from."""
    if limit.startswith(("entries_min:", "entries_max:")):
        side = "lower" if limit.startswith("entries_min") else "upper"
        return f"{rec[side + '_note']}"
    if limit == "its response":
        return "its own diminishing returns"
    info = solution.rows.get(limit)
    return info.label if info is not None else limit


def _words(iid: str, x: float, set_by: str, what: str, up: float, down: float, unit: str = "entries") -> str:
    """The reason in a sentence; a line planned in euros is spoken of per 1,000 € (``up``, ``down`` per euro)."""
    euros = unit == "euros"
    level = f"{x:,.2f} €" if euros else f"{x:,.1f} entries"
    step, step_less = ("1,000 €", "its last 1,000 €") if euros else ("entry", "its last entry")
    if set_by == "diminishing returns":
        return (f"{iid} ({level}) sits where its returns fall: {step_less} is worth more than its money could buy "
                f"elsewhere, its next {step} less")
    if set_by == "budget":
        return f"{iid} ({level}) takes what is left of the money ({what})"
    if set_by == "fallback box":
        return (f"{iid} ({level}) is held by the {what}: nothing real limits it first, so this level "
                f"is not a finding")
    if math.isnan(up) or (up <= TOLERANCE and down >= -TOLERANCE):
        return f"{iid} ({level}) is held by {what}"
    worth, direction = (up, "more") if up > TOLERANCE else (-down, "fewer" if not euros else "less")
    return (f"{iid} ({level}) is held by {what}; each {step} {direction} would be worth "
            f"{worth * (1000 if euros else 1):.3f} integrations more than its money buys elsewhere")
