"""Issue 13: the minimal-change frontier, the near-optimal corridors and the alternatives on Duisburg 2016.

Every plan is checked by the raw checker (tests/independent_check.py, written from the model file); euros
moved are recomputed from the raw file's costs; the claims of least change, of corridor ends and of
distance are compared with second computations (other plans, CBC re-solves, single-row plans).
"""

from __future__ import annotations

import json

import pulp
import pytest
from click.testing import CliRunner

import optalloc as oa
from cli import main
from optalloc.solving.lp import build_lp
from optalloc.solving.solve import make_solver
from optalloc.outputs.option_views import corridors_view

from . import independent_check as ic
from .conftest import MODEL, RATES, ROOT, raw_yaml

RAW = raw_yaml(MODEL)
RAW_RATES = raw_yaml(RATES)
DERIVED = ic.derive(RAW)["rows"]
COST = {iid: sum(per for per, _ in info["costs"]) for iid, info in DERIVED.items()}  # € per unit, all pools


def raw_euros(levels, other) -> float:
    """Σ unit cost × |Δ level| from the raw file (the frontier's measure, without the cents)."""
    return sum(COST[i] * abs(float(levels[i]) - float(other[i])) for i in DERIVED)


def raw_value(solution) -> float:
    return ic.integrations(RAW, RAW_RATES, solution.plan.levels.to_dict())


def assert_raw_feasible(solution) -> None:
    assert ic.violations(RAW, solution.plan.levels.to_dict(), dict(solution.plan.split)) == []


@pytest.fixture(scope="module")
def front(problem, optimal_plan, official_plan):
    return oa.frontier(problem, optimal=optimal_plan, official=official_plan)


@pytest.fixture(scope="module")
def corr(problem, optimal_plan, official_plan):
    return oa.corridors(problem, 0.02, optimal=optimal_plan, official=official_plan)


@pytest.fixture(scope="module")
def alts(problem, optimal_plan, official_plan):
    return oa.alternatives(problem, 0.02, 3, optimal=optimal_plan, official=official_plan)


# ----- frontier -----


def test_frontier_runs_from_the_official_plan_to_the_optimum(front, optimal_plan):
    official = {i: info["official"] for i, info in DERIVED.items()}
    for measure in ("euros", "rows"):
        start, end = front.plans[(measure, 0.0)], front.plans[(measure, 1.0)]
        assert start.plan.levels.to_dict() == official  # exactly the document's plan
        assert front.table.at[(measure, 0.0), "euros_moved"] == 0.0
        assert raw_value(end) == pytest.approx(optimal_plan.integrations, rel=1e-8)
    assert front.gain == pytest.approx(optimal_plan.integrations - ic.integrations(RAW, RAW_RATES, official), rel=1e-9)


def test_more_gain_never_needs_less_change(front):
    euros = front.table.loc["euros"]
    rows = front.table.loc["rows"]
    assert list(euros.index) == [k / 10 for k in range(11)]
    assert (euros["euros_moved"].diff().dropna() >= -0.01).all()  # (each row's money is rounded to the cent)
    assert euros["euros_moved"].iloc[-1] > euros["euros_moved"].iloc[1] > 0
    assert rows["rows_touched"].is_monotonic_increasing
    assert rows["rows_touched"].iloc[-1] > rows["rows_touched"].iloc[1] > 0


def test_every_frontier_plan_keeps_every_rule_and_reaches_its_share(front):
    for (measure, share), sol in front.plans.items():
        assert_raw_feasible(sol)
        target = front.table.at[(measure, share), "target"]
        assert raw_value(sol) >= target - 1e-6, (measure, share)
        reported = front.table.at[(measure, share), "euros_moved"]
        official = {i: info["official"] for i, info in DERIVED.items()}
        # reported from whole cents per row: within a cent of each row's exact money
        assert reported == pytest.approx(raw_euros(sol.plan.levels, official), abs=0.01 * len(DERIVED))
        changed = front.changes[(front.changes["measure"] == measure) & (front.changes["share"] == share)]
        moved = {i for i, info in DERIVED.items() if sol.plan.levels[i] != info["official"]}
        assert set(changed["id"]) == moved and len(moved) == front.table.at[(measure, share), "rows_touched"]
        assert not moved & {i for i, info in DERIVED.items() if info["lo"] == info["hi"]}, "a fixed row moved"


def test_no_plan_reaching_a_share_moves_fewer_euros_or_fewer_rows(front, corr, alts, optimal_plan):
    """The least-euros point is least and the fewest-rows point fewest: every other plan found that reaches
    the same target (the other measure's, the corridors' ends, the alternatives) moves as many euros and
    touches as many rows."""
    official = {i: info["official"] for i, info in DERIVED.items()}
    others = [s.plan.levels for s in front.plans.values()] + [p.levels for p in corr.ends.values()]
    others += [s.plan.levels for s in alts.plans] + [optimal_plan.plan.levels]
    values = [ic.integrations(RAW, RAW_RATES, lv.to_dict()) for lv in others]
    compared = 0
    touched = [sum(1 for i in DERIVED if lv[i] != official[i]) for lv in others]
    for share in [k / 10 for k in range(11)]:
        least = raw_euros(front.plans[("euros", share)].plan.levels, official)
        fewest = front.table.at[("rows", share), "rows_touched"]
        target = front.table.at[("euros", share), "target"]
        for levels, value, rows in zip(others, values, touched):
            if value >= target:
                assert raw_euros(levels, official) >= least - 0.01, share
                assert rows >= fewest, share
                compared += 1
    assert compared > 50


@pytest.mark.parametrize("share", [0.3, 0.8])
def test_the_least_euros_agree_with_a_second_program(problem, front, share):
    """The same question put to CBC in a program written here: the least Σ cost × |Δ| (raw costs) over the plans
    that keep every rule and reach the share."""
    lp = build_lp(problem)
    inst = problem.instruments
    moves = []
    for iid in inst.index[~inst["fixed"]]:
        up, down = (lp.prob.add_variable(f"{d}_{iid}", lowBound=0) for d in ("more", "less"))
        lp.prob.addConstraint(lp.level[iid] - up + down == DERIVED[iid]["official"], f"d_{iid}")
        moves += [(up, COST[iid]), (down, COST[iid])]
    lp.prob.addConstraint(lp.integrations >= front.table.at[("euros", share), "target"], "reach")
    lp.prob.sense = pulp.LpMinimize
    lp.prob.setObjective(pulp.LpAffineExpression(moves))
    assert lp.prob.solve(make_solver("cbc")) == pulp.LpStatusOptimal
    least = float(pulp.value(lp.prob.objective))
    found = raw_euros(front.plans[("euros", share)].plan.levels, {i: d["official"] for i, d in DERIVED.items()})
    assert found == pytest.approx(least, rel=1e-6, abs=0.05)


def test_the_fewest_rows_are_fewest(problem, front):
    """Where the MILP needs two rows, no single row reaches the share: each row alone, the others at their
    official level, maximised in a fresh LP (PuLP's HiGHS: CBC's tolerance finds the official plan's exactly
    spent budget a hair infeasible)."""
    rows = front.table.loc["rows"]
    share = float(rows.index[rows["rows_touched"] == 2][0])
    target = front.table.at[("rows", share), "target"]
    inst = problem.instruments
    adjustable = list(inst.index[~inst["fixed"]])
    lp = build_lp(problem)
    best = 0.0
    for iid in adjustable:
        for other in adjustable:
            lo, hi = (DERIVED[other]["official"],) * 2 if other != iid else (inst.at[iid, "lower"], inst.at[iid, "upper"])
            lp.level[other].lowBound, lp.level[other].upBound = lo, hi
        assert lp.prob.solve(pulp.HiGHS(msg=False)) == pulp.LpStatusOptimal
        best = max(best, float(pulp.value(lp.integrations)))
    assert best < target
    assert front.table.at[("rows", share), "rows_touched"] == 2


def test_a_point_does_not_depend_on_the_grid(problem, front, optimal_plan, official_plan):
    alone = oa.frontier(problem, shares=(0.3,), optimal=optimal_plan, official=official_plan)
    for measure in ("euros", "rows"):
        a, b = alone.plans[(measure, 0.3)].plan.levels, front.plans[(measure, 0.3)].plan.levels
        assert (a - b).abs().max() < 1e-6, measure


def test_a_scenario_the_official_plan_breaks_starts_from_the_nearest_plan_that_keeps_every_rule():
    problem = oa.load(MODEL, scenarios=[ROOT / "scenarios" / "cut-5.yaml"])
    f = oa.frontier(problem, shares=(0.0, 0.5, 1.0))
    assert not f.official_feasible and f.start.feasible
    assert f.plans[("euros", 0.0)].plan.levels.equals(f.start.plan.levels)
    assert f.table.at[("euros", 1.0), "integrations"] == pytest.approx(f.optimal.integrations, rel=1e-8)
    for share in (0.0, 0.5, 1.0):
        assert f.plans[("rows", share)].feasible and f.plans[("euros", share)].feasible
    assert f.table.loc["euros", "euros_moved"].is_monotonic_increasing


# ----- corridors -----


def test_every_corridor_end_is_attainable_within_epsilon(corr, optimal_plan):
    assert corr.proven
    assert corr.floor == pytest.approx(0.98 * optimal_plan.integrations)
    assert len(corr.table) == sum(1 for info in DERIVED.values() if info["lo"] < info["hi"])
    for (iid, end), plan in corr.ends.items():
        levels = plan.levels.to_dict()
        assert ic.violations(RAW, levels, dict(plan.split)) == [], (iid, end)
        assert ic.integrations(RAW, RAW_RATES, levels) >= corr.floor - 1e-6, (iid, end)
        assert levels[iid] == corr.table.at[iid, end]


def test_no_plan_within_epsilon_goes_beyond_a_corridor_end(problem, corr):
    """Re-solved on CBC, a twentieth of an entry beyond each end that is not its row's bound: the most a plan
    reaches there is below the floor, or no plan keeps every rule."""
    inst = problem.instruments
    probed = 0
    for iid, row in corr.table.iterrows():
        for end, step in (("least", -0.05), ("most", 0.05)):
            if row[f"{end}_proof"] == "bound":
                assert row[end] == inst.at[iid, "lower" if end == "least" else "upper"]
                continue
            lp = build_lp(problem, fixed_levels={iid: row[end] + step})
            status = lp.prob.solve(make_solver("cbc"))
            assert status == pulp.LpStatusInfeasible or float(pulp.value(lp.integrations)) < corr.floor, (iid, end)
            probed += 1
    assert probed >= 10


def test_every_plan_within_epsilon_lies_inside_the_corridors(corr, alts, optimal_plan, official_plan):
    plans = {"optimal": optimal_plan, **{f"alt {k}": s for k, s in enumerate(alts.plans)}}
    if official_plan.integrations >= corr.floor:  # Duisburg: 3,290.4 ≥ 3,288.5
        plans["official"] = official_plan
    assert "official" in plans
    for name, sol in plans.items():
        for iid, row in corr.table.iterrows():
            assert row["least"] - 1e-6 <= sol.plan.levels[iid] <= row["most"] + 1e-6, (name, iid)


def test_a_corridor_end_on_the_fallback_box_is_marked(corr):
    box = RAW["assumptions"]["bounds"]
    marked = 0
    for iid, row in corr.table.iterrows():
        for end, share in (("least", box["min_share_of_official"]), ("most", box["max_share_of_official"])):
            own = DERIVED[iid]["row"].get("bounds") or {}
            on_box = row[end] == pytest.approx(share * DERIVED[iid]["official"]) and not own
            if row[f"{end}_box"]:
                assert on_box, (iid, end)
                assert row[f"{end}_by"] == "fallback box"
                marked += 1
    assert marked > 0


# ----- alternatives -----


def test_alternatives_keep_every_rule_within_epsilon(alts, optimal_plan):
    assert len(alts.plans) == 3
    for sol in alts.plans:
        assert_raw_feasible(sol)
        assert raw_value(sol) >= 0.98 * optimal_plan.integrations - 1e-6


def test_alternatives_differ_from_each_other_and_from_the_optimum(alts, corr, optimal_plan):
    plans = [optimal_plan] + list(alts.plans)
    names = ["optimal"] + [f"alternative {k}" for k in (1, 2, 3)]
    for a in range(len(plans)):
        for b in range(a + 1, len(plans)):
            raw = raw_euros(plans[a].plan.levels, plans[b].plan.levels)
            assert alts.distances.at[names[a], names[b]] == pytest.approx(raw, abs=0.01 * len(DERIVED))
            assert raw > 1e6, (names[a], names[b])
    # the first alternative is farther from the optimal plan than any corridor end's plan (each within ε)
    farthest_end = max(raw_euros(p.levels, optimal_plan.plan.levels) for p in corr.ends.values())
    assert raw_euros(alts.plans[0].plan.levels, optimal_plan.plan.levels) > farthest_end


def test_alternatives_side_by_side_in_the_official_shape(alts, optimal_plan):
    s = alts.summary
    names = ["official", "optimal", "alternative 1", "alternative 2", "alternative 3"]
    assert list(s.columns) == names
    assert alts.kennzahlen.at["total", "printed"] == 11258
    assert alts.areas["entries official"].sum() == 11264  # the priority areas' entries, as the README's table
    plans = [None, optimal_plan, *alts.plans]
    for name, sol in zip(names[1:], plans[1:]):
        assert s.at["expected integrations", name] == sol.integrations
        money = sum(COST[i] * float(sol.plan.levels[i]) for i in DERIVED)
        assert s.at["new money, all pools (€)", name] == pytest.approx(money, abs=0.01 * len(DERIVED))
        assert alts.levels[name].to_dict() == sol.plan.levels.to_dict()
        assert alts.instruments.at["fbw", f"entries {name}"] == pytest.approx(
            sum(float(sol.plan.levels[i]) for i in ("fbw", "fbw_u25", "fbw_reha")))  # FbW prints its parts in it
        assert s.at["€ moved from the optimal plan", name] == alts.distances.at["optimal", name]


# ----- command line -----


def test_the_corridors_print_their_time_their_proofs_and_the_box(corr):
    text = corridors_view(corr)
    for fragment in ("Near-optimal corridors", "84 warm re-solves in", "every end proven", "all 148 rules",
                     "the official plan, 3,290.4, is itself within it", "fbw", "policy:fbw_no_cut",
                     "at the fallback box (50–150 % of plan, an assumption with no source)", "not a finding"):
        assert fragment in text, fragment
    assert f"in {corr.seconds:.2f} s" in text


def test_alternatives_command_prints_and_writes_everything(tmp_path):
    """The frontier (two points) and one alternative, every file written (the corridors' view is tested above:
    the command prints the same)."""
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["alternatives", str(MODEL), "--steps", "1", "--count", "1", "--out", str(out),
                                       "--show", "frontier,changes,alternatives"])
    assert result.exit_code == 0, result.output
    text = result.output
    for fragment in ("Minimal-change frontier", "fewest rows (MILP)", "Which rows change, fewest rows touched",
                     "1 alternatives within 2.0 %", "all 148 constraints of alternative 1 hold"):
        assert fragment in text, fragment
    names = {p.name for p in out.iterdir()}
    assert {"frontier.csv", "frontier_changes.csv", "alternatives_summary.csv", "alternatives.json",
            "plan-alternative-1.csv", "frontier.png"} <= names
    assert (out / "frontier.png").read_bytes()[:4] == b"\x89PNG"
    doc = json.loads((out / "alternatives.json").read_text(encoding="utf-8"))
    assert len(doc["tables"]["frontier"]) == 4 and doc["epsilon"] == 0.02
    # the alternative's plan file reads back with solve --plan: every rule kept, the same value
    again = CliRunner().invoke(main, ["solve", str(MODEL), "--plan", str(out / "plan-alternative-1.csv")])
    assert again.exit_code == 0, again.output
    assert "✓ THE PLAN KEEPS ALL 148 RULES" in again.output
    value = doc["tables"]["alternatives_summary"][0]["alternative 1"]
    assert f"{value:,.1f}" in again.output


@pytest.mark.parametrize("args, fragment", [
    (["--epsilon", "150%"], "--epsilon: '150%'"),
    (["--epsilon", "zwei"], "--epsilon: 'zwei'"),
    (["--show", "corridor"], "unknown section(s) corridor"),
])
def test_alternatives_command_refuses_bad_arguments(args, fragment):
    result = CliRunner().invoke(main, ["alternatives", str(MODEL), *args])
    assert result.exit_code == 2, result.output
    assert fragment in result.output and "Traceback" not in result.output


# ----- small hand-made models -----


def _three_rows() -> tuple[dict, dict]:
    """Rows a and c at a rate of 0.5 (100 € and 150 € per entry), b at 0.4 (100 €), each within 5–15 entries;
    4,500 €. The official plan (10 entries each) spends 3,500 € for 14 integrations; the optimum, by hand: a and b
    to 15, c keeps 10 (4,500 €), 18.5 integrations."""
    from .test_properties import _model, _rates, _row

    return (_model([_row("a", 10, 1000.0), _row("b", 10, 1000.0, rate_class="c1"), _row("c", 10, 1500.0)], 4500.0),
            _rates(c0=0.5, c1=0.4))


def test_a_frontier_step_does_not_claim_the_least_money():
    """"least money for the optimum" is what solve --least-money plans are (the plan header says so, plan.json
    records it); a step of the minimal-change frontier is neither the optimum nor its least money. Halfway — at
    least half the gain, less than the optimum, valued by the raw reading (tests/raw_check.py) — neither its
    header nor its plan file may say so."""
    from optalloc.outputs.export import solution_files
    from optalloc.outputs.views import plan_header

    from . import raw_check as rc
    from .test_properties import problem_of

    pair = _three_rows()
    problem, reading = problem_of(pair), rc.read(pair[0], rates=pair[1])
    opt, off = oa.solve(problem), oa.official(problem)
    front = oa.frontier(problem, (0.5,), optimal=opt, official=off)
    start = rc.integrations(reading, {"a": 10.0, "b": 10.0, "c": 10.0})
    best = rc.integrations(reading, opt.plan.levels.to_dict())
    assert (start, best) == (pytest.approx(14.0), pytest.approx(18.5))
    for measure in ("euros", "rows"):
        half = front.plans[(measure, 0.5)]
        value = rc.integrations(reading, half.plan.levels.to_dict())
        assert start + (best - start) / 2 - 1e-8 <= value < best - 1e-6, (measure, value)
        assert not half.least_money and "least money" not in plan_header(half)
        assert json.loads(solution_files(half, off)["plan.json"])["least_money"] is False


def test_alternatives_of_a_model_without_kennzahlen():
    """Kennzahlen are optional (docs/model-format.md: "left out of the reports when absent"): the alternatives of a
    model without them are found all the same, each within 5 % of the optimum by the raw reading."""
    from . import raw_check as rc
    from .test_properties import problem_of

    pair = _three_rows()
    problem, reading = problem_of(pair), rc.read(pair[0], rates=pair[1])
    opt, off = oa.solve(problem), oa.official(problem)
    found = oa.alternatives(problem, 0.05, 2, optimal=opt, official=off)
    for plan in found.plans:
        assert rc.integrations(reading, plan.plan.levels.to_dict()) >= 0.95 * opt.integrations - 1e-9
