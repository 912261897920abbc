"""Issue 13: any plan can be evaluated like the official one (``solve --plan FILE``, ``oa.evaluate``).

A plan file's figures are compared with the raw checker (tests/independent_check.py): the rules it breaks
and by how much are recomputed from the model file; bad files get one clear line and exit 1.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import optalloc as oa
from cli import main
from optalloc.outputs.export import write_solution
from optalloc.analyses.planfile import read_plan_file

from . import independent_check as ic
from .conftest import MODEL, RATES, raw_yaml
from .helpers import assert_one_clear_line

RAW = raw_yaml(MODEL)
RAW_RATES = raw_yaml(RATES)
DERIVED = ic.derive(RAW)
OFFICIAL = {i: info["official"] for i, info in DERIVED["rows"].items()}


def run(*args: str):
    return CliRunner().invoke(main, ["solve", str(MODEL), *args])


@pytest.fixture(scope="module")
def written(tmp_path_factory, optimal_plan, official_plan):
    """What ``solve --out`` writes for the optimal plan: plan.json and levels.csv among the tables."""
    folder = tmp_path_factory.mktemp("solved")
    write_solution(folder, optimal_plan, official_plan)
    return folder


@pytest.mark.parametrize("name", ["plan.json", "levels.csv"])
def test_the_optimal_plan_written_by_solve_reads_back_as_the_optimum(problem, written, optimal_plan, official_plan,
                                                                     name):
    checked = oa.evaluate(problem, written / name, optimal=optimal_plan, official=official_plan)
    assert checked.ok and checked.broken.empty
    assert checked.solution.integrations == pytest.approx(optimal_plan.integrations, rel=1e-12)
    assert checked.solution.plan.levels.to_dict() == pytest.approx(optimal_plan.plan.levels.to_dict())
    assert checked.share_of_gain == pytest.approx(1.0)
    if name == "levels.csv":  # it lists the rows the optimiser may change: the fixed ones keep their level
        assert set(checked.plan.kept) == {i for i, info in DERIVED["rows"].items() if info["lo"] == info["hi"]}


def test_a_plan_that_keeps_every_rule_is_marked_so(written):
    result = run("--plan", str(written / "plan.json"))
    assert result.exit_code == 0, result.output
    assert "✓ THE PLAN KEEPS ALL 148 RULES" in result.output
    assert "100.0 % of the attainable gain" in result.output


def test_a_broken_plan_names_each_rule_and_by_how_much(tmp_path):
    """Two hundred FbW more: the Bildungszielplanung and the new-business budget break, by figures recomputed
    from the model file; AVGS-MPAV below the fallback box breaks only an assumption, and says so."""
    plan = tmp_path / "more-fbw.csv"
    plan.write_text("id,level,note\nfbw,1500,more further training\navgs_mpav,140,\n", encoding="utf-8")
    result = run("--plan", str(plan))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "✗ THE PLAN BREAKS 3 OF 148 RULES" in out and "1 of them only the fallback box's" in out
    levels = dict(OFFICIAL, fbw=1500.0, avgs_mpav=140.0)
    problems = ic.violations(RAW, levels, {})
    assert any(p.startswith("policy training_frame") for p in problems)
    assert any(p.startswith("pool egt") for p in problems)
    frame = 1500 + OFFICIAL["fbw_u25"] + OFFICIAL["fbw_reha"] + OFFICIAL["fbw_refugees"] - 1452
    egt = DERIVED["egt"]
    used = sum(per * levels[i] for i, info in DERIVED["rows"].items() for per, pools in info["costs"] if pools == (egt,))
    over = used - DERIVED["pools"][egt]
    assert f"{frame:,.0f} entries over" in out
    assert f"{over:,.2f} € over" in out
    assert "10 entries short" in out and "only the fallback box" in out
    assert "policy:training_frame" in out and "budget:new_business" in out


def test_the_api_lists_broken_rules_with_their_amounts(problem, optimal_plan, official_plan):
    """E & K Pflege above its contract's 76.8 entries (64 × 1.2, a real limit); EGZ below half its plan (its
    minimum is only the fallback box's: its maximum is the employers' posts)."""
    levels = {"ek_pflege": 80.0, "egz": 290.0}
    checked = oa.evaluate(problem, levels, optimal=optimal_plan, official=official_plan)
    assert not checked.ok
    b = checked.broken
    assert set(b.index) == {"entries_max:ek_pflege", "entries_min:egz"}
    assert b.loc["entries_max:ek_pflege", "by"] == pytest.approx(80 - 64 * 1.2)
    assert b.loc["entries_max:ek_pflege", "direction"] == "over" and not b.loc["entries_max:ek_pflege", "box"]
    box = RAW["assumptions"]["bounds"]["min_share_of_official"]
    assert b.loc["entries_min:egz", "by"] == pytest.approx(box * OFFICIAL["egz"] - 290)
    assert b.loc["entries_min:egz", "direction"] == "short" and b.loc["entries_min:egz", "box"]
    raw = ic.violations(RAW, dict(OFFICIAL, **levels), dict(checked.solution.plan.split))
    assert [p.split(":")[0] for p in raw] == ["bounds egz", "capacity ek_pflege"]


def test_integer_checks_whole_lots(problem, tmp_path, optimal_plan, official_plan):
    """E & K Pflege is bought in modules of 16: 70 entries is not a whole number of them, 64 is."""
    plan = tmp_path / "lots.json"
    plan.write_text(json.dumps({"plan": {"ek_pflege": {"level": 70}, "oa_fm": {"level": 64}}}), encoding="utf-8")
    checked = oa.evaluate(problem, plan, integer=True, optimal=optimal_plan, official=official_plan)
    assert "lot:ek_pflege" in checked.broken.index and not checked.broken.index.str.contains("oa_fm").any()
    raw = ic.violations(RAW, checked.solution.plan.levels.to_dict(), dict(checked.solution.plan.split), integer=True)
    assert "lot ek_pflege: 70.0 is not a whole number of lots of 16" in raw and not any("oa_fm" in r for r in raw)
    assert "lot:ek_pflege" not in oa.evaluate(problem, plan, optimal=optimal_plan, official=official_plan).broken.index


def test_least_money_with_a_plan_is_wrong_usage(written):
    result = run("--plan", str(written / "plan.json"), "--least-money")
    assert result.exit_code == 2 and "--least-money" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("name, content, field, fragments", [
    ("unknown.csv", "id,level\nfbw2,1300\n", "line 2, column id", ["'fbw2'", "did you mean 'fbw'?"]),
    ("info.csv", "id,level\nagh_sb,3\n", "line 2, column id", ["information only"]),
    ("text.csv", "id,level\nfbw,viele\n", "line 2 (fbw), column level", ["'viele'", "a plain number ≥ 0"]),
    ("german.csv", 'id,level\nfbw,"1.234,5"\n', "line 2 (fbw), column level", ["'1.234,5'"]),
    ("nan.csv", "id,level\nfbw,nan\n", "line 2 (fbw), column level", ["'nan'"]),
    ("huge.csv", "id,level\nfbw,1e400\n", "line 2 (fbw), column level", ["inf"]),
    ("negative.csv", "id,level\nfbw,-3\n", "line 2 (fbw), column level", ["-3.0", "≥ 0"]),
    ("empty_cell.csv", "id,level\nfbw,\n", "line 2 (fbw), column level", ["''"]),
    ("twice.csv", "id,level\nfbw,1300\nfbw,1310\n", "line 3, column id", ["'fbw'", "each instrument once"]),
    ("no_level.csv", "id,entries\nfbw,1300\n", "header", ["a column 'level'"]),
    ("empty.csv", "", "", ["empty"]),
    ("string.json", '{"plan": {"fbw": {"level": "1305"}}}', "plan.fbw.level", ["'1305'", "a plain number"]),
    ("bool.json", '{"fbw": true}', "fbw", ["true"]),
    ("null.json", '{"plan": {"fbw": {"level": null}}}', "plan.fbw.level", ["null"]),
    ("nan.json", '{"fbw": NaN}', "fbw", ["nan"]),
    ("no_level.json", '{"plan": {"fbw": {"entries": 3}}}', "plan.fbw", ["a field level"]),
    ("twice.json", '{"fbw": 1300, "fbw": 1310}', "fbw", ["given twice"]),
    ("broken.json", '{"fbw": 1300', "line 1 column 13", ["delimiter", "valid JSON"]),
    ("list.json", "[1300]", "(top level)", ["a mapping of instrument ids"]),
    ("nothing.json", "{}", "", ["at least one instrument"]),
    ("plan.txt", "fbw 1300", "", ["'.txt'", "a plan file ending in .csv"]),
])
def test_a_bad_plan_file_is_refused_naming_file_field_value_and_what_is_allowed(problem, tmp_path, name, content,
                                                                                field, fragments):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(oa.InputFileError) as refused:
        read_plan_file(path, problem)
    line = str(refused.value)
    assert "\n" not in line and line.startswith(f"{path}: {field}" if field else str(path)), line
    assert " — " in line and line.split(" — ", 1)[1].strip()
    for fragment in fragments:
        assert fragment in line, (fragment, line)


@pytest.mark.parametrize("name, content, field, fragment", [
    ("unknown.csv", "id,level\nfbw2,1300\n", "line 2, column id", "did you mean 'fbw'?"),
    ("german.json", '{"plan": {"fbw": {"level": "1.234,5"}}}', "plan.fbw.level", "'1.234,5'"),
    ("nowhere.csv", None, "", "an existing plan file"),
])
def test_the_command_gives_one_clear_line_and_exit_1(tmp_path, name, content, field, fragment):
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert_one_clear_line(run("--plan", str(path)), f"{path}: {field}" if field else str(path), [fragment])
