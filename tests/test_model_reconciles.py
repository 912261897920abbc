"""Issue 2: the Duisburg 2016 model reproduces its document, to the cent; broken figures are caught."""

from __future__ import annotations

from decimal import Decimal

import pytest
import yaml
from click.testing import CliRunner

from cli import main
from optalloc.model.budget import derive_budget
from optalloc.errors import InputFileError
from optalloc.model.loading import load_model
from optalloc.model.reconcile import EXPLAINED, OK, reconcile

from .conftest import MODEL, RATES


def test_budget_derivation_golden_figures(spec):
    b = derive_budget(spec.model)
    assert b.spendable_funds == Decimal("38939674.59")
    assert b.new_business == Decimal("23878495.16")
    assert b.pools["esf_lza"].available == Decimal("1065451.73")
    assert b.pools["refugee_t1"].available + b.pools["refugee_t2"].available == Decimal("1212750.00")


@pytest.fixture(scope="module")
def checks(spec):
    rec = reconcile(spec)
    assert rec.ok, rec.failures.to_string()
    return rec.checks.set_index("id")


# (area, printed entries, printed money, entries the rows add up to)
AREAS = [
    ("integration", 1513, 2989906.46, 1513),
    ("qualification", 3230, 12796974.34, 3234),
    ("long_term_receipt", 3420, 5906491.35, 3420),
    ("severely_disabled", 270, 391940.88, 270),
    ("single_parents", 152, 137141.33, 152),
    ("youth", 2100, 538436.15, 2102),
    ("migrants", 224, 127525.44, 224),
    ("refugees", 349, 1212750.00, 349),
]


@pytest.mark.parametrize("area,entries,money,rows", AREAS)
def test_priority_area_sums(checks, area, entries, money, rows):
    m = checks.loc[f"area:{area}:money"]
    assert m.printed == money and round(m.computed, 2) == money and m.status == OK
    e = checks.loc[f"area:{area}:entries"]
    assert e.printed == entries and e.computed == rows
    assert e.status == (OK if rows == entries else EXPLAINED)


def test_kennzahlen_grand_total(checks):
    total = checks.loc["kennzahlen:total"]
    assert total.printed == 11258
    assert total.computed == 11264 and total.status == EXPLAINED
    assert "BaE" in total.explanation
    assert checks.loc["tables:total"].computed == 11258  # equals the sum of the eight printed table sums
    purposes = {"I": 4666, "II": 1452, "III": 973, "V": 48, "VI": 3110, "VII": 656}
    for pid, printed in purposes.items():
        c = checks.loc[f"kennzahlen:{pid}"]
        assert c.computed == printed and c.status == OK
    assert checks.loc["kennzahlen:IV"].computed == 359 and checks.loc["kennzahlen:IV"].printed == 353


def test_vbl_parts_add_up_to_the_credit_within_a_cent(checks):
    c = checks.loc["vbl:sum"]
    assert c.printed == 3500905.59 and round(c.computed, 2) == 3500905.60 and c.status == EXPLAINED


def test_every_disagreement_is_explained(checks):
    explained = checks[checks.status == EXPLAINED]
    assert set(explained.index) == {
        "area:qualification:entries", "area:youth:entries", "kennzahlen:IV", "kennzahlen:total", "vbl:sum",
        "pool:soziale_teilhabe:share:st_health", "pool:soziale_teilhabe:share:st_single_parents",
    }
    assert all(len(e) > 40 for e in explained.explanation)


def test_validate_command_prints_the_golden_figures():
    result = CliRunner().invoke(main, ["validate", str(MODEL)])
    assert result.exit_code == 0, result.output
    for figure in ("38,939,674.59", "23,878,495.16", "11,258", "3,500,905.59", "The model reproduces its document."):
        assert figure in result.output


def _write(tmp_path, raw):
    (tmp_path / "rates").mkdir(exist_ok=True)
    (tmp_path / "rates" / "sgb2-defaults.yaml").write_text(RATES.read_text(encoding="utf-8"), encoding="utf-8")
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _raw():
    return yaml.safe_load(MODEL.read_text(encoding="utf-8"))


def test_a_broken_money_figure_fails_and_names_the_field(tmp_path):
    raw = _raw()
    egz = next(r for r in raw["instruments"] if r["id"] == "egz")
    egz["new_funds"] = 1360369.42
    path = _write(tmp_path, raw)
    rec = reconcile(load_model(path))
    assert not rec.ok
    assert list(rec.failures.id) == ["area:integration:money"]
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    assert "areas[0] (integration).printed.money" in result.output
    assert "2,989,906.47" in result.output


def test_a_broken_budget_figure_fails_and_names_the_field(tmp_path):
    raw = _raw()
    raw["budget"]["commitments"] = 15061179.34
    result = CliRunner().invoke(main, ["validate", str(_write(tmp_path, raw))])
    assert result.exit_code == 1
    assert "budget.printed.new_business" in result.output


def test_a_stale_discrepancy_fails(tmp_path):
    raw = _raw()
    bae = next(r for r in raw["instruments"] if r["id"] == "bae")
    bae["places"] = 52  # now entries and places agree: the recorded explanation no longer reproduces
    rec = reconcile(load_model(_write(tmp_path, raw)))
    assert "area:qualification:entries" in set(rec.failures.id)


def test_a_negative_cost_is_refused_naming_file_field_and_value(tmp_path):
    raw = _raw()
    raw["instruments"][1]["new_funds"] = -5
    path = _write(tmp_path, raw)
    with pytest.raises(InputFileError) as err:
        load_model(path)
    msg = str(err.value)
    assert str(path) in msg and "instruments[1] (egz).new_funds" in msg and "-5" in msg and "greater than or equal to 0" in msg
