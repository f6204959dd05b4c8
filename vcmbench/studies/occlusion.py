"""S4 — a regression task on occluded images and their restoration (seed-tables.md S4).

Faces (``settings.dataset.format``):

* ``csv``: ``--data DIR`` holds a CSV (``settings.dataset.file``, default ``labels.csv``) with
  columns ``image,age`` (paths relative to DIR); labels are the true ages.
* ``fgnet``: the FG-NET file naming, ``001A02.JPG`` = person 001, age 2 (``A`` any case; an
  optional letter after the age, ``001A22a.JPG``, is kept in the id), in DIR or DIR/images.
* ``coco-people``: crops of the people of a COCO condition (``settings.dataset.condition``;
  instances annotations, category ``person``, not crowd, box at least ``min_size`` pixels on both
  sides): the square of side ``min(w, h)`` at the top of the person box, centred horizontally —
  where the head is for standing people.  No ages exist: labels are in ``reference-output`` mode.

``reference-output`` labels (``settings.labels: reference-output``, forced for ``coco-people``) are
the network's own estimate on the clean crop; the table says so, and the "original" MAE is 0 by
construction.  Occlusions (``settings.occlusions``: ``{name, region: [x0, y0, x1, y1]}`` relative
to the crop, or ``{name, mask: FILE}`` a mask image under --data) are applied with
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
            out.append((_ref(d / r["image"], Path(r["image"]).stem, i + 1), {"label": age, "person": None}))
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


def plan(study, images, ctx):
    extras = _FACES.get(study.name) or {}
    labels = study.settings.get("labels", "annotations")
    if _ds(study)["format"] == "coco-people":
        labels = "reference-output"
    occl = [dict(o) for o in (study.settings.get("occlusions") or [])]
    if not occl:
        raise ConditionError(f"Study {study.name}: settings.occlusions is empty; name at least one region or mask.")
    for o in occl:
        if o.get("mask"):
            o["mask_path"] = str(Path(ctx["data_dir"]) / o["mask"])
    from ..features.restoration import resolve_spec

    plugins = tuple(ctx.get("restoration_modules") or ())
    rest = [resolve_spec(r, plugins, f"Study {study.name}: settings.restorations")
            for r in (study.settings.get("restorations") or ["inpaint-telea"])]
    out = []
    for im in images:
        e = extras.get(im.image_id, {})
        out.append(("face", im, {"labels": labels, "label": e.get("label"), "person": e.get("person"),
                                 "box": e.get("box"), "occlusions": occl, "restorations": rest}))
    return out


def _mask(path: str) -> np.ndarray:
    if path not in _MASKS:
        from PIL import Image

        with Image.open(path) as im:
            _MASKS[path] = np.asarray(im.convert("L")) > 127
    return _MASKS[path]


def job(job) -> dict[str, Any]:
    p = job.p
    task = get_cached_task(job.task, job.task_options)
    rgb = load_rgb(job.image)
    if p.get("box"):
        x0, y0, x1, y1 = p["box"]
        rgb = np.ascontiguousarray(rgb[max(0, y0):y1, max(0, x0):x1])
    original = task.estimate(rgb)
    rec: dict[str, Any] = {"original": original, "occluded": {}, "restored": {}}
    rec["label"] = original if p["labels"] == "reference-output" else p["label"]
    if rec["label"] is None:
        raise DataError(f"Face {job.image.image_id} has no age label; use labels: reference-output.")
    for o in p["occlusions"]:
        occ, mask = occlude(rgb, region=o.get("region"), mask=_mask(o["mask_path"]) if o.get("mask") else None)
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


def summarise(study, records, ctx) -> dict[str, Any]:
    labels = [r["label"] for r in records]
    mode = records[0]["params"]["labels"] if records else "annotations"
    rows = []
    for o in (study.settings.get("occlusions") or []):
        name = o["name"]
        occ = [r["occluded"][name] for r in records]
        rests = sorted(records[0]["restored"].get(name, {})) if records else []
        for rn in rests:
            rest = [r["restored"][name][rn] for r in records]
            rows.append([name, rn, mae([r["original"] for r in records], labels), mae(occ, labels), mae(rest, labels),
                         len(records)])
    label_note = ("labels: reference-output (the network's estimate on the clean face; original MAE is 0 by "
                  "construction)" if mode == "reference-output" else "labels: annotated ages")
    tables = [{"name": "S4 MAE (years)", "columns": ["occlusion", "restoration", "MAE original", "MAE occluded",
                                                      "MAE restored", "faces"], "rows": rows, "note": label_note}]
    return {"tables": tables, "plots": [], "labels": mode}
