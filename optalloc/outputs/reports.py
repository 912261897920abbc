"""Reports in the official shape: tables (pandas) of a plan beside the official plan.

Everything here reads solutions and returns DataFrames; nothing solves or prints.

- :func:`instrument_table` — every printed row: entries, places, money and expected integrations,
  official beside plan. A row whose printed entries include other rows (FbW) shows the printed total;
  a row whose money sits in another row's budget (AGH-MAE U25) shows its money there.
- :func:`area_table` — the priority areas (chapter 5.5 tables, Anhang I), summed as the document sums.
- :func:`kennzahlen_table` — entries by legal purpose I–VII with the grand total.
- :func:`budget_table` — per pool: available, used by each plan, left over.
- :func:`constraint_table` — every rule with its slack, whether it binds, and its shadow price.
- :func:`bound_table` — instruments at a bound with their reduced cost.
- :func:`summary` — the headline figures.
- ``levels`` — what set each level (:func:`optalloc.analyses.reasons.level_reasons`).
- :func:`compare` — all of them at once, as a :class:`Comparison`.
Money columns are euros computed from whole cents, so every total is the exact sum of its rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from ..solving.plan import instrument_cents, money_cents, pool_cents
from ..model.problem import MONEY_LINE
from ..analyses.reasons import level_reasons
from ..model.reconcile import kennzahl_counts
from ..model.schema import Model
from ..solving.solve import Solution


def _cents(solution: Solution) -> pd.Series:
    return instrument_cents(solution.problem, money_cents(solution.problem, solution.plan))


def _members(owner: pd.Series) -> dict[str, list[str]]:
    """The ids (the index) under each value of ``owner``, in table order; missing values left out.

    One pass over the rows: ``groupby(...).groups`` takes from the whole index once per group, quadratic when
    (as here) nearly every row is its own group."""
    out: dict[str, list[str]] = {}
    for iid, key in zip(owner.index.tolist(), owner.tolist()):
        if not pd.isna(key):
            out.setdefault(key, []).append(iid)
    return out


def _row_figures(solution: Solution, money: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per printed row of the model: entries, places, money (cents) and integrations of a solution
    (``money``: its :func:`money_cents`, if already worked out)."""
    problem = solution.problem
    inst = problem.instruments
    levels = solution.plan.levels.reindex(inst.index).astype(float).to_dict()
    cents = (_cents(solution) if money is None else instrument_cents(problem, money)).to_dict()
    value = problem.integrations(solution.plan.levels.reindex(inst.index)).to_dict()
    # who prints whose figures, grouped once (a row per lookup would make this quadratic in the rows)
    printed_in = _members(inst["printed_row"])
    paid_by = _members(inst["money_row"])
    unit, ppe, financing = inst["unit"].to_dict(), inst["places_per_entry"].to_dict(), inst["financing"].to_dict()
    out = []
    for r in problem.spec.model.instruments:
        if r.id not in unit:  # information row
            out.append((r.id, math.nan, math.nan, math.nan, math.nan, r.financing))
            continue
        # a row counted inside another shows its own figures; a parent shows its printed total
        members = [r.id] if r.entries_in else printed_in.get(r.id, [])
        payers = paid_by.get(r.id, [])
        if unit[r.id] == "euros":
            entries = places = math.nan
        else:
            entries = levels[r.id] + sum(levels[m] for m in members if m != r.id)
            places = entries * ppe[r.id] if not math.isnan(ppe[r.id]) else math.nan
        money = float(sum(cents[p] for p in payers)) if payers else math.nan
        integrations = float(sum(value[m] for m in members)) if members else 0.0
        out.append((r.id, entries, places, money, integrations, financing[r.id]))
    return pd.DataFrame(out, columns=["id", "entries", "places", "cents", "integrations", "financing"]).set_index("id")


def _figures(solution: Solution | None) -> pd.DataFrame | None:
    return _row_figures(solution) if solution is not None else None


def instrument_table(solution: Solution, baseline: Solution | None = None) -> pd.DataFrame:
    """Every printed row: official (baseline) beside the plan, with differences. A parent row's entries and
    integrations include the rows ``counted_in`` it, as the document prints them: sum over the rows whose
    ``counted_in`` is empty."""
    return _instrument_table(solution.problem.spec.model, _row_figures(solution), _figures(baseline))


def _columns(fig: pd.DataFrame | None) -> dict[str, dict[str, Any]] | None:
    """A figures table as dicts per column (a dict look-up per cell, not a pandas one)."""
    return None if fig is None else {c: fig[c].to_dict() for c in fig.columns}


def _instrument_table(model: Model, plan_figures: pd.DataFrame, base_figures: pd.DataFrame | None) -> pd.DataFrame:
    plan, base = _columns(plan_figures), _columns(base_figures)
    rows = []
    for r in model.instruments:
        rec = {
            "area": r.area,
            "id": r.id,
            "instrument": r.name,
            "financing": r.financing,
            # a row whose entries the document counts in another row's: leave it out when summing entries
            # and integrations (its money, if it has its own, is not in the other row's)
            "counted_in": r.entries_in or "",
            "note": _row_note(r, plan["financing"][r.id] == MONEY_LINE if "financing" in plan else False),
        }
        for prefix, fig in (("official", base), ("plan", plan)):
            if fig is None:
                continue
            rec[f"entries_{prefix}"] = fig["entries"][r.id]
            rec[f"places_{prefix}"] = fig["places"][r.id]
            rec[f"money_{prefix}"] = fig["cents"][r.id] / 100
            rec[f"integrations_{prefix}"] = fig["integrations"][r.id]
        if base is not None:
            rec["entries_delta"] = rec["entries_plan"] - rec["entries_official"]
            rec["money_delta"] = (plan["cents"][r.id] - base["cents"][r.id]) / 100
            rec["integrations_delta"] = rec["integrations_plan"] - rec["integrations_official"]
        rows.append(rec)
    return pd.DataFrame(rows).set_index("id")


def _row_note(r, money_line: bool = False) -> str:
    if r.financing == "info":
        return "information only: " + (r.cells.get("entries") or r.cells.get("money") or r.note or "")[:60]
    if r.financing == "shared":
        return f"money in {r.money_in}"
    if r.entries_in:
        return f"entries counted in {r.entries_in}"
    return {
        "prepaid": "prepaid (" + r.cells.get("money", "earlier years") + ")",
        "partly_prepaid": "partly prepaid; fixed",
        "money_only": _money_line_note(r, money_line),
        "external": f"paid by others: {r.paid_by}",
        "programme": f"paid from {', '.join(r.pools or [])}",
    }.get(r.financing, "")


def _money_line_note(r, money_line: bool) -> str:
    """How a money-only line is planned, in words (``money_line``: the plan may change it)."""
    if not money_line:
        return "money line, no entries"
    if r.unit_cost is not None:
        return f"money line: entries at {r.unit_cost:,.2f} € each"
    return "money line, valued per 1,000 €"


def _area_sums(model: Model, fig: pd.DataFrame) -> pd.DataFrame:
    """Entries and cents per area, in one pass over the rows (each area's rows added in the model's order)."""
    row_entries, row_cents = fig["entries"].to_dict(), fig["cents"].to_dict()
    entries = {a.id: 0.0 for a in model.areas}
    cents = {a.id: 0.0 for a in model.areas}
    for r in model.instruments:
        if r.area not in entries or r.id not in row_entries:
            continue
        if "entries" not in r.parenthesised and not math.isnan(row_entries[r.id]):
            entries[r.area] += row_entries[r.id]
        if "money" not in r.parenthesised and r.financing != "shared" and not math.isnan(row_cents[r.id]):
            cents[r.area] += row_cents[r.id]
    sums = [(a.id, a.chapter, a.gloss or a.name, a.printed.entries, a.printed.money, entries[a.id], cents[a.id])
            for a in model.areas]
    return pd.DataFrame(sums, columns=["id", "chapter", "area", "entries_printed", "money_printed", "entries", "cents"]).set_index("id")


def area_table(solution: Solution, baseline: Solution | None = None) -> pd.DataFrame:
    """Priority areas summed as the document sums them (parenthesised rows left out)."""
    return _area_table(solution.problem.spec.model, _row_figures(solution), _figures(baseline))


def _area_table(model: Model, plan_figures: pd.DataFrame, base_figures: pd.DataFrame | None) -> pd.DataFrame:
    plan = _area_sums(model, plan_figures)
    out = plan[["chapter", "area", "entries_printed", "money_printed"]].copy()
    if base_figures is not None:
        base = _area_sums(model, base_figures)
        out["entries_official"] = base["entries"]
        out["money_official"] = base["cents"] / 100
    out["entries_plan"] = plan["entries"]
    out["money_plan"] = plan["cents"] / 100
    if base_figures is not None:
        out["entries_delta"] = out["entries_plan"] - out["entries_official"]
        out["money_delta"] = (plan["cents"] - base["cents"]) / 100
    return out


def _kennzahl_lines(model: Model, fig: pd.DataFrame) -> dict[str, float]:
    """Entries per Kennzahlen line of a plan; a row split by 'davon' parts keeps the parts' printed shares."""
    return kennzahl_counts(model, fig["entries"].dropna().to_dict())


def kennzahlen_table(solution: Solution, baseline: Solution | None = None) -> pd.DataFrame:
    """Chapter 3: entries by purpose (Zweckbestimmung I–VII) and line, with the grand total."""
    return _kennzahlen_table(solution.problem.spec.model, _row_figures(solution), _figures(baseline))


def _kennzahlen_table(model: Model, plan_figures: pd.DataFrame, base_figures: pd.DataFrame | None) -> pd.DataFrame:
    k = model.kennzahlen
    if k is None:
        return pd.DataFrame()
    plan = _kennzahl_lines(model, plan_figures)
    base = _kennzahl_lines(model, base_figures) if base_figures is not None else None
    rows = []
    totals = {"printed": 0.0, "official": 0.0, "plan": 0.0}
    for p in k.purposes:
        sums = {"official": 0.0, "plan": 0.0}
        lines = []
        for ln in p.lines:
            rec = {"purpose": p.id, "line": ln.id, "name": ("  " + ln.name) if not ln.parenthesised else f"  ({ln.name})",
                   "printed": ln.printed}
            if base is not None:
                rec["official"] = base.get(ln.id, 0.0)
            rec["plan"] = plan.get(ln.id, 0.0)
            if not ln.parenthesised:
                sums["plan"] += rec["plan"]
                if base is not None:
                    sums["official"] += rec["official"]
            lines.append(rec)
        head = {"purpose": p.id, "line": p.id, "name": f"{p.id}. {p.name}", "printed": p.printed, "plan": sums["plan"]}
        if base is not None:
            head["official"] = sums["official"]
        rows.append(head)
        rows.extend(lines)
        totals["printed"] += p.printed
        totals["plan"] += sums["plan"]
        totals["official"] += sums["official"]
    total = {"purpose": "", "line": "total", "name": "SUMME GESAMT", "printed": k.printed_total, "plan": totals["plan"]}
    if base is not None:
        total["official"] = totals["official"]
    rows.append(total)
    out = pd.DataFrame(rows).set_index("line")
    cols = ["purpose", "name", "printed"] + (["official"] if base is not None else []) + ["plan"]
    out = out[cols]
    if base is not None:
        out["delta"] = out["plan"] - out["official"]
    return out


def budget_table(solution: Solution, baseline: Solution | None = None) -> pd.DataFrame:
    """Per pool: what it makes available, what each plan uses, what is left (the reserve)."""
    return _budget_table(solution, baseline, _money(solution), _money(baseline) if baseline is not None else None)


def _money(solution: Solution) -> pd.DataFrame:
    """A solution's cents per instrument, component and pool (:func:`money_cents`)."""
    return money_cents(solution.problem, solution.plan)


def _budget_table(solution: Solution, baseline: Solution | None, plan_money: pd.DataFrame,
                  base_money: pd.DataFrame | None) -> pd.DataFrame:
    problem = solution.problem
    plan_used = pool_cents(problem, plan_money)
    out = pd.DataFrame({
        "pool": problem.pools["name"],
        "available": problem.pools["available"].map(lambda v: math.floor(v * 100 + 1e-6) / 100),
    })
    if baseline is not None:
        base_used = pool_cents(problem, base_money)
        out["used_official"] = base_used / 100
        out["left_official"] = (np.round(out["available"] * 100) - base_used) / 100
    out["used_plan"] = plan_used / 100
    out["left_plan"] = (np.round(out["available"] * 100) - plan_used) / 100
    return out


def constraint_table(solution: Solution) -> pd.DataFrame:
    """Every rule the plan must keep: its sides, slack, whether it binds, and its shadow price.

    ``shadow_price`` is d(integrations)/d(right-hand side) in the row's own unit (per € for money rows,
    per entry or place otherwise); ``per_1000_eur`` restates money rows per 1,000 €.
    """
    checks = solution.checks.set_index("name")
    checks = checks[checks["kind"] != "bound"].copy()
    labels = {name: info.label for name, info in solution.rows.items()}
    checks.insert(0, "label", [labels.get(n, "") for n in checks.index])
    checks["status"] = np.where(~checks["ok"], "broken", np.where(checks["binding"], "binding", "slack"))
    if solution.duals is not None:
        checks["shadow_price"] = solution.duals.reindex(checks.index)
        money = checks["unit"].str.startswith("€")
        checks["per_1000_eur"] = np.where(money, checks["shadow_price"] * 1000, np.nan)
    return checks.drop(columns=["ok", "binding"])


def bound_table(solution: Solution) -> pd.DataFrame:
    """Instruments the plan holds at a bound, with the reduced cost (integrations per extra entry)."""
    inst = solution.problem.instruments
    levels = solution.plan.levels.to_dict()
    reduced = solution.reduced_costs.to_dict() if solution.reduced_costs is not None else None
    columns = ("name", "fixed", "lower", "upper", "rate", "unit_cost", "unit")
    rows = []
    for iid, name, fixed, lower, upper, rate, unit_cost, unit in zip(inst.index, *(inst[c].tolist() for c in columns)):
        if fixed:
            continue
        x = float(levels[iid])
        at = "min" if abs(x - lower) <= 1e-6 else "max" if abs(x - upper) <= 1e-6 else ""
        if not at:
            continue
        rc = float(reduced[iid]) if reduced is not None else math.nan
        rows.append({
            "id": iid, "instrument": name, "at": at, "level": x, "bound": lower if at == "min" else upper,
            "rate": rate, "unit_cost": unit_cost, "reduced_cost": rc,
            "per_1000_eur": rc / unit_cost * 1000 if unit_cost > 0 else math.nan, "unit": unit,
        })
    return pd.DataFrame(rows, columns=["id", "instrument", "at", "level", "bound", "rate", "unit_cost",
                                       "reduced_cost", "per_1000_eur", "unit"]).set_index("id")


WEIGHTED = "weighted by the priorities (what is maximised)"
"""The summary's row of the weighted integrations, shown where priorities weigh some row."""


def entries_label(model: Model) -> str:
    """The summary's row of all entries: the model's own words, or a neutral one."""
    return model.meta.labels.entries_total or "entries, all rows"


def summary(solution: Solution, baseline: Solution | None = None) -> pd.DataFrame:
    """Headline figures: expected integrations, new money, entries, constraints kept. Where priorities weigh
    some row, "expected integrations" counts every integration once and :data:`WEIGHTED` is the objective."""
    return _summary(solution, baseline, _money(solution), _money(baseline) if baseline is not None else None)


def _summary(solution: Solution, baseline: Solution | None, plan_money: pd.DataFrame,
             base_money: pd.DataFrame | None) -> pd.DataFrame:
    weighted = solution.problem.weighted

    def figures(s: Solution, money: pd.DataFrame | None) -> dict[str, float]:
        inst = s.problem.instruments
        levels = s.plan.levels.reindex(inst.index)
        cents = int((_cents(s) if money is None else instrument_cents(s.problem, money)).sum())
        bought = inst["unit_cost"] > 0
        each = s.problem.integrations(levels, weighted=False) if weighted else s.problem.integrations(levels)
        from_new = float(each[bought].sum())
        out = {"expected integrations": float(each.sum()) if weighted else s.integrations}
        if weighted:
            out[WEIGHTED] = s.integrations
        out.update({
            "of which from entries bought with new money": from_new,
            "new money, all pools (€)": cents / 100,
            "integrations per 1,000 € of new money": from_new / (cents / 100) * 1000 if cents else math.nan,
            entries_label(s.problem.spec.model): float(levels[inst["unit"] == "entries"].sum()),
            "constraints broken": float((~s.checks["ok"]).sum()),
        })
        if not (inst["unit"] == "entries").any():  # money lines only: no entries to count
            del out[entries_label(s.problem.spec.model)]
        return out

    plan = figures(solution, plan_money)
    out = pd.DataFrame({"plan": plan})
    if baseline is not None:
        out.insert(0, "official", pd.Series(figures(baseline, base_money)))
        out["delta"] = out["plan"] - out["official"]
    return out


@dataclass(frozen=True)
class Comparison:
    """A plan beside a baseline (the official plan), as tables in the official shape (money in euros, to
    the cent): the headline figures, every printed row, the priority areas, Kennzahlen I–VII, budget use
    per pool, the plan's constraints and bounds, and what set each level (:mod:`optalloc.analyses.reasons`)."""

    summary: pd.DataFrame
    instruments: pd.DataFrame
    areas: pd.DataFrame
    kennzahlen: pd.DataFrame
    budget: pd.DataFrame
    constraints: pd.DataFrame
    bounds: pd.DataFrame
    levels: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name, in the order above."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def compare(plan: Solution, baseline: Solution) -> Comparison:
    """Every table of ``plan`` beside ``baseline``; each plan's money and printed-row figures are worked out
    once."""
    model = plan.problem.spec.model
    plan_money, base_money = _money(plan), _money(baseline)
    plan_figures, base_figures = _row_figures(plan, plan_money), _row_figures(baseline, base_money)
    return Comparison(
        summary=_summary(plan, baseline, plan_money, base_money),
        instruments=_instrument_table(model, plan_figures, base_figures),
        areas=_area_table(model, plan_figures, base_figures),
        kennzahlen=_kennzahlen_table(model, plan_figures, base_figures),
        budget=_budget_table(plan, baseline, plan_money, base_money),
        constraints=constraint_table(plan),
        bounds=bound_table(plan),
        levels=level_reasons(plan),
    )
