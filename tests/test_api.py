"""Issue 6: the public API returns pandas tables; the trade-off front is a real Pareto front."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

import optalloc as oa
from optalloc.solving.solve import evaluate

from . import raw_check as rc
from .conftest import MODEL, ROOT


@pytest.fixture(scope="module")
def problem():
    return oa.load(MODEL)


def test_api_round_trip_returns_tables(problem):
    plan, base = oa.solve(problem), oa.official(problem)
    cmp = oa.compare(plan, base)
    for table in (cmp.summary, cmp.instruments, cmp.areas, cmp.kennzahlen, cmp.budget, cmp.constraints, cmp.bounds):
        assert isinstance(table, pd.DataFrame) and not table.empty
    assert cmp.summary.at["expected integrations", "plan"] == pytest.approx(plan.integrations)
    assert cmp.kennzahlen.at["total", "printed"] == 11258
    assert list(cmp.tables()) == ["summary", "instruments", "areas", "kennzahlen", "budget", "constraints", "bounds",
                                 "levels"]
    # each pool's spend is its money in the raw reading of the model file (tests/raw_check.py: the exact total
    # rounded half up to the cent), as the budget table prints it; the official plan's new-business money is
    # what the tables plan without Anhang I plus the Soziale Teilhabe co-funding (docs/data-notes.md)
    reading = rc.read(MODEL)
    for sol, column in ((plan, "used_plan"), (base, "used_official")):
        raw = {pid: cents / 100 for pid, cents in rc.pool_cents(reading, sol.plan.levels.to_dict(),
                                                                dict(sol.plan.split)).items()}
        assert sol.spent().to_dict() == raw
        assert cmp.budget[column].to_dict() == raw
    assert base.spent()[problem.new_business_pool] == 22_888_415.95 + 58_701.57
    # tranches 1 and 2 at 90 % pay the refugee annex's 1,212,750 € in full (Anhang I)
    assert base.spent()["refugee_t1"] + base.spent()["refugee_t2"] == 1_212_750.00


def test_load_applies_scenarios_and_basis():
    p = oa.load(MODEL, scenarios=[ROOT / "scenarios" / "cut-10.yaml"], basis="net")
    assert p.basis == "net" and "cut 10 %" in p.name
    assert p.instruments.at["agh_mae", "rate"] < 0  # net effect of one-euro jobs after the 2012 reform


def test_sweep_and_explain_through_the_api(problem):
    s = oa.sweep(problem, "80%:100%", 9)
    assert len(s.curve) == 9 and not s.cut_order.empty
    e = oa.explain(problem)
    assert "budget:new_business" in e.constraints.index


@pytest.fixture(scope="module")
def front(problem):
    return oa.tradeoff(problem, "long_term", points=9)


def test_tradeoff_front_is_pareto(problem, front):
    f = front.front
    assert (f["status"] == "optimal").all()
    assert f["integrations"].iloc[0] == pytest.approx(oa.solve(problem).integrations, rel=1e-9)
    assert (np.diff(f["integrations"]) <= 1e-6).all()          # more reach costs integrations
    assert (np.diff(f["cost_per_entry"]) >= -1e-9).all()        # and costs more the more is required
    assert (np.diff(f["share"]) > 0).all()


def test_every_point_of_the_front_keeps_every_rule(problem, front):
    share = problem.groups["long_term"]
    reading = rc.read(MODEL)
    for reach, levels in front.entries.iterrows():
        sol = evaluate(problem, levels)  # evaluated, not refused: optalloc's checker and the raw reading agree
        assert sol.checks["ok"].all()
        assert rc.violations(reading, levels.to_dict(), dict(sol.plan.split)) == []
        assert float((share * levels).sum()) >= reach - 1e-6
        assert sol.integrations == pytest.approx(front.front.at[reach, "integrations"], rel=1e-9)


def test_front_price_matches_a_finite_difference(problem, front):
    f = front.front
    reach = list(f.index)
    k = len(reach) // 2
    slope = (f["integrations"].iloc[k] - f["integrations"].iloc[k + 1]) / (reach[k + 1] - reach[k])
    lo, hi = f["cost_per_entry"].iloc[k], f["cost_per_entry"].iloc[k + 1]
    assert min(lo, hi) - 1e-9 <= slope <= max(lo, hi) + 1e-9


def test_money_only_lines_reach_nobody_on_the_front(problem, front):
    """A group share on a money-only line (no entries) must not count as reach."""
    money_only = problem.instruments.index[problem.instruments["unit"] != "entries"]
    groups = problem.groups.copy()
    groups.loc[money_only, "long_term"] = 0.5
    shared = oa.tradeoff(dataclasses.replace(problem, groups=groups), "long_term", points=9)
    assert (shared.front["status"] == "optimal").all()
    assert list(shared.front.index) == pytest.approx(list(front.front.index), rel=1e-9)


def test_unknown_group_is_refused(problem):
    with pytest.raises(oa.UsageError, match="one of"):
        oa.tradeoff(problem, "pensioners")


def test_official_point_is_reported(front):
    reach, value = front.official
    # long-term recipients reached by the official plan: the 5.5.3 rows (3,244 entries, AGH-MAE's 2,724 among
    # them), ESF-LZA 61, Soziale Teilhabe 54 + 36, Minijobber 176, and 35 % of FbW's 1,387 entries (5.5.3)
    assert math.isclose(reach, 128 + 2724 + 126 + 64 + 64 + 102 + 36 + 61 + 54 + 176 + 36 + 0.35 * 1387)
    assert value == pytest.approx(3290.364)


def test_load_takes_scenario_mappings():
    p = oa.load(MODEL, scenarios=[{"name": "cut 15 %", "budget": {"cut_share": 0.15}}])
    assert p.pools.at["egt", "available"] == pytest.approx(23878495.16 - 3581774.27, abs=0.005)
    with pytest.raises(oa.InputFileError, match="instruments.fbx"):
        oa.load(MODEL, scenarios=[{"name": "typo", "instruments": {"fbx": {"max": 1}}}])
