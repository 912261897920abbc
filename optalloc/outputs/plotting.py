"""Plots (matplotlib): the integrations curve of a budget sweep, plans side by side, trade-off fronts.

Each function returns a matplotlib Figure and draws nothing on screen; the caller saves or shows it.
The Agg backend is used unless a notebook has chosen another.
"""

from __future__ import annotations

import matplotlib

if matplotlib.get_backend().lower() not in ("module://matplotlib_inline.backend_inline", "nbagg", "widget"):
    matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ..analyses.sweeps import Sweep  # noqa: E402
from ..analyses.tradeoffs import Tradeoff  # noqa: E402


def sweep_curve(sweep: Sweep, official: tuple[float, float] | None = None, title: str = "",
                at_budget: float | None = None) -> Figure:
    """Expected integrations over the new-business budget, the marginal value of money beneath it, and
    the official plan marked at ``official`` = (new-business money it uses, its expected integrations).

    The optimal plan at the model's own budget is marked with its exact optimum (``at_budget``, the expected
    integrations of ``optimise(sweep.problem)``; solved here when not given), not read off the nearest level
    of the sweep's grid."""
    curve = sweep.curve[sweep.curve["status"] == "optimal"]
    millions = curve.index / 1e6
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True, height_ratios=[3, 2])
    top.plot(millions, curve["integrations"], color="tab:blue", label="optimal plan")
    base = sweep.base_budget / 1e6
    top.axvline(base, color="grey", linestyle=":", linewidth=1)
    if official is not None:
        spent, value = official
        top.scatter([spent / 1e6], [value], color="tab:red", zorder=3,
                    label=f"official plan: {value:,.1f} with {spent / 1e6:,.2f} M€ of new business")
    if at_budget is None:
        at_budget = _optimum_at_budget(sweep)
    if not curve.empty and at_budget is not None:
        top.scatter([base], [at_budget], color="tab:blue", zorder=3,
                    label=f"optimal plan at the model's budget: {at_budget:,.1f}")
    elif curve.empty:
        top.text(0.5, 0.5, "no budget level of the range is feasible", transform=top.transAxes, ha="center")
    top.set_ylabel("expected integrations")
    top.legend(loc="upper left")
    top.grid(alpha=0.3)
    top.set_title(title or f"{sweep.problem.name}: integrations by new-business budget ({sweep.problem.basis} rates)")
    bottom.step(millions, curve["per_1000_eur"], where="mid", color="tab:green")
    bottom.axvline(base, color="grey", linestyle=":", linewidth=1)
    bottom.set_ylabel("integrations per\nadditional 1,000 €")
    bottom.set_xlabel("new-business budget (million €); dotted line: the model's budget")
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _optimum_at_budget(sweep: Sweep) -> float | None:
    """The expected integrations of the optimal plan at the model's own budget (None if infeasible there)."""
    from ..errors import InfeasibleError
    from ..solving.solve import optimise

    try:
        return optimise(sweep.problem).integrations
    except InfeasibleError:
        return None


def plans_by_area(areas: pd.DataFrame, value: str = "money", title: str = "") -> Figure:
    """Bars per priority area: official beside optimal (``value`` is "money" or "entries")."""
    labels = areas["chapter"].astype(str)
    off, opt = areas[f"{value}_official"], areas[f"{value}_plan"]
    scale, unit = (1e6, "million €") if value == "money" else (1.0, "entries")
    fig, ax = plt.subplots(figsize=(9, 4.5))
    x = range(len(areas))
    ax.bar([i - 0.2 for i in x], off / scale, width=0.4, label="official plan", color="tab:grey")
    ax.bar([i + 0.2 for i in x], opt / scale, width=0.4, label="optimal plan", color="tab:blue")
    ax.set_xticks(list(x), labels, rotation=0)
    ax.set_ylabel(unit)
    ax.set_title(title or f"{value} per priority area")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def tradeoff_front(t: Tradeoff, group_label: str = "", title: str = "") -> Figure:
    """The Pareto front: expected integrations against the entries reaching a group, and the marginal
    cost of coverage beneath it; the official plan marked."""
    front = t.front[t.front["status"] == "optimal"]
    label = group_label or t.group
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True, height_ratios=[3, 2])
    top.plot(front.index, front["integrations"], marker="o", markersize=3, color="tab:purple", label="Pareto front")
    if t.official is not None:
        reach, value = t.official
        top.scatter([reach], [value], color="tab:red", zorder=3, label=f"official plan: {value:,.0f} with {reach:,.0f} entries")
    top.set_ylabel("expected integrations")
    top.grid(alpha=0.3)
    top.legend(loc="lower left")
    top.set_title(title or f"{t.problem.name}: integrations against the reach of {label}")
    bottom.step(front.index, front["cost_per_entry"], where="mid", color="tab:orange")
    bottom.set_ylabel("integrations given up\nper extra entry")
    bottom.set_xlabel(f"entries reaching {label} (required at least)")
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    return fig


PLAN_COLOURS = {"official": "tab:grey", "optimal": "tab:blue", "robust": "tab:green"}


def risk_histogram(risk, title: str = "") -> Figure:
    """The distribution of expected integrations over the rate draws: official, optimal and robust plans."""
    fig, ax = plt.subplots(figsize=(9, 4.5))
    values = risk.values
    lo, hi = float(values[list(PLAN_COLOURS)].min().min()), float(values[list(PLAN_COLOURS)].max().max())
    bins = 40 if hi > lo else 1
    for plan, colour in PLAN_COLOURS.items():
        v = values[plan]
        ax.hist(v, bins=bins, range=(lo, hi) if hi > lo else None, histtype="step", linewidth=1.6, color=colour,
                label=f"{plan}: mean {v.mean():,.1f}, 5 % {v.quantile(0.05):,.1f}")
    ax.set_xlabel(f"expected integrations ({risk.problem.basis}) over {len(values):,} draws of the rates")
    ax.set_ylabel("draws")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    ax.set_title(title or f"{risk.problem.name}: how sure the gain is (assumed ranges drive most of the spread)")
    fig.tight_layout()
    return fig


def value_of_information_bars(risk, title: str = "") -> Figure:
    """Expected value of perfect information per rate class, hatched where the class's range is assumed."""
    voi = risk.value_of_information.iloc[::-1]
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(voi) + 1.5))
    assumed = (voi["status"] == "assumption").to_numpy()
    bars = ax.barh(voi.index.astype(str), voi["integrations"], color="tab:purple")
    for bar, is_assumed in zip(bars, assumed):
        if is_assumed:
            bar.set_hatch("//")
            bar.set_facecolor("white")
            bar.set_edgecolor("tab:purple")
    ax.set_xlabel("expected integrations gained by knowing the class's rate before planning (hatched: assumed range)")
    ax.grid(alpha=0.3, axis="x")
    ax.set_title(title or f"{risk.problem.name}: which evaluation is worth commissioning")
    fig.tight_layout()
    return fig


def corridors_chart(risk, rows: int = 20, title: str = "") -> Figure:
    """Per instrument (those that move most): its range of levels, the 5–95 % range of its best level over
    the draws, and the optimal and robust plans' levels, as shares of its range."""
    c = risk.corridors.head(rows).iloc[::-1]
    width = (c["maximum"] - c["minimum"]).replace(0, 1.0)

    def share(col: str) -> pd.Series:
        return (c[col] - c["minimum"]) / width

    fig, ax = plt.subplots(figsize=(9, 0.32 * len(c) + 1.5))
    y = range(len(c))
    ax.hlines(list(y), 0, 1, color="lightgrey", linewidth=6, label="from minimum to maximum")
    ax.hlines(list(y), share("p5"), share("p95"), color="tab:orange", linewidth=6, label="best level, 5–95 % of draws")
    ax.scatter(share("optimal"), list(y), color=PLAN_COLOURS["optimal"], zorder=3, label="optimal plan", s=18)
    ax.scatter(share("robust"), list(y), color=PLAN_COLOURS["robust"], zorder=3, marker="x", label="robust plan")
    ax.set_yticks(list(y), c.index.astype(str))
    ax.set_xlabel("level as a share of the row's range (0: its minimum, 1: its maximum)")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title or f"{risk.problem.name}: corridors of the best plan under rate uncertainty")
    fig.tight_layout()
    return fig


def change_frontier(frontier, title: str = "") -> Figure:
    """The minimal-change frontier: the share of the attainable gain against the euros moved (least euros,
    left) and against the rows touched (fewest rows, right); the official plan at 0, the optimum at 100 %."""
    t = frontier.table
    euros, rows = t.loc["euros"], t.loc["rows"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    left.plot(euros["euros_moved"] / 1e3, euros.index * 100, marker="o", color="tab:blue")
    for share, r in euros.iterrows():
        left.annotate(f"{int(r['rows_touched'])} rows", (r["euros_moved"] / 1e3, share * 100), fontsize=7,
                      xytext=(4, -9), textcoords="offset points")
    left.set_xlabel("euros moved, Σ |Δ money| over the rows (thousand €)")
    left.set_ylabel("share of the attainable gain (%)")
    left.set_title("least euros moved (LP)")
    right.step(rows["rows_touched"], rows.index * 100, where="post", color="tab:orange")
    right.plot(rows["rows_touched"], rows.index * 100, "o", color="tab:orange")
    right.set_xlabel("rows whose level changes")
    right.set_title("fewest rows touched (MILP)")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.set_ylim(-3, 103)
    start = "official plan" if frontier.official_feasible else "nearest plan keeping every rule"
    fig.suptitle(title or f"{frontier.problem.name}: how much change for how much of the gain ({start} "
                          f"{frontier.start.integrations:,.1f} → optimum {frontier.optimal.integrations:,.1f} "
                          f"expected integrations, {frontier.problem.basis})", fontsize=10)
    fig.tight_layout()
    return fig


def cash_profile(year, title: str = "") -> Figure:
    """Cash to date per month, official beside optimal, and the commitments into the next two years."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), width_ratios=[3, 2])
    c = year.cash
    left.plot(c.index, c["official_to_date"] / 1e6, marker="o", color=PLAN_COLOURS["official"], label="official plan")
    left.plot(c.index, c["optimal_to_date"] / 1e6, marker="o", color=PLAN_COLOURS["optimal"], label="optimal, timed by quarter")
    left.set_xlabel(f"month of {year.timing.year}")
    left.set_ylabel("cash to date (million €)")
    left.set_xticks(list(c.index))
    left.grid(alpha=0.3)
    left.legend(loc="upper left")
    com = year.commitments
    x = range(len(com))
    right.bar([i - 0.25 for i in x], com["official"] / 1e6, width=0.25, color=PLAN_COLOURS["official"], label="official")
    right.bar(list(x), com["yearly_optimum"] / 1e6, width=0.25, color="tab:orange", label="yearly optimum")
    right.bar([i + 0.25 for i in x], com["optimal"] / 1e6, width=0.25, color=PLAN_COLOURS["optimal"], label="optimal by quarter")
    right.scatter(list(x), com["limit"] / 1e6, marker="_", s=900, color="black", label="limit (assumption)", zorder=3)
    right.set_xticks(list(x), [str(i) for i in com.index])
    right.set_ylabel("commitments (million €)")
    right.legend(loc="upper right", fontsize=8)
    right.grid(alpha=0.3, axis="y")
    fig.suptitle(title or f"{year.problem.name}: cash of the year and what it binds later")
    fig.tight_layout()
    return fig
