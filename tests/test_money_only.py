"""Any jobcenter: money-only lines, fractional entries, rates found by name, report wording from the model.

The illustrative money-only model (``models/example-money-only.yaml``: nine budget lines valued per 1,000 €)
is solved and its optimum checked against a second computation written here from the raw YAML and the
rates file (docs/model-format.md, the response formula of the data notes): the plan keeps every rule, its
integrations are the integral of each line's marginal value, and a greedy fill of the budget by the best
marginal value (a different algorithm: no LP) reaches the same optimum.
"""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cli import main
from optalloc.api import load
from optalloc.analyses.explanation import explain, one_sided_prices
from optalloc.model.loading import PACKAGED_RATES, load_model
from optalloc.solving.solve import official, optimise
from optalloc.model.template import template_text

from .helpers import assert_one_clear_line

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "models" / "example-money-only.yaml"
RATES = ROOT / "models" / "rates" / "sgb2-defaults.yaml"
DUISBURG = ROOT / "models" / "duisburg-2016.yaml"

DUISBURG_WORDING = ("Duisburg", "chapter", "Anhang", "ESF-LZA", "ST places", "Kennzahlen", "Zweckbestimmung",
                    "I–VII", "FbW-U25", "Reha FbW", "SUMME GESAMT", "VBL", "Soziale Teilhabe", "5.5", "Flüchtling",
                    "refugee")
"""Words of the Duisburg programme's reports that no other model's output may carry."""


@pytest.fixture(scope="module")
def example():
    return load(EXAMPLE)


@pytest.fixture(scope="module")
def example_plan(example):
    return optimise(example)


# ----- a second computation, from the raw files -----


def _raw():
    model = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    rates = yaml.safe_load(RATES.read_text(encoding="utf-8"))["classes"]
    return model, rates


def _marginal(official: float, rate: float, low: float, low_end_at: float):
    """A line's value as the data notes define it, per euro (the rates file gives it per 1,000 €): the
    marginal value m(z) = rate + spread (1 − 2z) / (2L − 1) at z × the planned money, not below min(low, 0),
    integrated exactly up to each breakpoint (0, ½, 1, two steps to L, quarters beyond, the point m meets its
    floor) and linear between them. Returns F: euros → integrations."""
    spread = rate - low
    floor = min(low, 0.0)

    def m(z: float) -> float:
        return rate + spread * (1 - 2 * z) / (2 * low_end_at - 1)

    def exact(z: float) -> float:  # ∫0^z max(m, floor), per 1,000 € × z
        slope = 2 * spread / (2 * low_end_at - 1)
        meets = (m(0.0) - floor) / slope if slope > 0 else math.inf
        head = min(z, meets)
        value = m(0.0) * head - slope * head * head / 2
        return value + floor * max(0.0, z - meets)

    meets = (m(0.0) - floor) / (2 * spread / (2 * low_end_at - 1))
    points = [0.0, 0.5, 1.0, (1 + low_end_at) / 2, low_end_at]
    z = low_end_at
    while z + 0.25 < meets - 1e-12:
        z += 0.25
        points.append(z)
    points = sorted(p for p in set(points) if p < meets - 1e-12) + [meets]

    def value(euros: float) -> float:
        z = euros / official
        for a, b in zip(points, points[1:]):
            if z <= b:
                share = (z - a) / (b - a)
                return (exact(a) + share * (exact(b) - exact(a))) * official / 1000.0
        return (exact(points[-1]) + floor * (z - points[-1])) * official / 1000.0

    value.points = [z * official for z in points]  # type: ignore[attr-defined]  # where the slope changes, €
    return value


def _integral(value, official: float, euros: float) -> float:
    return value(euros)


def _lines():
    """Per line: planned money, lower and upper bound (its own, a stated minimum, or the box), value per euro
    (a function) and weight — all from the raw YAML."""
    model, rates = _raw()
    box = model["assumptions"]["bounds"]
    low_end_at = model["assumptions"]["response"]["low_end_at"]
    minimums = {}
    for rule in model.get("policy", []):
        (row,) = rule["rows"]
        amount = next(r["new_funds"] for r in model["instruments"] if r["id"] == row)
        minimums[row] = amount if rule["min"] == "official" else float(rule["min"])
    bonus = model.get("priorities", {})
    out = {}
    for r in model["instruments"]:
        planned = float(r["new_funds"])
        bounds = r.get("bounds", {})
        lower = bounds.get("min", box["min_share_of_official"] * planned)
        upper = bounds.get("max", box["max_share_of_official"] * planned)
        lower = max(lower, minimums.get(r["id"], 0.0))
        figure = rates[r["rate_class"]]["gross"]
        weight = 1 + sum(share * bonus.get(g, 0.0) for g, share in r.get("groups", {}).items())
        out[r["id"]] = (planned, lower, upper, _marginal(planned, figure["value"], figure["low"], low_end_at), weight)
    budget = sum(v[0] for v in out.values())  # reserve 'official': the lines' own total is what is available
    return out, budget


def _greedy_optimum() -> float:
    """The weighted optimum by filling the budget with the steepest pieces of the lines first, from their
    lower bounds (every line is concave and piecewise linear, and the only shared limit is the budget: the
    greedy fill is optimal) — an algorithm that shares nothing with the LP."""
    lines, budget = _lines()
    level = {i: v[1] for i, v in lines.items()}
    left = budget - sum(level.values())
    pieces = []
    for i, (_planned, lo, hi, value_of, w) in lines.items():
        cuts = sorted({lo, hi, *(p for p in value_of.points if lo < p < hi)})
        for a, b in zip(cuts, cuts[1:]):
            pieces.append((w * (value_of(b) - value_of(a)) / (b - a), i, b - a))
    for slope, i, width in sorted(pieces, reverse=True):
        if slope <= 0 or left <= 0:
            break
        take = min(width, left)
        level[i] += take
        left -= take
    return sum(w * _integral(m, planned, level[i]) for i, (planned, _lo, _hi, m, w) in lines.items())


# ----- the example model -----


def test_the_example_has_nine_money_lines_and_no_entries(example):
    inst = example.instruments
    assert len(inst) == 9 and (inst["unit"] == "euros").all() and (inst["financing"] == "money_line").all()
    assert not inst["fixed"].any(), "every line is valued per 1,000 €, so the plan may move it"
    assert example.spec.model.kennzahlen is None


def test_the_plan_keeps_every_rule_of_the_raw_file(example_plan):
    lines, budget = _lines()
    levels = example_plan.plan.levels
    for i, (_planned, lower, upper, _m, _w) in lines.items():
        assert lower - 1e-6 <= levels[i] <= upper + 1e-6, i
    assert sum(levels) <= budget + 0.005
    cents = example_plan.spent()
    assert float(cents.sum()) == pytest.approx(sum(round(v, 2) for v in levels), abs=0.011)


def test_integrations_are_the_integral_of_each_lines_marginal_value(example, example_plan):
    lines, _ = _lines()
    levels = example_plan.plan.levels
    each = example.integrations(levels)
    for i, (planned, _lo, _hi, m, w) in lines.items():
        assert each[i] == pytest.approx(w * _integral(m, planned, float(levels[i])), rel=1e-6), i
    unweighted = example.integrations(levels, weighted=False)
    assert float(unweighted.sum()) == pytest.approx(
        sum(_integral(m, p, float(levels[i])) for i, (p, _a, _b, m, _w) in lines.items()), rel=1e-6)


def test_the_optimum_equals_a_greedy_fill_of_the_budget(example_plan):
    assert _greedy_optimum() == pytest.approx(example_plan.integrations, rel=1e-9)


def test_a_line_kept_as_printed_beside_valued_lines_is_not_a_model_without_rates(tmp_path, example_plan):
    """The nine valued lines count integrations (rates per 1,000 € well above 1e-6 per €), so a tenth line kept as
    printed (no rate class: rate 0) does not make the model one "whose every row has a rate of about 0" that
    ``load`` refuses (problem.check_objective counts the valued money lines with the rows with entries). The
    tenth line's 100,000 € come out of the official reserve (300,000 € → 200,000 €: reserve_amount official is
    what the official plan leaves unplanned), so the nine lines have the same money and the same optimum as
    the example without it: the greedy fill of the raw files (a second computation, no LP)."""
    model, _ = _raw()
    model["meta"]["rates_file"] = str(RATES)
    model["instruments"].append({"id": "kept_line", "name": "a line kept as printed", "area": "vermittlung",
                                 "financing": "money_only", "new_funds": 100000.0})
    path = tmp_path / "ten-lines.yaml"
    path.write_text(yaml.safe_dump(model, allow_unicode=True, sort_keys=False), encoding="utf-8")
    problem = load(path)
    assert float(problem.budget.reserve) == 200000.0
    plan = optimise(problem)
    assert plan.plan.levels["kept_line"] == 100000.0
    assert plan.integrations == pytest.approx(_greedy_optimum(), rel=1e-9)


def test_the_official_plan_is_the_printed_money(example):
    base = official(example)
    model, _ = _raw()
    for r in model["instruments"]:
        assert base.plan.levels[r["id"]] == r["new_funds"]


def test_solve_sweep_and_explain_speak_no_duisburg_wording(tmp_path):
    runner = CliRunner()
    outputs = []
    for args in (["solve", str(EXAMPLE)], ["sweep", str(EXAMPLE), "--steps", "21"], ["explain", str(EXAMPLE)],
                 ["validate", str(EXAMPLE)]):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    text = "\n".join(outputs)
    found = [w for w in DUISBURG_WORDING if w in text]
    assert not found, found
    assert "entries, all rows" not in text, "a model of money lines only has no entries line"


def test_weighted_and_unweighted_integrations_are_both_printed(example, example_plan):
    result = CliRunner().invoke(main, ["solve", str(EXAMPLE), "--show", "none"])
    plain = float(example.integrations(example_plan.plan.levels, weighted=False).sum())
    lines = {ln.split("  ")[0]: ln for ln in result.output.splitlines()}
    assert f"{plain:,.1f}" in lines["expected integrations"]
    assert f"{example_plan.integrations:,.1f}" in lines["weighted by the priorities (what is maximised)"]
    assert plain < example_plan.integrations  # the bonus for long-term recipients counts on top
    explained = CliRunner().invoke(main, ["explain", str(EXAMPLE)]).output
    assert f"Expected integrations of the optimal plan: {plain:,.1f} (weighted by the priorities" in explained


@pytest.fixture(scope="module")
def duisburg_explanation(problem):
    return explain(problem)


def test_one_sided_prices_are_said_the_same_in_solve_and_explain(problem, optimal_plan, official_plan,
                                                                  duisburg_explanation):
    """Duisburg's Soziale Teilhabe pool: more money buys nothing (its 90 places bind), less breaks its places."""
    import dataclasses

    from optalloc.outputs.reports import compare
    from optalloc.outputs.views import constraints_view

    plan = optimal_plan
    prices = one_sided_prices(problem, plan)
    why = duisburg_explanation.constraints
    assert prices.at["pool:soziale_teilhabe", "one_sided"]
    assert prices.at["pool:soziale_teilhabe", "up"] * 1000 == pytest.approx(
        why.at["pool:soziale_teilhabe", "gain_if_loosened"] * 1000, abs=1e-9)
    assert abs(prices.at["pool:soziale_teilhabe", "up"]) < 1e-9 < abs(plan.duals["pool:soziale_teilhabe"])
    for name, row in prices.iterrows():  # solve's one-sided rows are explain's, with the same worth each way
        gain, loss = why.at[name, "gain_if_loosened"], why.at[name, "loss_if_tightened"]
        one_sided = math.isnan(loss) or abs(gain - loss) > 1e-6 * max(abs(gain), abs(loss), 1e-9)
        assert bool(row["one_sided"]) == one_sided, name
        loosened = row["up"] if plan.rows[name].sense == "<=" else row["down"]  # more room: up for ≤, down for ≥
        assert loosened == pytest.approx(gain, abs=1e-9), name
    tables = compare(plan, official_plan)
    tables = dataclasses.replace(tables, constraints=tables.constraints.join(prices))  # as solve does
    out = constraints_view(tables.constraints, "optimal")
    line = next(ln for ln in out.splitlines() if ln.startswith("pool:soziale_teilhabe") and "used up" in ln)
    assert "more +0.0000 / less no plan per 1,000 € (one-sided)" in line


def test_explain_says_unreachable_for_thresholds_no_rate_can_reach(duisburg_explanation):
    """Duisburg: FAV would need a gross rate above 1.067 to get more money, AGH-MAE one below −0.667 to lose it."""
    from optalloc.outputs.views import explanation_view

    out = explanation_view(duisburg_explanation)
    fav = next(ln for ln in out.splitlines() if ln.startswith("- fav "))
    assert "whatever its rate" in fav and "1.067 lies outside what a gross rate can be, 0 to 1: unreachable" in fav
    agh = next(ln for ln in out.splitlines() if ln.startswith("agh_mae "))
    assert "unreachable … 0.242" in agh
    for ln in out.splitlines():  # no sentence promises a change at a rate no rate can be
        for number in re.findall(r"rate (?:rose above|stays above|stays between) (-?[\d.]+)", ln):
            assert 0 <= float(number) <= 1, ln


def test_the_sweep_plot_marks_the_exact_optimum_at_the_budget():
    from optalloc.outputs.plotting import sweep_curve
    from optalloc.analyses.sweeps import sweep_budget

    problem = load(EXAMPLE)
    coarse = sweep_budget(problem, [problem.new_business_available * s for s in (0.8, 0.93, 1.07, 1.2)])
    labels = sweep_curve(coarse).axes[0].get_legend_handles_labels()[1]
    exact = optimise(problem).integrations
    assert f"optimal plan at the model's budget: {exact:,.1f}" in labels


# ----- fractional entries and the template's kinds of rows -----


def test_a_money_line_with_a_unit_cost_is_planned_in_fractional_entries(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(template_text(), encoding="utf-8")
    problem = load(path)
    row = problem.instruments.loc["qualification"]
    assert row["unit"] == "entries" and row["official"] == pytest.approx(1_800_000 / 6_800)
    assert row["unit_cost"] == 6_800 and not row["fixed"]
    base = official(problem)
    assert float(base.spent().sum()) == pytest.approx(5_962_345.67, abs=0.005)
    kept = problem.instruments.loc["placement_budget"]
    assert kept["fixed"] and kept["unit"] == "euros", "a money line without a valuation is kept as printed"
    assert problem.instruments.at["youth_line", "unit"] == "euros"


@pytest.mark.parametrize("change, fragments", [
    ({"financing": "new", "entries": 100}, ("instruments[4] (youth_line).rate_class", "a class per entry")),
    ({"unit_cost": 1000.0}, ("instruments[4] (youth_line).unit_cost", "no unit cost for a line valued per 1,000 €")),
    ({"rate_class": "placement_budget"}, ("instruments[4] (youth_line).bounds", "kept as printed unless it is valued")),
])
def test_a_money_line_valued_wrongly_gets_one_line(tmp_path, change, fragments):
    model = yaml.safe_load(template_text())
    model["instruments"][4].update(change)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(model, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert_one_clear_line(result, str(path), fragments)


# ----- rates found by name -----


def test_the_packaged_rates_are_the_projects():
    assert (PACKAGED_RATES / "sgb2-defaults.yaml").read_bytes() == RATES.read_bytes()


def test_a_copied_model_finds_the_packaged_rates(tmp_path, optimal_plan):
    """The issue's case: a model copied out of the repository keeps `rates_file: rates/sgb2-defaults.yaml`."""
    copy = tmp_path / "copy.yaml"
    copy.write_text(DUISBURG.read_text(encoding="utf-8"), encoding="utf-8")
    spec = load_model(copy)
    assert spec.rates_path == PACKAGED_RATES / "sgb2-defaults.yaml"
    assert spec.rates == optimal_plan.problem.spec.rates


def test_a_name_is_looked_up_in_the_projects_rates_folder_first(tmp_path):
    model = tmp_path / "m.yaml"
    model.write_text(template_text().replace("rates_file: sgb2-defaults", "rates_file: sgb2-defaults"), encoding="utf-8")
    assert load_model(model).rates_path == PACKAGED_RATES / "sgb2-defaults.yaml"
    (tmp_path / "rates").mkdir()
    own = tmp_path / "rates" / "sgb2-defaults.yaml"
    shutil.copy(RATES, own)
    own.write_text(own.read_text(encoding="utf-8").replace("value: 0.312", "value: 0.30"), encoding="utf-8")
    spec = load_model(model)
    assert spec.rates_path == own and spec.rates.classes["fbw"].gross.value == 0.30


def test_an_unknown_rates_name_gets_one_line(tmp_path):
    model = tmp_path / "m.yaml"
    model.write_text(template_text().replace("rates_file: sgb2-defaults", "rates_file: sgb2-default"), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(model)])
    assert_one_clear_line(result, str(model), ("meta.rates_file: 'sgb2-default'", "no rates file of that name",
                                               "sgb2-defaults"))
