"""Why the optimal plan is what it is: binding constraints, reduced costs and sensitivity ranges, in words.

``explain(problem)`` solves the plan and returns an :class:`Explanation` of tables:

- ``constraints`` — every binding rule with its shadow price (expected integrations per additional
  1,000 € for money rows, per entry for coverage counts, per percentage point for coverage shares,
  per place for places, per entry for a stated decision on entries or the customer stock), what loosening
  and tightening it by a little is worth when re-solved (the two differ where two limits bind at once),
  the instruments at the margin, and a sentence;
- ``instruments`` — each instrument the optimiser may change: where it sits (at its minimum or maximum,
  at a kink of its response, or inside a segment taking the remaining money), what set its level
  (:mod:`optalloc.analyses.reasons`), the rates of its last and next entries, its reduced cost, the range of its
  rate over which the plan stays optimal — a shift of its whole response curve, ranged on the plan
  itself —, for instruments at a bound the unit cost at which that would change, and a sentence
  such as "phoenix is held by contracted places ...; the mix holds while its rate stays above 0.277".

Shadow prices are d(integrations)/d(right-hand side) of the true objective at the plan's basis; ranges
hold while one figure changes and all others stay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pulp

from ..errors import SolverError
from ..solving.lp import LinearProgram, build_lp
from ..model.problem import MONEY_LINE, Problem
from .reasons import level_reasons
from ..solving.solve import Solution, _run, optimise

TOL = 1e-9
INF = 1e20
POSSIBLE_RATES = {"gross": (0.0, 1.0), "net": (-1.0, 1.0)}
"""What a rate can be (per entry, or per 1,000 € of a money line), by basis: a threshold outside is unreachable."""


def reachable(threshold: float, basis: str) -> bool:
    """Can a rate reach ``threshold``? (An infinite one, or one outside :data:`POSSIBLE_RATES`, cannot.)"""
    low, high = POSSIBLE_RATES[basis]
    return math.isfinite(threshold) and low - 1e-12 <= threshold <= high + 1e-12


@dataclass(frozen=True)
class Explanation:
    solution: Solution
    constraints: pd.DataFrame
    instruments: pd.DataFrame
    levels: pd.DataFrame


def explain(problem: Problem) -> Explanation:
    """Explain the optimal (continuous) plan of ``problem``; raises InfeasibleError with a diagnosis."""
    solution = optimise(problem)  # raises InfeasibleError with a diagnosis
    lp = build_lp(problem)
    status = _run(lp, "highs")
    if status != "Optimal":  # optimise just solved the same LP: only a solver fault lands here
        raise SolverError(f"{problem.name}: the solver stopped with status {status!r}")
    ranging = lp.prob.solverModel.getRanging()
    if isinstance(ranging, tuple):
        ranging = ranging[1]
    reasons = level_reasons(solution)
    instruments = _instruments(problem, lp, solution, ranging, reasons)  # reads the solved model: before the probes
    return Explanation(solution, _constraints(problem, lp, solution), instruments, reasons)


def _objective(lp: LinearProgram) -> float:
    """Expected integrations of the plan HiGHS last found (it minimises −objective / scale)."""
    return -lp.prob.solverModel.getInfo().objective_function_value * lp.scale


def _one_sided(lp: LinearProgram, name: str, step: float, base: float) -> tuple[float, float]:
    """What loosening a row by ``step`` gains and tightening it by ``step`` costs, per unit, re-solved from
    the optimum worth ``base``; the row's bound is put back afterwards.

    A shadow price is the gain of both only where one limit binds at a time; where two bind together
    (the Soziale Teilhabe money and its 90 places) more money buys nothing while less still costs."""
    import highspy

    h = lp.prob.solverModel
    info = lp.rows[name]
    row = lp.constraint[name].index
    inf = highspy.kHighsInf
    moved = []
    for direction in (+1.0, -1.0):  # +1 loosens the row
        rhs = info.rhs + direction * step * (1.0 if info.sense == "<=" else -1.0)
        if info.sense == "<=":
            h.changeRowBounds(row, -inf, rhs)
        else:
            h.changeRowBounds(row, rhs, inf)
        h.run()
        ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        moved.append(_objective(lp) if ok else math.nan)
    if info.sense == "<=":
        h.changeRowBounds(row, -inf, info.rhs)
    else:
        h.changeRowBounds(row, info.rhs, inf)
    return (moved[0] - base) / step, (base - moved[1]) / step


def one_sided_prices(problem: Problem, solution: Solution) -> pd.DataFrame:
    """Per binding row with a nonzero shadow price of a continuous optimal plan: what one unit more and one
    unit less of its right-hand side change the expected integrations by, each re-solved (``up``, ``down``:
    per unit, signed as changes of the integrations), and whether the two differ (``one_sided``: another limit
    binds at the same point, so the shadow price holds in one direction only — as :func:`explain` says it)."""
    columns = ["up", "down", "one_sided"]
    if solution.duals is None:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="name"))
    lp = build_lp(problem)
    status = _run(lp, "highs")
    if status != "Optimal":  # the plan was just found optimal: only a solver fault lands here
        raise SolverError(f"{problem.name}: the solver stopped with status {status!r}")
    checks = solution.checks.set_index("name")
    base = _objective(lp)
    rows = {}
    for name, info in lp.rows.items():
        if info.kind in ("split", "lot") or name not in checks.index or not checks.at[name, "binding"]:
            continue
        if abs(float(solution.duals.get(name, 0.0))) < 1e-12:
            continue
        step = 1.0 if info.unit == "€" else 0.01
        gain, loss = _one_sided(lp, name, step, base)
        one_sided = bool(math.isnan(loss) or abs(gain - loss) > 1e-6 * max(abs(gain), abs(loss), 1e-9))
        up, down = (gain, -loss) if info.sense == "<=" else (-loss, gain)
        rows[name] = (up, down, one_sided)
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns).rename_axis("name")


def _takers(lp: LinearProgram, name: str, solution: Solution, step: float = 1000.0) -> list[str]:
    """The rows whose level moves when the money row ``name`` gets ``step`` € more, re-solved: where the
    next 1,000 € would go. A row strictly between its bounds need not take any of it (it may sit at a kink
    of its response), so the rows are read from the re-solved plan, not from where the plan sits."""
    import highspy

    h = lp.prob.solverModel
    info = lp.rows[name]
    if info.sense != "<=":
        return []
    row = lp.constraint[name].index
    inf = highspy.kHighsInf
    h.changeRowBounds(row, -inf, info.rhs + step)
    h.run()
    moved = []
    if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
        values = h.getSolution().col_value
        levels = solution.plan.levels
        moved = [iid for iid, v in lp.level.items()
                 if abs(values[v.index] - float(levels[iid])) > 1e-6 * max(1.0, abs(float(levels[iid])))]
    h.changeRowBounds(row, -inf, info.rhs)
    return moved


def _cost_words(loss: float) -> str:
    """What tightening costs, in words; NaN: it cannot be tightened (a minimum needs all of it)."""
    if math.isnan(loss):
        return "more than the plan can give (a minimum needs all of it: tighter, no plan is feasible)"
    return f"{loss:.3f} expected integrations"


def _constraints(problem: Problem, lp: LinearProgram, solution: Solution) -> pd.DataFrame:
    duals = solution.duals
    checks = solution.checks.set_index("name")
    base = _objective(lp)
    rows = []
    for name, info in lp.rows.items():
        if info.kind in ("split", "lot") or name not in checks.index:
            continue
        price = float(duals.get(name, 0.0)) if duals is not None else math.nan
        if abs(price) < 1e-12 or not checks.at[name, "binding"]:
            continue
        per_1000 = price * 1000 if info.unit == "€" else math.nan
        step = 1.0 if info.unit == "€" else 0.01
        gain, loss = _one_sided(lp, name, step, base)
        one_sided = math.isnan(loss) or abs(gain - loss) > 1e-6 * max(abs(gain), abs(loss), 1e-9)
        if info.kind in ("budget", "pool", "cap"):
            paid = _takers(lp, name, solution) if info.kind != "cap" and not one_sided else []
            what = f"the cap {info.label}" if info.kind == "cap" else info.label
            if one_sided:
                text = (f"Each 1,000 € less for {what} would cost {_cost_words(loss * 1000)}, but each "
                        f"1,000 € more would add {gain * 1000:.3f}: another limit binds at the same point.")
            else:
                where = f"; the money would go to {', '.join(paid)}" if paid and info.kind != "cap" else ""
                text = f"Each additional 1,000 € for {what} would add {per_1000:.3f} expected integrations{where}."
            unit = "per 1,000 €"
            value = gain * 1000
        elif info.kind == "coverage":
            cov = next(c for c in problem.coverage if c.id == info.ref)
            if cov.min_share is not None:
                total = problem.group_reach(solution.plan.levels, cov.group, cov.basis)[1]
                value = -price * total / 100
                text = (f"Requiring {cov.group} to have at least {cov.min_share:.1%} of all {cov.basis} costs "
                        f"{value:.2f} expected integrations per percentage point; lowering it by one point would "
                        f"gain them.")
                unit = "per point of share"
            else:
                value = -price
                text = (f"Requiring at least {cov.min_count:,.0f} {cov.basis} for {cov.group} costs {value:.3f} "
                        f"expected integrations per required {'entry' if cov.basis == 'entries' else '€'}.")
                unit = "per entry" if cov.basis == "entries" else "per €"
        elif info.kind in ("places", "capacity", "stock", "policy") and info.unit != "€":
            noun = {"places": "place", "posts": "post", "entries": "entry"}.get(info.unit, info.unit)
            what = {"places": f"places for {info.ref}", "capacity": info.label,
                    "stock": f"the customer stock ({info.label})", "policy": f"the rule '{info.label}'"}[info.kind]
            direction = "more" if info.sense == "<=" else "fewer"
            if one_sided:
                text = (f"Each {noun} {direction} for {what} would add {gain:.3f} expected integrations, but each "
                        f"{noun} the other way would cost {_cost_words(loss)}: another limit binds at the same point.")
            else:
                text = f"Each {noun} {direction} for {what} would add {abs(price):.3f} expected integrations."
            unit, value = f"per {noun}", gain
        elif info.kind == "policy":
            direction = "more" if info.sense == "<=" else "less"
            text = (f"Each 1,000 € {direction} for the rule '{info.label}' would add {gain * 1000:.3f} "
                    "expected integrations" + (f"; the other way would cost {_cost_words(loss * 1000)}." if one_sided
                                               else "."))
            unit, value = "per 1,000 €", gain * 1000
        else:
            text, unit, value = "", "", price
        if info.kind == "coverage" and one_sided:
            text += f" (Tightening it costs {loss:.3f} per {'entry' if info.unit == 'entries' else '€'}, loosening gains {gain:.3f}.)"
        rows.append({"name": name, "kind": info.kind, "label": info.label, "shadow_price": price,
                     "value": value, "unit": unit, "gain_if_loosened": gain, "loss_if_tightened": loss,
                     "meaning": text})
    out = pd.DataFrame(rows, columns=["name", "kind", "label", "shadow_price", "value", "unit", "gain_if_loosened",
                                      "loss_if_tightened", "meaning"])
    return out.set_index("name")


def _instruments(problem: Problem, lp: LinearProgram, solution: Solution, ranging, reasons: pd.DataFrame) -> pd.DataFrame:
    inst = problem.instruments
    levels = solution.plan.levels
    reduced = solution.reduced_costs
    duals = solution.duals
    rhs_dn = np.asarray(ranging.row_bound_dn.value_)
    rhs_up = np.asarray(ranging.row_bound_up.value_)
    single_pool = _single_pool_rows(problem, lp)
    shifts = _shift_ranges(problem, lp, solution)
    widen = _CostRangeProbe(problem, lp, solution)
    rows = []
    for iid, r in inst.iterrows():
        if r["fixed"] or (r["unit"] != "entries" and r["financing"] != MONEY_LINE):
            continue
        per = 1000.0 if r["unit"] == "euros" else 1.0  # a line in euros is told per 1,000 €
        x, lo, hi = float(levels[iid]), float(r["lower"]), float(r["upper"])
        rc = float(reduced[iid]) if reduced is not None else math.nan
        last_rate, next_rate, kink = problem.rates_around(iid, x, max(1e-3, 1e-7 * abs(x)))
        at = "min" if abs(x - lo) <= 1e-6 else "max" if abs(x - hi) <= 1e-6 else "kink" if kink else "between"
        rate = float(r["rate"])
        down, up = shifts.get(iid, (-math.inf, math.inf))
        cost = float(r["unit_cost"])
        cost_low = cost_high = math.nan
        pool_row = single_pool.get(iid)
        if at in ("min", "max") and pool_row is not None and duals is not None and per == 1.0:
            cost_low, cost_high = _cost_range(cost, x, rc, float(duals[pool_row]), lp, pool_row, rhs_dn, rhs_up, at)
            cost_low, cost_high = widen(iid, pool_row, cost, cost_low, cost_high)
        why = reasons.loc[iid]
        weight = float(r["weight"])
        rows.append({
            "id": iid, "instrument": r["name"], "at": at, "level": x, "lower": lo, "upper": hi,
            "set_by": why["set_by"], "limit": why["what"],
            "rate": rate * per, "rate_low": (rate + down) * per, "rate_high": (rate + up) * per,
            "last_rate": last_rate * weight * per, "next_rate": next_rate * weight * per,
            "unit_cost": cost, "cost_low": cost_low, "cost_high": cost_high, "reduced_cost": rc * per,
            "per": "1,000 €" if per != 1.0 else "entry",
            "meaning": _words(why, rate * per, (rate + down) * per, (rate + up) * per, cost, cost_low, cost_high,
                              problem.basis, "per 1,000 €" if per != 1.0 else ""),
        })
    cols = ["id", "instrument", "at", "level", "lower", "upper", "set_by", "limit", "rate", "rate_low", "rate_high",
            "last_rate", "next_rate", "unit_cost", "cost_low", "cost_high", "reduced_cost", "per", "meaning"]
    return pd.DataFrame(rows, columns=cols).set_index("id")


def _shift_ranges(problem: Problem, lp: LinearProgram, solution: Solution) -> dict[str, tuple[float, float]]:
    """Per instrument, how far its whole response may shift (every segment's rate by the same Δ) while the
    plan stays optimal: (Δ down ≤ 0, Δ up ≥ 0) in rate units.

    The plan x* (its levels, its response segments filled in order, the pools' split) stays optimal for
    the costs c + Δ·e exactly when some dual y makes it so: a column strictly between its bounds has a
    zero reduced cost, one at its lower bound a reduced cost ≥ 0, at its upper ≤ 0 (HiGHS minimises), a row
    strictly inside its bounds a zero dual, one at its lower side a dual ≥ 0, at its upper ≤ 0. The range
    of Δ is a small LP in (Δ, y), maximised and minimised. Unlike ranging on a basis, it does not stop
    where a degenerate basis would change while the plan stays."""
    import highspy

    from .sweeps import _dense

    h = lp.prob.solverModel
    model = h.getLp()
    n, m = h.getNumCol(), h.getNumRow()
    matrix = _dense(model, m, n)
    cost = np.asarray(model.col_cost_, dtype=float)
    col_lo, col_hi = np.asarray(model.col_lower_, dtype=float), np.asarray(model.col_upper_, dtype=float)
    row_lo, row_hi = np.asarray(model.row_lower_, dtype=float), np.asarray(model.row_upper_, dtype=float)
    x = _plan_columns(problem, lp, solution, n)
    activity = matrix @ x
    inf = highspy.kHighsInf

    def at(value: np.ndarray, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tol = 1e-7 * np.maximum(1.0, np.abs(value))
        return np.abs(value - low) <= tol, np.abs(value - high) <= tol

    col_at_lo, col_at_hi = at(x, col_lo, col_hi)
    row_at_lo, row_at_hi = at(activity, row_lo, row_hi)
    free_cols = col_hi - col_lo > 1e-12
    # dual variables: y (one per row), then Δ
    y_lo = np.where(row_hi - row_lo <= 1e-12, -inf, np.where(row_at_lo, 0.0, np.where(row_at_hi, -inf, 0.0)))
    y_hi = np.where(row_hi - row_lo <= 1e-12, inf, np.where(row_at_hi, 0.0, np.where(row_at_lo, inf, 0.0)))
    cons_lo = np.where(col_at_lo & ~col_at_hi, -cost, np.where(col_at_hi & ~col_at_lo, -inf, -cost))
    cons_hi = np.where(col_at_hi & ~col_at_lo, -cost, np.where(col_at_lo & ~col_at_hi, inf, -cost))
    keep = np.nonzero(free_cols)[0]
    weight = problem.instruments["weight"]
    by_row: dict[str, list[int]] = {}
    for (iid, _), v in lp.segments.items():
        by_row.setdefault(iid, []).append(v.index)
    for iid, curve in problem.curves.items():
        movable = col_hi[lp.level[iid].index] - col_lo[lp.level[iid].index] > 1e-12
        if iid not in by_row and len(curve[3]) == 1 and movable:  # a constant rate sits on the level itself
            by_row[iid] = [lp.level[iid].index]
    dual = highspy.Highs()
    dual.setOptionValue("output_flag", False)
    out = {}
    for iid, cols in by_row.items():
        direction = np.zeros(n)
        direction[cols] = -float(weight[iid]) / lp.scale  # HiGHS minimises −objective / scale
        # rows of the dual LP: −Aᵀy + Δ·direction within the column's bounds on c + Δ·direction − Aᵀy ≥/≤/= 0
        lp_dual = highspy.HighsLp()
        lp_dual.num_col_ = m + 1
        lp_dual.num_row_ = len(keep)
        lp_dual.col_cost_ = np.zeros(m + 1)
        lp_dual.col_lower_ = np.append(y_lo, -inf)
        lp_dual.col_upper_ = np.append(y_hi, inf)
        lp_dual.row_lower_ = cons_lo[keep]
        lp_dual.row_upper_ = cons_hi[keep]
        dense = np.hstack([-matrix.T[keep], direction[keep, None]])
        lp_dual.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        starts, index, value = [0], [], []
        for row in dense:
            nz = np.nonzero(np.abs(row) > 0)[0]
            index.extend(nz.tolist())
            value.extend(row[nz].tolist())
            starts.append(len(index))
        lp_dual.a_matrix_.start_ = starts
        lp_dual.a_matrix_.index_ = index
        lp_dual.a_matrix_.value_ = value
        lp_dual.a_matrix_.num_col_ = m + 1
        lp_dual.a_matrix_.num_row_ = len(keep)
        dual.passModel(lp_dual)
        ends = []
        for sense in (+1.0, -1.0):  # minimise Δ, then maximise it
            dual.changeColCost(m, sense)
            dual.run()
            status = dual.getModelStatus()
            if status == highspy.HighsModelStatus.kOptimal:
                ends.append(float(dual.getSolution().col_value[m]))
            elif status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
                ends.append(-sense * math.inf)
            else:
                ends.append(math.nan)
        out[iid] = (min(ends[0], 0.0), max(ends[1], 0.0))
    return out


def _plan_columns(problem: Problem, lp: LinearProgram, solution: Solution, n: int) -> np.ndarray:
    """The plan as a value for every column of ``lp``: levels, response segments filled in order (the only
    optimal fill of a concave response) and the pools' split."""
    x = np.zeros(n)
    levels = solution.plan.levels
    for iid, v in lp.level.items():
        x[v.index] = float(levels[iid])
    by_row: dict[str, list[tuple[int, pulp.LpVariable]]] = {}
    for (iid, k), v in lp.segments.items():
        by_row.setdefault(iid, []).append((k, v))
    for iid, parts in by_row.items():
        left = float(levels[iid]) - float(lp.rows[f"response:{iid}"].rhs)
        for _, v in sorted(parts, key=lambda kv: kv[0]):
            take = min(max(left, 0.0), float(v.upBound) if v.upBound is not None else math.inf)
            x[v.index] = take
            left -= take
    for key, v in lp.split.items():
        x[v.index] = float(solution.plan.split.get(key, 0.0))
    return x


def _cost_range(cost, x, rc, y, lp, pool_row, rhs_dn, rhs_up, at) -> tuple[float, float]:
    """Unit costs over which the mix stays optimal, for an instrument held at a bound.

    Its cost is its coefficient in one money row. A change Δ acts like moving that row's limit by −Δ·x
    (primal side: for a binding row HiGHS row ranging says how far the limit may move; a row with room
    takes a rise until the room is used up), and changes the reduced cost by −y·Δ (dual side: at its
    minimum it must stay ≤ 0, at its maximum ≥ 0)."""
    low, high = -math.inf, math.inf
    row = lp.constraint[pool_row].index
    rhs = lp.rows[pool_row].rhs
    activity = float(lp.prob.solverModel.getSolution().row_value[row])
    if x > TOL:
        if rhs - activity > 1e-6 * max(1.0, abs(rhs)):
            # the row has room: the cost may rise until the room is used up (its ranging is of the activity)
            high = min(high, (rhs - activity) / x)
        else:
            if rhs_up[row] < INF:
                low = max(low, (rhs - rhs_up[row]) / x)
            if rhs_dn[row] > -INF:
                high = min(high, (rhs - rhs_dn[row]) / x)
    if y > TOL:
        if at == "min":
            low = max(low, rc / y)
        else:
            high = min(high, rc / y)
    return max(cost + low, 0.0), cost + high


class _CostRangeProbe:
    """Widens a cost range from basis ranging to where the mix really changes, by re-solving.

    Ranging on a basis stops where the basis would change; at a kink of a response (a degenerate basis) that
    happens before any row leaves its bound. The mix — each movable row at its minimum, its maximum or between
    — is read from a copy of the LP re-solved (warm) with the row's cost changed in its money row, stepping out
    from the ranged end and bisecting to 10⁻⁷ of the cost. The ranged ends are kept where the mix changes just
    beyond them. It assumes the costs at which the mix holds form an interval, as they do along each side of
    the plan's cost while one bound switches at a time."""

    def __init__(self, problem: Problem, lp: LinearProgram, solution: Solution) -> None:
        import highspy

        self._highspy = highspy
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        self.h.passModel(lp.prob.solverModel.getLp())
        self.h.setBasis(lp.prob.solverModel.getBasis())  # start from the optimum's basis: each probe is warm
        self.lp = lp
        inst = problem.instruments
        self.columns = {i: (lp.level[i].index, float(inst.at[i, "lower"]), float(inst.at[i, "upper"]))
                        for i in inst.index if not inst.at[i, "fixed"] and inst.at[i, "upper"] > inst.at[i, "lower"]}
        self.base: tuple[str, ...] | None = None

    def _mix(self) -> tuple[str, ...] | None:
        self.h.run()
        if self.h.getModelStatus() != self._highspy.HighsModelStatus.kOptimal:
            return None
        values = self.h.getSolution().col_value
        return tuple("min" if abs(values[c] - lo) < 1e-6 else "max" if abs(values[c] - hi) < 1e-6 else "between"
                     for c, lo, hi in self.columns.values())

    def __call__(self, iid: str, pool_row: str, cost: float, low: float, high: float) -> tuple[float, float]:
        coefficient = self.lp.constraint[pool_row].get(self.lp.level[iid], 0.0)
        if not coefficient or cost <= 0:
            return low, high
        if self.base is None:
            self.base = self._mix()
        row, col = self.lp.constraint[pool_row].index, self.lp.level[iid].index

        def holds(new_cost: float) -> bool:
            self.h.changeCoeff(row, col, float(coefficient) * new_cost / cost)
            return self._mix() == self.base

        try:
            if math.isfinite(high) and holds(high + 1e-6 * cost):
                high = self._search(holds, high, +1.0, cost)
            if low > 0 and holds(max(low - 1e-6 * cost, 0.0)):
                low = self._search(holds, low, -1.0, cost)
        finally:
            self.h.changeCoeff(row, col, float(coefficient))
        return low, high

    @staticmethod
    def _search(holds, good: float, direction: float, cost: float) -> float:
        """The farthest cost from ``good`` in ``direction`` at which the mix holds (0 and ∞ included)."""
        step, bad = 0.01 * cost, math.nan
        while math.isnan(bad):
            trial = good + direction * step
            if trial <= 0:
                if holds(0.0):
                    return 0.0
                bad = 0.0
            elif trial > 1e4 * cost:
                return math.inf
            elif holds(trial):
                good, step = trial, step * 2
            else:
                bad = trial
        while abs(bad - good) > 1e-7 * cost:
            middle = (good + bad) / 2
            good, bad = (middle, bad) if holds(middle) else (good, middle)
        return good


def _single_pool_rows(problem: Problem, lp: LinearProgram) -> dict[str, str]:
    """Instruments whose cost per entry appears in exactly one row — one money row — with their row.

    An instrument in a legal cap or counted in a coverage requirement on money has its cost in more rows
    than one; its cost range is not a one-row matter and is left out."""
    capped = {i for cap in problem.caps for i in cap.instruments}
    money_coverage = any(c.basis == "money" for c in problem.coverage)
    out = {}
    for iid, comps in problem.costs.groupby("instrument"):
        if len(comps) != 1 or len(comps["pools"].iloc[0]) != 1 or iid in capped or money_coverage:
            continue
        name = problem.pool_row(comps["pools"].iloc[0][0])
        if name in lp.rows:
            out[str(iid)] = name
    return out


def _words(why, rate, rate_low, rate_high, cost, cost_low, cost_high, basis: str = "gross", per: str = "") -> str:
    """The instrument in one sentence: what holds it, what one entry more or fewer is worth, and the range
    of its rate (its response shifted as a whole) over which the mix stays optimal. A threshold no rate can
    reach (outside :data:`POSSIBLE_RATES`) counts as none, and the sentence says so."""
    costs = ""
    if not math.isnan(cost_low):
        top = "∞" if math.isinf(cost_high) else f"{cost_high:,.2f} €"
        costs = f"; the mix holds while its cost per entry stays between {cost_low:,.2f} € and {top} (now {cost:,.2f} €)"
    unit = f" {per}" if per else ""
    low_ok, high_ok = reachable(rate_low, basis), reachable(rate_high, basis)
    if not low_ok and not high_ok:
        ranges = "it stays there whatever its rate"
    elif not high_ok:
        ranges = f"it stays there while its rate stays above {rate_low:.3f}{unit} (now {rate:.3f})"
    elif not low_ok:
        ranges = f"it would receive more money if its rate rose above {rate_high:.3f}{unit} (now {rate:.3f})"
    else:
        ranges = f"the mix stays optimal while its rate stays between {rate_low:.3f} and {rate_high:.3f}{unit} (now {rate:.3f})"
    lowest, highest = POSSIBLE_RATES[basis]
    beyond = [f"{v:.3f}" for v in (rate_low, rate_high) if math.isfinite(v) and not reachable(v, basis)]
    if beyond:
        ranges += (f" ({' and '.join(beyond)} lie{'s' if len(beyond) == 1 else ''} outside what a {basis} rate can be, "
                   f"{lowest:g} to {highest:g}: unreachable)")
    return f"{why['meaning']}; {ranges}{costs}."
