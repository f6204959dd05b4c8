"""Conformance suites: bitstreams with their expected decoded MD5 and format, run through a decoder.

A suite is a JSON (or YAML) file with ``cases``, each case having at least
``bitstream`` (path relative to the suite file), ``decoded_md5``, ``width``, ``height``,
``chroma_format`` (400/420/444) and ``bit_depth``; ``name`` is optional.  The VTM 12.0 fixture
manifest (``fixtures/vtm12/manifest.json``) is such a suite as it is.

The decoded MD5 is the MD5 of the decoder's output file: planar, frames in output order, at the
case's ``bit_depth`` (16-bit little-endian above 8), 4:0:0 as luma only (VTM DecoderApp's
``-d BITDEPTH`` layout).  The decoder is a name (``ffmpeg``, ``pyav``, ``vtm``) or a command
template with ``{input}``/``{output}`` placeholders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import DataError
from .verify import verify_many
from .yuv import YuvFormat

REQUIRED = ("bitstream", "decoded_md5", "width", "height", "chroma_format", "bit_depth")


@dataclass
class CaseResult:
    name: str
    bitstream: str
    ok: bool
    reason: str
    expected_md5: str
    decoded_md5: str | None
    seconds: float
    checks: dict[str, Any] = field(default_factory=dict)


@dataclass
class SuiteReport:
    suite: str
    decoder: str
    decoder_version: str
    cases: list[CaseResult]

    @property
    def passed(self) -> int:
        return sum(c.ok for c in self.cases)

    @property
    def ok(self) -> bool:
        return bool(self.cases) and self.passed == len(self.cases)

    def failing(self) -> list[CaseResult]:
        return [c for c in self.cases if not c.ok]

    def to_dict(self) -> dict[str, Any]:
        return {"suite": self.suite, "decoder": self.decoder, "decoder_version": self.decoder_version,
                "ok": self.ok, "passed": self.passed, "total": len(self.cases),
                "cases": [c.__dict__ for c in self.cases]}


def load_suite(path: str | Path) -> list[dict[str, Any]]:
    """Read and validate a suite file; bitstream paths are resolved against its folder."""
    from ..core.jsonio import read_json

    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        from ..core.inputs import MAX_CONDITION, read_text

        text = read_text(path, "Suite file", MAX_CONDITION)
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise DataError(f"Suite file {path} is not valid YAML: {exc}") from None
        except RecursionError:
            raise DataError(f"Suite file {path} is nested too deeply to read; a suite is a list of cases — check "
                            "the file.") from None
    else:
        data = read_json(path)
    cases = data.get("cases") if isinstance(data, dict) else None
    if not isinstance(cases, list) or not cases:
        raise DataError(f"{path}: a conformance suite needs a non-empty 'cases' list.")
    out = []
    for i, c in enumerate(cases):
        missing = [k for k in REQUIRED if not isinstance(c, dict) or k not in c]
        if missing:
            raise DataError(f"{path}: case {i} lacks {missing} (every case needs {', '.join(REQUIRED)}).")
        case = dict(c)
        case.setdefault("name", Path(c["bitstream"]).stem)
        case["path"] = (path.parent / c["bitstream"]).resolve()
        try:
            case["fmt"] = YuvFormat(int(c["width"]), int(c["height"]), int(c["chroma_format"]), int(c["bit_depth"]))
        except Exception as exc:  # noqa: BLE001
            raise DataError(f"{path}: case {case['name']}: {exc}") from None
        out.append(case)
    return out


def run_suite(suite: str | Path, decoder: str = "pyav", timeout: float = 60.0, *, executor: Any = None,
              on_done: Any = None) -> SuiteReport:
    """Decode every case with ``decoder`` and compare the decoded MD5 with the expected one; cases run on
    ``executor`` (the run executor) when given, ``on_done(done, total, path)`` reports progress."""
    from .codecs.decoders import get_decoder

    cases = load_suite(suite)
    dec = get_decoder(decoder)
    present = [i for i, c in enumerate(cases) if c["path"].is_file()]
    got = verify_many([{"path": cases[i]["path"], "expected": cases[i]["fmt"], "md5": str(cases[i]["decoded_md5"]),
                        "decoders": (decoder,), "timeout": timeout, "output_bit_depth": cases[i]["fmt"].bit_depth}
                       for i in present], executor, on_done, with_seconds=True)
    by_case = dict(zip(present, got))
    results = []
    for i, c in enumerate(cases):
        if i not in by_case:
            results.append(CaseResult(c["name"], str(c["path"]), False, f"not decodable: {c['path']} is missing",
                                      c["decoded_md5"], None, 0.0))
            continue
        v, seconds = by_case[i]
        results.append(CaseResult(c["name"], str(c["path"]), v.ok, v.reason, str(c["decoded_md5"]).lower(),
                                  v.decoded_md5, round(seconds, 4), v.checks))
    try:
        version = dec.version()
    except Exception as exc:  # noqa: BLE001 - a version is provenance, not a verdict
        version = f"unknown ({exc})"
    return SuiteReport(str(suite), decoder, version, results)


def write_report(report: SuiteReport, out: str | Path) -> Path:
    """Write the report as ``.json``, ``.html`` (self-contained, escaped) or ``.xlsx``."""
    from ..core.errors import UsageError
    from ..core.jsonio import atomic_write_text, write_json

    out = Path(out)
    suffix = out.suffix.lower()
    if suffix == ".json":
        return write_json(out, report.to_dict())
    if suffix in (".html", ".htm"):
        from ..core.templating import render

        return atomic_write_text(out, render("conformance.html.j2", r=report))
    if suffix == ".xlsx":
        return _xlsx(report, out)
    raise UsageError(f"Unknown report type {out.suffix!r}: use .json, .html or .xlsx.")


def _xlsx(r: SuiteReport, out: Path) -> Path:
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font

    from ..core.jsonio import atomic_write_bytes
    from ..core.sheets import append_row

    wb = Workbook()
    ws = wb.active
    ws.title = "conformance"
    # every string from the suite (case names, MD5s, reasons, the decoder's banner) is a text cell, never a formula
    append_row(ws, ["suite", r.suite])
    append_row(ws, ["decoder", r.decoder, r.decoder_version])
    append_row(ws, ["passed", r.passed, "of", len(r.cases)])
    ws.append([])
    append_row(ws, ["case", "verdict", "expected MD5", "decoded MD5", "seconds", "reason"])
    for cell in ws[5]:
        cell.font = Font(bold=True)
    for c in r.cases:
        append_row(ws, [c.name, "PASS" if c.ok else "FAIL", c.expected_md5, c.decoded_md5 or "", c.seconds, c.reason])
    buf = io.BytesIO()
    wb.save(buf)
    return atomic_write_bytes(out, buf.getvalue())
