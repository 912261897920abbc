"""HTML pieces of the page: tables of the library's DataFrames, with the terminal's number formats.

The numbers are formatted by :mod:`optalloc.outputs.text` (the formats the command line prints), so a figure reads
the same on the page as in ``optalloc solve``. All text from a model file is escaped: an uploaded model's
names and notes are shown, never interpreted.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from ..outputs.text import count, money, number, signed_count, signed_money


@dataclass(frozen=True)
class Column:
    """A column of an HTML table: the DataFrame column, its header, how a cell reads, and its class."""

    key: str
    header: str
    fmt: Callable[[object], str] = str
    numeric: bool = True


def table(df: pd.DataFrame, columns: Sequence[Column], table_id: str = "", caption: str = "",
          row_class: Callable[[object, pd.Series], str] | None = None) -> str:
    """``df`` as an HTML table; each row carries its index as ``data-id`` (for tests and links)."""
    head = "".join(f'<th class="{"num" if c.numeric else "txt"}">{html.escape(c.header)}</th>' for c in columns)
    body = []
    keys = [c.key for c in columns]
    for idx, row in zip(df.index, df[keys].itertuples(index=False, name=None)):
        cells = "".join(
            f'<td class="{"num" if c.numeric else "txt"}">{html.escape(c.fmt(v))}</td>' for c, v in zip(columns, row))
        extra = row_class(idx, pd.Series(row, index=keys)) if row_class else ""
        body.append(f'<tr data-id="{html.escape(str(idx))}"{f" class={extra!r}" if extra else ""}>{cells}</tr>')
    ident = f' id="{html.escape(table_id)}"' if table_id else ""
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (f'<div class="table-wrap"><table{ident} class="table table-sm oa-table">{cap}<thead><tr>{head}</tr>'
            f'</thead><tbody>{"".join(body)}</tbody></table></div>')


def text_block(text: str, block_id: str = "", wrap: bool = False) -> str:
    """A preformatted block of the command line's text (escaped); ``wrap`` lets long lines wrap."""
    ident = f' id="{html.escape(block_id)}"' if block_id else ""
    return f'<pre{ident} class="oa-text{" wrap" if wrap else ""}">{html.escape(text)}</pre>'


def png_of(figure) -> bytes:
    """The figure as PNG bytes; the figure is closed (pyplot keeps every open figure otherwise)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=100)
    finally:
        plt.close(figure)
    return buffer.getvalue()


def image(png: bytes, alt: str, image_id: str = "") -> str:
    ident = f' id="{html.escape(image_id)}"' if image_id else ""
    data = base64.b64encode(png).decode("ascii")
    return f'<img{ident} class="oa-plot" alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _plain(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def instrument_columns(decimals: int) -> list[Column]:
    """The plan by instrument beside the official plan, as ``optalloc solve`` prints it, with what set
    each level."""
    return [
        Column("area", "area", _plain, numeric=False),
        Column("instrument", "instrument", _plain, numeric=False),
        Column("entries_official", "entries off.", lambda v: count(v, 0)),
        Column("entries_plan", "optimal", lambda v: count(v, decimals)),
        Column("entries_delta", "Δ", lambda v: signed_count(v, decimals)),
        Column("money_official", "money off. €", money),
        Column("money_plan", "optimal €", money),
        Column("money_delta", "Δ €", signed_money),
        Column("integrations_official", "integr. off.", lambda v: number(v, 1)),
        Column("integrations_plan", "optimal", lambda v: number(v, 1)),
        Column("set_by", "set by", _plain, numeric=False),
        Column("note", "note", _plain, numeric=False),
    ]
