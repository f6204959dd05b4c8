"""End to end on the synthetic Cityscapes layout: `vcmbench run cityscapes-val-seg` with seeded weights of the
native Cityscapes Mask R-CNN, VVenC, every bitstream verified, instance masks in the Cityscapes result
layout scored by cityscapesscripts; `vcmbench results` shows AP / AP50; a second run resumes.

What `python benchmarks/rcnn_golden.py weights Cityscapes/mask_rcnn_R_50_FPN seeded.pkl` writes (the same
two library calls) serves as --task-weights.  Seeded weights predict nonsense (accuracy is meaningless,
AP is 0 here); the numbers are checked against cityscapesscripts run on the run's own result layout, and
the evaluator's arithmetic against its reference in tests/golden/test_cityscapes_golden.py.
About 95 s on 2 idle cores, 190 s under load (6 network passes on 2048x1024 inputs): slow.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from tests.cityscapes_fixture import write_cityscapes_layout

pytestmark = [pytest.mark.integration, pytest.mark.slow]
pytest.importorskip("cityscapesscripts")
pytest.importorskip("torch")
MODEL = "Cityscapes/mask_rcnn_R_50_FPN"
QPS = [37, 47]


def _run(data, weights, out):
    from vcmbench.cli import cli

    return CliRunner().invoke(cli, ["run", "cityscapes-val-seg", "--data", str(data), "--task-weights", str(weights),
                                    "--limit", "2", "--codec", "vvenc", "--qps", ",".join(map(str, QPS)),
                                    "--scales", "100", "--jobs", "2", "--quiet", "--out", str(out)])


def test_cityscapes_val_seg_end_to_end(tmp_path):
    from vcmbench.cli import cli
    from vcmbench.coding.verify import verify_bitstream
    from vcmbench.coding.yuv import YuvFormat
    from vcmbench.metrics.cityscapes import cityscapes_instance_ap
    from vcmbench.tasks.cityscapes_names import CITYSCAPES_LABEL_IDS
    from vcmbench.tasks.rcnn import get_config
    from vcmbench.tasks.rcnn.seeded import seeded_state, write_model_zoo_pkl

    data = tmp_path / "data"
    ids = write_cityscapes_layout(data, 3)
    weights = write_model_zoo_pkl(seeded_state(get_config(MODEL), 0), tmp_path / "seeded.pkl")
    out = tmp_path / "R"
    res = _run(data, weights, out)
    assert res.exit_code == 0, res.output
    rs = json.loads((out / "resultset.json").read_text())
    pts = {p["qp"]: p for p in rs["points"]}
    assert sorted(pts) == QPS and all(p["images"] == 2 and p["failed"] == 0 for p in pts.values())
    assert rs["metric"] == "Cityscapes instance AP@[.5:.95] (cityscapesscripts)"
    assert "map:cityscapes-ap-segm" in rs["signature"] and "codec:vvenc" in rs["signature"]
    # every bitstream verified; re-checked here with another decoder against the recorded MD5
    db = sqlite3.connect(str(out / "results.sqlite"))
    rows = [(json.loads(r), json.loads(p)) for r, p in db.execute("SELECT record, predictions FROM jobs WHERE kind = 'code'")]
    db.close()
    assert len(rows) == 2 * len(QPS)
    for r, _ in rows:
        assert r["verified"] and r["verdict"] == "ok"
        v = verify_bitstream(out / r["bitstream"], expected=YuvFormat(r["coded_width"], r["coded_height"], 420, 10),
                             decoders=("ffmpeg",))
        assert v.ok and v.decoded_md5 == r["extra"]["decoded_md5"]
    # the kept result layout holds the first 2 images, one mask per Cityscapes-class detection, and
    # cityscapesscripts on it (GT of those 2 images) gives the point's numbers
    for qp in QPS:
        folder = out / "cityscapes-results" / f"100pct-qp{qp}"
        assert sorted(p.name for p in folder.glob("*_pred.txt")) == [f"{i}_pred.txt" for i in ids[:2]]
        stored = [p for r, p in rows if r["qp"] == qp]
        n = sum(lab in CITYSCAPES_LABEL_IDS for p in stored for lab in p["labels"])
        assert n > 0 and len(list((folder / "masks").glob("*.png"))) == n
        direct = cityscapes_instance_ap(data / "gtFine" / "val", folder, image_ids=ids[:2])
        acc = pts[qp]["accuracy"]
        assert (acc["AP"], acc["AP50"]) == (direct["AP"], direct["AP50"]) and 0.0 <= acc["AP"] <= acc["AP50"] <= 1.0
        assert pts[qp]["extra"]["per_class"] == direct["per_class"] and direct["images"] == 2
    assert set(rs["provenance"]["uncompressed_accuracy"]) == {"AP", "AP50"}
    shown = CliRunner().invoke(cli, ["results", str(out)])
    assert shown.exit_code == 0 and "(cityscapesscripts) (quality axis: AP)" in shown.output
    assert "AP50" in shown.output and "0 not verified" in shown.output
    # resumed: every job cached, the same result set
    again = _run(data, weights, out)
    assert again.exit_code == 0 and "(6 cached, 0 run" in again.output, again.output
    assert json.loads((out / "resultset.json").read_text())["points"] == rs["points"]
