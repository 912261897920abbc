"""Budget sweeps: the optimum at many levels of the new-business budget, and the order of cuts.

``sweep_budget(problem, budgets)`` solves the plan at each budget level (euros the new-business pool
makes available). The fast path builds the LP once, solves it once with HiGHS, then changes only the
budget row's bound on PuLP's own highspy object and re-solves from the previous basis (warm start).
``method="rebuild"`` builds and solves a fresh PuLP model at every point instead — the naive loop, kept
to test the fast path against and to measure it.

The result holds, per level, the expected integrations, the marginal value of money (integrations per
additional 1,000 €, the budget row's dual) and every instrument's entries; :func:`cut_order` reads from
it which instruments shrink first as money falls and where each reaches its minimum.

A sweep takes at most :data:`STEPS_CAP` levels unless asked for more (:func:`check_steps`), each between 0 €
and :data:`MAX_LEVEL`; ``progress`` hears how far it has come.
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InfeasibleError, SolverError, UsageError
from ..solving.lp import build_lp, preference_weights
from ..model.problem import Problem
from ..model.schema import MAX_MONEY
from ..solving.solve import DUAL_TOLERANCE, _run, optimise

BUDGET_ROW = "budget:new_business"


@dataclass(frozen=True)
class Sweep:
    """``curve``: per budget level (index, €) the share of the model's budget, status, integrations and
    integrations per 1,000 €; ``entries``: per level the level of every instrument."""

    problem: Problem
    curve: pd.DataFrame
    entries: pd.DataFrame
    method: str

    @property
    def base_budget(self) -> float:
        return self.problem.new_business_available

    @property
    def cut_order(self) -> pd.DataFrame:
        """Which instruments shrink first as the budget falls (see :func:`cut_order`)."""
        return cut_order(self)


DEFAULT_RANGE = "min:110%"
MAX_LEVEL = MAX_MONEY  # the largest budget level in euros: 10 billion € (the whole federal EGT is about 5 billion)
STEPS_CAP = 10_000
"""The most budget levels a sweep takes unless asked for more (1,000 levels take about half a second)."""
STEPS_MAX = 100_000
"""The most budget levels a sweep takes when asked for more (``many=True``, ``--many-steps``)."""
MAX_CELLS = 25_000_000
"""The most numbers (levels × instruments) a sweep's table of entries may hold: 200 MB."""

Progress = Callable[[int, int], None]
"""Called with (levels solved, levels in all) as a sweep goes."""


def check_steps(problem: Problem, steps: int, many: bool = False) -> None:
    """Refuse a sweep of more levels than :data:`STEPS_CAP` (:data:`STEPS_MAX` with ``many``), or of more
    than its table of entries can hold in :data:`MAX_CELLS` numbers; the message says how to go beyond."""
    rows = max(1, len(problem.instruments))
    cap = min(STEPS_MAX if many else STEPS_CAP, max(2, MAX_CELLS // rows))
    if steps <= cap:
        return
    if cap < (STEPS_MAX if many else STEPS_CAP):
        raise UsageError("--steps", steps, f"at most {cap:,} levels for a model of {rows:,} instruments (the table of "
                         f"entries would hold {steps * rows:,} numbers, at most {MAX_CELLS:,}): split the range into "
                         "several sweeps (--budget FROM:TO)")
    if many:
        raise UsageError("--steps", steps, f"at most {STEPS_MAX:,} levels: split the range into several sweeps "
                         "(--budget FROM:TO), each of up to that many")
    raise UsageError("--steps", steps, f"at most {STEPS_CAP:,} levels (1,000 take about half a second); for more, "
                     f"add --many-steps (up to {STEPS_MAX:,}, with progress on stderr) or split the range into "
                     "several sweeps (--budget FROM:TO)")


def budget_levels(spec: str, steps: int, base: float, least: float | None = None) -> np.ndarray:
    """Parse a range such as ``70%:110%`` (of ``base``), ``15e6:30e6`` (euros) or ``min:110%`` (from
    ``least``, the least money a feasible plan needs: :func:`least_budget`) into ``steps`` levels."""
    number = r"(min|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    m = re.fullmatch(rf"\s*{number}(%?)\s*:\s*{number}(%?)\s*", spec)
    if not m or steps < 2 or m.group(3) == "min" or (m.group(1) == "min" and m.group(2)):
        raise UsageError("--budget", spec, "a range FROM:TO in percent of the model's new-business budget "
                         "(70%:110%), in euros (15e6:30e6), or from the least money a feasible plan needs "
                         "(min:110%), with 2 or more steps")
    if m.group(1) == "min":
        if least is None:
            raise UsageError("--budget", spec, "'min' needs the least money a feasible plan needs: give a number")
        lo = least
    else:
        lo = float(m.group(1)) / 100 * base if m.group(2) else float(m.group(1))
    hi = float(m.group(3)) / 100 * base if m.group(4) else float(m.group(3))
    percent = bool(m.group(2) or m.group(4))
    if percent and base <= 0:
        raise UsageError("--budget", spec, f"percent of the model's new-business budget, which makes {base:,.2f} € "
                         "available: give the range in euros (15e6:30e6)")
    if not all(math.isfinite(v) and v <= MAX_LEVEL for v in (lo, hi)):
        raise UsageError("--budget", spec, f"FROM and TO of at most {MAX_LEVEL:,.0f} € (or that in percent of the "
                         f"model's new-business budget); this range reaches {max(lo, hi):,.2f} €")
    if not (0 <= lo < hi):
        raise UsageError("--budget", spec, f"FROM ({lo:,.2f} €) must be below TO ({hi:,.2f} €), and neither negative")
    return np.linspace(lo, hi, steps)



def levels_of(problem: Problem, spec: str, steps: int) -> np.ndarray:
    """:func:`budget_levels` for a problem: percent of what its new-business pool makes available, and
    ``min`` the least money a plan needs (solved only where the range asks for it)."""
    least = least_budget(problem) if "min" in spec else None
    return budget_levels(spec, steps, problem.new_business_available, least)


def least_budget(problem: Problem) -> float:
    """The least money from the new-business pool that any plan satisfying every other rule needs (the
    floors: contracts, stated decisions, coverage, fixed rows), a cent above it so that it is feasible.
    Raises InfeasibleError (with a diagnosis) if no budget is enough."""
    import pulp

    budgetless = with_budget(problem, 1e12)  # any plan fits: the budget row no longer limits
    lp = build_lp(budgetless)
    money = pulp.LpAffineExpression(list(lp.constraint[BUDGET_ROW].items()))
    lp.prob.sense = pulp.LpMinimize
    lp.prob.setObjective(money)
    if _run(lp, "highs") != "Optimal":
        from ..solving.diagnosis import diagnose

        raise InfeasibleError(f"{problem.name}: no plan satisfies every requirement at any budget", diagnose(problem))
    return math.ceil((float(pulp.value(money)) + 0.01) * 100) / 100


def with_budget(problem: Problem, available: float) -> Problem:
    """The same problem with the new-business pool making ``available`` euros available."""
    pools = problem.pools.copy()
    pools.at[problem.new_business_pool, "available"] = float(available)
    return dataclasses.replace(problem, pools=pools)


def sweep_budget(problem: Problem, budgets: Sequence[float], method: str = "fast",
                 progress: Progress | None = None) -> Sweep:
    """The optimum at each budget level; ``progress``, if given, hears (solved, all) after each level."""
    budgets = np.asarray(budgets, dtype=float)
    if method == "fast":
        values, duals, status = parametric(problem, BUDGET_ROW, "upper",
                                           budgets if progress is None else _Reported(budgets, progress))
    elif method == "rebuild":
        values, duals, status = _rebuild(problem, _Reported(budgets, progress) if progress else budgets)
    else:
        raise ValueError(f"unknown sweep method {method!r}: fast or rebuild")
    ids = list(problem.instruments.index)
    entries = pd.DataFrame(values, index=pd.Index(budgets, name="budget"), columns=ids)
    integrations = problem.integrations_matrix(np.nan_to_num(values)).sum(axis=1)
    integrations[np.array(status) != "optimal"] = np.nan
    base = problem.new_business_available
    curve = pd.DataFrame({
        "share": budgets / base,
        "status": status,
        "integrations": integrations,
        "per_1000_eur": np.asarray(duals) * 1000,
    }, index=entries.index)
    return Sweep(problem, curve, entries, method)


class _Reported(Sequence):
    """The values of a sweep, telling ``progress`` each time the next one is asked for (the one before it
    is then solved): progress without a hook in the solving loop."""

    def __init__(self, values: np.ndarray, progress: Progress):
        self.values, self.progress = values, progress

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, k):  # type: ignore[no-untyped-def]
        return self.values[k]

    def __iter__(self) -> Iterator[float]:
        n = len(self.values)
        for k, value in enumerate(self.values):
            yield value
            self.progress(k + 1, n)


def parametric(problem: Problem, row_name: str, side: str, values: Sequence[float],
               solver_seconds: list[float] | None = None) -> tuple[np.ndarray, list[float], list[str]]:
    """Re-solve ``problem`` with one row's bound set to each of ``values`` (``side`` "upper" for a ≤ row,
    "lower" for a ≥ row): the LP is built and solved once, then only that bound changes on PuLP's highspy
    object and HiGHS re-solves from the previous basis. Each value gets the passes of
    :func:`~optalloc.solving.solve.optimise`: maximise integrations (the row's shadow price is read here), and
    where ties are possible, the tie-break on the optimal face — unless the vertex found already is the
    tie-break's choice (:func:`_preferred_on_face`, one triangular solve); after a tie-break the next value
    starts from its basis, so it usually is. Returns the instruments' levels per value,
    the shadow price (d integrations / d bound) and the status per value. ``solver_seconds``, if given,
    receives the time spent inside HiGHS (the solver's floor for these very solves)."""
    lp = build_lp(problem, lean=True)
    if row_name not in lp.constraint:
        raise UsageError("row", row_name, "a row of the model: nothing in it draws on that row, so nothing to vary")
    _run(lp, "highs")  # builds PuLP's highspy object, lp.prob.solverModel
    import highspy

    h = lp.prob.solverModel
    inf = highspy.kHighsInf
    row = lp.constraint[row_name].index
    ids = list(problem.instruments.index)
    cols = np.array([lp.level[i].index for i in ids])
    model = h.getLp()
    n, m = h.getNumCol(), h.getNumRow()
    all_cols, all_rows = np.arange(n, dtype=np.int32), np.arange(m, dtype=np.int32)
    col_lo, col_hi = np.asarray(model.col_lower_, dtype=float), np.asarray(model.col_upper_, dtype=float)
    row_lo, row_hi = np.asarray(model.row_lower_, dtype=float), np.asarray(model.row_upper_, dtype=float)
    tie_costs = np.zeros(n)
    for iid, weight in preference_weights(problem).items():
        tie_costs[lp.level[iid].index] = -weight
    movable = col_hi - col_lo > 1e-12
    ok = highspy.HighsModelStatus.kOptimal
    # the tie-break runs on a second copy of the model that keeps the preference costs: each copy then
    # only sees bound changes and re-solves warm from its own last basis
    tie = highspy.Highs()
    tie.setOptionValue("output_flag", False)
    tie.passModel(model)
    tie.changeColsCost(n, all_cols, tie_costs)
    matrix = _dense(model, m, n)
    lower, upper = highspy.HighsBasisStatus.kLower, highspy.HighsBasisStatus.kUpper

    def run(solver) -> None:
        if solver_seconds is None:
            solver.run()
            return
        start = time.perf_counter()
        solver.run()
        solver_seconds.append(time.perf_counter() - start)

    levels = np.full((len(values), len(cols)), np.nan)
    duals, status = [], []
    for k, v in enumerate(values):
        if side == "upper":
            h.changeRowBounds(row, -inf, float(v))
        else:
            h.changeRowBounds(row, float(v), inf)
        run(h)
        if h.getModelStatus() != ok:
            duals.append(math.nan)
            status.append(_status_name(h.getModelStatus()))
            continue
        sol = h.getSolution()
        x, col_dual = np.asarray(sol.col_value), np.asarray(sol.col_dual)
        row_dual = np.asarray(sol.row_dual)
        price = -row_dual[row] * lp.scale  # undo PuLP's negation and the objective's scale
        duals.append(price if abs(price) > 1e-15 else 0.0)
        at_bound = (np.abs(x - col_lo) <= 1e-9) | (np.abs(x - col_hi) <= 1e-9)
        if np.any(movable & at_bound & (np.abs(col_dual) <= DUAL_TOLERANCE)):
            lo, hi = row_lo.copy(), row_hi.copy()
            if side == "upper":
                hi[row] = float(v)
            else:
                lo[row] = float(v)
            activity = np.asarray(sol.row_value)
            if not _preferred_on_face(h, matrix, tie_costs, col_dual, row_dual, x, col_lo, col_hi, activity, lo, hi):
                fixed = np.abs(col_dual) > DUAL_TOLERANCE
                tight = np.abs(row_dual) > DUAL_TOLERANCE
                tie.changeColsBounds(n, all_cols, np.where(fixed, x, col_lo), np.where(fixed, x, col_hi))
                tie.changeRowsBounds(m, all_rows, np.where(tight, activity, lo), np.where(tight, activity, hi))
                run(tie)
                if tie.getModelStatus() != ok:
                    raise SolverError(f"the tie-break pass failed at {row_name} = {v:,.2f}")
                x = np.asarray(tie.getSolution().col_value)
                # start the next value from the preferred vertex: then it is often preferred already
                _hand_over_basis(tie, h, x, col_lo, col_hi, lo, hi, lower, upper)
        levels[k] = x[cols]
        status.append("optimal")
    return levels, duals, status


def _dense(model, m: int, n: int) -> np.ndarray:
    """The constraint matrix of a HiGHS model as a dense array (the models here are small)."""
    a = model.a_matrix_
    start, index, value = np.asarray(a.start_), np.asarray(a.index_), np.asarray(a.value_)
    dense = np.zeros((m, n))
    for j in range(n):
        dense[index[start[j]:start[j + 1]], j] = value[start[j]:start[j + 1]]
    return dense


def _preferred_on_face(h, matrix: np.ndarray, tie_costs: np.ndarray, col_dual: np.ndarray, row_dual: np.ndarray,
                       x: np.ndarray, col_lo: np.ndarray, col_hi: np.ndarray, activity: np.ndarray,
                       row_lo: np.ndarray, row_hi: np.ndarray) -> bool:
    """Whether HiGHS's optimal vertex is already the tie-break's choice on the optimal face.

    On the face, only what has a zero reduced cost (or dual) may move. At the current basis the
    tie-break's duals are y' = B⁻ᵀ c'_B and its reduced costs d' = c' − Aᵀy' (zero for basic variables);
    the vertex is the tie-break's optimum when none of the free movers would improve it (HiGHS minimises:
    at a lower bound d' ≥ 0, at an upper bound d' ≤ 0; a row's dual plays its slack's part)."""
    basic = np.asarray(h.getBasicVariables()[1])
    tie_y = np.asarray(h.getBasisTransposeSolve(np.where(basic >= 0, tie_costs[np.maximum(basic, 0)], 0.0))[1])
    tie_d = tie_costs - tie_y @ matrix
    tol = 1e-12
    free = (col_hi - col_lo > 1e-12) & (np.abs(col_dual) <= DUAL_TOLERANCE)
    at_lo, at_hi = np.abs(x - col_lo) <= 1e-9, np.abs(x - col_hi) <= 1e-9
    if np.any(free & ((at_lo & (tie_d < -tol)) | (at_hi & (tie_d > tol)))):
        return False
    free = (row_hi - row_lo > 1e-12) & (np.abs(row_dual) <= DUAL_TOLERANCE)
    at_lo, at_hi = np.abs(activity - row_lo) <= 1e-9, np.abs(activity - row_hi) <= 1e-9
    return not np.any(free & ((at_lo & (tie_y < -tol)) | (at_hi & (tie_y > tol))))


def _hand_over_basis(source, target, x: np.ndarray, col_lo, col_hi, row_lo, row_hi, lower, upper) -> None:
    """Give ``target`` (the model with the original bounds) the basis ``source`` ended in, with each
    nonbasic column and row at the side of its original bounds where it actually sits."""
    basis = source.getBasis()
    col_status = list(basis.col_status)
    for j, status in enumerate(col_status):
        if status in (lower, upper):
            col_status[j] = lower if abs(x[j] - col_lo[j]) <= abs(x[j] - col_hi[j]) else upper
    activity = np.asarray(source.getSolution().row_value)
    row_status = list(basis.row_status)
    for i, status in enumerate(row_status):
        if status in (lower, upper):
            row_status[i] = lower if abs(activity[i] - row_lo[i]) <= abs(activity[i] - row_hi[i]) else upper
    basis.col_status = col_status
    basis.row_status = row_status
    target.setBasis(basis)


def _rebuild(problem: Problem, budgets: Sequence[float]) -> tuple[np.ndarray, list[float], list[str]]:
    """The naive loop: a full :func:`~optalloc.solving.solve.optimise` (a fresh PuLP model) at every level."""
    ids = list(problem.instruments.index)
    values = np.full((len(budgets), len(ids)), np.nan)
    duals, status = [], []
    for k, b in enumerate(budgets):
        try:
            sol = optimise(with_budget(problem, b))
        except InfeasibleError:
            duals.append(math.nan)
            status.append("infeasible")
            continue
        values[k] = sol.plan.levels.reindex(ids).to_numpy()
        duals.append(float(sol.duals[BUDGET_ROW]))
        status.append("optimal")
    return values, duals, status


def floor_seconds(problem: Problem, budgets: Sequence[float]) -> float:
    """Time of re-solving the built budget LP at each level — one solve, nothing read back, no tie-break."""
    import highspy

    lp = build_lp(problem)
    _run(lp, "highs")
    h = lp.prob.solverModel
    row = lp.constraint[BUDGET_ROW].index
    inf = highspy.kHighsInf
    start = time.perf_counter()
    for b in budgets:
        h.changeRowBounds(row, -inf, float(b))
        h.run()
    return time.perf_counter() - start


def _status_name(status: object) -> str:
    name = str(status).rsplit(".", 1)[-1]
    return {"kInfeasible": "infeasible", "kUnbounded": "unbounded"}.get(name, name.lstrip("k").lower())


def cut_order(sweep: Sweep, tolerance: float = 1e-6) -> pd.DataFrame:
    """Which instruments shrink first as the budget falls from the top of the sweep.

    For each instrument the optimiser may change (its own entries; rows counted in it are listed on their
    own): its entries at the top of the range, the highest budget at which it holds fewer
    (``shrinks_below``: the cut starts), the budget from which on down it stays at its minimum
    (``at_minimum_from``; empty if it does not stay there down to the bottom of the range), and its entries
    at the bottom. Sorted: first cut first. ``moves`` says whether it only shrinks as money falls, grows
    first, or goes up and down.
    """
    inst = sweep.problem.instruments
    ok = sweep.curve["status"] == "optimal"
    entries = sweep.entries[ok].sort_index(ascending=False)
    if entries.empty:
        return pd.DataFrame()
    top, bottom = entries.iloc[0], entries.iloc[-1]
    rows = []
    for iid in inst.index:
        if inst.at[iid, "fixed"]:
            continue
        col = entries[iid]
        tol = tolerance * max(1.0, abs(top[iid]))
        below = col[col < top[iid] - tol]
        at_min = (col <= inst.at[iid, "lower"] + tol).to_numpy()
        # from the bottom up: the levels at which it has stayed at its minimum all the way down
        stays = np.logical_and.accumulate(at_min[::-1])[::-1] if at_min[-1] else np.zeros_like(at_min)
        steps = np.diff(col.to_numpy()[::-1])  # as money grows
        grows = bool((col > top[iid] + tol).any())
        falls_and_rises = bool((steps < -tol).any() and (steps > tol).any())
        if falls_and_rises and not grows:
            moves = "goes up and down"
        elif grows:
            moves = "grows as money falls" + (", then is cut" if len(below) else "")
        else:
            moves = "cut" if len(below) else "not cut in range"
        rows.append({
            "id": iid,
            "instrument": inst.at[iid, "name"],
            "entries_top": float(top[iid]),
            "shrinks_below": float(below.index.max()) if len(below) else math.nan,
            "at_minimum_from": float(col.index[stays].max()) if stays.any() else math.nan,
            "entries_bottom": float(bottom[iid]),
            "minimum": float(inst.at[iid, "lower"]),
            "moves": moves,
        })
    if not rows:  # every row is fixed (or dropped): nothing is cut
        return pd.DataFrame(columns=["rank", "instrument", "entries_top", "shrinks_below", "at_minimum_from",
                                     "entries_bottom", "minimum", "moves"], index=pd.Index([], name="id"))
    out = pd.DataFrame(rows).set_index("id")
    out["_key"] = out["shrinks_below"].fillna(-1.0)
    out = out.sort_values(["_key", "at_minimum_from"], ascending=[False, False]).drop(columns="_key")
    out.insert(0, "rank", range(1, len(out) + 1))
    return out
