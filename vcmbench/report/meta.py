"""Document metadata of a contribution: m-number, meeting, dates, authors, WG, texts.

Read from a small YAML file (``vcmbench report --meta meta.yaml``) and/or options::

    m_number: m71234              # the MPEG input-document number as registered: m + digits
    wg: 4                         # ISO/IEC JTC 1/SC 29 working group: 4 (video coding) or 2 (requirements)
    meeting: 151                  # the meeting number (also "151st MPEG meeting", "MPEG 151")
    location: Geneva, CH
    dates: 2026-01-13/2026-01-17  # ISO dates, start/end (or one date); shown as "13–17 January 2026"
    title: Results of ... under the VCM CTC
    purpose: Information          # or Proposal
    authors:
      - {name: A. Author, affiliation: Some University, email: a@example.org}
    abstract: ...                 # optional: generated from the results when absent
    introduction: ...             # paragraphs separated by blank lines
    proposal: ...
    conclusion: ...

Every key is optional; what is missing stays a visible placeholder in the document, and
``Meta.missing()`` names it (the CLI warns).  Unknown keys are refused (a typo would otherwise
silently leave a placeholder).  What is given is checked (``check_meta``; a ``DataError`` naming
the fix, exit 2): ``wg`` is 2 or 4 (the SC 29 groups where VCM/FCM documents go); ``m_number`` is
``m`` followed by digits — ``M71234`` and a bare ``71234`` are accepted and written ``m71234``,
the committee's form; ``meeting`` holds a positive meeting number; ``dates`` are well-formed ISO
dates ``YYYY-MM-DD``, start not after end.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from ..core.errors import DataError

# ISO/IEC JTC 1/SC 29 working groups and the subtitle their input documents carry.
WG_SUBTITLES = {
    2: "MPEG Technical Requirements",
    3: "MPEG Systems",
    4: "MPEG Video Coding",
    6: "MPEG Audio Coding",
    11: "Coding of Moving Pictures and Audio",  # until 2020 (now split into the WGs above)
}
WG_ALLOWED = (2, 4)  # VCM/FCM input documents go to WG 2 (requirements) or WG 4 (video coding)
TEXT_KEYS = ("abstract", "introduction", "proposal", "conclusion")
MAX_META_BYTES = 1024 * 1024


@dataclass
class Author:
    name: str
    affiliation: str = ""
    email: str = ""

    def line(self) -> str:
        return ", ".join(x for x in (self.name, self.affiliation, self.email) if x)


@dataclass
class Meta:
    m_number: str = ""
    wg: int = 4
    meeting: str = ""
    location: str = ""
    dates: str = ""
    title: str = ""
    purpose: str = "Information"
    authors: list[Author] = field(default_factory=list)
    abstract: str = ""
    introduction: str = ""
    proposal: str = ""
    conclusion: str = ""

    @property
    def wg_line(self) -> str:
        return f"ISO/IEC JTC 1/SC 29/WG {self.wg}"

    @property
    def subtitle(self) -> str:
        return WG_SUBTITLES[self.wg]

    @property
    def doc_number(self) -> str:
        return self.m_number.strip()

    @property
    def meeting_text(self) -> str:
        """``151st MPEG meeting`` for a meeting number (``meeting: 151``)."""
        return f"{_ordinal(int(self.meeting))} MPEG meeting" if self.meeting.isdigit() else self.meeting

    @property
    def dates_text(self) -> str:
        """``13–17 January 2026`` for ``2026-01-13/2026-01-17`` (as the document header shows them)."""
        if not self.dates:
            return ""
        start, end = _parse_dates(self.dates, "dates")
        if start == end:
            return _day(start)
        if (start.year, start.month) == (end.year, end.month):
            return f"{start.day}–{end.day} {start:%B %Y}"
        if start.year == end.year:
            return f"{start.day} {start:%B} – {_day(end)}"
        return f"{_day(start)} – {_day(end)}"

    def missing(self) -> list[str]:
        """Keys whose absence leaves a placeholder (abstract is generated, so not listed)."""
        out = [k for k in ("m_number", "meeting", "location", "dates") if not getattr(self, k)]
        if not self.authors:
            out.append("authors")
        out += [k for k in ("introduction", "conclusion") if not getattr(self, k)]
        return out


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _day(d: _dt.date) -> str:
    return f"{d.day} {d:%B %Y}"


_M_NUMBER = re.compile(r"[mM]?(\d{1,7})")
_MEETING = re.compile(r"(?:MPEG\s*)?#?(\d+)(?:st|nd|rd|th)?(?:\s+MPEG)?(?:\s+meeting)?", re.I)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def check_m_number(value, src: str = "meta") -> str:
    """The committee's form ``m71234``: ``M71234`` and ``71234`` are written so; anything else is refused."""
    text = "" if value is None else str(value).strip()
    if not text:
        return ""
    m = _M_NUMBER.fullmatch(text)
    if not m or int(m.group(1)) == 0:
        raise DataError(f"{src}: m_number {text!r} is not an MPEG input-document number. Give it as registered in "
                        "the document management system: m followed by digits, e.g. m71234 (no version suffix).")
    return f"m{m.group(1)}"


def check_meeting(value, src: str = "meta") -> str:
    """A positive meeting number (``151``; ``151st MPEG meeting`` and ``MPEG 151`` are read as 151)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        value = str(value)
    m = _MEETING.fullmatch(str(value).strip())
    if not m or int(m.group(1)) < 1:
        raise DataError(f"{src}: meeting {value!r} is not a meeting number. Give the MPEG meeting's number as a "
                        "positive integer, e.g. meeting: 151 (shown as '151st MPEG meeting').")
    return str(int(m.group(1)))


def _parse_dates(value, src: str) -> tuple[_dt.date, _dt.date]:
    fix = ("give the meeting dates as ISO dates, start/end: YYYY-MM-DD/YYYY-MM-DD (e.g. 2026-01-13/2026-01-17), "
           "or one date YYYY-MM-DD")
    if isinstance(value, _dt.datetime):
        value = value.date()
    if isinstance(value, _dt.date):
        parts = [value]
    elif isinstance(value, (list, tuple)) and 1 <= len(value) <= 2:
        parts = list(value)
    elif isinstance(value, str):
        parts = [x.strip() for x in re.split(r"\s*(?:/|–|—|\bto\b|\s-\s)\s*", value.strip())]
    else:
        raise DataError(f"{src}: dates {value!r}: {fix}.")
    days = []
    for x in parts:
        if isinstance(x, _dt.date):
            days.append(x if not isinstance(x, _dt.datetime) else x.date())
            continue
        x = str(x).strip()
        if not _ISO.fullmatch(x):
            raise DataError(f"{src}: dates {value!r}: {x!r} is not an ISO date; {fix}.")
        try:
            days.append(_dt.date.fromisoformat(x))
        except ValueError:
            raise DataError(f"{src}: dates {value!r}: {x!r} is no calendar day; {fix}.") from None
    if len(days) not in (1, 2):
        raise DataError(f"{src}: dates {value!r}: {fix}.")
    start, end = days[0], days[-1]
    if start > end:
        raise DataError(f"{src}: dates {value!r}: the start {start} is after the end {end}; give start/end in order.")
    return start, end


def check_dates(value, src: str = "meta") -> str:
    """Meeting dates as ``YYYY-MM-DD/YYYY-MM-DD`` (or one ``YYYY-MM-DD``), checked and normalised."""
    if value is None or value == "" or value == []:
        return ""
    start, end = _parse_dates(value, src)
    return start.isoformat() if start == end else f"{start.isoformat()}/{end.isoformat()}"


def check_wg(value, src: str = "meta") -> int:
    try:
        wg = int(str(value).upper().replace("WG", "").strip())
    except ValueError:
        raise DataError(f"{src}: wg {value!r} is not a working-group number; give wg: 4 (video coding) or "
                        "wg: 2 (technical requirements).") from None
    if wg not in WG_ALLOWED:
        raise DataError(f"{src}: wg {wg}: VCM/FCM documents go to ISO/IEC JTC 1/SC 29 WG 4 (video coding) or WG 2 "
                        "(technical requirements); give wg: 4 or wg: 2.")
    return wg


def check_meta(meta: "Meta", src: str = "meta") -> "Meta":
    """``meta`` with m_number, meeting and dates checked and written in their normal form (DataError otherwise)."""
    return replace(meta, wg=check_wg(meta.wg, src), m_number=check_m_number(meta.m_number, src),
                   meeting=check_meeting(meta.meeting, src), dates=check_dates(meta.dates, src))


def _text(value, key: str, src: str) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise DataError(f"{src}: {key} must be text, not {type(value).__name__}.")
    return value.strip()


def meta_from_dict(data: dict, src: str = "meta") -> Meta:
    if not isinstance(data, dict):
        raise DataError(f"{src}: expected a mapping of keys (m_number, meeting, authors, ...).")
    known = {f.name for f in fields(Meta)}
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise DataError(f"{src}: unknown key(s) {unknown}; known: {sorted(known)}.")
    kw = {}
    for k, v in data.items():
        if k == "wg":
            kw["wg"] = check_wg(v, src)
        elif k == "m_number":
            kw[k] = check_m_number(v, src)
        elif k == "meeting":
            kw[k] = check_meeting(v, src)
        elif k == "dates":
            kw[k] = check_dates(v, src)
        elif k == "authors":
            if not isinstance(v, list):
                raise DataError(f"{src}: authors must be a list of {{name, affiliation, email}} (or of names).")
            authors = []
            for a in v:
                if isinstance(a, str):
                    authors.append(Author(a.strip()))
                elif isinstance(a, dict) and a.get("name"):
                    bad = sorted(str(x) for x in a if x not in ("name", "affiliation", "email"))
                    if bad:
                        raise DataError(f"{src}: author keys {bad} unknown; use name, affiliation, email.")
                    authors.append(Author(*(_text(a.get(x), f"author {x}", src) for x in ("name", "affiliation", "email"))))
                else:
                    raise DataError(f"{src}: each author needs at least a name.")
            kw["authors"] = authors
        else:
            kw[k] = _text(v, k, src)
    return Meta(**kw)


def load_meta(path: str | Path) -> Meta:
    import yaml

    p = Path(path)
    if not p.is_file():
        raise DataError(f"--meta {p}: not a file. Give a YAML file with m_number, meeting, authors, ... "
                        "(see `vcmbench report --help`).")
    if p.stat().st_size > MAX_META_BYTES:
        raise DataError(f"--meta {p}: larger than 1 MiB; a metadata file is far smaller.")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise DataError(f"--meta {p}: not UTF-8 text.") from None
    except yaml.YAMLError as exc:
        raise DataError(f"--meta {p}: not valid YAML ({exc}).") from None
    except RecursionError:
        raise DataError(f"--meta {p}: nested too deeply to read; a metadata file is one mapping of plain values "
                        "— check that it is the right file.") from None
    return meta_from_dict(data or {}, str(p))


def parse_author(text: str) -> Author:
    """``--author "Name, Affiliation, email"``."""
    parts = [x.strip() for x in text.split(",")]
    if not parts[0]:
        raise DataError(f"--author {text!r}: give 'Name, Affiliation, e-mail' (affiliation and e-mail optional).")
    email = parts[-1] if len(parts) > 1 and "@" in parts[-1] else ""
    aff = ", ".join(parts[1:-1] if email else parts[1:])
    return Author(parts[0], aff, email)
