"""A small synthetic Cityscapes layout, deterministic, in the real naming (test data made here).

``write_cityscapes_layout(root, n)`` writes ``n`` scenes of 512x256 (the real val split is 500 of
2048x1024; the Mask R-CNN resizes the shortest edge to 1024 whatever the input):

* ``root/gtFine/val/<city>/<id>_gtFine_polygons.json``: the scene as Cityscapes polygons (road, sky,
  building, ego vehicle, and instances of person, rider, car, truck, bus, bicycle, a car group, a
  person under 100 pixels that the evaluation ignores);
* ``<id>_gtFine_instanceIds.png`` / ``<id>_gtFine_labelIds.png`` rasterised from those polygons by
  cityscapesscripts' own converters (``preparation.json2instanceImg.createInstanceImage`` /
  ``json2labelImg.createLabelImage``, encoding ``ids``), as the dataset's files were made, saved as
  16-bit / 8-bit grey PNG like the download's (Pillow 12+ no longer writes their mode-``I`` image as PNG);
* ``root/leftImg8bit/val/<city>/<id>_leftImg8bit.png``: the scene painted in the Cityscapes label
  colours with seeded noise (``numpy.random.RandomState``, stable across numpy versions).

``<id>`` = ``<city>_<seq>_<frame>``; cities rotate through the val split's frankfurt, lindau, munster.
Imports numpy, Pillow and cityscapesscripts only (no vcmbench) at module level: the golden recorder
runs it in a scratch environment too.  ``synthetic_condition`` writes a copy of ``cityscapes-val-seg``
that records the layout's own count (how verify-data checks a synthetic layout).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SIZE = (512, 256)  # width, height
CITIES = ("frankfurt", "lindau", "munster")


def image_id(i: int) -> str:
    return f"{CITIES[i % len(CITIES)]}_{i:06d}_{19 + 37 * i:06d}"


def _box(x0: int, y0: int, x1: int, y1: int, bevel: int = 0) -> list[list[int]]:
    """A rectangle, its top corners cut by ``bevel`` pixels (a polygon with 4 or 6 vertices)."""
    if not bevel:
        return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    return [[x0, y1], [x0, y0 + bevel], [x0 + bevel, y0], [x1 - bevel, y0], [x1, y0 + bevel], [x1, y1]]


def scene(i: int) -> list[tuple[str, list[list[int]]]]:
    """(label, polygon) of scene ``i`` in drawing order (later objects occlude earlier ones)."""
    w, h = SIZE
    objs = [("sky", _box(0, 0, w, 70)), ("building", _box(0, 40, w, 130)), ("road", _box(0, 120, w, h)),
            ("ego vehicle", _box(0, h - 18, w, h))]
    if i % 3 == 0:
        objs.append(("truck", _box(10, 70, 100, 160, 8)))
    if i % 3 == 2:
        objs.append(("bus", _box(110, 55, 260, 135, 10)))
    objs += [("car", _box(40 + 20 * i, 128, 170 + 20 * i, 196, 14)),
             ("car", _box(300 - 10 * i, 138, 390 - 10 * i, 184, 9)),
             ("person", [[205 + 15 * i, 180], [207 + 15 * i, 112], [216 + 15 * i, 98], [225 + 15 * i, 112],
                         [228 + 15 * i, 180]])]
    if i % 3 == 1:
        objs += [("bicycle", _box(420, 150, 475, 204, 6)), ("rider", _box(432, 104, 462, 168, 8)),
                 ("cargroup", _box(240, 118, 296, 140))]
    if i % 3 == 2:
        objs.append(("person", _box(480, 60, 488, 70)))  # 9x11 = 99 px filled: under the evaluation's 100 px minimum
    return objs


def _paint(label_ids: np.ndarray, instance_ids: np.ndarray, seed: int) -> np.ndarray:
    from cityscapesscripts.helpers.labels import id2label

    rgb = np.zeros(label_ids.shape + (3,), np.int16)
    for lid in np.unique(label_ids):
        rgb[label_ids == lid] = id2label[int(lid)].color
    inst = instance_ids >= 1000
    rgb[inst] += ((instance_ids[inst] % 1000) * 23 % 60 - 30).astype(np.int16)[:, None]
    rgb += np.random.RandomState(seed).randint(-12, 13, rgb.shape).astype(np.int16)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def write_cityscapes_layout(root: str | Path, n: int = 3, split: str = "val") -> list[str]:
    """Write ``n`` scenes under ``root`` (see the module docstring); returns their ids, sorted."""
    from cityscapesscripts.helpers.annotation import Annotation
    from cityscapesscripts.preparation.json2instanceImg import createInstanceImage
    from cityscapesscripts.preparation.json2labelImg import createLabelImage
    from PIL import Image

    root = Path(root)
    ids = []
    for i in range(n):
        iid = image_id(i)
        city = iid.split("_")[0]
        gt = root / "gtFine" / split / city
        img = root / "leftImg8bit" / split / city
        gt.mkdir(parents=True, exist_ok=True)
        img.mkdir(parents=True, exist_ok=True)
        poly = gt / f"{iid}_gtFine_polygons.json"
        poly.write_text(json.dumps({"imgHeight": SIZE[1], "imgWidth": SIZE[0],
                                    "objects": [{"label": lab, "polygon": p} for lab, p in scene(i)]}, indent=1))
        ann = Annotation()
        ann.fromJsonFile(str(poly))
        instance_ids = np.asarray(createInstanceImage(ann, "ids"), dtype=np.int64)
        label_ids = np.asarray(createLabelImage(ann, "ids"), dtype=np.int64)
        Image.fromarray(instance_ids.astype(np.uint16)).save(gt / f"{iid}_gtFine_instanceIds.png")
        Image.fromarray(label_ids.astype(np.uint8)).save(gt / f"{iid}_gtFine_labelIds.png")
        Image.fromarray(_paint(label_ids, instance_ids, i)).save(img / f"{iid}_leftImg8bit.png")
        ids.append(iid)
    return sorted(ids)


def synthetic_condition(folder: str | Path, rows: int, network: str | None = None,
                        name: str = "cityscapes-synthetic") -> Path:
    """``folder/<name>.yaml``: ``cityscapes-val-seg`` (its ``base:`` merged in) recording ``rows`` gtFine
    files, optionally with another task network (a test-only condition)."""
    import yaml

    from vcmbench.conditions import load_condition

    d = {k: v for k, v in load_condition("cityscapes-val-seg").to_dict().items() if not k.startswith("_") and k != "base"}
    d["name"] = name
    d["dataset"]["annotations"]["instances"]["rows"] = rows
    if network:
        d["task"]["network"] = network
    path = Path(folder) / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    return path


def handmade_run(run_dir: str | Path, data_dir: str | Path, preds: dict[int, dict[str, dict | None]],
                 reference: dict[str, dict] | None = None, condition: str | Path = "cityscapes-val-seg",
                 limit: int | None = None) -> Path:
    """A run directory as ``vcmbench run`` leaves it, without running anything: the condition's images of
    ``data_dir`` (the first ``limit``), one 100 % point per QP of ``preds`` ({qp: {image id: Detections
    JSON, or None for a bitstream that failed verification}}; an image left out of a QP is a job that
    did not finish) and the reference jobs' ``reference`` predictions."""
    from dataclasses import asdict

    from vcmbench.conditions import load_condition
    from vcmbench.conditions.datasets import list_images
    from vcmbench.core.jsonio import write_json
    from vcmbench.run.store import RunStore

    cond = load_condition(condition)
    refs = list_images(cond, data_dir, limit)
    run_dir = Path(run_dir)
    jobs = [{"job_id": f"r-{r.image_id}", "kind": "reference", "image_id": r.image_id, "scale": None, "qp": None}
            for r in refs]
    for qp in preds:
        jobs += [{"job_id": f"c{qp}-{r.image_id}", "kind": "code", "image_id": r.image_id, "scale": 1.0, "qp": qp}
                 for r in refs]
    run = {"label": "handmade", "codec_signature": "vvenc-test#0", "task_signature": "rcnn~test#0", "qps": sorted(preds),
           "scales": [1.0], "images": [asdict(r) for r in refs], "jobs": jobs, "data_dir": str(Path(data_dir).resolve()),
           "limit": limit}
    with RunStore(run_dir) as st:
        write_json(run_dir / "condition.json", cond.to_dict())
        write_json(run_dir / "run.json", run)
        for image_id, det in (reference or {}).items():
            st.put(f"r-{image_id}", "reference", image_id, None, None, {}, det)
        by_id = {r.image_id: r for r in refs}
        for qp, per_image in preds.items():
            for image_id, det in per_image.items():
                r, ok = by_id[image_id], det is not None
                jid = f"c{qp}-{image_id}"
                rec = {"job_id": jid, "image_id": image_id, "scale": 1.0, "qp": qp, "width": r.width, "height": r.height,
                       "coded_width": r.width, "coded_height": r.height, "bits": 1000 * (60 - qp) + len(image_id),
                       "verified": ok, "verdict": "ok" if ok else "not decodable: constructed failure",
                       "encode_seconds": 1.0, "decode_seconds": 0.5, "task_seconds": 2.0,
                       "bitstream": f"bitstreams/{jid}.266", "side_info_bits": 0, "extra": {}, "signature": "s",
                       "schema_version": 1}
                st.put(jid, "code", image_id, 1.0, qp, rec, det)
    return run_dir
