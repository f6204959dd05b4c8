"""The sequences of a video condition as data (issue 22): listing and checking them against the data folder,
the codec's source file (FrameSkip, bit depth, colour), the frames as RGB, the `codec.structure` field, and
the synthetic sequence of tests/video_fixture.py through `cttc validate` / `cttc verify-data`."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tests.video_fixture import make_synthetic_sequence, synthetic_frames
from vcmbench.cli import cli
from vcmbench.coding.yuv import YuvFormat, ctc_rgb_to_yuv, planes_from_bytes, read_yuv, yuv_to_rgb
from vcmbench.conditions import load_condition, validate_data
from vcmbench.conditions.schema_sequences import cfg_structure
from vcmbench.conditions.sequences import SequenceRef, frame_rgb, list_sequences, write_source_yuv, yuv_frame_to_rgb
from vcmbench.conditions.verify_sequences import frame_bytes
from vcmbench.core.errors import EXIT_NOT_VERIFIED, ConditionError, DataError, UsageError

FB = frame_bytes(416, 240, 8)


def _png_rgb(path: str) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def test_png_layout_listed_and_written_as_pictures_are(tmp_path):
    """A MOT-layout frame folder: 33 frames, ids 1..33 (no annotation file: reference output), the digest is
    the md5 of the PNG files in order, and the codec's source holds each frame converted exactly as a
    picture of an image condition (ctc_rgb_to_yuv at scale 1), at 8 and 10 bits."""
    seq = make_synthetic_sequence(tmp_path)
    cond = load_condition(seq.condition_path)
    (ref,) = list_sequences(cond, seq.data_dir)
    assert (ref.name, ref.cls, ref.width, ref.height, ref.fps, ref.frames, ref.first_frame) == (
        seq.name, "D", 416, 240, 30.0, 33, 0)
    assert ref.yuv is None and ref.annotations is None and ref.eval_ids == tuple(range(1, 34))
    files = sorted((seq.data_dir / f"{seq.name}_val" / "img1").glob("*.png"))
    assert ref.frame_files == tuple(str(p.resolve()) for p in files)
    assert ref.digest == hashlib.md5(b"".join(p.read_bytes() for p in files)).hexdigest()
    assert ref.pixels == 416 * 240 * 33 and ref.image_id == seq.name
    stored = json.loads(json.dumps(ref.__dict__))  # as run.json holds it
    assert SequenceRef.from_dict(stored) == ref and hash(SequenceRef.from_dict(stored)) == hash(ref)
    with pytest.raises(DataError, match="lacks digest"):
        SequenceRef.from_dict({k: v for k, v in stored.items() if k != "digest"})

    fmt = write_source_yuv(ref, tmp_path / "src8.yuv", cond.color_mode, 8)
    assert fmt == YuvFormat(416, 240, 420, 8)
    data = (tmp_path / "src8.yuv").read_bytes()
    assert len(data) == 33 * fmt.frame_bytes
    for k in (0, 17, 32):
        want = ctc_rgb_to_yuv(_png_rgb(files[k]), 1.0, mode=cond.color_mode, bit_depth=8)
        got = planes_from_bytes(data[k * fmt.frame_bytes:(k + 1) * fmt.frame_bytes], fmt)
        assert all(np.array_equal(a, b) for a, b in zip(got, want)), k
        assert np.array_equal(frame_rgb(ref, k, cond.color_mode), _png_rgb(files[k]))
    fmt10 = write_source_yuv(ref, tmp_path / "src10.yuv", cond.color_mode, 10)
    assert fmt10 == YuvFormat(416, 240, 420, 10)
    ten = np.frombuffer((tmp_path / "src10.yuv").read_bytes(), "<u2")
    assert np.array_equal(ten, np.frombuffer(data, np.uint8).astype(np.uint16) << 2)
    assert not list(tmp_path.glob(".*.part"))


def test_raw_layout_frame_skip_and_bit_depth(tmp_path):
    """A JCT-VC raw file of 5 + 33 frames, the last 33 evaluated: the source is exactly the byte range
    5..37 (FrameSkip), the digest its md5, frame k is the sequence's picture 5 + k (not picture k), and a
    10-bit file written at 8 bits is rounded as VTM scales its output ((v + 2) >> 2)."""
    seq = make_synthetic_sequence(tmp_path, layout="yuv", first_frame=5)
    cond = load_condition(seq.condition_path)
    (ref,) = list_sequences(cond, seq.data_dir)
    raw = (seq.data_dir / f"{seq.name}.yuv").read_bytes()
    assert len(raw) == 38 * FB and ref.first_frame == 5 and ref.frames == 33 and ref.frame_files == ()
    assert ref.yuv == str((seq.data_dir / f"{seq.name}.yuv").resolve())
    assert ref.digest == hashlib.md5(raw[5 * FB:]).hexdigest()
    write_source_yuv(ref, tmp_path / "src.yuv", cond.color_mode, 8)
    assert (tmp_path / "src.yuv").read_bytes() == raw[5 * FB:]
    pictures = synthetic_frames(38)
    for k in (0, 32):
        rgb = frame_rgb(ref, k, "bt601-limited-numpy")  # the fixture wrote video levels
        near = np.abs(rgb.astype(int) - pictures[5 + k]).mean()
        far = np.abs(rgb.astype(int) - pictures[k]).mean()
        assert near < 3 < far, (k, near, far)
    fmt = YuvFormat(416, 240, 420, 8)
    planes = read_yuv(seq.data_dir / f"{seq.name}.yuv", fmt, 5 + 7)
    assert np.array_equal(frame_rgb(ref, 7, cond.color_mode), yuv_to_rgb(planes, fmt, cond.color_mode))
    assert np.array_equal(yuv_frame_to_rgb(planes, fmt, cond.color_mode), yuv_to_rgb(planes, fmt, cond.color_mode))
    with pytest.raises(UsageError, match="has 33 evaluated frames"):
        frame_rgb(ref, 33, cond.color_mode)

    t = make_synthetic_sequence(tmp_path / "ten", layout="yuv", first_frame=2, bit_depth=10)
    tcond = load_condition(t.condition_path)
    (tref,) = list_sequences(tcond, t.data_dir)
    fb10 = 2 * FB
    raw10 = (t.data_dir / f"{t.name}.yuv").read_bytes()
    assert len(raw10) == 35 * fb10 and tref.digest == hashlib.md5(raw10[2 * fb10:]).hexdigest()
    write_source_yuv(tref, tmp_path / "t10.yuv", tcond.color_mode, 10)
    assert (tmp_path / "t10.yuv").read_bytes() == raw10[2 * fb10:]
    write_source_yuv(tref, tmp_path / "t8.yuv", tcond.color_mode, 8)
    v = np.frombuffer(raw10[2 * fb10:], "<u2").astype(np.uint32)
    assert np.array_equal(np.frombuffer((tmp_path / "t8.yuv").read_bytes(), np.uint8),
                          np.minimum((v + 2) >> 2, 255).astype(np.uint8))


def test_data_that_disagrees_is_refused(tmp_path):
    """Frames on disk that disagree with the condition are refused, naming the expected and found counts and
    `vcmbench cttc verify-data`; a source changed after listing is refused when the codec's file is written."""
    short = make_synthetic_sequence(tmp_path / "png", disk_frames=32)
    with pytest.raises(DataError, match=r"img1 holds 32 \.png frames, the condition expects 33.*cttc verify-data"):
        list_sequences(load_condition(short.condition_path), short.data_dir)
    raw = make_synthetic_sequence(tmp_path / "yuv", layout="yuv", first_frame=4, disk_frames=30)
    with pytest.raises(DataError, match=r"holds 34 frames, the condition expects 37 \(total_frames\)"):
        list_sequences(load_condition(raw.condition_path), raw.data_dir)
    with pytest.raises(DataError, match="does not exist; give --data"):
        list_sequences(load_condition(raw.condition_path), tmp_path / "nowhere")

    ok = make_synthetic_sequence(tmp_path / "ok", layout="yuv", first_frame=1, frames=4)
    cond = load_condition(ok.condition_path)
    (ref,) = list_sequences(cond, ok.data_dir)
    path = ok.data_dir / f"{ok.name}.yuv"
    data = bytearray(path.read_bytes())
    data[3 * FB] ^= 0xFF  # a changed evaluated frame, same size
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match="changed since the run listed them"):
        write_source_yuv(ref, tmp_path / "src.yuv", cond.color_mode, 8)
    assert not (tmp_path / "src.yuv").exists() and not list(tmp_path.glob(".*.part"))
    with pytest.raises(UsageError, match="--limit must be a positive number"):
        list_sequences(cond, ok.data_dir, limit=0)
    with pytest.raises(UsageError, match=r"Unknown sequence\(s\) Nope in condition synthetic-video; available: "):
        list_sequences(cond, ok.data_dir, names=["Nope"])
    with pytest.raises(ConditionError, match="not a sequence condition"):
        list_sequences(load_condition("coco-tiny-cc-ssd"), ok.data_dir)


SHARED_FCM = Path(__file__).resolve().parents[3] / "shared" / "data" / "fcm-video"


@pytest.mark.skipif(not SHARED_FCM.is_dir(), reason="../shared/data/fcm-video (FCM metadata) is absent")
def test_sfu_selection_order_sets_and_eval_ids(tmp_path):
    """fcm-sfu-hw-obj on its layout (the shared seqinfo.ini and annotations, sparse raw files): condition order,
    optional sets before names, then limit; eval_ids = the annotation's image ids sorted by file name, so that
    frame k is the file <dir>_<k>.png (SFU-HW-Objects-v1 annotations of m59143)."""
    from tests.unit.test_video_conditions import _sfu_layout

    cond = load_condition("fcm-sfu-hw-obj")
    layout = _sfu_layout(tmp_path / "SFU_HW_Obj", cond)
    names = ["RaceHorses_416x240_30", "BQSquare_416x240_60"]
    refs = list_sequences(cond, layout, names=names)
    assert [r.name for r in refs] == ["BQSquare_416x240_60", "RaceHorses_416x240_30"]  # condition order
    assert [r.name for r in list_sequences(cond, layout, names=names, limit=1)] == ["BQSquare_416x240_60"]
    sq = refs[0]
    assert (sq.first_frame, sq.frames, sq.fps, sq.intra_period, sq.cls) == (471, 129, 60.0, 64, "D")
    coco = json.loads(Path(sq.annotations).read_text())
    by_id = {int(im["id"]): im["file_name"] for im in coco["images"]}
    assert [by_id[i] for i in sq.eval_ids] == [f"BQSquare_416x240_60_val_{k:03d}.png" for k in range(129)]
    assert sq.digest == hashlib.md5(bytes(129 * FB)).hexdigest()  # the sparse file's zeros
    with pytest.raises(UsageError, match=r"Unknown sequence\(s\) Cactus_1920x1080_50 .* with sets no-cactus"):
        list_sequences(cond, layout, names=["Cactus_1920x1080_50"], sets=["no-cactus"])


def test_synthetic_condition_validates_and_verify_data_checks_it(tmp_path):
    """The fixture's condition passes `cttc validate` and `cttc verify-data` in both layouts; the wrong frame count
    is refused by verify-data (exit 4) naming the expected and found counts."""
    for sub, kw in (("png", {}), ("yuv", {"layout": "yuv", "first_frame": 3}), ("vtm", {"codec": "vtm"}),
                    ("ra", {"codec": "vtm", "structure": "random-access"})):
        seq = make_synthetic_sequence(tmp_path / sub, frames=4, **kw)
        r = CliRunner().invoke(cli, ["cttc", "validate", str(seq.condition_path)])
        assert r.exit_code == 0, r.output
        r = CliRunner().invoke(cli, ["cttc", "verify-data", str(seq.condition_path), "--data", str(seq.data_dir)])
        assert r.exit_code == 0, r.output
    bad = make_synthetic_sequence(tmp_path / "bad", frames=4, disk_frames=5)
    r = CliRunner().invoke(cli, ["cttc", "verify-data", str(bad.condition_path), "--data", str(bad.data_dir)])
    assert r.exit_code == EXIT_NOT_VERIFIED and "holds 5 .png frames, the condition expects 4" in r.output, r.output
    r = CliRunner().invoke(cli, ["cttc", "show", str(seq.condition_path)])
    assert r.exit_code == 0 and "  structure: random-access (encoder_randomaccess_vtm.cfg)  <- " in r.output, r.output
    assert "  annotations: none (ground truth: the reference output)  <- " in r.output


def test_codec_structure_field():
    """codec.structure: required on sequence conditions, refused on picture conditions, and it must agree with
    the VTM cfg's name (VTM-12.0 cfg/encoder_lowdelay_vtm.cfg, encoder_randomaccess_vtm.cfg, encoder_intra_vtm.cfg).
    The FCM conditions are low-delay (CompressAI-Vision @31165daf eval_on_{sfu_hw_obj,tvd,hieve}_vtm.sh)."""
    for name in ("fcm-sfu-hw-obj", "fcm-tvd-tracking", "fcm-hieve-tracking"):
        c = load_condition(name)
        version = 2 if name == "fcm-sfu-hw-obj" else 3  # the tracking ones: v3 with the JDE network, metric.mot
        assert c.codec["structure"] == "low-delay" and c.version == version and c.color_mode == "scripts-literal", name
        assert "not implemented" not in c.title
    assert cfg_structure("encoder_lowdelay_vtm.cfg") == "low-delay"
    assert cfg_structure("cfg/encoder_randomaccess_vtm.cfg") == "random-access"
    assert cfg_structure("encoder_lowdelay_P_vtm.cfg") == "low-delay"
    assert cfg_structure("encoder_intra_vtm.cfg") == "all-intra" and cfg_structure("my.cfg") is None
    data = load_condition("fcm-sfu-hw-obj").data
    bad = copy.deepcopy(data)
    del bad["codec"]["structure"]
    assert any(i.key == "codec.structure" and "names its coding structure" in i.message
               for i in validate_data(bad, "x"))
    bad["codec"]["structure"] = "random-access"
    msgs = [i.message for i in validate_data(bad, "x") if i.key == "codec.structure"]
    assert msgs and "encoder_lowdelay_vtm.cfg is low-delay" in msgs[0]
    bad["codec"]["structure"] = "all-intra"
    assert any(i.key == "codec.structure" for i in validate_data(bad, "x"))
    bad["codec"]["structure"] = "low-delay"
    bad["codec"]["cfg"]["file"] = "encoder_intra_vtm.cfg"
    assert any("encoder_intra_vtm.cfg is all-intra" in i.message for i in validate_data(bad, "x"))
    image = copy.deepcopy(load_condition("coco-tiny-cc-ssd").data)
    image["codec"]["structure"] = "low-delay"
    assert any(i.key == "codec.structure" and "for sequence conditions" in i.message
               for i in validate_data(image, "x"))
    noann = copy.deepcopy(data)
    del noann["dataset"]["sequences"][0]["annotations"]
    assert any("no annotation file" in i.message for i in validate_data(noann, "x"))
    noann["ground_truth"] = {"mode": "reference-output", "score_threshold": 0.3, "source": "test"}
    assert not any("annotation" in i.message for i in validate_data(noann, "x"))


def test_checksums_follow_the_frame_folder_seqinfo_names(tmp_path):
    """--checksums hashes the frames of the folder seqinfo.ini names (imDir), not a fixed img1."""
    seq = make_synthetic_sequence(tmp_path, frames=2)
    d = seq.data_dir
    sdir = d / f"{seq.name}_val"
    (sdir / "img1").rename(sdir / "frames")
    ini = sdir / "seqinfo.ini"
    ini.write_text(ini.read_text().replace("imDir=img1", "imDir=frames"))
    files = sorted((sdir / "frames").glob("*.png"))
    sums = tmp_path / "sums.md5"
    sums.write_text("".join(f"{hashlib.md5(p.read_bytes()).hexdigest()}  {p.relative_to(d)}\n" for p in files))
    r = CliRunner().invoke(cli, ["cttc", "verify-data", str(seq.condition_path), "--data", str(d), "--checksums",
                                 str(sums), "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert rows[-1]["message"] == "ok: 2 file(s), checksums match" and rows[-1]["file"] == f"{seq.name}_val/frames"
    (ref,) = list_sequences(load_condition(seq.condition_path), d)
    assert ref.frame_files == tuple(str(p.resolve()) for p in files)


def test_the_ssd_sees_people_in_every_part_of_the_synthetic_pan():
    """The fixture is fit for reference-output ground truth: the condition's detector (SSD-MobileNetV2-COCO,
    score >= the condition's 0.3) finds a person at the start, middle and end of the pan (measured: 1 to 8
    people per frame; the picture 000000520707.jpg holds four annotated people)."""
    from vcmbench.tasks import get_task
    from vcmbench.tasks.ssd import check_weights_present

    ok, why = check_weights_present()
    if not ok:
        pytest.skip(why)
    net = get_task("ssd-mobilenet-v2-coco", score_threshold=0.05, max_detections=100, threads=1)
    frames = synthetic_frames(33)
    for k in (0, 16, 32):
        det = net.run(frames[k]).to_json()
        people = [s for s, c in zip(det["scores"], det["labels"]) if c == "person" and s >= 0.3]
        assert people, (k, det["labels"][:5])
