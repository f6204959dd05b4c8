"""Annex A of the contribution: provenance as readable two-column tables — nested values flattened
into ``key: sub`` rows (never JSON), tracebacks reduced to their message, local paths scrubbed, long
values cut (the full value stays in the result set), command lines as typed (shell-quoted)."""

from __future__ import annotations

import shlex

from ..core import units
from .layout import MAX_VALUE, Table, clean_error, scrub
from .model import ReportModel, set_label


def command_text(value) -> str:
    """A command line as typed: an argument list shell-quoted (``shlex.join``), a string as it is."""
    if isinstance(value, (list, tuple)) and all(isinstance(x, str) for x in value):
        return shlex.join(value)
    return "" if value is None else str(value)


def _value(v) -> str:
    text = scrub(clean_error(v) if isinstance(v, str) else v)
    if len(text) > MAX_VALUE:
        text = text[:MAX_VALUE].rstrip() + f" … ({len(text)} characters; the full value is in the result set)"
    return text


def _flatten(key: str, v, depth: int = 0) -> list[list[str]]:
    """Rows ``[name, text]`` of one provenance value: mappings as ``key: sub`` rows, a command line (argument
    list) shell-quoted, other lists one row per item unless short, empty values left out; never JSON."""
    if v is None or v == "" or v == [] or v == {}:
        return []
    if "command" in key and isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v) \
            and not key.rstrip("s").endswith("command"):  # one argument list ("command_line": [argv])
        return [[key, _value(command_text(v))]]
    if isinstance(v, dict):
        if depth >= 2:
            return [[key, _value(v)]]
        return [row for k, x in v.items() for row in _flatten(f"{key}: {k}" if key else str(k), x, depth + 1)]
    if isinstance(v, (list, tuple)):
        if "command" not in key and all(not isinstance(x, (dict, list, tuple)) for x in v) \
                and len(", ".join(map(str, v))) <= 120:
            return [[key, _value(", ".join(map(str, v)))]]
        rows = []
        for i, x in enumerate(v, 1):
            if "command" in key and (isinstance(x, str) or isinstance(x, (list, tuple))):
                rows.append([f"{key} [{i}]", _value(command_text(x))])
            else:
                rows += _flatten(f"{key} [{i}]", x, depth + 1)
        return rows
    if isinstance(v, float):
        return [[key, f"{v:g}"]]
    return [[key, _value(v)]]


def _annex(model: ReportModel) -> list[tuple]:
    prov = model.provenance
    rows = [["Generated (UTC)", str(prov.get("generated_utc", ""))],
            ["Command line", _value(command_text(prov.get("command_line", "")))],
            ["BD method", str(prov.get("bd_method", ""))]]
    rows += [[f"environment: {k}", _value(v)] for k, v in prov.get("environment", {}).items()]
    rows += [["FORCED", _value(f)] for f in prov.get("forced", [])]
    rows += [["MIXED (--allow-mixed)", _value(f)] for f in prov.get("mixed", [])]
    blocks: list[tuple] = [("table", Table(["Item", "Value"], rows, "Report provenance", key_value=True))]
    blocks.append(("table", Table(["Condition / test / scale", "BD signature"],
                                  [[" / ".join((scrub(e.condition), scrub(e.test_label), f"summary: {scrub(e.name)}")),
                                    scrub(e.signature) if e.result is not None else "not computed"]
                                   for e in model.summaries]
                                  + [[" / ".join((scrub(e.condition), scrub(e.test_label), units.scale_text(e.scale))),
                                      scrub(e.signature) if e.ok else "not computed"] for e in model.entries],
                                  "BD signatures", key_value=True)))
    for s in model.sections:
        for k, rs in enumerate([s.anchor, *s.tests]):
            rows = [["condition", scrub(rs.condition)], ["codec", scrub(rs.codec)], ["signature", scrub(rs.signature)],
                    ["metric", scrub(rs.metric)], ["dataset", scrub(rs.dataset)]]
            for key, v in rs.provenance.items():
                rows += _flatten(str(key), v)
            rows += [["note", _value(n)] for n in rs.notes]
            role = "Anchor" if k == 0 else "Test"
            blocks.append(("table", Table(["Item", "Value"], rows, f"{role} result set {scrub(set_label(rs))}",
                                          key_value=True)))
    return blocks
