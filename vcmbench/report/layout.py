"""Layout primitives of the report documents (contribution and study report, HTML and .docx): the
page (A4 portrait with the MPEG template's 2.5 cm margins), table and figure blocks with numbered
captions and notes, content-sized column widths, and ``scrub`` (no local path, no character XML
cannot hold, no JSON) for every text that reaches a document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_ABS_PATH = re.compile(r"(?<![\w.:/-])(?:[A-Za-z]:\\|~?/)(?:[^\s/\\'\"|]+[/\\])*([^\s/\\'\"|]*)")

# A4 portrait with the MPEG template's 2.5 cm margins: 210 - 2 x 25 mm of text width.
PAGE_MM = (210.0, 297.0)
MARGIN_MM = 25.0
TEXT_WIDTH_MM = PAGE_MM[0] - 2 * MARGIN_MM
TABLE_FONT_PT = 8.0
# Width of an average character of Times New Roman (digits are 0.5 em) and a cell's left + right padding.
_CHAR_EM = 0.55
_CELL_PAD_MM = 5.0  # Word's "Table Grid": 0.08 in (2 mm) each side, plus a margin for bold and rounding
MAX_CELL = 80  # characters in a data-table cell; longer remarks become numbered notes under the table
MAX_VALUE = 400  # characters of one Annex value (the full value stays in the result set)


def scrub(text) -> str:
    """A value as readable text: local absolute paths reduced to their last component, characters
    XML cannot hold removed; a mapping or list as ``key: value`` / comma-separated text (never JSON)."""
    if isinstance(text, dict):
        text = "; ".join(f"{k}: {_plain(v)}" for k, v in text.items())
    elif isinstance(text, (list, tuple)):
        text = ", ".join(_plain(v) for v in text)
    return _ABS_PATH.sub(_last_component, _ILLEGAL.sub("", "" if text is None else str(text)))


def _last_component(m: re.Match) -> str:
    if m.group(0) in ("/", "~/"):  # a lone slash ("a / b") is no path
        return m.group(0)
    return m.group(1) or "."


def _plain(v) -> str:
    if isinstance(v, dict):
        return "(" + "; ".join(f"{k}: {_plain(x)}" for k, x in v.items()) + ")"
    if isinstance(v, (list, tuple)):
        return ", ".join(_plain(x) for x in v)
    return "" if v is None else str(v)


def clean_error(text) -> str:
    """An error for a reader: a Python traceback reduced to its last line (the message)."""
    text = "" if text is None else str(text)
    if "Traceback (most recent call last)" in text or re.search(r'^\s*File ".*", line \d+', text, re.M):
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        text = lines[-1] if lines else ""
    return text


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str = ""
    key_value: bool = False  # a two-column name/value table (Annex A)
    numeric: list[bool] = field(default_factory=list)  # per column: figures (right-aligned, never wrapped)
    notes: list[str] = field(default_factory=list)  # numbered notes under the table: "1) ..."
    refs: dict = field(default_factory=dict)  # (row, column) -> [note numbers] shown as superscripts
    number: int = 0  # "Table N", in reading order (build_document)
    keep_together: bool = False  # on one page where it fits (BD tables)

    @property
    def title(self) -> str:
        """The caption as shown: ``Table 3 – BD vs anchor, …``."""
        return f"Table {self.number} – {self.caption}" if self.number else self.caption

    def note(self, row: int, col: int, text) -> None:
        """Attach a numbered note to cell (row, col); the same text keeps one number."""
        text = scrub(clean_error(text)).strip()
        if not text:
            return
        if text not in self.notes:
            self.notes.append(text)
        n = self.notes.index(text) + 1
        refs = self.refs.setdefault((row, col), [])
        if n not in refs:
            refs.append(n)

    def is_numeric(self, col: int) -> bool:
        return col < len(self.numeric) and self.numeric[col]

    def ref_text(self, row: int, col: int) -> str:
        return ",".join(str(n) for n in self.refs.get((row, col), []))


@dataclass
class Figure:
    condition: str
    scale: float
    caption: str
    number: int = 0

    @property
    def title(self) -> str:
        return f"Figure {self.number} – {self.caption}" if self.number else self.caption


@dataclass
class Section:
    heading: str
    level: int
    blocks: list[tuple] = field(default_factory=list)


_BREAK = re.compile(r"\s+(?!%|pp\b)")
_LONG = 16  # characters: a longer text token may break after a hyphen


def words_of(text: str) -> list[str]:
    """The unbreakable pieces of a cell: a number keeps its unit (``-25.00 %``, ``+4.03 pp``); a long
    token (a codec signature) breaks after its hyphens, as Word and LibreOffice break it."""
    out = []
    for w in _BREAK.split(text):
        out += re.findall(r"[^-]*-|[^-]+$", w) if len(w) > _LONG else [w]
    return [w for w in out if w]


def nobreak(text: str) -> str:
    """``text`` with a no-break space between a number and its unit (``75 %``, ``+4.03 pp``)."""
    return re.sub(r"(?<=[\d\]]) (?=%|pp\b)", "\u00a0", text)


def column_widths(t: Table, total_mm: float = TEXT_WIDTH_MM, font_pt: float = TABLE_FONT_PT) -> list[float]:
    """Column widths in mm summing to ``total_mm``, sized to content: each column at least as wide as its
    longest unbreakable word (a figure is one word: it never wraps), the rest shared by how much
    text each column holds; narrow figure columns, wide text columns."""
    ncols = len(t.headers) if not t.key_value else 2
    char_mm = font_pt * _CHAR_EM * 25.4 / 72
    cap = 0.45 * total_mm  # one long token (a signature) wraps rather than crowd every other column out
    mins, nats = [], []
    for c in range(ncols):
        numeric = c < len(t.numeric) and t.numeric[c]
        texts = [r[c] + (" " + t.ref_text(i, c) if t.refs.get((i, c)) else "") for i, r in enumerate(t.rows)
                 if c < len(r)]
        head = t.headers[c] if c < len(t.headers) and not t.key_value else ""
        words = [w for x in texts for w in ([x] if numeric else words_of(x))]
        longest = max([len(w) for w in words] + [1.15 * len(w) for w in words_of(head)], default=1)  # bold header
        natural = max([len(x) for x in texts] + [len(head)], default=1)
        mins.append(min(longest * char_mm * (1.1 if not numeric else 1.0) + _CELL_PAD_MM, cap))
        nats.append(max(natural * char_mm + _CELL_PAD_MM, mins[-1]))
    if t.key_value:  # name / value: the names on one line where they can be, the values take the rest
        key = min(nats[0] * 1.15, 0.38 * total_mm)  # the names are bold
        return [key, total_mm - key]
    if sum(nats) <= total_mm:  # everything fits on one line: share the spare width by content
        return [w * total_mm / sum(nats) for w in nats]
    if sum(mins) >= total_mm:
        return [w * total_mm / sum(mins) for w in mins]
    spare = total_mm - sum(mins)
    want = [n - m for n, m in zip(nats, mins)]
    return [m + spare * w / sum(want) for m, w in zip(mins, want)]
