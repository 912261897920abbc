"""Issue 5: explanations (shadow prices, reduced costs, ranges) and infeasibility diagnoses."""

from __future__ import annotations

import dataclasses
import math

import pytest
from click.testing import CliRunner

from cli import main
from optalloc.diagnosis import diagnose
from optalloc.errors import InfeasibleError
from optalloc.explanation import explain
from optalloc.problem import build_problem
from optalloc.scenarios import apply_scenarios
from optalloc.solve import optimise

from .conftest import MODEL, ROOT

SC = ROOT / "scenarios"


@pytest.fixture(scope="module")
def explanation(problem):
    return explain(problem)


def with_shift(problem, iid, delta):
    """The problem with the whole response of ``iid`` shifted by ``delta`` (every segment's rate)."""
    response = problem.response.copy()
    response.loc[response.instrument == iid, "rate"] += delta
    inst = problem.instruments.copy()
    inst.at[iid, "rate"] += delta
    return dataclasses.replace(problem, response=response, instruments=inst)


EPS = 2e-3  # beyond the tie-break (1e-4 of the largest rate), small against the ranges


def test_rate_range_of_an_instrument_at_its_minimum_agrees_with_re_solving(problem, explanation):
    """AGH-MAE U25 sits at its contract's floor (200 × 0.8): it gets more money only if its rates rose by
    more than the range says."""
    row = explanation.instruments.loc["agh_mae_u25"]
    assert row["at"] == "min" and row["set_by"] == "places"
    lower = problem.instruments.at["agh_mae_u25", "lower"]
    assert lower == pytest.approx(200 * 0.8)
    below, above = row.rate_high - EPS - row.rate, row.rate_high + EPS - row.rate
    assert optimise(with_shift(problem, "agh_mae_u25", below)).plan.levels["agh_mae_u25"] == pytest.approx(lower)
    assert optimise(with_shift(problem, "agh_mae_u25", above)).plan.levels["agh_mae_u25"] > lower + 1e-3
    assert "would receive more money if its rate rose above" in row.meaning


def test_rate_range_of_an_instrument_at_its_maximum_agrees_with_re_solving(problem, explanation):
    """Phönix sits at its contracted places: it keeps them while its rates stay above the range's end."""
    row = explanation.instruments.loc["phoenix"]
    assert row["at"] == "max" and row["set_by"] == "places"
    upper = problem.instruments.at["phoenix", "upper"]
    assert optimise(with_shift(problem, "phoenix", row.rate_low + EPS - row.rate)).plan.levels["phoenix"] == \
        pytest.approx(upper)
    assert optimise(with_shift(problem, "phoenix", row.rate_low - EPS - row.rate)).plan.levels["phoenix"] < upper - 1e-3


def test_rate_range_of_the_marginal_instrument_keeps_the_mix(problem, explanation, optimal_plan):
    """The row that takes the remaining money: inside its range the plan stays, outside it changes."""
    rows = explanation.instruments
    marginal = rows[(rows["at"] == "between") & (rows["set_by"] == "budget")]
    assert len(marginal)
    iid = marginal.index[0]
    row = marginal.iloc[0]
    step = min(EPS, (row.rate_high - row.rate_low) / 4)
    for inside in (row.rate_low + step / 10, row.rate_high - step / 10):
        levels = optimise(with_shift(problem, iid, inside - row.rate)).plan.levels
        assert (levels - optimal_plan.plan.levels).abs().max() < 1e-6
    for outside in (row.rate_low - step, row.rate_high + step):
        levels = optimise(with_shift(problem, iid, outside - row.rate)).plan.levels
        assert (levels - optimal_plan.plan.levels).abs().max() > 1e-6


def _sits(problem, levels):
    inst = problem.instruments
    return {i: "min" if abs(levels[i] - inst.at[i, "lower"]) < 1e-6 else "max" if abs(levels[i] - inst.at[i, "upper"]) < 1e-6
            else "between" for i in inst.index if not inst.at[i, "fixed"]}


@pytest.mark.parametrize("iid", ["agh_mae_u25", "phoenix"])
def test_cost_range_agrees_with_re_solving(problem, explanation, optimal_plan, iid):
    row = explanation.instruments.loc[iid]
    assert row["at"] in ("min", "max") and row.cost_low < row.unit_cost < row.cost_high

    def with_cost(cost):
        inst = problem.instruments.copy()
        costs = problem.costs.copy()
        inst.at[iid, "unit_cost"] = cost
        costs.loc[costs.instrument == iid, "per_unit"] = cost
        return dataclasses.replace(problem, instruments=inst, costs=costs)

    before = _sits(problem, optimal_plan.plan.levels)
    for inside in (max(row.cost_low * 1.001, 1.0), min(row.cost_high, 1e7) * 0.999):
        assert _sits(problem, optimise(with_cost(inside)).plan.levels) == before
    outside = optimise(with_cost(row.cost_high * 1.001)).plan.levels
    assert _sits(problem, outside) != before


def test_coverage_share_price_agrees_with_re_solving(spec, tmp_path):
    """A binding share: U25 at 21 % of all entries. Its price per point against re-solving at 21.01 %."""
    binding = tmp_path / "u25.yaml"
    binding.write_text("name: u25 21\ncoverage:\n  u25_share: {min_share: 0.21}\n", encoding="utf-8")
    base = build_problem(apply_scenarios(spec, [binding]))
    why = explain(base)
    per_point = why.constraints.loc["coverage:u25_share", "value"]
    assert per_point > 0
    path = tmp_path / "u25b.yaml"
    path.write_text("name: u25 21.01\ncoverage:\n  u25_share: {min_share: 0.2101}\n", encoding="utf-8")
    tighter = optimise(build_problem(apply_scenarios(spec, [path])))
    assert math.isclose((why.solution.integrations - tighter.integrations) * 100, per_point, rel_tol=1e-3)


def test_new_limits_have_shadow_prices_that_agree_with_re_solving(problem, explanation, optimal_plan):
    """The stock of market-close customers binds: one customer more who could take part is worth its price."""
    row = explanation.constraints.loc["stock:market_close"]
    assert row["unit"] == "per entry" and row["value"] > 0
    limits = tuple(dataclasses.replace(r, rhs=r.rhs + 1.0) if r.id == "stock:market_close" else r
                   for r in problem.limits)
    more = optimise(dataclasses.replace(problem, limits=limits))
    assert more.integrations - optimal_plan.integrations == pytest.approx(row["value"], rel=1e-4)


def test_budget_meaning_names_the_marginal_instruments(explanation):
    text = explanation.constraints.loc["budget:new_business", "meaning"]
    assert "1,000 €" in text and "agh_mae" in text


# ----- infeasibility -----


def test_minimums_that_cost_more_than_the_budget_name_the_shortfall(spec):
    """Official minimums under a 20 % cut: short by the official EGT use minus 80 % of the budget."""
    problem = build_problem(apply_scenarios(spec, [SC / "official-minimums.yaml", SC / "cut-20.yaml"]))
    with pytest.raises(InfeasibleError) as err:
        optimise(problem)
    d = err.value.diagnosis
    # 22,888,415.95 € (tables) + 58,701.57 € (ST co-funding) − round(0.8 × 23,878,495.16) = 3,844,321.39 €
    money = d.fixes[d.fixes.family == "money"]
    assert list(money.constraint) == ["budget:new_business"]
    assert money.change_value.iloc[0] == pytest.approx(3844321.39, abs=0.01)
    assert money["rank"].iloc[0] == 1
    minimums = d.fixes[d.fixes.family == "minimums"]
    assert minimums["size"].sum() == pytest.approx(3844321.39, abs=0.05)  # the same money, freed from minimums
    assert "budget:new_business" in set(d.conflict.name)


def test_missing_tranche_names_the_refugee_shortfall(spec):
    """Tranche 1 alone (727,650 €) cannot buy the 349 refugee entries the refugees' reach requires. The
    cheapest way: every refugee row at its floor — the contracts' 80 % for PerF (24 at 7,679 €), PerJuF (32 at
    3,960 €), the Förderzentrum (51.2 at 3,870 €) and AGH-MAE (120 at 2,100 €), and FbW at the 65 entries
    that hold its 5 abschlussorientierte (5 of 65, at 4,020 €) — then 56.8 more AGH-MAE entries (up to its
    places' 180): 1,141,740 €, 414,090 € more than tranche 1."""
    floors = 24 * 7679 + 32 * 3960 + 51.2 * 3870 + 120 * 2100 + 65 * 4020
    entries = 24 + 32 + 51.2 + 120 + 65
    rest = (349 - entries) * 2100
    problem = build_problem(apply_scenarios(spec, [SC / "tranche2-missing.yaml"]))
    d = diagnose(problem)
    money = d.fixes[d.fixes.family == "money"]
    assert money.change_value.sum() == pytest.approx(floors + rest - 727650.00, abs=0.01)
    # the contracts' floors of the four procured refugee rows alone (761,160 €) already exceed tranche 1
    assert 24 * 7679 + 32 * 3960 + 51.2 * 3870 + 120 * 2100 > 727650
    conflict = set(d.conflict.name)
    assert "pool:refugee_t1" in conflict and any(n.startswith(("contract_min:", "capacity_max:")) for n in conflict)
    assert d.alone["money"] and not d.alone["coverage"]  # the floors alone cost more than tranche 1


def test_a_coverage_share_that_cannot_be_reached_is_fixed_in_points(spec, tmp_path):
    path = tmp_path / "u25.yaml"
    path.write_text("name: half young\ncoverage:\n  u25_share: {min_share: 0.5}\n", encoding="utf-8")
    d = diagnose(build_problem(apply_scenarios(spec, [path])))
    cov = d.fixes[d.fixes.family == "coverage"].set_index("constraint")
    assert cov.at["coverage:u25_share", "unit"] == "points" and cov.at["coverage:u25_share", "change_value"] < 0
    # applying the whole fix (with a hair of room) makes the scenario feasible
    lines = ["name: fixed", "coverage:"]
    for name, r in cov.iterrows():
        cid = name.split(":", 1)[1]
        if r["unit"] == "points":
            lines.append(f"  {cid}: {{min_share: {(r['current'] + r['change_value']) / 100 - 1e-5}}}")
        else:
            lines.append(f"  {cid}: {{min_count: {r['current'] + r['change_value'] - 1e-3}}}")
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert optimise(build_problem(apply_scenarios(spec, [path, fixed]))).feasible


def test_explain_command_on_the_cut_scenario_prints_an_actionable_diagnosis():
    result = CliRunner().invoke(main, ["explain", str(MODEL), "-s", str(SC / "official-minimums.yaml"),
                                       "-s", str(SC / "cut-20.yaml")])
    assert result.exit_code == 3
    out = result.output
    assert "These requirements collide" in out and "budget:new_business" in out
    assert "+3,844,321.39 €" in out and "entries_min:" in out


def test_explain_command_prints_words():
    result = CliRunner().invoke(main, ["explain", str(MODEL)])
    assert result.exit_code == 0, result.output
    assert "would receive more money if its rate rose above" in result.output
    assert "per 1,000 €" in result.output
    assert "levels set by: places" in result.output and "Why each level, in words:" in result.output
    assert "fallback box 0" in result.output  # no level is left to the box
    assert "phoenix (151.2 entries) is held by contracted places of phoenix: 21 × 1.20" in result.output


def test_a_one_sided_shadow_price_is_said_so(problem, explanation, optimal_plan):
    """The Soziale Teilhabe money binds together with its 90 places, and the grant's places must be used
    (st_as_granted): more money buys nothing, less money leaves no feasible plan."""
    st = explanation.constraints.loc["pool:soziale_teilhabe"]
    assert st.gain_if_loosened == pytest.approx(0.0, abs=1e-9)
    assert math.isnan(st.loss_if_tightened)
    assert "another limit binds" in st.meaning and "a minimum needs all of it" in st.meaning
    pools = problem.pools.copy()
    pools.at["soziale_teilhabe", "available"] += 100_000
    richer = optimise(dataclasses.replace(problem, pools=pools))
    assert richer.integrations == pytest.approx(optimal_plan.integrations, rel=1e-12)
    budget = explanation.constraints.loc["budget:new_business"]
    assert budget.gain_if_loosened == pytest.approx(budget.loss_if_tightened, rel=1e-6)
