"""Why the optimal plan is what it is: binding constraints, reduced costs and sensitivity ranges, in words.

``explain(problem)`` solves the plan and returns an :class:`Explanation` of tables:

- ``constraints`` — every binding rule with its shadow price (expected integrations per additional
  1,000 € for money rows, per entry for coverage counts, per percentage point for coverage shares,
  per place for places), what loosening and tightening it by a little is worth when re-solved (the two
  differ where two limits bind at once), the instruments at the margin, and a sentence;
- ``instruments`` — each instrument the optimiser may change: where it sits (at its minimum, at its
  maximum, or taking the remaining money), its reduced cost, the range of its rate over which the plan's
  mix stays optimal (HiGHS cost ranging on the true objective), for instruments at a bound the unit
  cost at which that would change, and a sentence such as "FbW would receive more money if its rate
  rose above 0.491 (now 0.312)".

Shadow prices are d(integrations)/d(right-hand side) of the true objective at the plan's basis; ranges
hold while one figure changes and all others stay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import SolverError
from .lp import LinearProgram, build_lp
from .problem import Problem
from .solve import Solution, _run, optimise

TOL = 1e-9
INF = 1e20


@dataclass(frozen=True)
class Explanation:
    solution: Solution
    constraints: pd.DataFrame
    instruments: pd.DataFrame


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
    instruments = _instruments(problem, lp, solution, ranging)  # reads the solved model: before the probes
    return Explanation(solution, _constraints(problem, lp, solution), instruments)


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


def _basic(problem: Problem, solution: Solution) -> list[str]:
    inst = problem.instruments
    levels = solution.plan.levels
    return [i for i in inst.index if not inst.at[i, "fixed"]
            and levels[i] > inst.at[i, "lower"] + 1e-6 and levels[i] < inst.at[i, "upper"] - 1e-6]


def _constraints(problem: Problem, lp: LinearProgram, solution: Solution) -> pd.DataFrame:
    duals = solution.duals
    checks = solution.checks.set_index("name")
    marginal = _basic(problem, solution)
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
        one_sided = abs(gain - loss) > 1e-6 * max(abs(gain), abs(loss), 1e-9)
        if info.kind in ("budget", "pool", "cap"):
            paid = [i for i in marginal if any(info.ref in ps for ps in problem.costs.loc[problem.costs["instrument"] == i, "pools"])]
            what = f"the cap {info.label}" if info.kind == "cap" else info.label
            if one_sided:
                text = (f"Each 1,000 € less for {what} would cost {loss * 1000:.3f} expected integrations, but each "
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
        elif info.kind == "places":
            if one_sided:
                text = (f"Each place fewer for {info.ref} would cost {loss:.3f} expected integrations, but a place "
                        f"more would add {gain:.3f}: another limit binds at the same point.")
            else:
                text = f"Each additional place for {info.ref} would add {price:.3f} expected integrations."
            unit, value = "per place", gain
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


def _instruments(problem: Problem, lp: LinearProgram, solution: Solution, ranging) -> pd.DataFrame:
    inst = problem.instruments
    levels = solution.plan.levels
    reduced = solution.reduced_costs
    duals = solution.duals
    cost_dn = np.asarray(ranging.col_cost_dn.value_)
    cost_up = np.asarray(ranging.col_cost_up.value_)
    rhs_dn = np.asarray(ranging.row_bound_dn.value_)
    rhs_up = np.asarray(ranging.row_bound_up.value_)
    single_pool = _single_pool_rows(problem, lp)
    rows = []
    for iid, r in inst.iterrows():
        if r["fixed"] or r["unit"] != "entries":
            continue
        col = lp.level[iid].index
        weight = float(r["weight"])
        # HiGHS minimises −c / scale: its cost range [dn, up] is the range [−up, −dn] × scale of c
        c_low, c_high = -float(cost_up[col]) * lp.scale, -float(cost_dn[col]) * lp.scale
        rate_low = c_low / weight if abs(c_low) < INF else -math.inf
        rate_high = c_high / weight if abs(c_high) < INF else math.inf
        x, lo, hi = float(levels[iid]), float(r["lower"]), float(r["upper"])
        rc = float(reduced[iid]) if reduced is not None else math.nan
        at = "min" if abs(x - lo) <= 1e-6 else "max" if abs(x - hi) <= 1e-6 else "between"
        cost = float(r["unit_cost"])
        cost_low = cost_high = math.nan
        pool_row = single_pool.get(iid)
        if at != "between" and pool_row is not None and duals is not None:
            cost_low, cost_high = _cost_range(cost, x, rc, float(duals[pool_row]), lp, pool_row, rhs_dn, rhs_up, at)
        rows.append({
            "id": iid, "instrument": r["name"], "at": at, "level": x, "lower": lo, "upper": hi,
            "rate": float(r["rate"]), "rate_low": rate_low, "rate_high": rate_high,
            "unit_cost": cost, "cost_low": cost_low, "cost_high": cost_high, "reduced_cost": rc,
            "meaning": _words(iid, at, x, lo, hi, float(r["rate"]), rate_low, rate_high, cost, cost_low, cost_high, rc),
        })
    cols = ["id", "instrument", "at", "level", "lower", "upper", "rate", "rate_low", "rate_high", "unit_cost",
            "cost_low", "cost_high", "reduced_cost", "meaning"]
    return pd.DataFrame(rows, columns=cols).set_index("id")


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


def _words(iid, at, x, lo, hi, rate, rate_low, rate_high, cost, cost_low, cost_high, rc) -> str:
    costs = ""
    if not math.isnan(cost_low):
        top = "∞" if math.isinf(cost_high) else f"{cost_high:,.2f} €"
        costs = f"; the mix holds while its cost per entry stays between {cost_low:,.2f} € and {top} (now {cost:,.2f} €)"
    if at == "min":
        if math.isinf(rate_high):
            return f"{iid} is held at its minimum ({lo:,.1f} entries) whatever its rate{costs}."
        return (f"{iid} is held at its minimum ({lo:,.1f} entries): it would receive more money if its rate "
                f"rose above {rate_high:.3f} (now {rate:.3f}){costs}.")
    if at == "max":
        if math.isinf(rate_low):
            return f"{iid} is at its maximum ({hi:,.1f} entries); each entry more would add {rc:.3f} integrations{costs}."
        return (f"{iid} is at its maximum ({hi:,.1f} entries) while its rate stays above {rate_low:.3f} (now "
                f"{rate:.3f}); each entry more would add {rc:.3f} integrations{costs}.")
    low = f"{rate_low:.3f}" if not math.isinf(rate_low) else "−∞"
    high = f"{rate_high:.3f}" if not math.isinf(rate_high) else "∞"
    return (f"{iid} takes the remaining money ({x:,.1f} entries, between {lo:,.1f} and {hi:,.1f}); the mix stays "
            f"optimal while its rate stays between {low} and {high} (now {rate:.3f}).")
