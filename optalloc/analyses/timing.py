"""The year in quarters: when entries start, what they cost in 2016 and what they bind in 2017 and 2018.

A timing file (``models/<model>-timing.yaml``) gives each row a duration in months; an entry's cost falls
evenly over those months from its start. The printed "Mittelansatz (Neufall)" is the 2016 money of the
official entries, spread over the year as ``official_spread`` says; so an entry's whole cost is its printed
2016 money per entry ÷ its average 2016 share, and the official plan costs in 2016 exactly what the document
prints. Per quarter q of entry, a row's 2016 money per entry is its printed money per entry × ``in_year[q]``
and its commitments into the next two years × ``next_year[q]`` and × ``year_after[q]`` (factors relative to the
printed money, so they apply to any cost the LP has for the row, scenario changes included).

:func:`add_quarters` puts this on a built LP: entries by quarter (summing to the row's entries of the year),
every euro row counting the quarters' 2016 money instead of the year's printed money, the intake per quarter
limited, a procured measure's first quarter held at the official plan's, and the commitments into the next
two years within a limit. Rows are timed where every cost component is new-business money (``Neufall``): a
federal programme's rows (paid by the programme's own yearly money) and EGT co-funding stay annual.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pulp
from pydantic import Field, model_validator

from ..errors import InputFileError
from ..model.loading import parse, read_yaml
from ..solving.lp import LinearProgram, RowInfo
from ..model.problem import Problem
from ..model.schema import Ident, Money, Share, Strict

QUARTERS = (1, 2, 3, 4)
MONTHS_OF = {q: (3 * q - 2, 3 * q - 1, 3 * q) for q in QUARTERS}
PROCURED = ("places", "contract")  # capacities that come from an award: more needs a new award (lead time)


class Documented(Strict):
    status: Literal["sourced", "assumption", "document"] = "assumption"
    source: str = ""
    note: str = ""

    @model_validator(mode="after")
    def _sourced(self) -> Documented:
        if self.status in ("sourced", "document") and not self.source:
            raise ValueError(f"a '{self.status}' figure needs 'source'")
        return self


class Part(Strict):
    share: Share  # of the row's entries
    months: int = Field(ge=1, le=48)


class Duration(Documented):
    """A row's duration in months; ``parts`` where its entries run for different lengths (the cost of a part
    taken as proportional to its months: the same cost per month of participation, an assumption)."""

    months: int = Field(ge=1, le=48)
    low: int | None = Field(default=None, ge=1, le=48)
    high: int | None = Field(default=None, ge=1, le=48)
    parts: list[Part] | None = Field(default=None, min_length=2, max_length=6)

    @model_validator(mode="after")
    def _parts_add_up(self) -> Duration:
        if self.parts is not None and abs(sum(p.share for p in self.parts) - 1.0) > 1e-9:
            raise ValueError(f"the parts' shares add up to {sum(p.share for p in self.parts):g}: they must add up to 1")
        return self

    def profile(self, start: int) -> np.ndarray:
        """Share of an entry's cost paid in each month 1..60 counted from January of the plan year, for an
        entry starting in month ``start`` (1..12)."""
        parts = self.parts or [Part(share=1.0, months=self.months)]
        weight = np.array([p.share * p.months for p in parts])
        shares = np.array([_shares(p.months, start) for p in parts])
        return weight @ shares / weight.sum()


class Spread(Documented):
    quarters: tuple[Share, Share, Share, Share]

    @model_validator(mode="after")
    def _adds_up(self) -> Spread:
        if abs(sum(self.quarters) - 1.0) > 1e-9:
            raise ValueError(f"the four quarters' shares add up to {sum(self.quarters):g}: they must add up to 1")
        return self


class Intake(Documented):
    max_quarter_share: float = Field(ge=0.25, le=1.0)
    low: float | None = None
    high: float | None = None


class LeadTime(Documented):
    months: int = Field(ge=0, le=12)
    low: int | None = None
    high: int | None = None


class Commitments(Documented):
    """Limits of what this year's entries may bind later, in euros or 'official': the official plan's own
    commitments, scaled by what the problem makes available against what the official plan spends (so that a
    budget cut shrinks the limit with it)."""

    limit_next_year: Money | Literal["official"] = "official"
    limit_year_after: Money | Literal["official"] = "official"
    limit_later: Money | Literal["official"] = "official"
    low: float | None = None
    high: float | None = None


class Event(Documented):
    id: Ident
    name: str
    probability: Share
    low: float | None = None
    high: float | None = None
    scenario: str | dict


class Stages(Strict):
    resolves_in: int = Field(ge=2, le=4)
    reserve: Literal["release", "keep"] = "release"
    events: list[Event] = Field(default_factory=list, max_length=6)


class TimingMeta(Strict):
    model: str = ""
    year: int = Field(ge=2000, le=2100)


class TimingFile(Strict):
    meta: TimingMeta
    official_spread: Spread
    default_months: Duration
    durations: dict[Ident, Duration] = Field(default_factory=dict)
    intake: Intake
    lead_time: LeadTime
    commitments: Commitments
    stages: Stages | None = None


@dataclass(frozen=True)
class Timing:
    """The timing of a problem's rows. ``factors`` (index: timed instrument) has months and, per quarter of
    entry, ``in_year_q``, ``next_year_q``, ``year_after_q`` (relative to the printed money per entry) and
    ``monthly_q`` (the 12 shares of the printed money paid in each month of the year)."""

    path: Path
    file: TimingFile
    factors: pd.DataFrame
    monthly: dict[str, np.ndarray]  # per timed row: 4 × 12 shares of printed money per entry, by quarter of entry

    @property
    def year(self) -> int:
        return self.file.meta.year


def load_timing(path: Path | str, problem: Problem) -> Timing:
    """Read and check a timing file against the problem's rows (unknown ids are refused)."""
    path = Path(path)
    data = read_yaml(path, "timing file")
    tf: TimingFile = parse(TimingFile, data, str(path))
    unknown = sorted(set(tf.durations) - set(problem.instruments.index))
    if unknown:
        raise InputFileError(str(path), f"durations.{unknown[0]}", unknown[0],
                             f"an instrument of {problem.spec.path}")
    return Timing(path, tf, *_factors(problem, tf))


def default_timing_path(model_path: Path | str) -> Path:
    """``models/x.yaml`` → ``models/x-timing.yaml``."""
    p = Path(model_path)
    return p.with_name(f"{p.stem}-timing{p.suffix}")


def timed_rows(problem: Problem) -> list[str]:
    """Rows whose every cost component is new-business money (not a programme's, not co-funding)."""
    costs = problem.costs
    out = []
    for iid in problem.instruments.index:
        labels = set(costs.loc[costs["instrument"] == iid, "label"])
        if labels and labels <= {"Neufall"}:
            out.append(str(iid))
    return out


HORIZON = 60  # months from January of the plan year: the plan year and four after it
LATER = {"next_year": (12, 24), "year_after": (24, 36), "later": (36, HORIZON)}  # months of each later period


def _shares(months: int, start: int) -> np.ndarray:
    """Share of an entry's cost paid in each month 1..60 counted from January of the plan year, for an entry
    starting in month ``start`` (1..12), the cost falling evenly over ``months`` months."""
    out = np.zeros(HORIZON)
    out[start - 1:start - 1 + months] = 1.0 / months
    return out


def _factors(problem: Problem, tf: TimingFile) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    spread = np.asarray(tf.official_spread.quarters, dtype=float)
    rows, monthly = [], {}
    for iid in timed_rows(problem):
        duration = tf.durations.get(iid) or tf.default_months
        months = duration.months
        by_quarter = np.array([np.mean([duration.profile(m) for m in MONTHS_OF[q]], axis=0) for q in QUARTERS])
        in_year = by_quarter[:, :12].sum(axis=1)
        base = float(spread @ in_year)  # the official entries' average 2016 share
        rel = by_quarter / base  # per quarter, per month: relative to the printed money per entry
        record = {"instrument": iid, "months": months, "in_year_official": base}
        for q in QUARTERS:
            record[f"in_year_{q}"] = rel[q - 1, :12].sum()
            for key, (a, b) in LATER.items():
                record[f"{key}_{q}"] = rel[q - 1, a:b].sum()
        rows.append(record)
        monthly[iid] = rel[:, :12]
    return pd.DataFrame(rows).set_index("instrument"), monthly


@dataclass
class QuarterLayer:
    """What :func:`add_quarters` added to an LP: entries per (instrument, quarter), the commitment rows."""

    entries: dict[tuple[str, int], pulp.LpVariable]
    commitment_rows: dict[str, str]  # "next_year" / "year_after" / "later" → row name
    limits: dict[str, float]


def official_quarters(problem: Problem, timing: Timing, levels: pd.Series | None = None) -> pd.DataFrame:
    """Entries per quarter of a plan spread as the official plan is (instruments × quarters)."""
    levels = problem.instruments["official"] if levels is None else levels
    spread = np.asarray(timing.file.official_spread.quarters, dtype=float)
    ids = problem.instruments.index
    return pd.DataFrame(np.outer(levels.reindex(ids).to_numpy(float), spread), index=ids, columns=list(QUARTERS))


def commitments(problem: Problem, timing: Timing, quarters: pd.DataFrame) -> dict[str, float]:
    """Euros a plan's entries (by quarter) bind in the next year, the year after and later (timed rows only)."""
    cost = problem.instruments["unit_cost"]
    f = timing.factors
    out = {key: 0.0 for key in LATER}
    for iid in f.index:
        for q in QUARTERS:
            for key in LATER:
                out[key] += float(cost[iid] * f.at[iid, f"{key}_{q}"] * quarters.at[iid, q])
    return out


def commitment_limits(problem: Problem, timing: Timing) -> dict[str, float]:
    """The limits of the commitments: euros, or where the file says 'official' the official plan's own,
    scaled by the money the problem makes available for timed rows against what the official plan spends on
    them in the year (1 for the model as printed; less under a cut)."""
    official = commitments(problem, timing, official_quarters(problem, timing))
    scale = _available_share(problem, timing)
    c = timing.file.commitments
    given = {"next_year": c.limit_next_year, "year_after": c.limit_year_after, "later": c.limit_later}
    return {key: official[key] * scale if given[key] == "official" else float(given[key]) for key in LATER}


def _available_share(problem: Problem, timing: Timing) -> float:
    """What the pools that pay timed rows make available ÷ what the official plan spends from them."""
    costs = problem.costs[problem.costs["instrument"].isin(timing.factors.index)]
    pools = {p for ps in costs["pools"] for p in ps}
    available = float(problem.pools.loc[sorted(pools), "available"].sum())
    official = problem.instruments["official"]
    spent = sum(float(c.per_unit) * float(official[c.instrument]) for c in costs.itertuples())
    # untimed rows paid from the same pools spend there too
    others = problem.costs[~problem.costs["instrument"].isin(timing.factors.index)]
    spent_by_others = sum(float(c.per_unit) * float(official[c.instrument]) for c in others.itertuples()
                          if set(c.pools) & pools)
    return (available - spent_by_others) / spent if spent > 0 else 1.0


def add_quarters(lp: LinearProgram, timing: Timing, prefix: str = "",
                 limits: dict[str, float] | None = None) -> QuarterLayer:
    """Put entries by quarter on a built LP (see the module docstring). ``prefix`` names the new variables
    and rows apart where several LPs share one PuLP problem."""
    problem = lp.problem
    inst = problem.instruments
    f = timing.factors
    tf = timing.file
    spread = np.asarray(tf.official_spread.quarters, dtype=float)
    first_quarter_open = tf.lead_time.months == 0
    prob = lp.prob
    entries: dict[tuple[str, int], pulp.LpVariable] = {}

    def add(name: str, expr: pulp.LpAffineExpression, sense: str, rhs: float, info: RowInfo) -> None:
        c = {"<=": expr <= rhs, ">=": expr >= rhs, "=": expr == rhs}[sense]
        prob.addConstraint(c, name)
        lp.rows[name] = info
        lp.constraint[name] = prob.get_constraint_by_name(name)

    for iid in inst.index:
        x = lp.level[iid]
        qs = [prob.add_variable(f"{prefix}q_{iid}_{q}", lowBound=0.0) for q in QUARTERS]
        for q, v in zip(QUARTERS, qs):
            entries[(iid, q)] = v
        add(f"quarters:{iid}", pulp.LpAffineExpression([(v, 1.0) for v in qs] + [(x, -1.0)]), "=", 0.0,
            RowInfo("quarters", "entries", f"{iid}: its entries of the year by quarter", iid, "=", 0.0))
        if bool(inst.at[iid, "fixed"]):  # what is fixed keeps the official spread over the year
            for k, v in enumerate(qs):
                add(f"spread:{iid}:{k + 1}", pulp.LpAffineExpression([(v, 1.0), (x, -float(spread[k]))]), "=", 0.0,
                    RowInfo("spread", "entries", f"{iid}: fixed, spread as the official plan", iid, "=", 0.0))
            continue
        share = tf.intake.max_quarter_share
        if share < 1.0:
            for k, v in enumerate(qs):
                add(f"intake:{iid}:{k + 1}", pulp.LpAffineExpression([(v, 1.0), (x, -share)]), "<=", 0.0,
                    RowInfo("intake", "entries", f"{iid}: at most {share:.0%} of its year's entries in quarter {k + 1}",
                            iid, "<=", 0.0))
        if not first_quarter_open and inst.at[iid, "capacity"] in PROCURED:
            first = float(inst.at[iid, "official"] * spread[0])
            add(f"lead_time:{iid}", pulp.LpAffineExpression([(qs[0], 1.0)]), "<=", first,
                RowInfo("lead_time", "entries", f"{iid}: a new award takes {tf.lead_time.months} months", iid, "<=", first))
    # euro rows count each timed row's quarters at their 2016 money instead of the year's printed money
    for name, c in list(lp.constraint.items()):
        if lp.rows[name].unit != "€":
            continue
        expr = c.expr
        for iid in f.index:
            x = lp.level[iid]
            a = expr.get(x)
            if not a:
                continue
            del expr[x]
            for q in QUARTERS:
                v = entries[(iid, q)]
                expr[v] = expr.get(v, 0.0) + a * float(f.at[iid, f"in_year_{q}"])
    limits = limits or commitment_limits(problem, timing)
    rows = {}
    cost = inst["unit_cost"]
    for key, label in (("next_year", f"{timing.year + 1}"), ("year_after", f"{timing.year + 2}"),
                       ("later", f"{timing.year + 3}+")):
        terms = [(entries[(iid, q)], float(cost[iid] * f.at[iid, f"{key}_{q}"])) for iid in f.index for q in QUARTERS
                 if cost[iid] * f.at[iid, f"{key}_{q}"] != 0.0]
        name = f"commitments:{key}"
        add(name, pulp.LpAffineExpression(terms), "<=", float(limits[key]),
            RowInfo("commitments", "€", f"commitments into {label} (Verpflichtungsermächtigung)", key, "<=",
                    float(limits[key])))
        rows[key] = name
    return QuarterLayer(entries, rows, limits)


def monthly_cash(problem: Problem, timing: Timing, quarters: pd.DataFrame) -> pd.DataFrame:
    """New-business cash per month of the plan year and row, in euros from whole cents: each timed row's
    2016 money (its quarters at their 2016 money, rounded to the cent) spread over the months by its profile,
    the cents shared out by largest remainder so that the months add up to the year exactly; untimed euros
    paid from the new-business pool spread evenly over the twelve months."""
    inst = problem.instruments
    cost = inst["unit_cost"]
    rows = {}
    for iid in inst.index:
        if iid in timing.monthly:
            weights = np.einsum("q,qm->m", quarters.loc[iid].to_numpy(float), timing.monthly[iid]) * float(cost[iid])
        else:
            new_business = problem.costs[(problem.costs["instrument"] == iid)
                                         & problem.costs["pools"].apply(lambda p: problem.new_business_pool in p)]
            year = float(new_business["per_unit"].sum()) * float(quarters.loc[iid].sum())
            weights = np.full(12, year / 12)
        total = int(round(float(weights.sum()) * 100))
        rows[iid] = _share_cents(total, weights) / 100
    out = pd.DataFrame(rows, index=pd.Index(range(1, 13), name="month")).T
    out.index.name = "instrument"
    return out


def _share_cents(total: int, weights: np.ndarray) -> np.ndarray:
    """``total`` cents shared out in proportion to ``weights`` (largest remainder): whole cents adding up."""
    if total == 0 or weights.sum() <= 0:
        return np.zeros(len(weights))
    exact = weights / weights.sum() * total
    cents = np.floor(exact)
    rest = int(total - cents.sum())
    order = np.argsort(-(exact - cents), kind="stable")
    cents[order[:rest]] += 1
    return cents


def quarter_table(layer: QuarterLayer, ids) -> pd.DataFrame:
    """The solved entries per instrument and quarter."""
    return pd.DataFrame({q: [float(layer.entries[(i, q)].varValue or 0.0) for i in ids] for q in QUARTERS},
                        index=pd.Index(ids, name="instrument"))


def cash_limit_words(timing: Timing) -> list[str]:
    """The timing assumptions in words, for reports."""
    tf = timing.file
    assumed = sum(1 for iid in timing.factors.index if (tf.durations.get(iid) or tf.default_months).status == "assumption")
    return [
        f"durations: {assumed} of {len(timing.factors)} timed rows rest on an assumed duration (the file gives each a range)",
        f"official entries spread over the quarters as {', '.join(f'{s:.0%}' for s in tf.official_spread.quarters)} "
        f"({tf.official_spread.status})",
        f"intake: at most {tf.intake.max_quarter_share:.0%} of a row's year in one quarter ({tf.intake.status})",
        f"lead time: {tf.lead_time.months} months for a new award ({tf.lead_time.status})",
        f"commitment limits: {tf.commitments.limit_next_year} / {tf.commitments.limit_year_after} / "
        f"{tf.commitments.limit_later} ({tf.commitments.status})",
    ]



def money_factors(timing: Timing, quarters: pd.DataFrame) -> pd.Series:
    """Per timed row: its 2016 money ÷ the printed money of the same entries spread as the official plan
    (1 where the row has no entries or is not timed)."""
    f = timing.factors
    out = {}
    for iid in f.index:
        total = float(quarters.loc[iid].sum())
        spent = sum(float(f.at[iid, f"in_year_{q}"]) * float(quarters.at[iid, q]) for q in QUARTERS)
        out[iid] = spent / total if total > 1e-12 else 1.0
    return pd.Series(out, dtype=float)


def in_year_problem(problem: Problem, timing: Timing, quarters: pd.DataFrame) -> Problem:
    """The problem with each timed row's money per entry at what its quarters cost in 2016: the yearly
    rules (pools, caps, money coverage, money policy rules) then check the timed plan as they stand."""
    import dataclasses

    factor = money_factors(timing, quarters).reindex(problem.instruments.index).fillna(1.0)
    inst = problem.instruments.copy()
    inst["unit_cost"] = inst["unit_cost"] * factor
    costs = problem.costs.copy()
    costs["per_unit"] = costs["per_unit"] * costs["instrument"].map(factor).fillna(1.0)
    limits = tuple(dataclasses.replace(rule, terms=tuple((i, c * float(factor.get(i, 1.0))) for i, c in rule.terms))
                   if rule.unit == "€" else rule for rule in problem.limits)
    return dataclasses.replace(problem, instruments=inst, costs=costs, limits=limits)


def check_quarters(problem: Problem, timing: Timing, quarters: pd.DataFrame, levels: pd.Series,
                   limits: dict[str, float] | None = None) -> list[str]:
    """The rules of the quarters, in plain arithmetic: quarters add up to the year, the intake per quarter,
    the lead time of procured rows, fixed rows spread as the official plan, the commitment limits. Returns
    the rules broken (empty: all hold)."""
    inst = problem.instruments
    tf = timing.file
    spread = np.asarray(tf.official_spread.quarters, dtype=float)
    bad = []
    tol = 1e-6
    for iid in inst.index:
        q = quarters.loc[iid].to_numpy(float)
        year = float(levels[iid])
        scale = max(1.0, abs(year))
        if (q < -tol * scale).any() or abs(q.sum() - year) > tol * scale:
            bad.append(f"quarters:{iid}: {q.round(3).tolist()} do not add up to {year:.3f}")
        if bool(inst.at[iid, "fixed"]):
            if np.abs(q - spread * year).max() > tol * scale:
                bad.append(f"spread:{iid}: a fixed row moved in time")
            continue
        if (q > tf.intake.max_quarter_share * year + tol * scale).any():
            bad.append(f"intake:{iid}: a quarter above {tf.intake.max_quarter_share:.0%} of {year:.3f}")
        if tf.lead_time.months > 0 and inst.at[iid, "capacity"] in PROCURED:
            if q[0] > float(inst.at[iid, "official"]) * spread[0] + tol * scale:
                bad.append(f"lead_time:{iid}: {q[0]:.3f} in the first quarter")
    bound = commitments(problem, timing, quarters)
    limits = limits or commitment_limits(problem, timing)
    for key in LATER:
        if bound[key] > limits[key] + 0.01:
            bad.append(f"commitments {key}: {bound[key]:,.2f} above {limits[key]:,.2f}")
    return bad


@dataclass(frozen=True)
class TimedPlan:
    """The optimal plan by quarter: entries per quarter, its yearly levels and integrations, the worth of
    the commitment limits and of the new-business budget (integrations per euro more), and the limits."""

    problem: Problem
    quarters: pd.DataFrame
    levels: pd.Series
    integrations: float
    prices: dict[str, float]
    limits: dict[str, float]
    seconds: float


def solve_timed(problem: Problem, timing: Timing, spread_fixed: bool = False,
                limits: dict[str, float] | None = None) -> TimedPlan:
    """The plan with the most expected integrations when entries may be timed by quarter. ``spread_fixed``
    holds every row at the official spread over the year (then the yearly optimum comes back); ``limits``
    the commitment limits (default: :func:`commitment_limits` of this problem)."""
    import time

    from ..errors import InfeasibleError, SolverError
    from ..solving.lp import build_lp
    from ..solving.solve import _read_duals, _run

    lp = build_lp(problem)
    layer = add_quarters(lp, timing, limits=limits)
    if spread_fixed:
        spread = timing.file.official_spread.quarters
        for iid in problem.instruments.index:
            for q in QUARTERS:
                lp.prob.addConstraint(layer.entries[(iid, q)] - float(spread[q - 1]) * lp.level[iid] == 0,
                                      f"official_spread:{iid}:{q}")
    start = time.perf_counter()
    status = _run(lp, "highs")
    seconds = time.perf_counter() - start
    if status == "Infeasible":
        from ..solving.diagnosis import diagnose

        raise InfeasibleError(f"{problem.name}: no plan by quarter satisfies every requirement", diagnose(problem))
    if status != "Optimal":
        raise SolverError(f"{problem.name}: the quarterly LP stopped with status {status!r}")
    duals, _ = _read_duals(lp, "highs")
    ids = list(problem.instruments.index)
    quarters = quarter_table(layer, ids)
    levels = quarters.sum(axis=1)
    prices = {key: float(duals[name]) for key, name in layer.commitment_rows.items()}
    prices["budget"] = float(duals[problem.pool_row(problem.new_business_pool)])
    return TimedPlan(problem, quarters, levels, float(problem.integrations(levels).sum()), prices, layer.limits,
                     seconds)
