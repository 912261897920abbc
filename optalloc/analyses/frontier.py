"""The minimal-change frontier: the plan closest to the official one that reaches a share of the gain.

Planning staff change a few rows at a time, with contracts running. For each share of the attainable gain
(the optimum less the official plan's value in the same model: gross or net, diminishing returns or not),
:func:`frontier` finds the plan closest to the official one, in two measures:

- **euros moved** — Σ unit cost × |level − official level| over the rows (a euro taken from one row
  and given to another counts twice), a linear program: the change of each row split into an increase
  and a decrease (``up_<id>``, ``dn_<id>``), their money minimised;
- **rows touched** — the fewest rows whose level changes, a mixed-integer program on HiGHS: a binary
  ``y_<id>`` per row the optimiser may change, its increase ≤ (upper bound − official) × y and its
  decrease ≤ (official − lower bound) × y (big-M from the row's bounds); then, among the rows it picks,
  the least euros moved (the LP above with every other row fixed at its official level).

Both keep every rule of the model and the row "expected integrations ≥ official value + share × gain"
(``frontier:target``). The response curve's segments make the integrations a concave function, so the
"≥" row is exact in an LP. Each program is built once and re-solved for every share, changing only that
row's bound on PuLP's highspy object. More gain never needs less change: the set of plans shrinks as the
share grows. The 0 % point is the official plan itself; the 100 % point reaches the optimum.

Where the official plan breaks a rule of the model (a scenario's cut), no plan at 0 % is the official
one: the frontier then starts from the nearest plan (in euros moved) that keeps every rule, and counts
the gain from its value (``Frontier.start``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pulp

from .alternatives import at_box, checked_solution, reference, snap
from ..errors import SolverError, UsageError
from ..solving.lp import LinearProgram, build_lp, preference_weights
from ..solving.plan import instrument_cents, money_cents
from ..model.problem import Problem
from ..solving.solve import Solution, make_solver

DEFAULT_SHARES = tuple(k / 10 for k in range(11))
MEASURES = ("euros", "rows")
TARGET_ROW = "frontier:target"
ZERO_COST_WEIGHT = 1e-6  # € per entry: a row that costs no new money still counts a little when it moves
OPTIMUM_MARGIN = 1e-9  # relative: the 100 % point asks for the optimum less this (the solver's tolerance)


@dataclass(frozen=True)
class Frontier:
    """``table``: one row per measure ("euros": least euros moved; "rows": fewest rows touched) and share
    of the gain: the integrations required (``target``) and reached, the share of the gain reached, the
    euros moved (Σ |Δ money| per row, from whole cents, and the parts added to and taken from rows) and
    the rows touched. ``changes``: per point each row that changes — official and new level, Δ entries,
    Δ money, and whether the new level sits on the fallback box (not a finding). ``plans``: the checked
    Solution per (measure, share). ``start``: the 0 % plan — the official plan, or where that breaks a
    rule the nearest plan that keeps them all (``official_feasible`` False)."""

    problem: Problem
    official: Solution
    optimal: Solution
    start: Solution
    official_feasible: bool
    gain: float
    table: pd.DataFrame
    changes: pd.DataFrame
    plans: dict[tuple[str, float], Solution]


class _MoveLP:
    """The plan's LP with each adjustable row's change split into up and down, the target row, and (for
    the rows measure) a binary per row; built once, re-solved on HiGHS as the target moves."""

    def __init__(self, problem: Problem, adjustable: list[str], rows_touched: bool, first_target: float):
        inst = problem.instruments
        self.problem, self.adjustable = problem, adjustable
        self.lp: LinearProgram = build_lp(problem, lean=True)
        prob = self.lp.prob
        money, touched, mover = [], [], {}
        for iid in adjustable:
            off, lo, hi = (float(inst.at[iid, c]) for c in ("official", "lower", "upper"))
            up = prob.add_variable(f"up_{iid}", lowBound=0)
            dn = prob.add_variable(f"dn_{iid}", lowBound=0)
            prob.addConstraint(pulp.LpAffineExpression([(self.lp.level[iid], 1.0), (up, -1.0), (dn, 1.0)]) == off,
                               f"move:{iid}")
            cost = float(inst.at[iid, "unit_cost"]) or ZERO_COST_WEIGHT
            money += [(up, cost), (dn, cost)]
            mover.update({up.name: iid, dn.name: iid})
            if rows_touched:
                y = prob.add_variable(f"y_{iid}", lowBound=0, upBound=1, cat=pulp.LpInteger)
                touched.append((y, 1.0))
                prob.addConstraint(pulp.LpAffineExpression([(up, 1.0), (y, -max(hi - off, 0.0))]) <= 0, f"touch_up:{iid}")
                prob.addConstraint(pulp.LpAffineExpression([(dn, 1.0), (y, -max(off - lo, 0.0))]) <= 0, f"touch_dn:{iid}")
        prob.addConstraint(self.lp.integrations >= first_target, TARGET_ROW)
        prob.sense = pulp.LpMinimize
        prob.setObjective(pulp.LpAffineExpression(touched if rows_touched else money))
        status = pulp.LpStatus[prob.solve(make_solver("highs", integer=rows_touched))]
        if status != "Optimal":
            raise SolverError(f"{problem.name}: the minimal-change program stopped with status {status!r}")
        self.h = prob.solverModel
        self.money_row = None
        if not rows_touched:
            # the least euros can often be reached by more than one plan (two rows at the same cost): a second
            # pass keeps the least euros and prefers a fixed order of rows, so that a point does not depend on
            # the solves before it
            import highspy

            n = self.h.getNumCol()
            self.all_cols = np.arange(n, dtype=np.int32)
            self.money_costs = np.asarray(self.h.getLp().col_cost_, dtype=float).copy()
            self.preference_costs = np.zeros(n)
            weights = preference_weights(problem)
            for v, _ in money:
                self.preference_costs[v.index] = weights[mover[v.name]]
            moves = np.flatnonzero(self.money_costs).astype(np.int32)
            self.h.addRow(-highspy.kHighsInf, highspy.kHighsInf, len(moves), moves, self.money_costs[moves])
            self.money_row = self.h.getNumRow() - 1
        if rows_touched:
            # a binary at 1e-6 must not let a row move unseen: integrality to 1e-9; the count of rows is
            # whole, so a gap below one row proves the least count
            self.h.setOptionValue("mip_feasibility_tolerance", 1e-9)
            self.h.setOptionValue("mip_abs_gap", 0.999)
        self.row = prob.get_constraint_by_name(TARGET_ROW).index
        self.constant = float(self.lp.integrations.constant)
        self.cols = np.array([self.lp.level[i].index for i in inst.index], dtype=np.int32)
        self.y_cols = {iid: prob.variablesDict()[f"y_{iid}"].index for iid in adjustable} if rows_touched else {}

    def solve(self, target: float) -> np.ndarray | None:
        """All columns' values at the least change reaching ``target`` integrations; None if none does."""
        import highspy

        h, inf, optimal = self.h, highspy.kHighsInf, highspy.HighsModelStatus.kOptimal
        h.changeRowBounds(self.row, target - self.constant, inf)
        if self.money_row is not None:
            h.changeColsCost(len(self.all_cols), self.all_cols, self.money_costs)
        h.run()
        if h.getModelStatus() != optimal:
            return None
        if self.money_row is not None:
            least = float(h.getInfo().objective_function_value)
            h.changeRowBounds(self.money_row, -inf, least + 1e-9 * max(1.0, least) + 1e-7)
            h.changeColsCost(len(self.all_cols), self.all_cols, self.preference_costs)
            h.run()
            status, x = h.getModelStatus(), np.asarray(h.getSolution().col_value, dtype=float)
            h.changeRowBounds(self.money_row, -inf, inf)  # (a change of the model resets its status)
            if status != optimal:
                raise SolverError(f"{self.problem.name}: the tie-break of the least euros moved stopped with {status}")
            return x
        return np.asarray(h.getSolution().col_value, dtype=float)

    def solve_within(self, target: float, rows: set[str]) -> np.ndarray | None:
        """The least euros moved reaching ``target`` with only ``rows`` changing (the others at official)."""
        inst = self.problem.instruments
        keep = [i for i in self.adjustable if i not in rows]
        for iid in keep:
            off = float(inst.at[iid, "official"])
            self.h.changeColBounds(int(self.lp.level[iid].index), off, off)
        x = self.solve(target)
        for iid in keep:
            self.h.changeColBounds(int(self.lp.level[iid].index), float(inst.at[iid, "lower"]), float(inst.at[iid, "upper"]))
        return x

    def levels(self, x: np.ndarray) -> pd.Series:
        return snap(self.problem, x[self.cols])


def frontier(problem: Problem, shares: tuple[float, ...] = DEFAULT_SHARES, *, optimal: Solution | None = None,
             official: Solution | None = None) -> Frontier:
    """For each share of the attainable gain, the plan closest to the official one in euros moved and in
    rows touched (see the module docstring)."""
    shares = tuple(sorted({_share(s) for s in shares}))
    optimal, official = reference(problem, optimal, official)
    inst = problem.instruments
    adjustable = list(inst.index[~inst["fixed"]])
    official_feasible = bool(official.checks["ok"].all())
    euros = _MoveLP(problem, adjustable, rows_touched=False,
                    first_target=official.integrations if official_feasible else -1e18)
    kind_rows, level_rows = euros.lp.rows, euros.lp.level_rows()
    if official_feasible:
        start = official
    else:  # the nearest plan that keeps every rule, whatever its value
        x = euros.solve(-1e18)
        if x is None:
            raise SolverError(f"{problem.name}: no plan near the official one keeps every rule")
        start = checked_solution(problem, euros.levels(x), "frontier", kind_rows, level_rows)
    base = start.integrations
    gain = max(optimal.integrations - base, 0.0)
    rows_lp = _MoveLP(problem, adjustable, rows_touched=True, first_target=base)
    official_cents = instrument_cents(problem, money_cents(problem, official.plan))

    table, changes, plans = [], [], {}
    known: dict[bytes, Solution] = {official.plan.levels.to_numpy(dtype=float).tobytes(): official}
    if not official_feasible:
        known[start.plan.levels.to_numpy(dtype=float).tobytes()] = start

    def checked(x: np.ndarray) -> Solution:
        """The checked plan of the solver's values; a plan found before is not paid and checked again."""
        levels = euros.levels(x)
        key = levels.to_numpy(dtype=float).tobytes()
        if key not in known:
            known[key] = checked_solution(problem, levels, "frontier", kind_rows, level_rows)
        return known[key]

    for share in shares:
        target = base + share * gain
        if share == 1.0:
            target = optimal.integrations - OPTIMUM_MARGIN * max(1.0, abs(optimal.integrations))
        found: dict[str, np.ndarray | None] = {"euros": euros.solve(target)}
        y = rows_lp.solve(target)
        if y is None:
            found["rows"] = None
        else:
            picked = {i for i, j in rows_lp.y_cols.items() if y[j] > 0.5}
            found["rows"] = euros.solve_within(target, picked)
        for measure in MEASURES:
            x = found[measure]
            if x is None:
                raise SolverError(f"{problem.name}: no plan reaches {share:.0%} of the gain ({measure} measure)")
            # where the official plan breaks a rule, the least-euros 0 % point is by definition the start
            sol = start if share == 0.0 and measure == "euros" else checked(x)
            plans[(measure, share)] = sol
            moved = instrument_cents(problem, money_cents(problem, sol.plan)) - official_cents
            delta = sol.plan.levels - inst["official"]
            changed = [i for i in inst.index if delta[i] != 0.0]
            table.append({
                "measure": measure, "share": share, "target": target, "integrations": sol.integrations,
                "gain_reached": (sol.integrations - base) / gain if gain > 0 else 0.0,
                "euros_moved": float(moved.abs().sum()) / 100,
                "money_added": float(moved[moved > 0].sum()) / 100,
                "money_taken": float(-moved[moved < 0].sum()) / 100,
                "rows_touched": len(changed),
            })
            for iid in changed:
                level = float(sol.plan.levels[iid])
                changes.append({
                    "measure": measure, "share": share, "id": iid, "instrument": inst.at[iid, "name"],
                    "official": float(inst.at[iid, "official"]), "level": level, "delta": float(delta[iid]),
                    "money_delta": float(moved[iid]) / 100, "at_box": at_box(problem, iid, level),
                })
    table_df = pd.DataFrame(table).set_index(["measure", "share"])
    changes_df = pd.DataFrame(changes, columns=["measure", "share", "id", "instrument", "official", "level", "delta",
                                                "money_delta", "at_box"])
    return Frontier(problem, official, optimal, start, official_feasible, gain, table_df, changes_df, plans)


def _share(value: float) -> float:
    if not (isinstance(value, (int, float)) and 0.0 <= float(value) <= 1.0):
        raise UsageError("shares", value, "shares of the attainable gain from 0 to 1 (0.1 for 10 %)")
    return float(value)
