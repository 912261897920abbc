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

from .sweeps import Sweep  # noqa: E402
from .tradeoffs import Tradeoff  # noqa: E402


def sweep_curve(sweep: Sweep, official: tuple[float, float] | None = None, title: str = "") -> Figure:
    """Expected integrations over the new-business budget, the marginal value of money beneath it, and
    the official plan marked at ``official`` = (new-business money it uses, its expected integrations)."""
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
    if not curve.empty:
        at_base = curve["integrations"].iloc[(curve.index.to_series() - sweep.base_budget).abs().argmin()]
        top.scatter([base], [at_base], color="tab:blue", zorder=3, label=f"optimal plan at the model's budget: {at_base:,.1f}")
    else:
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
