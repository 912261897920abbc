"""Issue 12: how sure the gain is — rates drawn within their ranges, the plans' distributions, a robust plan,
the value of information and corridors. Values on the draws are recomputed from the raw files
(tests/independent_check.py reads them and shares no code with optalloc); tail averages by sorting."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import optalloc as oa
from cli import main

from . import independent_check as ic
from .conftest import MODEL, RATES, raw_yaml
from .helpers import plan_dict

RAW = raw_yaml(MODEL)
RAW_RATES = raw_yaml(RATES)
DRAWS = 300


@pytest.fixture(scope="module")
def risk(problem):
    return oa.risk(problem, draws=DRAWS, seed=7)


def raw_value(levels: dict[str, float], figures: dict[str, float], basis: str = "gross") -> float:
    """A plan's expected integrations when each rate class takes ``figures``: every row's diminishing-returns
    curve from the raw files, moved by its class's error (its own rate in proportion), the floor left where
    it is, each marginal rate kept within [0, 1] (gross) or [−1, 1] (net)."""
    d = ic.derive(RAW)
    prio = RAW.get("priorities", {}) or {}
    low_end_at = RAW["assumptions"]["response"]["low_end_at"]
    lowest = 0.0 if basis == "gross" else -1.0
    total = 0.0
    for iid, info in d["rows"].items():
        if info["unit"] != "entries":
            continue
        row = info["row"]
        cls = RAW_RATES["classes"][row["rate_class"]][basis]
        own = (row.get("rate") or {}).get(basis)
        rate = cls["value"] if own is None else own
        spread = (cls["value"] - cls["low"]) * (abs(rate / cls["value"]) if cls["value"] else 1.0)
        error = (figures[row["rate_class"]] - cls["value"]) * (abs(rate / cls["value"]) if cls["value"] else 1.0)
        segments = ic.response_segments(info["official"], rate, spread, low_end_at)
        if len(segments) == 1:
            moved = [min(1.0, max(lowest, segments[0][2] + error))]
        else:
            floor = segments[-1][2]
            moved = [min(1.0, max(lowest, max(m + error, floor))) for _, _, m in segments[:-1]] + [floor]
        weight = 1 + sum(s * prio.get(g, 0) for g, s in row.get("groups", {}).items())
        x = levels[iid]
        total += weight * sum(m * max(0.0, min(x, end) - start) for (start, end, _), m in zip(segments, moved))
    return total


def worst_average(values: np.ndarray, tail: float) -> float:
    """The average of the worst ``tail`` share, by sorting (``tail`` × N whole here)."""
    k = round(tail * len(values))
    return float(np.sort(values)[:k].mean())


def test_values_on_the_draws_agree_with_the_raw_files(risk):
    figures = risk.draws.figures
    for plan in ("official", "optimal", "robust"):
        levels = risk.plans[plan].to_dict()
        for d in (0, 1, 17, DRAWS - 1):
            expected = raw_value(levels, figures.iloc[d].to_dict())
            assert math.isclose(risk.values.at[d, plan], expected, rel_tol=1e-9), (plan, d)
    # far beyond any bound, where every curve has reached its floor: the floor must not move with the rate
    far = (risk.plans["official"] * 6 + 10).to_numpy()
    far_levels = dict(zip(risk.plans.index, far))
    for d in (2, 5):
        assert math.isclose(risk.draws.values(far)[d, 0], raw_value(far_levels, figures.iloc[d].to_dict()),
                            rel_tol=1e-9)


@pytest.mark.parametrize("distribution", ["pert", "triangular"])
def test_the_draws_follow_their_distribution(problem, distribution):
    """Mean and variance of 20,000 draws against the textbook formulas: PERT (a scaled beta) has mean
    (a + 4m + b) / 6 and variance (μ − a)(b − μ) / 7; the triangular (a + m + b) / 3 and
    (a² + m² + b² − am − ab − mb) / 18."""
    from optalloc.analyses.risk import draw_rates

    rd = draw_rates(problem, 20_000, seed=11, distribution=distribution)
    c = rd.classes
    a, m, b = c["low"], c["value"], c["high"]
    if distribution == "pert":
        mean = (a + 4 * m + b) / 6
        variance = (mean - a) * (b - mean) / 7
    else:
        mean = (a + m + b) / 3
        variance = (a**2 + m**2 + b**2 - a * m - a * b - m * b) / 18
    f = rd.figures
    assert ((f >= a - 1e-12) & (f <= b + 1e-12)).all().all()
    sd = np.sqrt(variance)
    assert ((f.mean() - mean).abs() <= 4 * sd / math.sqrt(len(f)) + 1e-12).all()
    assert ((f.var() - variance).abs() <= 0.05 * variance + 1e-15).all()


def test_the_same_seed_gives_the_same_numbers_and_another_seed_others(problem, risk):
    again = oa.risk(problem, draws=DRAWS, seed=7)
    assert np.array_equal(again.values.to_numpy(), risk.values.to_numpy())
    assert again.summary.equals(risk.summary)
    assert again.value_of_information.equals(risk.value_of_information)
    other = oa.risk(problem, draws=DRAWS, seed=8, reoptimise=False)
    assert not np.array_equal(other.values["optimal"].to_numpy(), risk.values["optimal"].to_numpy())


def test_the_best_plan_per_draw_is_at_least_every_fixed_plan(risk):
    assert risk.summary["keeps_every_rule"].all()  # every plan compared is feasible in the shipped model
    best = risk.values["best"].to_numpy()
    for plan in ("official", "optimal", "robust"):
        assert (best >= risk.values[plan].to_numpy() - 1e-7 * np.abs(best)).all(), plan
    # and it is each draw's own optimum: the per-draw levels valued from the raw files
    figures = risk.draws.figures
    for d in (3, 99):
        levels = risk.best_levels.iloc[d].to_dict()
        assert math.isclose(best[d], raw_value(levels, figures.iloc[d].to_dict()), rel_tol=1e-9)


def test_the_robust_plan_protects_the_tail_and_passes_the_independent_checker(risk):
    tail = risk.robust["tail"]
    for plan in ("optimal", "official"):
        assert (worst_average(risk.values["robust"].to_numpy(), tail)
                >= worst_average(risk.values[plan].to_numpy(), tail) - 1e-6)
    assert risk.summary.at["robust", "p5"] >= risk.summary.at["optimal", "p5"] - 1e-6
    levels, split = plan_dict(risk.solutions["robust"])
    assert ic.violations(RAW, levels, split) == []


def test_a_floor_at_the_optimal_plans_tail_gives_at_least_its_mean(problem):
    r = oa.risk(problem, draws=200, seed=3, floor="optimal", reoptimise=False)
    assert r.summary.at["robust", "mean"] >= r.summary.at["optimal", "mean"] - 1e-6
    assert (worst_average(r.values["robust"].to_numpy(), 0.05)
            >= worst_average(r.values["optimal"].to_numpy(), 0.05) - 1e-6)


def test_every_value_of_information_is_at_least_zero_and_at_most_knowing_everything(risk):
    voi = risk.value_of_information["integrations"]
    assert (voi >= -1e-7).all()
    assert voi.max() <= risk.perfect_information["integrations"] + 1e-7
    assert voi.max() > 0  # something is worth knowing: the test sees the ranking, not a column of zeros
    # a class without spread, or whose rows the optimiser cannot change, is worth nothing to learn — where
    # the draws' noise in the other classes would give it a small value if the groups carried it along
    classes = risk.draws.classes
    inst = risk.problem.instruments
    flat = classes.index[classes["high"] == classes["low"]]
    frozen = [c for c in classes.index if inst.loc[inst["rate_class"] == c, "fixed"].all()]
    assert frozen and (voi[list(flat) + frozen] == 0).all()
    # knowing everything is worth the best-on-average plan's mean regret: a second way to the same figure
    best = risk.values["best"].to_numpy()
    mean_rates = risk.draws.segment_rates.mean(axis=0)
    assert risk.perfect_information["integrations"] <= float(np.mean(best - risk.values["optimal"])) + 1e-7
    assert mean_rates.shape[0] == len(risk.problem.response)


def test_collapsed_ranges_give_the_deterministic_optimum_with_no_spread(tmp_path):
    rates = raw_yaml(RATES)
    for cls in rates["classes"].values():
        for basis in ("gross", "net"):
            cls[basis]["low"] = cls[basis]["high"] = cls[basis]["value"]
    path = tmp_path / "collapsed.yaml"
    path.write_text(yaml.safe_dump(rates, allow_unicode=True), encoding="utf-8")
    problem = oa.load(MODEL, rates=path)
    r = oa.risk(problem, draws=40, seed=1)
    optimum = oa.solve(problem)
    assert (r.summary["sd"].abs() < 1e-9).all()
    assert np.allclose(r.values["optimal"], optimum.integrations, rtol=1e-12)
    assert np.allclose(r.values["best"], optimum.integrations, rtol=1e-9)
    assert (r.value_of_information["integrations"] == 0).all()
    levels, _ = plan_dict(optimum)
    assert math.isclose(ic.integrations(RAW, rates, levels), optimum.integrations, rel_tol=1e-9)


def test_corridors_count_every_draw_once(risk):
    c = risk.corridors
    assert np.allclose(c[["at_minimum", "between", "at_maximum"]].sum(axis=1), 1.0)
    assert (c["p5"] <= c["p95"] + 1e-9).all()
    assert ((c["p5"] >= c["minimum"] - 1e-6) & (c["p95"] <= c["maximum"] + 1e-6)).all()
    # recount one row from the per-draw levels
    iid = c.index[0]
    col = risk.best_levels[iid]
    lo, hi = c.at[iid, "minimum"], c.at[iid, "maximum"]
    assert math.isclose(c.at[iid, "at_minimum"], float((np.abs(col - lo) <= 1e-6 * max(1, hi)).mean()))


def test_correlated_draws_move_together(problem):
    independent = oa.risk(problem, draws=400, seed=5, reoptimise=False).draws.figures
    shared = oa.risk(problem, draws=400, seed=5, correlation=0.8, reoptimise=False).draws.figures
    varying = independent.columns[independent.std() > 0]

    def mean_correlation(f):
        c = np.corrcoef(f[varying].to_numpy().T)
        return c[np.triu_indices_from(c, 1)].mean()

    assert abs(mean_correlation(independent)) < 0.1
    assert mean_correlation(shared) > 0.6


def test_cli_prints_the_table_and_writes_every_table(tmp_path):
    out = tmp_path / "risk"
    result = CliRunner().invoke(main, ["risk", str(MODEL), "--draws", "120", "--seed", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Expected integrations over the draws" in result.output
    assert "Value of information" in result.output and "not a finding" in result.output
    for name in ("risk_summary.csv", "value_of_information.csv", "corridors.csv", "risk_values.csv", "risk.json",
                 "risk_histogram.png", "value_of_information.png", "corridors.png"):
        assert (out / name).stat().st_size > 0, name
    import pandas as pd

    written = pd.read_csv(out / "risk_summary.csv", index_col=0)
    again = oa.risk(oa.load(MODEL), draws=120, seed=2)
    assert np.allclose(written["mean"].to_numpy(), again.summary["mean"].to_numpy(), rtol=1e-12)


def test_cli_refuses_a_floor_that_is_not_one():
    """A wrong option is a usage error (exit 2, as for sweep's --budget): one line naming it and what is allowed."""
    result = CliRunner().invoke(main, ["risk", str(MODEL), "--draws", "10", "--floor", "lots"])
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == ["optalloc: --floor: 'lots' — max, optimal, official or a number of "
                                          "expected integrations"]


def test_an_official_plan_that_breaks_the_scenario_is_said_to(tmp_path):
    """Under a 10 % cut the official plan spends money the model no longer has: the report says so."""
    result = CliRunner().invoke(main, ["risk", str(MODEL), "-s", str(MODEL.parent.parent / "scenarios" / "cut-10.yaml"),
                                       "--draws", "50", "--no-reoptimise"])
    assert result.exit_code == 0, result.output
    assert "NOTE: the official plan breaks" in result.output and "budget:new_business" in result.output
