"""S1 as the paper (issue 25): the paper's QPs, the Table 1-4 outputs with the study-table contract,
restoration on coded multi-channel features.

The QPs are those of seed-tables.md S1 (/work/shared/data/seed-tables.md, the paper's Table 2: anchor QP
41-49 paired with proposal QP 35-45, Table 3: QP 32/37/42/45/47) and of issue 25 (Table 4: QP 27)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import yaml

from vcmbench.conditions.datasets import ImageRef
from vcmbench.studies import downscaled
from vcmbench.studies.model import load_study


def _published(study, prefix):
    return next(t for t in study.data["published"]["tables"] if t["name"].startswith(prefix))


def test_settings_are_the_papers_qps():
    s = load_study("s1-downscaled-ssd")
    t2 = _published(s, "Table 2 — RD")
    printed = [[int(r[0]), int(r[1])] for r in t2["rows"]]
    assert s.settings["table2_pairs"] == printed
    assert sorted(s.settings["anchor"]["qps"]) == sorted({a for a, _ in printed}) == [41, 43, 45, 47, 49]
    assert sorted(s.settings["qps"]) == sorted({b for _, b in printed}) == [35, 37, 39, 41, 43, 45]
    t3 = _published(s, "Table 3 — single")
    assert s.settings["table3_qps"] == [int(r[0]) for r in t3["rows"]] == [32, 37, 42, 45, 47]
    assert s.settings["table4_qp"] == 27


def test_plan_runs_every_table_qp_once_and_extraction_is_in_every_job():
    s = load_study("s1-downscaled-ssd")
    prop, anchor = downscaled.qp_sets(s.settings)
    assert prop == [27, 32, 35, 37, 39, 41, 42, 43, 45, 47]
    assert anchor == [27, 32, 37, 41, 42, 43, 45, 47, 49]
    im = ImageRef("1", 1, 64, 48, "d" * 32, "x.jpg")
    planned = downscaled.plan(s, [im], {})
    variants = [v for v, _, _ in planned]
    assert len(variants) == len(set(variants)) == len(prop) + len(anchor)
    # records whose end-to-end time left the extraction out (study v3) have other job ids: never reused
    assert all(p["timing"] == "extraction-in-every-job" for _, _, p in planned)
    devs = {d["what"] for d in s.data["deviations"]}
    assert not devs & {"qp_ranges", "restoration_training", "end_to_end_time"}  # fixed, so no longer declared


def test_resample_weights_are_the_draws_of_stats_bootstrap():
    """The S1 tables resample images with weights; the draws must be those of studies.stats.bootstrap_interval."""
    from vcmbench.studies.stats import bootstrap_interval, resample_weights

    v = np.array([0.1, 0.7, 0.3, 0.9, 0.45])
    w = resample_weights(len(v), resamples=300)
    assert w.shape == (300, 5) and (w.sum(axis=1) == 5).all()
    assert downscaled._interval((w @ v) / 5) == pytest.approx(list(bootstrap_interval(v, resamples=300)))


def _records(gt, ids, variants):
    """Per image and variant: detections = the GT boxes, of which the ``drop[variant]`` first are left out
    per image (fewer boxes -> lower AP), bits falling with the QP."""
    from vcmbench.tasks.coco_names import COCO_NAMES

    cats = {c["id"]: c["name"] for c in gt["categories"]}
    names = {n.replace("_", " ").lower(): n for n in COCO_NAMES}
    anns = {}
    for a in gt["annotations"]:
        anns.setdefault(a["image_id"], []).append(a)
    out = []
    for i in ids:
        im = next(x for x in gt["images"] if x["id"] == i)
        for variant, (bits, keep, labels) in variants.items():
            boxes = [[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]]
                     for a in anns[i]][:keep]
            det = {"image_size": [im["width"], im["height"]], "boxes": boxes, "scores": [0.9] * len(boxes),
                   "labels": [names[cats[a["category_id"]].lower()] for a in anns[i]][:keep]}
            out.append({"variant": variant, "eval_id": i, "image_id": str(i), "bits": bits, "side_bits": 64,
                        "pixels": im["width"] * im["height"], "extract_seconds": 0.1,
                        "detections": {lab: det for lab in labels}, "restore_seconds": {lab: 0.01 for lab in labels},
                        "e2e_seconds": {lab: 0.5 for lab in labels}})
    return out


def test_summarise_gives_tables_1_to_4_with_the_contract(tmp_path, coco_tiny, monkeypatch):
    s = load_study("s1-downscaled-ssd")
    data = copy.deepcopy(s.data)
    data["settings"].update(qps=[35, 37], anchor={"qps": [41, 43]}, table2_pairs=[[41, 35], [43, 37]],
                            table3_qps=[37], table4_qp=27, bootstrap_resamples=50)
    p = tmp_path / "s1.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    study = load_study(str(p))
    gt = json.loads((coco_tiny / "instances_val2017_cc.json").read_text())
    ids = sorted({a["image_id"] for a in gt["annotations"]})[:3]
    lab = ["bicubic"]
    recs = _records(gt, ids, {"anchor/qp27": (9000, 99, ["none"]), "anchor/qp37": (4000, 99, ["none"]),
                              "anchor/qp41": (3000, 2, ["none"]), "anchor/qp43": (2000, 1, ["none"]),
                              "down/qp27": (5000, 99, lab), "down/qp35": (2500, 3, lab), "down/qp37": (1500, 2, lab)})
    monkeypatch.setattr(downscaled, "_complexity", lambda *a: [])
    res = downscaled.summarise(study, recs, {"data_dir": str(coco_tiny)})
    tables = {t["name"]: t for t in res["tables"]}
    assert {"S1 Table 1 — loss x model", "S1 Table 2 — RD comparison", "S1 Table 2 — BD-rate",
            "S1 Table 3 — single- vs multi-channel input", "S1 Table 3 — BD-rate of the multi-channel input",
            "S1 Table 4 — QP 27"} <= set(tables)
    published = {t["name"]: t for t in study.data["published"]["tables"]}
    compared = [t for t in tables.values() if "compare" in t]
    assert len(compared) == 4
    for t in tables.values():
        assert t["images"] == 3
        if "ci" in t:
            assert len(t["ci"]) == len(t["rows"]) and all(len(c) == len(t["columns"]) for c in t["ci"])
    for t in compared:
        c = t["compare"]
        pub = published[c["published"]]
        assert all(a in t["columns"] and b in pub["columns"] for a, b in c["columns"])
        assert c["order_by"] in t["columns"]
        assert all(0 <= a < len(t["rows"]) and 0 <= b < len(pub["rows"]) for a, b in c["rows"])
    t2 = tables["S1 Table 2 — RD comparison"]
    assert [r[:2] for r in t2["rows"]] == [[41, 35], [43, 37]]
    assert t2["compare"]["units"] == "fraction" and t2["compare"]["order_by"] == "mAP (bicubic)"
    # all boxes kept at anchor QP 27: AP 1 on every resample; Table 4 in percent
    t4 = tables["S1 Table 4 — QP 27"]
    anchor27 = next(r for r, c in zip(t4["rows"], t4["ci"]) if r[0] == "anchor")
    assert anchor27[3] == pytest.approx(100.0)
    assert anchor27[2] == pytest.approx(9064 * 3 / sum(im["width"] * im["height"] for im in gt["images"]
                                                       if im["id"] in ids))
    a2 = t2["rows"][0]
    assert a2[3] < 1.0 and t2["ci"][0][3][0] <= a2[3] <= t2["ci"][0][3][1]
    # Table 3 is in percent: its anchor mAP at QP 37 is the fraction of the RD table times 100
    rd = {(r[0], r[1]): r for r in tables["S1 rate and accuracy"]["rows"]}
    assert tables["S1 Table 3 — single- vs multi-channel input"]["rows"][0][2] == pytest.approx(
        100 * rd[("anchor", 37)][3])
    assert "No single-channel or multi-channel restoration" in tables["S1 Table 3 — single- vs multi-channel input"]["note"]
    assert tables["S1 Table 2 — BD-rate"]["rows"][0][0] == "bicubic"


def test_multi_channel_restoration_sees_every_channel_of_the_map(tmp_path):
    """espcn-multi takes all C channels of a layer as one input: changing one input channel changes the other
    output channels (a channel-by-channel network cannot); untrained it is bicubic (zero-initialised residual)."""
    torch = pytest.importorskip("torch")
    from vcmbench.features.restoration import FeatureRestorer, LayerESPCN, bicubic_restore, module_restore, resolve_spec

    torch.manual_seed(0)
    net = LayerESPCN(scale=2, channels={"m0": 3, "m1": 5}).eval()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5, 5)).astype(np.float32)
    up = module_restore(net, x, 10, 9, "m0")
    assert up.shape == (3, 10, 9)
    ref = torch.nn.functional.interpolate(torch.from_numpy((x - x.min()) / (x.max() - x.min()))[None], size=(10, 9),
                                          mode="bicubic", align_corners=False)[0].numpy() * (x.max() - x.min()) + x.min()
    assert np.allclose(up, ref, atol=1e-5)
    assert module_restore(net, rng.normal(size=(5, 5, 5)).astype(np.float32), 10, 10, "m1").shape == (5, 10, 10)
    torch.nn.init.normal_(net.layers["m0"].c3.weight, std=0.1)
    y = x.copy()
    y[2] += 0.5 * rng.normal(size=(5, 5)).astype(np.float32)
    y[2, 0, 0], y[2, 4, 4] = x.min(), x.max()  # the same normalisation range for both inputs
    a, b = module_restore(net, x, 10, 9, "m0"), module_restore(net, y, 10, 9, "m0")
    assert not np.allclose(a[0], b[0], atol=1e-4)  # channel 0 out depends on channel 2 in
    torch.save(net.state_dict(), tmp_path / "w.pt")
    spec = resolve_spec({"network": "espcn-multi", "weights": str(tmp_path / "w.pt"),
                         "options": {"scale": 2, "channels": {"m0": 3, "m1": 5}},
                         "info": {"input": "multi-channel", "loss": "l1"}})
    assert spec["network"] == "espcn-multi" and spec["info"]["input"] == "multi-channel"
    r = FeatureRestorer(spec)
    assert r.signature().startswith("LayerESPCN#") and r.params() == sum(p.numel() for p in net.parameters())
    assert np.allclose(r(x, 10, 9, "m0"), a, atol=1e-6)
    assert not np.allclose(bicubic_restore(x, 10, 9), a, atol=1e-4)


def test_training_losses():
    torch = pytest.importorskip("torch")
    from vcmbench.core.errors import UsageError
    from vcmbench.studies.train import loss_value

    p = torch.zeros(1, 2, 8, 8)
    t = torch.full((1, 2, 8, 8), 0.5)
    assert float(loss_value("l1", p, t)) == pytest.approx(0.5)
    assert float(loss_value("l2", p, t)) == pytest.approx(0.25)
    assert float(loss_value("l2-ssim", t, t)) == pytest.approx(0.0, abs=1e-6)
    assert float(loss_value("l2-ssim", p, t)) > 10 * 0.25
    with pytest.raises(UsageError):
        loss_value("l3", p, t)


def test_train_restore_cli_refuses_uncoded_with_qps(tmp_path, coco_tiny):
    from click.testing import CliRunner

    from vcmbench.cli import cli

    r = CliRunner().invoke(cli, ["study", "train-restore", "--data", str(coco_tiny), "--out", str(tmp_path / "o"),
                                 "--uncoded", "--qp", "37"])
    assert r.exit_code == 2 and "--uncoded" in r.output


def test_the_papers_network_variant_names_its_p_layers():
    """s1-downscaled-frcnn: the paper's network (X101-FPN P-layers, seed-tables.md S1) on its COCO test subset;
    the same QPs and published figures as s1-downscaled-ssd, its layers those the rcnn network splits into."""
    from vcmbench.tasks.rcnn.network import RCNNNetwork

    fr, ssd = load_study("s1-downscaled-frcnn"), load_study("s1-downscaled-ssd")
    assert fr.data["condition"] == "seed-sr-coco-test"
    assert fr.task["network"] == "rcnn:COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x"
    assert set(fr.settings["map_shapes"]) == set(RCNNNetwork.feature_layers)
    assert set(fr.settings["factors"]) == {"p2", "p3", "p4", "p5"}
    for k in ("qps", "anchor", "table2_pairs", "table3_qps", "table4_qp"):
        assert fr.settings[k] == ssd.settings[k], k
    assert fr.data["published"] == ssd.data["published"]


def test_extraction_time_is_counted_in_every_job_of_an_image(monkeypatch):
    """Feature extraction is cached per image; every job of the image still reports the seconds it took (before:
    only the first job did, so the end-to-end time of the others left it out)."""
    import time
    from types import SimpleNamespace

    from vcmbench.studies import common

    calls = []

    class Task:
        split_points = ("x",)

        def features(self, rgb):
            calls.append(1)
            time.sleep(0.05)
            return {"a": np.zeros((1, 2, 2), np.float32)}

    monkeypatch.setattr(common, "split_task", lambda job: Task())
    monkeypatch.setattr(common, "load_rgb", lambda im: np.zeros((4, 4, 3), np.uint8))
    job = SimpleNamespace(task="t", task_options=(), image=SimpleNamespace(digest="e" * 32))
    firsts = [common.clean_timed(job)[2] for _ in range(3)]
    assert len(calls) == 1  # extracted once
    assert firsts[0] >= 0.05 and firsts == [firsts[0]] * 3
