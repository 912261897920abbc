"""Excel out and in: a plan's workbook holds the CSV's figures to the cent; a planning workbook imports into a
model that validates, round-trips, and a wrong one gets one line naming the sheet, the row and the column."""

from __future__ import annotations

import datetime
import io
import math
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from cli import main
from optalloc.outputs.excel import EURO, workbook
from optalloc.model.importer import import_workbook, model_workbook
from optalloc.outputs.reports import compare
from optalloc.model.template import template_text

from .helpers import assert_one_clear_line

ROOT = Path(__file__).resolve().parent.parent
DUISBURG = ROOT / "models" / "duisburg-2016.yaml"
EXAMPLE = ROOT / "models" / "example-money-only.yaml"


def _sheet(book, name: str) -> pd.DataFrame:
    rows = list(book[name].iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def _same_figures(csv: pd.DataFrame, sheet: pd.DataFrame, table: str) -> None:
    """Every number of the CSV is in the sheet's cell of the same row and column, money to the cent."""
    csv = csv.reset_index()
    sheet = sheet.set_index(sheet.columns[0]).reindex([str(v) for v in csv.iloc[:, 0]] if sheet.iloc[:, 0].dtype
                                                      == object else csv.iloc[:, 0]).reset_index()
    assert len(csv) == len(sheet), table
    for column in csv.columns[1:]:
        assert column in sheet.columns, (table, column)
        for k, (a, b) in enumerate(zip(csv[column], sheet[column])):
            if isinstance(a, float) and math.isnan(a):
                assert b is None or b == "" or (isinstance(b, float) and math.isnan(b)), (table, column, k, b)
            elif isinstance(a, (int, float)) and not isinstance(a, bool):
                if math.isinf(a):
                    assert b in ("∞", "−∞"), (table, column, k, b)
                    continue
                assert isinstance(b, (int, float)), (table, column, k, a, b)
                assert round(a, 2) == round(b, 2) and math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12), (
                    table, column, k, a, b)


def test_solve_workbook_has_the_csvs_figures_to_the_cent(tmp_path, optimal_plan, official_plan):
    """Duisburg's tables written both ways (as `solve --out DIR` and `--out plan.xlsx` do) hold the same figures."""
    from optalloc.outputs.excel import assumptions_table
    from optalloc.outputs.export import write_solution

    folder, book_path = tmp_path / "csv", tmp_path / "plan.xlsx"
    tables = compare(optimal_plan, official_plan)
    write_solution(folder, optimal_plan, official_plan, tables)
    book_path.write_bytes(workbook({**tables.tables(), "assumptions": assumptions_table(optimal_plan.problem)}))
    book = openpyxl.load_workbook(book_path)
    assert book.sheetnames == ["summary", "instruments", "areas", "kennzahlen", "budget", "constraints", "bounds",
                               "levels", "assumptions"]
    for name in book.sheetnames[:-1]:
        csv = pd.read_csv(folder / f"{name}.csv", index_col=0, keep_default_na=True)
        _same_figures(csv, _sheet(book, name), name)
    # the official plan's 3,290.4 and the optimal 3,355.7, and the money to the cent
    summary = _sheet(book, "summary").set_index("index")
    assert round(summary.at["expected integrations", "official"], 1) == 3290.4
    assert round(summary.at["expected integrations", "plan"], 1) == 3355.7
    assert summary.at["new money, all pools (€)", "plan"] == 26_580_478.85


def test_workbook_is_formatted_for_reading(tmp_path):
    from optalloc.api import load, official, solve

    path = tmp_path / "plan.xlsx"
    result = CliRunner().invoke(main, ["solve", str(EXAMPLE), "--show", "none", "--out", str(path)])
    assert result.exit_code == 0 and f"wrote {path} (8 sheets: summary, instruments, areas, budget, constraints, " \
        "bounds, levels, assumptions)" in result.output, result.output
    book = openpyxl.load_workbook(path)
    problem = load(EXAMPLE)
    tables = compare(solve(problem), official(problem)).tables()
    sheet = book["instruments"]
    header = [c.value for c in sheet[1]]
    # official beside optimal, figure by figure
    assert header.index("money_plan") == header.index("money_official") + 1
    assert header.index("money_delta") == header.index("money_plan") + 1
    money = header.index("money_official") + 1
    assert sheet.cell(row=2, column=money).number_format == EURO
    assert sheet.freeze_panes == "B2" and all(c.font.bold for c in sheet[1])
    widths = {k: sheet.column_dimensions[openpyxl.utils.get_column_letter(k + 1)].width for k in range(len(header))}
    assert all(len(str(h)) + 2 <= widths[k] <= 60 for k, h in enumerate(header))
    assert "kennzahlen" not in book.sheetnames, "a model without Kennzahlen gets no Kennzahlen sheet"
    assert workbook(tables) == workbook(tables), "the same tables give the same bytes"


@pytest.mark.parametrize("command", [
    ["sweep", str(EXAMPLE), "--steps", "11"],
    ["explain", str(EXAMPLE)],
    ["risk", str(EXAMPLE), "--draws", "40", "--no-reoptimise"],
])
def test_sweep_explain_and_risk_write_workbooks(tmp_path, command):
    path = tmp_path / "out.xlsx"
    result = CliRunner().invoke(main, [*command, "--out", str(path)])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(path)
    assert "assumptions" in book.sheetnames
    assumptions = _sheet(book, "assumptions")
    assert "rates.fbw_per_1000.gross (per 1,000 €)" in set(assumptions["what"])
    assert {"sweep": "curve", "explain": "instruments", "risk": "risk_summary"}[command[0]] in book.sheetnames


def test_out_to_an_existing_folder_named_xlsx_is_refused(tmp_path):
    folder = tmp_path / "plan.xlsx"
    folder.mkdir()
    result = CliRunner().invoke(main, ["solve", str(EXAMPLE), "--out", str(folder)])
    assert result.exit_code == 2 and "is a folder" in result.output


# ----- Excel in -----


@pytest.fixture(scope="module")
def template_book() -> bytes:
    return model_workbook(template_text())


def _write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_import_round_trip_is_stable(tmp_path, template_book):
    """import → model → workbook → import gives the same model; the model validates and solves."""
    first = import_workbook(_write(tmp_path, "t.xlsx", template_book))
    again = import_workbook(_write(tmp_path, "t2.xlsx", model_workbook(first)))
    assert again == first
    result = CliRunner().invoke(main, ["import", str(tmp_path / "t.xlsx"), "-o", str(tmp_path / "t.yaml")])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load((tmp_path / "t.yaml").read_text(encoding="utf-8")) == first
    solved = CliRunner().invoke(main, ["solve", str(tmp_path / "t.yaml"), "--show", "none"])
    assert solved.exit_code == 0 and "all 18 constraints of the optimal plan hold" in solved.output, solved.output


WORKBOOK_FIELDS = ("financing", "entries", "places", "new_funds", "unit_cost", "rate_class", "bounds", "bounds_note",
                   "groups", "pools", "area", "name", "id")


def test_the_template_workbook_holds_the_templates_rows(tmp_path, template_book):
    """Every field a workbook holds comes back from the template's workbook as the template has it."""
    source = yaml.safe_load(template_text())
    model = import_workbook(_write(tmp_path, "t.xlsx", template_book))
    assert len(model["instruments"]) == len(source["instruments"])
    for got, want in zip(model["instruments"], source["instruments"]):
        for key in WORKBOOK_FIELDS:
            assert got.get(key) == want.get(key), (want["id"], key, got.get(key))
    assert model["budget"] == source["budget"]
    assert model["groups"] == source["groups"] and model["priorities"] == source["priorities"]


def test_a_workbook_of_the_example_imports_its_nine_lines(tmp_path):
    source = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    model = import_workbook(_write(tmp_path, "ex.xlsx", model_workbook(EXAMPLE.read_text(encoding="utf-8"))))
    assert [r["id"] for r in model["instruments"]] == [r["id"] for r in source["instruments"]]
    for got, want in zip(model["instruments"], source["instruments"]):
        for key in WORKBOOK_FIELDS:
            assert got.get(key) == want.get(key), (want["id"], key)
    assert model["budget"]["reserve_amount"] == "official"
    assert model["priorities"] == source["priorities"]


def _edit(tmp_path: Path, template_book: bytes, name: str, change) -> Path:
    book = openpyxl.load_workbook(io.BytesIO(template_book))
    change(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return _write(tmp_path, name, buffer.getvalue())


def _cell(sheet: str, ref: str, value):
    def change(book):
        book[sheet][ref] = value
    return change


def _budget_field(field: str, value):
    def change(book):
        ws = book["budget"]
        row = next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).value == field)
        ws.cell(row=row, column=2).value = value
    return change


def _delete_budget_row(field: str):
    def change(book):
        ws = book["budget"]
        ws.delete_rows(next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).value == field))
    return change


def _empty_book(book):
    for ws in list(book.worksheets):
        book.remove(ws)
    book.create_sheet("Sheet1")


# instruments: A id, B name, C area, D financing, E entries, F money, G places, H unit_cost, I rate_class,
# J minimum, K maximum, L bounds_note, M groups, N pools, O note; row 2 activation ... row 6 youth_line
BAD_WORKBOOKS = {
    "missing_instruments_sheet": (lambda b: b.remove(b["instruments"]), ("sheet 'instruments'", "missing")),
    "missing_budget_sheet": (lambda b: b.remove(b["budget"]), ("sheet 'budget'", "missing")),
    "empty_workbook": (_empty_book, ("sheet 'budget'", "missing", "'Sheet1'")),
    "text_in_money": (_cell("instruments", "F3", "viel"),
                      ("sheet 'instruments', row 3, column F (money): 'viel'", "a number")),
    "german_number": (_cell("instruments", "F2", "1.500.000,00"),
                      ("row 2, column F (money): '1.500.000,00'", "a plain number such as 1500000.00")),
    "merged_cells": (lambda b: b["instruments"].merge_cells("B3:C3"),
                     ("sheet 'instruments', row 3, column B", "merged cells")),
    "formula": (_cell("instruments", "F2", "=1000*1500"), ("row 2, column F (money)", "not a formula")),
    "unknown_column": (_cell("instruments", "E1", "entires"),
                       ("sheet 'instruments', row 1, column E (header): 'entires'", "did you mean 'entries'?")),
    "missing_required_column": (_cell("instruments", "B1", None),
                                ("sheet 'instruments', row 1: 'name'", "a required column is missing")),
    "empty_required_cell": (_cell("instruments", "B4", None), ("sheet 'instruments', row 4, column B (name)",
                                                               "required")),
    "fractional_entries": (_cell("instruments", "E3", 12.5), ("row 3, column E (entries): 12.5", "a whole number")),
    "negative_money": (_cell("instruments", "F3", -5.0), ("row 3, column F (money): -5", "at least 0")),
    "money_below_the_cent": (_cell("instruments", "F3", 600000.123), ("row 3, column F (money)", "to the cent")),
    "boolean_in_a_number": (_cell("instruments", "E2", True), ("row 2, column E (entries): true", "not TRUE/FALSE")),
    "date_in_money": (_cell("instruments", "F2", datetime.datetime(2026, 1, 5)),
                      ("row 2, column F (money)", "not a date")),
    "malformed_groups": (_cell("instruments", "M2", "u25=0.2"),
                         ("row 2, column M (groups): 'u25=0.2'", "'group: share'")),
    "group_share_above_one": (_cell("instruments", "M2", "u25: 1.5"),
                              ("sheet 'instruments', row 2, column M (groups)", "a share from 0 to 1")),
    "unknown_area": (_cell("instruments", "C2", "placment"),
                     ("row 2, column C (area): 'placment'", "did you mean 'placement'?")),
    "unknown_rate_class": (_cell("instruments", "I3", "egzz"),
                           ("sheet 'instruments', row 3, column I (rate_class): 'egzz'", "did you mean 'egz'?")),
    "duplicate_id": (_cell("instruments", "A3", "activation"),
                     ("sheet 'instruments', row 3, column A (id): 'activation'", "ids must be unique")),
    "unknown_financing": (_cell("instruments", "D2", "neu"), ("row 2, column D (financing): 'neu'", "'new'")),
    "minimum_above_maximum": (_cell("instruments", "J3", 400),
                              ("sheet 'instruments', row 3, column J (minimum)", "min (400) is above max (300)")),
    "share_as_percent": (_cell("groups", "C2", 20), ("sheet 'groups', row 2, column C (customer_share): 20",
                                                     "looks like a percentage")),
    "unknown_budget_field": (_cell("budget", "A5", "egt_alocation"),
                             ("sheet 'budget', row 5, column A (field): 'egt_alocation'", "did you mean")),
    "missing_budget_field": (_delete_budget_row("egt_allocation"), ("sheet 'budget', column A: 'egt_allocation'",
                                                                    "a required field is missing")),
    "year_as_text": (_budget_field("year", "2026a"), ("sheet 'budget', row 3, column B (year): '2026a'", "a number")),
    "no_money_no_financing": (lambda b: (_cell("instruments", "F3", None)(b), _cell("instruments", "D3", None)(b)),
                              ("sheet 'instruments', row 3, column F (money)", "money (€) for the row")),
    "instruments_header_only": (lambda b: b["instruments"].delete_rows(2, 20), ("sheet 'instruments', row 2",
                                                                                "no rows")),
}


@pytest.mark.parametrize("name", sorted(BAD_WORKBOOKS))
def test_a_bad_workbook_gets_one_line_naming_the_cell(tmp_path, template_book, name):
    change, fragments = BAD_WORKBOOKS[name]
    path = _edit(tmp_path, template_book, f"{name}.xlsx", change)
    result = CliRunner().invoke(main, ["import", str(path), "-o", str(tmp_path / "out.yaml")])
    assert_one_clear_line(result, str(path), fragments)
    assert not (tmp_path / "out.yaml").exists(), "nothing is written for a bad workbook"


@pytest.mark.parametrize("name, content, fragment", [
    ("csv_renamed.xlsx", b"name;money\nAktivierung;1500000\n", "is a text or CSV file, not an Excel workbook"),
    ("old.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "an old Excel file (.xls)"),
    ("broken.xlsx", b"PK\x03\x04" + b"\0" * 64, "cannot be read as an Excel workbook"),
])
def test_a_file_that_is_no_workbook_gets_one_line(tmp_path, name, content, fragment):
    path = _write(tmp_path, name, content)
    result = CliRunner().invoke(main, ["import", str(path)])
    assert_one_clear_line(result, str(path), (fragment,))


def test_a_missing_workbook_gets_one_line(tmp_path):
    path = tmp_path / "nowhere.xlsx"
    assert_one_clear_line(CliRunner().invoke(main, ["import", str(path)]), str(path), ("no such file",))


def test_a_workbook_that_unpacks_too_large_is_refused_before_it_is_read(tmp_path, template_book, monkeypatch):
    """A zip bomb: the template workbook with one more part of zeros that unpacks past the limit (lowered here to
    1 MiB, so that the test packs 2 MiB, not gigabytes) is refused in one line; openpyxl never opens it."""
    import zipfile

    from optalloc.model import importer

    monkeypatch.setattr(importer, "MAX_UNPACKED_BYTES", 1024 * 1024)
    path = _write(tmp_path, "bomb.xlsx", template_book)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/padding.bin", b"\0" * (2 * 1024 * 1024))
    assert path.stat().st_size < 1024 * 1024
    opened = []
    monkeypatch.setattr("openpyxl.load_workbook", lambda *a, **k: opened.append(a))
    result = CliRunner().invoke(main, ["import", str(path)])
    assert_one_clear_line(result, str(path), ("unpacks to 2 MiB", "at most 1 MiB", "zip bomb"))
    assert opened == []
