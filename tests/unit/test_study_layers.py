"""S3 (studies.layers) as the report: the variants planned from the shipped study files, the tables'
contract fields, and the bootstrap intervals of COCO AP.

Golden references: seed-tables.md S3 (largest factors P2 64, P3 32, P4 16, P5 8, P6 4; P3 and P5 sent =
"5.02x less data" for the FPN maps of an 800x1067 input); pycocotools 2.0.x ``COCOeval`` (run directly)
for the AP that ``coco_ap_records`` returns and recomputes with all image weights 1."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from tests.unit.test_coco_metric import _perturbed, _pycocotools_stats
from vcmbench.core.errors import ConditionError
from vcmbench.metrics.coco import STAT_KEYS, load_coco_gt
from vcmbench.studies import layers
from vcmbench.studies.model import load_study


def _plan(study):
    return layers.plan(study, ["img"], {})


def test_frcnn_plan_is_the_reports_experiment():
    s = load_study("s3-layers-frcnn")
    keys = {k: p for k, _, p in _plan(s)}
    assert layers.largest_factors(s) == {"p2": 64, "p3": 32, "p4": 16, "p5": 8, "p6": 4}
    singles = sorted(k for k in keys if k.startswith("single/"))
    assert len(singles) == 6 + 5 + 4 + 3 + 2 and "single/p2/64" in keys and "single/p6/8" not in keys
    combos = [k for k in keys if k.startswith("combo/")]
    assert len(combos) == 26 and not any(k.startswith("pair/") for k in keys)  # every set of 2..5 maps, once
    assert keys["combo/p2+p6"]["factors"] == {"p2": 64, "p6": 4}  # each map at ITS largest factor
    assert keys["combo/p2+p3+p4+p5+p6"]["factors"] == {"p2": 64, "p3": 32, "p4": 16, "p5": 8, "p6": 4}
    rebuilds = sorted(k for k in keys if k.startswith("rebuild/"))
    assert rebuilds == ["rebuild/C-O-C-O-C, P4 from P3 (down)", "rebuild/C-O-C-O-C, P4 from P5 (up)",
                        "rebuild/C-O-C-O-C, P4 mix a=0.25", "rebuild/C-O-C-O-C, P4 mix a=0.5",
                        "rebuild/C-O-C-O-C, P4 mix a=0.75"]
    mix = keys["rebuild/C-O-C-O-C, P4 mix a=0.5"]["rebuild"]
    assert mix == {"p2": {"up": "p3"}, "p4": {"mix": ["p3", "p5"], "a": 0.5}, "p6": {"down": "p5"}}
    assert len(keys) == 1 + 20 + 26 + 5


def test_ssd_plan_leaves_out_the_map_without_a_factor():
    s = load_study("s3-layers-ssd")
    keys = [k for k, _, _ in _plan(s)]
    assert layers.largest_factors(s)["m5"] == 1 and not any("m5" in k for k in keys)
    assert len([k for k in keys if k.startswith("combo/")]) == 26


def _study(settings, **extra):
    s = copy.deepcopy(load_study("s3-layers-frcnn"))
    s.data["settings"] = {**s.data["settings"], **settings}
    s.data.update(extra)
    return s


def test_combinations_and_published_rows_are_checked():
    s = _study({"pairs": False, "combinations": [["p6", "p2"], ["p2", "p6"], ["p3"]]})
    assert layers.combinations(s) == [("p2", "p6")]  # map order, once; a single map is no combination
    with pytest.raises(ConditionError, match="p9"):
        layers.combinations(_study({"combinations": [["p9", "p2"]]}))
    with pytest.raises(ConditionError, match="'all' or a list"):
        layers.combinations(_study({"combinations": "some"}))
    with pytest.raises(ConditionError, match="published_rows names 'nope'"):
        _plan(_study({"published_rows": {"nope": 0}}))
    old = _study({"pair_factor": 2, "combinations": []})  # the version-3 setting still plans pairs at one factor
    assert {p["k"] for k, _, p in _plan(old) if k.startswith("pair/")} == {2}


class _PerImage:
    """Stands in for metrics.item_records records: the figure of a weighted multiset = weighted mean."""

    def __init__(self, values):
        self.v = np.asarray(values, float)

    def accuracy(self, w):
        return (w @ self.v) / w.sum(axis=1)


def test_summary_tables_carry_the_contract(monkeypatch, tmp_path):
    s = _study({"bootstrap_resamples": 200})
    variants = [k for k, _, _ in _plan(s)]
    params = {k: p for k, _, p in _plan(s)}
    n = 6
    recs = [{"variant": k, "eval_id": i, "params": params[k], "detections": {}} for k in variants for i in range(n)]
    # per-image figures: clean 0.5 on every image; a variant is worse by its index / 1000
    rank = {k: j for j, k in enumerate(variants)}

    def fake(gt, records, ids, keys):
        k = records[0]["variant"]
        per = np.full(n, 0.5) - rank[k] / 1000 + np.linspace(-0.01, 0.01, n)
        per_image = {q: _PerImage(per) for q in keys}
        stats = {q: float(per.mean()) for q in ("AP", "AP50", "AP75", "APs", "APm", "APl")}
        return stats, per_image

    monkeypatch.setattr(layers, "coco_ap_records", fake)
    monkeypatch.setattr(layers, "gt_path", lambda ctx, cond: tmp_path / "gt.json")
    res = layers.summarise(s, recs, {})
    t = {x["name"]: x for x in res["tables"]}
    assert res["bootstrap"]["resamples"] == 200
    for x in res["tables"]:
        assert x["images"] == n and len(x["ci"]) == len(x["rows"])
    clean = t["S3 clean"]
    assert clean["compare"] == {"published": "Baseline", "rows": [[0, 0]],
                                "columns": [["AP", "AP"], ["AP50", "AP50"], ["APs", "APs"], ["APm", "APm"],
                                            ["APl", "APl"]],
                                "units": "percent", "higher_is_better": True, "order_by": "AP"}
    lo, hi = clean["ci"][0][0]
    assert lo < 0.5 < hi
    fac = t["S3 largest factor per map"]
    assert fac["rows"] == [[64, 32, 16, 8, 4]] and fac["compare"]["columns"][0] == ["p2", "P2"]
    rb = t["S3 reconstruction of unsent maps"]
    names = [r[0] for r in rb["rows"]]
    row = names.index("C-O-C-O-C, P4 mix a=0.5")
    assert rb["compare"]["rows"] == [[row, 0]] and rb["compare"]["order_by"] == "AP"
    assert rb["rows"][row][1] == "p3+p5" and rb["rows"][row][2] == 0.5
    assert round(rb["rows"][row][3], 2) == 5.02  # the report's "5.02x less data"
    # ΔAP: the paired difference is exact here (every image worse by the same amount): a zero-width interval
    d_ap = rb["columns"].index("ΔAP")
    lo, hi = rb["ci"][row][d_ap]
    assert rb["rows"][row][d_ap] == pytest.approx(-rank["rebuild/C-O-C-O-C, P4 mix a=0.5"] / 1000)
    assert lo == pytest.approx(hi) == pytest.approx(rb["rows"][row][d_ap])
    combos = t["S3 maps degraded together"]
    assert combos["rows"][0][:2] == ["p2+p3", "64+32"] and len(combos["rows"]) == 26


def test_coco_ap_records_match_pycocotools(coco_tiny):
    """All weights 1 recompute pycocotools' own AP, APs, APm, APl on the same images."""
    from vcmbench.studies.common import coco_ap_records
    from vcmbench.tasks.coco_names import COCO_NAMES

    gt_file = coco_tiny / "instances_val2017_cc.json"
    gt = load_coco_gt(gt_file)
    preds = _perturbed(gt, seed=3)
    names = {c["id"]: c["name"] for c in gt["categories"]}
    preds = [p for p in preds if names[p["category_id"]] in COCO_NAMES]
    ids = sorted(im["id"] for im in gt["images"])
    records = []
    for i in ids:
        mine = [p for p in preds if p["image_id"] == i]
        records.append({"eval_id": i, "detections": {
            "boxes": [[p["bbox"][0], p["bbox"][1], p["bbox"][0] + p["bbox"][2], p["bbox"][1] + p["bbox"][3]]
                      for p in mine],
            "scores": [p["score"] for p in mine], "labels": [names[p["category_id"]] for p in mine]}})
    stats, per = coco_ap_records(gt_file, records, ids)
    ref = dict(zip(STAT_KEYS, _pycocotools_stats(gt, preds, img_ids=ids)))
    assert ref["AP"] > 0.3  # the perturbed predictions find most objects
    ones = np.ones((1, len(ids)))
    for k in ("AP", "AP50", "APs", "APm", "APl"):
        assert stats[k] == pytest.approx(ref[k], abs=1e-4)  # boxes round-tripped through Detections JSON
        if ref[k] >= 0:
            assert per[k].accuracy(ones)[0] == pytest.approx(stats[k], abs=1e-12)
