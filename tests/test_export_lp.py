"""The exported LP and MPS files, re-solved by bare highspy, give optalloc's optimum: the sense is kept.

PuLP's ``writeMPS`` keeps a maximisation only as a comment unless told (design notes §7); a reader of such
a file minimises. These tests read the files with HiGHS alone — no PuLP, no optalloc — and compare the
optimum with the plan ``optalloc solve`` prints (Duisburg: 3,355.7), and show that the file without its
sense gives another answer.
"""

from __future__ import annotations

from pathlib import Path

import highspy
import pytest
from click.testing import CliRunner

from cli import main
from optalloc.api import load, solve

ROOT = Path(__file__).resolve().parent.parent
DUISBURG = ROOT / "models" / "duisburg-2016.yaml"
EXAMPLE = ROOT / "models" / "example-money-only.yaml"


def _highs_optimum(path: Path) -> tuple[str, float, highspy.ObjSense]:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    assert h.readModel(str(path)) == highspy.HighsStatus.kOk
    h.run()
    return h.modelStatusToString(h.getModelStatus()), h.getInfo().objective_function_value, h.getLp().sense_


@pytest.fixture(scope="module")
def duisburg_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    lp_file, mps_file = folder / "plan.lp", folder / "plan.mps"
    result = CliRunner().invoke(main, ["export", str(DUISBURG), "--lp", str(lp_file), "--mps", str(mps_file)])
    assert result.exit_code == 0, result.output
    return lp_file, mps_file


def test_exported_lp_and_mps_give_the_same_optimum(duisburg_files, optimal_plan):
    for path in duisburg_files:
        status, value, sense = _highs_optimum(path)
        assert status == "Optimal" and sense == highspy.ObjSense.kMaximize, path
        assert value == pytest.approx(optimal_plan.integrations, rel=1e-9), path
        assert round(value, 1) == 3355.7
    assert duisburg_files[1].read_text(encoding="utf-8").startswith("OBJSENSE\n MAX\n")


def test_the_money_only_example_exports_its_optimum_too(tmp_path):
    path = tmp_path / "ex.mps"
    assert CliRunner().invoke(main, ["export", str(EXAMPLE), "--mps", str(path)]).exit_code == 0
    assert _highs_optimum(path)[1] == pytest.approx(solve(load(EXAMPLE)).integrations, rel=1e-9)


def test_without_its_sense_the_mps_file_would_be_minimised(tmp_path, duisburg_files):
    """The trap the export avoids: the same file without OBJSENSE is read as a minimisation."""
    path = duisburg_files[1]
    stripped = tmp_path / "stripped.mps"
    stripped.write_text(path.read_text(encoding="utf-8").replace("OBJSENSE\n MAX\n", ""), encoding="utf-8")
    status, value, sense = _highs_optimum(stripped)
    assert sense == highspy.ObjSense.kMinimize and value < 3355.0


def test_export_needs_a_file(tmp_path):
    result = CliRunner().invoke(main, ["export", str(DUISBURG)])
    assert result.exit_code == 2 and "--lp FILE, --mps FILE or both" in result.output
