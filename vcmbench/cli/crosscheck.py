"""`vcmbench crosscheck PACKAGE`: cross-check a proponent's bitstreams and claimed results."""

from __future__ import annotations

import click

from ..core.errors import EXIT_NOT_VERIFIED, UsageError
from .common import REMEDY_NAMES, echo_json, executor_options, exit_with, table
from .params import POSITIVE_INT, VTM_DIR


def _tolerances(values: tuple[str, ...]) -> dict[str, float]:
    from ..crosscheck.manifest import TOLERANCE_KEYS

    out = {}
    for v in values:
        key, sep, num = v.partition("=")
        if not sep or key not in TOLERANCE_KEYS:
            raise UsageError(f"--tolerance {v!r}: use KEY=VALUE with KEY one of {', '.join(TOLERANCE_KEYS)}.")
        try:
            out[key] = float(num)
        except ValueError:
            raise UsageError(f"--tolerance {v!r}: {num!r} is not a number.") from None
        if not out[key] >= 0:
            raise UsageError(f"--tolerance {v!r}: must be a non-negative number.")
    return out


@click.command("crosscheck")
@click.argument("package", type=click.Path(exists=True))
@click.option("-o", "--output", "outputs", multiple=True, type=click.Path(dir_okay=False),
              help="Report file(s): .html (self-contained), .xlsx or .json; repeat for several.")
@click.option("--decoder", "decoders", multiple=True,
              help="Decoder(s) every bitstream must decode with (identically): pyav, ffmpeg, vtm, all; repeatable. "
                   "Default: the decoders of `vcmbench run` — every installed decoder: pyav, ffmpeg, +vtm (the "
                   "reference decoder) when VTM is configured.")
@click.option("--vtm-dir", default=None, type=VTM_DIR,
              help="VTM build with DecoderApp (or VCMBENCH_VTM_DIR): adds the reference decoder.")
@click.option("--condition", default=None,
              help="Condition name or file (the checker's), when the manifest names none or to replace it.")
@click.option("--data", "data_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="The condition's dataset (images, annotations), to recompute the accuracy.")
@click.option("--anchor", default=None,
              help="Anchor curve for BD-rate: a run directory, a resultset.json, or a stored anchor NAME[:LABEL].")
@click.option("--remedy", "bd_remedies", multiple=True, type=click.Choice(REMEDY_NAMES),
              help="Explicit remedy for non-monotonic curves in the BD-rate items (see `vcmbench bdrate --help`); "
                   "recorded in the report.")
@click.option("--no-accuracy", is_flag=True, help="Do not recompute the accuracy (rate and bitstreams only).")
@click.option("--tolerance", "tolerance", multiple=True, metavar="KEY=VALUE",
              help="Override a tolerance: bits_abs, bpp_rel, bpp_abs, accuracy_abs, bd_rate_abs.")
@click.option("--strict", is_flag=True, help="Exit 4 also when some item could not be checked.")
@click.option("--max-bytes", type=POSITIVE_INT, default=None,
              help="Refuse packages larger than this many bytes uncompressed (default 4 GiB).")
@click.option("--work-dir", type=click.Path(file_okay=False), default=None,
              help="Where a zip is unpacked and bitstreams decoded (default: a temporary directory, removed).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@executor_options
def crosscheck(package: str, outputs: tuple[str, ...], decoders: tuple[str, ...], vtm_dir: str | None,
               condition: str | None,
               data_dir: str | None, anchor: str | None, bd_remedies: tuple[str, ...], no_accuracy: bool,
               tolerance: tuple[str, ...],
               strict: bool, max_bytes: int | None, work_dir: str | None, as_json: bool, ex_choice) -> None:
    """Cross-check a proposal: verify every bitstream, recompute bits, bpp and accuracy, compare the claims.

    PACKAGE is a directory or a .zip with manifest.json, claims.csv (or .xlsx) and the bitstreams
    (layout: README "Cross-check packages"; `vcmbench package RUNDIR -o pkg.zip` builds one). The
    package is untrusted: unsafe zip entries (absolute paths, '..', symlinks, oversize) are refused
    before anything is written; limits are sized from the items its manifest declares; member
    names and image ids must be plain names (letters, digits, '.', '_', '-'). The checker decides:
    tolerances (--tolerance), decoders (--decoder), condition and task network are never the
    package's (a manifest field that tries is reported and ignored). A manifest names its condition
    by a shipped name or as a .yaml file inside the package ("the proponent's condition": read
    contained, compared with the shipped condition of its name; a modified look-alike differs).
    Each item is verified, differs (by how much), failed (not decodable) or could not be checked
    (why); the verdict names the condition it was checked under. Exit code 4 when anything differs
    or failed, 2 when the package is refused.

    \b
    Example:
      vcmbench crosscheck proposal.zip -o report.html -o report.xlsx
      vcmbench crosscheck proposal/ --decoder pyav --decoder ffmpeg --anchor demo-run -o report.html
      vcmbench crosscheck proposal.zip --jobs 4 -o report.html
    """
    from ..crosscheck import Limits
    from ..crosscheck import crosscheck as run_check

    for o in outputs:
        if not o.lower().endswith((".html", ".htm", ".xlsx", ".json")):
            raise UsageError(f"-o {o}: use a .html, .xlsx or .json file name.")
    if vtm_dir:  # as `run --vtm-dir`: VTM is configured for this command (the default decoders then include it)
        import os

        os.environ["VCMBENCH_VTM_DIR"] = vtm_dir
    if decoders:
        from .codec import expand_decoders

        decoders = tuple(expand_decoders(decoders, vtm_dir))
    limits = Limits() if max_bytes is None else Limits(max_total=max_bytes, max_file=min(max_bytes, Limits().max_file))
    with ex_choice.make() as ex:  # bitstream verifications run on the executor (--jobs / --executor)
        res = run_check(package, work_dir=work_dir, decoders=list(decoders) or None, condition=condition,
                        tolerances=_tolerances(tolerance), anchor_curves=anchor,
                        accuracy_fn=None if no_accuracy else "auto", data_dir=data_dir, bd_remedies=bd_remedies,
                        limits=limits, executor=ex)
    from ..crosscheck.report import write_reports

    written = [str(p) for p in write_reports(res, list(outputs))]
    if as_json:
        echo_json({**res.to_dict(), "reports": written})
    else:
        from ..core.units import scale_text

        rows = [(i.kind, i.name, "" if i.scale is None else scale_text(i.scale), "" if i.qp is None else i.qp,
                 i.status.upper() if i.status != "verified" else i.status,
                 "" if i.difference is None else f"{i.difference:+.4g}", i.detail[:90]) for i in res.items]
        click.echo(table(["kind", "item", "scale", "QP", "status", "difference", "detail"], rows))
        for n in res.notes:
            click.echo(f"note: {n}")
        c = res.counts()
        click.echo(f"{'VERIFIED' if res.ok else 'NOT VERIFIED'}: " + ", ".join(f"{c[s]} {s}" for s in c)
                   + f" (checked under {res.checked_under})")
        for w in written:
            click.echo(f"report written: {w}")
    if not res.ok or (strict and res.counts()["unchecked"]):
        exit_with(EXIT_NOT_VERIFIED)


@click.command("package")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("-o", "--output", "output", required=True, type=click.Path(),
              help="The package: a new .zip file, or a new directory.")
@click.option("--proponent", default="", help="Proponent named in the manifest.")
@click.option("--title", default="", help="Title (e.g. the m-number) named in the manifest.")
@click.option("--label", default=None, help="Label of the proposal (default: the run's label).")
@click.option("--quality-col", "quality_key", default=None, help="Accuracy to claim (default: the run's quality key).")
@click.option("--json", "as_json", is_flag=True, help="Print what was packaged as JSON.")
def package_cmd(run_dir: str, output: str, proponent: str, title: str, label: str | None, quality_key: str | None,
                as_json: bool) -> None:
    """Build a cross-check package from a finished run: every verified bitstream (named
    IMAGE_sSCALE_qQP.266), manifest.json with the coded format and decoded MD5 of each, and the
    run's figures as claims.csv.  A cross-checker runs `vcmbench crosscheck` on it.

    \b
    Example:
      vcmbench package runs/proposal -o proposal-pkg.zip --proponent ACME --title m71234
    """
    import json
    import zipfile
    from pathlib import Path

    from ..crosscheck.build import package_from_run

    dest = Path(package_from_run(run_dir, output, proponent=proponent, title=title, label=label,
                                 quality_key=quality_key))
    if dest.suffix.lower() == ".zip":
        with zipfile.ZipFile(dest) as zf:
            man = json.loads(zf.read("manifest.json"))
    else:
        man = json.loads((dest / "manifest.json").read_text(encoding="utf-8"))
    info = {"package": str(dest), "items": len(man["items"]), "condition": man["condition"], "label": man["label"]}
    if as_json:
        echo_json(info)
    else:
        click.echo(f"wrote {dest}: {info['items']} bitstreams, condition {info['condition']}, label {info['label']}")
