"""Document metadata of a contribution: m-number, meeting, dates, authors, WG, texts.

Read from a small YAML file (``vcmbench report --meta meta.yaml``) and/or options::

    m_number: m71234              # the MPEG document number, as registered
    wg: 4                         # ISO/IEC JTC 1/SC 29 working group: 4 (video coding), 2 (requirements), ...
    meeting: 151st MPEG meeting   # or "MPEG 151"
    location: Geneva, CH
    dates: January 2026           # as the header shows it ("13-17 January 2026")
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
silently leave a placeholder).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
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
        if not self.m_number:
            return ""
        m = self.m_number.strip()
        return m if m.lower().startswith("m") else f"m{m}"

    def missing(self) -> list[str]:
        """Keys whose absence leaves a placeholder (abstract is generated, so not listed)."""
        out = [k for k in ("m_number", "meeting", "location", "dates") if not getattr(self, k)]
        if not self.authors:
            out.append("authors")
        out += [k for k in ("introduction", "conclusion") if not getattr(self, k)]
        return out


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
            try:
                wg = int(str(v).upper().replace("WG", "").strip())
            except ValueError:
                raise DataError(f"{src}: wg {v!r} is not a working-group number (e.g. 4).") from None
            if wg not in WG_SUBTITLES:
                raise DataError(f"{src}: wg {wg}: known working groups are {sorted(WG_SUBTITLES)}.")
            kw["wg"] = wg
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
