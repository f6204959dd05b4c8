"""``vcmbench results RUNDIR`` on a video run: the sequence rows, the class rows and Overall (no command here).

Formatting only: the numbers come from ``run.video_results`` (``video-results.json``), shown with
``core.units`` (AP and MOTA in percent, 3 decimals; kbps 2; bpp 4); a tracking run's rows add their counts
(ID switches, false positives, misses) and the uncompressed reference's scores.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import echo_json, table


def show_video_results(rd: Path, as_json: bool, as_csv: bool, rebuild: bool) -> None:
    from ..core.jsonio import read_json
    from ..run.video_results import VIDEO_RESULTS_FILE, build_video_results

    if rebuild or not (rd / VIDEO_RESULTS_FILE).exists():
        data = build_video_results(rd).to_dict()
    else:
        data = read_json(rd / VIDEO_RESULTS_FILE)
    if as_json:
        echo_json(data)
        return
    keys = _keys(data)
    if as_csv:
        _csv(data, keys)
        return
    _text(rd, data, keys)


COUNTS = ("IDs", "FP", "FN")  # a tracking row's counts (run.video_mot): ID switches, false positives, misses


def _counts(data: dict) -> list[str]:
    """The count columns of a tracking run's rows (none for detection)."""
    return [k for k in COUNTS if any(k in (r.get("counts") or {}) for r in [*data["sequences"], *data["classes"]])]


def _keys(data: dict) -> list[str]:
    return list(dict.fromkeys([data["quality_key"], *[k for r in [*data["sequences"], *data["classes"]]
                                                       for k in r["accuracy"]]]))


def _csv(data: dict, keys: list[str]) -> None:
    """One row per sequence x QP then per class x rate point.  ``Dataset`` holds the final CSV's names (the
    sequence, ``CLASS-<class>``), so ``bdrate`` reads this file as it reads ``final_<DATASET>.csv`` (one BD per
    Dataset, Overall over the CLASS- rows); ``rate_key`` and ``quality_key`` name its default columns.  The
    condition is in ``cttc`` and the sequence's class in ``sequence_class``: columns named ``condition`` or
    ``class`` would join the curve's group (``report.inputs.GROUP_COLS``)."""
    import csv

    w = csv.writer(sys.stdout, lineterminator="\n")
    counts = _counts(data)
    w.writerow(["cttc", "label", "level", "Dataset", "sequence_class", "qp", "rank", "frames", "bits", "kbps", "bpp", *keys,
                *counts, "verified", "rate_key", "quality_key"])
    for r in data["sequences"]:
        w.writerow([data["condition"], data["label"], "sequence", r["sequence"], r["class"], r["qp"], "", r["frames"],
                    "" if r["bits"] is None else r["bits"], "" if r["kbps"] is None else repr(r["kbps"]),
                    "" if r["bpp"] is None else repr(r["bpp"]),
                    *[repr(r["accuracy"][k]) if k in r["accuracy"] else "" for k in keys],
                    *[(r.get("counts") or {}).get(k, "") for k in counts],
                    int(bool(r["verified"])), "kbps", data["quality_key"]])
    for r in data["classes"]:
        w.writerow([data["condition"], data["label"], "class", r["csv_name"], r["class"], r["rank"], r["rank"],
                    r["frames"], r["bits"], repr(r["kbps"]), repr(r["bpp"]),
                    *[repr(r["accuracy"][k]) if k in r["accuracy"] else "" for k in keys],
                    *[(r.get("counts") or {}).get(k, "") for k in counts], 1, "kbps", data["quality_key"]])


def _text(rd: Path, data: dict, keys: list[str]) -> None:
    from ..core import units

    qs = {k: units.accuracy(k) for k in keys}
    click.echo(f"condition: {data['condition']}   dataset: {data['dataset']}   label: {data['label']}")
    click.echo(f"codec:     {data['codec']}")
    click.echo(f"metric:    {data['metric']} (quality axis: {data['quality_key']})")
    click.echo(f"signature: {data['signature']}")
    counts = _counts(data)
    tracking = bool(counts)
    click.echo("sequences (" + ("py-motmetrics over each sequence's evaluated frames; IDs = ID switches, FP = false "
                                "positives, FN = misses; MOTP = mean IoU distance, lower is better):" if tracking else
                                "one pycocotools evaluation over each sequence's evaluated frames):"))
    rows = []
    for r in data["sequences"]:
        rows.append([r["class"], r["sequence"], r["qp"], r["frames"],
                     "-" if r["kbps"] is None else units.KBPS.text(r["kbps"]),
                     "-" if r["bpp"] is None else units.BPP.text(r["bpp"]),
                     *[(qs[k].text(r["accuracy"][k]) if k in r["accuracy"] else "-") for k in keys],
                     *[(r.get("counts") or {}).get(k, "-") for k in counts],
                     "yes" if r["verified"] else r.get("status") or "no"])
    heads = [qs[k].header(k) for k in keys]
    click.echo(table(["class", "sequence", "QP", "frames", units.KBPS.header(), units.BPP.header(), *heads, *counts,
                      "verified"], rows, optional=["frames", units.BPP.header(), *reversed(counts),
                                                   *reversed(heads[1:])]))
    click.echo("classes (rate point i = the i-th lowest QP of every sequence; kbps duration-weighted; "
               + ("accuracy the OVERALL row of one py-motmetrics compute_many over the class's sequences):" if tracking
                  else "accuracy ONE evaluation pooled over the class's frames):"))
    rows = [[r["class"], r["rank"], ",".join(str(q) for q in r["qps"]), r["frames"], units.KBPS.text(r["kbps"]),
             units.BPP.text(r["bpp"]), *[(qs[k].text(r["accuracy"][k]) if k in r["accuracy"] else "-") for k in keys],
             *[(r.get("counts") or {}).get(k, "-") for k in counts]]
            for r in data["classes"]]
    click.echo(table(["class", "rank", "QPs", "frames", units.KBPS.header(), units.BPP.header(), *heads, *counts], rows,
                     optional=["QPs", "frames", units.BPP.header(), *reversed(counts), *reversed(heads[1:])])
               if rows else "  (none)")
    if data.get("reference"):
        click.echo("uncompressed frames (the reference job's tracks, the same scoring):")
        rows = [[r["class"], r["sequence"], *[(qs[k].text(r["accuracy"][k]) if k in r["accuracy"] else "-")
                                              for k in keys], *[r["counts"].get(k, "-") for k in counts]]
                for r in data["reference"]]
        click.echo(table(["class", "sequence", *heads, *counts], rows))
    if data["overall"]:
        click.echo(f"Overall per rate point — {data.get('overall_rule', 'the mean over the classes')}:")
        rows = [[o["rank"], *[(qs[k].text(o["accuracy"][k]) if k in o["accuracy"] else "-") for k in keys]]
                for o in data["overall"]]
        click.echo(table(["rank", *heads], rows))
    bad = [r for r in data["sequences"] if not r["verified"]]
    click.echo(f"summary: {len(data['sequences'])} sequence x QP results ({len(bad)} left out), "
               f"{len(data['classes'])} class points; BD-rate per class and Overall: vcmbench bdrate --anchor A --test B")
    if (rd / data["final_csv_name"]).exists():
        click.echo(f"final CSV: {rd / data['final_csv_name']}")
    for n in data["notes"]:
        click.echo(f"note: {n}")
