"""S4 — a regression task on occluded images and their restoration (seed-tables.md S4).

Faces (``settings.dataset.format``):

* ``csv``: ``--data DIR`` holds a CSV (``settings.dataset.file``, default ``labels.csv``) with
  columns ``image,age`` (paths relative to DIR) and optionally ``person`` (for leave-one-person-out);
  labels are the true ages.
* ``fgnet``: the FG-NET file naming, ``001A02.JPG`` = person 001, age 2 (``A`` any case; an
  optional letter after the age, ``001A22a.JPG``, is kept in the id), in DIR or DIR/images.
* ``coco-people``: crops of the people of a COCO condition (``settings.dataset.condition``;
  instances annotations, category ``person``, not crowd, box at least ``min_size`` pixels on both
  sides): the square of side ``min(w, h)`` at the top of the person box, centred horizontally —
  where the head is for standing people.  No ages exist: labels are in ``reference-output`` mode.

Alignment (``settings.alignment``: ``none``, or ``{method: dlib-5-point, size, padding, upsample}``):
each face (the crop, for coco-people) is aligned by ``tasks.face_align.FaceAligner`` (dlib's detector and
five-point landmarks, the chip the age network was trained on: eyes level, same scale); occlusions,
restorations and estimates are then on the aligned chip, and the table's note counts the faces the
detector missed.

Evaluation (``settings.evaluation``): ``pooled`` (one MAE over all faces, intervals resampling faces) or
``leave-one-person-out`` (fgnet: the faces grouped per person, one fold per person; the pretrained
network is not retrained, so the pooled MAE over the held-out faces equals the MAE over all faces;
intervals resample persons, and a second table gives each fold).  ``settings.compare_with_paper:
{occlusion, restoration}`` names the row that the paper's one-row table corresponds to.

``reference-output`` labels (``settings.labels: reference-output``, forced for ``coco-people``) are
the network's own estimate on the clean crop; the table says so, and the "original" MAE is 0 by
construction.  Occlusions (``settings.occlusions``: ``{name, region: [x0, y0, x1, y1]}`` or
``{name, polygon: [[x, y], ...]}`` relative to the face, or ``{name, mask: FILE}`` a mask image under
--data) are applied with
``features.distortions.occlude``; restorations (``settings.restorations``: ``inpaint-telea``,
``inpaint-ns`` or ``{network, weights, options}``, the network named, never imported from the
data: see ``features.restoration.resolve_spec``) fill them.  Scored by MAE (metrics.quality.mae) of the
estimates against the labels: original / occluded / restored.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ..conditions.datasets import ImageRef, load_rgb
from ..core.errors import ConditionError, DataError
from ..core.hashing import md5_file
from ..core.inputs import csv_rows, read_text
from ..features.distortions import occlude
from ..features.restoration import restore_image
from ..metrics.quality import mae
from ..run.jobs import get_cached_task

FGNET = re.compile(r"^(\d{3})A(\d{2})([a-z]?)$", re.IGNORECASE)
_MASKS: dict[str, np.ndarray] = {}


def _ds(study) -> dict[str, Any]:
    ds = study.settings.get("dataset") or {}
    if ds.get("format") not in ("csv", "fgnet", "coco-people"):
        raise ConditionError(f"Study {study.name}: settings.dataset.format must be csv, fgnet or coco-people.")
    return ds


def _ref(path: Path, image_id: str, eval_id: int) -> ImageRef:
    from PIL import Image

    try:
        with Image.open(path) as im:
            w, h = im.size
    except (FileNotFoundError, OSError) as exc:
        raise DataError(f"Face image {path} cannot be read ({exc}); check --data.") from None
    return ImageRef(image_id, eval_id, w, h, md5_file(path), str(path))


def faces(study, data_dir, limit) -> list[tuple[ImageRef, dict[str, Any]]]:
    """(image, extra params: label, box) of every face."""
    ds = _ds(study)
    if not data_dir:
        raise DataError("The occlusion study needs --data DIR (the faces, or the COCO data for coco-people).")
    d = Path(data_dir)
    out: list[tuple[ImageRef, dict[str, Any]]] = []
    if ds["format"] == "csv":
        f = d / ds.get("file", "labels.csv")
        if not f.is_file():
            raise DataError(f"Label file {f} is missing; write a CSV with columns image,age.")
        table = [r for r in csv_rows(read_text(f, "Label file"), f, what="Label file") if r]
        if len(table) < 2 or not {"image", "age"} <= set(table[0]):
            raise DataError(f"{f} must have the columns image,age.")
        head = table[0]
        for i, row in enumerate(table[1:]):
            r = dict(zip(head, row))
            try:
                age = float(r["age"])
                if not r["image"] or age != age or abs(age) == float("inf"):
                    raise ValueError
            except (KeyError, ValueError):
                raise DataError(f"{f} row {i + 2}: {row!r:.80} needs an image name and a finite age; fix the "
                                "file.") from None
            person = str(r.get("person") or "").strip() or None
            out.append((_ref(d / r["image"], Path(r["image"]).stem, i + 1), {"label": age, "person": person}))
    elif ds["format"] == "fgnet":
        folder = d / "images" if (d / "images").is_dir() else d
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png") and FGNET.match(p.stem))
        if not files:
            raise DataError(f"No FG-NET images (named like 001A02.JPG) in {folder}.")
        for i, p in enumerate(files):
            m = FGNET.match(p.stem)
            out.append((_ref(p, p.stem, i + 1), {"label": float(m.group(2)), "person": m.group(1)}))
    else:
        from ..conditions.datasets import coco_json_ref, list_images
        from ..conditions.load import load_condition
        from ..metrics.coco import load_coco_gt

        cond = load_condition(ds["condition"])
        refs = {int(r.eval_id): r for r in list_images(cond, d)}
        gt = load_coco_gt(d / coco_json_ref(cond)["file"])
        person = next(c["id"] for c in gt["categories"] if c["name"] == "person")
        min_size = float(ds.get("min_size", 48))
        for a in sorted(gt["annotations"], key=lambda a: int(a["id"])):
            x, y, w, h = a["bbox"]
            if a["category_id"] != person or a.get("iscrowd") or min(w, h) < min_size or int(a["image_id"]) not in refs:
                continue
            side = min(w, h)
            x0 = x + (w - side) / 2
            src = refs[int(a["image_id"])]
            box = [int(round(x0)), int(round(y)), int(round(x0 + side)), int(round(y + side))]
            ref = ImageRef(f"{src.image_id}-{a['id']}", int(a["id"]), src.width, src.height, src.digest, src.path)
            out.append((ref, {"label": None, "person": None, "box": box}))
    return out[: limit or None]


def images(study, data_dir, limit):
    fs = faces(study, data_dir, limit)
    study_faces = {r.image_id: extra for r, extra in fs}
    _FACES[study.name] = study_faces
    return [r for r, _ in fs]


_FACES: dict[str, dict[str, dict[str, Any]]] = {}


ALIGNMENTS = ("dlib-5-point",)
# a face the detector misses: aligned on landmarks sought in the whole picture, or left out of the tables
# (a summary setting: the jobs are the same either way)
UNDETECTED = ("whole-image", "exclude")
EVALUATIONS = ("pooled", "leave-one-person-out")
_ALIGNERS: dict[tuple, Any] = {}


def _alignment(study) -> dict[str, Any] | None:
    a = study.settings.get("alignment")
    if a in (None, "none"):
        return None
    if not isinstance(a, dict) or a.get("method") not in ALIGNMENTS:
        raise ConditionError(f"Study {study.name}: settings.alignment must be 'none' or a mapping with method: "
                             f"{', '.join(ALIGNMENTS)} (and size, padding, upsample); got {a!r:.80}.")
    out = {"method": a["method"], "size": a.get("size", 64), "padding": a.get("padding", 0.2),
           "upsample": a.get("upsample", 1)}
    if a.get("undetected", "whole-image") not in UNDETECTED:
        raise ConditionError(f"Study {study.name}: settings.alignment.undetected must be one of "
                             f"{', '.join(UNDETECTED)} (what to do with a face the detector misses).")
    if not (isinstance(out["size"], int) and 16 <= out["size"] <= 1024) \
            or not (isinstance(out["padding"], (int, float)) and 0 <= out["padding"] <= 1) \
            or not (isinstance(out["upsample"], int) and 0 <= out["upsample"] <= 3):
        raise ConditionError(f"Study {study.name}: settings.alignment needs size an integer 16..1024 (pixels), "
                             f"padding 0..1 and upsample an integer 0..3; got {a!r:.120}.")
    return out


def _check_occlusion(study, o: Any, i: int) -> dict[str, Any]:
    where = f"Study {study.name}: settings.occlusions[{i}]"
    if not isinstance(o, dict) or not str(o.get("name") or "").strip():
        raise ConditionError(f"{where} needs a name and one of region, polygon or mask.")
    kinds = [k for k in ("region", "polygon", "mask") if o.get(k) is not None]
    if len(kinds) != 1:
        raise ConditionError(f"{where} ({o['name']}) needs exactly one of region [x0, y0, x1, y1], polygon "
                             "[[x, y], ...] (relative to the face) or mask (an image under --data).")
    if kinds == ["polygon"]:
        pts = o["polygon"]
        ok = isinstance(pts, list) and len(pts) >= 3 and all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in p)
            for p in pts)
        if not ok:
            raise ConditionError(f"{where} ({o['name']}): polygon must be a list of at least three [x, y] points "
                                 "with 0 <= x, y <= 1 (relative to the face).")
    return dict(o)


def polygon_mask(points, width: int, height: int) -> np.ndarray:
    """HxW bool mask of a polygon given in coordinates relative to the picture (x * width, y * height)."""
    from PIL import Image, ImageDraw

    im = Image.new("L", (int(width), int(height)), 0)
    ImageDraw.Draw(im).polygon([(float(x) * width, float(y) * height) for x, y in points], fill=255)
    return np.asarray(im) > 127


def plan(study, images, ctx):
    extras = _FACES.get(study.name) or {}
    labels = study.settings.get("labels", "annotations")
    fmt = _ds(study)["format"]
    if fmt == "coco-people":
        labels = "reference-output"
    occl = [_check_occlusion(study, o, i) for i, o in enumerate(study.settings.get("occlusions") or [])]
    if not occl:
        raise ConditionError(f"Study {study.name}: settings.occlusions is empty; name at least one region or mask.")
    for o in occl:
        if o.get("mask"):
            o["mask_path"] = str(Path(ctx["data_dir"]) / o["mask"])
    evaluation = study.settings.get("evaluation", "pooled")
    if evaluation not in EVALUATIONS:
        raise ConditionError(f"Study {study.name}: settings.evaluation must be one of {', '.join(EVALUATIONS)}.")
    if evaluation == "leave-one-person-out":
        missing = [im.image_id for im in images if not (extras.get(im.image_id) or {}).get("person")]
        if fmt == "coco-people" or missing:
            raise ConditionError(f"Study {study.name}: leave-one-person-out needs the person of each face"
                                 + (f" ({len(missing)} without, e.g. {missing[0]})" if missing else "")
                                 + ": use settings.dataset.format fgnet (001A02.JPG = person 001) or a csv with a "
                                 "person column, or evaluation: pooled.")
    align = _alignment(study)
    from ..features.restoration import resolve_spec

    plugins = tuple(ctx.get("restoration_modules") or ())
    rest = [resolve_spec(r, plugins, f"Study {study.name}: settings.restorations")
            for r in (study.settings.get("restorations") or ["inpaint-telea"])]
    out = []
    for im in images:
        e = extras.get(im.image_id, {})
        p = {"labels": labels, "label": e.get("label"), "person": e.get("person"), "box": e.get("box"),
             "occlusions": occl, "restorations": rest}
        if align:
            p["alignment"] = align
        out.append(("face", im, p))
    return out


def _mask(path: str) -> np.ndarray:
    if path not in _MASKS:
        from PIL import Image

        with Image.open(path) as im:
            _MASKS[path] = np.asarray(im.convert("L")) > 127
    return _MASKS[path]


def aligner(spec: dict[str, Any]):
    """The (per-process cached) ``tasks.face_align.FaceAligner`` of an alignment setting."""
    key = (spec["method"], spec["size"], float(spec["padding"]), spec["upsample"])
    if key not in _ALIGNERS:
        from ..tasks.face_align import FaceAligner

        _ALIGNERS[key] = FaceAligner(spec["size"], spec["padding"], spec["upsample"])
    return _ALIGNERS[key]


def occlusion_mask(o: dict[str, Any], height: int, width: int) -> np.ndarray:
    """The mask of a polygon or mask-image occlusion (a region is drawn by ``features.distortions.occlude``)."""
    if o.get("polygon"):
        return polygon_mask(o["polygon"], width, height)
    return _mask(o["mask_path"])


def job(job) -> dict[str, Any]:
    p = job.p
    task = get_cached_task(job.task, job.task_options)
    rgb = load_rgb(job.image)
    if p.get("box"):
        x0, y0, x1, y1 = p["box"]
        rgb = np.ascontiguousarray(rgb[max(0, y0):y1, max(0, x0):x1])
    rec: dict[str, Any] = {"occluded": {}, "restored": {}}
    if p.get("alignment"):
        al = aligner(p["alignment"])
        a = al.align(rgb)
        rgb = a.chip
        rec["alignment"] = {"how": a.how, "score": a.score, "box": list(a.box), "signature": al.signature()}
    original = task.estimate(rgb)
    rec["original"] = original
    rec["label"] = original if p["labels"] == "reference-output" else p["label"]
    if rec["label"] is None:
        raise DataError(f"Face {job.image.image_id} has no age label; use labels: reference-output.")
    h, w = rgb.shape[:2]
    for o in p["occlusions"]:
        if o.get("region"):
            occ, mask = occlude(rgb, region=o["region"])
        else:
            occ, mask = occlude(rgb, mask=occlusion_mask(o, h, w))
        rec["occluded"][o["name"]] = task.estimate(occ)
        for r in p["restorations"]:
            if isinstance(r, dict):
                from ..features.restoration import load_module, spec_class

                cls = spec_class(r)
                net = load_module(cls, r.get("weights"), r.get("options"))
                restored, rname = restore_image(occ, mask, net=net), cls.__name__
            else:
                restored, rname = restore_image(occ, mask, r), r
            rec["restored"].setdefault(o["name"], {})[rname] = task.estimate(restored)
    return rec


def _interval(err: np.ndarray, groups: list[np.ndarray] | None, resamples: int):
    """95 % bootstrap interval of the mean error: over images, or over persons (all of a person's images
    together) when the faces are grouped per person."""
    from .stats import bootstrap_interval

    if groups is None:
        ci = bootstrap_interval(values=err, resamples=resamples)
    else:
        ci = bootstrap_interval(statistic=lambda idx: float(err[np.concatenate([groups[i] for i in idx])].mean()),
                                n=len(groups), resamples=resamples)
    return None if ci is None else [ci[0], ci[1]]


def summarise(study, records, ctx) -> dict[str, Any]:
    a = study.settings.get("alignment")
    undetected = a.get("undetected", "whole-image") if isinstance(a, dict) else "whole-image"
    missed = sum(1 for r in records if (r.get("alignment") or {}).get("how") == "whole-image")
    if undetected == "exclude" and missed:
        records = [r for r in records if (r.get("alignment") or {}).get("how") != "whole-image"]
        if not records:
            raise DataError(f"Study {study.name}: the face detector found no face in any of the {missed} pictures; "
                            "check --data, or set settings.alignment.undetected: whole-image.")
    labels = np.asarray([r["label"] for r in records], np.float64)
    params = records[0]["params"] if records else {}
    mode = params.get("labels", "annotations")
    evaluation = study.settings.get("evaluation", "pooled")
    persons = sorted({r["params"].get("person") for r in records if r["params"].get("person") is not None})
    lopo = evaluation == "leave-one-person-out" and bool(persons)
    groups = ([np.asarray([i for i, r in enumerate(records) if r["params"].get("person") == p]) for p in persons]
              if lopo else None)
    resamples = int(study.settings.get("bootstrap_resamples", 1000))
    err = lambda est: np.abs(np.asarray(est, np.float64) - labels)  # noqa: E731
    e_orig = err([r["original"] for r in records])
    rows, cis, row_of = [], [], {}
    for o in (study.settings.get("occlusions") or []):
        name = o["name"]
        e_occ = err([r["occluded"][name] for r in records])
        for rn in (sorted(records[0]["restored"].get(name, {})) if records else []):
            e_rest = err([r["restored"][name][rn] for r in records])
            row_of[(name, rn)] = len(rows)
            rows.append([name, rn, mae([r["original"] for r in records], labels.tolist()),
                         mae([r["occluded"][name] for r in records], labels.tolist()),
                         mae([r["restored"][name][rn] for r in records], labels.tolist()), len(records)])
            cis.append([None, None, *(_interval(e, groups, resamples) for e in (e_orig, e_occ, e_rest)), None])
    label_note = ("labels: reference-output (the network's estimate on the clean face; original MAE is 0 by "
                  "construction)" if mode == "reference-output" else "labels: annotated ages")
    align = params.get("alignment")
    hows = [r.get("alignment", {}).get("how") for r in records]
    notes = [label_note]
    if align and undetected == "exclude":
        notes.append(f"faces aligned ({align['method']}, {align['size']} px chip, padding {align['padding']:g}): "
                     f"{hows.count('detected')} detected; {missed} pictures without a detected face left out")
    elif align:
        notes.append(f"faces aligned ({align['method']}, {align['size']} px chip, padding {align['padding']:g}): "
                     f"{hows.count('detected')} detected, {hows.count('whole-image')} without a detected face "
                     "(landmarks sought in the whole picture)")
    else:
        notes.append("faces not aligned")
    if lopo:
        notes.append(f"leave-one-person-out: {len(persons)} folds (one per person); the pretrained network is not "
                     "retrained per fold, so each held-out person is estimated by the same network and the MAE is "
                     "pooled over all held-out faces; intervals resample persons")
    else:
        notes.append("intervals resample faces")
    main = {"name": "S4 MAE (years)", "columns": ["occlusion", "restoration", "MAE original", "MAE occluded",
                                                   "MAE restored", "faces"],
            "rows": rows, "note": "; ".join(notes) + ".", "images": len(records), "ci": cis}
    if lopo:
        main["persons"] = len(persons)
    cmp = study.settings.get("compare_with_paper") or {}
    key = (cmp.get("occlusion"), cmp.get("restoration"))
    if key in row_of:
        main["compare"] = {"published": cmp.get("published", "MAE (years)"), "rows": [[row_of[key], 0]],
                           "columns": [["MAE original", "original"], ["MAE occluded", "masked (mouth/nose)"],
                                       ["MAE restored", "restored (image extrapolation)"]],
                           "units": "years", "higher_is_better": False,
                           # the paper's claim is an ordering across the columns of its one row:
                           # original < restored < masked
                           "order_by": None, "order_across": "columns"}
    tables = [main]
    if lopo and key in row_of:
        name, rn = key
        prow, pci = [], []
        e_o = err([r["occluded"][name] for r in records])
        e_r = err([r["restored"][name][rn] for r in records])
        for p, g in zip(persons, groups):
            sub = [records[i] for i in g]
            lab = [r["label"] for r in sub]
            prow.append([p, len(sub), mae([r["original"] for r in sub], lab), mae([r["occluded"][name] for r in sub], lab),
                         mae([r["restored"][name][rn] for r in sub], lab)])
            pci.append([None, None, *(_interval(e[g], None, resamples) for e in (e_orig, e_o, e_r))])
        tables.append({"name": "S4 MAE per held-out person (years)",
                       "columns": ["person", "faces", "MAE original", "MAE occluded", "MAE restored"],
                       "rows": prow, "ci": pci, "images": len(records), "persons": len(persons),
                       "note": f"leave-one-person-out folds; occlusion {name}, restoration {rn}; intervals "
                               "resample the person's faces."})
    sigs = sorted({r["alignment"]["signature"] for r in records if r.get("alignment")})
    return {"tables": tables, "plots": [], "labels": mode, "evaluation": "leave-one-person-out" if lopo else "pooled",
            "alignment": ", ".join(sigs) if sigs else "none"}
