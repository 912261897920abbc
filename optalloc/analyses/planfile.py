"""A user's plan, read from a file and valued like the official plan: every rule checked, broken ones named.

Staff try their own mix by writing a plan file — a level per instrument (entries; euros for a money-only
line) — in one of the formats ``optalloc`` writes:

- JSON: ``plan.json`` of ``optalloc solve --out`` (``{"plan": {"fbw": {"level": 1305.0, ...}, ...}}``),
  or the same mapping with plain numbers (``{"plan": {"fbw": 1305}}`` or just ``{"fbw": 1305}``);
- CSV: a column ``id`` and a column ``level``, one row per instrument (``levels.csv`` of
  ``optalloc solve --out``, the ``plan-*.csv`` files of ``optalloc alternatives --out``); other columns
  are ignored.

An instrument the file does not name keeps its official level (a file may hold only the rows it changes).
An id the model does not know, a level that is not a plain finite number ≥ 0, an id given twice, or a
file that cannot be read is refused with one line naming the file, the field, the value and what is
allowed (:class:`~optalloc.errors.InputFileError`).

:func:`evaluate_plan` values the plan as the official plan is valued (:func:`optalloc.solving.solve.evaluate`:
the pools pay for it, overspending allowed and reported; :func:`optalloc.solving.check.check_plan` checks every
rule) and lists each broken rule with by how much. A bound that only the fallback box sets is marked as
such: breaking it breaks an assumption, not a rule of the document.
"""

from __future__ import annotations

import csv
import difflib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import pandas as pd
from pydantic import Field, TypeAdapter, ValidationError

from ..solving.check import check_plan
from ..errors import InputFileError
from ..model.problem import Problem
from ..outputs.reports import Comparison, compare
from ..solving.solve import Solution, evaluate, optimise
from ..solving.solve import official as official_plan

Level = Annotated[float, Field(ge=0, allow_inf_nan=False, strict=True)]
_LEVEL = TypeAdapter(Level)
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
LEVEL_ALLOWED = "a plain number ≥ 0 with a decimal point, like 1305 or 451.2 (entries; euros for a money-only line)"


@dataclass(frozen=True)
class _Cell:
    """A level as a file gives it, with the fields that name its id and its level there."""

    id_field: str
    level_field: str
    value: object


@dataclass(frozen=True)
class PlanFile:
    """A plan as read: ``levels`` of every instrument (the file's, the official level for the others),
    ``given`` the instruments the file names, ``kept`` those it leaves at their official level."""

    source: str
    levels: pd.Series
    given: tuple[str, ...]
    kept: tuple[str, ...]


@dataclass(frozen=True)
class PlanCheck:
    """A plan valued in the model: ``solution`` (its money per pool, integrations and every check),
    ``official`` and ``optimal`` beside it, ``comparison`` (the tables in the official shape, the plan
    against the official one) and ``broken``: each broken rule with its sides and ``by`` (how much it is
    over or short, in ``unit``); ``box`` marks a bound that only the fallback box sets."""

    plan: PlanFile
    solution: Solution
    official: Solution
    optimal: Solution | None
    comparison: Comparison
    broken: pd.DataFrame
    integer: bool

    @property
    def ok(self) -> bool:
        return self.broken.empty

    @property
    def share_of_gain(self) -> float:
        """The plan's gain over the official plan as a share of the optimum's (NaN without a gain)."""
        if self.optimal is None:
            return math.nan
        gain = self.optimal.integrations - self.official.integrations
        return (self.solution.integrations - self.official.integrations) / gain if gain > 1e-9 else math.nan


def read_plan_file(path: str | Path, problem: Problem) -> PlanFile:
    """Read a plan file (CSV or JSON, see the module docstring) against the model's instruments."""
    path = Path(path)
    file = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise InputFileError(file, "", path.suffix or "(no extension)",
                             "a plan file ending in .csv (columns id, level) or .json (as plan.json of solve --out)")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(file, "", "missing", "an existing plan file") from None
    except UnicodeDecodeError:
        raise InputFileError(file, "", "not UTF-8 text", "a plan file in UTF-8") from None
    except OSError as exc:
        raise InputFileError(file, "", exc.strerror or "unreadable", "a readable plan file") from None
    raw = _from_json(text, file) if suffix == ".json" else _from_csv(text, file)
    return plan_from_levels(raw, problem, file)


def plan_from_levels(levels: Mapping[str, object], problem: Problem, source: str = "levels given") -> PlanFile:
    """A plan from levels per instrument id. Each value is a number or, read from a file, a
    :class:`_Cell` that knows where it stands, so that a refusal can name the field."""
    inst = problem.instruments
    if not levels:
        raise InputFileError(source, "", "no instruments", "a level for at least one instrument of the model")
    out = inst["official"].astype(float).copy()
    for iid, value in levels.items():
        cell = value if isinstance(value, _Cell) else _Cell(iid, iid, value)
        if iid not in inst.index:
            raise InputFileError(source, cell.id_field, iid, _unknown(iid, problem))
        try:
            out[iid] = _LEVEL.validate_python(cell.value)
        except ValidationError:
            raise InputFileError(source, cell.level_field, cell.value, LEVEL_ALLOWED) from None
    given = tuple(i for i in inst.index if i in levels)
    kept = tuple(i for i in inst.index if i not in levels)
    return PlanFile(source, out, given, kept)


def _unknown(iid: str, problem: Problem) -> str:
    info = {r.id for r in problem.spec.model.instruments} - set(problem.instruments.index)
    if iid in info:
        return "an instrument with a level of its own: this row of the document is information only"
    near = difflib.get_close_matches(str(iid), list(problem.instruments.index), n=1)
    return (f"did you mean '{near[0]}'? " if near else "") + "an instrument id of the model (see levels.csv of solve --out)"


def _from_json(text: str, file: str) -> dict[str, _Cell]:
    def unique(pairs: list[tuple[str, object]]) -> dict[str, object]:
        seen: dict[str, object] = {}
        for key, value in pairs:
            if key in seen:
                raise InputFileError(file, key, "given twice", "each instrument once")
            seen[key] = value
        return seen

    try:
        data = json.loads(text, object_pairs_hook=unique)
    except json.JSONDecodeError as exc:
        raise InputFileError(file, f"line {exc.lineno} column {exc.colno}", exc.msg, "valid JSON") from None
    prefix = "plan."
    if isinstance(data, dict) and "plan" in data:
        data = data["plan"]
    else:
        prefix = ""
    if not isinstance(data, dict):
        raise InputFileError(file, prefix.rstrip(".") or "(top level)", type(data).__name__,
                             "a mapping of instrument ids to levels, {\"fbw\": 1305} or {\"plan\": {\"fbw\": {\"level\": 1305}}}")
    out = {}
    for iid, entry in data.items():
        if isinstance(entry, dict):
            if "level" not in entry:
                raise InputFileError(file, f"{prefix}{iid}", "no level", "an object with a field level")
            out[iid] = _Cell(f"{prefix}{iid}", f"{prefix}{iid}.level", entry["level"])
        else:
            out[iid] = _Cell(f"{prefix}{iid}", f"{prefix}{iid}", entry)
    return out


def _from_csv(text: str, file: str) -> dict[str, _Cell]:
    rows = list(csv.reader(text.splitlines()))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise InputFileError(file, "", "empty", "a CSV with a header line naming the columns id and level")
    header = [h.strip() for h in rows[0]]
    for column in ("id", "level"):
        if column not in header:
            raise InputFileError(file, "header", ",".join(header)[:60],
                                 f"a column '{column}': a CSV with columns id and level (levels.csv of solve --out)")
    at_id, at_level = header.index("id"), header.index("level")
    out: dict[str, _Cell] = {}
    for n, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        iid = row[at_id].strip() if at_id < len(row) else ""
        cell = row[at_level].strip() if at_level < len(row) else ""
        if not iid:
            raise InputFileError(file, f"line {n}, column id", "empty", "an instrument id")
        if iid in out:
            raise InputFileError(file, f"line {n}, column id", iid, "each instrument once (given twice)")
        out[iid] = _Cell(f"line {n}, column id", f"line {n} ({iid}), column level",
                         float(cell) if _NUMBER.fullmatch(cell) else cell)
    return out


def evaluate_plan(problem: Problem, plan: PlanFile | Mapping[str, float] | pd.Series | str | Path,
                  integer: bool = False, optimal: Solution | None = None, official: Solution | None = None,
                  with_optimum: bool = True) -> PlanCheck:
    """Value a plan like the official plan and name every rule it breaks. ``plan`` is a plan file's path, a
    :class:`PlanFile`, or levels per instrument id (the others keep their official level). ``integer``
    also checks whole entries in lots; ``with_optimum`` solves the optimum (unless ``optimal`` is given)
    to say what share of the attainable gain the plan reaches."""
    if isinstance(plan, (str, Path)):
        plan = read_plan_file(plan, problem)
    elif not isinstance(plan, PlanFile):
        plan = plan_from_levels(dict(plan.items()), problem)
    solution = evaluate(problem, plan.levels, kind="evaluated")
    if integer:
        import dataclasses

        solution = dataclasses.replace(solution, checks=check_plan(problem, solution.plan, integer=True))
    official = official or official_plan(problem)
    if optimal is None and with_optimum:
        optimal = optimise(problem)
    return PlanCheck(plan, solution, official, optimal, compare(solution, official), broken_rules(solution), integer)


def broken_rules(solution: Solution) -> pd.DataFrame:
    """Each rule the plan breaks: name, what it is, the plan's figure, the limit, by how much and in what."""
    inst = solution.problem.instruments
    bad = solution.checks[~solution.checks["ok"]]
    rows = []
    for r in bad.itertuples():
        if r.kind == "bound":
            iid = r.ref
            side = "lower" if r.name.startswith("entries_min:") else "upper"
            label, box = str(inst.at[iid, f"{side}_note"]), inst.at[iid, f"{side}_source"] == "box"
        else:
            info = solution.rows.get(r.name)
            label, box = (info.label if info is not None else ""), False
        over = {"<=": "over", ">=": "short", "=": "off"}[r.sense]
        money = str(r.unit).startswith("€")
        figure = (lambda v: round(float(v), 2)) if money else float  # money to the cent
        rows.append({"name": r.name, "kind": r.kind, "label": label, "plan": figure(r.lhs), "sense": r.sense,
                     "limit": figure(r.rhs), "by": figure(-r.slack), "unit": "€" if money else r.unit,
                     "direction": over, "box": bool(box)})
    columns = ["name", "kind", "label", "plan", "sense", "limit", "by", "unit", "direction", "box"]
    return pd.DataFrame(rows, columns=columns).set_index("name")
