"""Issue 4: budget sweeps — the fast path equals full solves point by point; the cut order reads well."""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner

from cli import main
from optalloc.solving.solve import optimise
from optalloc.errors import InfeasibleError
from optalloc.analyses.sweeps import budget_levels, cut_order, least_budget, sweep_budget, with_budget

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


# ----- small hand-made models, figures worked out by hand -----


def test_a_tie_at_a_swept_budget_goes_to_the_earlier_rows():
    """Three rows alike (rate 0.5, 100 € per entry, each within 0–20 entries), in the model's order a, c, b (their
    columns in the LP sorted by name: a, b, c). Every plan that spends the money is as good; the sweep's tie-break
    must give it as solve does (README: earlier rows first), by hand: 4,500 € buy 20 of a, 20 of c, 5 of b; 2,500 €
    buy 20 of a and 5 of c. Swept on its own and after another level (each sweep starts HiGHS afresh, then warm)."""
    from .test_properties import _model, _rates, _row, problem_of

    problem = problem_of((_model([_row(i, 10, 1000.0) for i in ("a", "c", "b")], 3000.0, bounds=(0.0, 2.0)),
                          _rates(c0=0.5)))
    expected = {2500.0: {"a": 20.0, "c": 5.0, "b": 0.0}, 4500.0: {"a": 20.0, "c": 20.0, "b": 5.0}}
    for budgets in ([4500.0], [2500.0, 4500.0]):
        swept = sweep_budget(problem, budgets)
        for budget in budgets:
            assert swept.entries.loc[budget].to_dict() == pytest.approx(expected[budget], abs=1e-9), (budgets, budget)
            assert swept.curve.at[budget, "integrations"] == pytest.approx(budget / 100 * 0.5, rel=1e-12)


def test_a_row_that_falls_and_rises_as_money_grows_goes_up_and_down():
    """Rows a (100 € per entry, rate 0.05) and d (1,000 €, rate 0.95), both reaching group g, which must have at
    least 10 entries; a within 0–10, d within 0–5. By hand: 1,000 € buy the 10 entries g needs as a (the cheapest);
    each further 900 € swap one a for one d (0.9 integrations, 0.001 per €, against a's 0.0005), until d is full at
    5,500 € (a 5, d 5); then a grows again, full at 6,000 € (a 10, d 5). Swept at those three budgets, a falls and
    rises: "goes up and down", and is cut below its top (10 at 6,000 €) at 5,500 €; d only shrinks."""
    from .test_properties import _model, _rates, _row, problem_of

    pair = (_model([_row("a", 10, 1000.0, groups={"g": 1.0}), _row("d", 5, 5000.0, rate_class="c1", groups={"g": 1.0})],
                   6000.0, bounds=(0.0, 1.0), groups=[{"id": "g", "name": "g"}],
                   coverage=[{"id": "cov_g", "group": "g", "min_count": 10}]), _rates(c0=0.05, c1=0.95))
    swept = sweep_budget(problem_of(pair), [1000.0, 5500.0, 6000.0])
    assert swept.entries["a"].to_dict() == pytest.approx({1000.0: 10.0, 5500.0: 5.0, 6000.0: 10.0}, abs=1e-9)
    assert swept.entries["d"].to_dict() == pytest.approx({1000.0: 0.0, 5500.0: 5.0, 6000.0: 5.0}, abs=1e-9)
    order = cut_order(swept)
    assert order.at["a", "moves"] == "goes up and down" and order.at["a", "shrinks_below"] == 5500.0
    assert order.at["d", "moves"] == "cut" and order.at["d", "shrinks_below"] == 1000.0
    assert order.at["a", "entries_top"] == 10.0 and order.at["a", "entries_bottom"] == 10.0
