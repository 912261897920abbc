"""Why a scenario is infeasible, and the smallest changes that make it feasible.

``diagnose(problem)`` answers two questions when no plan satisfies every requirement:

- *Which requirements collide?* An irreducible infeasible subset (IIS) from HiGHS: a set of rows and
  bounds that cannot hold together, and that holds again if any one of them is dropped.
- *What is the smallest change?* For each family of requirements on its own — money (the budget and the
  pools), the minimums of the instruments, the maxima, coverage, the legal caps, places — an elastic LP
  gives each requirement of the family a slack and finds the least relaxation that makes the problem
  feasible: euros of budget, entries of a minimum (the fewest integrations lost), points of a coverage
  share, entries or euros of a stated decision, places of a contract, customers of a group's stock. The fixes are ranked by their relative size (the change as a share of what it changes); a
  family that cannot restore feasibility alone is listed as such, and if none can, the families are
  relaxed together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import highspy
import pandas as pd
import pulp

from .lp import LinearProgram, build_lp
from ..model.problem import Problem
from .solve import _run

IIS_FROM_LP_IRREDUCIBLE = 6  # HiGHS iis_strategy bits: from the LP (2) | irreducible (4)

# family: the constraint kinds made elastic together
FAMILIES: dict[str, tuple[str, ...]] = {
    "money": ("budget", "pool"),
    "minimums": ("entries_min",),
    "coverage": ("coverage",),
    "maxima": ("entries_max",),
    "caps": ("cap",),
    "places": ("places", "capacity"),
    "stated decisions": ("policy",),
    "customer stock": ("stock",),
}


@dataclass(frozen=True)
class Diagnosis:
    """``conflict``: the colliding requirements (an IIS); ``fixes``: one row per change of a fix, with the
    family, its rank, the constraint, the change in its unit and the fix's relative size; ``alone``: per
    family whether it can restore feasibility on its own."""

    name: str
    conflict: pd.DataFrame
    fixes: pd.DataFrame
    alone: pd.Series
    integer_only: bool = False
    feasible: bool = False


def diagnose(problem: Problem, integer: bool = False) -> Diagnosis:
    """Why ``problem`` has no plan (``integer``: no plan in whole entries): the conflict and the fixes."""
    relaxed = build_lp(problem)
    status = _run(relaxed, "highs")
    if status == "Optimal":  # feasible after all, or only the whole-entries requirement fails
        return Diagnosis(problem.name, pd.DataFrame(), pd.DataFrame(), pd.Series(dtype=bool),
                         integer_only=integer, feasible=not integer)
    conflict = _conflict(problem, relaxed) if status == "Infeasible" else pd.DataFrame()
    fixes, alone = [], {}
    for family in FAMILIES:
        rows = _relax(problem, (family,))
        alone[family] = rows is not None
        if rows:
            fixes.append((family, rows))
    if not fixes:
        together = _relax(problem, tuple(FAMILIES))
        if together:
            fixes.append(("together", together))
    def relative(rows: list[dict]) -> float:
        return sum(r["size"] for r in rows) / sum(r["base"] for r in rows)

    fixes.sort(key=lambda f: relative(f[1]))
    records = []
    for rank, (family, rows) in enumerate(fixes, start=1):
        for r in sorted(rows, key=lambda r: -r["size"]):
            records.append({"rank": rank, "family": family, "fix_relative": relative(rows), **r})
    frame = pd.DataFrame(records, columns=["rank", "family", "fix_relative", "constraint", "kind", "label", "unit",
                                           "change", "change_value", "current", "size", "base"])
    return Diagnosis(problem.name, conflict, frame, pd.Series(alone))


def _conflict(problem: Problem, lp: LinearProgram) -> pd.DataFrame:
    """The IIS of ``lp``, just found infeasible by HiGHS."""
    h = lp.prob.solverModel
    h.setOptionValue("iis_strategy", IIS_FROM_LP_IRREDUCIBLE)
    status, iis = h.getIis()
    if status == highspy.HighsStatus.kError:
        return pd.DataFrame()  # no conflict set to show; the fixes below still explain the infeasibility
    names = {v.index: v.name for v in lp.prob.variables()}
    rows = {c.index: n for n, c in lp.constraint.items()}
    inst = problem.instruments
    records = []
    for r, b in zip(iis.row_index_, iis.row_bound_):
        name = rows.get(r, f"row {r}")
        info = lp.rows.get(name)
        if info is not None and info.kind == "split":
            continue  # accounting rows: who pays, not a requirement
        side = {2: "lower", 3: "upper"}.get(int(b), "both")
        records.append({"name": name, "kind": info.kind if info else "", "label": info.label if info else "",
                        "bound": side, "value": info.rhs if info else math.nan, "unit": info.unit if info else ""})
    for c, b in zip(iis.col_index_, iis.col_bound_):
        var = names.get(c, "")
        iid = var[2:] if var.startswith("x_") else var
        if int(b) not in (2, 3, 4):
            continue  # the bound is not part of the conflict
        side = {2: "lower", 3: "upper"}.get(int(b), "both")
        if iid in inst.index:
            value = inst.at[iid, "lower"] if side == "lower" else inst.at[iid, "upper"]
            contract = inst.at[iid, f"{side}_source"] in ("places", "posts")
            kind = ("contract_min" if contract else "entries_min") if side == "lower" else \
                ("capacity_max" if contract else "entries_max")
            label = inst.at[iid, f"{side}_note"]
            if inst.at[iid, "fixed"]:
                kind, label = "fixed", f"fixed entries of {inst.at[iid, 'name']} ({inst.at[iid, 'financing']})"
            unit = "€" if inst.at[iid, "unit"] == "euros" else "entries"
            records.append({"name": f"{kind}:{iid}", "kind": kind, "label": label, "bound": side, "value": value,
                            "unit": unit})
    return pd.DataFrame(records, columns=["name", "kind", "label", "bound", "value", "unit"])


def _relax(problem: Problem, families: tuple[str, ...]) -> list[dict] | None:
    """The least relaxation of the given families that makes the problem feasible (None: impossible)."""
    kinds = tuple(k for f in families for k in FAMILIES[f])
    lp = build_lp(problem, elastic=kinds)
    if not lp.slack:
        return None
    weights = _weights(problem, lp)
    lp.prob.sense = pulp.LpMinimize
    lp.prob.setObjective(pulp.LpAffineExpression([(s, weights[n]) for n, s in lp.slack.items()]))
    if _run(lp, "highs") != "Optimal":
        return None
    slack = {n: float(s.varValue or 0.0) for n, s in lp.slack.items()}
    needed = {n: v for n, v in slack.items() if v > 1e-6}
    if not needed:
        return None
    # second pass for the minimums: with the least change fixed, lose the fewest integrations
    if "minimums" in families:
        least = sum(weights[n] * v for n, v in slack.items())
        lp.prob.addConstraint(
            pulp.LpAffineExpression([(s, weights[n]) for n, s in lp.slack.items()]) <= least * (1 + 1e-9) + 1e-6,
            "diagnosis:least_change")
        lp.prob.sense = pulp.LpMaximize
        lp.prob.setObjective(lp.integrations)
        if _run(lp, "highs") == "Optimal":
            needed = {n: float(s.varValue or 0.0) for n, s in lp.slack.items() if (s.varValue or 0.0) > 1e-6}
    levels = {i: float(v.varValue or 0.0) for i, v in lp.level.items()}
    changes = [_describe(problem, lp, n, v, levels) for n, v in needed.items()]
    return changes or None


def _weights(problem: Problem, lp: LinearProgram) -> dict[str, float]:
    """Price of one unit of slack. Money, minimums and maxima are priced in euros (an entry at its cost
    per entry), so a minimums fix frees money where it is cheapest; coverage and places relative to the
    requirement."""
    inst = problem.instruments
    weights = {}
    for name in lp.slack:
        info = lp.rows[name]
        if name.startswith(("entries_min:", "entries_max:")):
            weights[name] = max(float(inst.at[info.ref, "unit_cost"]), 0.01)
        elif info.unit == "€":
            # the earliest pool first among equals (refugee tranche 1 before 2), so the fix is unique
            rank = float(problem.pools.at[info.ref, "rank"]) if info.ref in problem.pools.index else 0.0
            weights[name] = 1.0 + 1e-6 * rank
        else:
            weights[name] = 1.0 / max(abs(info.rhs), 1.0)
    return weights


def _describe(problem: Problem, lp: LinearProgram, name: str, value: float, levels: dict[str, float]) -> dict:
    """One change of a fix, in words and numbers. ``size`` and ``base`` measure it in the family's common
    unit (euros for money, minimums and maxima; entries or points for coverage) to rank the fixes."""
    info = lp.rows[name]
    inst = problem.instruments
    sign = -1.0 if info.sense == ">=" else 1.0
    out = {"constraint": name, "kind": info.kind, "label": info.label, "unit": info.unit,
           "change_value": sign * value, "current": info.rhs}
    if info.kind == "coverage":
        cov = next(c for c in problem.coverage if c.id == info.ref)
        if cov.min_share is not None:
            total = problem.group_reach(pd.Series(levels), cov.group, cov.basis)[1]
            points = value / total * 100 if total else math.nan
            return {**out, "unit": "points", "change_value": -points, "current": cov.min_share * 100,
                    "change": f"−{points:.2f} points of the required share ({cov.min_share:.1%} → "
                              f"{cov.min_share - points / 100:.2%})",
                    "size": points, "base": cov.min_share * 100}
        current = float(cov.min_count or 0.0)
        return {**out, "current": current, "size": value, "base": max(current, 1.0),
                "change": f"{-value:+,.1f} {info.unit} ({current:,.1f} → {current - value:,.1f})"}
    if name.startswith(("entries_min:", "entries_max:")):
        per = float(inst.at[info.ref, "unit_cost"])
        # relative to the row's planned money (a maximum of 0 is no base to measure a change against)
        base = max(abs(info.rhs), float(inst.at[info.ref, "official"]), 1.0) * max(per, 0.01)
        return {**out, "size": value * per, "base": base,
                "change": f"{sign * value:+,.1f} {info.unit} ({info.rhs:,.1f} → {info.rhs + sign * value:,.1f}; "
                          f"{value * per:,.2f} € at {per:,.2f} € each)"}
    if info.unit == "€":
        return {**out, "size": value, "base": max(abs(info.rhs), 1.0),
                "change": f"{sign * value:+,.2f} € ({info.rhs:,.2f} € → {info.rhs + sign * value:,.2f} €)"}
    return {**out, "size": value, "base": max(abs(info.rhs), 1.0),
            "change": f"{sign * value:+,.1f} {info.unit} ({info.rhs:,.1f} → {info.rhs + sign * value:,.1f})"}
