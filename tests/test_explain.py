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


def with_rate(problem, iid, rate):
    inst = problem.instruments.copy()
    inst.at[iid, "rate"] = rate
    return dataclasses.replace(problem, instruments=inst)


EPS = 2e-3  # beyond the tie-break (1e-4 of the largest rate), small against the ranges


def test_rate_range_of_an_instrument_at_its_minimum_agrees_with_re_solving(problem, explanation):
    fbw = explanation.instruments.loc["fbw"]
    assert fbw["at"] == "min"
    lower = problem.instruments.at["fbw", "lower"]
    assert optimise(with_rate(problem, "fbw", fbw.rate_high - EPS)).plan.levels["fbw"] == pytest.approx(lower)
    assert optimise(with_rate(problem, "fbw", fbw.rate_high + EPS)).plan.levels["fbw"] > lower + 1
    assert "would receive more money if its rate rose above" in fbw.meaning


def test_rate_range_of_an_instrument_at_its_maximum_agrees_with_re_solving(problem, explanation):
    egz = explanation.instruments.loc["egz"]
    assert egz["at"] == "max"
    upper = problem.instruments.at["egz", "upper"]
    assert optimise(with_rate(problem, "egz", egz.rate_low + EPS)).plan.levels["egz"] == pytest.approx(upper)
    assert optimise(with_rate(problem, "egz", egz.rate_low - EPS)).plan.levels["egz"] < upper - 1


def test_rate_range_of_the_marginal_instrument_keeps_the_mix(problem, explanation, optimal_plan):
    agh = explanation.instruments.loc["agh_mae"]
    assert agh["at"] == "between"
    inside = optimise(with_rate(problem, "agh_mae", agh.rate_low + EPS)).plan.levels
    assert (inside - optimal_plan.plan.levels).abs().max() < 1e-6
    inside = optimise(with_rate(problem, "agh_mae", agh.rate_high - EPS)).plan.levels
    assert (inside - optimal_plan.plan.levels).abs().max() < 1e-6
    for outside in (agh.rate_low - EPS, agh.rate_high + EPS):
        levels = optimise(with_rate(problem, "agh_mae", outside)).plan.levels
        assert (levels - optimal_plan.plan.levels).abs().max() > 1e-3


def _sits(problem, levels):
    inst = problem.instruments
    return {i: "min" if abs(levels[i] - inst.at[i, "lower"]) < 1e-6 else "max" if abs(levels[i] - inst.at[i, "upper"]) < 1e-6
            else "between" for i in inst.index if not inst.at[i, "fixed"]}


@pytest.mark.parametrize("iid", ["fbw", "egz"])
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
    for inside in (row.cost_low * 1.001, min(row.cost_high, 1e7) * 0.999):
        assert _sits(problem, optimise(with_cost(inside)).plan.levels) == before
    outside = optimise(with_cost(row.cost_low * 0.999)).plan.levels
    assert _sits(problem, outside) != before


def test_coverage_share_price_agrees_with_re_solving(spec, explanation, optimal_plan, tmp_path):
    per_point = explanation.constraints.loc["coverage:u25_share", "value"]
    path = tmp_path / "u25.yaml"
    path.write_text("name: u25 19.51\ncoverage:\n  u25_share: {min_share: 0.1951}\n", encoding="utf-8")
    tighter = optimise(build_problem(apply_scenarios(spec, [path])))
    assert math.isclose((optimal_plan.integrations - tighter.integrations) * 100, per_point, rel_tol=1e-3)


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
    """Tranche 1 alone cannot buy 349 refugee entries: the minimums (606,375 €) plus 150 more AGH entries
    at 2,100 € and 24.5 Förderzentrum entries at 3,870 € cost 1,016,190 €, 288,540 € more than 727,650 €."""
    problem = build_problem(apply_scenarios(spec, [SC / "tranche2-missing.yaml"]))
    d = diagnose(problem)
    money = d.fixes[d.fixes.family == "money"]
    assert money.change_value.sum() == pytest.approx(288540.00, abs=0.01)
    assert {"pool:refugee_t1", "coverage:refugees_reach"} <= set(d.conflict.name)
    coverage = d.fixes[d.fixes.family == "coverage"]
    assert "coverage:refugees_reach" in set(coverage.constraint)


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


def test_a_one_sided_shadow_price_is_said_so(problem, explanation, optimal_plan):
    """The Soziale Teilhabe money binds together with its 90 places: more money buys nothing, less costs."""
    st = explanation.constraints.loc["pool:soziale_teilhabe"]
    assert st.gain_if_loosened == pytest.approx(0.0, abs=1e-9)
    assert st.loss_if_tightened > 1e-6
    assert "another limit binds" in st.meaning
    pools = problem.pools.copy()
    pools.at["soziale_teilhabe", "available"] += 100_000
    richer = optimise(dataclasses.replace(problem, pools=pools))
    assert richer.integrations == pytest.approx(optimal_plan.integrations, rel=1e-12)
    budget = explanation.constraints.loc["budget:new_business"]
    assert budget.gain_if_loosened == pytest.approx(budget.loss_if_tightened, rel=1e-6)
