"""Issue 4: budget sweeps — the fast path equals full solves point by point; the cut order reads well."""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner

from cli import main
from optalloc.solve import optimise
from optalloc.sweeps import budget_levels, cut_order, sweep_budget, with_budget

from .conftest import MODEL, ROOT


@pytest.fixture(scope="module")
def levels(problem):
    return budget_levels("70%:110%", 25, problem.pools.at["egt", "available"])


def test_fast_path_equals_full_solves_point_by_point(problem, levels):
    fast = sweep_budget(problem, levels)
    for budget in levels:
        full = optimise(with_budget(problem, budget))
        assert math.isclose(fast.curve.at[budget, "integrations"], full.integrations, rel_tol=1e-9)
        assert np.allclose(fast.entries.loc[budget].to_numpy(), full.plan.levels.to_numpy(), atol=1e-6)
        assert math.isclose(fast.curve.at[budget, "per_1000_eur"], full.duals["budget:new_business"] * 1000,
                            rel_tol=1e-6, abs_tol=1e-9)


def test_fast_path_equals_the_rebuild_loop(problem, levels):
    fast = sweep_budget(problem, levels)
    slow = sweep_budget(problem, levels, method="rebuild")
    assert np.allclose(fast.entries.to_numpy(), slow.entries.to_numpy(), atol=1e-6)
    assert np.allclose(fast.curve["per_1000_eur"], slow.curve["per_1000_eur"], atol=1e-9)


def test_curve_rises_and_flattens(problem, levels):
    curve = sweep_budget(problem, levels).curve
    assert (curve["status"] == "optimal").all()
    assert (np.diff(curve["integrations"]) >= -1e-9).all()
    assert (np.diff(curve["per_1000_eur"]) <= 1e-9).all()  # concave: money is worth less as it grows


def test_cut_order_ranks_first_cut_first(problem, levels):
    order = cut_order(sweep_budget(problem, levels))
    cut = order[order["moves"] == "cut"]
    assert list(cut["rank"]) == sorted(cut["rank"])
    assert (np.diff(cut["shrinks_below"]) <= 0).all()
    assert order.index[0] == "fbw"  # under gross rates FbW is the first to lose money


def test_budget_range_parsing(problem):
    base = problem.pools.at["egt", "available"]
    assert np.allclose(budget_levels("50%:100%", 3, base), [base / 2, base * 0.75, base])
    assert np.allclose(budget_levels("1e6:3e6", 3, base), [1e6, 2e6, 3e6])
    from optalloc.errors import UsageError

    for bad in ("110%:70%", ".:5", "e:5", "70%", "a:b"):
        with pytest.raises(UsageError):
            budget_levels(bad, 3, base)


def test_sweep_command_writes_csv_and_plot(tmp_path):
    out = tmp_path / "sweep"
    result = CliRunner().invoke(main, ["sweep", str(MODEL), "--steps", "41", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Cut order" in result.output and "Integrations curve" in result.output
    for name in ("curve.csv", "entries.csv", "cut_order.csv", "sweep.png"):
        assert (out / name).stat().st_size > 0
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sweep_with_infeasible_levels_diagnoses_and_exits_3():
    result = CliRunner().invoke(main, ["sweep", str(MODEL), "-s", str(ROOT / "scenarios" / "official-minimums.yaml"),
                                       "--budget", "80%:110%", "--steps", "7"])
    assert result.exit_code == 3
    assert "budget levels are infeasible" in result.output and "budget:new_business" in result.output
