"""Tables as a formatted Excel workbook (``--out plan.xlsx``), for planners who work in Excel.

:func:`workbook` turns named tables (pandas) into the bytes of an ``.xlsx`` file: one sheet per table, its
index as the first column, the header row bold and frozen (with the first column), euro amounts in a euro
number format, counts and rates in their own, columns wide enough to read. :func:`assumptions_table` lists
what a plan rests on — the model's planning assumptions and the rates in use, each with its status, range
and source — for a sheet of its own. :func:`write_workbook` writes the file safely (a temporary file in the
target folder, renamed over the target: :func:`optalloc.outputs.export.write_file`).

The cells hold the same numbers as the CSV files (money as euros to the cent, computed from whole cents);
only their display is formatted. The same tables give the same bytes (fixed timestamps inside the file).
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import pandas as pd

from ..model.problem import Problem

EURO = '#,##0.00 "€"'
COUNT = "#,##0.0"
WHOLE = "#,##0"
RATE = "0.000"
PRICE = "+0.0000;-0.0000;0.0000"
SHARE = "0.0%"
PLAIN = "#,##0.0###"

_MONEY = re.compile(r"^(money_|used_|left_|cost_)|(^|_)(available|unit_cost|budget|euros|shrinks_below|"
                    r"at_minimum_from|money|vbl|amount|reserved|cents_euros)$")
_PRICES = re.compile(r"(shadow_price|reduced_cost|per_1000_eur|gain_if_loosened|loss_if_tightened|^up$|^down$|"
                     r"next_entry|last_entry)")
_RATES = re.compile(r"(^|_)(rate|rate_low|rate_high|last_rate|next_rate|value|low|high|gross|net)$")
_SHARES = re.compile(r"(^|_)(share|z|beats_official|at_min|at_max|between|probability)$")
_COUNTS = re.compile(r"(entries|places|level|official|plan|lower|upper|bound|minimum|maximum|integrations|"
                     r"printed|computed|delta|lhs|rhs|slack|mean|sd|p5|p50|p95|regret|worst|robust|optimal)")
MONEY_ROWS = ("€",)
"""A row of a mixed table (the summary, the constraints) whose name or unit contains this holds euros."""

MAX_WIDTH = 60
TIMESTAMP = datetime(2000, 1, 1)
"""The creation time written into every workbook: the same tables give the same file."""


def number_format(column: str) -> str | None:
    """The display format of a column of numbers, from its name (None: leave it to the value)."""
    name = column.lower()
    if _MONEY.search(name):
        return EURO
    if _PRICES.search(name):
        return PRICE
    if _SHARES.search(name):
        return SHARE
    if _RATES.search(name):
        return RATE
    if _COUNTS.search(name):
        return COUNT
    return None


def workbook(tables: Mapping[str, pd.DataFrame], title: str = "") -> bytes:
    """The bytes of an .xlsx file with one sheet per table (in the given order; empty tables left out)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for name, table in tables.items():
        if table is None or (table.empty and len(table.columns) == 0):
            continue
        sheet = book.create_sheet(_sheet_name(name, used))
        frame = table.reset_index() if _has_index(table) else table.copy()
        frame.columns = [str(c) for c in frame.columns]
        frame = frame[beside(frame.columns.tolist())]
        sheet.append(frame.columns.tolist())
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=False, vertical="bottom")
        formats = [number_format(c) for c in frame.columns]
        row_money = _row_money(frame)
        for k, record in enumerate(frame.itertuples(index=False), start=2):
            sheet.append([_cell(v) for v in record])
            for j, value in enumerate(record, start=1):
                if isinstance(value, str) and value.startswith("="):
                    sheet.cell(row=k, column=j).data_type = "s"  # text such as "=" (a sense), never a formula
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    continue
                fmt = EURO if row_money[k - 2] and formats[j - 1] in (COUNT, None) else formats[j - 1]
                if fmt is None:
                    fmt = WHOLE if isinstance(value, int) else PLAIN
                sheet.cell(row=k, column=j).number_format = fmt
        sheet.freeze_panes = "B2"
        _widths(sheet, frame)
    if not book.sheetnames:
        book.create_sheet("empty")
    book.properties.creator = "optalloc"
    book.properties.title = title[:250]
    book.properties.created = TIMESTAMP
    book.properties.modified = TIMESTAMP
    buffer = io.BytesIO()
    book.save(buffer)
    return _stable(buffer.getvalue())


def write_workbook(path: Path | str, tables: Mapping[str, pd.DataFrame], title: str = "") -> Path:
    """Write :func:`workbook` to ``path`` (a file ending in .xlsx), all or nothing; returns the path."""
    from .export import write_file

    path = Path(path)
    return write_file(path.parent if str(path.parent) else Path("."), path.name, workbook(tables, title))


def assumptions_table(problem: Problem) -> pd.DataFrame:
    """What a plan rests on besides the programme's own figures: the planning assumptions of the model and
    the rate classes in use, each with its value, status (sourced or assumption), range and source."""
    spec = problem.spec
    model = spec.model
    rows = []
    for name, figure in model.assumptions:
        if figure is None:
            continue
        values = {k: v for k, v in figure.model_dump().items()
                  if k not in ("status", "range", "source", "note", "scenario_sides") and v is not None}
        for key, value in values.items():
            low_high = figure.range.get(key)
            rows.append({"what": f"assumptions.{name}.{key}", "value": value, "status": figure.status,
                         "low": low_high[0] if low_high else math.nan, "high": low_high[1] if low_high else math.nan,
                         "source": " ".join((figure.source or figure.note or "").split())[:500]})
    if problem.budget.reserve:
        rows.append({"what": "budget.reserve (kept back for the year)", "value": float(problem.budget.reserve),
                     "status": "programme" if model.budget.reserve_amount == "official" else "model",
                     "low": math.nan, "high": math.nan, "source": "budget.reserve_amount / reserve_share"})
    for group, bonus in model.priorities.items():
        rows.append({"what": f"priorities.{group}", "value": bonus, "status": "choice", "low": math.nan,
                     "high": math.nan, "source": "bonus weight: a row's integrations count 1 + Σ share × bonus"})
    used = sorted({c for c in problem.instruments["rate_class"] if c})
    for cid in used:
        cls = spec.rates.classes[cid]
        per = "per 1,000 €" if cls.per == "thousand_euros" else "per entry"
        for basis in ("gross", "net"):
            f = getattr(cls, basis)
            rows.append({"what": f"rates.{cid}.{basis} ({per})", "value": f.value, "status": f.status, "low": f.low,
                         "high": f.high, "source": " ".join((f.source or f.anchor).split())[:500]})
    return pd.DataFrame(rows, columns=["what", "value", "status", "low", "high", "source"]).set_index("what")


def beside(columns: list[str]) -> list[str]:
    """The columns with each figure's official, plan and change next to each other (``entries_official``,
    ``entries_plan``, ``entries_delta``, then ``money_official``, ...), where a table has them in blocks."""
    out: list[str] = []
    for c in columns:
        if c in out:
            continue
        stem, _, side = c.rpartition("_")
        if stem and side in ("official", "plan", "delta", "printed"):
            for s in ("printed", "official", "plan", "delta"):
                if f"{stem}_{s}" in columns and f"{stem}_{s}" not in out:
                    out.append(f"{stem}_{s}")
        else:
            out.append(c)
    return out


def _has_index(table: pd.DataFrame) -> bool:
    return not isinstance(table.index, pd.RangeIndex) or table.index.name is not None


def _cell(value: object) -> object:
    """A value as a cell holds it: numbers as numbers (NaN and infinities as empty or text), the rest as text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, (tuple, list)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _row_money(frame: pd.DataFrame) -> list[bool]:
    """Per row of a mixed table (the summary; the constraints with their unit): does it hold euros?"""
    if "unit" in frame.columns:  # a constraint in € (or € (exact)); a money line planned in euros
        return [isinstance(u, str) and (u.startswith("€") or u == "euros") for u in frame["unit"]]
    first = frame.columns[0]
    if {"official", "plan"} & set(frame.columns):
        return [isinstance(n, str) and "(€)" in n for n in frame[first]]
    return [False] * len(frame)


def _widths(sheet, frame: pd.DataFrame) -> None:
    """Columns wide enough for their header and their longest shown value, at most :data:`MAX_WIDTH`."""
    from openpyxl.utils import get_column_letter

    for j, column in enumerate(frame.columns, start=1):
        values = frame[column]
        longest = len(str(column))
        for v in values.head(2000):
            if isinstance(v, float) and math.isfinite(v):
                text = f"{v:,.2f} €" if abs(v) < 1e15 else f"{v:.3g}"
            else:
                text = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
            longest = max(longest, len(text))
        sheet.column_dimensions[get_column_letter(j)].width = min(longest + 2, MAX_WIDTH)


def _sheet_name(name: str, used: set[str]) -> str:
    """A sheet name Excel accepts (at most 31 characters, none of []:*?/\\), unique in the workbook."""
    base = re.sub(r"[\[\]:*?/\\]", "_", name).strip("'")[:31] or "sheet"
    candidate, k = base, 2
    while candidate.lower() in used:
        suffix = f" ({k})"
        candidate, k = base[: 31 - len(suffix)] + suffix, k + 1
    used.add(candidate.lower())
    return candidate


def _stable(content: bytes) -> bytes:
    """The same workbook with every file inside dated :data:`TIMESTAMP`, so that equal tables give equal bytes."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            stamped = zipfile.ZipInfo(info.filename, date_time=TIMESTAMP.timetuple()[:6])
            stamped.compress_type = zipfile.ZIP_DEFLATED
            stamped.external_attr = info.external_attr
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the time of saving
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>2000-01-01T00:00:00Z\g<2>", data)
            target.writestr(stamped, data)
    return out.getvalue()
