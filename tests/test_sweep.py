"""Issue 4: budget sweeps — the fast path equals full solves point by point; the cut order reads well."""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner

from cli import main
from optalloc.solve import optimise
from optalloc.errors import InfeasibleError
from optalloc.sweeps import budget_levels, cut_order, least_budget, sweep_budget, with_budget

from .conftest import MODEL, ROOT


@pytest.fixture(scope="module")
def levels(problem):
    return budget_levels("min:110%", 25, problem.pools.at["egt", "available"], least_budget(problem))


def test_the_least_budget_is_the_edge_of_feasibility(problem):
    """Below the least money a plan needs (the floors of contracts, stated decisions and coverage) no plan
    exists; a euro above it, one does."""
    least = least_budget(problem)
    assert optimise(with_budget(problem, least)).feasible
    with pytest.raises(InfeasibleError):
        optimise(with_budget(problem, least - 100.0))


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
    # the first cut is a row whose money buys the fewest integrations at its margin (per 1,000 €)
    inst = problem.instruments
    top = sweep_budget(problem, levels).entries.iloc[-1]
    per_euro = problem.marginal_rates(top) / inst["unit_cost"].where(inst["unit_cost"] > 0)
    first = order.index[0]
    assert per_euro[first] <= per_euro[order.index[order["moves"] != "not cut in range"]].median()


def test_fbw_is_held_by_the_documents_decisions(problem, levels):
    """Under gross rates FbW buys the fewest integrations per euro, yet at every budget it keeps the
    investment the document decided (5.5.2) and its 330 abschlussorientierte (330 of FbW's printed 1,387,
    which count FbW-U25 and Reha FbW); AGH-MAE stays within its places."""
    entries = sweep_budget(problem, levels).entries
    assert ((entries["fbw"] + entries["fbw_u25"] + entries["fbw_reha"]) * 330 / 1387 >= 330 - 1e-6).all()
    cost = problem.instruments.at["fbw", "unit_cost"]
    assert problem.instruments.at["fbw_u25", "unit_cost"] == cost  # FbW-U25 is paid from FbW's budget
    money = (entries["fbw"] + entries["fbw_u25"]) * cost
    assert (money >= (8125385.13 + 1606751.45) - 0.01).all()  # 5.5.2: new funds + VBL part of FbW
    agh = entries["agh_mae"] + entries["agh_mae_u25"]
    assert (agh <= 2724 + 200 + 1e-6).all()  # AGH-MAE within its places: 1,291 places carry 2,924 entries


def test_budget_range_parsing(problem):
    base = problem.pools.at["egt", "available"]
    assert np.allclose(budget_levels("50%:100%", 3, base), [base / 2, base * 0.75, base])
    assert np.allclose(budget_levels("1e6:3e6", 3, base), [1e6, 2e6, 3e6])
    from optalloc.errors import UsageError

    assert np.allclose(budget_levels("min:100%", 3, base, least=base / 2), [base / 2, base * 0.75, base])
    for bad in ("110%:70%", ".:5", "e:5", "70%", "a:b", "min:100%", "100%:min", "min%:100%"):
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
