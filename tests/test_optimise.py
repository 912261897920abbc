"""Issue 3: the LP, the optimal plan beside the official plan, checked independently of the solver."""

from __future__ import annotations

import json
import math

import pytest
import yaml
from click.testing import CliRunner

from cli import main
from optalloc import reports
from optalloc.plan import money_cents
from optalloc.problem import build_problem
from optalloc.solve import official, optimise

from . import independent_check as ic
from .conftest import MODEL, RATES
from .helpers import plan_dict, with_budget

RAW = yaml.safe_load(MODEL.read_text(encoding="utf-8"))
RAW_RATES = yaml.safe_load(RATES.read_text(encoding="utf-8"))


def assert_feasible(solution, integer=False):
    levels, split = plan_dict(solution)
    assert ic.violations(RAW, levels, split, integer=integer) == []
    assert solution.checks["ok"].all(), solution.checks[~solution.checks["ok"]].to_string()


def test_official_plan_money_reproduces_every_printed_row(official_plan, spec):
    table = reports.instrument_table(official_plan)
    for r in spec.model.instruments:
        if r.financing in ("new", "partly_prepaid", "money_only"):
            assert table.at[r.id, "money_plan"] == round((r.new_funds or 0) + r.vbl, 2), r.id
    # the printed row FbW counts FbW-U25 and Reha FbW in its 1,387 entries
    assert table.at["fbw", "entries_plan"] == 1387
    assert table.at["agh_mae", "money_plan"] == 4217700.00 + 1031337.32


def test_official_plan_is_feasible_and_keeps_its_unplanned_money_as_the_reserve(official_plan):
    assert_feasible(official_plan)
    budget = reports.budget_table(official_plan)
    # the reserve for the year is what the official plan leaves unplanned, computed from the document:
    # 23,878,495.16 − 22,888,415.95 (the tables' new money) − 58,701.57 (Soziale Teilhabe co-funding)
    assert float(official_plan.problem.budget.reserve) == 931377.64
    assert budget.at["egt", "available"] == 23878495.16 - 931377.64
    assert budget.at["egt", "left_plan"] == 0.0
    assert budget.at["refugee_t1", "left_plan"] == 0 and budget.at["refugee_t2", "left_plan"] == 0
    assert math.isclose(official_plan.integrations, ic.integrations(RAW, RAW_RATES, official_plan.plan.levels.to_dict()))


def test_optimum_beats_the_official_plan_and_passes_the_checker(optimal_plan, official_plan):
    assert_feasible(optimal_plan)
    assert optimal_plan.integrations >= official_plan.integrations
    assert math.isclose(optimal_plan.integrations, ic.integrations(RAW, RAW_RATES, optimal_plan.plan.levels.to_dict()))


def test_cbc_gives_the_same_optimum(problem, optimal_plan):
    cbc = optimise(problem, solver="cbc")
    assert_feasible(cbc)
    assert math.isclose(cbc.integrations, optimal_plan.integrations, rel_tol=1e-7)
    assert cbc.plan.levels.round(3).equals(optimal_plan.plan.levels.round(3))


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_integer_mode_buys_whole_entries_in_lots(problem, optimal_plan, solver):
    sol = optimise(problem, solver=solver, integer=True)
    assert_feasible(sol, integer=True)
    levels = sol.plan.levels
    entries = problem.instruments["unit"] == "entries"
    assert (levels[entries] == levels[entries].round()).all()
    assert levels["ek_pflege"] % 16 == 0 and levels["oa_fm"] % 16 == 0
    assert sol.integrations <= optimal_plan.integrations + 1e-6


def test_integer_optimum_agrees_between_solvers(problem):
    a = optimise(problem, solver="highs", integer=True)
    b = optimise(problem, solver="cbc", integer=True)
    assert math.isclose(a.integrations, b.integrations, rel_tol=1e-9)


def test_same_input_gives_the_same_plan(problem):
    first, second = optimise(problem), optimise(problem)
    assert plan_dict(first) == plan_dict(second)
    off1, off2 = official(problem), official(problem)
    assert plan_dict(off1) == plan_dict(off2)


def test_pool_split_is_the_same_on_both_solvers(problem):
    """Tranches 1 and 2 are interchangeable: the tie-break pass makes the split unique."""
    a = optimise(problem, solver="highs").plan.split
    b = optimise(problem, solver="cbc").plan.split
    assert a.keys() == b.keys()
    assert all(abs(a[k] - b[k]) < 0.05 for k in a)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_budget_dual_matches_a_finite_difference(spec, solver):
    """PuLP's HiGHS duals come back with the wrong sign on a maximisation: check against re-solving."""
    base = optimise(build_problem(spec), solver=solver)
    dual = base.duals["budget:new_business"]
    assert dual > 0
    step = 1000.0
    more = optimise(build_problem(with_budget(spec, commitments=spec.model.budget.commitments - step)), solver=solver)
    assert math.isclose((more.integrations - base.integrations) / step, dual, rel_tol=1e-4)


@pytest.mark.parametrize("iid, side", [("agh_mae_u25", "lower"), ("phoenix", "upper")])
def test_reduced_cost_matches_a_finite_difference(spec, problem, iid, side):
    """AGH-MAE U25 sits at its contract's floor (forcing one more entry in costs its reduced cost), Phönix
    at its contracted places (one entry more would gain it): re-solve with the bound moved by one entry."""
    base = optimise(problem)
    inst = problem.instruments
    assert base.plan.levels[iid] == pytest.approx(inst.at[iid, side])
    rc = base.reduced_costs[iid]
    assert (rc < 0) if side == "lower" else (rc > 0)
    from optalloc.lp import build_lp
    from optalloc.solve import _run

    lp = build_lp(problem)
    if side == "lower":
        lp.level[iid].lowBound = inst.at[iid, "lower"] + 1
    else:
        lp.level[iid].upBound = inst.at[iid, "upper"] + 1
    assert _run(lp, "highs") == "Optimal"
    import pulp

    assert math.isclose(pulp.value(lp.integrations) - base.integrations, rc, rel_tol=1e-4)


def test_more_budget_never_lowers_the_optimum(spec):
    values = []
    for shift in (-2e6, -1e6, 0.0, 1e6, 3e6):
        s = with_budget(spec, commitments=spec.model.budget.commitments - shift)
        sol = optimise(build_problem(s))
        assert_feasible_raw(s, sol)
        values.append(sol.integrations)
    assert all(b >= a - 1e-9 for a, b in zip(values, values[1:]))


def assert_feasible_raw(spec, sol):
    raw = spec.model.model_dump(mode="python", exclude_none=True)
    levels, split = plan_dict(sol)
    assert ic.violations(raw, levels, split) == []


def test_least_money_keeps_the_optimum_and_spends_no_more(problem, optimal_plan):
    lean = optimise(problem, least_money=True)
    assert_feasible(lean)
    assert math.isclose(lean.integrations, optimal_plan.integrations, rel_tol=1e-8)
    spent = lambda s: money_cents(problem, s.plan)["cents"].sum()  # noqa: E731
    assert spent(lean) <= spent(optimal_plan)


def test_least_money_leaves_a_reserve_when_the_budget_does_not_bind(spec):
    rich = build_problem(with_budget(spec, commitments=spec.model.budget.commitments - 8e6))
    lean = optimise(rich, least_money=True)
    assert lean.duals["budget:new_business"] == pytest.approx(0.0, abs=1e-12)
    table = reports.budget_table(lean)
    left = table.at["egt", "left_plan"]
    assert left > 100_000
    used = money_cents(rich, lean.plan).query("pool == 'egt'")["cents"].sum()
    assert round(left * 100) == round(rich.pools.at["egt", "available"] * 100) - used


def test_printed_totals_equal_the_sum_of_printed_rows(optimal_plan, official_plan):
    areas = reports.area_table(optimal_plan, official_plan)
    budget = reports.budget_table(optimal_plan, official_plan)
    cents = money_cents(optimal_plan.problem, optimal_plan.plan)
    assert round(budget["used_plan"].sum() * 100) == cents["cents"].sum()
    # every area's money is a sum of whole cents
    assert all(abs(v * 100 - round(v * 100)) < 1e-6 for v in areas["money_plan"])


def test_solve_command_prints_both_plans_and_writes_tables(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["solve", str(MODEL), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for text in ("official plan", "optimal plan", "expected integrations", "Kennzahlen", "shadow price",
                 "Independent check: all"):
        assert text in result.output
    names = {p.name for p in out.iterdir()}
    assert {"instruments.csv", "areas.csv", "kennzahlen.csv", "budget.csv", "constraints.csv", "plan.json"} <= names
    doc = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert doc["expected_integrations"]["optimal"] >= doc["expected_integrations"]["official"]


@pytest.mark.parametrize("args", [["--integer"], ["--solver", "cbc"], ["--basis", "net"], ["--least-money"]])
def test_solve_command_options(args):
    result = CliRunner().invoke(main, ["solve", str(MODEL), "--show", "none", *args])
    assert result.exit_code == 0, result.output
    assert "Independent check: all" in result.output
