"""Rate uncertainty: how sure the gain is, a plan that holds up, and which evaluation is worth buying.

Every rate class of the rates file has a value and a range [low, high]; most ranges are assumptions. Here
each class's figure becomes a distribution over its range with the value as its mode (PERT by default, or
triangular), drawn reproducibly from a seed; optionally the classes' errors share one factor (a Gaussian
copula with equal correlation ``correlation``: when one rate is too optimistic, the others tend to be too).

A draw moves a class's whole diminishing-returns curve by the draw's error — the shape stays, its level
moves (a row with its own rate moves in proportion, as its range does); the floor beyond the curve's low
end stays where it is (what entries past it add — nothing for gross rates, a negative effect for some net
effects — does not move with the rate), and every marginal rate
stays a share: within [0, 1] for gross rates, [−1, 1] for net effects. The curve stays concave, so one LP
per draw still gives that draw's best plan.

On the draws :func:`assess` reports
- the distribution of the official, the optimal (at the rates' values) and a robust plan's expected
  integrations: one matrix product per plan;
- the regret: how far each falls short of the best plan for that draw, re-optimised per draw on one HiGHS
  model whose objective alone changes (warm start);
- the robust plan (a sample-average LP, :func:`_robust_plan`): its ``tail`` quantile at least the optimal
  plan's, its worst ``tail`` share of draws averaging as much as any such plan can (CVaR), and within
  that the most integrations on average;
- the expected value of perfect information per rate class: how much more the best plan would give on
  average if that class's rate were known before planning (draws grouped by the class's rate, one plan per
  group), in integrations and in the euros of budget worth as much;
- corridors: per instrument, how often its best level sits at its minimum, in between or at its maximum.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InfeasibleError, SolverError, UsageError
from ..solving.lp import build_lp
from ..model.problem import Problem
from ..solving.solve import Solution, _run, evaluate, official, optimise

DISTRIBUTIONS = ("pert", "triangular")
PERT_WEIGHT = 4.0  # the classic PERT: mean = (low + 4 × mode + high) / 6
VOI_GROUPS = 20  # the draws are grouped by a class's rate into this many groups for its value of information
QUANTILES = (0.05, 0.5, 0.95)
FLOORS = ("max", "optimal", "official")  # what the robust plan's worst draws must average: see _robust_plan

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RateDraws:
    """Drawn rates. ``classes`` (index: class) has value, low, high, mean, status; ``figures`` per draw and
    class the drawn figure; ``segment_rates`` per draw and response segment (the rows of
    ``problem.response``) the weighted marginal integrations of an entry in that segment."""

    problem: Problem
    classes: pd.DataFrame
    figures: pd.DataFrame
    segment_rates: np.ndarray
    distribution: str
    correlation: float
    seed: int
    segment_class: np.ndarray  # per response segment: the rate class that moves it ("" if none)

    def __len__(self) -> int:
        return self.segment_rates.shape[0]

    def values(self, levels: np.ndarray) -> np.ndarray:
        """Expected integrations of each plan (a row of ``levels``, columns in the order of the problem's
        instruments) on every draw: draws × plans, one matrix product."""
        return self.segment_rates @ _filled(self.problem, np.atleast_2d(levels)).T

    def values_each(self, levels: np.ndarray) -> np.ndarray:
        """Row d of ``levels`` valued on draw d only (per-draw plans)."""
        return np.einsum("ds,ds->d", self.segment_rates, _filled(self.problem, levels))


def _filled(problem: Problem, levels: np.ndarray) -> np.ndarray:
    """Entries of each plan within each response segment: plans × segments."""
    seg = problem.response
    col = problem.instruments.index.get_indexer(seg["instrument"])
    start, end = seg["start"].to_numpy(dtype=float), seg["end"].to_numpy(dtype=float)
    return np.clip(np.asarray(levels, dtype=float)[:, col] - start, 0.0, end - start)


def rate_classes(problem: Problem) -> pd.DataFrame:
    """The rate classes the problem's rows use, with the figure of its basis: value, low, high, its
    distribution's mean, status (sourced or assumption) and the rows in it."""
    rates = problem.spec.rates.classes
    used = problem.instruments.loc[problem.instruments["rate_class"] != "", "rate_class"]
    rows = []
    for cls in dict.fromkeys(used):
        figure = getattr(rates[cls], problem.basis)
        rows.append({"class": cls, "name": rates[cls].name, "value": figure.value, "low": figure.low,
                     "high": figure.high, "status": figure.status,
                     "rows": ", ".join(used.index[used == cls])})
    return pd.DataFrame(rows).set_index("class")


def draw_rates(problem: Problem, draws: int = 1000, seed: int = 0, distribution: str = "pert",
               correlation: float = 0.0) -> RateDraws:
    """Draw every rate class ``draws`` times from its range (see the module docstring)."""
    if distribution not in DISTRIBUTIONS:
        raise UsageError("--distribution", distribution, f"one of {', '.join(DISTRIBUTIONS)}")
    if not 1 <= draws <= 1_000_000:
        raise UsageError("--draws", draws, "a whole number from 1 to 1,000,000")
    if not 0.0 <= correlation < 1.0:
        raise UsageError("--correlation", correlation, "a share from 0 (independent classes) to below 1")
    classes = rate_classes(problem)
    rng = np.random.default_rng(seed)
    k = len(classes)
    if correlation > 0:
        shared = rng.standard_normal((draws, 1))
        own = rng.standard_normal((draws, k))
        uniform = _normal_cdf(math.sqrt(correlation) * shared + math.sqrt(1 - correlation) * own)
    else:
        uniform = rng.random((draws, k))
    low, mode, high = (classes[c].to_numpy(dtype=float) for c in ("low", "value", "high"))
    figures = np.empty((draws, k))
    for j in range(k):
        figures[:, j] = _quantile(distribution, low[j], mode[j], high[j], uniform[:, j])
    classes["mean"] = [_mean(distribution, lo, m, hi) for lo, m, hi in zip(low, mode, high)]
    figures_df = pd.DataFrame(figures, columns=classes.index)
    figures_df.index.name = "draw"
    rates, moved_by = _segment_rates(problem, classes, figures)
    return RateDraws(problem, classes, figures_df, rates, distribution, correlation, seed, moved_by)


def _mean(distribution: str, low: float, mode: float, high: float) -> float:
    if distribution == "triangular":
        return (low + mode + high) / 3
    return (low + PERT_WEIGHT * mode + high) / (PERT_WEIGHT + 2)


def _quantile(distribution: str, low: float, mode: float, high: float, u: np.ndarray) -> np.ndarray:
    """The inverse distribution function at ``u``: exact for the triangular distribution; for PERT (a
    scaled beta distribution) by interpolation in its distribution function, integrated on a fine grid."""
    width = high - low
    if width <= 0:
        return np.full_like(u, mode)
    if distribution == "triangular":
        c = (mode - low) / width
        left = u < c
        out = np.empty_like(u)
        out[left] = low + np.sqrt(u[left] * width * (mode - low))
        out[~left] = high - np.sqrt((1 - u[~left]) * width * (high - mode))
        return out
    a = 1 + PERT_WEIGHT * (mode - low) / width
    b = 1 + PERT_WEIGHT * (high - mode) / width
    grid = np.linspace(0.0, 1.0, 4097)
    middle = (grid[1:] + grid[:-1]) / 2  # the density at the cells' middles: no log(0) at the ends
    log_density = (a - 1) * np.log(middle) + (b - 1) * np.log1p(-middle)
    cdf = np.concatenate([[0.0], np.cumsum(np.exp(log_density - log_density.max()))])
    cdf /= cdf[-1]
    return low + width * np.interp(u, cdf, grid)


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    erf = np.frompyfunc(math.erf, 1, 1)
    return (0.5 * (1.0 + erf(z / math.sqrt(2.0)).astype(float))).clip(1e-12, 1 - 1e-12)


def _segment_rates(problem: Problem, classes: pd.DataFrame, figures: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted marginal rates per draw and response segment (see the module docstring), and the class that
    moves each segment ("" for a floor or a row without a class)."""
    seg = problem.response
    inst = problem.instruments
    lowest = 0.0 if problem.basis == "gross" else -1.0
    ids = seg["instrument"].to_numpy()
    rates = seg["rate"].to_numpy(dtype=float)
    # the last segment of a curve with several is its floor: it does not move
    last = seg.groupby("instrument", sort=False)["segment"].transform("max").to_numpy()
    curved = seg.groupby("instrument", sort=False)["segment"].transform("size").to_numpy() > 1
    floor_segment = curved & (seg["segment"].to_numpy() == last)
    floor = np.where(curved, seg.groupby("instrument", sort=False)["rate"].transform("last").to_numpy(), lowest)
    shift = np.zeros((len(figures), len(seg)))
    position = {c: j for j, c in enumerate(classes.index)}
    moved_by = np.full(len(seg), "", dtype=object)
    for s, iid in enumerate(ids):
        cls = inst.at[iid, "rate_class"]
        if not cls or floor_segment[s]:
            continue
        moved_by[s] = cls
        value = float(classes.at[cls, "value"])
        scale = abs(float(inst.at[iid, "rate"]) / value) if value != 0 else 1.0
        shift[:, s] = (figures[:, position[cls]] - value) * scale
    moved = np.clip(np.maximum(rates + shift, floor), lowest, 1.0)
    weight = inst["weight"].to_numpy(dtype=float)[inst.index.get_indexer(ids)]
    return moved * weight, moved_by


class Reoptimiser:
    """The problem's LP, built and solved once; afterwards only its objective changes, to the rates of a
    draw, and HiGHS re-solves from the previous basis."""

    def __init__(self, problem: Problem):
        lp = build_lp(problem, lean=True)
        if _run(lp, "highs") != "Optimal":
            from ..solving.diagnosis import diagnose

            raise InfeasibleError(f"{problem.name}: no plan satisfies every requirement", diagnose(problem))
        self.problem, self.lp = problem, lp
        self.h = lp.prob.solverModel
        seg = problem.response
        where = {(str(i), int(k)): s for s, (i, k) in enumerate(zip(seg["instrument"], seg["segment"]))}
        cols, segs = [], []
        for (iid, k), var in lp.segments.items():
            cols.append(var.index)
            segs.append(where[(iid, k)])
        # a row with a constant rate carries it on its level
        for iid, var in lp.level.items():
            curve = problem.curves.get(iid)
            if curve is not None and len(curve[0]) == 1 and var.index not in cols and (var.upBound or 0) > (var.lowBound or 0):
                cols.append(var.index)
                segs.append(where[(iid, int(curve[0][0]))])
        self.cols = np.asarray(cols, dtype=np.int32)
        self.segs = np.asarray(segs, dtype=int)
        self.level_cols = np.asarray([lp.level[i].index for i in problem.instruments.index], dtype=np.int32)
        self.n = self.h.getNumCol()
        self.budget_row = lp.constraint[problem.pool_row(problem.new_business_pool)].index \
            if problem.pool_row(problem.new_business_pool) in lp.constraint else None
        self.seconds = 0.0  # time spent inside HiGHS's runs

    def solve(self, segment_rates: np.ndarray) -> np.ndarray | None:
        """The best levels for one vector of weighted segment rates (None if HiGHS did not finish optimal)."""
        import highspy

        costs = -segment_rates[self.segs]  # HiGHS minimises
        scale = float(np.max(np.abs(costs))) or 1.0
        self.h.changeColsCost(len(self.cols), self.cols, costs / scale)
        start = time.perf_counter()
        self.h.run()
        self.seconds += time.perf_counter() - start
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        self._scale = scale
        return np.asarray(self.h.getSolution().col_value)[self.level_cols]

    def money_value(self) -> float:
        """Integrations per euro more of the new-business budget at the last solve (its row's dual)."""
        if self.budget_row is None:
            return 0.0
        return max(0.0, -float(self.h.getSolution().row_dual[self.budget_row]) * self._scale)

    def constant_and_costs(self, segment_rates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per draw, the LP's objective as a constant plus costs on ``cols``: the integrations at the lower
        bounds (all segment columns then 0) less what the constant-rate levels carry there."""
        inst = self.problem.instruments
        lower = inst["lower"].to_numpy(dtype=float)
        values = segment_rates @ _filled(self.problem, lower[None, :])[0]
        costs = segment_rates[:, self.segs]
        col_lower = np.asarray(self.h.getLp().col_lower_, dtype=float)[self.cols]
        return values - costs @ col_lower, costs


@dataclass(frozen=True)
class Risk:
    """What :func:`assess` returns (tables are pandas, see each attribute)."""

    problem: Problem
    draws: RateDraws
    plans: pd.DataFrame  # per instrument: the levels of the official, optimal and robust plans
    values: pd.DataFrame  # per draw: expected integrations of each plan, and of the best plan for the draw
    best_levels: pd.DataFrame | None  # per draw: the best plan's levels (None without re-optimising)
    summary: pd.DataFrame  # per plan: mean, quantiles, share of draws beating the official, regret
    value_of_information: pd.DataFrame | None  # per class, ranked: integrations and euros
    corridors: pd.DataFrame | None  # per adjustable instrument: share at min / between / max, 5–95 % levels
    robust: dict = field(default_factory=dict)  # floor, tail, whether the floor was reached, words
    perfect_information: dict = field(default_factory=dict)  # all rates known: integrations, euros
    seconds: dict = field(default_factory=dict)  # time of each stage
    solutions: dict[str, Solution] = field(default_factory=dict, repr=False)

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {"risk_summary": self.summary, "risk_plans": self.plans, "risk_values": self.values,
               "rate_classes": self.draws.classes, "rate_draws": self.draws.figures}
        if self.value_of_information is not None:
            out["value_of_information"] = self.value_of_information
        if self.corridors is not None:
            out["corridors"] = self.corridors
        return out


def assess(problem: Problem, draws: int = 1000, seed: int = 0, distribution: str = "pert",
           correlation: float = 0.0, tail: float = 0.05, floor: str | float = "max",
           reoptimise: bool = True, progress: Progress | None = None) -> Risk:
    """The official, optimal and robust plans under rate uncertainty (see the module docstring).

    ``tail``: the share of worst draws the robust plan's floor is about (5 %). ``floor``: what its worst
    ``tail`` of draws must average at least — "optimal" (the optimal plan's ``tail`` quantile), "official"
    (the official plan's) or a number of integrations. ``reoptimise`` False skips the per-draw best plans
    (no regret, value of information or corridors; seconds instead of minutes on large draws).
    ``progress(stage, done, total)`` is called as the per-draw solves go."""
    if not 0 < tail < 0.5:
        raise UsageError("--tail", tail, "a share above 0 and below 0.5 (0.05: the worst 5 % of draws)")
    clock = {}
    start = time.perf_counter()
    rd = draw_rates(problem, draws, seed, distribution, correlation)
    optimal, base = optimise(problem), official(problem)
    ids = problem.instruments.index
    fixed_plans = np.vstack([base.plan.levels.reindex(ids).to_numpy(float),
                             optimal.plan.levels.reindex(ids).to_numpy(float)])
    fixed_values = rd.values(fixed_plans)
    clock["draw and evaluate"] = time.perf_counter() - start

    start = time.perf_counter()
    robust_levels, robust_info = _robust_plan(problem, rd, _floor_spec(floor), tail, fixed_values)
    robust = evaluate(problem, pd.Series(robust_levels, index=ids), kind="robust")
    broken = robust.checks[~robust.checks["ok"]]
    if not broken.empty:
        raise SolverError(f"{problem.name}: the robust plan breaks {', '.join(broken['name'].head(5))}")
    clock["robust plan"] = time.perf_counter() - start
    plans = pd.DataFrame({"official": fixed_plans[0], "optimal": fixed_plans[1], "robust": robust_levels}, index=ids)
    values = pd.DataFrame(rd.values(plans.to_numpy().T), columns=plans.columns)
    values.index.name = "draw"

    best_levels = voi = corridors = None
    perfect: dict = {}
    if reoptimise:
        start = time.perf_counter()
        engine = Reoptimiser(problem)
        best = np.full((len(rd), len(ids)), np.nan)
        for d in range(len(rd)):
            found = engine.solve(rd.segment_rates[d])
            if found is None:
                raise SolverError(f"{problem.name}: HiGHS did not re-optimise draw {d} to optimality")
            best[d] = found
            if progress is not None:
                progress("best plan per draw", d + 1, len(rd))
        values["best"] = rd.values_each(best)
        best_levels = pd.DataFrame(best, columns=ids)
        best_levels.index.name = "draw"
        clock["best plan per draw"] = time.perf_counter() - start
        clock["inside HiGHS"] = engine.seconds
        start = time.perf_counter()
        voi, perfect = _value_of_information(rd, engine, best, progress)
        clock["value of information"] = time.perf_counter() - start
        corridors = _corridors(problem, best_levels, plans)
    summary = _summary(values, tail)
    summary["keeps_every_rule"] = [bool(s.feasible) for s in (base, optimal, robust)]
    robust_info["words"] = _robust_words(robust_info, summary, tail)
    return Risk(problem, rd, plans, values, best_levels, summary, voi, corridors, robust_info, perfect, clock,
                {"official": base, "optimal": optimal, "robust": robust})


def tail_average(values: np.ndarray, tail: float) -> float:
    """CVaR of a sample from below: the average of its worst ``tail`` share (Rockafellar–Uryasev at the
    sample's ``tail`` quantile, so a fractional last draw counts in part)."""
    v = np.sort(np.asarray(values, dtype=float))
    t = v[max(0, math.ceil(tail * len(v)) - 1)]
    return float(t - np.maximum(t - v, 0.0).sum() / (tail * len(v)))


def _floor_spec(floor: str | float) -> str | float:
    if floor in FLOORS:
        return floor
    try:
        value = float(floor)
    except (TypeError, ValueError):
        raise UsageError("--floor", floor, f"{', '.join(FLOORS)} or a number of expected integrations") from None
    if not math.isfinite(value):
        raise UsageError("--floor", floor, "a finite number of expected integrations")
    return value


def quantile_guard(values: np.ndarray, tail: float) -> np.ndarray:
    """Per draw, the least a plan must give there so that its ``tail`` quantile (numpy's, interpolated
    between the order statistics k and k + 1) is at least that of the plan with ``values`` (−inf: free).

    With k = ⌊(N − 1) × tail⌋ and s the sorted values: the draws from rank k on must reach min(value, s[k+1])
    — then at most k draws lie below s[k] and at most k + 1 below s[k+1], so both order statistics, and the
    interpolated quantile between them, are at least the plan's own. The plan itself meets the guard."""
    v = np.asarray(values, dtype=float)
    n = len(v)
    k = math.floor((n - 1) * tail)
    order = np.argsort(v, kind="stable")
    guard = np.full(n, -np.inf)
    upper = v[order[min(k + 1, n - 1)]]
    guard[order[k:]] = np.minimum(v[order[k:]], upper)
    return guard


def _robust_plan(problem: Problem, rd: RateDraws, floor: str | float, tail: float,
                 fixed_values: np.ndarray) -> tuple[np.ndarray, dict]:
    """The robust plan, a sample-average LP over the draws:

    1. the quantile guard (:func:`quantile_guard`): in every draw where the optimal plan reaches its
       ``tail`` quantile, the robust plan reaches it too — so its quantile is at least the optimal plan's;
    2. CVaR_tail ≥ a floor (Rockafellar–Uryasev: t − Σ u_d ÷ (tail × N) ≥ floor, u_d ≥ t − value_d,
       u ≥ 0): "max" the highest CVaR any guarded plan reaches (a first solve finds it), "optimal" or
       "official" that plan's CVaR, or a number — if no plan reaches it, the highest CVaR, said so;
    3. the most integrations on average over the draws within 1 and 2.
    The optimal plan meets 1 and its own CVaR, so the robust plan is never worse than it in those terms."""
    import highspy

    engine = Reoptimiser(problem)
    h = engine.h
    constant, costs = engine.constant_and_costs(rd.segment_rates)
    n_draws = len(rd)
    inf = highspy.kHighsInf
    ok = highspy.HighsModelStatus.kOptimal
    scale = float(np.max(np.abs(costs))) or 1.0
    k = len(engine.cols)
    t_col = h.getNumCol()
    # t (free), then u_1..u_N (≥ 0)
    h.addVars(1 + n_draws, np.r_[-inf, np.zeros(n_draws)], np.full(1 + n_draws, inf))
    u_cols = np.arange(t_col + 1, t_col + 1 + n_draws, dtype=np.int32)

    def add_rows(lower: np.ndarray, extra: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """Rows costs_d · x (+ extra columns) ≥ lower_d, one per draw in ``lower``'s finite entries."""
        draws = np.nonzero(np.isfinite(lower))[0]
        width = k + len(extra)
        index = np.column_stack([np.broadcast_to(engine.cols, (len(draws), k))] + [c[draws] for c, _ in extra])
        value = np.column_stack([costs[draws]] + [v[draws] for _, v in extra]) / scale
        h.addRows(len(draws), lower[draws] / scale, np.full(len(draws), inf), len(draws) * width,
                  np.arange(len(draws), dtype=np.int32) * width, index.ravel().astype(np.int32), value.ravel())

    # value_d − t + u_d ≥ 0, i.e. costs_d · x − t + u_d ≥ −constant_d
    add_rows(-constant, [(np.full(n_draws, t_col, dtype=np.int32), -np.ones(n_draws)),
                         (u_cols, np.ones(n_draws))])
    add_rows(quantile_guard(fixed_values[:, 1], tail) - constant, [])
    cvar_index = np.r_[t_col, u_cols].astype(np.int32)
    cvar_value = np.r_[1.0, -np.ones(n_draws) / (tail * n_draws)]
    cvar_row = h.getNumRow()
    h.addRow(-inf, inf, 1 + n_draws, cvar_index, cvar_value / scale)

    def best_tail() -> float:
        h.changeColsCost(k, engine.cols, np.zeros(k))
        h.changeColsCost(1 + n_draws, cvar_index, -cvar_value / scale)
        h.run()
        if h.getModelStatus() != ok:
            raise SolverError(f"{problem.name}: the robust plan's LP did not solve")
        x = np.asarray(h.getSolution().col_value)
        return float(cvar_value @ x[cvar_index])

    reached = True
    if floor == "max":
        floor_value = best_tail()
    elif floor in ("optimal", "official"):
        floor_value = tail_average(fixed_values[:, 1 if floor == "optimal" else 0], tail)
    else:
        floor_value = float(floor)
    # the floor a hair lower, so that the plan that set it stays feasible after the solver's rounding
    slack = 1e-7 * max(1.0, abs(floor_value))
    h.changeRowBounds(cvar_row, (floor_value - slack) / scale, inf)
    h.changeColsCost(1 + n_draws, cvar_index, np.zeros(1 + n_draws))
    h.changeColsCost(k, engine.cols, -costs.mean(axis=0) / scale)
    h.run()
    if h.getModelStatus() != ok:
        reached = False
        h.changeRowBounds(cvar_row, -inf, inf)
        best_tail()
    x = np.asarray(h.getSolution().col_value)
    return x[engine.level_cols], {"floor": floor, "floor_value": floor_value, "tail": tail, "reached": reached}


def _value_of_information(rd: RateDraws, engine: Reoptimiser, best: np.ndarray,
                          progress: Progress | None) -> tuple[pd.DataFrame, dict]:
    """EVPI per class: the draws grouped by the class's figure (``VOI_GROUPS`` groups of equal size); per
    group the best plan for the rates expected once the class's figure is known — the class's own segments
    at the group's average, every other segment at its average over all draws (independent classes; with a
    shared factor, the group's average of every segment, which carries what the class says of the others);
    the value is the groups' average of (that plan's value − the value of the best plan on average, both at
    those rates). Never negative: the groups' rates average to the overall average."""
    problem = rd.problem
    mean_rates = rd.segment_rates.mean(axis=0)
    overall = engine.solve(mean_rates)
    if overall is None:
        raise SolverError(f"{problem.name}: the best plan on average did not solve")
    per_euro = engine.money_value()
    filled_overall = _filled(problem, overall[None, :])[0]
    everything = float(rd.values_each(best).mean() - (rd.segment_rates @ filled_overall).mean())
    total = {"integrations": everything, "euros": everything / per_euro if per_euro > 0 else math.nan,
             "integrations_per_euro": per_euro}
    classes = rd.classes
    groups = min(VOI_GROUPS, len(rd))
    rows = []
    steps = len(classes) * groups
    done = 0
    for cls in classes.index:
        order = np.argsort(rd.figures[cls].to_numpy(), kind="stable")
        gain = 0.0
        if classes.at[cls, "high"] > classes.at[cls, "low"]:
            own = rd.segment_class == cls
            for members in np.array_split(order, groups):
                if rd.correlation > 0:
                    group_rates = rd.segment_rates[members].mean(axis=0)
                else:
                    group_rates = mean_rates.copy()
                    group_rates[own] = rd.segment_rates[members][:, own].mean(axis=0)
                found = engine.solve(group_rates)
                if found is None:
                    raise SolverError(f"{problem.name}: a value-of-information solve for {cls} did not finish")
                gain += len(members) / len(rd) * (group_rates @ _filled(problem, found[None, :])[0]
                                                  - group_rates @ filled_overall)
                done += 1
                if progress is not None:
                    progress("value of information", done, steps)
        else:
            done += groups
        gain = 0.0 if abs(gain) < 1e-9 * max(1.0, abs(everything)) else gain  # the solver's tolerance, not a value
        rows.append({"class": cls, "name": classes.at[cls, "name"], "status": classes.at[cls, "status"],
                     "range": f"{classes.at[cls, 'low']:g} – {classes.at[cls, 'high']:g}",
                     "integrations": gain, "euros": gain / per_euro if per_euro > 0 else math.nan})
    out = pd.DataFrame(rows).set_index("class").sort_values("integrations", ascending=False, kind="stable")
    out.insert(0, "rank", range(1, len(out) + 1))
    return out, total


def _corridors(problem: Problem, best: pd.DataFrame, plans: pd.DataFrame, tolerance: float = 1e-6) -> pd.DataFrame:
    """Per instrument the optimiser may change: how often its best level sits at its minimum, in between or
    at its maximum over the draws, the 5 % and 95 % quantiles of that level, and the three plans' levels."""
    inst = problem.instruments
    rows = []
    for iid in inst.index[~inst["fixed"]]:
        lo, hi = float(inst.at[iid, "lower"]), float(inst.at[iid, "upper"])
        if hi - lo <= tolerance:
            continue
        col = best[iid].to_numpy()
        tol = tolerance * max(1.0, abs(hi))
        at_min, at_max = col <= lo + tol, col >= hi - tol
        rows.append({"id": iid, "instrument": inst.at[iid, "name"], "minimum": lo, "maximum": hi,
                     "at_minimum": float(at_min.mean()), "between": float((~at_min & ~at_max).mean()),
                     "at_maximum": float(at_max.mean()),
                     "p5": float(np.quantile(col, 0.05)), "p95": float(np.quantile(col, 0.95)),
                     "official": float(plans.at[iid, "official"]), "optimal": float(plans.at[iid, "optimal"]),
                     "robust": float(plans.at[iid, "robust"])})
    out = pd.DataFrame(rows).set_index("id")
    out["_spread"] = (out["p95"] - out["p5"]) / (out["maximum"] - out["minimum"])
    return out.sort_values("_spread", ascending=False, kind="stable").drop(columns="_spread")


def _summary(values: pd.DataFrame, tail: float) -> pd.DataFrame:
    rows = []
    for plan in ("official", "optimal", "robust"):
        v = values[plan].to_numpy()
        row = {"plan": plan, "mean": v.mean(), "sd": v.std(ddof=1) if len(v) > 1 else 0.0}
        for q in QUANTILES:
            row[f"p{round(q * 100)}"] = float(np.quantile(v, q))
        row[f"worst_{round(tail * 100)}pct_average"] = tail_average(v, tail)
        row["beats_official"] = math.nan if plan == "official" else float((v > values["official"].to_numpy()).mean())
        if "best" in values:
            regret = values["best"].to_numpy() - v
            row["regret_mean"] = float(regret.mean())
            row["regret_p95"] = float(np.quantile(regret, 0.95))
        rows.append(row)
    return pd.DataFrame(rows).set_index("plan")


def _robust_words(info: dict, summary: pd.DataFrame, tail: float) -> str:
    share = f"{tail * 100:g} %"
    floor = info["floor"]
    achieved = float(summary.at["robust", f"worst_{round(tail * 100)}pct_average"])
    asked = {"max": "the most any such plan can", "optimal": "at least the optimal plan's",
             "official": "at least the official plan's"}.get(floor, "") if isinstance(floor, str) else ""
    asked = asked or f"at least {info['floor_value']:,.1f} as asked"
    guard = f"its {share} quantile at least the optimal plan's"
    if info["reached"]:
        return (f"The robust plan: {guard}, its worst {share} of draws averaging {achieved:,.1f} ({asked}), "
                "and within that the most integrations on average")
    return (f"The robust plan: {guard}; no such plan's worst {share} of draws average {info['floor_value']:,.1f}, so it "
            f"is the one whose worst {share} average the most: {achieved:,.1f}")
