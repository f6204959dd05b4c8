"""Record cityscapesscripts' own Cityscapes instance AP on constructed masks as a golden file.

Usage, in a scratch environment OUTSIDE the repository with the evaluator as published and a numpy
it was written for (cityscapesscripts 2.3.0 calls ``np.in1d``, gone in numpy 2.4, and its
``matches.json`` dump fails on numpy-2 integers; vcmbench's wrapper patches both, so the reference
must run without any patch)::

    python3.11 -m venv /tmp/cs-np1 && /tmp/cs-np1/bin/pip install numpy==1.26.4 cityscapesscripts==2.3.0
    /tmp/cs-np1/bin/python tests/golden/record_cityscapes_golden.py [--out FILE]

Builds the inputs (``build_inputs``: the synthetic layout of ``tests/cityscapes_fixture.py``, 3
images, and constructed predictions in the Cityscapes result layout covering exact, shifted, eroded,
dilated, duplicate, wrong-class, missed, background, void, car-group, empty, non-evaluated-class and
under-100-pixel cases, every score distinct), then runs the evaluator's main path
``python -m cityscapesscripts.evaluation.evalInstanceLevelSemanticLabeling`` (no arguments: ground
truth ``$CITYSCAPES_DATASET/gtFine/val/*/*_gtFine_instanceIds.png``, predictions found under
``$CITYSCAPES_RESULTS``) twice: on all 3 images, and on a copy of the layout holding the first 2
(what a ``--limit 2`` run scores).  Its GT cache ``gtInstances.json`` beside its source is deleted
before and after each run.  Writes tests/golden/cityscapes_instance_ap.json: source, versions, the
command, the md5 of every input file, and per run ``averages`` of its exported
``resultInstanceLevelSemanticLabeling.json`` (allAp, allAp50%, per class ap / ap50%).
Imports numpy, Pillow and cityscapesscripts only.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from the scratch environment
    sys.path.insert(0, str(ROOT))

from tests.cityscapes_fixture import write_cityscapes_layout  # noqa: E402

GOLDEN_FILE = Path(__file__).with_name("cityscapes_instance_ap.json")
N_IMAGES, SUBSET = 3, 2
COMMAND = "python tests/golden/record_cityscapes_golden.py"
MODULE = "cityscapesscripts.evaluation.evalInstanceLevelSemanticLabeling"
# labelIds (cityscapesscripts helpers/labels.py)
PERSON, RIDER, CAR, TRUCK, BUS, BICYCLE, CARAVAN = 24, 25, 26, 27, 28, 33, 29
OTHER_CLASS = {PERSON: RIDER, RIDER: PERSON, CAR: TRUCK, TRUCK: CAR, BUS: TRUCK, BICYCLE: 32}


def _shift(m, dy: int, dx: int):
    import numpy as np

    out = np.zeros_like(m)
    h, w = m.shape
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[yd, xd] = m[ys, xs]
    return out


def _erode(m, r: int):
    out = m.copy()
    for dy, dx in ((r, 0), (-r, 0), (0, r), (0, -r)):
        out &= _shift(m, dy, dx)
    return out


def _dilate(m, r: int):
    out = m.copy()
    for dy, dx in ((r, 0), (-r, 0), (0, r), (0, -r)):
        out |= _shift(m, dy, dx)
    return out


def constructed_predictions(gt_inst) -> list[tuple[object, int]]:
    """(bool mask, labelId) per constructed prediction of one image, from its instanceIds array.

    Instances (ids >= 1000, ascending) cycle through: exact; shifted 6 px right; eroded 3 px; dilated
    2 px and shifted 3 px down; missed.  Every third also gets a duplicate shifted 2 px, every fourth
    a copy under another class.  Per image besides: a person on the building (false positive), a car
    on the ego vehicle (void), a car on a car group (or on the road), an empty mask, a caravan (not
    evaluated) and a person on the under-100-pixel person when there is one."""
    import numpy as np

    out = []
    ids = [int(v) for v in np.unique(gt_inst) if v >= 1000]
    for g, v in enumerate(ids):
        m, lab = gt_inst == v, v // 1000
        variant = g % 5
        if variant == 0:
            out.append((m, lab))
        elif variant == 1:
            out.append((_shift(m, 0, 6), lab))
        elif variant == 2:
            out.append((_erode(m, 3), lab))
        elif variant == 3:
            out.append((_shift(_dilate(m, 2), 3, 0), lab))
        if g % 3 == 0:
            out.append((_shift(m, 2, 2), lab))
        if g % 4 == 1:
            out.append((m, OTHER_CLASS[lab]))
    h, w = gt_inst.shape
    bg = np.zeros((h, w), bool)
    bg[45:75, 300:330] = True
    out.append((bg, PERSON))
    void = gt_inst == 1
    out.append((void & (np.arange(w)[None, :] < 120), CAR))
    group = gt_inst == CAR
    if not group.any():
        group = np.zeros((h, w), bool)
        group[200:230, 400:470] = True
    out.append((group, CAR))
    out.append((np.zeros((h, w), bool), BUS))
    cv = np.zeros((h, w), bool)
    cv[140:170, 20:60] = True
    out.append((cv, CARAVAN))
    small = [v for v in ids if v // 1000 == PERSON and (gt_inst == v).sum() < 100]
    for v in small:
        out.append((gt_inst == v, PERSON))
    return out


def build_inputs(root: Path) -> tuple[Path, Path, list[str]]:
    """Layout under ``root/data`` and predictions under ``root/results``; returns (data, results, ids).
    Scores fall by 0.0137 from 0.97 over all predictions of all images (distinct: no tie order)."""
    import numpy as np
    from PIL import Image

    data, results = root / "data", root / "results"
    ids = write_cityscapes_layout(data, N_IMAGES)
    (results / "masks").mkdir(parents=True)
    k = 0
    for iid in ids:
        gt = next((data / "gtFine" / "val").glob(f"*/{iid}_gtFine_instanceIds.png"))
        with Image.open(gt) as im:
            inst = np.asarray(im).astype(np.int64)
        lines = []
        for j, (mask, lab) in enumerate(constructed_predictions(inst)):
            name = f"masks/{iid}_{j}.png"
            Image.fromarray(mask.astype(np.uint8) * 255).save(results / name)
            lines.append(f"{name} {lab} {round(0.97 - 0.0137 * k, 6)!r}\n")
            k += 1
        (results / f"{iid}_pred.txt").write_text("".join(lines), encoding="ascii")
    return data, results, ids


def input_md5s(data: Path, results: Path) -> dict[str, str]:
    """md5 of each ground-truth instanceIds PNG (``gtFine/...``) and prediction file (``results/...``)."""
    files = [(p, p.relative_to(data)) for p in sorted((data / "gtFine").rglob("*_instanceIds.png"))]
    files += [(p, Path("results") / p.relative_to(results)) for p in sorted(results.rglob("*.*"))]
    return {str(rel): hashlib.md5(p.read_bytes()).hexdigest() for p, rel in files}


def _evaluate(data: Path, results: Path, work: Path) -> dict:
    import cityscapesscripts.evaluation as pkg

    cache = Path(pkg.__file__).with_name("gtInstances.json")
    cache.unlink(missing_ok=True)
    env = {**os.environ, "CITYSCAPES_DATASET": str(data), "CITYSCAPES_RESULTS": str(results)}
    try:
        p = subprocess.run([sys.executable, "-m", MODULE], cwd=work, env=env, capture_output=True, text=True,
                           timeout=600)
    finally:
        cache.unlink(missing_ok=True)
    if p.returncode != 0:
        raise SystemExit(f"{MODULE} failed ({p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    res = json.loads((data / "evaluationResults" / "resultInstanceLevelSemanticLabeling.json").read_text())
    return res["averages"]


def record(out: Path) -> dict:
    from importlib.metadata import version

    import numpy as np

    with tempfile.TemporaryDirectory(prefix="cs-golden-") as tmp:
        tmp = Path(tmp)
        data, results, ids = build_inputs(tmp)
        md5s = input_md5s(data, results)
        (tmp / "w1").mkdir()
        full = _evaluate(data, results, tmp / "w1")
        sub_data = tmp / "subset"  # the first SUBSET images only (a --limit run scores those)
        for iid in ids[:SUBSET]:
            for p in data.rglob(f"{iid}_*"):
                q = sub_data / p.relative_to(data)
                q.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(p, q)
        sub_results = tmp / "subset_results"
        (sub_results / "masks").mkdir(parents=True)
        for iid in ids[:SUBSET]:
            for p in results.rglob(f"{iid}_*"):
                shutil.copy2(p, sub_results / p.relative_to(results))
        (tmp / "w2").mkdir()
        subset = _evaluate(sub_data, sub_results, tmp / "w2")
    golden = {
        "source": f"cityscapesscripts {version('cityscapesscripts')} (PyPI), its main path `python -m {MODULE}` "
                  "run unmodified with CITYSCAPES_DATASET / CITYSCAPES_RESULTS",
        "versions": {"cityscapesscripts": version("cityscapesscripts"), "numpy": np.__version__,
                     "pillow": version("pillow"), "python": platform.python_version()},
        "command": COMMAND, "date": datetime.date.today().isoformat(),
        "images": ids, "subset": ids[:SUBSET], "inputs_md5": md5s,
        "full": full, "first_2": subset,
    }
    out.write_text(json.dumps(golden, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    return golden


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=GOLDEN_FILE)
    a = ap.parse_args()
    g = record(a.out)
    print(f"{a.out}: AP {g['full']['allAp']:.6f} AP50 {g['full']['allAp50%']:.6f}; first {SUBSET}: "
          f"AP {g['first_2']['allAp']:.6f} AP50 {g['first_2']['allAp50%']:.6f}")


if __name__ == "__main__":
    main()
