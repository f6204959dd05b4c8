"""Video runs without a codec or a network: the plan (job ids, QP ladders per class, --sequence/--set/--limit),
the sequence jobs and the video pipeline with stand-ins for the encoder, the verifier, the frame reader and the
task network (resume, partial segments, storage contract, refusals).  The real chain runs in
tests/integration/test_video_run.py."""

from __future__ import annotations

import copy
import hashlib
import json
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from vcmbench.conditions import load_condition
from vcmbench.conditions.model import Condition
from vcmbench.conditions.sequences import SequenceRef
from vcmbench.core.errors import ConditionError, UsageError

EXIT_USAGE = 2


def _ref(name: str, cls: str, frames: int = 3, w: int = 16, h: int = 8, fps: float = 30, ip: int = 32) -> SequenceRef:
    return SequenceRef(name=name, cls=cls, width=w, height=h, fps=fps, bit_depth=8, first_frame=0, frames=frames,
                       intra_period=ip, digest=hashlib.md5(name.encode()).hexdigest(), yuv=f"/data/{name}.yuv")


SEQS = [_ref("Pass_16x8_50", "D"), _ref("Square_16x8_60", "D", frames=4), _ref("Mall_32x16_60", "C", w=32, h=16)]


def _condition(**codec) -> Condition:
    """The SFU condition's sequence facts with three small sequences, VVenC and a stand-in network."""
    data = copy.deepcopy(load_condition("fcm-sfu-hw-obj").data)
    data["task"]["network"] = "ssd-mobilenet-v2-coco"
    data["preprocess"] = {"color": "bt601-full-int", "source": "test"}
    c = data["codec"]
    for k in ("cfg", "version", "extra_args"):
        c.pop(k, None)
    c.update({"name": "vvenc", "preset": "faster", "structure": "low-delay", **codec})
    return Condition(data=data)


class FakeCodec:
    bitstream_format = "vvc"

    def __init__(self, opts):
        self.opts = dict(opts)

    def signature(self, settings=None):
        return f"vvenc-fake-{settings.preset if settings is not None else ''}"


@dataclass
class FakeFacts:
    name: str
    device: str | None = None

    def signature(self):
        return f"{self.name}#fake"


@pytest.fixture
def fakes(monkeypatch):
    """list_sequences over SEQS (recording its arguments), a stand-in codec and network facts."""
    import vcmbench.conditions.sequences as sequences
    import vcmbench.run.video_plan as vp

    calls = []

    def list_sequences(cond, data_dir, limit=None, names=(), sets=()):
        calls.append({"limit": limit, "names": list(names), "sets": list(sets)})
        out = [s for s in SEQS if not names or s.name in names]
        if "no-square" in sets:
            out = [s for s in out if s.name != "Square_16x8_60"]
        return out[:limit] if limit else out

    monkeypatch.setattr(sequences, "list_sequences", list_sequences)
    monkeypatch.setattr(vp, "get_cached_codec", lambda name, opts: FakeCodec(opts))
    monkeypatch.setattr(vp, "network_facts", lambda name, opts: FakeFacts(name))
    return calls


def _plan(cond, tmp_path, **opts):
    from vcmbench.run.video_plan import VideoRunOptions, make_video_plan

    return make_video_plan(cond, tmp_path / "data", tmp_path / "run", VideoRunOptions(**opts))


def _ids(plan):
    return {(s.kind, s.image.name, s.qp): s.job_id for s in plan.specs}


def test_plan_one_reference_per_sequence_and_the_class_ladders(fakes, tmp_path):
    from vcmbench.run.jobs import KIND_SEQUENCE, KIND_SEQUENCE_REFERENCE

    cond = _condition()
    plan = _plan(cond, tmp_path)
    refs = [s for s in plan.specs if s.kind == KIND_SEQUENCE_REFERENCE]
    coded = [s for s in plan.specs if s.kind == KIND_SEQUENCE]
    assert [s.image.name for s in refs] == [s.name for s in SEQS]
    # the peer's ladders (DESIGN.md 5.7): D 22-47, C 27-52, step 5 — from the condition's qp_ladders
    assert plan.qps_by_sequence == {"Pass_16x8_50": [22, 27, 32, 37, 42, 47],
                                    "Square_16x8_60": [22, 27, 32, 37, 42, 47],
                                    "Mall_32x16_60": [27, 32, 37, 42, 47, 52]}
    assert [(s.image.name, s.qp) for s in coded] == [(n, q) for n, qs in plan.qps_by_sequence.items() for q in qs]
    assert all(s.scale == 1.0 and s.codec == "vvenc" for s in coded)
    assert len(set(_ids(plan).values())) == len(plan.specs) == 3 + 18
    extra = dict(coded[0].extra)
    # VVenC codes a sequence in one encode by default: a split VVenC encode codes differently (coding.sequence)
    assert extra["structure"] == "low-delay" and extra["split"] is False and extra["preset"] == "faster"
    assert plan.classes["D"] == ["BasketballPass_416x240_50", "BQSquare_416x240_60", "BlowingBubbles_416x240_50",
                                 "RaceHorses_416x240_30"]  # the condition's classes (a run of part of one: reported)
    assert coded[0].verify_timeout > 120 and coded[0].describe == "Pass_16x8_50 qp 22"
    assert refs[0].describe == "reference Pass_16x8_50"


def test_job_ids_are_stable_and_move_with_what_moves_a_number(fakes, tmp_path):
    base = _ids(_plan(_condition(), tmp_path))
    assert _ids(_plan(_condition(), tmp_path)) == base  # stable
    code = {k: v for k, v in base.items() if k[0] == "sequence"}
    refs = {k: v for k, v in base.items() if k[0] == "seqref"}
    for changed in (_ids(_plan(_condition(preset="medium"), tmp_path)),       # codec settings
                    _ids(_plan(_condition(structure="random-access"), tmp_path)),  # coding structure
                    _ids(_plan(_condition(), tmp_path, split=True))):          # split at intra periods or not
        assert all(changed[k] != v for k, v in code.items())
        assert all(changed[k] == v for k, v in refs.items())  # the uncompressed frames' network output is the same
    other = [s for s in SEQS]
    other[0] = _ref("Pass_16x8_50", "D", ip=16)  # another intra period: that sequence's coded jobs only
    with pytest.MonkeyPatch.context() as mp:
        import vcmbench.conditions.sequences as sequences

        mp.setattr(sequences, "list_sequences", lambda *a, **k: other)
        moved = _ids(_plan(_condition(), tmp_path))
    assert all((moved[k] != v) == (k[1] == "Pass_16x8_50") for k, v in code.items())
    assert moved == {**base, **{k: moved[k] for k in code if k[1] == "Pass_16x8_50"}}


def test_qps_override_selection_sets_and_limit(fakes, tmp_path):
    cond = _condition().with_overrides(qps=[30, 40])
    plan = _plan(cond, tmp_path, sequences=["Mall_32x16_60"])
    assert plan.qps_by_sequence == {"Mall_32x16_60": [30, 40]} and len(plan.specs) == 3
    assert fakes[-1] == {"limit": None, "names": ["Mall_32x16_60"], "sets": []}
    # the same QP on another ladder is the same job (ids hash the QP, not its rank)
    assert _ids(plan)[("sequence", "Mall_32x16_60", 40)] != _ids(_plan(_condition(), tmp_path))[
        ("sequence", "Mall_32x16_60", 42)]
    plan = _plan(_condition(), tmp_path, limit=1)
    assert [s.name for s in plan.sequences] == ["Pass_16x8_50"] and fakes[-1]["limit"] == 1
    with pytest.raises(ConditionError, match="no optional set 'nope'; available: no-cactus"):
        _plan(_condition(), tmp_path, sets=["nope"])
    plan = _plan(_condition(), tmp_path, sets=["no-cactus"])
    assert fakes[-1]["sets"] == ["no-cactus"] and "Cactus_1920x1080_50" not in plan.classes["AB"]
    with pytest.raises(UsageError, match="--limit must be at least 1"):
        _plan(_condition(), tmp_path, limit=0)


def test_refusals_name_the_fix(fakes, tmp_path):
    cond = _condition()
    data = copy.deepcopy(cond.data)
    del data["codec"]["structure"]
    with pytest.raises(ConditionError, match="names no coding structure"):
        _plan(Condition(data=data), tmp_path)
    data = copy.deepcopy(cond.data)
    data["dataset"]["qp_ladders"]["C"]["qps"] = None
    with pytest.raises(ConditionError, match="no QP ladder for class 'C'.*--qps"):
        _plan(Condition(data=data), tmp_path)
    tvd = load_condition("fcm-tvd-tracking")
    with pytest.raises(ConditionError, match="needs a tracker network.*`vcmbench evaluate mot`"):
        _plan(tvd, tmp_path)


def _feature_condition(**feature) -> Condition:
    """``_condition()`` as a feature condition: the SSD split at its heads (tests/video_fixture.ssd_heads_feature)."""
    from tests.video_fixture import ssd_heads_feature

    data = copy.deepcopy(_condition().data)
    f = {**ssd_heads_feature(), **feature}
    data["kind"] = "feature"
    data["task"]["split_point"] = f.pop("split_point")
    data["feature"] = f
    data["codec"].update(chroma_format=400, input_bit_depth=10, internal_bit_depth=10)
    return Condition(data=data)


class FakeSplitFacts(FakeFacts):
    split_points = ("heads",)
    feature_layers = ("m0", "m1", "m2", "m3", "m4", "m5")

    def feature_info(self):
        return {"m0": {"shape": [576, 19, 19]}, "m1": {"shape": [1280, 10, 10]}}


def test_a_feature_condition_plans_feature_sequence_jobs_keyed_on_the_feature_settings(fakes, tmp_path, monkeypatch):
    """Issue 23 (feature coding of video): one reference job per sequence that also computes and caches the split
    features (its extra names the split point), one ``featseq`` job per (sequence, QP); the code jobs' ids move with
    every feature setting (range, formula, rounding, tiling, side information), the references' do not; the
    feature settings travel in the spec; a network that cannot split there is refused with the fix."""
    import vcmbench.run.video_plan as vp
    from vcmbench.run.jobs import KIND_FEATURE_SEQUENCE, KIND_SEQUENCE_REFERENCE

    monkeypatch.setattr(vp, "network_facts", lambda name, opts: FakeSplitFacts(name))
    plan = _plan(_feature_condition(), tmp_path)
    refs = [s for s in plan.specs if s.kind == KIND_SEQUENCE_REFERENCE]
    coded = [s for s in plan.specs if s.kind == KIND_FEATURE_SEQUENCE]
    assert len(refs) == 3 and len(coded) == 18 and len(plan.specs) == 21
    assert all(dict(s.extra) == {"split_point": "heads", "feature_cache": True} for s in refs)
    extra = dict(coded[0].extra)
    f = json.loads(extra["feature"])
    assert f["layers"] == ["m0", "m1", "m2", "m3", "m4", "m5"] and f["range"] == {"mode": "fixed", "min": 0.0,
                                                                                   "max": 6.0}
    assert f["bits"] == 10 and f["split"] == "heads" and extra["structure"] == "low-delay" and extra["verify_sei"]
    assert plan.options["feature"] == f and coded[0].describe == "Pass_16x8_50 qp 22" and extra["feature_cache"]
    # (the fake network gives shapes for m0 and m1 only: the cache size is unknown, so the run caches)
    assert plan.options["feature_cache"]["cache"] and "no shapes" in plan.options["feature_cache"]["reason"]
    base = _ids(plan)
    nocache = _plan(_feature_condition(), tmp_path, feature_cache=False)
    assert _ids(nocache) == base  # cached or not: the same features, the same jobs
    assert not dict(nocache.specs[0].extra)["feature_cache"] and not dict(nocache.specs[-1].extra)["feature_cache"]
    assert _ids(_plan(_feature_condition(), tmp_path)) == base  # stable
    image = _ids(_plan(_condition(), tmp_path))
    assert not set(image.values()) & set(base.values())  # the image-domain condition's jobs are other jobs
    code = {k: v for k, v in base.items() if k[0] == KIND_FEATURE_SEQUENCE}
    refs_ids = {k: v for k, v in base.items() if k[0] == KIND_SEQUENCE_REFERENCE}
    for changed in ({"quant_range": {"mode": "fixed", "min": 0.0, "max": 6.5, "source": "t"}},
                    {"quant_formula": "cav-minmax"}, {"rounding": "floor"},
                    {"tiling": {**f["tiling"], "m0": [18, 32]}},
                    {"quant_range": {"mode": "per-image", "source": "t"}, "side_info": "counted",
                     "header": {"bits": 64, "source": "t"}}):
        ids = _ids(_plan(_feature_condition(**changed), tmp_path))
        assert all(ids[k] != v for k, v in code.items()), changed
        assert all(ids[k] == v for k, v in refs_ids.items()), changed
    with pytest.raises(ConditionError, match="tiling 18x18 of layer 'm0' holds 324 tiles.*576 channels"):
        _plan(_feature_condition(tiling={**f["tiling"], "m0": [18, 18]}), tmp_path)
    monkeypatch.setattr(vp, "network_facts", lambda name, opts: FakeFacts(name))
    with pytest.raises(ConditionError, match="split at 'heads'.*`vcmbench tasks --json`"):
        _plan(_feature_condition(), tmp_path)
    data = copy.deepcopy(_feature_condition().data)
    data["codec"]["chroma_format"] = 420
    monkeypatch.setattr(vp, "network_facts", lambda name, opts: FakeSplitFacts(name))
    with pytest.raises(ConditionError, match="coded as 4:0:0"):
        _plan(Condition(data=data), tmp_path)


def test_a_network_built_per_split_point_is_built_for_the_conditions(fakes, tmp_path, monkeypatch):
    """jde-1088x608 is built for one split set (task option ``split``, default tvd): a feature condition splitting
    at another one gets ``split`` = its split point in the task options of every job; a network that already splits
    there gets no option; one without the option keeps its options (and the plan refuses the split point)."""
    import vcmbench.run.video_plan as vp

    built = []

    class PerSplit(FakeSplitFacts):
        def __init__(self, name, split):
            super().__init__(name)
            self.split_points = (split,)

    def jde_like(name, opts):
        built.append(dict(opts))
        return PerSplit(name, dict(opts).get("split", "tvd"))

    monkeypatch.setattr(vp, "network_facts", jde_like)
    plan = _plan(_feature_condition(), tmp_path)
    assert built[-1]["split"] == "heads" and all(dict(s.task_options)["split"] == "heads" for s in plan.specs)

    monkeypatch.setattr(vp, "network_facts", lambda name, opts: built.append(dict(opts)) or FakeSplitFacts(name))
    plan = _plan(_feature_condition(), tmp_path)  # splits at heads already
    assert "split" not in built[-1] and all("split" not in dict(s.task_options) for s in plan.specs)

    def no_option(name, opts):
        if "split" in dict(opts):
            raise TypeError("unexpected keyword argument 'split'")
        return PerSplit(name, "fpn")

    monkeypatch.setattr(vp, "network_facts", no_option)
    with pytest.raises(ConditionError, match="split at 'heads'.*split points: fpn"):
        _plan(_feature_condition(), tmp_path)


def test_feature_cache_plan_caches_what_fits():
    """JDE 1088x608 at the TVD layers (CompressAI-Vision @31165daf data/mpeg-fcm/MPEGTVDTRACKING/fpn-sizes/TVD-01.json:
    256x76x136, 512x38x68, 1024x19x34) is 18.5 MB of float32 a frame: TVD-01's 3000 frames (56 GB) are not cached,
    9 frames are; the run's option decides when given."""
    from vcmbench.run.video_plan import FEATURE_CACHE_AUTO_BYTES, feature_cache_plan

    class Jde:
        def feature_info(self):
            return {"36": {"shape": [256, 76, 136]}, "61": {"shape": [512, 38, 68]}, "74": {"shape": [1024, 19, 34]}}

    f = {"layers": ["36", "61", "74"]}
    big = feature_cache_plan(f, Jde(), [_ref("TVD-01", "TVD", frames=3000)], None)
    assert big["bytes_per_frame"] == 4 * 4630528 and big["bytes"] == 3000 * 4 * 4630528 > FEATURE_CACHE_AUTO_BYTES
    assert not big["cache"] and "FEATURE_CACHE_AUTO_BYTES" in big["reason"]
    assert feature_cache_plan(f, Jde(), [_ref("TVD-01", "TVD", frames=9)], None)["cache"]
    assert feature_cache_plan(f, Jde(), [_ref("TVD-01", "TVD", frames=3000)], True)["cache"]
    assert not feature_cache_plan(f, Jde(), [_ref("x", "D", frames=1)], False)["cache"]


# ------------------------------------------------------------------------------------------ jobs and pipeline


class FakeTask:
    """One detection per frame whose score is the frame's mean luma / 255 (so each frame's input is visible)."""

    def run(self, rgb):
        from vcmbench.tasks.base import Detections

        return Detections(np.array([[0.0, 0.0, 4.0, 4.0]]), np.array([float(rgb.mean()) / 255.0]), ["person"],
                          image_size=(rgb.shape[1], rgb.shape[0]))


def _frame_value(ref, k):
    return (10 * k + len(ref.name)) % 200


@pytest.fixture
def video_fakes(fakes, monkeypatch):
    """Stand-ins for the frame reader, the segment encoder (with its work_dir progress) and the verifier."""

    import vcmbench.coding.sequence as coding_sequence
    import vcmbench.coding.verify_sequence as vs
    import vcmbench.conditions.sequences as sequences
    import vcmbench.run.sequence_jobs as sj
    import vcmbench.run.video_pipeline as vp_run
    from vcmbench.coding.sequence import SequenceEncode
    from vcmbench.coding.yuv import YuvFormat

    state = {"encodes": [], "kill_after_first_segment": False, "bad": set()}

    def write_source_yuv(ref, out, color, bit_depth):
        fmt = YuvFormat(ref.width, ref.height, 420, bit_depth)
        Path(out).write_bytes(b"".join(bytes([_frame_value(ref, k)]) * fmt.frame_bytes for k in range(ref.frames)))
        return fmt

    def frame_rgb(ref, k, color):
        return np.full((ref.height, ref.width, 3), _frame_value(ref, k), np.uint8)

    def yuv_frame_to_rgb(planes, fmt, color):
        return np.repeat((planes[0] >> (fmt.bit_depth - 8)).astype(np.uint8)[:, :, None], 3, axis=2)

    def encode_sequence(codec, src, bitstream, settings, *, log_dir, work_dir, split=True):
        work_dir.mkdir(parents=True, exist_ok=True)
        segs = [(0, min(2, settings.frames)), (2, settings.frames - 2)] if split and settings.frames > 2 else [
            (0, settings.frames)]
        done = json.loads((work_dir / "progress.json").read_text()) if (work_dir / "progress.json").exists() else []
        out = []
        for i, (first, n) in enumerate(segs):
            reused = i < len(done)
            if not reused:
                if i == 1 and state["kill_after_first_segment"]:
                    raise RuntimeError("killed in segment 2")
                done.append(i)
                (work_dir / "progress.json").write_text(json.dumps(done))
            out.append({"first": first, "frames": n, "reused": reused})
        state["encodes"].append((settings.qp, [s["reused"] for s in out]))
        Path(bitstream).write_bytes(b"\0\0\1" + bytes([settings.qp]) * (10 * settings.qp))
        return SequenceEncode(Path(bitstream), 8 * (3 + 10 * settings.qp), 0.5, [["enc", str(src), str(bitstream)]],
                              [], None, segments=out, join={"method": "concatenation"}, info={"banner": "fake"})

    def verify_sequence(path, *, expected, frames, recon, decoders, timeout, keep_decoded=None, tmp_dir=None,
                        bitstream_format="vvc", log_dir=None):
        src = Path(tmp_dir) / "src.yuv"  # the stand-in "decodes" the source exactly, in 10 bits
        data = np.frombuffer(src.read_bytes(), np.uint8).astype("<u2") << 2
        if keep_decoded is not None:
            Path(keep_decoded).write_bytes(data.tobytes())
        ok = Path(path).name not in state["bad"]
        pics = [{"frame": k, "sei": "absent", "recon": "n/a"} for k in range(frames)]
        return types.SimpleNamespace(ok=ok, reason="ok" if ok else "frame 1: decoders disagree", checks={"decode:pyav": {}},
                                     pictures=pics, decoded=Path(keep_decoded) if keep_decoded else None,
                                     decoded_md5s=[])

    for mod, name, fn in ((sequences, "write_source_yuv", write_source_yuv), (sequences, "frame_rgb", frame_rgb),
                          (sequences, "yuv_frame_to_rgb", yuv_frame_to_rgb),
                          (coding_sequence, "encode_sequence", encode_sequence)):
        monkeypatch.setattr(mod, name, fn)
    monkeypatch.setattr(vs, "verify_sequence", verify_sequence)
    monkeypatch.setattr(sj, "get_cached_codec", lambda name, opts: FakeCodec(opts))
    monkeypatch.setattr(sj, "get_cached_task", lambda name, opts: FakeTask())
    built = []

    def build_video_results(run_dir, store=None, write=True):
        from vcmbench.core.errors import EvaluationError

        built.append(run_dir)
        raise EvaluationError("stand-in: no results built here")

    monkeypatch.setattr(vp_run, "build_video_results", build_video_results)
    state["built"] = built
    return state


def _run(tmp_path, **opts):
    from vcmbench.run.video_pipeline import VideoRunOptions, run_video

    opts.setdefault("jobs", 1)
    opts.setdefault("qps", [22, 37])
    return run_video(_condition(), tmp_path / "data", tmp_path / "run", VideoRunOptions(env={}, **opts))


def test_video_run_stores_the_contract_and_resumes(video_fakes, tmp_path):
    from vcmbench.run.store import RunStore

    s = _run(tmp_path, sequences=["Pass_16x8_50", "Square_16x8_60"], split=True)
    assert (s.total, s.skipped, s.ran, s.errors, s.not_verified) == (6, 0, 6, [], 0)
    assert s.result_set is None and "stand-in: no results built here" in s.result_error
    run_dir = tmp_path / "run"
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["video"] is True and meta["images"] == [] and meta["structure"] == "low-delay" and meta["split"]
    assert [q["name"] for q in meta["sequences"]] == ["Pass_16x8_50", "Square_16x8_60"]
    assert meta["sequences"][1]["frames"] == 4 and meta["qps_by_sequence"]["Square_16x8_60"] == [22, 37]
    assert meta["overrides"] == ["qps=22,37"] and meta["qps"] == [22, 37] and meta["sets"] == []
    assert {j["kind"] for j in meta["jobs"]} == {"code", "reference"} and len(meta["jobs"]) == 6
    assert all(j["scale"] == 1.0 and j["qp"] in (22, 37) for j in meta["jobs"] if j["kind"] == "code")
    with RunStore(run_dir, create=False) as store:
        rows = {(r["image_id"], r.get("qp")): (r, p) for _, r, p in store.rows("code")}
        refs = {r["image_id"]: p for _, r, p in store.rows("reference")}
    rec, pred = rows[("Square_16x8_60", 37)]
    assert rec["bitstream"] == "bitstreams/Square_16x8_60_qp37.266" and (run_dir / rec["bitstream"]).is_file()
    assert rec["bits"] == 8 * (3 + 370) and rec["verified"] and rec["width"] == 16 and rec["scale"] == 1.0
    x = rec["extra"]
    assert x["frames"] == 4 and x["fps"] == 30 and x["kbps"] == pytest.approx(rec["bits"] * 30 / 4000)
    assert x["bpp"] == pytest.approx(rec["bits"] / (16 * 8 * 4)) and x["segments"][1] == {"first": 2, "frames": 2,
                                                                                          "reused": False}
    assert len(x["pictures"]) == 4 and x["join"] == {"method": "concatenation"} and x["structure"] == "low-delay"
    assert x["quality"]["psnr_y"] is None and "identical" in x["quality"]["psnr_note"]  # the stand-in is lossless
    assert len(x["bitstream_sha256"]) == 64 and x["commands"][-1][0] == "enc"
    # predictions: one Detections JSON per evaluated frame, in order; the decoded frames went to the network
    assert [round(f["scores"][0] * 255) for f in pred["frames"]] == [_frame_value(SEQS[1], k) for k in range(4)]
    assert refs["Square_16x8_60"]["frames"] == pred["frames"]
    assert not (run_dir / "partial").exists() or not any((run_dir / "partial").iterdir())
    assert video_fakes["built"] == [run_dir]

    again = _run(tmp_path, sequences=["Pass_16x8_50", "Square_16x8_60"], split=True)
    assert (again.total, again.skipped, again.ran) == (6, 6, 0) and len(video_fakes["encodes"]) == 4
    (run_dir / "bitstreams" / "Pass_16x8_50_qp22.266").write_bytes(b"tampered")
    third = _run(tmp_path, sequences=["Pass_16x8_50", "Square_16x8_60"], split=True)
    assert third.ran == 1 and video_fakes["encodes"][-1] == (22, [False, False])


def test_a_killed_sequence_job_restarts_from_its_finished_segments(video_fakes, tmp_path):
    video_fakes["kill_after_first_segment"] = True
    s = _run(tmp_path, sequences=["Square_16x8_60"], qps=[32], split=True)
    assert s.ran == 1 and len(s.errors) == 1 and "killed in segment 2" in s.errors[0]["error"]
    assert s.errors[0]["job"] == "Square_16x8_60 qp 32"
    errors = json.loads((tmp_path / "run" / "errors.json").read_text())
    partial = tmp_path / "run" / "partial" / errors[0]["job_id"]
    assert json.loads((partial / "progress.json").read_text()) == [0]  # one finished segment kept
    video_fakes["kill_after_first_segment"] = False
    s = _run(tmp_path, sequences=["Square_16x8_60"], qps=[32], split=True)
    assert s.errors == [] and s.skipped == 1 and s.ran == 1  # (the reference job was stored the first time)
    assert video_fakes["encodes"][-1] == (32, [True, False]) and not partial.exists()
    assert json.loads((tmp_path / "run" / "errors.json").read_text()) == []


def test_an_unverified_sequence_is_stored_unscored(video_fakes, tmp_path):
    video_fakes["bad"].add("Pass_16x8_50_qp37.266")
    s = _run(tmp_path, sequences=["Pass_16x8_50"])
    assert s.not_verified == 1 and s.errors == []
    from vcmbench.run.store import RunStore

    with RunStore(tmp_path / "run", create=False) as store:
        rows = {r["qp"]: (r, p) for _, r, p in store.rows("code")}
    rec, pred = rows[37]
    assert not rec["verified"] and rec["verdict"] == "frame 1: decoders disagree" and pred is None
    assert rec["extra"]["first_verdict"] == "frame 1: decoders disagree"  # verified twice, both reasons kept
    assert rows[22][0]["verified"]


def test_run_condition_hands_video_conditions_over_and_refuses_image_options(video_fakes, tmp_path):
    from vcmbench.run.pipeline import run_condition

    with pytest.raises(UsageError, match="leave out --scales"):
        run_condition(_condition(), tmp_path, tmp_path / "run", scales=[0.5])
    with pytest.raises(UsageError, match="without --phase"):
        run_condition(_condition(), tmp_path, tmp_path / "run", phase="encode")
    s = run_condition(_condition(), tmp_path / "data", tmp_path / "run", qps=[47], limit=1, jobs=1, env={})
    assert (s.total, s.ran) == (2, 2) and not (tmp_path / "run" / "images").exists()


def test_cli_run_options_by_condition_kind(tmp_path):
    from vcmbench.cli import cli

    out = tmp_path / "out"
    for args, msg in ((["fcm-sfu-hw-obj", "--scales", "50"], "leave out --scales"),
                      (["fcm-sfu-hw-obj", "--phase", "encode"], "--phase (split encode/score runs) applies to image"),
                      (["demo", "--sequence", "X"], "--sequence: video options; condition demo is an image condition"),
                      (["demo", "--no-split"], "--split/--no-split: video options")):
        r = CliRunner().invoke(cli, ["run", *args, "--data", str(tmp_path), "--out", str(out)])
        assert r.exit_code == EXIT_USAGE, r.output
        assert msg in r.output and "Traceback" not in r.output
        assert not out.exists()
    r = CliRunner().invoke(cli, ["run", "--help"])
    text = " ".join(r.output.split())
    assert "--sequence" in text and "--set" in text and "--no-split" in text
    assert "86400 for a sequence job" in text and "vcmbench run fcm-sfu-hw-obj" in text


def test_video_job_specs_travel_to_workers(fakes, tmp_path):
    """Process-pool and Dask workers receive the specs pickled: a video spec comes back equal, with its
    sequence and settings."""
    import pickle

    plan = _plan(_condition(), tmp_path)
    for spec in plan.specs[:4]:
        back = pickle.loads(pickle.dumps(spec))
        assert back == spec and back.image == spec.image and dict(back.extra) == dict(spec.extra)
