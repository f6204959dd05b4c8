"""Spreadsheet cells from input are text: never a formula, never characters the file format cannot hold.

openpyxl turns a string that starts with ``=`` into a formula; Excel and LibreOffice also evaluate
text typed with a leading ``+``, ``-`` or ``@`` once the cell is edited.  Every cell written from
input (case names, labels, study results, notes) goes through :func:`set_text` /
:func:`append_row` (openpyxl) or :func:`text_value` (the report workbook, written with XlsxWriter's
``write_string``): the cell is a string cell (``data_type "s"``) and, when it starts with one of
those characters, carries the quote prefix so that editing it keeps it text.  Formulas are written
only by the code that builds them (``report.xlsx``: cell references and functions, never input text).
"""

from __future__ import annotations

import re
from typing import Any, Iterable

ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
FORMULA_START = ("=", "+", "-", "@")
MAX_TEXT = 32767  # the most characters one xlsx cell holds


def text_value(value: Any) -> tuple[str, bool]:
    """``value`` as cell text (XML-illegal characters removed, at most :data:`MAX_TEXT` characters) and
    whether the cell needs the quote prefix (it starts like a formula)."""
    text = ILLEGAL.sub("", "" if value is None else str(value))[:MAX_TEXT]
    return text, text.startswith(FORMULA_START)


def set_text(cell: Any, value: Any) -> Any:
    """``cell`` holding ``value`` as text (None: empty text)."""
    text, quote = text_value(value)
    cell.value = text
    cell.data_type = "s"  # a leading '=' stays a literal string
    if quote:
        cell.quotePrefix = True
    return cell


def _plain(v: Any) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, str))


def append_row(ws: Any, values: Iterable[Any]) -> None:
    """``ws.append(values)`` with numbers, booleans and None as they are and anything else (strings, and
    lists or mappings a results file may hold) written as text."""
    values = list(values)
    ws.append([v if _plain(v) else None for v in values])
    if not values:
        return
    row = ws.max_row
    for col, v in enumerate(values, start=1):
        if not _plain(v):
            set_text(ws.cell(row, col), v)
