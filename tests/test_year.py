"""Issue 16: the year in quarters, cash per month, commitments into the next years, decisions in stages.
Money per row is recomputed from the raw model file (tests/independent_check.py's reading) and the timing
factors from the raw timing file with a loop over months written here; the document gives the printed
money every official figure must match."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import optalloc as oa
from cli import main
from optalloc.analyses import stages as st
from optalloc.analyses import timing as tm

from . import independent_check as ic
from .conftest import MODEL, raw_yaml

TIMING = MODEL.with_name("duisburg-2016-timing.yaml")
RAW = raw_yaml(MODEL)
RAW_TIMING = raw_yaml(TIMING)


@pytest.fixture(scope="module")
def timing(problem):
    return tm.load_timing(TIMING, problem)


@pytest.fixture(scope="module")
def year(problem, timing):
    return st.plan_year(problem, timing)


def cents(x: float) -> int:
    return int(math.floor(x * 100 + 0.5))


def parts_of(iid: str) -> list[tuple[float, int]]:
    """(money weight, months) of a row's parts from the raw timing file: a part's cost taken as proportional
    to its months, as the file says."""
    d = RAW_TIMING["durations"].get(iid) or RAW_TIMING["default_months"]
    parts = [(p["share"], p["months"]) for p in d["parts"]] if d.get("parts") else [(1.0, d["months"])]
    total = sum(s * m for s, m in parts)
    return [(s * m / total, m) for s, m in parts]


def paid_in(iid: str, start: int, first: int, last: int) -> float:
    """Share of the cost of an entry starting in month ``start`` paid in months ``first``..``last`` (counted
    from January of the plan year): a loop over the months."""
    return sum(w / months for w, months in parts_of(iid) for m in range(start, start + months) if first <= m <= last)


def in_year_shares(iid: str) -> list[float]:
    """Per quarter of entry (entries spread over its three months), the share of an entry's cost paid in
    the plan year."""
    return [sum(paid_in(iid, start, 1, 12) for start in (3 * q + 1, 3 * q + 2, 3 * q + 3)) / 3 for q in range(4)]


def test_the_official_plan_costs_in_2016_what_the_document_prints(year):
    """Per row and in total, to the cent: the cash of the official entries over the twelve months."""
    d = ic.derive(RAW)
    by_row = year.cash_by_row["official"].sum(axis=1)
    egt_pools = {d["egt"], "refugee_t1", "refugee_t2"}
    for iid, info in d["rows"].items():
        money = sum(per * info["official"] for per, pools in info["costs"] if set(pools) <= egt_pools)
        assert cents(by_row[iid]) == cents(money), iid
    # the rows whose money the document prints on the row itself: new_funds + vbl exactly
    for row in RAW["instruments"]:
        own = row["id"] in by_row.index and row["financing"] in ("new", "money_only") and not any(
            r.get("money_in") == row["id"] for r in RAW["instruments"])
        if own and not row.get("unit_cost"):
            assert cents(by_row[row["id"]]) == cents((row.get("new_funds") or 0) + row.get("vbl", 0)), row["id"]
    # the whole programme: the new-business money the official plan uses plus the refugee annex (90 % of the tranches)
    tranches = sum(p["amount"] * p["planning_share"] for p in RAW["pools"] if p["id"].startswith("refugee_t"))
    new_business_used = d["new_business"] - d["reserve"]
    assert cents(year.cash["official"].sum()) == cents(new_business_used + tranches)


def test_months_add_up_to_each_rows_year_to_the_cent(year, timing, problem):
    for plan, quarters in (("official", year.official_quarters), ("optimal", year.timed.quarters)):
        table = year.cash_by_row[plan]
        assert cents(table.to_numpy().sum()) == cents(year.cash[plan].sum())
        assert abs(year.cash[f"{plan}_to_date"].iloc[-1] - year.cash[plan].sum()) < 0.005
        for iid in ("fbw", "agh_mae", "bae", "egz", "perf"):
            shares = in_year_shares(iid)
            spread = RAW_TIMING["official_spread"]["quarters"]
            average = sum(s * w for s, w in zip(shares, spread))
            printed_per_entry = problem.instruments.at[iid, "unit_cost"]
            expected = sum(printed_per_entry * shares[q] / average * quarters.at[iid, q + 1] for q in range(4))
            assert cents(table.loc[iid].sum()) == cents(expected), (plan, iid)
            assert all(cents(v) == round(v * 100) for v in table.loc[iid]), "whole cents in every month"


def test_with_the_official_spread_and_no_timing_limits_the_yearly_optimum_comes_back(problem, tmp_path):
    """The quarter layer only moves money in time: spread as the official plan, with no lead time, intake or
    commitment limit, it must give exactly the yearly optimum of optalloc solve (a second, separate LP)."""
    raw = raw_yaml(TIMING)
    raw["lead_time"]["months"] = 0
    raw["intake"]["max_quarter_share"] = 1.0
    raw["commitments"]["limit_next_year"] = raw["commitments"]["limit_year_after"] = 1e10
    path = tmp_path / "open-timing.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    open_timing = tm.load_timing(path, problem)
    spread = tm.solve_timed(problem, open_timing, spread_fixed=True)
    assert math.isclose(spread.integrations, oa.solve(problem).integrations, rel_tol=1e-9)
    free = tm.solve_timed(problem, open_timing)
    assert free.integrations >= spread.integrations - 1e-6


def test_the_timed_plan_keeps_every_rule_and_gains_by_timing(year, timing, problem):
    from optalloc.solving.solve import evaluate

    timed = year.timed
    lv = timed.levels
    assert tm.check_quarters(problem, timing, timed.quarters, lv) == []
    sol = evaluate(tm.in_year_problem(problem, timing, timed.quarters), lv)
    assert sol.feasible, sol.checks[~sol.checks["ok"]]
    # the new-business and tranche money of 2016, recomputed from the raw files: within what they make available
    d = ic.derive(RAW)
    spent = 0.0
    for iid, info in d["rows"].items():
        for per, pools in info["costs"]:
            if not set(pools) <= {d["egt"], "refugee_t1", "refugee_t2"}:
                continue
            if iid in RAW_TIMING["durations"]:
                shares = in_year_shares(iid)
                average = sum(s * w for s, w in zip(shares, RAW_TIMING["official_spread"]["quarters"]))
                spent += sum(per * shares[q] / average * timed.quarters.at[iid, q + 1] for q in range(4))
            else:
                spent += per * lv[iid]
    available = d["pools"][d["egt"]] + d["pools"]["refugee_t1"] + d["pools"]["refugee_t2"]
    assert spent <= available + 0.05
    # and the commitment limits hold, with the limit priced where it binds
    com = year.commitments
    assert (com["optimal"] <= com["limit"] + 0.01).all()
    assert com.loc["2017", "per_1000_eur"] > 0


def test_staged_is_at_least_fixed_and_both_keep_every_rule_in_every_outcome(year, timing):
    s = year.stages
    assert s.staged.expected >= s.fixed.expected - 1e-6
    table = s.table()
    assert math.isclose(table["probability"].sum(), 1.0)
    assert math.isclose(s.staged.expected, float((table["probability"] * table["staged"]).sum()), rel_tol=1e-12)
    assert all(not broken for broken in s.checks(timing).values()), s.checks(timing)
    # the entries decided now are the same in every outcome; in the fixed plan every timed row's quarters are
    first = next(iter(s.staged.quarters.values()))
    for q in s.staged.quarters.values():
        assert np.allclose(q[1], first[1], atol=1e-6)
    fixed_first = next(iter(s.fixed.quarters.values()))
    for q in s.fixed.quarters.values():
        assert np.allclose(q.loc[timing.factors.index], fixed_first.loc[timing.factors.index], atol=1e-6)


def test_one_certain_outcome_gives_the_one_period_optimum(problem, timing):
    staged = st.solve_staged(problem, timing, events=[])
    assert len(staged.outcomes) == 1 and staged.outcomes[0].probability == 1.0
    released = oa.load(MODEL, scenarios=[{"name": "reserve released", "budget": {"reserve_amount": 0}}])
    one_period = tm.solve_timed(released, timing, limits=tm.commitment_limits(problem, timing))
    assert math.isclose(staged.expected, one_period.integrations, rel_tol=1e-7)


def test_cli_prints_the_year_and_writes_its_tables(tmp_path):
    out = tmp_path / "year"
    result = CliRunner().invoke(main, ["year", str(MODEL), "--no-stages", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Cash per month" in result.output and "Commitments into later years" in result.output
    assert "not findings on their own" in result.output
    for name in ("cash_by_month.csv", "commitments.csv", "quarters_optimal.csv", "year.png"):
        assert (out / name).stat().st_size > 0


def test_a_timing_file_naming_an_unknown_row_is_refused(tmp_path):
    raw = raw_yaml(TIMING)
    raw["durations"]["fwb"] = {"months": 9}
    path = tmp_path / "bad-timing.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(main, ["year", str(MODEL), "--timing", str(path), "--no-stages"])
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines()[-1].startswith(f"optalloc: {Path(path)}: durations.fwb")


def test_commitments_of_the_official_plan_recomputed_month_by_month(year, problem):
    """What the official entries bind in 2017, 2018 and after: each timed row's whole cost per entry
    (printed money ÷ its 2016 share) times the share of its months that fall in each period, from the raw
    timing file (FbW's two kinds of course each with its own months)."""
    spread = RAW_TIMING["official_spread"]["quarters"]
    periods = {"2017": (13, 24), "2018": (25, 36), "2019+": (37, 120)}
    expected = dict.fromkeys(periods, 0.0)
    for iid in year.timing.factors.index:
        shares = in_year_shares(iid)
        average = sum(s * w for s, w in zip(shares, spread))
        whole = problem.instruments.at[iid, "unit_cost"] / average
        official = problem.instruments.at[iid, "official"]
        for q in range(4):
            for start in (3 * q + 1, 3 * q + 2, 3 * q + 3):
                for key, (first, last) in periods.items():
                    expected[key] += official * spread[q] / 3 * whole * paid_in(iid, start, first, last)
    for key, value in expected.items():
        assert cents(year.commitments.at[key, "official"]) == cents(value), key
    assert expected["2019+"] > 0  # three-year apprenticeships reach 2019: they are counted


def test_under_a_cut_the_limits_shrink_and_the_official_plan_is_said_to_break_the_budget(problem, timing):
    """The 'official' limits follow the money the problem makes available: 10 % less new business, about 10 %
    less room to commit (the official plan's commitments per euro it spends, times what a cut plan can spend)."""
    cut = oa.load(MODEL, scenarios=[MODEL.parent.parent / "scenarios" / "cut-10.yaml"])
    cut_timing = tm.load_timing(TIMING, cut)
    base, smaller = tm.commitment_limits(problem, timing), tm.commitment_limits(cut, cut_timing)
    d = ic.derive(RAW)
    timed_money = sum(per * info["official"] for iid, info in d["rows"].items() if iid in RAW_TIMING["durations"]
                      for per, _ in info["costs"])
    lost = problem.new_business_available - cut.new_business_available
    for key in base:
        assert math.isclose(smaller[key], base[key] * (timed_money - lost) / timed_money, rel_tol=1e-9), key
    result = CliRunner().invoke(main, ["year", str(MODEL), "-s", str(MODEL.parent.parent / "scenarios" / "cut-10.yaml"),
                                       "--no-stages"])
    assert result.exit_code == 0, result.output
    assert "NOTE: the official plan breaks" in result.output


def test_the_workbook_holds_the_csv_figures_to_the_cent(tmp_path):
    import openpyxl
    import pandas as pd

    folder, book = tmp_path / "year", tmp_path / "year.xlsx"
    for out in (folder, book):
        result = CliRunner().invoke(main, ["year", str(MODEL), "--no-stages", "--out", str(out)])
        assert result.exit_code == 0, result.output
    csv = pd.read_csv(folder / "cash_by_month.csv", index_col=0)
    sheet = openpyxl.load_workbook(book)["cash_by_month"]
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    col = header.index("optimal")
    assert [cents(r[col]) for r in rows[1:13]] == [cents(v) for v in csv["optimal"]]


def test_explain_year_prices_each_commitment_limit_as_a_re_solve_finds_it(problem, timing, tmp_path):
    """explain --year: each commitment limit's price per 1,000 € is what 1,000 € more of that limit gains in a
    re-solve of the quarterly LP (a second computation: the dual against the difference of two optima); the
    reserve's worth is the gain of a re-solve with the reserve planned; the table and the CSV agree."""
    import re

    out = tmp_path / "why"
    result = CliRunner().invoke(main, ["explain", str(MODEL), "--year", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "commitment limits: official / official / official (assumption)" in text
    printed = dict(re.findall(r"^(\d{4}\+?)\s+[\d,.]+\s+[\d,.]+\s+(?:yes|no)\s+([\d.]+)$", text, flags=re.M))
    assert set(printed) == {"2017", "2018", "2019+"}, text
    base = tm.solve_timed(problem, timing)
    for key, year in (("next_year", "2017"), ("year_after", "2018"), ("later", "2019+")):
        limits = dict(base.limits)
        limits[key] += 1000.0
        gain = tm.solve_timed(problem, timing, limits=limits).integrations - base.integrations
        assert float(printed[year]) == pytest.approx(gain, abs=5e-5), (year, gain)
    released = oa.load(MODEL, scenarios=[{"name": "reserve released", "budget": {"reserve_amount": 0}}])
    worth = tm.solve_timed(released, timing, limits=base.limits).integrations - base.integrations
    said = re.search(r"planning the reserve kept for the year \(931,377\.64 €\) adds ([\d.]+) integrations", text)
    assert said and float(said.group(1)) == pytest.approx(worth, abs=0.05), text
    csv = (out / "year_commitments.csv").read_text(encoding="utf-8")
    assert csv.splitlines()[0].startswith("year,") and "2017" in csv


def test_explain_timing_without_year_and_a_missing_timing_file_are_refused():
    alone = CliRunner().invoke(main, ["explain", str(MODEL), "--timing", str(TIMING)])
    assert alone.exit_code == 2 and alone.output.strip() == (
        f"optalloc: --timing: '{TIMING}' — only with --year (the timing file prices the year's limits)")
    small = MODEL.with_name("example-money-only.yaml")
    missing = CliRunner().invoke(main, ["explain", str(small), "--year"])
    assert missing.exit_code == 1 and missing.output.strip() == (
        f"optalloc: {small.with_name('example-money-only-timing.yaml')} — no such file: give the path of a timing file")
