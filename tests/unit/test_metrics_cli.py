"""``vcmbench evaluate coco|oid|cityscapes``: output names the metric and carries a signature."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from vcmbench.cli import cli
from vcmbench.core.signature import Signature


def _run(args):
    return CliRunner().invoke(cli, ["evaluate", *args])


def _oid_files(tmp_path):
    pd.DataFrame([{"ImageID": "i1", "LabelName": "cat", "XMin": 0, "XMax": .5, "YMin": 0, "YMax": .5, "IsGroupOf": 0},
                  {"ImageID": "i2", "LabelName": "dog", "XMin": .5, "XMax": 1, "YMin": .5, "YMax": 1, "IsGroupOf": 0}]
                 ).to_csv(tmp_path / "b.csv", index=False)
    pd.DataFrame([{"ImageID": "i1", "LabelName": "cat", "Confidence": 1},
                  {"ImageID": "i2", "LabelName": "cat", "Confidence": 0}]).to_csv(tmp_path / "l.csv", index=False)
    pd.DataFrame([{"ImageID": "i1", "LabelName": "cat", "Score": .9, "XMin": 0, "XMax": .5, "YMin": 0, "YMax": .5},
                  {"ImageID": "i2", "LabelName": "cat", "Score": .95, "XMin": 0, "XMax": .5, "YMin": 0, "YMax": .5},
                  {"ImageID": "i2", "LabelName": "dog", "Score": .5, "XMin": .5, "XMax": 1, "YMin": .5, "YMax": 1}]
                 ).to_csv(tmp_path / "p.csv", index=False)
    (tmp_path / "c.txt").write_text("cat\ndog\nbird\n")
    return ["--gt-boxes", str(tmp_path / "b.csv"), "--gt-labels", str(tmp_path / "l.csv"),
            "--pred", str(tmp_path / "p.csv"), "--classes", str(tmp_path / "c.txt")]


def test_evaluate_oid_json(tmp_path):
    r = _run(["oid", *_oid_files(tmp_path), "--json", "--per-class"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    # cat: the i2 detection (negative label) is a FP ranked above the TP -> AP 0.5; dog: AP 1 -> mAP 0.75
    assert d["map"] == 0.75 and d["per_class"]["cat"]["ap"] == 0.5
    assert d["metric"] == "OID challenge mAP@IoU0.5 (detection)"
    sig = Signature.parse(d["signature"])
    assert sig.get("map") == "oid-challenge-bbox" and sig.get("v") and len(sig.get("gthash")) == 12
    assert sig.get("gt") == "annotations" and d["map50"] == 0.75
    assert d["classes_without_gt"] == ["bird"]


def test_evaluate_oid_text_and_usage_errors(tmp_path):
    args = _oid_files(tmp_path)
    r = _run(["oid", *args, "--per-class"])
    assert r.exit_code == 0 and "75.000 %" in r.output and "# signature: map:oid-challenge-bbox" in r.output
    r = _run(["oid", *args, "--segmentation"])
    assert r.exit_code == 2 and "--gt-masks" in r.output


def test_evaluate_coco_json(coco_tiny, tmp_path):
    gt = coco_tiny / "instances_val2017_cc.json"
    anns = json.loads(gt.read_text())["annotations"]
    preds = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0}
             for a in anns if not a["iscrowd"]]
    (tmp_path / "p.json").write_text(json.dumps(preds))
    r = _run(["coco", "--gt", str(gt), "--pred", str(tmp_path / "p.json"), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["values"]["AP"] == 1.0 and "pycocotools" in d["metric"]
    assert Signature.parse(d["signature"]).get("map") == "coco-ap-bbox"
    r = _run(["coco", "--gt", str(gt), "--pred", str(tmp_path / "p.json")])
    assert r.exit_code == 0 and "AP50" in r.output and "# signature:" in r.output
    assert "value (%)" in r.output and ["AP", "100.000"] in [line.split() for line in r.output.splitlines()]


def test_evaluate_cityscapes_json(tmp_path):
    from tests.unit.test_cityscapes_metric import _make

    gt, pred = _make(tmp_path)
    r = _run(["cityscapes", "--gt", str(gt), "--pred", str(pred), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["AP"] == 1.0 and Signature.parse(d["signature"]).get("map") == "cityscapes-ap-segm"
