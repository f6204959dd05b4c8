"""Updating a regression anchor from runs, with a reason recorded in its history (see ``vcmbench.anchors``)."""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Sequence

from .. import RESULTS_VERSION, __version__
from ..core.errors import UsageError
from ..core.jsonio import write_json
from ..core.records import ResultSet
from ..core.units import scale_text
from .format import (
    DEFAULT_TOLERANCES,
    RATE_METRICS,
    Anchor,
    AnchorRow,
    _num,
    anchor_from_dict,
    anchor_path,
    anchors_dir,
    load_anchor,
)

# ---------------------------------------------------------------------------------------------
# Update (the only way an anchor changes)

DEFAULT_RULE = ("bits exact (deterministic single-threaded encoder); bpp 1e-12 (float round-off only); "
                "accuracy 1e-9 (the same detections give the same AP)")


def _rows_from_result_set(rs: ResultSet, label: str, old: dict[tuple, AnchorRow]) -> list[AnchorRow]:
    rows = []
    for p in sorted(rs.points, key=lambda p: (-p.scale, p.qp)):
        metrics: list[tuple[str, float, str]] = [("bits", float(p.bits), "bits"), ("bpp", float(p.bpp), "bpp")]
        metrics += [(k, float(v), "fraction") for k, v in sorted(p.accuracy.items()) if _num(v)]
        for metric, value, unit in metrics:
            prev = old.get((label, round(float(p.scale), 9), int(p.qp), metric))
            kind = metric if metric in RATE_METRICS else "accuracy"
            tol = prev.tolerance if prev else DEFAULT_TOLERANCES[kind]
            rel = prev.rel_tolerance if prev else 0.0
            rows.append(AnchorRow(label=label, condition=rs.condition, scale=float(p.scale), qp=int(p.qp),
                                  metric=metric, expected=int(value) if metric == "bits" else value,
                                  tolerance=tol, rel_tolerance=rel, unit=unit))
    return rows


def check_writable(directory: Path) -> None:
    """Refuse (with the fix) an anchor directory that cannot be written, e.g. inside an installed package."""
    import tempfile

    if not directory.is_dir():
        raise UsageError(f"Anchor directory {directory} does not exist. Create it or pass --anchors-dir DIR.")
    try:
        ok = os.access(directory, os.W_OK)
        if ok:
            with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-test-"):
                pass
    except OSError:
        ok = False
    if not ok:
        raise UsageError(f"Anchor directory {directory} is not writable (an installed package?). "
                         "Pass --anchors-dir DIR or set VCMBENCH_ANCHORS_DIR to a writable copy of the anchors.")


def update_anchor(name: str, runs: ResultSet | Sequence[ResultSet], reason: str, from_run: str | Sequence[str], *,
                  directory: str | os.PathLike | None = None, create: bool = False,
                  title: str | None = None, rerun: str | None = None, notes: Sequence[str] = (),
                  now: _dt.datetime | None = None) -> tuple[Anchor, list[str]]:
    """Replace a regression anchor's rows by the runs', recording ``reason`` in its history.

    Each run's rows are stored under its label (``ResultSet.label``) with its signature; the rows
    of labels not given stay as they are.  Returns the new anchor and a list of human-readable
    changes (old -> new per changed row).  Tolerances of existing rows are kept; new rows get
    ``DEFAULT_TOLERANCES``.  Published and smoke references are facts from their source and are
    not updated from a run.
    """
    sets = [runs] if isinstance(runs, ResultSet) else list(runs)
    froms = [from_run] if isinstance(from_run, str) else [str(f) for f in from_run]
    if not sets or len(froms) != len(sets):
        raise UsageError("update_anchor needs one source name per result set.")
    if not reason or not reason.strip():
        raise UsageError("An anchor update needs a reason (--reason \"...\"): it is recorded in the anchor's history.")
    for rs, f in zip(sets, froms):
        bad = [f"scale {scale_text(p.scale)} QP {p.qp}" for p in rs.points if p.failed]
        if bad:
            raise UsageError(f"Run {f} has bitstreams that failed verification (at {', '.join(bad[:3])}): its "
                             "numbers cannot become an anchor. Find out why (see the run's notes), then re-run.")
    labels = [rs.label for rs in sets]
    if len(set(labels)) != len(labels):
        raise UsageError(f"The runs carry the same label twice ({labels}); each curve of an anchor needs its own label.")
    d = anchors_dir(directory)
    path = anchor_path(name, directory)
    check_writable(d)
    old: Anchor | None = None
    if path.exists():
        old = load_anchor(path)
        if old.kind != "regression":
            raise UsageError(f"Anchor {name!r} is a {old.kind}: its figures come from {old.source!r} and are not "
                             "updated from a run. Edit the file with the new source instead.")
        for rs in sets:
            if rs.condition != old.condition:
                raise UsageError(f"Anchor {name!r} is for condition {old.condition!r} but run {rs.label!r} is "
                                 f"{rs.condition!r}. Update it from runs of its own condition, or create a new anchor.")
    elif not create:
        raise UsageError(f"Anchor {name!r} does not exist in {d}. Pass --create to create it from the run(s).")
    elif len({rs.condition for rs in sets}) > 1:
        raise UsageError(f"The runs are of different conditions ({sorted({rs.condition for rs in sets})}); "
                         "an anchor holds one condition.")
    old_rows = {r.key: r for r in old.rows} if old else {}
    kept = [r for r in (old.rows if old else []) if r.label not in labels]
    rows = list(kept)
    for rs in sets:
        rows += _rows_from_result_set(rs, rs.label, old_rows)
    changes = []
    new_keys = {r.key for r in rows}
    for r in rows:
        prev = old_rows.get(r.key)
        if prev is None:
            changes.append(f"added {r.label} {r.metric} at scale {scale_text(r.scale)} QP {r.qp}: {r.expected!r}")
        elif prev.expected != r.expected:
            changes.append(f"{r.label} {r.metric} at scale {scale_text(r.scale)} QP {r.qp}: {prev.expected!r} -> {r.expected!r}")
    for k, prev in old_rows.items():
        if k not in new_keys:
            changes.append(f"removed {prev.label} {prev.metric} at scale {scale_text(prev.scale)} QP {prev.qp} "
                           f"(was {prev.expected!r})")
    sigs = dict(old.label_signatures) if old else {}
    if old and not sigs:
        sigs = {lab: old.signature for lab in old.labels}
    for rs in sets:
        sigs[rs.label] = rs.signature
    main_label = (old.labels[0] if old and old.labels and old.labels[0] not in labels else labels[0])
    main_sig = sigs.get(main_label, sets[0].signature)
    stamp = (now or _dt.datetime.now(_dt.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    entry = {"date": stamp, "reason": reason.strip(), "from_run": ", ".join(froms), "vcmbench_version": __version__,
             "results_version": RESULTS_VERSION, "changed_rows": len(changes),
             "signature": "; ".join(f"{rs.label}: {rs.signature}" for rs in sets)}
    prov = dict(old.provenance) if old else {}
    runs_prov = dict(prov.get("runs", {}))
    for rs, f in zip(sets, froms):
        runs_prov[rs.label] = {"run": f, "codec": rs.codec, "dataset": rs.dataset, "metric": rs.metric,
                               "quality_key": rs.quality_key, "notes": rs.notes, "run_provenance": rs.provenance}
    prov["runs"] = runs_prov
    old_notes = old.notes if old else []
    anchor = Anchor(
        name=name, kind="regression", title=title or (old.title if old else f"{sets[0].condition} regression anchor"),
        condition=sets[0].condition, signature=main_sig,
        source="vcmbench runs (each change, with its run, in history)", rows=rows, provenance=prov,
        notes=[*old_notes, *[n for n in notes if n not in old_notes]],
        tolerance_rule=old.tolerance_rule if old else DEFAULT_RULE,
        metric_keys=old.metric_keys if old else {}, rerun=rerun if rerun is not None else (old.rerun if old else None),
        reported=old.reported if old else [], history=[*(old.history if old else []), entry],
        label_signatures=sigs if len(sigs) > 1 or (old and old.label_signatures) else {}, path=path,
    )
    anchor_from_dict(anchor.to_dict(), path)  # validate before writing
    write_json(path, anchor.to_dict())
    return anchor, changes

