"""Planning workbooks: a model read from Excel (``optalloc import``) and written back to it.

A planning workbook has a sheet ``budget`` (two columns, ``field`` and ``value``: the jobcenter, the year,
the budget items, the rates file and the fallback box), a sheet ``instruments`` (one row per instrument or
budget line: id, name, area, financing, entries or money, places, unit cost, rate class, minimum, maximum,
groups, pools, notes) and, optionally, sheets ``areas``, ``groups`` (with each group's priority bonus) and
``pools`` (earmarked money besides the new-business budget). :data:`BUDGET_FIELDS` and
:data:`INSTRUMENT_COLUMNS` list every field; ``docs/model-format.md`` says what each means in the model.

:func:`import_workbook` reads a workbook into a model (a mapping, as a model file holds it) that validates,
or raises :class:`~optalloc.errors.InputFileError` with one line naming the file, the sheet, the row and the
column of the first cell that is wrong and what is allowed. :func:`model_workbook` writes a model (a model
file's text or mapping) as such a workbook, so that import → model → workbook → import gives the same model.
What a workbook cannot hold (coverage requirements, stated decisions, caps, Kennzahlen, report labels) is
left out of the workbook and listed on its sheet ``notes``: add it to the model file after importing.
"""

from __future__ import annotations

import datetime
import difflib
import io
import math
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import NOT_SHOWN, InputFileError
from .schema import _text_hint

NEW_BUSINESS_POOL = {"id": "egt", "name": "Neufallbudget (EGT)", "derived": "new_business"}


@dataclass(frozen=True)
class Field:
    """A field of the workbook: its name in the sheet, where it goes in the model, and its kind."""

    name: str
    kind: str  # text | money | share | count | number | choice
    target: str  # dotted path in the model (meta.year), or the field of an instrument / group / pool / area
    required: bool = False
    default: object = None
    choices: tuple[str, ...] = ()
    words: str = ""


BUDGET_FIELDS = (
    Field("jobcenter", "text", "meta.jobcenter", True, words="the jobcenter's name"),
    Field("year", "count", "meta.year", True, words="the plan year"),
    Field("title", "text", "meta.title", words="the programme's title (default: Programme <year>)"),
    Field("document", "text", "meta.document", words="where the programme is published"),
    Field("rates_file", "text", "meta.rates_file", default="sgb2-defaults",
          words="the rates file: a name (sgb2-defaults) or a path relative to the model file"),
    Field("egt_allocation", "money", "budget.egt_allocation", True, words="the integration budget allocated (€)"),
    Field("shift_to_administration", "money", "budget.shift_to_administration", True,
          words="moved to the administration budget (€)"),
    Field("expected_returns", "money", "budget.expected_returns", words="expected returns (€)"),
    Field("commitments", "money", "budget.commitments", words="commitments from earlier years (€)"),
    Field("reserve_amount", "money", "budget.reserve_amount",
          words="kept back for the year (€), or official: what the rows leave unplanned"),
    Field("reserve_share", "share", "budget.reserve_share", words="or: kept back as a share of the new-business budget"),
    Field("new_business_pool", "text", "pools.egt.name", default=NEW_BUSINESS_POOL["name"],
          words="the name of the new-business budget"),
    Field("customers", "count", "customers", words="customers (eLb) on average, for the groups' shares"),
    Field("fallback_min_share", "share", "assumptions.bounds.min_share_of_official", default=0.5,
          words="the fallback box: at least this share of a row's planned level"),
    Field("fallback_max_share", "number", "assumptions.bounds.max_share_of_official", default=1.5,
          words="the fallback box: at most this multiple of a row's planned level"),
    Field("response", "choice", "assumptions.response.shape", default="concave", choices=("concave", "linear"),
          words="diminishing returns (concave) or constant rates (linear)"),
    Field("low_end_at", "number", "assumptions.response.low_end_at", default=1.2,
          words="where the marginal rate reaches the low end of its range, as a multiple of the planned level"),
)
"""The rows of the sheet ``budget``: field (column A) and value (column B)."""

INSTRUMENT_COLUMNS = (
    Field("id", "text", "id", words="a short id (lower-case letters, digits, _); made from the name if empty"),
    Field("name", "text", "name", True, words="the instrument or budget line"),
    Field("area", "text", "area", True, words="its area (an id of the sheet areas, or a name)"),
    Field("financing", "choice", "financing", choices=("new", "money_only", "prepaid", "partly_prepaid", "shared",
                                                        "external", "programme", "info"),
          words="what its cells mean (default: new with entries, money_only without)"),
    Field("entries", "count", "entries", words="planned entries (Eintritte)"),
    Field("money", "money", "new_funds", words="new money (Mittelansatz, €)"),
    Field("places", "count", "places", words="places (Plätze)"),
    Field("unit_cost", "number", "unit_cost", words="€ per entry (for a money line: its entries are money ÷ this)"),
    Field("rate_class", "text", "rate_class", words="a class of the rates file"),
    Field("minimum", "number", "bounds.min", words="the least the plan may give it (entries; € for a line in euros)"),
    Field("maximum", "number", "bounds.max", words="the most the plan may give it (entries; € for a line in euros)"),
    Field("bounds_note", "text", "bounds_note", words="why those bounds"),
    Field("groups", "text", "groups", words="shares reaching each group: u25: 0.2; long_term: 0.6"),
    Field("pools", "text", "pools", words="earmarked pools that pay it: state_programme, egt"),
    Field("note", "text", "note", words="anything else"),
)
"""The columns of the sheet ``instruments`` (header row 1, one row per instrument or budget line)."""

AREA_COLUMNS = (
    Field("id", "text", "id", words="a short id"),
    Field("name", "text", "name", True, words="the area's name"),
    Field("chapter", "text", "chapter", words="where the programme prints it"),
)
GROUP_COLUMNS = (
    Field("id", "text", "id", True, words="a short id (u25)"),
    Field("name", "text", "name", True, words="the group's name"),
    Field("customer_share", "share", "customer_share", words="its share of all customers"),
    Field("stock", "count", "stock", words="its average stock (head count)"),
    Field("priority", "number", "priority", words="bonus weight: its integrations count 1 + share × this"),
)
POOL_COLUMNS = (
    Field("id", "text", "id", True, words="a short id"),
    Field("name", "text", "name", True, words="the pool's name"),
    Field("amount", "money", "amount", True, words="its money (€)"),
    Field("planning_share", "share", "planning_share", default=1.0, words="the share of it the plan counts on"),
)
SHEETS = {"budget": BUDGET_FIELDS, "instruments": INSTRUMENT_COLUMNS, "areas": AREA_COLUMNS, "groups": GROUP_COLUMNS,
          "pools": POOL_COLUMNS}
"""Every sheet a planning workbook may have, with its fields; budget and instruments are required."""

_OUT_OF_WORKBOOK = ("caps", "coverage", "policy", "kennzahlen", "discrepancies", "text_notes")


class _Cells:
    """Where each model field came from (sheet, row, column), to name the cell of an error found later."""

    def __init__(self) -> None:
        self.at: dict[str, tuple[str, int, str, str]] = {}

    def put(self, key: str, sheet: str, row: int, column: str, header: str) -> None:
        self.at[key] = (sheet, row, column, header)


def import_workbook(path: Path | str) -> dict[str, Any]:
    """The model a planning workbook describes, as a mapping; raises InputFileError (one line) where a cell,
    a sheet or the file is wrong. The model is checked against the schema and its cross-references with
    its rates file found as from ``path``'s folder."""
    path = Path(path)
    book = _open(path)
    cells = _Cells()
    file = str(path)
    sheets = {ws.title.strip().lower(): ws for ws in book.worksheets}
    for name in ("budget", "instruments"):
        if name not in sheets:
            near = difflib.get_close_matches(name, list(sheets), n=1)
            have = ", ".join(f"'{ws.title}'" for ws in book.worksheets) or "none"
            raise InputFileError(file, f"sheet '{name}'", NOT_SHOWN,
                                 f"missing: a planning workbook has the sheets 'budget' and 'instruments' "
                                 f"(this one has {have}{'; did you mean ' + repr(near[0]) + '?' if near else ''})")
    for ws in book.worksheets:
        _refuse_merged(file, ws)
    budget = _read_budget(file, sheets["budget"], cells)
    areas = _read_table(file, sheets["areas"], AREA_COLUMNS, cells, "areas") if "areas" in sheets else []
    groups = _read_table(file, sheets["groups"], GROUP_COLUMNS, cells, "groups") if "groups" in sheets else []
    pools = _read_table(file, sheets["pools"], POOL_COLUMNS, cells, "pools") if "pools" in sheets else []
    rows = _read_table(file, sheets["instruments"], INSTRUMENT_COLUMNS, cells, "instruments")
    if not rows:
        raise InputFileError(file, "sheet 'instruments', row 2", NOT_SHOWN,
                             "no rows: one row per instrument or budget line below the header row")
    model = _assemble(file, budget, areas, groups, pools, rows, cells)
    _validate(path, model, cells)
    return model


def import_to_file(workbook: Path | str, target: Path | str | None = None, force: bool = False) -> Path:
    """Import ``workbook`` and write the model file (``target``, default: the workbook's name with .yaml);
    refuses to overwrite an existing file unless ``force``. Returns the path written."""
    from ..errors import UsageError
    from ..outputs.export import write_file

    workbook = Path(workbook)
    target = Path(target) if target is not None else workbook.with_suffix(".yaml")
    if target.suffix.lower() not in (".yaml", ".yml"):
        raise UsageError("--output", str(target), "a model file path ending in .yaml")
    if target.exists() and not force:
        raise UsageError("--output", str(target), "a file that does not exist yet (or --force to overwrite it)")
    model = import_workbook(workbook)
    text = (f"# Imported from {workbook.name} by `optalloc import`; docs/model-format.md lists every field.\n"
            + model_text(model))
    return write_file(target.parent if str(target.parent) else Path("."), target.name, text)


def workbook_rates_file(path: Path | str) -> tuple[Any, str] | None:
    """The ``rates_file`` a planning workbook names, with the cell it is in (sheet, row, column, field), or
    None where the workbook names none. Read before importing, so that a caller can refuse a rates file it
    must not read (the web page: a path outside the upload). Raises InputFileError where the budget sheet
    cannot be read, as :func:`import_workbook` would."""
    path = Path(path)
    book = _open(path)
    sheets = {ws.title.strip().lower(): ws for ws in book.worksheets}
    if "budget" not in sheets:
        return None
    cells = _Cells()
    value = _read_budget(str(path), sheets["budget"], cells).get("rates_file")
    if value is None:
        return None
    sheet, row, column, header = cells.at["budget.rates_file"]
    return value, f"sheet '{sheet}', row {row}, column {column} ({header})"


def model_text(model: Mapping[str, Any]) -> str:
    """A model mapping as YAML text, in the order of its sections."""
    return yaml.safe_dump(dict(model), sort_keys=False, allow_unicode=True, width=120, default_flow_style=None)


# ----- reading -----


def _open(path: Path):
    """The workbook at ``path``, or one line saying why it cannot be read as one."""
    from openpyxl import load_workbook

    file = str(path)
    if not path.exists():
        raise InputFileError(file, "", NOT_SHOWN, "no such file: give the path of a planning workbook (.xlsx)")
    if path.is_dir():
        raise InputFileError(file, "", NOT_SHOWN, "is a folder: give the path of a planning workbook (.xlsx)")
    if path.stat().st_size > 32 * 1024 * 1024:
        raise InputFileError(file, "", NOT_SHOWN, "is larger than 32 MiB: a planning workbook is far smaller")
    head = path.read_bytes()[:8]
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputFileError(file, "", NOT_SHOWN, "an old Excel file (.xls): save it as an Excel workbook (.xlsx)")
    if not head.startswith(b"PK"):
        kind = "a text or CSV file" if all(32 <= b < 127 or b in (9, 10, 13) for b in head) else "not a workbook"
        raise InputFileError(file, "", NOT_SHOWN, f"is {kind}, not an Excel workbook: save it as .xlsx")
    _refuse_unpacking_too_large(file, path)
    try:
        return load_workbook(path, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputFileError(file, "", NOT_SHOWN, f"cannot be read as an Excel workbook (.xlsx): {type(exc).__name__}"
                             f"{': ' + str(exc)[:80] if str(exc) else ''}") from None
    except Exception as exc:  # noqa: BLE001 - openpyxl raises its own kinds for a broken file
        raise InputFileError(file, "", NOT_SHOWN, f"cannot be read as an Excel workbook (.xlsx): "
                             f"{type(exc).__name__}") from None


MAX_UNPACKED_BYTES = 256 * 1024 * 1024
"""The most a workbook may unpack to (an .xlsx is a zip archive): a planning workbook unpacks to a few MiB, and a
small file that unpacks to gigabytes (a zip bomb) would fill the memory of whoever reads it, the web page's too."""


def _refuse_unpacking_too_large(file: str, path: Path) -> None:
    """Refuse a workbook whose parts, unpacked, add up to more than :data:`MAX_UNPACKED_BYTES` (as the archive's
    directory states them; a broken archive is left to openpyxl's own message)."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    if unpacked > MAX_UNPACKED_BYTES:
        raise InputFileError(file, "", NOT_SHOWN, f"unpacks to {unpacked / (1024 * 1024):,.0f} MiB: a planning "
                             f"workbook unpacks to at most {MAX_UNPACKED_BYTES // (1024 * 1024)} MiB (a zip bomb?)")


def _refuse_merged(file: str, ws) -> None:
    if ws.merged_cells.ranges:
        first = sorted(ws.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col))[0]
        raise InputFileError(file, f"sheet '{ws.title}', row {first.min_row}, column {_letter(first.min_col)}",
                             str(first), "merged cells: unmerge them and give every row its own values")


def _letter(column: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(column)


def _where(ws, row: int, column: int, header: str) -> str:
    return f"sheet '{ws.title}', row {row}, column {_letter(column)} ({header})"


def _value(file: str, ws, row: int, column: int, field: Field) -> Any:
    """A cell's value read as its field's kind; None for an empty cell."""
    cell = ws.cell(row=row, column=column)
    raw = cell.value
    where = _where(ws, row, column, field.name)
    if cell.data_type == "f" or (isinstance(raw, str) and raw.startswith("=") and cell.data_type != "s"):
        raise InputFileError(file, where, raw, "a value, not a formula: the importer reads values only (copy the "
                             "cells and paste them as values)")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if field.kind in ("text", "choice"):
        if isinstance(raw, (datetime.date, datetime.datetime)):
            raise InputFileError(file, where, raw.isoformat(), "text, not a date (format the cell as text)")
        text = str(raw).strip()
        if isinstance(raw, float) and raw.is_integer():
            text = str(int(raw))
        if field.kind == "choice" and text not in field.choices:
            near = difflib.get_close_matches(text, field.choices, n=1)
            raise InputFileError(file, where, text, (f"did you mean '{near[0]}'? " if near else "")
                                 + f"one of: {', '.join(field.choices)}")
        return text
    if isinstance(raw, bool):
        raise InputFileError(file, where, raw, "a number, not TRUE/FALSE")
    if isinstance(raw, (datetime.date, datetime.datetime, datetime.time)):
        raise InputFileError(file, where, str(raw), "a number, not a date or time (Excel took the value for a date: "
                             "format the cell as a number)")
    if isinstance(raw, str) and field.name == "reserve_amount" and raw.strip() == "official":
        return "official"
    if isinstance(raw, str):
        hint = _text_hint(raw)
        raise InputFileError(file, where, raw.strip(), (hint or "a number") + " (this cell holds text: format it as "
                             "a number and type the number)")
    number = float(raw)
    if not math.isfinite(number):
        raise InputFileError(file, where, raw, "a finite number")
    if field.kind == "count":
        if not number.is_integer():
            raise InputFileError(file, where, raw, "a whole number")
        if number < 0:
            raise InputFileError(file, where, raw, "a whole number, at least 0")
        return int(number)
    if field.kind == "money":
        if number < 0:
            raise InputFileError(file, where, raw, "euros, at least 0")
        if abs(round(number, 2) - number) > 1e-9 * max(1.0, abs(number)):
            raise InputFileError(file, where, raw, "euros to the cent, at most two decimals: round the cell's value")
        return round(number, 2)
    if field.kind == "share" and not 0 <= number <= 1:
        extra = f"; {number:g} looks like a percentage: write {number / 100:g}" if 1 < number <= 100 else ""
        raise InputFileError(file, where, raw, f"a share from 0 to 1, where 1 is 100 %{extra}")
    return number


def _header(file: str, ws, fields: tuple[Field, ...]) -> dict[str, int]:
    """The columns of the header row (row 1) by field name; refuses an unknown or repeated header."""
    names = [f.name for f in fields]
    found: dict[str, int] = {}
    for column in range(1, ws.max_column + 1):
        raw = ws.cell(row=1, column=column).value
        if raw is None or not str(raw).strip():
            continue
        key = re.sub(r"[\s\-]+", "_", str(raw).strip().lower())
        if key not in names:
            near = difflib.get_close_matches(key, names, n=1)
            raise InputFileError(file, _where(ws, 1, column, "header"), str(raw).strip(),
                                 "unknown column; " + (f"did you mean '{near[0]}'? " if near else "")
                                 + f"the columns of sheet '{ws.title}': {', '.join(names)}")
        if key in found:
            raise InputFileError(file, _where(ws, 1, column, "header"), str(raw).strip(),
                                 f"each column once (already column {_letter(found[key])})")
        found[key] = column
    for f in fields:
        if f.required and f.name not in found:
            raise InputFileError(file, f"sheet '{ws.title}', row 1", f.name,
                                 f"a required column is missing: {f.name} ({f.words}); the header row names the columns")
    return found


def _read_table(file: str, ws, fields: tuple[Field, ...], cells: _Cells, section: str) -> list[dict[str, Any]]:
    """The rows below the header, each a mapping of field name to value (empty rows skipped)."""
    columns = _header(file, ws, fields)
    by_name = {f.name: f for f in fields}
    out = []
    for row in range(2, ws.max_row + 1):
        values = {name: _value(file, ws, row, column, by_name[name]) for name, column in columns.items()}
        if all(v is None for v in values.values()):
            continue
        for f in fields:
            if f.required and values.get(f.name) is None:
                column = columns[f.name]
                raise InputFileError(file, _where(ws, row, column, f.name), NOT_SHOWN,
                                     f"required: {f.words} (the cell is empty)")
        values["_row"] = row
        for name, column in columns.items():
            cells.put(f"{section}[{len(out)}].{name}", ws.title, row, _letter(column), name)
        out.append(values)
    return out


def _read_budget(file: str, ws, cells: _Cells) -> dict[str, Any]:
    """The sheet ``budget``: a field name in column A, its value in column B (a header row is optional)."""
    by_name = {f.name: f for f in BUDGET_FIELDS}
    out: dict[str, Any] = {}
    for row in range(1, ws.max_row + 1):
        raw = ws.cell(row=row, column=1).value
        if raw is None or not str(raw).strip():
            continue
        key = re.sub(r"[\s\-]+", "_", str(raw).strip().lower())
        if row == 1 and key == "field":
            continue
        if key not in by_name:
            near = difflib.get_close_matches(key, list(by_name), n=1)
            raise InputFileError(file, _where(ws, row, 1, "field"), str(raw).strip(),
                                 "unknown field; " + (f"did you mean '{near[0]}'? " if near else "")
                                 + f"the fields of sheet 'budget': {', '.join(by_name)}")
        if key in out:
            raise InputFileError(file, _where(ws, row, 1, "field"), key, "each field once")
        out[key] = _value(file, ws, row, 2, by_name[key])
        cells.put(f"budget.{key}", ws.title, row, "B", key)
    for f in BUDGET_FIELDS:
        if f.required and out.get(f.name) is None:
            raise InputFileError(file, f"sheet '{ws.title}', column A", f.name,
                                 f"a required field is missing: a row '{f.name}' ({f.words}) with its value in column B")
    return out


# ----- assembling and validating -----


def _slug(text: str) -> str:
    ascii_text = (text.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss"))
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text).strip("_")
    if not slug or not slug[0].isalpha():
        slug = "x_" + slug
    return slug[:40].rstrip("_")


def _pairs(file: str, text: str, where: str) -> dict[str, float]:
    """``u25: 0.2; long_term: 0.6`` as a mapping."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in re.split(r"[;\n]", text))):
        match = re.fullmatch(r"([A-Za-z][\w]*)\s*:\s*(\S+)", part)
        if not match:
            raise InputFileError(file, where, text, "shares per group as 'group: share', separated by ';' "
                                 "(u25: 0.2; long_term: 0.6)")
        try:
            share = float(match.group(2))
        except ValueError:
            raise InputFileError(file, where, text, f"a share from 0 to 1 after '{match.group(1)}:' "
                                 + (_text_hint(match.group(2)) or "")) from None
        out[match.group(1)] = share
    return out


def _set(target: dict[str, Any], dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = value


def _assemble(file: str, budget: dict[str, Any], areas: list[dict], groups: list[dict], pools: list[dict],
              rows: list[dict], cells: _Cells) -> dict[str, Any]:
    fields = {f.name: f for f in BUDGET_FIELDS}
    model: dict[str, Any] = {"meta": {}, "budget": {}}
    for name, f in fields.items():
        value = budget.get(name, None)
        if value is None:
            value = f.default
        if value is None or f.target.startswith("pools."):
            continue
        _set(model, f.target, value)
    model["meta"].setdefault("title", f"Programme {model['meta']['year']}")
    meta_order = ["jobcenter", "year", "title", "document", "rates_file"]
    model["meta"] = {k: model["meta"][k] for k in meta_order if k in model["meta"]}
    pool_name = budget.get("new_business_pool") or NEW_BUSINESS_POOL["name"]
    model["pools"] = [{**NEW_BUSINESS_POOL, "name": pool_name}] + [
        {k: p[k] for k in ("id", "name", "amount", "planning_share") if p.get(k) is not None} for p in pools]
    model["groups"] = [{k: g[k] for k in ("id", "name", "customer_share", "stock") if g.get(k) is not None}
                       for g in groups]
    customers = model.pop("customers", None)
    if customers is not None:
        model["customers"] = customers
    assumptions = model.pop("assumptions")
    assumptions["bounds"].update(status="assumption")
    assumptions["response"].update(status="assumption")
    model["assumptions"] = assumptions
    priorities = {g["id"]: g["priority"] for g in groups if g.get("priority")}
    if priorities:
        model["priorities"] = priorities
    area_ids: dict[str, str] = {}
    area_list = []
    for k, a in enumerate(areas):
        aid = a.get("id") or _slug(a["name"])
        area_list.append({"id": aid, "name": a["name"], **({"chapter": a["chapter"]} if a.get("chapter") else {})})
        area_ids[aid] = aid
        area_ids[a["name"].strip().lower()] = aid
    instruments = []
    for k, r in enumerate(rows):
        at = cells.at.get(f"instruments[{k}].area")
        where = f"sheet '{at[0]}', row {at[1]}, column {at[2]} (area)" if at else f"sheet 'instruments', row {r['_row']}"
        area = r["area"]
        if areas:
            if area not in area_ids and area.strip().lower() not in area_ids:
                names = sorted({a["id"] for a in area_list})
                near = difflib.get_close_matches(area, names, n=1)
                raise InputFileError(file, where, area, "an area of the sheet 'areas': "
                                     + (f"did you mean '{near[0]}'? " if near else "") + "one of: " + ", ".join(names))
            aid = area_ids.get(area) or area_ids[area.strip().lower()]
        else:
            aid = _slug(area)
            if aid not in area_ids:
                area_ids[aid] = aid
                area_list.append({"id": aid, "name": area})
        row: dict[str, Any] = {"id": r.get("id") or _slug(r["name"]), "name": r["name"], "area": aid}
        financing = r.get("financing")
        if financing is None:
            if r.get("money") is not None:
                financing = "new" if r.get("entries") is not None else "money_only"
            else:
                place = cells.at.get(f"instruments[{k}].money") or cells.at.get(f"instruments[{k}].name")
                raise InputFileError(file, f"sheet 'instruments', row {r['_row']}"
                                     + (f", column {place[2]} ({place[3]})" if place else ""), NOT_SHOWN,
                                     "money (€) for the row, or a 'financing' (prepaid, external, ...) that says why "
                                     "it has none")
        row["financing"] = financing
        for name in ("entries", "places"):
            if r.get(name) is not None:
                row[name] = r[name]
        if r.get("money") is not None:
            row["new_funds"] = r["money"]
        for name in ("unit_cost", "rate_class"):
            if r.get(name) is not None:
                row[name] = r[name]
        if r.get("groups"):
            col = cells.at.get(f"instruments[{k}].groups")
            row["groups"] = _pairs(file, r["groups"], f"sheet '{col[0]}', row {col[1]}, column {col[2]} (groups)"
                                   if col else "instruments")
        if r.get("pools"):
            row["pools"] = [p.strip() for p in re.split(r"[,;]", r["pools"]) if p.strip()]
        bounds = {side: r[name] for side, name in (("min", "minimum"), ("max", "maximum")) if r.get(name) is not None}
        if bounds:
            row["bounds"] = bounds
        for name in ("bounds_note", "note"):
            if r.get(name):
                row[name] = r[name]
        instruments.append(row)
    model["areas"] = area_list
    model["instruments"] = instruments
    return model


_LOCATION = re.compile(r"^(?P<section>instruments|groups|pools|areas)\[(?P<index>\d+)\](?: \([^)]*\))?\.?(?P<field>[\w.]*)")
_MODEL_TO_COLUMN = {"new_funds": "money", "bounds.min": "minimum", "bounds.max": "maximum", "bounds": "minimum"}


def _validate(path: Path, model: dict[str, Any], cells: _Cells) -> None:
    """Check the assembled model as a model file is checked; an error is put back on the cell it came from."""
    from .loading import Spec, check_references, load_rates, parse, resolve_rates
    from .problem import build_problem
    from .schema import Model

    file = str(path)
    target = path.with_suffix(".yaml")
    try:
        validated = parse(Model, model, file)
        rates_path = resolve_rates(target, validated.meta.rates_file)
        spec = Spec(model=validated, rates=load_rates(rates_path), path=target, rates_path=rates_path)
        check_references(spec, file)
        build_problem(spec)
    except InputFileError as exc:
        if exc.file not in (file, str(target)):  # the rates file itself is wrong
            raise
        raise InputFileError(file, _cell_of(exc.field, model, cells), exc.value, exc.allowed) from None


def _cell_of(field_path: str, model: dict[str, Any], cells: _Cells) -> str:
    """The sheet, row and column a model field path (``instruments[2] (egz).entries``) came from."""
    match = _LOCATION.match(field_path)
    if match:
        section, index, name = match["section"], int(match["index"]), match["field"] or ""
        name = name.split(".")[0] if name.startswith("groups") or name.startswith("pools") else name
        column_name = _MODEL_TO_COLUMN.get(name, name)
        found = cells.at.get(f"{section}[{index}].{column_name}") or cells.at.get(f"{section}[{index}].name")
        if found:
            sheet, row, column, header = found
            return f"sheet '{sheet}', row {row}, column {column} ({header})"
    for f in BUDGET_FIELDS:
        if field_path == f.target or field_path.startswith(f.target + ".") or (
                field_path.startswith(("budget", "meta")) and field_path.split(".")[-1] == f.target.split(".")[-1]):
            found = cells.at.get(f"budget.{f.name}")
            if found:
                return f"sheet '{found[0]}', row {found[1]}, column {found[2]} ({found[3]})"
            return f"sheet 'budget', field {f.name}"
    if field_path.startswith(("budget", "meta", "assumptions")):
        return f"sheet 'budget' ({field_path})"
    return field_path


# ----- writing -----


def model_workbook(model: Mapping[str, Any] | str) -> bytes:
    """A model (its YAML text or mapping) as a planning workbook (the bytes of an .xlsx file): the sheets
    budget, instruments, areas, groups and pools, and notes on what the workbook leaves out."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from ..outputs.excel import EURO, MAX_WIDTH, _stable

    data: dict[str, Any] = yaml.safe_load(model) if isinstance(model, str) else dict(model)
    book = Workbook()
    book.remove(book.active)
    meta, budget = data.get("meta", {}), data.get("budget", {})
    assumptions = data.get("assumptions", {})
    source = {"meta": meta, "budget": budget, "assumptions": assumptions, "customers": data.get("customers")}
    ws = book.create_sheet("budget")
    ws.append(["field", "value", "what it is"])
    for f in BUDGET_FIELDS:
        if f.target.startswith("pools."):
            value = next((p.get("name") for p in data.get("pools", []) if p.get("derived")), None)
        elif f.target == "customers":
            value = source["customers"]
        else:
            node: Any = source
            for key in f.target.split("."):
                node = node.get(key) if isinstance(node, dict) else None
            value = node
        if value is None and f.default is None:
            continue
        ws.append([f.name, value if value is not None else f.default, f.words])
        if f.kind == "money":
            ws.cell(row=ws.max_row, column=2).number_format = EURO
    groups = data.get("groups", [])
    priorities = data.get("priorities", {})
    tables = {
        "instruments": (INSTRUMENT_COLUMNS, [_instrument_cells(r) for r in data.get("instruments", [])]),
        "areas": (AREA_COLUMNS, [{"id": a.get("id"), "name": a.get("name"), "chapter": a.get("chapter") or None}
                                 for a in data.get("areas", [])]),
        "groups": (GROUP_COLUMNS, [{**{k: g.get(k) for k in ("id", "name", "customer_share", "stock")},
                                    "priority": priorities.get(g.get("id"))} for g in groups]),
        "pools": (POOL_COLUMNS, [{k: p.get(k) for k in ("id", "name", "amount", "planning_share")}
                                 for p in data.get("pools", []) if not p.get("derived")]),
    }
    for name, (fields, records) in tables.items():
        if name in ("groups", "pools") and not records:
            continue
        ws = book.create_sheet(name)
        ws.append([f.name for f in fields])
        for record in records:
            ws.append([record.get(f.name) for f in fields])
            for j, f in enumerate(fields, start=1):
                if f.kind == "money":
                    ws.cell(row=ws.max_row, column=j).number_format = EURO
    left_out = [s for s in _OUT_OF_WORKBOOK if data.get(s)] + (["meta.labels"] if meta.get("labels") else [])
    notes = book.create_sheet("notes")
    notes.append(["What this workbook does not hold (add it to the model file after `optalloc import`)"])
    for section in left_out:
        notes.append([section])
    notes.append(["Each sheet's columns: docs/model-format.md (section 'Planning workbooks')."])
    for ws in book.worksheets:
        ws["A1"].font = Font(bold=True)
        if ws.title != "notes":
            for cell in ws[1]:
                cell.font = Font(bold=True)
            ws.freeze_panes = "A2"
        for column in ws.columns:
            width = max(len(str(c.value)) if c.value is not None else 0 for c in column)
            ws.column_dimensions[column[0].column_letter].width = min(width + 2, MAX_WIDTH)
    buffer = io.BytesIO()
    book.save(buffer)
    return _stable(buffer.getvalue())


def _instrument_cells(r: Mapping[str, Any]) -> dict[str, Any]:
    """One instrument of a model as the cells of its row in the sheet ``instruments``."""
    bounds = r.get("bounds") or {}
    groups = r.get("groups") or {}
    return {
        "id": r.get("id"), "name": r.get("name"), "area": r.get("area"), "financing": r.get("financing"),
        "entries": r.get("entries"), "money": r.get("new_funds"), "places": r.get("places"),
        "unit_cost": r.get("unit_cost"), "rate_class": r.get("rate_class"), "minimum": bounds.get("min"),
        "maximum": bounds.get("max"), "bounds_note": r.get("bounds_note"),
        "groups": "; ".join(f"{g}: {s:g}" for g, s in groups.items()) or None,
        "pools": ", ".join(r.get("pools") or []) or None, "note": r.get("note"),
    }
