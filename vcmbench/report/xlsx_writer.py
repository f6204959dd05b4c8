"""Writing an xlsx workbook with XlsxWriter: text cells through ``core.sheets.text_value`` (never a formula),
numbers, formulas stored with the value their writer computed, formats made once per style, A4 print setup
and row heights for wrapped text (no spreadsheet program grows a merged cell, and not every one measures
wrapped text on opening)."""

from __future__ import annotations

import io
import math

from ..core.sheets import text_value

A4 = 9
MIN_PRINT_SCALE = 0.6
PAGE_PX = 1046  # A4 landscape less 0.4 in margins left and right, at 96 px per inch


class Book:
    """An XlsxWriter workbook in memory whose formats are made once per style."""

    def __init__(self) -> None:
        import xlsxwriter

        self._buf = io.BytesIO()
        # strings are never turned into formulas, numbers or links; NaN/inf become spreadsheet errors
        self.wb = xlsxwriter.Workbook(self._buf, {"in_memory": True, "strings_to_formulas": False,
                                                  "strings_to_numbers": False, "strings_to_urls": False,
                                                  "nan_inf_to_errors": True})
        self._formats: dict = {}

    def fmt(self, num: str | None = None, *, bold: bool = False, wrap: bool = False, border: bool = False,
            head: bool = False, quote: bool = False):
        key = (num, bold, wrap, border, head, quote)
        if key not in self._formats:
            props: dict = {"valign": "top"}
            if num:
                props["num_format"] = num
            if bold or head:
                props["bold"] = True
            if wrap or head:
                props["text_wrap"] = True
            if border or head:
                props["border"] = 1
                props["border_color"] = "#808080"
            if head:
                props["bg_color"] = "#E7E6E6"
            if quote:
                props["quote_prefix"] = True
            self._formats[key] = self.wb.add_format(props)
        return self._formats[key]

    def sheet(self, name: str) -> "Sheet":
        return Sheet(self, name)

    def close(self) -> bytes:
        self.wb.close()
        return self._buf.getvalue()


class Sheet:
    """One worksheet: text cells through ``core.sheets.text_value``, numbers, formulas with their values."""

    def __init__(self, book: Book, name: str) -> None:
        self.book, self.name = book, name
        self.ws = book.wb.add_worksheet(name)
        self.widths: dict[int, float] = {}

    def text(self, r: int, c: int, value, **style):
        """Untrusted text as text: XML-illegal characters removed, never a formula."""
        text, quote = text_value(value)
        if not text:  # an empty cell (with its borders), not an empty string
            self.ws.write_blank(r, c, None, self.book.fmt(**style))
        else:
            self.ws.write_string(r, c, text, self.book.fmt(quote=quote, **style))

    def num(self, r: int, c: int, value, num: str | None = None, **style):
        """A number (None: an empty cell); a string that reached here from input is written as text."""
        if isinstance(value, str):
            return self.text(r, c, value, **style)
        if value is None:
            self.ws.write_blank(r, c, None, self.book.fmt(num, **style))
        else:
            self.ws.write_number(r, c, float(value) if isinstance(value, bool) else value, self.book.fmt(num, **style))

    def formula(self, r: int, c: int, formula: str, value, num: str | None = None, **style):
        """A formula this module built (cell references and functions only, no input text), stored with
        ``value``, the result vcmbench computed for it."""
        if isinstance(value, float) and not math.isfinite(value):
            value = "#NUM!"
        self.ws.write_formula(r, c, formula, self.book.fmt(num, **style), value)

    def cell(self, r: int, c: int) -> str:
        from xlsxwriter.utility import xl_rowcol_to_cell

        return xl_rowcol_to_cell(r, c)

    def qcell(self, r: int, c: int) -> str:
        return f"'{self.name}'!{self.cell(r, c)}"

    def set_widths(self, widths: dict[int, float]) -> None:
        self.widths.update(widths)
        for c, w in widths.items():
            self.ws.set_column(c, c, w)

    def print_setup(self, *, header_rows: tuple[int, int] | None = None, key_cols: tuple[int, int] | None = None):
        """A4 landscape, 0.4 in side margins, page numbers; one page wide when that stays readable."""
        ws = self.ws
        ws.set_paper(A4)
        ws.set_landscape()
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.set_footer("&L&A&RPage &P of &N")
        if header_rows:
            ws.repeat_rows(*header_rows)
        if self.print_scale() >= MIN_PRINT_SCALE:
            ws.fit_to_pages(1, 0)
        elif key_cols:
            ws.repeat_columns(*key_cols)

    def print_scale(self) -> float:
        """The scale that fits the used columns to one A4 landscape page wide (1 when they fit as they are)."""
        px = sum(w * 7 + 5 for w in self.widths.values())
        return min(1.0, PAGE_PX / px) if px else 1.0


def lines(text: str, width: float) -> int:
    """Lines a wrapped ``text`` takes in a cell ``width`` characters wide (greedy word wrap; an estimate for
    row heights, since no spreadsheet program grows a merged cell and not every one measures on opening)."""
    cap = max(1.0, width * 1.1 - 1.0)
    n = 0
    for para in str(text).split("\n"):
        n, used = n + 1, 0.0
        for word in para.split():
            w = len(word)
            if used and used + 1 + w > cap:
                n, used = n + 1, 0.0
            while w > cap:  # a word longer than the cell breaks anywhere
                n, w = n + 1, w - cap
            used = used + (1 if used else 0) + w
    return max(1, n)


def fit_row(sh: Sheet, r: int, cells: list[tuple[str, float]]) -> None:
    """Give row ``r`` the height its wrapped cells need (merged cells never grow by themselves)."""
    n = max((lines(t, w) for t, w in cells if t), default=1)
    if n > 1:
        sh.ws.set_row(r, 15 * n + 2)
