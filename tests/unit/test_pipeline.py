"""Pipeline pieces that need no codec run: executors, progress, datasets, plans, Pareto, CLI help."""

from __future__ import annotations

import io

import numpy as np
import pytest
from click.testing import CliRunner

from vcmbench.core.errors import ConditionError, DataError, UsageError
from vcmbench.core.records import RatePoint, ResultSet


def _square(x):
    if x == 3:
        raise ValueError("three")
    return x * x


@pytest.mark.parametrize("jobs", [1, 2])
def test_executors_return_every_result_and_report_errors(jobs):
    from vcmbench.run.executor import make_executor

    with make_executor(jobs) as ex:
        out = {item: (res, err) for item, res, err in ex.run(_square, range(6))}
    assert sorted(out) == list(range(6))
    assert out[4] == (16, None)
    assert out[3][0] is None and "ValueError: three" in out[3][1]
    with pytest.raises(UsageError):
        make_executor(0)


def test_progress_line_and_renderers():
    from vcmbench.run.progress import LogProgress, ProgressEvent, TtyProgress, format_line, renderer_for

    ev = ProgressEvent(done=5, total=10, skipped=1, failed=1, errors=0, elapsed=8.0)
    assert ev.rate == 0.5 and ev.eta == 10.0
    line = format_line(ev)
    assert "5/10" in line and "0.50 jobs/s" in line and "ETA 00:10" in line and "1 cached" in line
    buf = io.StringIO()
    assert isinstance(renderer_for(buf), LogProgress)
    LogProgress(buf, interval=0)(ev)
    assert buf.getvalue().count("\n") == 1 and "5/10" in buf.getvalue()

    class Tty(io.StringIO):
        def isatty(self):
            return True

    t = Tty()
    r = renderer_for(t)
    assert isinstance(r, TtyProgress)
    r(ProgressEvent(10, 10, 0, 0, 0, 2.0))
    assert t.getvalue().startswith("\r") and t.getvalue().endswith("\n")


def _rs(points):
    return ResultSet("c@1", "codec", "lab", "AP", [RatePoint(s, q, 1, 1, b, {"AP": a}, 1) for s, q, b, a in points],
                     "cttc:c@1|scale:100,75")


def test_pareto_front_across_scales():
    from vcmbench.run.resultset import pareto_front, split_by_scale

    rs = _rs([(1.0, 22, 1.0, 0.50), (1.0, 32, 0.5, 0.45), (1.0, 42, 0.2, 0.30),
              (0.75, 22, 0.6, 0.44), (0.75, 32, 0.3, 0.40), (0.75, 42, 0.1, 0.20)])
    front = pareto_front(rs)
    kept = [(p.scale, p.qp) for p in front.points]
    # (0.75, 22) costs more than (1.0, 32) and scores less: dominated; the rest form the front by bpp
    assert kept == [(0.75, 42), (1.0, 42), (0.75, 32), (1.0, 32), (1.0, 22)]
    dominated = _rs([(1.0, 22, 1.0, 0.40), (0.75, 22, 0.5, 0.45)])
    assert [(p.scale, p.qp) for p in pareto_front(dominated).points] == [(0.75, 22)]
    assert "selection:pareto" in front.signature and front.label == "lab+pareto"
    assert any("Pareto" in n for n in front.notes)
    per = split_by_scale(rs)
    assert sorted(per) == [0.75, 1.0] and "scale:75" in per[0.75].signature and per[1.0].label == "lab-100%"


def test_coco_tiny_images_listed_in_id_order(coco_tiny):
    from vcmbench.conditions import load_condition
    from vcmbench.conditions.datasets import list_images, load_rgb

    cond = load_condition("coco-tiny-cc-ssd")
    refs = list_images(cond, coco_tiny)
    assert len(refs) == 22 and [r.eval_id for r in refs] == sorted(r.eval_id for r in refs)
    assert [r.image_id for r in list_images(cond, coco_tiny, limit=3)] == [r.image_id for r in refs[:3]]
    rgb = load_rgb(refs[0])
    assert rgb.shape == (refs[0].height, refs[0].width, 3) and rgb.dtype == np.uint8


def test_image_list_folder_rules(tmp_path):
    from PIL import Image

    from vcmbench.conditions import load_condition
    from vcmbench.conditions.datasets import list_images

    base = load_condition("vcm-oiv6-det")
    lst = base.dataset["image_list"]["file"]
    (tmp_path / lst).write_text("a1.jpg\nb2.jpg\n")
    with pytest.raises(DataError, match="images"):
        list_images(base, tmp_path)
    (tmp_path / "images").mkdir()
    for n in ("a1", "b2"):
        Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(tmp_path / "images" / f"{n}.jpg")
    refs = list_images(base, tmp_path)
    assert [(r.image_id, r.width, r.height) for r in refs] == [("a1", 8, 6), ("b2", 8, 6)]
    with pytest.raises(DataError, match="--data"):
        list_images(base, None)


def test_sample_images_without_download():
    from vcmbench.conditions import load_condition
    from vcmbench.conditions.datasets import list_images

    refs = list_images(load_condition("demo"), None)
    assert len(refs) == 8 and refs[0].image_id == "astronaut" and (refs[0].width, refs[0].height) == (512, 512)
    assert all(r.eval_id == i + 1 for i, r in enumerate(refs))


def test_reference_ground_truth_keeps_scores_above_threshold():
    from vcmbench.conditions.datasets import ImageRef
    from vcmbench.tasks.reference import reference_ground_truth

    ref = ImageRef("x", 7, 100, 50, "d")
    dets = {"x": {"boxes": [[0, 0, 10, 20], [5, 5, 6, 6]], "scores": [0.9, 0.2], "labels": ["cat", "dog"]}}
    gt = reference_ground_truth([ref], dets, 0.5)
    assert len(gt["categories"]) == 80 and gt["images"][0]["id"] == 7
    (ann,) = gt["annotations"]
    assert ann["category_id"] == 17 and ann["bbox"] == [0, 0, 10, 20] and ann["area"] == 200


def test_feature_condition_needs_a_split_capable_network():
    import copy

    from vcmbench.conditions import Condition, load_condition
    from vcmbench.run.pipeline import check_supported
    from vcmbench.tasks import get_task
    from vcmbench.tasks.ssd import check_weights_present

    cond = load_condition("fcm-oiv6-det-player")
    check_supported(cond)  # detectron2 splits at the FPN: accepted before the network is built
    if not check_weights_present()[0]:
        pytest.skip("SSD weights absent")
    data = copy.deepcopy(cond.data)
    data["task"]["network"] = "ssd-mobilenet-v2-coco"
    with pytest.raises(ConditionError, match="split"):
        check_supported(Condition(data=data), get_task("ssd-mobilenet-v2-coco"))


def test_plan_ids_are_stable_content_hashes(coco_tiny, tmp_path):
    from vcmbench.conditions import load_condition
    from vcmbench.run.pipeline import make_plan

    cond = load_condition("coco-tiny-cc-ssd").with_overrides(qps=[32, 37])
    a = make_plan(cond, coco_tiny, tmp_path, limit=2)
    b = make_plan(cond, coco_tiny, tmp_path / "elsewhere", limit=2)
    assert [s.job_id for s in a.specs] == [s.job_id for s in b.specs]
    assert len(a.specs) == 2 + 2 * 2 and len({s.job_id for s in a.specs}) == 6
    c = make_plan(load_condition("coco-tiny-cc-ssd").with_overrides(qps=[32, 42]), coco_tiny, tmp_path, limit=2)
    shared = {s.job_id for s in a.specs} & {s.job_id for s in c.specs}
    assert len(shared) == 4  # the 2 reference jobs and the 2 QP-32 jobs; QP 37 vs 42 differ
    with pytest.raises(UsageError):
        make_plan(cond, coco_tiny, tmp_path, limit=0)


def test_job_keys_serialised_in_parts_equal_the_whole_dict_hash():
    """Issue 27: ``_KeyHash`` (constant entries serialised once per plan) gives exactly ``_hash`` of the whole dict,
    so job ids do not change."""
    from pathlib import Path

    from vcmbench.run.pipeline import _hash, _KeyHash

    const = {"kind": "code", "codec": "vtm-12.0#3f2a|x", "encode": {"preset": "medium", "extra_args": ("a", "b"),
             "loop_filter": True, "threads": 1}, "ibd": 8, "t": {"score_threshold": 0.05, "max_detections": 100},
             "decoders": ("pyav", "ffmpeg"), "cond": "cttc:é@1", "none": None, "path": Path("/x"), "v": "0.2.0"}
    h = _KeyHash(const, ("image", "scale", "qp"))
    for image, scale, qp in (("d41d8cd98f00b204e9800998ecf8427e", 1.0, 22), ("0" * 32, 0.75, 47), ("ü", 0.1 + 0.2, 0),
                             ("x", 1, True), ("y", 2.5e-17, -3)):
        assert h(image=image, scale=scale, qp=qp) == _hash({**const, "image": image, "scale": scale, "qp": qp})
    assert h(image="a", scale=1.0, qp=22) != h(image="a", scale=1.0, qp=27)


def test_run_json_with_the_job_list_spliced_in_equals_the_plain_one(coco_tiny, tmp_path):
    """Issue 27: run.json's job list is made into text once per run and spliced into each write."""
    import json

    from vcmbench.conditions import load_condition
    from vcmbench.run.pipeline import _jobs_text, _run_json, _run_json_text, make_plan

    plan = make_plan(load_condition("coco-tiny-cc-ssd").with_overrides(qps=[32, 37]), coco_tiny, tmp_path, limit=2)
    got = json.loads(_run_json_text(plan, "lab", ["vcmbench", "run"], _jobs_text(plan), executor={"workers": 2}))
    want = json.loads(json.dumps({**_run_json(plan, "lab", ["vcmbench", "run"]), "executor": {"workers": 2}}))
    got.pop("created"), want.pop("created")
    assert got == want and list(got) == list(want)  # same content, same key order
    assert [j["job_id"] for j in got["jobs"]] == [s.job_id for s in plan.specs] and len(got["jobs"]) == 6


@pytest.mark.parametrize("name", ["tasks", "run", "results", "demo"])
def test_commands_have_help_with_example(name):
    from vcmbench.cli import cli

    res = CliRunner().invoke(cli, [name, "--help"])
    assert res.exit_code == 0 and "Example:" in res.output and "vcmbench " + name in res.output


def test_tasks_command_lists_backends():
    from vcmbench.cli import cli

    res = CliRunner().invoke(cli, ["tasks"])
    assert res.exit_code == 0 and "ssd-mobilenet-v2-coco" in res.output and "detectron2" in res.output


def test_results_on_a_non_run_directory_is_a_usage_error(tmp_path):
    from vcmbench.cli import cli

    res = CliRunner().invoke(cli, ["results", str(tmp_path)])
    assert res.exit_code == 2 and "results.sqlite" in res.output


def test_oid_rows_with_masks_use_the_oid_mask_encoding():
    from vcmbench.conditions.datasets import ImageRef
    from vcmbench.metrics.oid_io import encode_oid_mask
    from vcmbench.run.scoring import detections_to_oid
    from vcmbench.tasks import Detections

    m = np.zeros((1, 20, 30), bool)
    m[0, 5:10, 3:12] = True
    det = Detections([[3, 5, 12, 10], [0, 0, 1, 1]], [0.8, 0.7], ["teddy bear", "zebra"], np.concatenate([m, m]), (30, 20))
    rows = detections_to_oid(det.to_json(), ImageRef("img", 1, 30, 20, "d"), {"teddy_bear"}, segmentation=True)
    (row,) = rows
    assert row["LabelName"] == "teddy_bear" and row["XMin"] == 0.1 and row["YMax"] == 0.5
    assert row["Mask"] == encode_oid_mask(m[0]) and (row["ImageWidth"], row["ImageHeight"]) == (30, 20)
    with pytest.raises(DataError, match="masks"):
        detections_to_oid({"boxes": [], "scores": [], "labels": []}, ImageRef("i", 1, 1, 1, "d"), set(), True)


def test_a_run_directory_holds_one_condition_and_codec(tmp_path):
    from vcmbench.core.jsonio import write_json
    from vcmbench.run.pipeline import run_condition
    from vcmbench.run.store import RunStore

    with RunStore(tmp_path / "run") as st:
        st.put("x", "code", "i", 1.0, 22, {}, None)
    write_json(tmp_path / "run" / "condition.json", {"name": "other", "version": 1, "codec": {"name": "vvenc"}})
    with pytest.raises(UsageError, match="holds a run of condition other@1"):
        run_condition("demo", None, tmp_path / "run", jobs=1)


def test_codec_override_swaps_codec_specific_settings():
    from vcmbench.conditions import load_condition

    c = load_condition("vcm-oiv6-det").with_overrides(codec="vvenc", preset="faster")
    assert c.codec["name"] == "vvenc" and c.codec["preset"] == "faster"
    assert "cfg" not in c.codec and "extra_args" not in c.codec and c.overrides == ("codec=vvenc", "preset=faster")
    assert c.signature().get("cfg") == "vvenc-faster"
    with pytest.raises(ConditionError, match="no VTM cfg"):
        load_condition("demo").with_overrides(codec="vtm")
    with pytest.raises(ConditionError, match="--preset applies to vvenc"):
        load_condition("vcm-oiv6-det").with_overrides(preset="fast")
    same = load_condition("demo")
    assert same.with_overrides(preset="faster") is same
