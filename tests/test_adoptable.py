"""Issue 11: a plan a jobcenter could adopt — real limits, diminishing returns, stated decisions, a reserve,
and a report of what set each level. Figures come from the document or from tests/independent_check.py,
which reads the raw files and shares no code with optalloc's problem builder."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from click.testing import CliRunner

import optalloc as oa
from cli import main
from optalloc.analyses.reasons import CATEGORIES, counts
from optalloc.solving.solve import official, optimise

from . import independent_check as ic
from .conftest import MODEL, RATES, raw_yaml
from .helpers import plan_dict

RAW = raw_yaml(MODEL)
RAW_RATES = raw_yaml(RATES)
BOXES = ((0.5, 1.5), (0.8, 1.2), (0.0, 2.0))


def _box(lo: float, hi: float) -> dict:
    return {"name": f"box {lo:.0%}-{hi:.0%}",
            "assumptions": {"bounds": {"min_share_of_official": lo, "max_share_of_official": hi}}}


def test_solve_says_what_set_each_level_and_the_box_sets_at_most_a_quarter():
    result = CliRunner().invoke(main, ["solve", str(MODEL), "--show", "levels"])
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.output.splitlines() if ln.startswith("levels set by:"))
    body = line[len("levels set by: "):line.index(" (of ")]
    found = {part.rsplit(" ", 1)[0]: int(part.rsplit(" ", 1)[1]) for part in body.split(" · ")}
    assert set(found) >= {"places", "customer stock", "policy", "diminishing returns", "budget", "fallback box"}
    rows = int(re.search(r"of (\d+) rows", line).group(1))
    assert sum(found.values()) == rows
    assert found["fallback box"] <= rows / 4
    linear = CliRunner().invoke(main, ["solve", str(MODEL), "--linear", "--show", "none"])
    assert "not a finding" in linear.output  # with constant rates the box sets rows, and says so


@pytest.mark.parametrize("basis", ["gross", "net"])
def test_the_gain_barely_depends_on_the_fallback_box(basis):
    """Narrowing the box to 80–120 % or widening it to 0–200 % moves the optimum by less than 10 % of the
    gain over the official plan (the first form of the model moved it by −67 % / +92 %)."""
    values = {}
    for lo, hi in BOXES:
        problem = oa.load(MODEL, [_box(lo, hi)], basis=basis)
        values[(lo, hi)] = optimise(problem).integrations
        base = official(problem).integrations
    gain = values[BOXES[0]] - base
    assert gain > 0
    for box in BOXES[1:]:
        assert abs(values[box] - values[BOXES[0]]) < 0.10 * gain, (box, values, gain)


def test_the_first_form_shows_the_box_deciding_the_plan():
    """With constant rates, no limits but the box and no reserve, the box decides the gain: the reason the
    second form exists. Kept as a check that the comparison above can fail."""
    first = {"name": "first form", "budget": {"reserve_amount": 0},
             "assumptions": {"response": {"shape": "linear"}, "capacity": {"extension_share": 10},
                             "employers": {"growth_share": 10}, "participation": {"max_share": 1}},
             "policy": {r["id"]: {"drop": True} for r in RAW["policy"]}}
    gains = []
    for lo, hi in BOXES:
        problem = oa.load(MODEL, [first, _box(lo, hi)])
        gains.append(optimise(problem).integrations - official(problem).integrations)
    assert abs(gains[2] - gains[0]) > 0.5 * gains[0]


@pytest.mark.parametrize("basis, value", [("gross", 3290.364), ("net", 525.595)])
def test_the_official_plan_keeps_its_value_under_diminishing_returns(basis, value):
    concave = oa.load(MODEL, basis=basis)
    linear = oa.load(MODEL, basis=basis, response="linear")
    assert concave.response_shape == "concave" and linear.response_shape == "linear"
    levels = concave.instruments["official"]
    for problem in (concave, linear):
        assert official(problem).integrations == pytest.approx(value, abs=5e-4)
    # the raw checker evaluates its own curve: the same value at the plan, less away from it
    raw_levels = levels.to_dict()
    assert ic.integrations(RAW, RAW_RATES, raw_levels, basis) == pytest.approx(value, abs=5e-4)
    more = {k: v * 1.1 for k, v in raw_levels.items()}
    assert ic.integrations(RAW, RAW_RATES, more, basis) < ic.integrations(RAW, RAW_RATES, more, basis, "linear")


def test_every_response_is_concave_and_agrees_with_the_raw_curve(problem):
    inst = problem.instruments
    for iid, seg in problem.response.groupby("instrument"):
        rates = seg["rate"].to_numpy()
        assert (np.diff(rates) <= 1e-12).all(), iid  # marginal rates never rise: concave
        assert (seg["start"].to_numpy()[1:] == seg["end"].to_numpy()[:-1]).all()
        row = next(r for r in RAW["instruments"] if r["id"] == iid)
        cls = RAW_RATES["classes"][row["rate_class"]]["gross"]
        spread = cls["value"] - cls["low"]
        raw = ic.response_segments(float(inst.at[iid, "official"]), cls["value"], spread,
                                   RAW["assumptions"]["response"]["low_end_at"])
        for x in np.linspace(0, 3 * max(1.0, inst.at[iid, "official"]), 13):
            mine = problem.integrations(inst["official"].where(inst.index != iid, x)).loc[iid]
            theirs = sum(r * max(0.0, min(x, b) - a) for a, b, r in raw)
            assert mine == pytest.approx(theirs, rel=1e-9, abs=1e-9), (iid, x)


def test_the_optimal_plan_passes_the_raw_checker_and_its_value(optimal_plan, official_plan):
    levels, split = plan_dict(optimal_plan)
    assert ic.violations(RAW, levels, split) == []
    assert optimal_plan.integrations == pytest.approx(ic.integrations(RAW, RAW_RATES, levels), rel=1e-9)
    assert optimal_plan.integrations > official_plan.integrations
    # the reserve is kept: the new-business pool spends what the official plan spends, 22,947,117.52 €
    assert float(optimal_plan.spent()["egt"]) <= 23878495.16 - 931377.64 + 1e-6


def test_what_set_each_level_is_what_holds_it(problem, optimal_plan):
    """Each category is checked against the plan itself: a row set by places sits at its contract's limit
    (read from the raw file), one set by the box at the box's bound, one set by its diminishing returns at
    a breakpoint of its response, one set by the budget strictly inside a segment."""
    why = oa.compare(optimal_plan, official(problem)).levels
    assert set(why["set_by"]) <= set(CATEGORIES)
    assert counts(why).sum() == len(why) == int((~problem.instruments["fixed"]).sum())
    a = RAW["assumptions"]
    e, g = a["capacity"]["extension_share"], a["employers"]["growth_share"]
    rows = {r["id"]: r for r in RAW["instruments"]}
    box = a["bounds"]
    for iid, r in why.iterrows():
        x, o = r["level"], r["official"]
        seg = problem.response[problem.response.instrument == iid]
        if r["set_by"] == "places" and r["limit"].startswith("entries_"):
            kind = rows[iid]["capacity"]
            limits = {o * (1 + (g if kind == "posts" else e)), o * (1 - e)}
            assert any(math.isclose(x, v, rel_tol=1e-9) for v in limits), (iid, x, limits)
        elif r["set_by"] == "fallback box":
            assert any(math.isclose(x, s * o, rel_tol=1e-9) for s in box.values() if isinstance(s, float)), iid
        elif r["set_by"] == "diminishing returns":
            assert np.isclose(seg["end"].to_numpy(), x, rtol=1e-9).any(), iid
        elif r["set_by"] == "budget":
            assert not np.isclose(seg["end"].to_numpy(), x, rtol=1e-9).any(), iid
    # the document's stated decisions hold in the optimum
    levels = optimal_plan.plan.levels
    cost = problem.instruments.at["fbw", "unit_cost"]
    assert (levels["fbw"] + levels["fbw_u25"]) * cost >= 8125385.13 + 1606751.45 - 0.01
    assert levels["agh_mae"] + levels["agh_mae_u25"] <= 2724 + 200 + 1e-6
    assert levels["egz"] + levels["esf_lza"] <= 597 + 61 + 1e-6


def test_the_box_rows_move_with_the_box_and_the_real_limits_do_not(problem, optimal_plan):
    """With constant rates the box sets some rows (Ausbildung wird was, EGZ-SB, Reha AG-Zuschüsse at 50 %):
    they follow the box. The rows set by places keep their level in either form."""
    linear = oa.load(MODEL, response="linear")
    plan = optimise(linear)
    why = oa.compare(plan, official(linear)).levels
    boxed = why.index[why["set_by"] == "fallback box"]
    assert len(boxed)
    wider = optimise(oa.load(MODEL, [_box(0.3, 1.5)], response="linear"))
    assert all(abs(wider.plan.levels[i] - plan.plan.levels[i]) > 1e-6 for i in boxed)
    why = oa.compare(optimal_plan, official(problem)).levels
    assert (why["set_by"] != "fallback box").all()  # the second form leaves no level to the box
    places = why.index[(why["set_by"] == "places") & why["limit"].str.startswith("entries_max")]
    assert len(places) >= 10
    again = optimise(oa.load(MODEL, [_box(0.3, 1.5)]))
    assert np.allclose(again.plan.levels[places], optimal_plan.plan.levels[places])


def test_linear_flag_gives_the_first_forms_constant_rates():
    result = CliRunner().invoke(main, ["solve", str(MODEL), "--linear", "--show", "none"])
    assert result.exit_code == 0, result.output
    assert "at constant rates (--linear)" in result.output
    linear = optimise(oa.load(MODEL, response="linear"))
    levels, _ = plan_dict(linear)
    assert linear.integrations == pytest.approx(ic.integrations(RAW, RAW_RATES, levels, response="linear"), rel=1e-9)
