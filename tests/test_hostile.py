"""Hostile input (issue 17): no hang, no crash, no nonsense accepted, no file outside --out touched.

Each case is generated here from the shipped Duisburg model (or written small in ``tmp_path``), run through
the command line in-process (click's CliRunner) under an alarm of :data:`SECONDS` seconds, and checked for
its exit status and its one-line message. The reading cases that could blow up (alias bombs, deep nesting,
devices, pipes, oversized files, huge values) also run under ``tracemalloc`` and must stay below
:data:`MEGABYTES`. The small fixed cases live in ``tests/bad_inputs/`` and ``tests/bad_scenarios/``
(``test_bad_inputs.py``, ``test_bad_scenarios.py``); the timings of large models in
``benchmarks/scaling.py``.
"""

from __future__ import annotations

import contextlib
import copy
import filecmp
import math
import os
import signal
import tempfile
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cli
from cli import main
from optalloc.api import load
from optalloc.errors import OutputError
from optalloc.outputs.export import check_output_folder, solution_files, write_files
from optalloc.model.loading import load_model
from optalloc.analyses.sweeps import cut_order, sweep_budget
from optalloc.outputs.text import printable, terminal_safe

from .conftest import MODEL, RATES, ROOT, SAFE_LOADER
from .helpers import assert_one_clear_line

SECONDS = 5  # no case may take longer (the alarm fails it)
MEGABYTES = 500  # nor hold more Python memory than this (tracemalloc's peak)
TEXT = MODEL.read_text(encoding="utf-8").replace("rates_file: rates/sgb2-defaults.yaml", f"rates_file: {RATES}")
BASE = yaml.load(TEXT, Loader=SAFE_LOADER)
FIXED = ("prepaid", "partly_prepaid", "external", "money_only", "info")
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml writes the generated models quicker


class Overrun(Exception):
    """A case ran longer than :data:`SECONDS`."""


@contextlib.contextmanager
def bounded(seconds: int = SECONDS, megabytes: float | None = None) -> Iterator[None]:
    """Fail the block if it runs longer than ``seconds`` (SIGALRM interrupts even a blocking open) or, with
    ``megabytes``, if Python allocates more than that at its peak."""

    def overrun(signum, frame):  # noqa: ARG001 - signal handler signature
        raise Overrun(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, overrun)
    signal.alarm(seconds)
    if megabytes is not None:
        tracemalloc.start()
    try:
        yield
        if megabytes is not None:
            peak = tracemalloc.get_traced_memory()[1] / 1e6
            assert peak < megabytes, f"peak {peak:.0f} MB of Python memory"
    finally:
        if megabytes is not None:
            tracemalloc.stop()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run(*args: object, megabytes: float | None = None) -> Result:
    """One command line run in-process, bounded in time (and memory, if asked)."""
    with bounded(megabytes=megabytes):
        result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    assert not isinstance(result.exception, Overrun), result.output
    return result


def model_file(folder: Path, change: Callable[[dict], Any] | None = None, name: str = "model.yaml") -> Path:
    """The Duisburg model (its rates by absolute path) with ``change`` applied, written to ``folder``."""
    model = copy.deepcopy(BASE)
    if change is not None:
        change(model)
    path = folder / name
    path.write_text(yaml.dump(model, Dumper=DUMPER, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def text_file(folder: Path, old: str, new: str, name: str = "model.yaml") -> Path:
    """The Duisburg model file as text with ``old`` (which must occur once) replaced by ``new``."""
    assert TEXT.count(old) == 1, old
    path = folder / name
    path.write_text(TEXT.replace(old, new), encoding="utf-8")
    return path


def row(model: dict, rid: str) -> dict:
    return next(r for r in model["instruments"] if r["id"] == rid)


def pool(model: dict, pid: str) -> dict:
    return next(p for p in model["pools"] if p["id"] == pid)


def refused(result: Result, named: Path | str, *fragments: str, status: int = 1) -> str:
    """One line on stderr naming ``named``, with every fragment, and the exit status; returns the line."""
    if status == 1:
        assert_one_clear_line(result, named, fragments)
        return result.output.strip()
    assert result.exit_code == status, result.output
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1, result.stderr
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in: {line}"
    return line


# ----- bounded reading: size, kind of file, depth, aliases, values never expanded in a message -----

LAUGHS = ("x-laughs:\n  - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
          + "".join(f"  - &a{k} [{', '.join([f'*a{k - 1}'] * 9)}]\n" for k in range(1, 10)))
EGZ_NAME = "    name: Eingliederungszuschüsse (EGZ)\n"

READING = {
    # name: (old text, new text, fragments of the message)
    "100,000 nested lists in a text field": (EGZ_NAME, "    name: " + "[" * 100_000 + "]" * 100_000 + "\n",
                                             ("nested more than 64 levels deep",)),
    "a 3,000-level mapping": ("meta:\n", "deep:\n" + "".join("  " * (k + 1) + f"k{k}:\n" for k in range(3000))
                              + "  " * 3001 + "end: 1\nmeta:\n", ("nested more than 64 levels deep",)),
    "an alias bomb in a text field": ("meta:\n", LAUGHS + "meta:\n", ("more than 1,000,000 values",)),
    "a list that contains itself": (EGZ_NAME, "    name: &me [EGZ, *me]\n", ("an alias inside the value it names",)),
    "a mapping that contains itself": (EGZ_NAME, "    name: &me {a: *me}\n", ("an alias inside the value it names",)),
}


@pytest.mark.parametrize("case", sorted(READING))
def test_a_hostile_yaml_structure_is_refused_quickly_and_small(tmp_path: Path, case: str) -> None:
    old, new, fragments = READING[case]
    if case == "an alias bomb in a text field":
        path = text_file(tmp_path, "  title: Arbeitsmarkt- und Integrationsprogramm 2016\n", "  title: *a8\n")
        path.write_text(LAUGHS + path.read_text(encoding="utf-8"), encoding="utf-8")
    else:
        path = text_file(tmp_path, old, new)
    refused(run("validate", path, megabytes=MEGABYTES), path, *fragments)


def test_a_scenario_with_an_alias_bomb_is_refused(tmp_path: Path) -> None:
    scenario = tmp_path / "laughs.yaml"
    scenario.write_text(LAUGHS + "name: laughs\ndescription: *a9\n", encoding="utf-8")
    refused(run("solve", MODEL, "-s", scenario, "--show", "none", megabytes=MEGABYTES), scenario,
            "more than 1,000,000 values")


def test_yaml_merge_keys_are_read_as_yaml_defines_them(tmp_path: Path) -> None:
    """`<<: *defaults` merges a mapping; a key of the mapping itself overrides the merged one. The model with
    two rows written through merge keys gives the same plan as the shipped model."""
    text = TEXT.replace("    groups: {market_close: 1.0}\n    group_basis: stated target of the area (5.5.1)\n"
                        "    rate_class: esg\n",
                        "    <<: &close {groups: {market_close: 1.0}, group_basis: stated target of the area (5.5.1)}\n"
                        "    rate_class: esg\n", 1)
    text = text.replace("    groups: {market_close: 1.0}\n    group_basis: stated target of the area (5.5.1)\n"
                        "    rate_class: avgs_mpav\n",
                        "    <<: *close\n    group_basis: overridden here\n    rate_class: avgs_mpav\n", 1)
    assert text.count("<<:") == 2
    path = tmp_path / "merged.yaml"
    path.write_text(text, encoding="utf-8")
    assert run("validate", path).exit_code == 0
    merged = {r.id: r for r in load_model(path).model.instruments}
    shipped = {r.id: r for r in load_model(MODEL).model.instruments}
    assert merged["esg"] == shipped["esg"]
    assert merged["avgs_mpav"] == shipped["avgs_mpav"].model_copy(update={"group_basis": "overridden here"})


def test_a_device_a_pipe_or_a_folder_is_refused_without_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "model.fifo"
    os.mkfifo(fifo)  # no writer: an ordinary open would block for ever
    for path, kind in ((Path("/dev/zero"), "is a device"), (fifo, "is a pipe"), (tmp_path, "is a folder")):
        refused(run("validate", path, megabytes=MEGABYTES), path, kind)
    model = model_file(tmp_path, lambda m: m["meta"].update(rates_file="/dev/zero"))
    assert_one_clear_line(run("validate", model, megabytes=MEGABYTES), "/dev/zero", ("is a device",))
    result = run("solve", MODEL, "--rates", fifo, megabytes=MEGABYTES)
    assert_one_clear_line(result, fifo, ("is a pipe, not a regular file",))
    result = run("solve", MODEL, "-s", fifo, megabytes=MEGABYTES)
    assert_one_clear_line(result, fifo, ("is a pipe",))


def test_a_file_above_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:  # a sparse file: 17 MiB without writing them
        f.truncate(17 * 1024 * 1024)
    refused(run("validate", big, megabytes=50), big, "is 17.0 MiB", "at most 16 MiB")
    refused(run("solve", MODEL, "-s", big, megabytes=50), big, "at most 16 MiB")


def test_a_message_never_spells_out_a_huge_value(tmp_path: Path) -> None:
    """A 4 MB text where a number belongs, and a list of 20,000 numbers where a name belongs: the message
    shows a few dozen characters of each."""
    huge_text = text_file(tmp_path, "    new_funds: 1360369.41\n", f"    new_funds: '{'9' * 4_000_000}'\n", "text.yaml")
    line = refused(run("validate", huge_text), huge_text, "instruments[1] (egz).new_funds: '999")
    assert len(line) < 600
    big_list = tmp_path / "list.yaml"
    big_list.write_text(TEXT.replace(EGZ_NAME, "    name: [" + ", ".join(["1"] * 20_000) + "]\n", 1), encoding="utf-8")
    line = refused(run("validate", big_list), big_list, "instruments[1] (egz).name: [1, 1,")
    assert len(line) < 400


# ----- validation: meaningless numbers refused with the usual one-line message -----

def _row(rid: str, **fields: object) -> Callable[[dict], None]:
    return lambda m: row(m, rid).update(fields)


def _pool(pid: str, **fields: object) -> Callable[[dict], None]:
    return lambda m: pool(m, pid).update(fields)


def _chain(m: dict) -> None:
    row(m, "fbw_reha")["entries_in"] = "fbw_u25"  # fbw_u25 is itself counted in fbw


def _range(m: dict) -> None:
    m["assumptions"]["bounds"]["range"] = {"min_share_of_official": [math.nan, -math.inf]}


def _discrepancy(**fields: object) -> Callable[[dict], None]:
    return lambda m: next(d for d in m["discrepancies"] if d["check"] == "vbl:sum").update(fields)


NONSENSE: dict[str, tuple[Callable[[dict], None], tuple[str, ...]]] = {
    "NaN money": (_row("egz", new_funds=math.nan), ("instruments[1] (egz).new_funds: nan", "a finite number")),
    "infinite bound": (_row("fbw", bounds={"min": math.inf}), ("(fbw).bounds.min: inf", "a finite number")),
    "NaN coverage share": (lambda m: m["coverage"][0].update(min_share=math.nan),
                           ("coverage[0] (u25_share).min_share: nan", "a finite number")),
    "infinite customer share": (lambda m: m["groups"][0].update(customer_share=math.inf),
                                ("groups[0] (u25).customer_share: inf", "a finite number")),
    "NaN extension share": (lambda m: m["assumptions"]["capacity"].update(extension_share=math.nan),
                            ("assumptions.capacity.extension_share: nan", "a finite number")),
    "NaN pool amount": (_pool("refugee_t1", amount=math.nan), ("pools[1] (refugee_t1).amount: nan", "a finite")),
    "NaN policy minimum": (lambda m: m["policy"][1].update(min=math.nan),
                           ("policy[1] (fbw_completion).min: nan", "a finite number")),
    "NaN and -inf in a range": (_range, ("assumptions.bounds.range.min_share_of_official[0]: nan",)),
    "NaN discrepancy": (_discrepancy(printed=math.nan, computed=math.nan), ("discrepancies[4].printed: nan",)),
    "infinite tolerance": (_discrepancy(tolerance=math.inf), ("discrepancies[4].tolerance: inf",)),
    "tolerance wider than the difference": (_discrepancy(tolerance=5.0),
                                            ("discrepancies[4] —", "tolerance 5 exceeds the recorded difference 0.01")),
    "a discrepancy that agrees": (_discrepancy(computed=3500905.59), ("printed and computed are both 3500905.59",)),
    "money to a millionth": (_row("egz", new_funds=1360369.414999), ("(egz).new_funds: 1360369.414999",
                                                                     "euros to the cent")),
    "a commitment to a tenth of a cent": (lambda m: m["budget"].update(commitments=15061179.433),
                                          ("budget.commitments: 15061179.433", "euros to the cent")),
    "a reserved part to a tenth of a cent": (
        lambda m: pool(m, "esf_lza")["reserved"].update({next(iter(pool(m, "esf_lza")["reserved"])): 530393.125}),
        ("pools[3] (esf_lza).reserved.", "euros to the cent")),
    "a pool listed twice": (_row("st_health", pools=["soziale_teilhabe", "soziale_teilhabe"]),
                            ("(st_health).pools[1]: 'soziale_teilhabe'", "each pool once")),
    "a programme of zero places": (_pool("soziale_teilhabe", max_places=0),
                                   ("pools[4] (soziale_teilhabe).max_places: 0", "from 1 to")),
    "chained counting": (_chain, ("(fbw_reha).entries_in: 'fbw_u25'", "fbw_u25 is counted in fbw): name fbw")),
    "a negative gross rate": (_row("egz", rate={"gross": -0.5}), ("(egz).rate.gross: -0.5", "a share from 0 to 1")),
    "a gross rate above 1": (_row("egz", rate={"gross": 1.5}), ("(egz).rate.gross: 1.5", "a share from 0 to 1")),
    "a net effect below -1": (_row("egz", rate={"net": -1.5}), ("(egz).rate.net: -1.5", "from -1 to 1")),
    "a rate for a money-only row": (_row("vb", rate={"gross": 0.3}), ("(vb)",)),
    "commitments of 9e9": (lambda m: m["budget"].update(commitments=9e9),
                           ("budget —", "makes -8,961,060,325.41 € available", "a plan needs more than 0 €")),
}


@pytest.mark.parametrize("case", sorted(NONSENSE))
def test_a_meaningless_number_is_refused_by_validate(tmp_path: Path, case: str) -> None:
    change, fragments = NONSENSE[case]
    path = model_file(tmp_path, change)
    refused(run("validate", path), path, *fragments)


def test_an_octal_looking_number_is_refused_not_read_as_octal(tmp_path: Path) -> None:
    path = text_file(tmp_path, "    entries: 597\n    places: 597\n", "    entries: 597\n    places: 597\n"
                     "    bounds: {max: 061}\n")
    refused(run("validate", path), path, "'061'", "YAML reads 061 as the octal number 49; write 61")
    scenario = tmp_path / "octal.yaml"
    scenario.write_text("name: octal\ninstruments:\n  fbw: {min: 0600}\n", encoding="utf-8")
    refused(run("solve", MODEL, "-s", scenario, "--show", "none"), scenario, "the octal number 384; write 600")


def _rates_file(folder: Path, scale: Callable[[float], float]) -> Path:
    rates = yaml.safe_load(RATES.read_text(encoding="utf-8"))
    for cls in rates["classes"].values():
        for basis in ("gross", "net"):
            for end in ("value", "low", "high"):
                if end in cls.get(basis, {}):
                    cls[basis][end] = scale(cls[basis][end])
    path = folder / "rates.yaml"
    path.write_text(yaml.safe_dump(rates, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("scale", [0.0, 1e-300], ids=["every rate 0", "rates times 1e-300"])
def test_rates_that_count_nothing_are_refused_by_every_planning_command(tmp_path: Path, scale: float) -> None:
    """A rates file whose every rate is 0 (or scaled to 1e-300) would make any plan 'optimal' and every
    shadow price zero. validate still shows that the model reproduces its document; the planning commands
    refuse."""
    rates = _rates_file(tmp_path, lambda v: v * scale)
    assert run("validate", MODEL, "--rates", rates).exit_code == 0
    for command in (["solve", "--show", "none"], ["explain"], ["sweep", "--steps", "3"]):
        result = run(command[0], MODEL, "--rates", rates, *command[1:])
        refused(result, MODEL, "every row with entries has a gross rate below 1e-06", "net effects instead")


def test_rates_that_count_nothing_name_the_rates_file_and_the_scenarios(tmp_path: Path) -> None:
    """Where the rates come from, said in full: the rates file and, after it, every scenario applied (a scenario
    may set rates too), in order. The whole line, worded as written here."""
    rates = _rates_file(tmp_path, lambda v: v * 0.0)
    scenarios = [ROOT / "scenarios" / "cut-5.yaml", ROOT / "scenarios" / "more-refugees.yaml"]
    result = run("solve", MODEL, "--rates", rates, "-s", scenarios[0], "-s", scenarios[1], "--show", "none")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.output == (
        f"optalloc: {MODEL}: the gross rates of its rows — every row with entries has a gross rate below 1e-06 (the "
        f"largest is 0, from the rates file {rates} and the scenarios cut 5 %, more refugees): a plan would count no "
        "integrations, so every plan would be 'optimal'; give rates as shares (0.25 = 25 %) (or count net effects "
        "instead)\n")


def test_a_rate_factor_that_pushes_a_rate_above_1_is_refused_not_clamped(tmp_path: Path) -> None:
    scenario = tmp_path / "times100.yaml"
    scenario.write_text("name: times 100\ninstruments:\n  egz: {rate_factor: 100}\n", encoding="utf-8")
    refused(run("solve", MODEL, "-s", scenario, "--show", "none"), scenario, "instruments.egz.rate_factor: 100.0",
            "within 0 to 1: at most")
    net = model_file(tmp_path, _row("egz", rate={"gross": 0.3, "net": 0.25}))
    scenario.write_text("name: times 3\ninstruments:\n  egz: {rate_factor: 3.5}\n", encoding="utf-8")
    refused(run("solve", net, "-s", scenario, "--show", "none"), scenario, "keeps the gross rate (0.3)")


# ----- a budget at or below zero: one rule, exit 1, the same message in every command -----

def _cut_twice(folder: Path) -> list[str]:
    cut = folder / "cut60.yaml"
    cut.write_text("name: cut 60 %\nbudget: {cut_share: 0.6}\n", encoding="utf-8")
    return ["-s", str(cut), "-s", str(cut)]


BUDGETS: dict[str, Callable[[Path], tuple[Path, list[str], str]]] = {
    "every budget item 0": lambda f: (model_file(f, lambda m: m["budget"].update(
        egt_allocation=0, shift_to_administration=0, vbl_credit=0, expected_returns=0, commitments=0,
        reserve_amount=0)), [], "makes 0.00 € available"),
    "commitments of 9e9": lambda f: (model_file(f, lambda m: m["budget"].update(commitments=9e9)), [],
                                     "makes -8,961,060,325.41 € available"),
    "reserve share 1": lambda f: (model_file(f, lambda m: (m["budget"].pop("reserve_amount"),
                                                          m["budget"].update(reserve_share=1.0))), [],
                                  "makes 0.00 € available"),
    "a 60 % cut applied twice": lambda f: (MODEL, _cut_twice(f), "makes -4,775,699.04 € available"),
}


@pytest.mark.parametrize("case", sorted(BUDGETS))
def test_a_budget_at_or_below_zero_gets_one_rule_in_every_command(tmp_path: Path, case: str) -> None:
    path, scenarios, fragment = BUDGETS[case](tmp_path)
    named = Path(scenarios[-1]) if scenarios else path
    lines = set()
    for command in (["validate"], ["solve", "--show", "none"], ["explain"], ["sweep"]):
        if command == ["validate"] and scenarios:
            continue  # validate takes no scenarios
        result = run(command[0], path, *scenarios, *command[1:])
        lines.add(refused(result, named, "budget —", fragment, "a plan needs more than 0 €"))
    assert len(lines) == 1, lines  # the same words whichever command


# ----- sweeps: a cap on steps, progress on stderr, finite ranges, every row dropped -----

def test_sweep_steps_are_capped_with_a_way_beyond() -> None:
    refused(run("sweep", MODEL, "--steps", 1_000_000), "--steps", "--steps: 1000000 — at most 10,000 levels",
            "add --many-steps", status=2)
    refused(run("sweep", MODEL, "--steps", 1_000_000, "--many-steps"), "--steps", "at most 100,000 levels",
            "split the range", status=2)


@pytest.mark.parametrize("budget", ["70%:1e400", "1e400%:2e400%", "0:1e11", "70%:1e400%"])
def test_sweep_refuses_a_range_beyond_any_budget(budget: str) -> None:
    refused(run("sweep", MODEL, "--budget", budget), "--budget", f"--budget: '{budget}'", "at most 10,000,000,000 €",
            status=2)


def test_a_long_sweep_shows_its_progress_on_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    shown = cli._progress_bar
    monkeypatch.setattr(cli, "_progress_bar", lambda: shown(after_seconds=0.0))
    result = run("sweep", MODEL, "--steps", 7, "--budget", "90%:110%")
    assert result.exit_code == 0, result.output
    assert "sweep: [" in result.stderr and "7/7" in result.stderr
    assert "sweep: [" not in result.stdout
    problem = load(MODEL)
    heard: list[tuple[int, int]] = []
    levels = np.linspace(0.9, 1.1, 7) * problem.new_business_available
    reported = sweep_budget(problem, levels, progress=lambda done, total: heard.append((done, total)))
    assert heard == [(k, 7) for k in range(1, 8)]
    pd.testing.assert_frame_equal(reported.entries, sweep_budget(problem, levels).entries)


def test_a_sweep_with_every_row_dropped_reports_no_cut_order(tmp_path: Path) -> None:
    """Every row that may change dropped (levels fixed at 0), the requirements that would then collide
    relaxed: the sweep solves and says nothing is cut, instead of failing in the cut order."""
    scenario = {"name": "drop every row",
                "instruments": {r["id"]: {"drop": True} for r in BASE["instruments"] if r["financing"] not in FIXED},
                "coverage": {c["id"]: {"min_count_factor": 0} if "min_count" in c else {"min_share": 0}
                             for c in BASE["coverage"]},
                "policy": {p["id"]: {"drop": True} for p in BASE["policy"]},
                "assumptions": {"capacity": {"extension_share": 1}}}
    path = tmp_path / "drop-all.yaml"
    path.write_text(yaml.safe_dump(scenario), encoding="utf-8")
    result = run("sweep", MODEL, "-s", path, "--steps", 5, "--budget", "70%:110%")
    assert result.exit_code == 0, result.output
    assert "5 feasible" in result.stdout and "Cut order" not in result.stdout
    order = cut_order(sweep_budget(load(MODEL, [path]), [2e7, 2.2e7]))
    assert order.empty and list(order.columns)[:3] == ["rank", "instrument", "entries_top"]


def test_dropping_every_coverage_requirement_still_sweeps_and_explains(tmp_path: Path) -> None:
    """A level that appears in no row (an externally paid row once every coverage requirement is dropped)
    still reaches the solver: build_lp puts every level in the objective, at 0 where it earns nothing."""
    path = tmp_path / "no-coverage.yaml"
    path.write_text(yaml.safe_dump({"name": "no coverage", "coverage": {c["id"]: {"drop": True}
                                                                        for c in BASE["coverage"]}}), encoding="utf-8")
    assert run("sweep", MODEL, "-s", path, "--steps", 3).exit_code == 0
    assert run("explain", MODEL, "-s", path).exit_code == 0


# ----- output: all files or none, never through a link, never into '', a probe per process -----

def test_an_empty_out_is_an_error_in_every_command() -> None:
    """'' would be the current folder; every command with --out refuses it before any work."""
    commands = [name for name, command in main.commands.items() if any(o.name == "out" for o in command.params)]
    assert {"solve", "sweep"} <= set(commands)
    for name in commands:
        result = run(name, MODEL, "--out", "")
        assert result.exit_code == 2, result.output
        assert "an empty path" in result.stderr


def test_a_folder_where_a_file_belongs_stops_the_write_before_any_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "plan.json").mkdir(parents=True)
    result = run("solve", MODEL, "--out", out, "--show", "none")
    assert result.exit_code == 2, result.output
    assert "plan.json: is a folder where this file belongs" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["plan.json"]  # none of the other seven files


def test_links_in_out_are_replaced_and_what_they_point_to_is_untouched(tmp_path: Path) -> None:
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.csv").symlink_to(outside)
    (out / "plan.json").symlink_to(tmp_path / "nowhere.json")  # a dangling link
    result = run("solve", MODEL, "--out", out, "--show", "none")
    assert result.exit_code == 0, result.output
    assert outside.read_text(encoding="utf-8") == "keep me"
    assert not (tmp_path / "nowhere.json").exists()
    for name in ("summary.csv", "plan.json"):
        assert not (out / name).is_symlink() and (out / name).stat().st_size > 0
    assert not list(out.glob(".*.tmp"))


def test_a_command_that_fails_before_its_results_leaves_no_folder(tmp_path: Path) -> None:
    out = tmp_path / "never"
    result = run("solve", MODEL, "-s", ROOT / "scenarios" / "cut-20.yaml", "--out", out, "--show", "none")
    assert result.exit_code == 3, result.output
    assert not out.exists()
    result = run("sweep", MODEL, "--budget", "70%:1e400", "--out", out)
    assert result.exit_code == 2 and not out.exists()


def test_an_out_that_is_a_file_is_refused_before_any_work(tmp_path: Path) -> None:
    file = tmp_path / "a-file"
    file.write_text("", encoding="utf-8")
    result = run("sweep", MODEL, "--out", file)
    assert result.exit_code == 2 and "is a file, not a folder" in result.stderr
    with pytest.raises(OutputError, match="is a file, not a folder"):
        write_files(file, {"x.csv": "a"})
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output_folder(file / "below")


def test_twenty_processes_writing_into_one_folder_all_succeed_with_identical_files(
        tmp_path: Path, optimal_plan, official_plan) -> None:
    """Twenty forked processes check the folder (each with its own probe) and write the same plan into it at
    once, as twenty ``solve --out`` would once their results exist: each exits 0, the files equal one
    written alone, no temporary file is left."""
    files = solution_files(optimal_plan, official_plan)
    alone = tmp_path / "alone"
    names = sorted(p.name for p in write_files(alone, files))
    shared = tmp_path / "shared"
    start_r, start_w = os.pipe()
    children = []
    for _ in range(20):
        pid = os.fork()
        if pid == 0:  # the child: wait for the start, then check and write
            code = 1
            try:
                os.close(start_w)
                os.read(start_r, 1)
                check_output_folder(shared)
                write_files(shared, files)
                code = 0
            finally:
                os._exit(code)
        children.append(pid)
    os.close(start_r)
    os.write(start_w, b"x" * 20)
    os.close(start_w)
    with bounded(30):
        codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
    assert codes == [0] * 20
    assert sorted(p.name for p in shared.iterdir()) == names
    match, mismatch, errors = filecmp.cmpfiles(alone, shared, names, shallow=False)
    assert (mismatch, errors) == ([], [])


# ----- terminal: names with control characters and bidi overrides reach it escaped -----

EVIL = "EGZ \x1b[2J\x1b]0;owned\x07 \u202eevil\u202c"


def test_names_reach_the_terminal_escaped(tmp_path: Path) -> None:
    path = model_file(tmp_path, lambda m: (row(m, "egz").update(name=EVIL), m["meta"].update(jobcenter="Duis\x1bburg")))
    scenario = tmp_path / "evil.yaml"
    scenario.write_text('name: "cut \\u202e5 %"\nbudget: {cut_share: 0.05}\n', encoding="utf-8")
    result = run("solve", path, "-s", scenario, "--show", "instruments")
    assert result.exit_code == 0, result.output
    assert terminal_safe(result.stdout) == result.stdout  # nothing left to escape
    assert "EGZ \\x1b[2J\\x1b]0;owned\\x07 \\u202eevil" in result.stdout  # (the table cuts the rest)
    assert "Duis\\x1bburg" in result.stdout and "cut \\u202e5 %" in result.stdout
    bad = tmp_path / "bad\x1b[2J.yaml"
    bad.write_text("- a list\n", encoding="utf-8")
    result = run("validate", bad)
    assert result.exit_code == 1 and "bad\\x1b[2J.yaml" in result.stderr and "\x1b" not in result.stderr


def test_escaping_keeps_text_and_escapes_what_acts() -> None:
    assert terminal_safe("Förderung\tim\nJahr € 2016 — ok") == "Förderung\tim\nJahr € 2016 — ok"
    assert terminal_safe("a\rb\x00c\x7f\x9b\u2066\u2028") == "a\\x0db\\x00c\\x7f\\x9b\\u2066\\u2028"
    assert printable("two\nlines\tand a tab") == "two\\x0alines\\x09and a tab"


# ----- fuzzing: random deletions, type swaps and extreme numbers find no crash and no hang -----

EXTREMES = [None, True, "", "text", [], {}, [1, [2]], 0, -1, -0.0, 1e-300, 1e300, -1e300, 10**30, math.nan, math.inf,
            -math.inf, "1.0e+400", "061", {"<<": 1}]


def _paths(node: Any, at: tuple = ()) -> list[tuple]:
    """Every path into the model (sections, rows, fields), for the fuzzer to pick from."""
    out = [at] if at else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*at, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:3]):  # the first rows of a list stand for the rest
            out += _paths(v, (*at, i))
    return out


PATHS = _paths(BASE)


@st.composite
def fuzzed(draw: st.DrawFn) -> dict:
    model = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        node: Any = model
        try:
            for k in path[:-1]:
                node = node[k]
            if draw(st.booleans()) and isinstance(node, dict):
                node.pop(path[-1], None)  # a deletion
            else:
                node[path[-1]] = draw(st.sampled_from(EXTREMES))  # a type swap or an extreme number
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed this path
    return model


def _fuzz(model: dict, *command: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzzed.yaml"
        path.write_text(yaml.dump(model, Dumper=DUMPER, sort_keys=False, allow_unicode=True), encoding="utf-8")
        result = run(command[0], path, *command[1:])
    assert result.exit_code in (0, 1, 3), result.output  # never 70 (internal error) nor 4 (solver failure)
    if result.exit_code == 1:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@settings(max_examples=20, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(fuzzed())
def test_fuzzed_models_never_crash_validate(model: dict) -> None:
    _fuzz(model, "validate")


@settings(max_examples=6, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(fuzzed())
def test_fuzzed_models_never_crash_solve(model: dict) -> None:
    _fuzz(model, "solve", "--show", "none")


# ----- the benchmark's generator makes valid models (so benchmarks/scaling.py measures real work) -----

def test_the_scaling_benchmark_model_validates_and_solves(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("scaling", ROOT / "benchmarks" / "scaling.py")
    scaling = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scaling)  # type: ignore[union-attr]
    path = tmp_path / "synthetic.yaml"
    path.write_text(yaml.safe_dump(scaling.synthetic_model(60), sort_keys=False), encoding="utf-8")
    assert run("validate", path).exit_code == 0
    result = run("solve", path, "--show", "none")
    assert result.exit_code == 0, result.output
    assert "constraints of the optimal plan hold" in result.stdout

