"""Bad scenario files: one clear line naming the scenario file, the field, the value and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

from .conftest import MODEL
from .helpers import assert_one_clear_line

BAD = Path(__file__).resolve().parent / "bad_scenarios"

EXPECTED = {
    "unknown_instrument.yaml": ("instruments.fbx: 'fbx'", "did you mean 'fbw'?"),
    "unknown_field.yaml": ("budget.cut_shares", "unknown field; did you mean 'cut_share'?"),
    "german_number.yaml": ("budget.cut_amount: '1.000.000,00'", "a plain number such as 1000000.00"),
    "share_above_one.yaml": ("budget.cut_share: 1.5", "less than or equal to 1"),
    "prepaid_grows.yaml": ("instruments.asa.max: 100.0", "at most the 48 entries printed"),
    "shared_pools.yaml": ("instruments.agh_mae_u25.pools", "change the pools of agh_mae"),
    "unknown_pool.yaml": ("pools.refugee_t3: 'refugee_t3'", "did you mean 'refugee_t2'?"),
    "min_above_max.yaml": ("instruments.egz", "min (900) is above max (500)"),
    "coverage_without_group.yaml": ("coverage.women_share", "needs 'group'"),
    "not_a_mapping.yaml": ("top level", "a scenario file is a YAML mapping"),
    # issue 17: hostile or meaningless input
    "alias_bomb.yaml": ("line 9, column 10", "more than 1,000,000 values"),
    "amount_three_decimals.yaml": ("pools.refugee_t2.amount: 539000.005", "euros to the cent"),
    "cut_whole_budget.yaml": ("budget —", "makes 0.00 € available", "a plan needs more than 0 €",
                              "(applied to "),
    "gross_rate_negative.yaml": ("instruments.egz.rate.gross: -0.5", "a share from 0 to 1"),
    "nan_minimum.yaml": ("instruments.fbw.min: nan", "a finite number"),
    "octal_maximum.yaml": ("line 4, column 14: '0700'", "the octal number 448; write 700"),
    "rate_factor_above_one.yaml": ("instruments.egz.rate_factor: 100.0", "keeps the gross rate", "within 0 to 1",
                                   "at most"),
    "rate_factor_money_only_row.yaml": ("instruments.mag.rate_factor: 2.0", "kept as printed",
                                        "its rate would be ignored"),
    "rate_for_money_only_row.yaml": ("instruments.vb.rate —", "its rate would be ignored"),
    "reserve_whole_budget.yaml": ("budget —", "makes 0.00 € available"),
}


def test_every_bad_scenario_has_an_expectation():
    assert {p.name for p in BAD.glob("*.yaml")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_scenario_gets_one_clear_line(name):
    path = BAD / name
    result = CliRunner().invoke(main, ["solve", str(MODEL), "-s", str(path), "--show", "none"])
    assert_one_clear_line(result, path, EXPECTED[name])
