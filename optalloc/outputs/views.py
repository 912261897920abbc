"""Text views of validations and plans for the command line (strings; the CLI prints them)."""

from __future__ import annotations

import math
from collections import Counter

import pandas as pd

from . import reports
from ..model.loading import Spec
from ..model.reconcile import EXPLAINED, FAIL, Reconciliation
from ..solving.solve import Solution
from .text import Col, count, missing, money, number, percent, render, signed_count, signed_money

_UNIT = {"entries": "entry", "places": "place"}
# a check reads "computed <= printed"; printed stands left of computed, so it shows as "printed ≥ computed"
PRINTED_RELATION = {"=": "=", "<=": "≥"}


def _status(v: object) -> str:
    return "" if missing(v) else str(v)


def checks_listing(rec: Reconciliation) -> str:
    """One line per check: status, id, and the printed figure beside the computed one."""
    return "\n".join(f"{c.status:<9}  {c.id:<48}  printed {c.printed:,.2f} {PRINTED_RELATION[c.relation]} "
                     f"computed {c.computed:,.2f}" for c in rec.checks.itertuples())


def validation_report(spec: Spec, rec: Reconciliation) -> str:
    m = spec.model
    b = rec.budget
    out = [f"{m.meta.title} — {m.meta.jobcenter} {m.meta.year}  ({spec.path})", ""]
    checked = rec.section("budget").set_index("label")  # the derivation's lines the document prints
    lines = pd.DataFrame(
        [(label, sign, float(v), checked["printed"].get(label), checked["status"].get(label, ""))
         for label, sign, v in b.derivation()],
        columns=["item", "sign", "computed", "printed", "status"],
    )
    out.append(render(lines, [Col("item", m.meta.labels.budget or "Budget", align="<"), Col("sign", ""), Col("computed", "computed €", money),
                              Col("printed", "printed €", money), Col("status", "", align="<")]))
    if b.vbl_credit:
        out.append(f"(the shift to administration is already reduced by the VBL credit of {money(float(b.vbl_credit))} €)")
    if b.reserve:
        how = ("what the official plan leaves unplanned" if m.budget.reserve_amount == "official"
               else "the model's reserve")
        out.append(f"reserve for the year, kept back from the new-business budget: {money(float(b.reserve))} € ({how})")
    out.append("")
    pools = pd.DataFrame([
        (p.id, p.name, float(p.amount), float(p.planning_share), float(p.reserved), float(p.available))
        for p in b.pools.values()
    ], columns=["id", "name", "amount", "share", "reserved", "available"]).set_index("id")
    out.append(render(pools, [Col(None, "Pool", align="<"), Col("name", "", align="<", width=52), Col("amount", "amount €", money),
                              Col("share", "planned", percent), Col("reserved", "reserved €", money), Col("available", "available €", money)]))
    out.append("")
    for section, title in (("pools", "Pools and programmes"), ("areas", None),
                           ("kennzahlen", m.meta.labels.kennzahlen or "Kennzahlen: entries by purpose")):
        if section == "kennzahlen" and m.kennzahlen is None:
            continue  # a section the model does not have is left out
        if section != "areas" and rec.section(section).empty:
            continue
        out.append(_checks_table(rec, section, title) if title else _area_view(rec, m.meta.labels.areas or "Areas"))
        out.append("")
    vbl_rows = pd.DataFrame([(r.id, r.name, r.vbl) for r in m.instruments if r.vbl > 0], columns=["id", "name", "vbl"]).set_index("id")
    vbl_checks = rec.checks[rec.checks["id"] == "vbl:sum"]
    if not vbl_checks.empty:
        vbl_check = vbl_checks.iloc[0]
        out.append(render(vbl_rows, [Col(None, "VBL parts", align="<"), Col("name", "", align="<", width=60),
                                     Col("vbl", "€", money)],
                          total={"name": "sum of the parts / VBL credit",
                                 "vbl": f"{money(vbl_check.computed)} / {money(vbl_check.printed)}"}))
        out.append(f"status: {_status(vbl_check.status)}")
        out.append("")
    if not rec.section("rows").empty:
        out.append(_checks_table(rec, "rows", "Rows: 'davon' splits and lot sizes"))
        out.append("")
    explained = rec.checks[rec.checks["status"] == EXPLAINED]
    if len(explained) or m.discrepancies:
        out.append(f"Disagreements inside the document ({len(explained)}), each recomputed and explained:")
    for _, c in explained.iterrows():
        out.append(f"- {c['id']}: printed {_fmt(c.printed, c.unit)}, rows give {_fmt(c.computed, c.unit)}. {c.explanation}")
    if m.text_notes:
        out.append("")
        out.append("Notes on the running text (recorded, no figure of the plan depends on them):")
        for n in m.text_notes:
            out.append(f"- {n.where}: {n.note.strip()}")
    out.append("")
    out.append(_rates_view(spec))
    out.append("")
    failed = rec.failures
    counts = Counter(rec.checks["status"])
    verdict = (f"{len(rec.checks)} checks: {counts.get('ok', 0)} agree, {counts.get(EXPLAINED, 0)} explained disagreements, "
               f"{counts.get(FAIL, 0)} failed.")
    out.append(verdict)
    if len(failed):
        out.append("FAILED:")
        for _, c in failed.iterrows():
            out.append(f"- {spec.path}: {c.field or c['id']}: printed {_fmt(c.printed, c.unit)}, "
                       f"the rows give {_fmt(c.computed, c.unit)} (check {c['id']}) — {c.explanation}")
    else:
        out.append("The model reproduces its document.")
    return "\n".join(out)


def _fmt(v: float, unit: str) -> str:
    if unit == "€":
        return money(v) + " €"
    if unit == "%":
        return f"{v:.2f} %"
    if unit == "share":
        return percent(v, 0)
    return count(v, 0)


def _checks_table(rec: Reconciliation, section: str, title: str) -> str:
    df = rec.section(section)
    rows = df.assign(p=[_fmt(v, u) for v, u in zip(df.printed, df.unit)],
                     c=[_fmt(v, u) for v, u in zip(df.computed, df.unit)])
    rows["relation"] = rows["relation"].map(PRINTED_RELATION)
    return render(rows, [Col("label", title, align="<", width=72), Col("p", "printed"), Col("relation", ""),
                         Col("c", "computed"), Col("status", "", _status, "<")])


def _area_view(rec: Reconciliation, title: str) -> str:
    df = rec.section("areas")
    by_area: dict[str, dict] = {}
    for _, c in df.iterrows():
        _, area, what = c["id"].split(":")
        d = by_area.setdefault(area, {"label": c.label})
        d[f"{what}_printed"] = c.printed
        d[f"{what}_computed"] = c.computed
        d[f"{what}_status"] = c.status
    table = pd.DataFrame.from_dict(by_area, orient="index")
    for what in ("entries", "money"):
        for part in ("printed", "computed", "status"):
            if f"{what}_{part}" not in table:
                table[f"{what}_{part}"] = None
    if table.empty:
        return f"{title}: the model prints no sums to check."
    return render(table, [
        Col("label", title, align="<", width=58),
        Col("entries_printed", "entries printed", lambda v: count(v, 0)),
        Col("entries_computed", "rows", lambda v: count(v, 0)),
        Col("entries_status", "", _status, "<"),
        Col("money_printed", "money printed €", money),
        Col("money_computed", "rows €", money),
        Col("money_status", "", _status, "<"),
    ])


def _rates_view(spec: Spec) -> str:
    used = Counter(r.rate_class for r in spec.model.instruments if r.rate_class and r.financing != "info")
    rows = []
    for cid, n in sorted(used.items()):
        c = spec.rates.classes[cid]
        rows.append((cid, n, c.gross.value, c.gross.status, c.net.value, c.net.status))
    df = pd.DataFrame(rows, columns=["class", "rows", "gross", "gross_status", "net", "net_status"]).set_index("class")
    sourced = sum(1 for _, r in df.iterrows() for s in (r.gross_status, r.net_status) if s == "sourced")
    head = (f"Integration rates ({spec.rates_path}): {len(df)} classes in use, {sourced} of {2 * len(df)} figures "
            f"sourced, the rest assumptions with ranges")
    return render(df, [Col(None, "rate class", align="<"), Col("rows", "rows"), Col("gross", "gross EQ", lambda v: number(v, 3)),
                       Col("gross_status", "", align="<"), Col("net", "net effect", lambda v: number(v, 3)),
                       Col("net_status", "", align="<")], title=head)


# ----- plans -----


def _entries(decimals: int):
    return lambda v: count(v, decimals)


def _signed_entries(decimals: int):
    return lambda v: signed_count(v, decimals)


def plan_header(opt: Solution) -> str:
    spec = opt.problem.spec
    mode = "whole entries in lots" if opt.integer else "continuous entries"
    scen = "".join(f" + {s}" for s in spec.scenarios)
    basis = {"gross": "gross rates (Eingliederungsquote)", "net": "net effects"}[opt.problem.basis]
    shape = {"concave": "with diminishing returns", "linear": "at constant rates (--linear)"}[opt.problem.response_shape]
    return (f"{spec.model.meta.jobcenter} {spec.model.meta.year}{scen} — model {spec.path} · rates {spec.rates_path}\n"
            f"objective: expected integrations from {basis}, {shape} · solver {opt.solver} · {mode}"
            + (" · least money for the optimum" if opt.least_money else ""))


def levels_line(levels: pd.DataFrame) -> str:
    """"levels set by: places N · ..." and, where the fallback box or a scenario's bound acts, which rows."""
    from ..analyses.reasons import CATEGORIES, counts

    n = counts(levels)
    shown = [c for c in CATEGORIES if c != "scenario" or n[c]]
    line = (f"levels set by: {' · '.join(f'{c} {n[c]}' for c in shown)} "
            f"(of {len(levels)} rows the optimiser may change)")
    for category, who in (("fallback box", "the fallback box (an assumption with no source)"),
                          ("scenario", "the scenario's own bounds (a choice, not the model's)")):
        rows = levels.index[levels["set_by"] == category]
        if len(rows):
            shares = levels.loc[rows, "level"] / levels.loc[rows, "official"]
            named = ", ".join(f"{i} ({s:.0%} of plan)" for i, s in shares.items())
            line += (f"\n{who} sets {named}: {'this level is' if len(rows) == 1 else 'these levels are'} "
                     "not a finding")
    return line


def levels_view(levels: pd.DataFrame) -> str:
    rows = levels.copy()
    rows["z"] = rows["level"] / rows["official"]
    euros = rows["unit"] == "euros" if "unit" in rows else pd.Series(False, index=rows.index)
    per = euros.map({True: 1000.0, False: 1.0})  # a line in euros: its next / last 1,000 €
    for key, decimals in (("official", 0), ("level", 1)):
        rows[f"{key}_f"] = [f"{money(v)} €" if e else count(v, decimals) for v, e in zip(rows[key], euros)]
    for key in ("next_entry", "last_entry"):
        rows[f"{key}_f"] = ["—" if math.isnan(v) else f"{v * k:+z.3f}" for v, k in zip(rows[key], per)]
    money_note = " — per 1,000 € for a money line planned in euros" if euros.any() else ""
    return render(rows, [
        Col(None, "instrument", align="<"),
        Col("official_f", "planned (€ or entries)" if euros.any() else "entries off."),
        Col("level_f", "optimal"),
        Col("z", "of plan", lambda v: percent(v, 0)),
        Col("set_by", "set by", align="<"),
        Col("what", "limit", align="<", width=60),
        Col("next_entry_f", "next entry"),
        Col("last_entry_f", "last entry"),
    ], title="What set each level (next / last entry: its integrations less what its money would buy elsewhere"
             f"{money_note}; a row worth growing is held by an upper limit, one worth shrinking by a lower one)")


def summary_view(s: pd.DataFrame) -> str:
    fmt = {
        "expected integrations": lambda v: number(v, 1),
        "of which from entries bought with new money": lambda v: number(v, 1),
        "new money, all pools (€)": money,
        "integrations per 1,000 € of new money": lambda v: number(v, 4),
        reports.WEIGHTED: lambda v: number(v, 1),
        "constraints broken": lambda v: count(v, 0),
    }
    rows = []
    for name, r in s.iterrows():
        f = fmt.get(name, lambda v: count(v, 1))  # the entries row is named in the model's own words
        delta = r["delta"]
        d = (signed_money(delta) if name == "new money, all pools (€)" else ("+" if delta >= 0 else "") + f(delta)) if not math.isnan(delta) else ""
        if name == "expected integrations" and r["official"]:
            d += f" ({delta / r['official'] * 100:+.1f} %)"
        rows.append((name, f(r["official"]), f(r["plan"]), d))
    df = pd.DataFrame(rows, columns=["name", "official", "plan", "delta"]).set_index("name")
    return render(df, [Col(None, "", align="<"), Col("official", "official plan"), Col("plan", "optimal plan"), Col("delta", "change")])


def _official_beside_optimal(decimals: int) -> list[Col]:
    """Entries and money, official beside optimal, with the differences."""
    return [
        Col("entries_official", "entries off.", _entries(0)),
        Col("entries_plan", "optimal", _entries(decimals)),
        Col("entries_delta", "Δ", _signed_entries(decimals)),
        Col("money_official", "money off. €", money),
        Col("money_plan", "optimal €", money),
        Col("money_delta", "Δ €", signed_money),
    ]


def instrument_view(t: pd.DataFrame, d: int) -> str:
    """``d``: decimals of the plan's entries (0 for whole entries)."""
    t = t[t["financing"] != "info"]
    return render(t, [
        Col("area", "area", align="<", width=17),
        Col("instrument", "instrument", align="<", width=42),
        *_without_entries(_official_beside_optimal(d), t),
        Col("integrations_official", "integr. off.", lambda v: number(v, 1)),
        Col("integrations_plan", "optimal", lambda v: number(v, 1)),
        Col("note", "note", align="<", width=44),
    ], title="Plan by instrument, as the document prints its rows (a parent row's entries include the rows counted in it)")


def area_view(t: pd.DataFrame, d: int) -> str:
    total = {
        "area": "total",
        "entries_official": count(t["entries_official"].sum(), 0),
        "entries_plan": count(t["entries_plan"].sum(), d),
        "entries_delta": signed_count(t["entries_delta"].sum(), d),
        "money_official": money(round(t["money_official"].sum(), 2)),
        "money_plan": money(round(t["money_plan"].sum(), 2)),
        "money_delta": signed_money(round(t["money_delta"].sum(), 2)),
    }
    chapter = [Col("chapter", "chapter", align="<")] if t["chapter"].astype(str).str.strip().any() else []
    return render(t, [
        *chapter,
        Col("area", "area", align="<", width=44),
        *_without_entries(_official_beside_optimal(d), t),
    ], title="Per priority area (summed as the document sums: rows in parentheses left out)", total=total)


def _without_entries(cols: list[Col], t: pd.DataFrame) -> list[Col]:
    """The columns, less those of entries where no row of ``t`` has any (a programme of money lines only)."""
    keys = [c.key for c in cols if c.key and c.key.startswith("entries_")]
    if any(t[k].fillna(0).abs().sum() > 0 for k in keys if k in t):
        return cols
    return [c for c in cols if c.key not in keys]


def kennzahlen_view(t: pd.DataFrame, d: int) -> str:
    return render(t, [
        Col("name", "Kennzahlen: entries by purpose (Zweckbestimmung)", align="<", width=60),
        Col("printed", "printed", _entries(0)),
        Col("official", "official", _entries(0)),
        Col("plan", "optimal", _entries(d)),
        Col("delta", "Δ", _signed_entries(d)),
    ])


def budget_view(t: pd.DataFrame, reserve: float = 0.0) -> str:
    total = {k: money(round(t[k].sum(), 2)) for k in ("available", "used_official", "left_official", "used_plan", "left_plan")}
    total["pool"] = "all pools"
    title = ("Budget use and reserve per pool" + (f" (the new-business budget keeps {money(reserve)} € back for the year "
                                                 "before this: the reserve)" if reserve else ""))
    return render(t, [
        Col("pool", "pool", align="<", width=52),
        Col("available", "available €", money),
        Col("used_official", "official uses €", money),
        Col("left_official", "left €", money),
        Col("used_plan", "optimal uses €", money),
        Col("left_plan", "left €", money),
    ], total=total, title=title)


def constraints_view(t: pd.DataFrame, kind: str) -> str:
    """``t`` is the constraint table of a plan of ``kind`` "optimal" or "official"."""
    t = t[(t["kind"] != "split")]
    has_duals = "shadow_price" in t
    rows = t.copy()
    rows["price"] = ""
    if has_duals:
        rows["price"] = [
            _price(r) if r.status == "binding" and abs(r.shadow_price) > 1e-9 else ""
            for r in rows.itertuples()
        ]
    rows["lhs_f"] = [money(v) if u.startswith("€") else count(v, 1) for v, u in zip(rows.lhs, rows.unit)]
    rows["rhs_f"] = [money(v) if u.startswith("€") else count(v, 1) for v, u in zip(rows.rhs, rows.unit)]
    rows["status"] = rows["status"].map({"binding": "used up", "slack": "room", "broken": "BROKEN"})
    if kind == "optimal":
        title = ("Constraints of the optimal plan, checked independently of the solver; shadow price = expected "
                 "integrations gained per unit more of the right-hand side"
                 + ("" if has_duals else " (not available for whole-entry plans)"))
    else:
        title = "Constraints of the official plan in this model: which it uses up, has room on, or breaks"
    cols = [
        Col(None, "constraint", align="<"),
        Col("label", "", align="<", width=46),
        Col("lhs_f", "plan"),
        Col("sense", ""),
        Col("rhs_f", "limit"),
        Col("status", "", align="<"),
    ]
    if kind == "optimal":
        cols.append(Col("price", "shadow price", align="<"))
    return render(rows, cols, title=title)


def _price(r) -> str:
    """A binding row's shadow price in its unit; where one unit more and one unit less of the limit are worth
    different amounts (``one_sided``, from :func:`optalloc.analyses.explanation.one_sided_prices`), both, as explain
    says them."""
    money_row = r.unit.startswith("€")
    scale, unit = (1000.0, "1,000 €") if money_row else (1.0, _UNIT.get(r.unit, r.unit))
    if bool(getattr(r, "one_sided", False) is True):
        up, down = ("no plan" if math.isnan(v) else f"{v * scale:+z.4f}" for v in (r.up, r.down))
        return f"more {up} / less {down} per {unit} (one-sided)"
    return f"{r.per_1000_eur:+z.4f} per 1,000 €" if money_row else f"{r.shadow_price:+z.4f} per {unit}"


def bounds_view(t: pd.DataFrame) -> str:
    if t.empty:
        return "No instrument is held at a bound."
    has_rc = bool(t["reduced_cost"].notna().any())
    t = t.copy()
    euros = t["unit"] == "euros" if "unit" in t else pd.Series(False, index=t.index)
    t["level_f"] = [f"{money(v)} €" if e else count(v, 1) for v, e in zip(t["level"], euros)]
    t["rate_f"] = [f"{v * 1000:.3f}/1,000 €" if e else number(v, 3) for v, e in zip(t["rate"], euros)]
    t["unit_cost_f"] = ["" if e else money(v) for v, e in zip(t["unit_cost"], euros)]
    t["reduced_f"] = ["" if e or not has_rc else f"{v:+z.4f}" for v, e in zip(t["reduced_cost"], euros)]
    return render(t, [
        Col(None, "instrument", align="<"),
        Col("at", "at"),
        Col("level_f", "level (€ or entries)" if euros.any() else "entries"),
        Col("rate_f", "rate"),
        Col("unit_cost_f", "€/entry"),
        Col("reduced_f", "reduced cost/entry"),
        Col("per_1000_eur", "per 1,000 €", (lambda v: f"{v:+z.4f}") if has_rc else (lambda v: "")),
    ], title="Instruments held at a bound (reduced cost: integrations gained per extra entry forced in; "
             "at max a positive value is what the bound costs, at min a negative value is what the minimum costs)")


def checks_line(sol: Solution, what: str | None = None) -> str:
    """optalloc's constraint check (optalloc/solving/check.py: plain arithmetic on the plan, apart from the LP and
    the solver, on optalloc's own reading of the model) in one line; ``what`` names the plan."""
    bad = sol.checks[~sol.checks["ok"]]
    n = len(sol.checks)
    what = what or f"the {sol.kind} plan"
    label = "Constraint check (optalloc/solving/check.py, separate from the LP)"
    if bad.empty:
        return (f"{label}: all {n} constraints of {what} hold (bounds, pools to the cent, caps, coverage, "
                "places, capacity, policy rules, customer stock).")
    names = ", ".join(bad["name"].head(8))
    return f"{label}: {len(bad)} of {n} constraints of {what} are broken: {names}"


def solve_report(cmp: reports.Comparison, opt: Solution, off: Solution, sections: tuple[str, ...]) -> str:
    """The plan ``opt`` beside the official plan ``off``; ``cmp`` is ``reports.compare(opt, off)``."""
    d = 0 if opt.integer else 1
    parts = [plan_header(opt), "", summary_view(cmp.summary), levels_line(cmp.levels), ""]
    views = {
        "levels": lambda: levels_view(cmp.levels),
        "instruments": lambda: instrument_view(cmp.instruments, d),
        "areas": lambda: area_view(cmp.areas, d),
        "kennzahlen": lambda: kennzahlen_view(cmp.kennzahlen, d) if not cmp.kennzahlen.empty else "",
        "budget": lambda: budget_view(cmp.budget, float(opt.problem.budget.reserve)),
        "constraints": lambda: (constraints_view(cmp.constraints, opt.kind) + "\n\n"
                                + constraints_view(reports.constraint_table(off), off.kind)),
        "bounds": lambda: bounds_view(cmp.bounds),
    }
    for name in sections:
        shown = views[name]()
        if shown:  # a section the model does not have (no Kennzahlen) is left out
            parts += [shown, ""]
    parts.append(checks_line(opt))
    parts.append(checks_line(off, "the official plan (evaluated in this model)"))
    return "\n".join(parts)


# ----- sweeps -----


def sweep_report(sw, official_integrations: float, seconds: float, rows: int = 11) -> str:
    from ..analyses.sweeps import cut_order

    curve = sw.curve
    n = len(curve)
    pick = sorted({round(k * (n - 1) / (rows - 1)) for k in range(rows)}) if n > rows else list(range(n))
    sample = curve.iloc[pick].copy()
    sample["budget"] = sample.index
    feasible = int((curve["status"] == "optimal").sum())
    head = (f"{sw.problem.name}: {n} budget levels from {money(curve.index.min())} € to {money(curve.index.max())} € "
            f"({curve['share'].min():.0%} to {curve['share'].max():.0%} of the {money(sw.base_budget)} € the "
            f"new-business pool makes available); {feasible} feasible; solved in {seconds:.2f} s ({sw.method} path)")
    parts = [head, "", render(sample, [
        Col("budget", "budget €", money),
        Col("share", "of model", lambda v: percent(v, 1)),
        Col("integrations", "integrations", lambda v: number(v, 1)),
        Col("per_1000_eur", "per extra 1,000 €", lambda v: number(v, 4)),
        Col("status", "", align="<"),
    ], title=(f"Integrations curve ({len(sample)} of {n} levels; the CSV has all); " if n > rows else
              "Integrations curve; ") + f"official plan at 100 %: {number(official_integrations, 1)}"
       + (" (integrations weighted by the priorities, as maximised; solve and explain give the unweighted count "
          "too)" if sw.problem.weighted else ""))]
    ok = curve[curve["status"] == "optimal"]
    if len(ok) > 1 and ok["per_1000_eur"].iloc[0] > 3 * max(ok["per_1000_eur"].iloc[1], 1e-12):
        parts.append(f"(at {money(ok.index[0])} € a plan only just exists: its {number(ok['per_1000_eur'].iloc[0], 4)} "
                     "per extra 1,000 € holds for the first few euros, not for a whole 1,000 €)")
    order = cut_order(sw)
    what = "level (€ or entries)" if (sw.problem.instruments["unit"] == "euros").any() else "entries"
    if not order.empty:
        parts += ["", render(order, [
            Col("rank", "#"),
            Col(None, "instrument", align="<"),
            Col("entries_top", f"{what} at top", lambda v: count(v, 1)),
            Col("shrinks_below", "cut starts below €", money),
            Col("at_minimum_from", "at minimum from €", money),
            Col("entries_bottom", f"{what} at bottom", lambda v: count(v, 1)),
            Col("minimum", "minimum", lambda v: count(v, 1)),
            Col("moves", "", align="<"),
        ], title="Cut order: as money falls from the top of the range, who shrinks first (fixed rows left out; "
                 f"each row's own entries{_counted_in_words(sw.problem)})")]
    return "\n".join(parts)


def _counted_in_words(problem) -> str:
    """Which rows print entries that include other rows (named from the model), for the cut order's title."""
    inside: dict[str, list[str]] = {}
    for r in problem.spec.model.instruments:
        if r.entries_in and r.financing != "info":  # an info row's entries stay in its host's
            inside.setdefault(r.entries_in, []).append(r.id)
    return "".join(f"; {parent} without {', '.join(rows)} counted in it" for parent, rows in inside.items())


# ----- infeasibility -----


def diagnosis_view(d) -> str:
    """What collides and the smallest changes that fix it, ranked."""
    if d.feasible:
        return "The problem is feasible: every requirement can hold."
    if d.integer_only:
        return ("A plan with fractions of entries is feasible, but none with whole entries (and whole lots): the "
                "bounds, lots and limits leave no whole number that fits. Solve without --integer, or widen the "
                "bounds of the instruments with fractional bounds or lot sizes.")
    out = []
    if not d.conflict.empty:
        out.append("These requirements collide (an irreducible set: drop any one of them and the rest can hold):")
        bound_kinds = ["entries_min", "entries_max", "contract_min", "capacity_max", "fixed"]
        rows = d.conflict[~d.conflict["kind"].isin(bound_kinds)]
        bounds = d.conflict[d.conflict["kind"].isin(bound_kinds)]
        for r in rows.itertuples():
            value = money(r.value) + " €" if r.kind in ("budget", "pool", "cap") else count(r.value, 1)
            sense = "at most" if r.bound == "upper" else "at least"
            limit = "" if r.kind in ("coverage", "policy", "capacity", "stock") else f" ({sense} {value})"
            out.append(f"  - {r.name}: {r.label}{limit}")
        for kind, what in (("entries_min", "the minimum entries of"), ("entries_max", "the maximum entries of"),
                           ("contract_min", "the contracts' floors (less the legal margin) of"),
                           ("capacity_max", "the contracted places or employers' posts of"),
                           ("fixed", "the fixed levels of")):
            part = bounds[bounds["kind"] == kind]
            if part.empty:
                continue
            names = [f"{n.split(':', 1)[1]} {'=' if kind == 'fixed' else '≥' if kind.endswith('min') else '≤'} "
                     f"{money(v) + ' €' if u == '€' else count(v, 1)}"
                     for n, v, u in zip(part["name"], part["value"], part["unit"])]
            shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
            out.append(f"  - {what} {len(names)} instrument{'s' if len(names) > 1 else ''}: {shown}")
    if d.fixes.empty:
        out.append("No relaxation of budget, minimums, maxima, coverage, caps, places, stated decisions or customer "
                   "stock makes it feasible.")
        return "\n".join(out)
    out.append("")
    out.append("Smallest changes that make it feasible, each family on its own, ranked by relative size:")
    for rank, fix in d.fixes.groupby("rank", sort=True):
        family = fix["family"].iloc[0]
        out.append(f"{rank}. {family} ({fix['fix_relative'].iloc[0]:.1%} of what it changes):")
        # solver dust (below a euro's worth or a hundredth of an entry) is neither listed nor counted
        shown = fix[(fix["size"] >= 1.0) & (fix["change_value"].abs() >= 0.01)]
        for r in shown.head(12).itertuples():
            out.append(f"     {r.constraint:<34} {r.change}")
        hidden = len(shown) - min(len(shown), 12)
        if hidden:
            out.append(f"     … and {hidden} smaller change{'s' if hidden > 1 else ''}")
    alone = [f for f, ok in d.alone.items() if not ok]
    if alone:
        out.append(f"Cannot make it feasible on their own: {', '.join(alone)}.")
    return "\n".join(out)


# ----- explanations -----


def _range(low: float, high: float, basis: str = "gross") -> str:
    """A rate range; a finite end no rate can reach (below 0 for a gross rate, above 1) reads "unreachable"."""
    from ..analyses.explanation import reachable

    lo = "−∞" if math.isinf(low) else f"{low:.3f}" if reachable(low, basis) else "unreachable"
    hi = "∞" if math.isinf(high) else f"{high:.3f}" if reachable(high, basis) else "unreachable"
    return f"{lo} … {hi}"


def integrations_line(sol: Solution) -> str:
    """The plan's expected integrations; where priorities weigh, the unweighted count and the weighted objective."""
    problem = sol.problem
    if not problem.weighted:
        return f"Expected integrations of the optimal plan: {number(sol.integrations, 1)}"
    plain = float(problem.integrations(sol.plan.levels, weighted=False).sum())
    return (f"Expected integrations of the optimal plan: {number(plain, 1)} (weighted by the priorities, what is "
            f"maximised: {number(sol.integrations, 1)})")


def explanation_view(e) -> str:
    sol = e.solution
    parts = [plan_header(sol), "", integrations_line(sol), ""]
    c = e.constraints
    if c.empty:
        parts.append("No constraint binds: every instrument sits at a bound of its own.")
    else:
        parts.append(render(c, [
            Col(None, "binding constraint", align="<"),
            Col("value", "worth", lambda v: f"{v:+z.3f}"),
            Col("unit", "", align="<"),
            Col("meaning", "meaning", align="<"),
        ], title="What the binding constraints are worth (expected integrations per unit more of the limit; "
                 "for coverage: what the requirement costs)"))
    parts.append("")
    t = e.instruments.copy()
    basis = sol.problem.basis
    t["range"] = [_range(lo, hi, basis) for lo, hi in zip(t["rate_low"], t["rate_high"])]
    t["cost_range"] = ["" if math.isnan(lo) else f"{money(lo)} … {'∞' if math.isinf(hi) else money(hi)}"
                       for lo, hi in zip(t["cost_low"], t["cost_high"])]
    t["marginal"] = [f"{a:.3f} / {b:.3f}" for a, b in zip(t["last_rate"], t["next_rate"])]
    euros = t["per"] == "1,000 €" if "per" in t else pd.Series(False, index=t.index)
    t["level_f"] = [f"{money(v)} €" if e else count(v, 1) for v, e in zip(t["level"], euros)]
    t["unit_cost_f"] = ["" if e else money(v) for v, e in zip(t["unit_cost"], euros)]
    money_lines = (" Lines planned in euros (money lines valued per 1,000 €): rate, marginal rates, ranges and the "
                   "reduced cost per 1,000 €." if euros.any() else "")
    parts.append(render(t, [
        Col(None, "instrument", align="<"),
        Col("at", "sits", align="<"),
        Col("level_f", "entries"),
        Col("set_by", "set by", align="<"),
        Col("rate", "rate", lambda v: number(v, 3)),
        Col("marginal", "last / next entry", align="<"),
        Col("range", "rate range, mix stays optimal", align="<"),
        Col("unit_cost_f", "€/entry"),
        Col("cost_range", "€/entry range, mix stays optimal", align="<"),
        Col("reduced_cost", "reduced cost", lambda v: f"{v:+z.4f}"),
    ], title="Instruments the optimiser may change (fixed rows left out). rate: the average over the planned "
             "entries; last / next entry: the marginal rates around the level (diminishing returns); a range "
             "shifts the whole response and holds while only that figure changes (a threshold no rate can reach "
             "is shown as unreachable). A cost range is given for an instrument held at a bound whose cost sits "
             "in one money row only." + money_lines))
    parts.append("")
    parts.append(levels_line(e.levels))
    parts.append("")
    parts.append("Why each level, in words:")
    order = {c: k for k, c in enumerate(("fallback box", "scenario", "places", "customer stock", "policy",
                                         "target groups", "diminishing returns", "budget"))}
    for iid in sorted(t.index, key=lambda i: (order.get(t.at[i, "set_by"], 99), i)):
        parts.append(f"- {t.at[iid, 'meaning']}")
    return "\n".join(parts)

# ----- rate uncertainty -----


def risk_report(r, corridor_rows: int = 12) -> str:
    """The risk assessment: the plans' distributions, the robust plan, the value of information, corridors."""
    s = r.draws.classes
    tail = r.robust["tail"]
    worst = f"worst_{round(tail * 100)}pct_average"
    inst = r.problem.instruments
    movable = {c for c in s.index if not inst.loc[inst["rate_class"] == c, "fixed"].all()}
    varying = s[(s["high"] > s["low"]) & s.index.isin(list(movable))]
    assumed = int((varying["status"] == "assumption").sum())
    corr = (f"classes correlated {r.draws.correlation:g} through one shared factor" if r.draws.correlation
            else "classes independent")
    head = (f"{r.problem.name}: {len(r.draws):,} draws of the rates ({r.problem.basis}, {r.problem.response_shape} "
            f"response; {r.draws.distribution.upper() if r.draws.distribution == 'pert' else r.draws.distribution} "
            f"on each class's range with its value as the mode; {corr}; seed {r.draws.seed})")
    note = (f"{assumed} of the {len(varying)} rate classes that vary and value a row the optimiser may change have an "
            "assumed range (status: assumption in the rates file): the spread below comes largely from those assumed "
            "ranges, not from measurements — not a finding on its own")
    if len(r.draws) < 100:
        note += f"\nonly {len(r.draws)} draws: the quantiles and the value of information are rough"
    cols = [
        Col(None, "plan", align="<"),
        Col("mean", "mean", lambda v: number(v, 1)),
        Col("sd", "sd", lambda v: number(v, 1)),
        Col("p5", "5 %", lambda v: number(v, 1)),
        Col("p50", "50 %", lambda v: number(v, 1)),
        Col("p95", "95 %", lambda v: number(v, 1)),
        Col(worst, f"worst {tail * 100:g} % avg", lambda v: number(v, 1)),
        Col("beats_official", "beats official", lambda v: percent(v, 1)),
    ]
    if "regret_mean" in r.summary:
        cols += [Col("regret_mean", "regret mean", lambda v: number(v, 1)),
                 Col("regret_p95", "regret 95 %", lambda v: number(v, 1))]
    parts = [head, note, "", render(r.summary, cols, title="Expected integrations over the draws (regret: short of "
                                                           "the best plan for the same draw)")]
    gain = r.values["optimal"] - r.values["official"]
    parts.append(f"gain of the optimal plan over the official: mean {signed_count(gain.mean(), 1)}, 5–95 % "
                 f"{signed_count(gain.quantile(0.05), 1)} … {signed_count(gain.quantile(0.95), 1)}; "
                 f"it beats the official plan in {percent((gain > 0).mean(), 1)} of the draws")
    parts.append(r.robust["words"])
    if not r.summary.at["official", "keeps_every_rule"]:
        broken = r.solutions["official"].checks
        broken = broken[~broken["ok"]]
        parts.append(f"NOTE: the official plan breaks {len(broken)} rule(s) of this model ({', '.join(broken['name'].head(3))}"
                     f"{' …' if len(broken) > 3 else ''}): its values are not attainable here, and its regret can be "
                     "negative (it is measured against plans that keep every rule)")
    moved = (r.plans["robust"] - r.plans["optimal"]).abs()
    changed = moved[moved > 1e-6 * r.plans["optimal"].abs().clip(lower=1.0)]
    changed = changed[changed >= 0.05]  # what prints as a change at one decimal
    parts.append(f"the robust plan differs from the optimal plan in {len(changed)} rows"
                 + (": " + ", ".join(f"{i} {signed_count(r.plans.at[i, 'robust'] - r.plans.at[i, 'optimal'], 1)}"
                                     for i in changed.sort_values(ascending=False).index[:6]) if len(changed) else ""))
    if r.value_of_information is not None:
        voi = r.value_of_information
        parts += ["", render(voi, [
            Col("rank", "#"),
            Col(None, "class", align="<"),
            Col("integrations", "integrations", lambda v: number(v, 2)),
            Col("euros", "€ of budget worth as much", money),
            Col("range", "range", align=">"),
            Col("status", "range is", align="<"),
        ], title="Value of information: what knowing a class's rate before planning adds on average (expected value "
                 "of perfect information)")]
        every = r.perfect_information
        parts.append(f"all rates known before planning: {number(every['integrations'], 2)} integrations on average "
                     f"({money(every['euros'])} € of budget worth as much, at {number(every['integrations_per_euro'] * 1000, 4)} "
                     "integrations per 1,000 €)")
        parts.append("a class whose range is an assumption ranks by that assumed range: its value says which "
                     "evaluation would settle the assumption, not how uncertain the rate is known to be")
    if r.corridors is not None and not r.corridors.empty:
        c = r.corridors.head(corridor_rows).copy()
        c["note"] = [_box_note(r.problem, i) for i in c.index]
        parts += ["", render(c, [
            Col(None, "instrument", align="<"),
            Col("at_minimum", "at min", lambda v: percent(v, 0)),
            Col("between", "between", lambda v: percent(v, 0)),
            Col("at_maximum", "at max", lambda v: percent(v, 0)),
            Col("p5", "5 %", lambda v: count(v, 1)),
            Col("p95", "95 %", lambda v: count(v, 1)),
            Col("optimal", "optimal", lambda v: count(v, 1)),
            Col("robust", "robust", lambda v: count(v, 1)),
            Col("note", "note", align="<"),
        ], title=f"Corridors: where each row's best level sits over the draws ({len(c)} that move most of "
                 f"{len(r.corridors)}; the CSV has all)")]
    if r.seconds:
        parts += ["", "time: " + ", ".join(f"{k} {v:.2f} s" for k, v in r.seconds.items())]
    return "\n".join(parts)


def _box_note(problem, iid: str) -> str:
    """Says where a bound the corridor meets is only the fallback box (not a finding)."""
    inst = problem.instruments
    sides = [side for side in ("lower", "upper") if inst.at[iid, f"{side}_source"] == "box"]
    return f"{' and '.join('min' if s == 'lower' else 'max' for s in sides)} set by the fallback box: not a finding" if sides else ""


# ----- the year in quarters, commitments, stages -----


def _money_worth_line(y) -> str:
    """What a euro more is worth in the year planned by quarter: budget, next year's commitment room, reserve."""
    com = y.commitments
    reserve = float(y.problem.budget.reserve)
    return (f"worth of money, planned by quarter: {number(y.timed.prices['budget'] * 1000, 4)} integrations per 1,000 € "
            f"more new-business budget, {number(com['per_1000_eur'].iloc[0], 4)} per 1,000 € more commitment room for "
            f"{com.index[0]}" + (f"; planning the reserve kept for the year ({money(reserve)} €) adds "
                                 f"{number(y.reserve_worth, 1)} integrations (re-solved)" if reserve > 0 else ""))


def year_prices_view(y) -> str:
    """For ``optalloc explain --year``: what the commitment limits (Verpflichtungsermächtigungen) and the reserve
    are worth when the year is planned by quarter, with the timing assumptions they rest on."""
    from ..analyses.timing import cash_limit_words

    com = y.commitments.copy()
    com["year"] = com.index
    com["binds"] = (com["limit"] - com["optimal"]).abs() <= 0.01
    reserve = float(y.problem.budget.reserve)
    lines = [f"The year {y.timing.year} planned by quarter (timing: {y.timing.path.name}; optalloc year shows cash per "
             "month, entries by quarter and decisions in stages)",
             "assumptions (not findings on their own): " + "; ".join(cash_limit_words(y.timing)), "",
             render(com, [
                 Col("year", "commitments into", align="<"),
                 Col("optimal", "optimal €", money),
                 Col("limit", "limit €", money),
                 Col("binds", "binds", lambda v: "yes" if v else "no"),
                 Col("per_1000_eur", "per 1,000 € more limit", lambda v: number(v, 4)),
             ], title="What the commitment limits are worth (expected integrations per 1,000 € more room; the "
                      "limits are the timing file's, an assumption)"),
             "", _money_worth_line(y)]
    if reserve > 0:
        lines.append(f"the reserve ({money(reserve)} €) is held back for the year by the model's budget; its worth "
                     "is the gain of a re-solve with the reserve planned, not a price at the margin")
    return "\n".join(lines)


def year_report(y, rows: int = 12) -> str:
    """Cash per month, commitments, the plan by quarter, and decisions in stages."""
    from ..analyses.timing import cash_limit_words

    t = y.timing
    off_value = float(y.problem.integrations(y.problem.instruments["official"]).sum())
    parts = [f"{y.problem.name}: the year {t.year} in quarters, its commitments into the years after, and decisions in "
             f"stages (timing: {t.path.name})",
             "assumptions (not findings on their own): " + "; ".join(cash_limit_words(t)), ""]
    parts.append(f"expected integrations: official {number(off_value, 1)} · yearly optimum (entries spread as the "
                 f"official plan's) {number(y.yearly_integrations, 1)} · optimum with entries timed by quarter "
                 f"{number(y.timed.integrations, 1)} ({signed_count(y.timed.integrations - y.yearly_integrations, 1)})")
    shorter = (y.timed.levels - y.yearly).reindex(y.timing.factors.index)
    months = y.timing.factors["months"]
    cut_long = shorter[(shorter < -0.05) & (months >= 12)].sort_values()
    parts.append("what timing changes: entries later in the year cost less this year and more next year, and the limit "
                 "on next year's commitments (the official plan's own, an assumption) makes long-running rows dear"
                 + (": against the yearly optimum it cuts " + ", ".join(f"{i} {signed_count(v, 1)}" for i, v in
                                                                         cut_long.head(5).items()) if len(cut_long) else "")
                 + " — a reading of the assumed durations and limits, not a finding on its own")
    if y.official_broken:
        parts.append(f"NOTE: the official plan breaks {len(y.official_broken)} rule(s) of this model "
                     f"({', '.join(y.official_broken[:3])}{' …' if len(y.official_broken) > 3 else ''}): its cash "
                     "and commitments are shown as printed, not as a plan that could be carried out here")
    c = y.cash
    cash = c.copy()
    cash["month"] = cash.index
    parts += ["", render(cash, [
        Col("month", "month", lambda v: f"{int(v)}"),
        Col("official", "official €", money),
        Col("optimal", "optimal €", money),
        Col("official_to_date", "official to date €", money),
        Col("optimal_to_date", "optimal to date €", money),
    ], title=f"Cash per month of the {t.year} entries (new business and refugee tranches; the months add up to the "
             f"year to the cent; official: its printed money, {money(c['official'].sum())} €)")]
    com = y.commitments.copy()
    com["year"] = com.index
    parts += ["", render(com, [
        Col("year", "year", align="<"),
        Col("official", "official €", money),
        Col("yearly_optimum", "yearly optimum €", money),
        Col("optimal", "optimal by quarter €", money),
        Col("limit", "limit €", money),
        Col("per_1000_eur", "per 1,000 € more limit", lambda v: number(v, 4)),
    ], title="Commitments into later years (Verpflichtungen) of this year's entries (money rules such as "
             "fbw_no_cut count this year's cash)")]
    parts.append(_money_worth_line(y))
    over = com[com["yearly_optimum"] > com["limit"] + 0.005]
    if len(over):
        parts.append(f"the yearly optimum (optalloc solve) binds more than the limit in {', '.join(map(str, over.index))}: "
                     "planned by quarter, the optimum keeps within it")
    q = y.timed.quarters
    spread = y.official_quarters
    moved = (q - spread.mul(q.sum(axis=1) / spread.sum(axis=1).replace(0, 1), axis=0)).abs().sum(axis=1)
    top = q.loc[moved.sort_values(ascending=False).index[:rows]].copy()
    top.columns = [f"Q{k}" for k in top.columns]
    top["year"] = top.sum(axis=1)
    parts += ["", render(top, [Col(None, "instrument", align="<")] + [
        Col(f"Q{k}", f"Q{k}", lambda v: count(v, 1)) for k in (1, 2, 3, 4)] + [Col("year", "year", lambda v: count(v, 1))],
        title=f"Entries by quarter of the optimal plan ({len(top)} rows whose timing differs most from an even spread)")]
    if y.stages is not None:
        s = y.stages
        table = s.table()
        parts += ["", render(table, [
            Col(None, "outcome", align="<"),
            Col("probability", "probability", lambda v: percent(v, 1)),
            Col("staged", "staged", lambda v: number(v, 1)),
            Col("fixed", "fixed", lambda v: number(v, 1)),
            Col("difference", "staged − fixed", lambda v: signed_count(v, 1)),
        ], title=f"Decisions in stages: entries before Q{t.file.stages.resolves_in} decided now, the later ones "
                 "adapt to each outcome (probabilities are assumptions)")]
        worst = table["staged"].idxmin()  # the outcome with the least to spend: what a fixed plan must fit
        parts.append(f"expected integrations: staged {number(s.staged.expected, 1)}, fixed for the year "
                     f"{number(s.fixed.expected, 1)}: planning in stages is worth {signed_count(s.value_of_stages, 1)} "
                     f"against a plan that never adapts and so must fit the worst outcome ({worst}, "
                     f"{percent(table.at[worst, 'probability'], 1)}) (solved in {s.staged.seconds:.2f} s and "
                     f"{s.fixed.seconds:.2f} s)")
        if t.file.stages.reserve == "release":
            parts.append("in both, the reserve for the year is planned in every outcome: the events it was kept for are "
                         "modelled instead (stages.reserve: release) — so compare these figures with each other, not "
                         "with the timed optimum above, which keeps the reserve")
        broken = {k: v for k, v in s.checks(t).items() if v}
        parts.append("every outcome's plan, staged and fixed, keeps every rule (checked in plain arithmetic)" if not broken
                     else f"RULES BROKEN: {broken}")
    return "\n".join(parts)
