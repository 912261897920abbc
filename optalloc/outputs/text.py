"""Plain-text tables for the terminal: aligned columns, money to the cent, totals that add up.

The library returns DataFrames; this module turns them into strings (it never prints). Money is shown
with thousands separators and two decimals, entries with the decimals the plan needs.

Text from a model file (names, notes, sources) reaches the terminal: :func:`terminal_safe` escapes what a
terminal would act on instead of showing — control characters (escape sequences that move the cursor,
recolour or retitle the window) and the bidirectional overrides that make a line read in another order
than it is stored; :func:`printable` escapes line breaks and tabs too, for a table cell.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd


def money(v: float) -> str:
    return "" if missing(v) else f"{v:,.2f}"


def signed_money(v: float) -> str:
    if missing(v):
        return ""
    return "0.00" if abs(v) < 0.005 else f"{v:+,.2f}"


def count(v: float, decimals: int = 1) -> str:
    if missing(v):
        return ""
    if abs(v - round(v)) < 10 ** -(decimals + 3):
        return f"{round(v):,}"
    return f"{v:,.{decimals}f}"


def signed_count(v: float, decimals: int = 1) -> str:
    if missing(v):
        return ""
    if abs(v) < 0.5 * 10**-decimals:
        return "0"
    return ("+" if v > 0 else "") + count(v, decimals)


def number(v: float, decimals: int = 3) -> str:
    return "" if missing(v) else f"{v:z,.{decimals}f}"  # z: a tiny negative prints 0, not -0


def percent(v: float, decimals: int = 1) -> str:
    return "" if missing(v) else f"{v * 100:.{decimals}f} %"


_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"  # control characters but tab and line feed (C0, DEL, C1)
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional marks, embeddings, overrides, isolates
    "\u2028\u2029]"  # line and paragraph separators
)
_UNSAFE_IN_CELL = re.compile(_UNSAFE.pattern[:-1] + "\t\n]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """``text`` with every character a terminal would act on escaped as ``\\x1b`` or ``\\u202e``; line
    breaks and tabs stay."""
    return _UNSAFE.sub(_escape, text)


def printable(text: str) -> str:
    """:func:`terminal_safe`, and line breaks and tabs escaped too: one table cell stays on one line."""
    return _UNSAFE_IN_CELL.sub(_escape, text)


def missing(v: object) -> bool:
    """None or NaN: a cell with nothing to show."""
    return v is None or (isinstance(v, float) and math.isnan(v))


@dataclass(frozen=True)
class Col:
    """A column of a text table: the DataFrame column (or index when None), header, formatter, width cap."""

    key: str | None
    header: str
    fmt: Callable[[object], str] = str
    align: str = ">"
    width: int | None = None


def render(df: pd.DataFrame, cols: Sequence[Col], title: str = "", total: dict[str, str] | None = None) -> str:
    """Render a DataFrame as an aligned text table; ``total`` adds a last line of preformatted cells."""
    body = []
    for idx, row in df.iterrows():
        cells = []
        for c in cols:
            v = idx if c.key is None else row[c.key]
            text = printable(c.fmt(v))
            if c.width and len(text) > c.width:
                text = text[: c.width - 1] + "…"
            cells.append(text)
        body.append(cells)
    if total is not None:
        body.append([total.get(c.key or "", "") for c in cols])
    widths = [max([len(c.header)] + [len(r[i]) for r in body]) for i, c in enumerate(cols)]
    lines = []
    if title:
        lines.append(title)
    lines.append("  ".join(f"{c.header:{c.align}{w}}" for c, w in zip(cols, widths)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    for k, r in enumerate(body):
        if total is not None and k == len(body) - 1:
            lines.append("  ".join("-" * w for w in widths))
        lines.append("  ".join(f"{cell:{c.align}{w}}" for cell, c, w in zip(r, cols, widths)).rstrip())
    return "\n".join(lines)
