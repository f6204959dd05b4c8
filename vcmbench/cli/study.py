"""``vcmbench study``: the design documents' experiments (S1-S4) as runnable, resumable studies."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import echo_json, executor_options, table
from .params import NON_NEGATIVE_INT, POSITIVE_INT, FiniteFloat


@click.group("study", context_settings={"help_option_names": ["-h", "--help"]},
             epilog="\b\nExample:\n  vcmbench study run s2-distortions-ssd --data ../shared/data/coco-tiny-cc --out s2")
def study() -> None:
    """Studies described as data (cttc/studies/*.yaml): list, show, run, report, train-restore."""


@study.command("list", epilog="\b\nExample:\n  vcmbench study list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_cmd(as_json: bool) -> None:
    """List the studies shipped in cttc/studies."""
    from ..studies.model import list_studies, load_study

    rows = []
    for name in list_studies():
        s = load_study(name)
        rows.append({"name": s.name, "type": s.type, "version": s.version, "title": s.data["title"]})
    if as_json:
        echo_json(rows)
        return
    click.echo(table(["study", "type", "v", "title"], [[r["name"], r["type"], r["version"], r["title"]] for r in rows]))


@study.command("show", epilog="\b\nExample:\n  vcmbench study show s2-distortions-ssd")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(name: str, as_json: bool) -> None:
    """Print a study: what it runs, the published figures it reproduces and where the reproduced ones go."""
    from ..studies.model import load_study

    s = load_study(name)
    info = {"name": s.name, "version": s.version, "type": s.type, "title": s.data["title"],
            "content_hash": s.content_hash, "condition": s.data.get("condition"), "task": s.task,
            "settings": s.settings, "published": s.data["published"], "reproduced": s.data["reproduced"],
            "deviations": s.data.get("deviations") or [], "signature": str(s.signature())}
    if as_json:
        echo_json(info)
        return
    click.echo(f"{s.name} v{s.version} ({s.type}) — {s.data['title']}")
    click.echo(f"condition: {info['condition'] or '-'}   task: {s.task.get('network', '-')}   hash: {s.content_hash}")
    if s.data.get("description"):
        click.echo(s.data["description"].strip())
    pub = s.data["published"]
    click.echo(f"\nPublished figures ({pub['source']}):")
    if pub.get("note"):
        click.echo(str(pub["note"]).strip())
    for t in pub["tables"]:
        click.echo(f"\n{t['name']}")
        if t.get("note"):
            click.echo(str(t["note"]).strip())
        click.echo(table([str(c) for c in t["columns"]], t["rows"]))
    devs = s.data.get("deviations") or []
    if devs:
        click.echo(f"\nDeviations from the paper ({len(devs)}):")
        click.echo(table(["what", "paper", "here", "why"],
                         [[str(d.get(k, "")) for k in ("what", "paper", "here", "why")] for d in devs]))
    click.echo(f"\nReproduced figures: {s.data['reproduced']}")


def _progress(quiet: bool):
    if quiet:
        return None
    from ..run.progress import renderer_for

    return renderer_for(sys.stderr)


@study.command("run", epilog="\b\nExample:\n  vcmbench study run s3-layers-ssd --data ../shared/data/coco-tiny-cc "
               "--out s3 --jobs 2")
@click.argument("name")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help="Input data folder.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Study output directory.")
@click.option("--limit", type=POSITIVE_INT, default=None, help="Only the first N images (faces).")
@click.option("--condition", default=None, metavar="NAME",
              help="Draw the images, annotations, task and metric from this test condition (`vcmbench cttc list`) "
                   "instead of the study's; recorded in the study signature.")
@click.option("--task", default=None, metavar="NETWORK",
              help="Run this task network (`vcmbench tasks`) instead of the study's; recorded in the study signature.")
@click.option("--task-weights", default=None, type=click.Path(dir_okay=False),
              help="Weights of the task network (rcnn:/detectron2: model-zoo .pkl); the task signature records "
                   "their sha256.")
@executor_options
@click.option("--restoration", "restorations", multiple=True, type=click.Path(),
              help="A `study train-restore` output directory to add as a restoration (S1); repeatable.")
@click.option("--restoration-module", "restoration_modules", multiple=True, metavar="PKG.MODULE:CLASS",
              help="A restoration network class (a torch.nn.Module subclass) that a restoration.json or the "
                   "study's settings name by its class name (network: CLASS); repeatable. Study files and "
                   "restoration.json never name code themselves.")
@click.option("--allow-unpublished-weights", is_flag=True,
              help="Use a model-zoo weights file named like a published one whose sha256 differs (rcnn: and "
                   "detectron2: networks); the task signature records it.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def run_cmd(name, data_dir, out_dir, limit, condition, task, task_weights, ex_choice, restorations, restoration_modules,
            allow_unpublished_weights, quiet, as_json):
    """Run (or resume) a study into --out; re-running the same command resumes where it stopped.

    \b
    Another network or dataset without a copy of the study file:
      vcmbench study run s2-distortions-ssd --task rcnn:COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x \\
        --task-weights model_final_f10217.pkl --data ../shared/data/coco-tiny-cc --limit 2 --out s2-mrcnn
    """
    from ..studies.model import load_study
    from ..studies.runner import run_study
    from ..studies.train import restoration_spec

    s = load_study(name).with_overrides(condition=condition, task=task)
    opts: dict = {}
    task_options: dict = {}
    if task_weights:
        network = str(s.task.get("network", ""))
        if network.partition(":")[0] not in ("rcnn", "detectron2"):
            from ..core.errors import UsageError

            raise UsageError(f"--task-weights applies to rcnn: and detectron2: networks (model-zoo .pkl); the study's "
                             f"task network is {network or 'not set'!r}: drop --task-weights, or pick such a "
                             "network with --task.")
        task_options["weights"] = task_weights
    if restoration_modules:
        from ..features.restoration import import_plugin

        for m in restoration_modules:
            import_plugin(m)  # importable and a torch.nn.Module subclass, checked before a job starts
        opts["restoration_modules"] = list(restoration_modules)
    if restorations:
        opts["restorations"] = [restoration_spec(r, restoration_modules) for r in restorations]
    if allow_unpublished_weights:
        from ..tasks.rcnn.weights import unpublished_weights_option

        task_options.update(unpublished_weights_option(str(s.task.get("network", ""))))
    if task_options:
        opts["task_options"] = task_options
    with ex_choice.make(tasks=True) as ex:
        summary = run_study(s, data_dir, out_dir, limit=limit, progress=_progress(quiet or as_json), options=opts,
                            executor=ex)
    if as_json:
        echo_json(summary)
        return
    j = summary["jobs"]
    click.echo(f"study {s.name}: {j['total']} jobs ({j['skipped']} cached, {j['ran']} run), {summary['images']} images")
    for t in summary["tables"]:
        click.echo(f"\n{t['name']}" + (f"  ({t['note']})" if t.get("note") else ""))
        click.echo(table([str(c) for c in t["columns"]], t["rows"]))
    click.echo(f"\nresults: {Path(out_dir) / 'study-results.json'}  (report: vcmbench study report {out_dir} -o x.html)")


@study.command("report", epilog="\b\nExample:\n  vcmbench study report s2 s3 -o studies.xlsx -o studies.html -o studies.docx")
@click.argument("dirs", nargs=-1, required=True, type=click.Path(file_okay=False, exists=True))
@click.option("-o", "--output", "outputs", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="Output file, .xlsx, .html or .docx; repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print the files written and the studies as JSON.")
def report_cmd(dirs, outputs, as_json):
    """Write the study report sections of finished study directories (xlsx, HTML and/or Word .docx).

    Each reproduced table that the study ties to a published one is followed by the two side by side in
    the paper's units, with the 95 % bootstrap intervals, the number of images and the trend verdict
    (yes / no / not significant), and the study's deviations and this run's network, data and settings."""
    from ..core.errors import UsageError
    from ..studies.report import load_results, write_docx, write_html, write_xlsx

    for o in outputs:
        if Path(o).suffix.lower() not in (".xlsx", ".html", ".htm", ".docx"):
            raise UsageError(f"Cannot tell the format of {o}: use a .xlsx, .html or .docx file name.")
    results = [load_results(d) for d in dirs]
    for o in outputs:
        suffix = Path(o).suffix.lower()
        if suffix == ".xlsx":
            write_xlsx(results, o)
        elif suffix in (".html", ".htm"):
            write_html(results, o, dirs)
        elif suffix == ".docx":
            write_docx(results, o)
        else:
            raise UsageError(f"Cannot tell the format of {o}: use a .xlsx, .html or .docx file name.")
        if not as_json:
            click.echo(f"wrote {o}")
    if as_json:
        echo_json({"written": list(outputs), "studies": [{"study": r["study"], "signature": r["signature"]}
                                                          for r in results]})


@study.command("train-restore", epilog="\b\nExample:\n  vcmbench study train-restore --data ../shared/data/coco-tiny-cc "
               "--out restore-x2 --steps 400\n  vcmbench study train-restore --condition seed-sr-coco-train --data COCO "
               "--out restore-multi --channels multi --loss l2-ssim")
@click.option("--study", "study_name", default="s1-downscaled-ssd", show_default=True,
              help="The S1 study whose network, layers, factor, QPs and coding settings to train for.")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False), help="Input data folder (images).")
@click.option("--condition", default=None, metavar="NAME",
              help="Train on this test condition's images (e.g. seed-sr-coco-train, the S1 paper's 500 training "
                   "images) instead of the study's.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Checkpoint/weights directory.")
@click.option("--task-weights", default=None, type=click.Path(dir_okay=False),
              help="Weights of the study's task network (rcnn:/detectron2: model-zoo .pkl), e.g. for "
                   "s1-downscaled-frcnn.")
@click.option("--allow-unpublished-weights", is_flag=True,
              help="Use a model-zoo weights file named like a published one whose sha256 differs.")
@click.option("--steps", type=POSITIVE_INT, default=400, show_default=True, help="Training steps (in total, over resumes).")
@click.option("--batch", type=POSITIVE_INT, default=16, show_default=True,
              help="Channels (single) or maps (multi) per batch.")
@click.option("--lr", type=FiniteFloat(0.0, min_open=True), default=1e-4, show_default=True, help="Adam learning rate (β 0.5, 0.99).")
@click.option("--holdout", type=NON_NEGATIVE_INT, default=4, show_default=True, help="Images held out for the evaluation.")
@click.option("--limit", type=POSITIVE_INT, default=None, help="Only the first N images.")
@click.option("--channels", type=click.Choice(["multi", "single"]), default="multi", show_default=True,
              help="multi: all channels of a map are one input (the paper's Table 3 setting); single: channel by "
                   "channel.")
@click.option("--loss", type=click.Choice(["l2-ssim", "l2", "l1"]), default="l2-ssim", show_default=True,
              help="Training loss (l2-ssim: 10·L2 + (1 − SSIM), the paper's).")
@click.option("--qp", "qps", type=POSITIVE_INT, multiple=True,
              help="Code the training features with VVenC at this QP (repeatable); default: the study's proposal QPs.")
@click.option("--uncoded", is_flag=True,
              help="Train on quantised, uncoded features (the older variant; the paper trains on coded ones).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def train_cmd(study_name, data_dir, condition, out_dir, task_weights, allow_unpublished_weights, steps, batch, lr, holdout, limit, channels, loss, qps, uncoded,
              as_json):
    """Train the S1 restoration network (ESPCN, residual over bicubic) on decoded features; resumable from
    OUT/checkpoint.pt."""
    from ..conditions.datasets import list_images
    from ..conditions.load import load_condition
    from ..core.errors import UsageError
    from ..run.jobs import get_cached_task
    from ..studies.model import load_study
    from ..studies.train import train_restoration

    s = load_study(study_name)
    if s.type != "downscaled-coding":
        raise UsageError(f"{study_name} is a {s.type} study; train-restore needs a downscaled-coding (S1) study.")
    if uncoded and qps:
        raise UsageError("--uncoded trains on uncoded features; drop --qp, or drop --uncoded to code at those QPs.")
    factors = {k: int(v) for k, v in s.settings["factors"].items() if int(v) != 1}
    scales = sorted(set(factors.values()))
    if len(scales) != 1:
        raise UsageError(f"{study_name} down-scales by {scales}; train-restore trains one factor at a time.")
    network = str(s.task["network"])
    options = dict(s.task_options())
    if task_weights or allow_unpublished_weights:
        if network.partition(":")[0] not in ("rcnn", "detectron2"):
            raise UsageError(f"--task-weights applies to rcnn: and detectron2: networks (model-zoo .pkl); the study's "
                             f"task network is {network!r}: drop --task-weights.")
        if task_weights:
            options["weights"] = task_weights
        if allow_unpublished_weights:
            from ..tasks.rcnn.weights import unpublished_weights_option

            options.update(unpublished_weights_option(network))
    task = get_cached_task(network, tuple(sorted(options.items())))
    images = list_images(load_condition(condition) if condition else s.condition, data_dir, limit)
    st = s.settings
    train_qps = None if uncoded else [int(q) for q in (qps or st.get("qps") or [])]
    coding = {"preset": st.get("preset", "medium"), "chroma": int(st.get("chroma", 420)),
              "loop_filter": bool(st.get("loop_filter", False)), "task": network}
    info = train_restoration(task, images, out_dir, layers=sorted(factors), scale=scales[0], bits=int(st.get("bits", 8)),
                             steps=steps, batch=batch, lr=lr, holdout=holdout, qps=train_qps, coding=coding,
                             channels=channels, loss=loss)
    if as_json:
        echo_json(info)
        return
    ev = info["heldout"]
    click.echo(f"trained {info['steps']} steps ({channels}-channel, {loss}, {info['info']['trained_on']}); held-out "
               f"PSNR network {ev['psnr_net']:.3f} dB vs bicubic {ev['psnr_bicubic']:.3f} dB over {ev['maps']} maps "
               f"({'better' if info['beats_bicubic'] else 'NOT better'})")
    click.echo(f"weights: {info['weights']} (sha256 {info['sha256'][:12]}); use: vcmbench study run {study_name} "
               f"--restoration {out_dir}")
