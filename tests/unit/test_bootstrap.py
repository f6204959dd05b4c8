"""Bootstrap confidence intervals of BD-rate (run.bootstrap, metrics.item_records, report.ci, bdrate/report --ci).

Golden references: pycocotools 2.0.x ``COCOeval`` (evaluate/accumulate/summarize, run directly in the
tests, on coco-tiny-cc with seeded perturbed predictions, and on images duplicated under new ids);
the project's ``oid_evaluate``, itself golden-tested against the TF OD API's challenge evaluator
(tests/unit/test_oid_crosscheck.py, test_oid_5k.py), on the MPEG VCM OpenImages 5k ground truth.
Coverage: synthetic curves whose population BD-rate is known exactly (-10 %).
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from click.testing import CliRunner

from tests.unit.test_coco_metric import _perturbed, _pycocotools_stats
from vcmbench.cli import cli
from vcmbench.core.errors import BDError, UsageError
from vcmbench.core.jsonio import write_json
from vcmbench.metrics.coco import STAT_KEYS, coco_evaluated, load_coco_gt
from vcmbench.metrics.item_records import COCO_AP_KEYS, coco_item_records, oid_item_records
from vcmbench.run.bootstrap import (
    PointItems,
    check_options,
    ci_part,
    paired_bootstrap,
    resample_blocks,
    resample_weights,
)

# ----------------------------------------------------------------------------------------- options, draws


@pytest.mark.parametrize("level", [0, 100, -5, 150, "95.0.0", "nan", "x"])
def test_bad_levels_refused_naming_the_fix(level):
    with pytest.raises(UsageError, match="95"):
        check_options(level, 1000, 0)


def test_resamples_and_seed_checked():
    with pytest.raises(UsageError, match="at least 100 resamples"):
        check_options(95, 99, 0)
    with pytest.raises(UsageError, match="non-negative integer"):
        check_options(95, 1000, -1)
    with pytest.raises(UsageError, match="more than 100000"):
        check_options(95, 100_001, 0)
    assert check_options("99.5", 100, 3) == (99.5, 100, 3)
    assert ci_part(95.0, 1000, 0) == "95-b1000-s0" and ci_part(99.5, 200, 7) == "99.5-b200-s7"


def test_draws_are_paired_counts_and_reproducible():
    w = resample_weights(22, 300, 5)
    assert w.shape == (300, 22) and (w.sum(axis=1) == 22).all() and (w >= 0).all()
    assert (w == resample_weights(22, 300, 5)).all() and not (w == resample_weights(22, 300, 6)).all()
    blocks = list(resample_blocks(22, 2500, 5))
    assert [b.shape[0] for b in blocks] == [1000, 1000, 500] and (blocks[0][:300] == w).all()
    # an image drawn once on average: about 1 - 1/e of the images appear in a resample
    assert abs((w > 0).mean() - (1 - (1 - 1 / 22) ** 22)) < 0.02


# ----------------------------------------------------------------------------------------- coverage
R_POP = np.array([0.05, 0.1, 0.2, 0.4])
MU = np.array([0.50, 0.60, 0.68, 0.74])
TRUE_BD = -10.0  # test = anchor with 0.9 x the rate at every population point: BD-rate -10 % by any method


def _mean(values):
    return lambda w: (w @ values) / w.sum(axis=1)


def _synthetic(rng, n):
    """Per image: pixels, a difficulty shared by both codecs (rate factor with mean 1, accuracy offset with
    mean 0); per image and point: independent noise of mean 1 (rate) and 0 (accuracy).  Population rate
    of point j = Σ E[bits] / Σ E[pixels] = R_POP[j] (x 0.9 for the test); population accuracy MU[j]."""
    px = rng.uniform(0.5, 1.5, n) * 1e5
    s = rng.lognormal(-0.18, 0.6, n)
    u = rng.normal(0, 0.08, n)
    curves = []
    for f in (1.0, 0.9):
        pts = []
        for j in range(4):
            bits = f * px * R_POP[j] * s * rng.lognormal(-0.005, 0.1, n)
            pts.append(PointItems(1.0, j, bits, px, np.ones(n), _mean(MU[j] + u + rng.normal(0, 0.02, n))))
        curves.append(pts)
    return curves


def _bd_rate_only(a, t):
    """BD-rate by the project's pchip-jvet (bd.bd_delta), without BD-quality (half the time of bd.compare)."""
    from vcmbench.bd import bd_delta

    (ra, qa), (rt, qt) = zip(*sorted(a, key=lambda p: p[1])), zip(*sorted(t, key=lambda p: p[1]))
    if np.any(np.diff(qa) <= 0) or np.any(np.diff(qt) <= 0) or np.any(np.diff(ra) <= 0) or np.any(np.diff(rt) <= 0):
        raise BDError("not monotone")
    mean, *_ = bd_delta(np.array(qa), np.log10(ra), np.array(qt), np.log10(rt), "pchip-jvet")
    return (10 ** mean - 1) * 100, None


def _coverage(n_sets, resamples, n_items=40):
    rng = np.random.default_rng(123)
    hit = zero = 0
    for k in range(n_sets):
        a, t = _synthetic(rng, n_items)
        ci = paired_bootstrap(a, t, n_items, _bd_rate_only, 95, resamples, seed=k)
        assert "error" not in ci, ci
        hit += ci["low"] <= TRUE_BD <= ci["high"]
        zero += ci["low"] <= 0 <= ci["high"]
    return hit, zero


@pytest.mark.slow
def test_coverage_200_datasets():
    """The issue's criterion: the 95 % interval covers the true BD-rate in 90-99 % of 200 simulated datasets
    (400 resamples each; measured 2026-12: 194/200 = 97 % covered, 1/200 covered 0 %; 17 CPU-s)."""
    hit, zero = _coverage(200, 400)
    assert 180 <= hit <= 198, hit
    assert zero <= 20  # and it is not so wide that it says nothing: it rarely covers "no difference"


def test_coverage_60_datasets():
    """Cheaper variant of the coverage test in the default run: 60 datasets x 200 resamples.  Accepted when
    the hit count is consistent (one-sided binomial, p = 0.001) with a coverage of at least 90 % (measured
    2026-12: 57/60, none covering 0 %; 3 CPU-s)."""
    from scipy.stats import binom

    hit, zero = _coverage(60, 200)
    assert hit >= binom.ppf(0.001, 60, 0.90), hit
    assert zero <= 6


def test_failed_resamples_are_counted_and_warned():
    rng = np.random.default_rng(1)
    a, t = _synthetic(rng, 30)
    calls = {"n": 0}

    def flaky(x, y):
        calls["n"] += 1
        if calls["n"] % 10 == 0:
            raise BDError("test curve is not monotone. Name a remedy")
        return _bd_rate_only(x, y)

    ci = paired_bootstrap(a, t, 30, flaky, 90, 200, seed=0)
    assert ci["failed"] == 20 and ci["resamples"] == 180 and ci["requested"] == 200
    assert ci["first_failure"] == "test curve is not monotone" and "20 of 200 resamples" in ci["warnings"][0]
    assert ci["low"] < ci["high"] and ci["level"] == 90.0 and ci["items"] == 30 and ci["seed"] == 0

    def mostly_bad(x, y):
        raise BDError("anchor: 3 usable point(s)")

    bad = paired_bootstrap(a, t, 30, mostly_bad, 95, 100, seed=0)
    assert set(bad) >= {"level", "error"} and "0 of 100 resamples" in bad["error"] and "low" not in bad


# ----------------------------------------------------------------------------------------- COCO records
@pytest.fixture
def gt(coco_tiny):
    return load_coco_gt(coco_tiny / "instances_val2017_cc.json")


@pytest.mark.parametrize("seed", [0, 1])
def test_coco_weights_one_equal_pycocotools_summarize(gt, seed):
    """Golden source: pycocotools 2.0.x COCOeval.summarize() run directly (tests.unit.test_coco_metric)."""
    preds = _perturbed(gt, seed)
    ids = sorted(im["id"] for im in gt["images"])
    ev = coco_evaluated(gt, preds)
    theirs = dict(zip(STAT_KEYS, _pycocotools_stats(gt, preds)))
    for key in COCO_AP_KEYS:
        ours = coco_item_records(ev, ids, key).accuracy(np.ones((1, len(ids))))[0]
        assert abs(ours - theirs[key]) <= 1e-12, key


def _duplicated(gt, preds, ids, k):
    """The dataset in which image ids[i] appears k[i] times, under new image and annotation ids."""
    g2 = copy.deepcopy(gt)
    g2["images"], g2["annotations"] = [], []
    p2 = []
    imgs = {im["id"]: im for im in gt["images"]}
    nid, aid = max(ids) + 1, max(a["id"] for a in gt["annotations"]) + 1
    for i, kk in zip(ids, k):
        for _ in range(kk):
            g2["images"].append({**imgs[i], "id": nid})
            for a in gt["annotations"]:
                if a["image_id"] == i:
                    g2["annotations"].append({**a, "id": aid, "image_id": nid})
                    aid += 1
            p2 += [{**p, "image_id": nid} for p in preds if p["image_id"] == i]
            nid += 1
    return g2, p2


@pytest.mark.parametrize("seed", [2, 3])
def test_coco_weights_equal_pycocotools_on_duplicated_images(gt, seed):
    """Golden source: pycocotools 2.0.x COCOeval on the images repeated k times under new ids."""
    preds = _perturbed(gt, seed)
    ids = sorted(im["id"] for im in gt["images"])
    k = np.random.default_rng(seed).integers(0, 4, len(ids))
    ev = coco_evaluated(gt, preds)
    theirs = dict(zip(STAT_KEYS, _pycocotools_stats(*_duplicated(gt, preds, ids, k))))
    for key in ("AP", "AP50", "APm"):
        ours = coco_item_records(ev, ids, key).accuracy(k[None].astype(float))[0]
        assert abs(ours - theirs[key]) <= 1e-12, key


def test_coco_recall_keys_have_no_records(gt):
    ev = coco_evaluated(gt, _perturbed(gt, 0))
    with pytest.raises(UsageError, match="AR100.*AP, AP50"):
        coco_item_records(ev, sorted(im["id"] for im in gt["images"]), "AR100")


# ----------------------------------------------------------------------------------------- OID records
def _oid_case(oid_dir, n=200, seed=0):
    import pandas as pd

    from vcmbench.metrics.openimages import load_oid_ground_truth

    gt = load_oid_ground_truth(oid_dir / "detection_validation_5k_bbox.csv",
                               oid_dir / "detection_validation_labels_5k.csv", oid_dir / "selected_classes.txt")
    boxes = pd.read_csv(oid_dir / "detection_validation_5k_bbox.csv")
    rng = np.random.default_rng(seed)
    ids = sorted(rng.choice(gt.image_ids, n, replace=False))
    b = boxes[boxes.ImageID.isin(ids)].copy()
    b = b[rng.random(len(b)) > 0.2]
    for c in ("XMin", "XMax", "YMin", "YMax"):
        b[c] += rng.normal(0, 0.01, len(b))
    b["Score"] = rng.random(len(b))
    fp = b.sample(100, random_state=seed).copy()
    fp["XMin"] = rng.random(100) * 0.5
    fp["XMax"] = fp.XMin + 0.1
    fp["Score"] = rng.random(100) * 0.5
    preds = pd.concat([b, fp])[["ImageID", "LabelName", "Score", "XMin", "XMax", "YMin", "YMax"]]
    return gt, boxes, preds, ids


def test_oid_weights_one_equal_oid_evaluate(oid_dir):
    """Golden source: vcmbench's oid_evaluate (golden-tested against the TF OD API challenge evaluator) on the
    ground truth restricted to the items, as run.scoring scores a point."""
    from vcmbench.metrics.openimages import oid_evaluate, oid_item_entries
    from vcmbench.run.scoring import _oid_subset

    gt, _, preds, ids = _oid_case(oid_dir)
    theirs = oid_evaluate(_oid_subset(gt, ids), preds).map
    ours = oid_item_records(oid_item_entries(gt, preds), ids).accuracy(np.ones((1, len(ids))))[0]
    assert abs(ours - theirs) <= 1e-12 and 0.3 < ours < 0.95


def test_oid_weights_equal_oid_evaluate_on_duplicated_images(oid_dir, tmp_path):
    import pandas as pd

    from vcmbench.metrics.openimages import load_oid_ground_truth, oid_evaluate, oid_item_entries

    gt, boxes, preds, ids = _oid_case(oid_dir, n=60, seed=1)
    labels = pd.read_csv(oid_dir / "detection_validation_labels_5k.csv")
    k = np.random.default_rng(1).integers(0, 3, len(ids))
    p2, b2, l2 = [], [], []
    for i, kk in zip(ids, k):
        for c in range(kk):
            p2.append(preds[preds.ImageID == i].assign(ImageID=f"{i}_{c}"))
            b2.append(boxes[boxes.ImageID == i].assign(ImageID=f"{i}_{c}"))
            l2.append(labels[labels.ImageID == i].assign(ImageID=f"{i}_{c}"))
    pd.concat(b2).to_csv(tmp_path / "b.csv", index=False)
    pd.concat(l2).to_csv(tmp_path / "l.csv", index=False)
    g2 = load_oid_ground_truth(tmp_path / "b.csv", tmp_path / "l.csv", oid_dir / "selected_classes.txt")
    theirs = oid_evaluate(g2, pd.concat(p2)).map
    ours = oid_item_records(oid_item_entries(gt, preds), ids).accuracy(k[None].astype(float))[0]
    assert abs(ours - theirs) <= 1e-12


# ----------------------------------------------------------------------------------------- run directories
LABELS = ["cat", "dog", "person", "car"]
QPS = [22, 27, 32, 37]


def _rec(job_id, image, w, h, qp, bits, psnr):
    return {"job_id": job_id, "image_id": image, "scale": 1.0, "qp": qp, "width": w, "height": h, "coded_width": w,
            "coded_height": h, "bits": int(bits), "verified": True, "verdict": "ok", "encode_seconds": 1.0,
            "decode_seconds": 0.5, "task_seconds": 0.1, "bitstream": f"bitstreams/{job_id}.266", "side_info_bits": 0,
            "extra": {"quality": {"psnr_y": psnr, "psnr_u": psnr + 3, "psnr_v": psnr + 4}}, "signature": "s",
            "schema_version": 1}


def _make_run(path, label, rate_factor, n=16, seed=0):
    """A hand-made run of the demo condition (reference-output ground truth, COCO AP): n images x 4 QPs; coded
    detections lose boxes and drift more as QP grows; bits = pixels x a per-QP bpp x per-image noise."""
    from vcmbench.conditions import load_condition
    from vcmbench.run.resultset import build_result_set
    from vcmbench.run.store import RunStore

    rng = np.random.default_rng(seed)
    shape_rng = np.random.default_rng(99)  # the same images (and reference detections) in every run
    psnr_rng = np.random.default_rng(seed + 1000)
    images, jobs, refs = [], [], {}
    for i in range(n):
        w, h = int(shape_rng.integers(200, 400)), int(shape_rng.integers(150, 300))
        name = f"im{i:02d}"
        images.append({"image_id": name, "eval_id": i + 1, "width": w, "height": h, "digest": name, "path": None,
                       "sample": name})
        k = int(shape_rng.integers(2, 5))
        x = shape_rng.uniform(0, w * 0.6, k)
        y = shape_rng.uniform(0, h * 0.6, k)
        refs[name] = {"image_size": [w, h], "boxes": [[float(a), float(b), float(a + w * 0.3), float(b + h * 0.3)]
                                                      for a, b in zip(x, y)],
                      "scores": [0.9] * k, "labels": [LABELS[j % 4] for j in shape_rng.integers(0, 4, k)]}
        jobs.append({"job_id": f"r{name}", "kind": "reference", "image_id": name, "scale": 1.0, "qp": 0})
    run = {"label": label, "codec_signature": "vvenc-x#1", "task_signature": "ssd#1", "qps": QPS, "scales": [1.0],
           "images": images, "jobs": [], "data_dir": None}
    with RunStore(path) as st:
        write_json(path / "condition.json", load_condition("demo").to_dict())
        for im in images:
            st.put(f"r{im['image_id']}", "reference", im["image_id"], None, None, {}, refs[im["image_id"]])
        for q, qp in enumerate(QPS):
            for im in images:
                name, w, h = im["image_id"], im["width"], im["height"]
                ref = refs[name]
                keep = rng.random(len(ref["boxes"])) < (0.97, 0.9, 0.75, 0.55)[q]
                sd = (0.01, 0.04, 0.09, 0.16)[q]
                boxes = [[c + rng.normal(0, sd) * w * 0.3 for c in b] for b, k in zip(ref["boxes"], keep) if k]
                det = {"image_size": [w, h], "boxes": boxes, "scores": [float(v) for v in rng.uniform(0.3, 1, len(boxes))],
                       "labels": [lab for lab, k in zip(ref["labels"], keep) if k]}
                bits = w * h * (0.8, 0.4, 0.2, 0.1)[q] * rate_factor * rng.lognormal(0, 0.2)
                jid = f"{name}-{qp}"
                jobs.append({"job_id": jid, "kind": "code", "image_id": name, "scale": 1.0, "qp": qp})
                psnr = float(44 - 0.5 * qp + psnr_rng.normal(0, 1))
                st.put(jid, "code", name, 1.0, qp, _rec(jid, name, w, h, qp, bits, psnr), det)
        run["jobs"] = jobs
        write_json(path / "run.json", run)
    build_result_set(path)
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("runs")
    return _make_run(d / "anchor", "anchor", 1.0, seed=1), _make_run(d / "test", "test", 0.8, seed=2)


def test_bdrate_ci_json_from_run_directories(runs):
    a, t = runs
    args = ["bdrate", "--anchor", str(a), "--test", str(t), "--ci", "95", "--resamples", "200", "--seed", "3", "--json",
            "--remedy", "drop-nonmono"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    (r,) = out["results"]
    ci = r["ci"]
    (summary,) = out["summary"]  # one scale: the summary figure is the row's, with the row's interval
    assert summary["ci"] == ci and summary["bd_rate_pct"] == r["bd_rate_pct"]
    assert ci["level"] == 95.0 and ci["requested"] == 200 and ci["seed"] == 3 and ci["items"] == 16
    assert ci["resamples"] + ci["failed"] == 200 and ci["method"] == "paired percentile bootstrap over images"
    assert ci["low"] < r["bd"]["bd_rate_pct"] < ci["high"]
    assert ci["bd_quality_low"] < r["bd"]["bd_quality"] < ci["bd_quality_high"]
    assert "|ci:95-b200-s3|" in r["signature"]
    again = json.loads(CliRunner().invoke(cli, args).stdout)["results"][0]["ci"]
    assert again == ci  # same seed, same interval
    text = CliRunner().invoke(cli, args[:-3] + ["--remedy", "drop-nonmono"])
    assert text.exit_code == 0, text.output
    assert "95 % CI of BD-rate (scale 100 %, pchip-jvet+drop-nonmono): [" in text.stdout and "seed 3, 16 images" in text.stdout


def test_interval_needs_the_same_images(runs, tmp_path):
    from vcmbench.core.records import load_result_set
    from vcmbench.report.ci import interval
    from vcmbench.run.run_items import run_item_curves

    a, t = runs
    ia = run_item_curves(a, load_result_set(a))
    it = run_item_curves(t, load_result_set(t))
    it.items = it.items[:-1] + ["other"]
    ci = interval(ia, it, 1.0, method="pchip-jvet", remedies=(), extend="none", min_overlap=0.75, level=95,
                  resamples=100, seed=0, expected_bd=None)
    assert "not on the same images" in ci["error"]


def test_stale_result_set_is_refused(runs, tmp_path):
    import shutil

    from vcmbench.core.errors import DataError
    from vcmbench.core.records import load_result_set
    from vcmbench.run.run_items import run_item_curves

    d = tmp_path / "copy"
    shutil.copytree(runs[0], d)
    rs = load_result_set(d)
    rs.points[0].bpp *= 1.01
    with pytest.raises(DataError, match="rebuild it with `vcmbench results RUNDIR`"):
        run_item_curves(d, rs)


def test_csv_input_ci_unavailable_exit_0(tmp_path):
    a = tmp_path / "a.csv"
    t = tmp_path / "t.csv"
    a.write_text("bpp,mAP\n0.05,0.50\n0.1,0.60\n0.2,0.68\n0.4,0.72\n")
    t.write_text("bpp,mAP\n0.045,0.51\n0.09,0.61\n0.18,0.685\n0.36,0.725\n")
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", str(a), "--test", str(t), "--ci", "95"])
    assert res.exit_code == 0, res.output
    assert "-16.32 %" in res.stdout  # core.units: BD-rate with 2 decimals (the JSON below holds the full value)
    assert ("95 % CI of BD-rate (pchip-jvet): not available: no per-image records in a.csv (a CSV holds only "
            "per-point figures): the interval needs run directories") in res.stdout
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", str(a), "--test", str(t), "--ci", "95", "--json"])
    (r,) = json.loads(res.stdout)["results"]
    assert round(r["bd_rate_pct"], 4) == -16.3208
    assert r["ci"] == {"level": 95.0, "error": "no per-image records in a.csv (a CSV holds only per-point figures): "
                                               "the interval needs run directories"}
    assert "ci:" not in r["signature"]


@pytest.mark.parametrize("args,msg", [(["--ci", "0"], "strictly between 0 and 100"),
                                      (["--ci", "100"], "strictly between 0 and 100"),
                                      (["--ci", "95.0.0"], "not a number"),
                                      (["--ci", "-95"], "strictly between 0 and 100"),
                                      (["--ci", "95", "--resamples", "10"], "at least 100 resamples")])
def test_bad_ci_options_exit_2(tmp_path, args, msg):
    a = tmp_path / "a.csv"
    a.write_text("bpp,mAP\n0.05,0.50\n0.1,0.60\n0.2,0.68\n0.4,0.72\n")
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", str(a), "--test", str(a), *args])
    assert res.exit_code == 2 and msg in res.output and "Traceback" not in res.output


def test_report_model_gets_ci(runs):
    from vcmbench.core.records import load_result_set
    from vcmbench.report.ci import fill_model
    from vcmbench.report.model import build_report

    a, t = runs
    model = build_report([load_result_set(a)], [load_result_set(t)], remedies=("drop-nonmono",))
    fill_model(model, level=90, resamples=150, seed=1)
    (e,) = model.entries
    assert e.ci["level"] == 90.0 and e.ci["low"] < e.result.bd_rate_pct < e.ci["high"]
    assert e.ci["requested"] == 150 and "|ci:90-b150-s1|" in e.signature
    (s,) = model.summaries  # one scale: the summary figure (report.summaries) gets the same interval
    assert s.ci == e.ci and s.result.bd_rate_pct == e.result.bd_rate_pct


def test_report_cli_ci(runs, tmp_path):
    a, t = runs
    out = tmp_path / "r.xlsx"
    res = CliRunner().invoke(cli, ["report", "--anchor", str(a), "--test", str(t), "--remedy", "drop-nonmono",
                                   "--ci", "95", "--resamples", "100", "--seed", "2", "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    (r,) = json.loads(res.stdout)["results"]
    assert r["ci"]["low"] < r["bd"]["bd_rate_pct"] < r["ci"]["high"] and r["ci"]["seed"] == 2
    assert "|ci:95-b100-s2|" in r["signature"] and out.is_file()
    res = CliRunner().invoke(cli, ["report", "--anchor", str(a), "--test", str(t), "--remedy", "drop-nonmono",
                                   "--ci", "95", "--resamples", "100", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "95 % CI of BD-rate (demo@1 test, scale 100 %, pchip-jvet+drop-nonmono): [" in res.stdout
    res = CliRunner().invoke(cli, ["report", "--anchor", str(a), "--test", str(t), "--ci", "0", "-o", str(out)])
    assert res.exit_code == 2 and "strictly between 0 and 100" in res.output


def test_summary_entries_get_ci_through_pareto_fronts(runs):
    from vcmbench.bd import compare
    from vcmbench.core.records import load_result_set
    from vcmbench.report.ci import fill_model
    from vcmbench.report.model import SummaryEntry, build_report
    from vcmbench.run.resultset import pareto_front

    a, t = (load_result_set(x) for x in runs)
    model = build_report([a], [t], remedies=("drop-nonmono",))
    pa, pt = pareto_front(a), pareto_front(t)
    res = compare([(p.bpp, p.accuracy["AP"]) for p in pa.points], [(p.bpp, p.accuracy["AP"]) for p in pt.points],
                  remedies=("drop-nonmono",))
    model.summaries = [SummaryEntry("test", "dataset", "BD-rate (Pareto)", "pareto", "test", result=res, signature="v:1"),
                       SummaryEntry("test", "overall", "Overall", "mean", "test", value_pct=-3.0)]
    model.summaries[1].result = res
    fill_model(model, level=95, resamples=100, seed=0)
    d, o = model.summaries
    assert d.ci["low"] < res.bd_rate_pct < d.ci["high"] and d.signature == "ci:95-b100-s0|v:1"
    assert "no interval for the overall figure (Overall)" in o.ci["error"]


def test_ci_unavailable_with_bits_rate_or_a_moved_run_directory(runs, tmp_path):
    a, t = runs
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", str(a), "--test", str(t), "--rate-col", "bits", "--ci", "95",
                                   "--resamples", "100", "--remedy", "drop-nonmono", "--json"])
    assert res.exit_code == 0, res.output
    assert "not 'bits'" in json.loads(res.stdout)["results"][0]["ci"]["error"]
    rs = json.loads((a / "resultset.json").read_text())
    rs["provenance"]["run_dir"] = str(tmp_path / "gone")
    moved = tmp_path / "anchor.json"
    moved.write_text(json.dumps(rs))
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", str(moved), "--test", str(t), "--ci", "95", "--resamples", "100",
                                   "--remedy", "drop-nonmono", "--json"])
    assert res.exit_code == 0, res.output
    (r,) = json.loads(res.stdout)["results"]
    assert "gone of" in r["ci"]["error"] and "is not there" in r["ci"]["error"] and "bd_rate_pct" in r["bd"]


def test_psnr_interval_is_a_mean_of_per_image_values(runs):
    a, t = runs
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", str(a), "--test", str(t), "--quality-col", "psnr_yuv", "--ci",
                                   "95", "--resamples", "200", "--json"])
    assert res.exit_code == 0, res.output
    (r,) = json.loads(res.stdout)["results"]
    assert r["ci"]["failed"] == 0 and r["ci"]["low"] < r["bd"]["bd_rate_pct"] < r["ci"]["high"]
    assert r["ci"]["bd_quality_low"] < r["bd"]["bd_quality"] < r["ci"]["bd_quality_high"]
