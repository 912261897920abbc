"""Issue 3: the LP, the optimal plan beside the official plan, checked against a second reading of the model.

Every plan here is checked by tests/raw_check.py, which reads the YAML itself (not optalloc's parsed model)
and shares no code with optalloc. ``optimise`` refuses to return a plan its own checker rejects, so asserting
``solution.checks["ok"]`` after it proves nothing; the official plan is evaluated, not refused, and there
optalloc's verdict is compared with the raw reading's.
"""

from __future__ import annotations

import json
import math
import sys
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pulp
import pytest
from click.testing import CliRunner

from cli import main
from optalloc.outputs import reports
from optalloc.solving.plan import money_cents, to_cents
from optalloc.model.loading import load_model
from optalloc.model.problem import build_problem
from optalloc.solving.solve import first_pass, official, optimise

from . import raw_check as rc
from .conftest import MODEL, RATES
from .helpers import plan_dict, with_budget
from .test_certificate import GOLDEN

RAW = rc.load_yaml(MODEL)
RAW_RATES = rc.load_yaml(RATES)


@pytest.fixture(scope="module")
def reading():
    return rc.read(MODEL)


def assert_keeps_every_rule(reading, solution, integer=False):
    levels, split = plan_dict(solution)
    assert rc.violations(reading, levels, split, integer=integer) == []


def with_commitments(shift: float) -> rc.Reading:
    """The raw model with the commitments lowered by ``shift`` euros (more new-business money)."""
    raw = rc.load_yaml(MODEL)
    raw["budget"]["commitments"] = round(raw["budget"]["commitments"] - shift, 2)
    return rc.read(raw, rates=RAW_RATES)


def raw_pool_cents(reading, solution) -> dict[str, int]:
    """Each pool's money of a plan in whole cents (its exact total rounded half up), from the raw reading."""
    return rc.pool_cents(reading, *plan_dict(solution))


def test_official_plan_money_reproduces_every_printed_row(official_plan):
    table = reports.instrument_table(official_plan)
    for r in RAW["instruments"]:
        if r["financing"] in ("new", "partly_prepaid", "money_only"):
            assert table.at[r["id"], "money_plan"] == round((r.get("new_funds") or 0) + (r.get("vbl") or 0), 2), r["id"]
    # the printed row FbW counts FbW-U25 and Reha FbW in its 1,387 entries
    assert table.at["fbw", "entries_plan"] == 1387
    assert table.at["agh_mae", "money_plan"] == 4217700.00 + 1031337.32


def test_official_plan_is_feasible_and_keeps_its_unplanned_money_as_the_reserve(official_plan, reading):
    assert_keeps_every_rule(reading, official_plan)
    assert official_plan.feasible  # evaluated, not refused: optalloc's own verdict agrees with the raw one
    budget = reports.budget_table(official_plan)
    # the reserve for the year is what the official plan leaves unplanned, computed from the document:
    # 23,878,495.16 − 22,888,415.95 (the tables' new money) − 58,701.57 (Soziale Teilhabe co-funding)
    assert float(official_plan.problem.budget.reserve) == 931377.64
    assert float(reading.reserve) == 931377.64
    assert budget.at["egt", "available"] == 23878495.16 - 931377.64
    assert budget.at["egt", "left_plan"] == 0.0
    assert budget.at["refugee_t1", "left_plan"] == 0 and budget.at["refugee_t2", "left_plan"] == 0
    # chapter 5.5's printed plan keeps its value under diminishing returns (data notes: 3,290.4)
    assert official_plan.integrations == pytest.approx(3290.364, abs=1e-9)
    assert rc.integrations(reading, official_plan.plan.levels.to_dict()) == pytest.approx(3290.364, abs=1e-9)


def test_optimum_beats_the_official_plan_and_keeps_every_rule(optimal_plan, official_plan, reading):
    assert_keeps_every_rule(reading, optimal_plan)
    assert optimal_plan.integrations > official_plan.integrations + 60  # +65.3 (data notes)
    assert math.isclose(optimal_plan.integrations, rc.integrations(reading, optimal_plan.plan.levels.to_dict()),
                        rel_tol=1e-12)


# ----- CBC against HiGHS: CBC's own plan and value, before the plan is taken on HiGHS's optimal face -----


def _first_pass_plan(lp) -> tuple[dict, dict, float]:
    """A solver's own levels, pool split and objective value from optalloc's first pass."""
    levels = {iid: float(v.varValue) if v.varValue is not None else float(v.lowBound) for iid, v in lp.level.items()}
    split = {key: float(v.varValue or 0.0) for key, v in lp.split.items()}
    return levels, split, float(pulp.value(lp.integrations))


def test_cbc_own_optimum_equals_highs_optimum(problem, optimal_plan, reading):
    """CBC's first pass — its own plan and value, which ``optimise`` then cross-checks and replaces by the
    plan on HiGHS's optimal face — against HiGHS's optimum. CBC carries about eight significant digits: its
    value within 10⁻⁶ relative, its money within a euro of each pool, its pool split paying each shared cost."""
    levels, split, value = _first_pass_plan(first_pass(problem, "cbc"))
    assert math.isclose(value, optimal_plan.integrations, rel_tol=1e-6)
    assert rc.violations(reading, levels, split, money_tolerance=1.0) == []
    assert math.isclose(rc.integrations(reading, levels), value, rel_tol=1e-7)
    # the refugee rows are paid by tranches 1 and 2 together in CBC's own split too
    assert any(key[0] == "perf" for key in split) and sum(v for k, v in split.items() if k[0] == "perf") > 0


def test_cbc_through_optimise_gives_the_highs_plan(problem, optimal_plan):
    """The design: with --solver cbc the plan is taken on HiGHS's optimal face, so both give the same plan."""
    cbc = optimise(problem, solver="cbc")
    assert cbc.plan.levels.round(9).equals(optimal_plan.plan.levels.round(9))


def test_cbc_reports_the_prices_of_highs_row_by_row(problem, optimal_plan, reading):
    """README: with --solver cbc "the plan and its duals are taken on HiGHS's optimal face, so both solvers give
    the same plan and the same reasons". Every shadow price and reduced cost equals HiGHS's, row by row — also
    where the dual is not unique (Soziale Teilhabe's places, FbW's completion rule: there CBC's own first pass
    reports other prices, as valid as these). Where it is unique (one unit more or less of the row moves the
    raw LP's optimum alike, re-solved), it is the price bare highspy finds on the raw LP of tests/raw_check.py."""
    from .test_explain import _moved, _raw_row

    cbc = optimise(problem, solver="cbc")
    assert list(cbc.duals.index) == list(optimal_plan.duals.index)
    for name, price in optimal_plan.duals.items():
        assert cbc.duals[name] == pytest.approx(price, rel=1e-12, abs=1e-15), name
    for iid, reduced in optimal_plan.reduced_costs.items():
        assert cbc.reduced_costs[iid] == pytest.approx(reduced, rel=1e-12, abs=1e-15), iid
    program = rc.linear_program(reading)
    raw = (reading, program, rc.optimum(program, reading))
    prices = dict(zip(program.row_names, raw[2].row_price))
    for name, step in (("budget:new_business", 1.0), ("stock:market_close", 0.01), ("coverage:long_term_reach", 0.01)):
        gain, loss = _moved(raw, name, step)
        assert gain == pytest.approx(loss, rel=1e-6), name  # unique
        assert cbc.duals[name] == pytest.approx(prices[_raw_row(name, reading)], rel=1e-9), name


# ----- whole entries -----


@pytest.fixture(scope="module")
def whole(problem):
    return optimise(problem, integer=True)


@pytest.fixture(scope="module")
def cbc_whole_run(problem):
    """One CBC whole-entry solve through ``optimise``, with CBC's own first-pass plan recorded on the way (one
    CBC MIP serves both tests below: it takes seconds)."""
    from optalloc.solving import solve as solve_module
    real, seen = solve_module.first_pass, []

    def recording(*args, **kwargs):
        lp = real(*args, **kwargs)
        seen.append(_first_pass_plan(lp))  # read at once: optimise goes on to change the LP
        return lp

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(solve_module, "first_pass", recording)
        solution = optimise(problem, solver="cbc", integer=True)
    assert len(seen) == 1
    return solution, seen[0]


@pytest.fixture(scope="module")
def cbc_whole(cbc_whole_run):
    return cbc_whole_run[1]


def test_integer_mode_buys_whole_entries_in_lots(problem, whole, reading):
    assert_keeps_every_rule(reading, whole, integer=True)
    levels = whole.plan.levels
    entries = problem.instruments["unit"] == "entries"
    assert (levels[entries] == levels[entries].round()).all()
    assert levels["ek_pflege"] % 16 == 0 and levels["oa_fm"] % 16 == 0
    # 64 × 1.2 = 76.8 leaves a row bought in lots of 16 at 64 (data notes)
    assert levels["ek_pflege"] <= 64 and levels["oa_fm"] <= 64


def test_integer_optimum_is_pinned_below_the_relaxation_and_within_the_mip_gap(whole, reading, optimal_plan):
    """Golden: 3,349.369714 (test_certificate.GOLDEN). At most the LP relaxation's dual bound; between the
    plan bare highspy's MIP finds on the raw LP (rounded to whole lots and checked) and the bound it proves."""
    assert whole.integrations == pytest.approx(GOLDEN["integer"], rel=1e-9)
    program = rc.linear_program(reading)
    relaxed = rc.optimum(program, reading)
    cert = rc.certify(reading, program, relaxed.row_price, *plan_dict(whole), integer=True)
    assert cert.problems == []
    assert cert.value <= cert.bound + 1e-9 * cert.bound
    assert whole.integrations <= optimal_plan.integrations
    mip = rc.optimum(rc.linear_program(reading, integer=True), reading, mip_gap=1e-4)
    found = {iid: (round(x / reading.rows[iid].lot) * reading.rows[iid].lot if reading.rows[iid].unit == "entries"
                   else x) for iid, x in mip.levels.items()}
    assert rc.violations(reading, found, mip.split, integer=True) == []
    assert rc.integrations(reading, found) - 1e-9 <= whole.integrations <= mip.bound + 1e-9 * mip.bound


def test_cbc_own_whole_entry_plan_is_within_its_gap_of_highs(cbc_whole, whole, reading):
    """CBC proves whole-entry plans to 1 % (README): its own plan keeps every rule in whole lots and is
    worth at least 99 % of HiGHS's exact whole-entry optimum, never more."""
    levels, split, value = cbc_whole
    assert rc.violations(reading, levels, split, integer=True, money_tolerance=1.0) == []
    assert math.isclose(rc.integrations(reading, levels), value, rel_tol=1e-7)
    assert (1 - 0.01) * whole.integrations <= value <= whole.integrations * (1 + 1e-9)  # README: to 1 %


def test_cbc_through_optimise_gives_the_highs_whole_entry_plan(cbc_whole_run, whole):
    cbc = cbc_whole_run[0]
    assert cbc.integrations == pytest.approx(whole.integrations, rel=1e-9)
    assert plan_dict(cbc)[0] == plan_dict(whole)[0]


def test_same_input_gives_the_same_plan(problem):
    first, second = optimise(problem), optimise(problem)
    assert plan_dict(first) == plan_dict(second)
    off1, off2 = official(problem), official(problem)
    assert plan_dict(off1) == plan_dict(off2)


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
    rc_ = base.reduced_costs[iid]
    assert (rc_ < 0) if side == "lower" else (rc_ > 0)
    from optalloc.solving.lp import build_lp
    from optalloc.solving.solve import _run

    lp = build_lp(problem)
    if side == "lower":
        lp.level[iid].lowBound = inst.at[iid, "lower"] + 1
    else:
        lp.level[iid].upBound = inst.at[iid, "upper"] + 1
    assert _run(lp, "highs") == "Optimal"
    assert math.isclose(pulp.value(lp.integrations) - base.integrations, rc_, rel_tol=1e-4)


def test_more_budget_never_lowers_the_optimum(spec):
    values = []
    for shift in (-2e6, -1e6, 0.0, 1e6, 3e6):
        sol = optimise(build_problem(with_budget(spec, commitments=spec.model.budget.commitments - shift)))
        assert_keeps_every_rule(with_commitments(shift), sol)
        values.append(sol.integrations)
    assert all(b >= a - 1e-9 for a, b in zip(values, values[1:]))
    assert values[-1] > values[0] + 100  # 5 million € more buys integrations, not nothing


def test_least_money_keeps_the_optimum_and_spends_no_more(problem, optimal_plan, reading):
    lean = optimise(problem, least_money=True)
    assert_keeps_every_rule(reading, lean)
    assert math.isclose(lean.integrations, optimal_plan.integrations, rel_tol=1e-12)
    assert sum(raw_pool_cents(reading, lean).values()) <= sum(raw_pool_cents(reading, optimal_plan).values())


def test_least_money_leaves_a_reserve_when_the_budget_does_not_bind(spec):
    rich = build_problem(with_budget(spec, commitments=spec.model.budget.commitments - 8e6))
    lean = optimise(rich, least_money=True)
    assert lean.duals["budget:new_business"] == pytest.approx(0.0, abs=1e-12)
    left = reports.budget_table(lean).at["egt", "left_plan"]
    # what is left, from the raw reading: the pool's whole cents less the plan's cents
    raw = with_commitments(8e6)
    assert left > 100_000
    assert round(left * 100) == rc.available_cents(raw)[raw.egt] - raw_pool_cents(raw, lean)[raw.egt]
    # the least money, from the raw LP: minimise what the pool pays while keeping the optimum's integrations
    program = rc.linear_program(raw)
    best = rc.optimum(program, raw).value
    egt = program.row_names.index(f"pool:{raw.egt}")
    keep = np.vstack([program.A, program.c])
    least = rc.LinearProgram(program.columns, -program.A[egt].copy(), program.col_low, program.col_high,
                             program.integral, [*program.row_names, "optimum"], keep,
                             np.append(program.row_low, best - 1e-9 * best), np.append(program.row_high, rc.BIG))
    spend = -rc.optimum(least, raw).value
    assert spend < float(raw.available[raw.egt]) - 100_000
    assert raw_pool_cents(raw, lean)[raw.egt] / 100 == pytest.approx(spend, abs=1.0)


def test_printed_totals_equal_the_raw_pool_money(optimal_plan, official_plan, reading):
    """Each pool's printed use is its money from the raw reading (exact total rounded half up to the cent);
    the printed rows of the areas and of the instruments add up to the same cents."""
    areas = reports.area_table(optimal_plan, official_plan)
    budget = reports.budget_table(optimal_plan, official_plan)
    for sol, column in ((optimal_plan, "used_plan"), (official_plan, "used_official")):
        raw = raw_pool_cents(reading, sol)
        assert {pid: round(v * 100) for pid, v in budget[column].items()} == raw
    total = sum(raw_pool_cents(reading, optimal_plan).values())
    instruments = reports.instrument_table(optimal_plan, official_plan)
    assert round(instruments["money_plan"].sum() * 100) == total
    # the areas print the document's rows only (rows in parentheses left out): whole cents each
    assert all(abs(v * 100 - round(v * 100)) < 1e-6 for v in areas["money_plan"])
    assert round(money_cents(optimal_plan.problem, optimal_plan.plan)["cents"].sum()) == total


def test_solve_command_prints_both_plans_and_writes_tables(tmp_path, optimal_plan):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["solve", str(MODEL), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for text in ("official plan", "optimal plan", "expected integrations", "Kennzahlen", "shadow price",
                 "3,290.4", "3,355.7", "+65.3 (+2.0 %)", "Constraint check (optalloc/solving/check.py"):
        assert text in result.output, text
    names = {p.name for p in out.iterdir()}
    assert {"instruments.csv", "areas.csv", "kennzahlen.csv", "budget.csv", "constraints.csv", "plan.json"} <= names
    doc = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert doc["expected_integrations"]["optimal"] == pytest.approx(GOLDEN["gross"], rel=1e-9)
    assert doc["expected_integrations"]["official"] == pytest.approx(3290.364, abs=1e-9)


@pytest.mark.parametrize("args, value", [(["--integer"], "3,349.4"), (["--solver", "cbc"], "3,355.7"),
                                         (["--basis", "net"], "533.5"), (["--least-money"], "3,355.7")])
def test_solve_command_options(args, value):
    result = CliRunner().invoke(main, ["solve", str(MODEL), "--show", "none", *args])
    assert result.exit_code == 0, result.output
    assert "Constraint check (optalloc/solving/check.py" in result.output and "constraints of the optimal plan hold" in result.output
    assert value in result.output



# ----- money to the cent: half up -----


@pytest.mark.parametrize("euros, cents", [
    (150.015, 15002),  # stored as 150.01499999999998: still half up (a truncation prints 150.01)
    (0.145, 15), (2.675, 268), (1.005, 101), (150.014999, 15001), (0.0, 0), (0.004999, 0),
    (22947117.52, 2294711752), (931377.645, 93137765), (19102796.125, 1910279613),
])
def test_money_rounds_half_up_to_the_cent(euros, cents):
    assert to_cents(euros) == cents
    # the same rule on the decimal digits as written
    assert int(Decimal(repr(euros)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100) == cents


def test_a_pool_of_fractional_cents_prints_its_total_rounded_half_up():
    """A row of 3 entries at 50.005 € costs 150.015 €: the pool prints 150.02 € (not 150.01), in the plan's
    money, the budget table and the spent figures alike."""
    from .test_properties import _model, _rates, _row, problem_of

    pair = (_model([_row("a", 3, 150.02, unit_cost=50.005, bounds={"min": 3, "max": 3})], 1000.0), _rates(c0=0.5))
    solution = optimise(problem_of(pair))
    assert money_cents(solution.problem, solution.plan)["cents"].sum() == 15002
    assert solution.spent()["egt"] == 150.02
    assert reports.budget_table(solution).at["egt", "used_plan"] == 150.02
    reading = rc.read(pair[0], rates=pair[1])
    assert rc.pool_cents(reading, solution.plan.levels.to_dict()) == {"egt": 15002}


# ----- budget sweeps against the raw LP -----


@pytest.fixture(scope="module")
def swept(problem):
    from optalloc.analyses.sweeps import sweep_budget, levels_of

    return sweep_budget(problem, levels_of(problem, "min:110%", 25))


def test_the_sweep_starts_at_the_raw_least_money_and_ends_at_110_percent(swept, reading):
    """"min:110%": from the least money a plan needs — a cent above the raw LP's least use of the new-business
    pool when the budget does not bind — to 110 % of what the pool makes available (raw reading)."""
    program = rc.linear_program(reading)
    egt = program.row_names.index(f"pool:{reading.egt}")
    program.row_high[egt] = rc.BIG
    program.c = -program.A[egt].copy()  # the least money the pool pays for a plan that keeps every other rule
    least = -rc.optimum(program, reading).value
    budgets = swept.curve.index.to_numpy()
    assert 0.01 - 1e-6 <= budgets[0] - least < 0.02
    assert budgets[-1] == pytest.approx(1.10 * float(reading.available[reading.egt]), abs=0.01)
    assert len(budgets) == 25 and (np.diff(budgets) > 0).all()


def test_every_sweep_point_is_the_raw_optimum_at_its_budget(swept, reading):
    program = rc.linear_program(reading)
    egt = program.row_names.index(f"pool:{reading.egt}")
    for budget, row in swept.curve.iterrows():
        program.row_high[egt] = budget
        found = rc.optimum(program, reading)
        assert row["status"] == "optimal" and found.status == "Optimal"
        assert row["integrations"] == pytest.approx(found.value, rel=1e-9), budget
        # the marginal value of money: the raw row price of the budget, per 1,000 €
        per_1000 = next(c for c in swept.curve.columns if "1,000" in c or "1000" in c)
        assert row[per_1000] == pytest.approx(found.row_price[egt] * 1000, rel=1e-6, abs=1e-9), budget


def test_the_cut_order_follows_from_the_swept_levels(swept, problem):
    """The cut order recomputed from the sweep's levels by its definition (sweeps.cut_order's docstring): per
    row that may move, its entries at the top, the highest budget below which it is smaller (the cut starts),
    the highest budget from which on down it stays at its minimum, its entries at the bottom, and whether it
    only shrinks, grows first, or goes up and down; sorted first cut first."""
    from optalloc.analyses.sweeps import cut_order

    order = cut_order(swept)
    inst = problem.instruments
    entries = swept.entries[swept.curve["status"] == "optimal"].sort_index(ascending=False)  # top budget first
    expected = {}
    for iid in inst.index[~inst["fixed"].astype(bool)]:
        col = entries[iid]
        top, lower = float(col.iloc[0]), float(inst.at[iid, "lower"])
        tol = 1e-6 * max(1.0, abs(top))
        smaller = [b for b, x in col.items() if x < top - tol]
        at_minimum, staying = math.nan, True
        for b, x in reversed(list(col.items())):  # from the bottom up
            staying = staying and x <= lower + tol
            if staying:
                at_minimum = b
        rising = [x2 - x1 for x1, x2 in zip(col.to_numpy()[::-1], col.to_numpy()[::-1][1:])]  # as money grows
        grows = any(x > top + tol for x in col)
        if grows:
            moves = "grows as money falls" + (", then is cut" if smaller else "")
        elif any(d < -tol for d in rising) and any(d > tol for d in rising):
            moves = "goes up and down"
        else:
            moves = "cut" if smaller else "not cut in range"
        expected[iid] = (top, max(smaller) if smaller else math.nan, at_minimum, float(col.iloc[-1]), moves)
    assert sorted(order.index) == sorted(expected)
    for iid, (top, below, at_minimum, bottom, moves) in expected.items():
        got = order.loc[iid]
        assert got["entries_top"] == top and got["entries_bottom"] == bottom, iid
        assert (math.isnan(got["shrinks_below"]) and math.isnan(below)) or got["shrinks_below"] == below, iid
        assert (math.isnan(got["at_minimum_from"]) and math.isnan(at_minimum)) or got["at_minimum_from"] == at_minimum
        assert got["moves"] == moves, (iid, got["moves"], moves)
    keys = [(-(order.at[i, "shrinks_below"] if not math.isnan(order.at[i, "shrinks_below"]) else -1.0),
             -(order.at[i, "at_minimum_from"] if not math.isnan(order.at[i, "at_minimum_from"]) else -math.inf))
            for i in order.index]
    assert keys == sorted(keys) and list(order["rank"]) == list(range(1, len(order) + 1))


def test_a_shared_cost_below_a_euro_is_paid_in_the_cents_the_pools_give():
    """A row that two pools may pay, costing 0.50 €: p0 (0.30 € available) and the new-business pool share it,
    and each pool's cents are its part of the split (30 and 20), as the raw reading counts them."""
    from .test_properties import _model, _rates, _row, problem_of

    pair = (_model([_row("a", 1, 0.5, pools=["p0", "egt"], bounds={"min": 1, "max": 1})], 1000.0,
                   ({"id": "p0", "name": "p0", "amount": 0.3},)), _rates(c0=0.5))
    solution = optimise(problem_of(pair))
    reading = rc.read(pair[0], rates=pair[1])
    raw = rc.pool_cents(reading, solution.plan.levels.to_dict(), dict(solution.plan.split))
    assert raw == {"egt": 20, "p0": 30}
    assert {pid: round(v * 100) for pid, v in solution.spent().items()} == raw


def test_equally_good_rows_go_to_the_earlier_row():
    """Two rows with the same rate and cost per entry, money for one more entry than the first row's box allows:
    the tie-break prefers the earlier row of the model (README: a fixed preference, earlier rows first)."""
    from .test_properties import _model, _rates, _row, problem_of

    pair = (_model([_row("first", 10, 1000.0), _row("second", 10, 1000.0)], 2500.0, bounds=(0.0, 2.0)),
            _rates(c0=0.5))
    for integer in (False, True):
        levels = optimise(problem_of(pair), integer=integer).plan.levels
        assert levels["first"] == 20 and levels["second"] == 5, (integer, levels.to_dict())


def test_money_for_fewer_entries_than_either_row_allows_goes_to_the_earlier_row():
    """Two rows alike (rate and cost per entry), money for 10 entries where each row's box allows 20: every plan
    that spends it is as good, and HiGHS's first vertex holds the earlier row at its minimum of 0 — a tie seen
    only at a lower bound. The tie-break gives it all to the earlier row (README: a fixed preference, earlier
    rows first): 10 and 0, by hand; in whole entries too."""
    from .test_properties import _model, _rates, _row, problem_of

    pair = (_model([_row("first", 10, 1000.0), _row("second", 10, 1000.0)], 1000.0, bounds=(0.0, 2.0)),
            _rates(c0=0.5))
    for integer in (False, True):
        levels = optimise(problem_of(pair), integer=integer).plan.levels
        assert levels.to_dict() == {"first": 10.0, "second": 0.0}, (integer, levels.to_dict())


def _dear_row_first_under_an_entries_cap(dear: str, cheap: str) -> tuple[dict, dict]:
    """Two rows of the same rate (0.5), each within 5–15 entries: ``dear`` at 200 € per entry, first in the model,
    then ``cheap`` at 100 €; a stated decision of at most 20 entries of the two; 10,000 € (the money does not bind).
    Every plan of 20 entries is optimal (10 integrations); the least money for it, by hand: 5 dear and 15 cheap
    entries, 5 × 200 € + 15 × 100 € = 2,500 € (the tie-break alone, which prefers the earlier row, spends
    3,500 €)."""
    from .test_properties import _model, _rates, _row

    rule = {"id": "cap20", "name": "at most 20 entries of the two", "rows": [dear, cheap], "measure": "entries",
            "source": "a hand-made test", "max": 20}
    return _model([_row(dear, 10, 2000.0), _row(cheap, 10, 1000.0)], 10000.0, policy=[rule]), _rates(c0=0.5)


def _assert_the_least_money_by_hand(pair, dear: str, cheap: str) -> None:
    """optimise --least-money gives 5 dear and 15 cheap entries: every rule of the raw reading kept, its 10
    integrations and its 2,500 € recomputed from the raw reading — exactly, to a double's rounding: the passes
    run on optimal faces and give up no tolerance (they kept the optimum to 10⁻⁹ of it as a row before, and
    the tie-break spent that slack: 5.000000025 entries, 10 − 10⁻⁸ integrations)."""
    from .test_properties import problem_of

    lean = optimise(problem_of(pair), least_money=True)
    reading = rc.read(pair[0], rates=pair[1])
    levels, split = lean.plan.levels.to_dict(), dict(lean.plan.split)
    assert rc.violations(reading, levels, split) == []
    assert rc.integrations(reading, levels) == pytest.approx(10.0, rel=1e-12)
    assert levels == pytest.approx({dear: 5.0, cheap: 15.0}, abs=1e-9)
    assert sum(rc.pool_cents(reading, levels, split).values()) == 2500_00


def test_least_money_is_kept_through_the_tie_break():
    """--least-money where HiGHS's first vertex spends 3,500 € (15 entries of the dear row b): the least-money
    pass finds 2,500 €, and the tie-break, which prefers the earlier, dearer row, must keep to it."""
    _assert_the_least_money_by_hand(_dear_row_first_under_an_entries_cap("b", "a"), "b", "a")


def test_least_money_is_kept_through_the_tie_break_where_the_first_vertex_spends_the_least():
    """The same with the dear row named a: HiGHS's first vertex already spends the least (2,500 €), no row then
    keeps the least money, and the tie-break buys 15 entries of the earlier, dearer row: 3,500 €."""
    _assert_the_least_money_by_hand(_dear_row_first_under_an_entries_cap("a", "b"), "a", "b")


def test_the_library_prints_nothing():
    """The library never prints (the CLI does): a fresh interpreter that loads, solves in both modes on both
    solvers and explains writes nothing to stdout or stderr — not HiGHS's banner, not a solver's log. The
    whole-entry solves run on the small example model (a MIP logs alike at any size; Duisburg's takes seconds)."""
    import subprocess

    small = MODEL.parent / "example-money-only.yaml"
    code = ("import optalloc as oa; p = oa.load(%r); oa.solve(p); oa.solve(p, solver='cbc'); oa.explain(p); "
            "q = oa.load(%r); oa.solve(q, integer=True); oa.solve(q, solver='cbc', integer=True)" % (str(MODEL), str(small)))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=MODEL.parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""


def test_budget_ranges_in_percent_and_euros_are_the_raw_pools_share(problem, reading):
    """`70%:110%` and `15e6:30e6`: the sweep's levels as shares of what the raw reading's new-business pool makes
    available, or the euros given; two steps are the ends."""
    from optalloc.analyses.sweeps import levels_of

    available = float(reading.available[reading.egt])
    assert list(levels_of(problem, "70%:110%", 5)) == pytest.approx([available * f for f in (0.7, 0.8, 0.9, 1.0, 1.1)])
    assert list(levels_of(problem, "15e6:30e6", 2)) == [15e6, 30e6]


def test_a_sweep_of_exactly_the_most_levels_allowed_is_accepted(problem):
    """--steps: at most 10,000 levels (100,000 with --many): exactly the cap is accepted, one more refused."""
    from optalloc.errors import UsageError
    from optalloc.analyses.sweeps import STEPS_CAP, STEPS_MAX, check_steps

    assert (STEPS_CAP, STEPS_MAX) == (10_000, 100_000)
    check_steps(problem, STEPS_CAP)
    check_steps(problem, STEPS_MAX, many=True)
    with pytest.raises(UsageError, match="--steps"):
        check_steps(problem, STEPS_CAP + 1)


@pytest.mark.parametrize("short, refused", [(0.0095, False), (0.0105, True)])
def test_a_cbc_whole_entry_answer_more_than_its_gap_below_highs_is_refused(short, refused):
    """README: CBC proves whole-entry plans only to 1 %, and HiGHS's exact optimum must lie within that gap of CBC's
    value. A CBC answer worth 0.95 % less than HiGHS's optimum passes the cross-check; one worth 1.05 % less is
    refused (SolverError naming both values). CBC's answer is stood in for by HiGHS's own first pass with every
    variable scaled so that its value falls short by exactly that share (the objective is linear in them, plus
    the fixed rows' constant); the small example model keeps the MIP fast."""
    from optalloc.errors import SolverError
    from optalloc.solving.solve import _cross_check_on_highs

    problem = build_problem(load_model(MODEL.parent / "example-money-only.yaml"))
    found = first_pass(problem, "highs", integer=True)
    best = float(pulp.value(found.integrations))
    constant = float(found.integrations.constant)
    factor = (best / (1 + short) - constant) / (best - constant)
    for v in found.prob.variables():
        v.varValue = float(v.varValue or 0.0) * factor
    assert float(pulp.value(found.integrations)) == pytest.approx(best / (1 + short), rel=1e-12)
    if refused:
        with pytest.raises(SolverError, match="CBC and HiGHS disagree on the optimum"):
            _cross_check_on_highs(problem, found)
    else:
        _cross_check_on_highs(problem, found)
