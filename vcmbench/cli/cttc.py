"""`vcmbench cttc ...`: list, show, validate test conditions and verify a user's data files."""

from __future__ import annotations

from pathlib import Path

import click

from ..core.errors import EXIT_USAGE, UsageError, VerificationFailed
from .common import echo_json, exit_with, table


@click.group("cttc")
def cttc() -> None:
    """Common test conditions (CTTC), stored as versioned YAML in cttc/.

    \b
    Example:
      vcmbench cttc list
      vcmbench cttc show vcm-oiv6-det --json
    """


@cttc.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_cmd(as_json: bool) -> None:
    """List the shipped conditions.

    \b
    Example:
      vcmbench cttc list
    """
    from ..conditions import conditions_dir, list_conditions, resolve_inheritance

    rows = []
    for name in list_conditions():
        data, _ = resolve_inheritance(conditions_dir() / f"{name}.yaml")
        codec = data.get("codec", {})
        ladders = (data.get("dataset") or {}).get("qp_ladders") if isinstance(data.get("dataset"), dict) else None
        rows.append({
            "name": name, "version": data.get("version"), "kind": "abstract base" if data.get("abstract") else
            ("video (sequences)" if isinstance(ladders, dict) else data.get("kind")),
            "codec": codec.get("name"), "qps": codec.get("qps"), "scales": codec.get("scales"),
            "scales_pct": _scales_pct(codec.get("scales")), "title": data.get("title"),
            **({"qp_ladders": {k: (v or {}).get("qps") for k, v in ladders.items()}} if isinstance(ladders, dict) else {}),
        })
    if as_json:
        echo_json(rows)
        return
    click.echo(table(["name", "v", "kind", "codec", "QPs", "scales (%)", "title"],
                     [(r["name"], r["version"], r["kind"], r["codec"] or "", _qps_text(r),
                       ",".join(f"{v:g}" for v in r["scales_pct"] or []), r["title"]) for r in rows],
                     optional=["v", "scales (%)"]))


def _scales_pct(scales) -> list[float] | None:
    """The condition's scales (fractions in the YAML) in percent, for the JSON ``scales_pct`` keys."""
    from ..core.units import scale_pct

    try:
        return [scale_pct(s) for s in scales] if scales else None
    except (TypeError, ValueError):  # an invalid base file is listed as it is (`cttc validate` names the problem)
        return None


def _qps_text(row: dict) -> str:
    """The QP column: the condition's ladder, or a sequence condition's ladder per class (``B:32-57``)."""
    if row.get("qp_ladders") is not None and not row["qps"]:
        return " ".join(f"{k}:{q[0]}-{q[-1]}" if q else f"{k}:--qps" for k, q in row["qp_ladders"].items())
    return ",".join(map(str, row["qps"] or []))


@cttc.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the resolved condition as JSON.")
def show(name: str, as_json: bool) -> None:
    """Show one condition, with its base applied and its signature.

    NAME is a condition name (see `vcmbench cttc list`) or a path to a YAML file.

    \b
    Example:
      vcmbench cttc show vcm-oiv6-det --json
    """
    import yaml

    from ..conditions import load_condition
    from ..core.units import scale_text

    cond = load_condition(name)
    data = cond.to_dict()
    if as_json:  # the condition as stored (scales as fractions) plus codec.scales_pct, the scales in percent
        codec = dict(data.get("codec") or {})
        if codec.get("scales"):
            codec["scales_pct"] = _scales_pct(codec["scales"])
        echo_json({**data, "codec": codec, "signature": str(cond.signature())})
        return
    click.echo(yaml.safe_dump(data, sort_keys=False, width=100, allow_unicode=True).rstrip())
    if cond.scales:
        click.echo(f"# scales: {', '.join(scale_text(s) for s in cond.scales)}")
    if cond.is_sequences:
        _echo_sequence_facts(cond)
    click.echo(f"# signature: {cond.signature()}")


def _echo_sequence_facts(cond) -> None:
    """Every fact of every sequence beside its source (references expanded), then the QP ladders."""
    from ..conditions.schema_sequences import SEQUENCE_FACTS, source_text

    ds = cond.dataset
    rows = []
    for s in ds["sequences"]:
        for fact in ("class", "dir", "yuv", "yuv_md5") + SEQUENCE_FACTS:
            if s.get(fact) is not None:
                rows.append((s["name"], fact, str(s[fact]), source_text(ds, s["sources"].get(fact, "-"))))
        ann = s.get("annotations")
        if ann is None:
            rows.append((s["name"], "annotations", "none (ground truth: the reference output)",
                         cond.section("ground_truth").get("source", "ground_truth.mode")))
            continue
        rows.append((s["name"], "annotations", ann["file"] + (f" ({ann['images']} annotated frames)" if "images" in ann
                                                              else ""), source_text(ds, s["sources"].get("annotations", ds["source"]))))
    codec = cond.codec
    if codec.get("structure"):
        cfg = codec.get("cfg") or {}
        rows.append(("coding", "structure", codec["structure"] + (f" ({cfg['file']})" if cfg.get("file") else ""),
                     codec.get("source") or cfg.get("source", "-")))
    for cls, lad in (ds.get("qp_ladders") or {}).items():
        rows.append((f"QP ladder {cls}", "qps", ",".join(map(str, lad["qps"])) if lad.get("qps") else "none published",
                     source_text(ds, lad["source"])))
    for cls, rc in (ds.get("report_classes") or {}).items():
        rows.append((f"reporting class {cls}", "sequences", ",".join(rc["sequences"]), source_text(ds, rc["source"])))
    for name, st in (ds.get("optional_sets") or {}).items():
        what = ("remove " if "remove" in st else "") + ",".join(st.get("sequences", st.get("remove", [])))
        rows.append((f"set {name}", "sequences", what, source_text(ds, st["source"])))
    click.echo("# facts and their sources:")
    last = None
    for who, fact, value, source in rows:
        if who != last:
            click.echo(who)
            last = who
        click.echo(f"  {fact}: {value}  <- {source}")


@cttc.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=True))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def validate(paths: tuple[str, ...], as_json: bool) -> None:
    """Validate condition files (all shipped ones when no PATH is given).

    Reports file and key for unknown keys, QPs outside 0-63, duplicate QPs, scales outside
    (0, 1] (the YAML stores fractions: 0.75 = 75 %), malformed checksums, inheritance cycles or depth > 1, and fields that contradict
    each other.  Exit code 2 when any file is invalid.

    \b
    Example:
      vcmbench cttc validate
      vcmbench cttc validate my-conditions/*.yaml
    """
    from ..conditions import conditions_dir, validate_file

    files: list[Path] = []
    for p in paths or (str(conditions_dir()),):
        pp = Path(p)
        found = sorted(pp.glob("*.yaml")) if pp.is_dir() else [pp]
        if not found:
            raise UsageError(f"{pp} holds no *.yaml condition files; give condition files or a folder of them.")
        files.extend(found)
    results = {str(f): validate_file(f) for f in files}
    bad = {f: iss for f, iss in results.items() if iss}
    if as_json:
        echo_json({f: [{"key": i.key, "message": i.message} for i in iss] for f, iss in results.items()})
    else:
        for f, iss in results.items():
            if not iss:
                click.echo(f"ok       {f}")
            for i in iss:
                click.echo(f"INVALID  {i}")
        click.echo(f"{len(files) - len(bad)} of {len(files)} condition file(s) valid.")
    if bad:
        exit_with(EXIT_USAGE)


@cttc.command("verify-data")
@click.argument("name")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False),
              help="Folder holding the condition's image list and annotation files.")
@click.option("--checksums", type=click.Path(exists=True, dir_okay=False),
              help="md5sum-format file ('<md5>  <image name>') to check every image against.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def verify_data_cmd(name: str, data_dir: str, checksums: str | None, as_json: bool) -> None:
    """Check your list/annotation files and images against the condition's recorded checksums and counts.

    Names exactly which file differs (md5 and/or line/row count), how many of the listed
    images are missing (with examples) and, with --checksums, which images differ.  Exit code 4
    when a file or image is missing or differs.

    A video condition (sequences) is checked per sequence: the frames of its raw 4:2:0 file or PNG
    folder, its seqinfo.ini and its annotated frames against the recorded range (expected and found
    counts named).

    \b
    Example:
      vcmbench cttc verify-data vcm-oiv6-det --data /data/openimages-vcm
      vcmbench cttc verify-data fcm-sfu-hw-obj --data /data/fcm_testdata/SFU_HW_Obj
    """
    from ..conditions import load_condition, verify_data
    from ..conditions.verify_data import verify_images

    cond = load_condition(name)
    checks = verify_data(cond, data_dir) + verify_images(cond, data_dir, checksums)
    if as_json:
        echo_json([c.__dict__ for c in checks])
    else:
        click.echo(table(["file", "role", "status"], [(c.file, c.role, (c.message if c.message.startswith("ok") else "ok") if c.ok else f"DIFFERS: {c.message}")
                                                      for c in checks]))
    bad = [c for c in checks if not c.ok]
    if bad:
        raise VerificationFailed(
            "; ".join(f"{c.file}: {c.message}" for c in bad)
            + ". Use the files the condition was written for (re-download them), or a condition that matches yours."
        )
