"""What ``optalloc alternatives`` and ``optalloc solve --plan`` print and write.

Text views (strings; the CLI prints them) of the minimal-change frontier, the near-optimal corridors, the
alternatives side by side and a user's plan checked against every rule; and :func:`write_tables`, which
writes tables as one CSV each plus one JSON holding them all. A level that only the fallback box sets
is marked wherever it is printed: it is not a finding.
"""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import pandas as pd

from ..analyses.alternatives import Alternatives, Corridors
from ..analyses.frontier import Frontier
from ..analyses.planfile import PlanCheck
from .text import Col, count, money, number, percent, render, signed_count, signed_money
from .views import checks_line

BOX = "*"
NBSP = "\u00a0"


def header(problem) -> str:
    """Which model, scenarios and objective, in two lines."""
    spec = problem.spec
    scen = "".join(f" + {s}" for s in spec.scenarios)
    basis = {"gross": "gross rates (Eingliederungsquote)", "net": "net effects"}[problem.basis]
    shape = {"concave": "with diminishing returns", "linear": "at constant rates (--linear)"}[problem.response_shape]
    return (f"{spec.model.meta.jobcenter} {spec.model.meta.year}{scen} — model {spec.path} · rates {spec.rates_path}\n"
            f"objective: expected integrations from {basis}, {shape}")


def box_note(problem) -> str:
    b = problem.spec.model.assumptions.bounds
    return (f"{BOX} at the fallback box ({b.min_share_of_official * 100:g}–{b.max_share_of_official * 100:g} % of plan, "
            "an assumption with no source): such a level is not a finding")


def summary_cell(name: str, value: float, signed: bool = False) -> str:
    """A figure of a summary table (:func:`optalloc.outputs.reports.summary`), formatted by what its row counts."""
    if "per 1,000" in name:
        text = number(value, 4)
    elif "€" in name:
        return (signed_money if signed else money)(value)
    elif "broken" in name:
        text = count(value, 0)
    elif "integrations" in name or "weighted" in name:
        text = number(value, 1)
    else:  # entries (the row is named in the model's own words)
        text = count(value, 1)
    return ("+" if signed and text and not text.startswith("-") and value != 0 else "") + text


# ----- frontier -----


def frontier_view(f: Frontier, table: bool = True, changes: bool = True, rows_shown: int = 6) -> str:
    """The frontier's table (both measures per share) and, per point, the rows that change."""
    t = f.table
    shares = sorted({s for _, s in t.index})
    wide = pd.DataFrame({
        "target": [t.at[("euros", s), "target"] for s in shares],
        "e_moved": [t.at[("euros", s), "euros_moved"] for s in shares],
        "e_rows": [t.at[("euros", s), "rows_touched"] for s in shares],
        "r_rows": [t.at[("rows", s), "rows_touched"] for s in shares],
        "r_moved": [t.at[("rows", s), "euros_moved"] for s in shares],
    }, index=pd.Index(shares, name="share"))
    start = ("the official plan" if f.official_feasible else
             f"the nearest plan that keeps every rule ({number(f.start.integrations, 1)}; the official plan breaks "
             f"{int((~f.official.checks['ok']).sum())} rule(s) of this model: "
             f"{', '.join(f.official.checks.loc[~f.official.checks['ok'], 'name'].head(3))})")
    title = (f"Minimal-change frontier: the plan closest to the official one that reaches each share of the gain\n"
             f"official plan {number(f.official.integrations, 1)} · optimum {number(f.optimal.integrations, 1)} · "
             f"attainable gain {signed_count(f.gain, 1)} expected integrations, counted from {start}")
    parts = [] if not table else [render(wide, [
        Col(None, "share", lambda v: percent(v, 0)),
        Col("target", "integrations", lambda v: number(v, 1)),
        Col("e_moved", "least € moved (LP)", money),
        Col("e_rows", "its rows", lambda v: count(v, 0)),
        Col("r_rows", "fewest rows (MILP)", lambda v: count(v, 0)),
        Col("r_moved", "its € moved", money),
    ], title=title)]
    if table:
        parts.append("€ moved: Σ over the rows of |Δ money| (a euro shifted from one row to another counts twice); "
                     "rows: the rows whose level changes. Both plans keep every rule of the model.")
    else:
        parts.append(title)
    if changes:
        for measure, what in (("rows", "fewest rows touched"), ("euros", "least euros moved")):
            parts += ["", f"Which rows change, {what} (Δ entries and Δ € against the official plan):"]
            parts += _change_lines(f, measure, rows_shown)
        if f.changes["at_box"].any():
            parts.append(box_note(f.problem))
    return "\n".join(parts)


def _change_lines(f: Frontier, measure: str, shown: int) -> list[str]:
    lines = []
    c = f.changes[f.changes["measure"] == measure]
    for share in sorted({s for m, s in f.table.index if m == measure}):
        part = c[c["share"] == share]
        if part.empty:
            lines.append(f"  {percent(share, 0):>5}  no row changes")
            continue
        part = part.reindex(part["money_delta"].abs().sort_values(ascending=False, kind="stable").index)
        # each row's words stay on one line: spaces inside them are no-break until wrapped
        words = [f"{r.id} {signed_count(r.delta, 1)}{BOX if r.at_box else ''} ({signed_money(r.money_delta)} €)"
                 .replace(" ", NBSP) for r in part.head(shown).itertuples()]
        more = len(part) - min(len(part), shown)
        text = f"{len(part)} rows: " + " · ".join(words) + (f" · and {more} more (the CSV has all)" if more else "")
        lines += [line.replace(NBSP, " ") for line in
                  textwrap.wrap(text, width=118, initial_indent=f"  {percent(share, 0):>5}  ", subsequent_indent=" " * 9)]
    return lines


# ----- corridors -----


def corridors_view(c: Corridors) -> str:
    t = c.table.copy()
    t["least_f"] = [count(v, 1) + (BOX if b else "") for v, b in zip(t["least"], t["least_box"])]
    t["most_f"] = [count(v, 1) + (BOX if b else "") for v, b in zip(t["most"], t["most_box"])]
    t["range"] = [f"{lo / o * 100:.0f}–{hi / o * 100:.0f} %" if o else ""
                  for lo, hi, o in zip(t["least"], t["most"], t["official"])]
    t["proof"] = ["" if a and b else "NOT PROVEN" for a, b in zip(t["least_proven"], t["most_proven"])]
    within = c.official_value >= c.floor
    title = (f"Near-optimal corridors: each instrument's least and most level among the plans within "
             f"{percent(c.epsilon, 1)} of the optimum (at least {number(c.floor, 1)} of {number(c.optimum, 1)} expected "
             f"integrations; the official plan, {number(c.official_value, 1)}, is "
             f"{'itself within it' if within else 'below it'})")
    parts = [render(t, [
        Col(None, "instrument", align="<"),
        Col("official", "official", lambda v: count(v, 1)),
        Col("optimal", "optimal", lambda v: count(v, 1)),
        Col("least_f", "least"),
        Col("most_f", "most"),
        Col("range", "of plan"),
        Col("least_by", "least held by", align="<", width=44),
        Col("most_by", "most held by", align="<", width=44),
    ] + ([] if c.proven else [Col("proof", "", align="<")]), title=title)]
    n, ends = len(t), 2 * len(t)
    how = pd.concat([t["least_proof"], t["most_proof"]]).value_counts()
    verdict = "every end proven" if c.proven else f"{ends - int(t['least_proven'].sum() + t['most_proven'].sum())} ends NOT PROVEN"
    parts.append(f"{n} instruments: {ends} warm re-solves in {c.seconds:.2f} s. Proofs in {c.proof_seconds:.2f} s, "
                 f"{verdict}: each end's plan keeps all {c.rules} rules with at least {number(c.floor, 1)} "
                 f"integrations, and a hundredth of an entry beyond it the most a plan reaches is below that "
                 f"({how.get('below floor', 0)} ends), no plan keeps every rule ({how.get('no plan', 0)} ends), or the "
                 f"end is the row's own bound ({how.get('bound', 0)} ends).")
    parts.append("held by: the ε floor (going further costs more than ε), a rule the end plan uses up, or the row's "
                 "bound and what sets it (places, posts, its own bound, a scenario, the fallback box).")
    if t["least_box"].any() or t["most_box"].any():
        parts.append(box_note(c.problem))
    return "\n".join(parts)


# ----- alternatives -----


def alternatives_view(a: Alternatives, rows_shown: int = 60) -> str:
    names = list(a.levels.columns[1:])
    heads = {n: n.replace("official", "official plan").replace("optimal", "optimal plan") for n in names}
    s = a.summary
    cells = pd.DataFrame({n: [summary_cell(k, s.at[k, n]) for k in s.index] for n in names}, index=s.index)
    apart = a.distances.loc[names[1:], names[1:]]
    least = min((apart.at[x, y] for x in apart.index for y in apart.columns if x != y), default=math.nan)
    title = (f"{len(a.plans)} alternatives within {percent(a.epsilon, 1)} of the optimum (at least {number(a.floor, 1)} "
             f"expected integrations), as different from the optimal plan and from each other as the search found: "
             f"any two of these {len(a.plans) + 1} plans are at least {money(least)} € apart")
    parts = [render(cells, [Col(None, "", align="<")] + [Col(n, heads[n]) for n in names], title=title)]
    parts.append(f"€ apart: Σ over the rows of |Δ money|. Found by successive linear programs from {a.starts} starting "
                 "directions each (the least distance to the plans before it, linearised at the current plan): a local "
                 "optimum, not a proven maximum.")
    areas = a.areas
    for what, f in (("entries", lambda v: count(v, 1)), ("money", money)):
        total = {f"{what} {n}": f(areas[f"{what} {n}"].sum()) for n in names}
        total["area"] = "total"
        parts += ["", render(areas, [Col("chapter", "chapter", align="<"), Col("area", "area", align="<", width=40)]
                             + [Col(f"{what} {n}", heads[n], f) for n in names],
                             title=f"Per priority area: {'entries' if what == 'entries' else 'new money (€)'} "
                                   "(summed as the document sums)", total=total)]
    lv = a.levels
    differ = lv[(lv[names].sub(lv["official"], axis=0).abs() > 1e-9).any(axis=1)]
    inst = a.problem.instruments
    marked = pd.DataFrame({n: [count(differ.at[i, n], 1) + (BOX if _at_box(a.problem, i, differ.at[i, n]) else "")
                               for i in differ.index] for n in names}, index=differ.index)
    marked.insert(0, "name", [inst.at[i, "name"] for i in differ.index])
    parts += ["", render(marked.head(rows_shown), [Col(None, "instrument", align="<"), Col("name", "", align="<", width=36)]
                         + [Col(n, heads[n]) for n in names],
                         title=f"Entries per instrument where the plans differ ({len(differ)} of {len(lv)} instruments; "
                               "euros for a money-only line)")]
    if (marked[names].apply(lambda col: col.str.endswith(BOX))).any().any():
        parts.append(box_note(a.problem))
    parts.append("")
    parts += [checks_line(s, f"alternative {k + 1}") for k, s in enumerate(a.plans)]
    return "\n".join(parts)


def _at_box(problem, iid: str, level: float) -> bool:
    from ..analyses.alternatives import at_box

    return at_box(problem, iid, level)


# ----- a user's plan -----


def plan_check_view(pc: PlanCheck) -> str:
    sol, off = pc.solution, pc.official
    n = len(sol.checks)
    given = ", ".join(pc.plan.given[:8]) + (f" and {len(pc.plan.given) - 8} more" if len(pc.plan.given) > 8 else "")
    parts = [header(sol.problem),
             f"plan file {pc.plan.source}: levels of {len(pc.plan.given)} instrument(s) ({given}); "
             f"the other {len(pc.plan.kept)} keep their official level"
             + (" · whole entries in lots checked" if pc.integer else ""), ""]
    real = pc.broken[~pc.broken["box"]]
    if pc.ok:
        mark = f"✓ THE PLAN KEEPS ALL {n} RULES of this model."
    else:
        mark = (f"✗ THE PLAN BREAKS {len(pc.broken)} OF {n} RULES (listed below)"
                + (f", {len(pc.broken) - len(real)} of them only the fallback box's" if len(real) < len(pc.broken) else "")
                + ": as it stands it cannot be adopted, and its figures are not attainable.")
    parts += [mark, ""]
    s = pc.comparison.summary
    cells = pd.DataFrame({
        "official": [summary_cell(k, s.at[k, "official"]) for k in s.index],
        "plan": [summary_cell(k, s.at[k, "plan"]) for k in s.index],
        "delta": [summary_cell(k, s.at[k, "delta"], signed=True) for k in s.index],
    }, index=s.index)
    parts.append(render(cells, [Col(None, "", align="<"), Col("official", "official plan"), Col("plan", "this plan"),
                                Col("delta", "change")]))
    if pc.optimal is not None:
        gain = pc.optimal.integrations - off.integrations
        share = pc.share_of_gain
        parts.append(f"the optimum in this model: {number(pc.optimal.integrations, 1)} ({signed_count(gain, 1)} over the "
                     f"official plan); this plan {signed_count(sol.integrations - off.integrations, 1)}"
                     + ("" if math.isnan(share) else f": {percent(share, 1)} of the attainable gain")
                     + ("" if pc.ok else " — not attainable while it breaks a rule"))
    t = pc.comparison.instruments
    t = t[(t["financing"] != "info") & ((t["entries_delta"].abs() > 1e-9) | (t["money_delta"].abs() >= 0.005))]
    if not t.empty:
        parts += ["", render(t, [
            Col(None, "instrument", align="<"),
            Col("instrument", "", align="<", width=40),
            Col("entries_official", "entries off.", lambda v: count(v, 0)),
            Col("entries_plan", "this plan", lambda v: count(v, 1)),
            Col("entries_delta", "Δ", lambda v: signed_count(v, 1)),
            Col("money_official", "money off. €", money),
            Col("money_plan", "this plan €", money),
            Col("money_delta", "Δ €", signed_money),
            Col("integrations_delta", "Δ integr.", lambda v: signed_count(v, 1)),
        ], title="Rows that differ from the official plan, as the document prints them (a parent row's entries "
                 "include the rows counted in it)")]
    areas = pc.comparison.areas
    parts += ["", render(areas, [
        Col("chapter", "chapter", align="<"), Col("area", "area", align="<", width=44),
        Col("entries_official", "entries off.", lambda v: count(v, 0)), Col("entries_plan", "this plan", lambda v: count(v, 1)),
        Col("money_official", "money off. €", money), Col("money_plan", "this plan €", money),
        Col("money_delta", "Δ €", signed_money),
    ], title="Per priority area (summed as the document sums)")]
    budget = pc.comparison.budget
    parts += ["", render(budget, [
        Col("pool", "pool", align="<", width=52), Col("available", "available €", money),
        Col("used_official", "official uses €", money), Col("used_plan", "this plan uses €", money),
        Col("left_plan", "left €", money),
    ], title="Money per pool")]
    if not pc.ok:
        b = pc.broken.sort_values("box", kind="stable")  # the document's rules first, the box's last
        b["sense"] = b["sense"].map({"<=": "≤", ">=": "≥", "=": "="})
        b["plan_f"] = [_amount(v, u) for v, u in zip(b["plan"], b["unit"])]
        b["limit_f"] = [_amount(v, u) for v, u in zip(b["limit"], b["unit"])]
        b["by_f"] = [f"{_amount(v, u)} {d}" for v, u, d in zip(b["by"], b["unit"], b["direction"])]
        b["note"] = ["only the fallback box (an assumption with no source), not a rule of the document" if x else ""
                     for x in b["box"]]
        parts += ["", render(b, [
            Col(None, "BROKEN rule", align="<"), Col("label", "", align="<", width=50), Col("plan_f", "this plan"),
            Col("sense", ""), Col("limit_f", "limit"), Col("by_f", "by how much"), Col("note", "", align="<"),
        ], title=f"✗ Broken rules ({len(b)}): the rule, what the plan has, the limit and by how much")]
    parts += ["", ("✓ " if pc.ok else "✗ ") + checks_line(sol, "this plan")]
    return "\n".join(parts)


def _amount(v: float, unit: str) -> str:
    return f"{money(v)} €" if unit == "€" else f"{count(v, 1)} {unit}"


# ----- files -----


def write_tables(folder: Path | str, tables: dict[str, pd.DataFrame], json_name: str, meta: dict) -> list[Path]:
    """One CSV per table and one JSON (``json_name``) with ``meta`` and every table as records."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    doc = dict(meta)
    doc["tables"] = {}
    for name, df in tables.items():
        path = folder / f"{name}.csv"
        df.to_csv(path)
        written.append(path)
        doc["tables"][name] = json.loads(df.reset_index().to_json(orient="records", double_precision=15))
    path = folder / json_name
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    written.append(path)
    return written


def write_plan(path: Path | str, levels: pd.Series, problem) -> Path:
    """A plan as a plan file ``solve --plan`` reads: columns id, instrument, official, level."""
    inst = problem.instruments
    df = pd.DataFrame({"instrument": inst["name"], "official": inst["official"], "level": levels.reindex(inst.index)})
    df.index.name = "id"
    df.to_csv(path)
    return Path(path)


def write_options(folder: Path | str, problem, epsilon: float, found: dict) -> list[str]:
    """Every table of the frontier, corridors and alternatives found (CSV each, and alternatives.json), each
    alternative as a plan file (``plan-alternative-<k>.csv``, for ``solve --plan``) and ``frontier.png``."""
    folder = Path(folder)
    tables: dict[str, pd.DataFrame] = {}
    if "frontier" in found:
        f = found["frontier"]
        tables["frontier"] = f.table
        tables["frontier_changes"] = f.changes.set_index(["measure", "share", "id"])
    if "corridors" in found:
        c = found["corridors"]
        tables["corridors"] = c.table
    if "alternatives" in found:
        for name, df in found["alternatives"].tables().items():
            tables[f"alternatives_{name}"] = df
    spec = problem.spec
    meta = {"model": str(spec.path), "rates": str(spec.rates_path), "scenarios": list(spec.scenarios),
            "basis": problem.basis, "response": problem.response_shape, "epsilon": epsilon}
    if "frontier" in found:
        f = found["frontier"]
        meta.update({"official": f.official.integrations, "optimum": f.optimal.integrations, "gain": f.gain,
                     "frontier_starts_from": "official plan" if f.official_feasible else "nearest plan keeping every rule"})
    if "corridors" in found:
        c = found["corridors"]
        meta["corridors"] = {"floor": c.floor, "seconds": c.seconds, "proof_seconds": c.proof_seconds,
                             "proven": c.proven}
    written = [p.name for p in write_tables(folder, tables, "alternatives.json", meta)]
    if "alternatives" in found:
        for k, sol in enumerate(found["alternatives"].plans, start=1):
            written.append(write_plan(folder / f"plan-alternative-{k}.csv", sol.plan.levels, problem).name)
    if "frontier" in found:
        from .plotting import change_frontier

        change_frontier(found["frontier"]).savefig(folder / "frontier.png", dpi=120)
        written.append("frontier.png")
    return written


def write_plan_check(folder: Path | str, pc: PlanCheck) -> list[str]:
    """A checked plan's tables (CSV each) and ``plan.json``, which ``solve --plan`` reads back."""
    sol = pc.solution
    inst = sol.problem.instruments
    c = pc.comparison
    tables = {"summary": c.summary, "instruments": c.instruments, "areas": c.areas, "kennzahlen": c.kennzahlen,
              "budget": c.budget, "constraints": c.constraints, "broken": pc.broken}
    meta = {"model": str(sol.problem.spec.path), "plan_file": pc.plan.source, "basis": sol.problem.basis,
            "response": sol.problem.response_shape, "keeps_every_rule": pc.ok, "rules_broken": len(pc.broken),
            "expected_integrations": {"official": pc.official.integrations, "plan": sol.integrations},
            "plan": {iid: {"level": float(sol.plan.levels[iid]), "unit": str(inst.at[iid, "unit"])}
                     for iid in inst.index}}
    return [p.name for p in write_tables(folder, tables, "plan.json", meta)]
