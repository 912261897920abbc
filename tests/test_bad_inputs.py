"""Every bad input file gets ONE clear line — file, field path, value, what is allowed — and exit status 1.

The files live in ``tests/bad_inputs/``: each ``*.yaml`` there is a model file run through ``optalloc
validate``; the bad rates files in ``bad_inputs/rates/`` are reached through the model files
``rates_<name>.yaml`` that name them. A new file is picked up by the glob and must get an entry in
``EXPECTED`` (the fragments its message must contain), so that no message is checked as just "some error".
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

from .helpers import assert_one_clear_line

BAD = Path(__file__).resolve().parent / "bad_inputs"
FILES = sorted(BAD.glob("*.yaml"))
RATES_FILES = sorted((BAD / "rates").glob("*.yaml"))

# file name → fragments the message must contain: the field path (or line) first, then what is allowed.
EXPECTED: dict[str, tuple[str, ...]] = {
    "absurd_value_1e15.yaml": ("budget.egt_allocation: 1000000000000000.0", "a number from 0 to 10,000,000,000"),
    "area_not_defined.yaml": ("instruments[0] (egz).area: 'qualification'", "an area defined under 'areas'",
                              "integration, long_term_receipt, youth"),
    "boolean_where_number.yaml": ("instruments[0] (egz).entries: true", "a number, not true/false"),
    "bounds_min_above_max.yaml": ("instruments[0] (egz).bounds —", "min (800) is above max (400)"),
    "cap_above_100_percent.yaml": ("caps[0] (fav_free_16e_16f).max_share: 1.2", "a share from 0 to 1",
                                   "1.2 is 120 %"),
    "capacity_factor_without_capacity.yaml": ("instruments[0] (egz) —", "'capacity_factor' multiplies a capacity of "
                                              "the row's own (places, contract or posts); this row has none"),
    "coverage_group_not_defined.yaml": ("coverage[0] (u25_share).group: 'youth'", "a group defined under 'groups'",
                                        "long_term, market_close, u25"),
    "coverage_min_count_text.yaml": ("coverage[0] (u25_share).min_count: 'viele'", "a number or 'official'"),
    "coverage_min_share_negative.yaml": ("coverage[0] (u25_share).min_share: -0.195", "a share from 0 to 1"),
    "date_unquoted.yaml": ("meta.document_date: '2016-02-25'", "text (in quotes"),
    "duplicate_instrument_id.yaml": ("instruments[1].id: 'egz'", "ids must be unique within 'instruments'",
                                     "already used by instruments[0]"),
    "duplicate_yaml_key.yaml": ("line 56, column 5", "key 'entries' appears twice", "first on line 55"),
    "empty.yaml": ("the file is empty", "a model file is a YAML mapping of sections"),
    "entries_fractional.yaml": ("instruments[0] (egz).entries: 12.5", "a whole number"),
    "exponent_without_dot.yaml": ("budget.egt_allocation: '1e7'", "write 1.0e+7", "or 10000000"),
    "financing_unknown.yaml": ("instruments[0] (egz).financing: 'neu'", "did you mean 'new'?",
                               "one of: external, info, money_only, new,"),
    "german_number_string.yaml": ("instruments[0] (egz).new_funds: '1.360.369,41'",
                                  "a plain number such as 1360369.41"),
    "german_number_unquoted.yaml": ("instruments[0] (egz).new_funds: '1.360.369,41'",
                                    "a plain number such as 1360369.41"),
    "group_not_defined.yaml": ("instruments[0] (egz).groups: 'refugees'", "a group defined under 'groups'"),
    "group_share_above_one.yaml": ("instruments[0] (egz).groups.market_close: 1.5", "a share from 0 to 1"),
    "id_uppercase.yaml": ("instruments[0] (EGZ).id: 'EGZ'", "an id of lower-case letters, digits and '_'"),
    "infinite_value.yaml": ("budget.egt_allocation: inf", "a finite number"),
    "instruments_empty.yaml": ("instruments: []", "at least 1 item"),
    "instruments_mapping.yaml": ("instruments: {egz: ...}", "a list (one item per line, each starting with '- ')"),
    "kennzahl_line_unknown.yaml": ("instruments[0] (egz).kennzahl: 'III.esg'", "a line of the Kennzahlen table",
                                   "did you mean 'III.egz'?"),
    "kennzahl_number.yaml": ("instruments[0] (egz).kennzahl: 3", "text or a mapping"),
    "kennzahl_wrong_purpose.yaml": ("kennzahlen.purposes[2] (VI).lines[0].id: 'III.agh_mae'",
                                    "a line of purpose VI starts with 'VI.'"),
    "lot_size_outside_bounds.yaml": ("instruments[1] (ek_pflege).lot_size: 16", "whole number of lots",
                                     "bounds.min 65 and bounds.max 79"),
    "malformed_yaml.yaml": ("line 22, column 5", "not valid YAML", "flow mapping that starts on line 21"),
    "max_places_on_money_only.yaml": ("instruments[1] (mag) —", "a 'money_only' row has no entries, so no places to "
                                      "limit: leave out 'max_places'"),
    "missing_rates_file_field.yaml": ("meta.rates_file: missing", "required field"),
    "missing_required_name.yaml": ("instruments[1] (ek_pflege).name: missing", "required field"),
    "money_in_missing_row.yaml": ("instruments[3] (agh_u25).money_in: 'agh_mea'", "the id of another instrument row",
                                  "did you mean 'agh_mae'?"),
    "money_in_not_new.yaml": ("instruments[3] (agh_u25).money_in: 'st_health'", "a row with financing new"),
    "nan_cost.yaml": ("instruments[0] (egz).new_funds: nan", "a finite number (not NaN or infinity)"),
    "negative_cost.yaml": ("instruments[0] (egz).new_funds: -1360369.41", "a number from 0 to 10,000,000,000"),
    "not_utf8.yaml": ("line 15, column 31", "byte 0xfc is not UTF-8", "save the model file as UTF-8"),
    "null_required.yaml": ("instruments[1] (ek_pflege).name: null", "text (the field is empty)"),
    "planning_share_percent.yaml": ("pools[1] (refugee_t1).planning_share: 90", "a share from 0 to 1",
                                    "write 0.9"),
    "pool_amount_and_derived.yaml": ("pools[0] (egt) —", "exactly one of 'amount' (a number) or 'derived"),
    "pool_not_defined.yaml": ("instruments[4] (st_health).pools[0]: 'esf_lza'", "a pool defined under 'pools'",
                              "egt, refugee_t1, soziale_teilhabe"),
    "programme_without_pools.yaml": ("instruments[4] (st_health) —", "a 'programme' row needs 'pools'"),
    "rate_class_unknown.yaml": ("instruments[0] (egz).rate_class: 'wage_subsidy'", "a class of ",
                                "sgb2-defaults.yaml: one of: abh, activation"),
    "rates_assumption_without_anchor.yaml": ("classes.activation.gross —", "an 'assumption' needs 'anchor'"),
    "rates_file_missing.yaml": ("meta.rates_file: 'rates/does-not-exist.yaml'", "no such file",
                                "relative to the model file"),
    "rates_missing_net.yaml": ("classes.egz.net: missing", "required field"),
    "rates_rate_as_percent.yaml": ("classes.egz.gross.value: 70", "a share from 0 to 1", "write 0.7"),
    "rates_status_unknown.yaml": ("classes.egz.gross.status: 'estimated'", "one of: assumption, sourced"),
    "rates_value_outside_range.yaml": ("classes.egz.gross —", "value 0.9 lies outside its range [0.55, 0.75]",
                                       "between 'low' and 'high'"),
    "string_where_number.yaml": ("instruments[0] (egz).entries: 'ca. 300'", "a number"),
    "tab_indentation.yaml": ("line 58, column 1", "not valid YAML", "indent with spaces, not tabs"),
    "top_level_list.yaml": ("top level —", "is a list", "a model file is a YAML mapping of sections"),
    "unhashable_key.yaml": ("line 13, column 5", "not valid YAML: found unhashable key"),
    "unknown_field_budget.yaml": ("budget.egt_alocation", "unknown field; did you mean 'egt_allocation'?",
                                  "allowed here: commitments, egt_allocation,"),
    "unknown_field_new_fund.yaml": ("instruments[0] (egz).new_fund", "unknown field; did you mean 'new_funds'?",
                                    "allowed here: area, bounds,"),
    "unknown_section_instrument.yaml": ("instrument: 'instrument'", "unknown field; did you mean 'instruments'?"),
    "year_two_digits.yaml": ("meta.year: 16", "a whole number from 2005 to 2100"),
    # issue 17: hostile or meaningless input (tests/test_hostile.py holds the cases generated at run time)
    "alias_bomb.yaml": ("line 9, column 10", "more than 1,000,000 values", "each alias (*name)"),
    "alias_recursive.yaml": ("line 52, column 21: '*me'", "an alias inside the value it names"),
    "base60_number.yaml": ("line 65, column 14: '1:04'", "YAML reads 1:04 as a number in base 60 (64)"),
    "budget_all_zero.yaml": ("budget —", "makes 0.00 € available", "a plan needs more than 0 €"),
    "budget_negative.yaml": ("budget —", "makes -8,961,060,325.41 € available",
                             "commitments 9,000,000,000.00 €", "a plan needs more than 0 €"),
    "chained_counting.yaml": ("instruments[3] (agh_u25).entries_in: 'ek_pflege'",
                              "not itself counted in another (ek_pflege is counted in egz): name egz"),
    "discrepancy_equal_figures.yaml": ("discrepancies[0] —", "printed and computed are both 3074",
                                       "two figures that differ"),
    "discrepancy_infinite_tolerance.yaml": ("discrepancies[0].tolerance: inf", "a finite number"),
    "discrepancy_nan.yaml": ("discrepancies[0].printed: nan", "a finite number (not NaN or infinity)"),
    "discrepancy_tolerance_too_wide.yaml": ("discrepancies[0] —", "tolerance 1000 exceeds the recorded difference 150"),
    "gross_rate_override_negative.yaml": ("instruments[0] (egz).rate.gross: -0.5", "greater than or equal to 0",
                                          "a share from 0 to 1"),
    "merge_key_overridden_twice.yaml": ("line 69, column 47", "key 'long_term' appears twice"),
    "money_three_decimals.yaml": ("instruments[0] (egz).new_funds: 1360369.414999", "euros to the cent",
                                  "has 6"),
    "nested_too_deep.yaml": ("line 52, column 72", "nested more than 64 levels deep"),
    "octal_number.yaml": ("line 61, column 19: '061'", "YAML reads 061 as the octal number 49; write 61"),
    "pool_listed_twice.yaml": ("instruments[4] (st_health).pools[1]: 'soziale_teilhabe'", "each pool once"),
    "pool_max_places_zero.yaml": ("pools[2] (soziale_teilhabe).max_places: 0", "a whole number from 1 to"),
    "printed_percent_nan.yaml": ("pools[1] (refugee_t1).printed.available_percent: nan", "a finite number"),
    "priority_infinite.yaml": ("priorities.u25: inf", "a finite number"),
    "range_nan.yaml": ("assumptions.bounds.range.min_share_of_official[0]: nan", "a finite number"),
    "range_reversed.yaml": ("assumptions.bounds —", "[2, 1.2]", "low at most high"),
    "rate_for_money_only_row.yaml": ("instruments[0] (vb) —", "no entries, so no rate", "it would be ignored"),
    "rates_gross_rate_negative.yaml": ("classes.egz.gross.value: -0.5", "greater than or equal to 0",
                                       "a share from 0 to 1"),
    "rates_net_effect_infinite.yaml": ("classes.egz.net.value: inf", "a finite number"),
    "rates_rate_octal.yaml": ("line 30, column 12: '00'", "the octal number 0; write 0"),
    "reserve_share_whole_budget.yaml": ("budget —", "makes 0.00 € available", "less the reserve 23,878,495.16 €"),
    "reserved_above_amount.yaml": ("pools[1] (refugee_t1).reserved —", "the reserved parts (900,000.00 €) exceed"),
}


def _names_rates_file(path: Path) -> Path | None:
    """The bad rates file a ``rates_<name>.yaml`` model file is there to reach, if it is one of those."""
    candidate = BAD / "rates" / path.name.removeprefix("rates_")
    return candidate if path.name.startswith("rates_") and candidate.exists() else None


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_a_bad_file_gets_one_clear_line(runner: CliRunner, path: Path) -> None:
    assert path.name in EXPECTED, f"add {path.name!r} to EXPECTED with the fragments its message must contain"
    result = runner.invoke(main, ["validate", str(path)])
    assert_one_clear_line(result, _names_rates_file(path) or path, EXPECTED[path.name])


def test_every_expectation_has_its_file() -> None:
    assert sorted(EXPECTED) == [p.name for p in FILES]


@pytest.mark.parametrize("path", RATES_FILES, ids=[p.name for p in RATES_FILES])
def test_every_bad_rates_file_is_reached_by_a_model_file(path: Path) -> None:
    assert (BAD / f"rates_{path.name}").exists(), f"add bad_inputs/rates_{path.name} naming rates/{path.name}"


def test_every_file_says_what_is_wrong() -> None:
    """A first-line comment in each file, or a row in README.md for the files that cannot hold one."""
    readme = (BAD / "README.md").read_text(encoding="utf-8")
    for path in [*FILES, *RATES_FILES]:
        try:
            first = path.read_text(encoding="utf-8").split("\n", 1)[0]
        except UnicodeDecodeError:
            first = ""
        if not first.startswith("# BAD: "):
            assert f"`{path.name}`" in readme, f"{path.name}: no '# BAD: ...' first line and no row in README.md"
