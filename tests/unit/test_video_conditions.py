"""Video conditions as data (issue 22): the FCM sequences, `cttc list/show`, the run refusal and
`cttc verify-data` on sequence layouts (synthetic ones made here, and the shared FCM metadata)."""

from __future__ import annotations

import copy
import json
import struct
import zlib
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from vcmbench.cli import cli
from vcmbench.conditions import Condition, load_condition, validate_data
from vcmbench.conditions.verify_data import verify_images
from vcmbench.conditions.verify_sequences import frame_bytes, verify_sequences
from vcmbench.core.errors import EXIT_NOT_VERIFIED, EXIT_USAGE, ConditionError

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "fcm-video"
VIDEO = ("fcm-sfu-hw-obj", "fcm-tvd-tracking", "fcm-hieve-tracking")


def _png(path: Path, w: int, h: int, bit_depth: int = 8) -> None:
    """A valid 1-row-per-line grey PNG header + tiny IDAT (only the header is read by verify-data)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0"))
                     + chunk(b"IEND", b""))


def test_video_conditions_validate_with_their_facts():
    """Facts: DESIGN.md 5.7 and CompressAI-Vision @31165daf scripts/datasets/sfu_dicts.py fr_dict."""
    sfu = load_condition("fcm-sfu-hw-obj")
    assert sfu.is_sequences
    seqs = {s["name"]: s for s in sfu.dataset["sequences"]}
    assert len(seqs) == 14
    want_frames = {24: 33, 30: 65, 50: 97, 60: 129}
    for name, s in seqs.items():
        expect = 33 if name.startswith("Traffic") else want_frames[s["fps"]]
        assert s["frames"] == expect == s["annotations"]["images"], name
        assert s["first_frame"] + s["frames"] == s["total_frames"], name  # the last frames of the sequence
        assert s["intra_period"] == (32 if s["fps"] <= 30 else 64), name
    assert seqs["Traffic_2560x1600_30"]["fps"] == 30 and seqs["BQTerrace_1920x1080_60"]["first_frame"] == 471
    assert sfu.sequence_qps(seqs["Traffic_2560x1600_30"]) == [37, 42, 47, 52, 57, 62]
    assert sfu.sequence_qps(seqs["RaceHorses_416x240_30"]) == [22, 27, 32, 37, 42, 47]
    assert list(sfu.dataset["report_classes"]) == ["AB", "C", "D"]
    assert set(sfu.dataset["optional_sets"]) == {"no-cactus", "AB*"}
    ab = ["Traffic_2560x1600_30", "Kimono_1920x1080_24", "ParkScene_1920x1080_24", "Cactus_1920x1080_50",
          "BasketballDrive_1920x1080_50", "BQTerrace_1920x1080_60"]
    assert sfu.sequence_classes()["AB"] == ab and list(sfu.sequence_classes()) == ["AB", "C", "D"]
    with_sets = sfu.sequence_classes(["no-cactus", "AB*"])
    assert with_sets["AB"] == [n for n in ab if not n.startswith("Cactus")]
    assert with_sets["AB*"] == ["Traffic_2560x1600_30", "BQTerrace_1920x1080_60"] and len(with_sets["C"]) == 4
    with pytest.raises(ConditionError, match="no optional set 'nope'; available: no-cactus, AB"):
        sfu.sequence_classes(["nope"])
    with pytest.raises(ConditionError, match="QP ladders are per class"):
        sfu.qps
    tvd = load_condition("fcm-tvd-tracking")
    assert [s["frames"] for s in tvd.dataset["sequences"]] == [3000, 636, 2334]
    assert tvd.sequence_qps(tvd.dataset["sequences"][0]) is None  # no ladder published
    hieve = load_condition("fcm-hieve-tracking")
    assert {s["name"]: s["frames"] for s in hieve.dataset["sequences"]} == {
        "hieve-2": 4819, "hieve-13": 1416, "hieve-16": 700, "hieve-17": 966, "hieve-18": 1614}


def test_sequence_schema_refuses_contradictions():
    data = copy.deepcopy(load_condition("fcm-sfu-hw-obj").data)
    s = data["dataset"]["sequences"][0]
    bad = copy.deepcopy(data)
    bad["dataset"]["sequences"][0]["frames"] = 34
    msgs = [str(i) for i in validate_data(bad, "x")]
    assert any("34 evaluated frames" in m or "run past" in m for m in msgs), msgs
    bad = copy.deepcopy(data)
    del bad["dataset"]["sequences"][0]["sources"]["first_frame"]
    assert any("no source for first_frame" in str(i) for i in validate_data(bad, "x"))
    bad = copy.deepcopy(data)
    bad["dataset"]["sequences"][0]["yuv_md5"] = "a" * 32
    assert any("no source for yuv_md5" in str(i) for i in validate_data(bad, "x"))
    bad["dataset"]["sequences"][0]["yuv_md5"] = "A" * 32
    assert any("yuv_md5 must be 32 lowercase hex digits" in str(i) for i in validate_data(bad, "x"))
    bad = copy.deepcopy(data)
    bad["dataset"]["sequences"][0]["fps"] = 60  # the peer's Traffic frame rate: its file name says 30
    assert any("names 2560x1600 at 30 fps" in str(i) for i in validate_data(bad, "x"))
    bad = copy.deepcopy(data)
    bad["dataset"]["report_classes"]["AB"]["sequences"].append("Nope_1x1_1")
    assert any("unknown sequence(s) ['Nope_1x1_1']" in str(i) for i in validate_data(bad, "x"))
    bad = copy.deepcopy(data)
    bad["rate"]["definition"] = "bpp-dataset"
    assert any("rated in kbps" in str(i) for i in validate_data(bad, "x"))
    assert s["name"] == "Traffic_2560x1600_30"
    image = copy.deepcopy(load_condition("coco-tiny-cc-ssd").data)
    image["rate"]["definition"] = "kbps-sequence"
    assert any("picture dataset uses bpp-dataset" in str(i) for i in validate_data(image, "x"))


def test_cttc_list_and_show_video_conditions():
    r = CliRunner().invoke(cli, ["cttc", "list"])
    assert r.exit_code == 0, r.output
    for name in VIDEO:
        assert name in r.output
    assert "A:37-62 B:32-57 C:27-52" in r.output and "TVD:--qps" in r.output and "video (sequences)" in r.output
    rows = {row["name"]: row for row in json.loads(CliRunner().invoke(cli, ["cttc", "list", "--json"]).output)}
    assert rows["fcm-sfu-hw-obj"]["qp_ladders"]["D"] == [22, 27, 32, 37, 42, 47]
    assert rows["fcm-hieve-tracking"]["qp_ladders"] == {"HIEVE-1080P": None, "HIEVE-720P": None}
    assert rows["vcm-oiv6-det"]["kind"] == "image" and "qp_ladders" not in rows["vcm-oiv6-det"]
    r = CliRunner().invoke(cli, ["cttc", "show", "fcm-sfu-hw-obj"])
    assert r.exit_code == 0, r.output
    facts = r.output.split("# facts and their sources:")[1]
    block = facts.split("\nBQTerrace_1920x1080_60\n")[1].split("\nBasketballDrill")[0]
    line = next(ln for ln in block.splitlines() if ln.startswith("  first_frame: "))
    assert line.startswith("  first_frame: 471  <- ") and "scripts/datasets/sfu_dicts.py fr_dict" in line
    assert "  frames: 129  <- " in block and "  fps: 60  <- " in block and "  class: B  <- " in block
    assert "QP ladder A\n  qps: 37,42,47,52,57,62  <- " in facts
    assert "reporting class AB\n  sequences: Traffic_2560x1600_30," in facts and "gen_mpeg_cttc_csv.py" in facts
    r = CliRunner().invoke(cli, ["cttc", "show", "fcm-tvd-tracking", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["dataset"]["sequences"][2]["frames"] == 2334


def test_run_refuses_a_video_data_folder_without_the_sequences(tmp_path):
    """`vcmbench run` runs video conditions; a data folder that lacks the sequences is refused before any work,
    naming `cttc verify-data`, and leaves no run directory behind."""
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["run", "fcm-sfu-hw-obj", "--data", str(tmp_path), "--out", str(out)])
    assert r.exit_code == EXIT_USAGE, r.output
    assert "cttc verify-data" in r.output and "Traceback" not in r.output
    assert not out.exists()


def _tiny_condition(tmp_path: Path, tracking: bool = False, **seq_over) -> Path:
    """A sequence condition of one 16x8 sequence: raw file of 10 frames, frames 6..9 evaluated (``tracking``:
    the task and metric of the TVD condition)."""
    data = copy.deepcopy(load_condition("fcm-sfu-hw-obj").data)
    if tracking:
        tvd = load_condition("fcm-tvd-tracking").data
        data.update(task=tvd["task"], metric=tvd["metric"], bd=tvd["bd"])
    data["name"] = "tiny-video"
    seq = {"name": "Tiny_16x8_30", "class": "D", "dir": "Tiny_16x8_30_val", "yuv": "Tiny_16x8_30.yuv",
           "width": 16, "height": 8, "fps": 30, "bit_depth": 8, "total_frames": 10, "first_frame": 6, "frames": 4,
           "intra_period": 32,
           "annotations": {"file": "Tiny_16x8_30_val/annotations/Tiny.json", "images": 4, "rows": 4,
                           "format": "coco-json"},
           "sources": {f: "test" for f in ("width", "height", "fps", "bit_depth", "total_frames", "first_frame",
                                           "frames", "intra_period", "yuv_md5")}}
    seq.update(seq_over)
    data["dataset"]["sequences"] = [seq]
    data["dataset"]["report_classes"] = {"D": {"sequences": ["Tiny_16x8_30"], "source": "test"}}
    data["dataset"]["optional_sets"] = {}
    path = tmp_path / "tiny-video.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _tiny_data(d: Path, yuv_frames: int | None = 10, annotated: int = 4, pngs: int | None = None,
               seqlen: int = 4) -> Path:
    ann = d / "Tiny_16x8_30_val" / "annotations"
    ann.mkdir(parents=True)
    ann.joinpath("Tiny.json").write_text(json.dumps({
        "images": [{"id": float(i), "file_name": f"Tiny_{i:03d}.png", "width": 16, "height": 8} for i in range(annotated)],
        "annotations": [{"id": i + 1, "image_id": float(i), "category_id": 0, "bbox": [1, 1, 4, 4], "area": 16,
                         "iscrowd": 0} for i in range(annotated)],
        "categories": [{"id": 0, "name": "Person"}]}))
    (d / "Tiny_16x8_30_val" / "seqinfo.ini").write_text(
        f"[Sequence]\nname=Tiny\nimDir=img1\nframeRate=30\nseqLength={seqlen}\nimWidth=16\nimHeight=8\nimExt=.png\n")
    if yuv_frames is not None:
        (d / "Tiny_16x8_30.yuv").write_bytes(bytes(frame_bytes(16, 8, 8) * yuv_frames))
    if pngs is not None:
        img = d / "Tiny_16x8_30_val" / "img1"
        img.mkdir()
        for i in range(pngs):
            _png(img / f"{i + 1:06d}.png", 16, 8)
    return d


def test_verify_data_sequence_frame_counts(tmp_path):
    """A synthetic layout (made here, never committed): right counts pass, a wrong count is refused with the
    expected and found numbers, through the library and `vcmbench cttc verify-data` (exit 4)."""
    cond_path = _tiny_condition(tmp_path)
    cond = load_condition(cond_path)
    good = _tiny_data(tmp_path / "good")
    checks = verify_sequences(cond, good)
    assert [c.ok for c in checks] == [True], checks[0].message
    r = CliRunner().invoke(cli, ["cttc", "verify-data", str(cond_path), "--data", str(good)])
    assert r.exit_code == 0, r.output

    short = _tiny_data(tmp_path / "short", yuv_frames=9)
    (c,) = verify_sequences(cond, short)
    assert not c.ok and "holds 9 frames, the condition expects 10 (total_frames)" in c.message
    r = CliRunner().invoke(cli, ["cttc", "verify-data", str(cond_path), "--data", str(short)])
    assert r.exit_code == EXIT_NOT_VERIFIED and "holds 9 frames, the condition expects 10" in r.output

    ragged = tmp_path / "ragged"
    _tiny_data(ragged)
    with open(ragged / "Tiny_16x8_30.yuv", "ab") as fh:
        fh.write(b"\0" * 5)
    (c,) = verify_sequences(cond, ragged)
    assert not c.ok and "not a whole number of frames: 10 frames and 5 bytes over" in c.message

    ann = _tiny_data(tmp_path / "ann", annotated=3)
    (c,) = verify_sequences(cond, ann)
    assert not c.ok and "annotates 3 frames, the condition evaluates 4 (frames 6..9)" in c.message

    # a PNG frame folder (MOT layout) holds the evaluated frames only
    pngs = _tiny_data(tmp_path / "png", yuv_frames=None, pngs=4)
    assert verify_sequences(cond, pngs)[0].ok
    fewer = _tiny_data(tmp_path / "png3", yuv_frames=None, pngs=3)
    (c,) = verify_sequences(cond, fewer)
    assert not c.ok and "img1 holds 3 .png frames, the condition expects 4" in c.message
    seqinfo = _tiny_data(tmp_path / "ini", yuv_frames=None, pngs=4, seqlen=5)
    (c,) = verify_sequences(cond, seqinfo)
    assert not c.ok and "seqinfo.ini seqLength=5 but the condition records 4" in c.message
    deep = _tiny_data(tmp_path / "deep", yuv_frames=None, pngs=0)
    _png(deep / "Tiny_16x8_30_val" / "img1" / "000001.png", 16, 8, 16)
    for i in range(2, 5):
        _png(deep / "Tiny_16x8_30_val" / "img1" / f"{i:06d}.png", 16, 8, 16)
    (c,) = verify_sequences(cond, deep)
    assert not c.ok and "16-bit samples, the condition expects 8" in c.message
    broken = _tiny_data(tmp_path / "broken")
    (broken / "Tiny_16x8_30_val" / "annotations" / "Tiny.json").write_bytes(b"\xff{not json")
    (c,) = verify_sequences(cond, broken)
    assert not c.ok and "is not a COCO JSON with images and annotations" in c.message
    (c,) = verify_sequences(cond, tmp_path / "nothing-here")
    assert not c.ok and "missing: no frames (Tiny_16x8_30.yuv or Tiny_16x8_30_val/img1/*.png)" in c.message

    (tmp_path / "ten").mkdir()
    ten = load_condition(_tiny_condition(tmp_path / "ten", bit_depth=10))
    tenbit = _tiny_data(tmp_path / "tenbit", yuv_frames=10)  # 8-bit sized file read as 10-bit: 5 frames
    (c,) = verify_sequences(ten, tenbit)
    assert not c.ok and "holds 5 frames, the condition expects 10" in c.message


def test_verify_data_sequence_checksums(tmp_path):
    """--checksums (md5sum lines) hashes each sequence's raw file or PNG frames; a recorded yuv_md5 is checked too."""
    import hashlib

    good = _tiny_data(tmp_path / "d")
    md5 = hashlib.md5((good / "Tiny_16x8_30.yuv").read_bytes()).hexdigest()
    sums = tmp_path / "sums.md5"
    sums.write_text(f"{md5}  Tiny_16x8_30.yuv\n")
    cond_path = _tiny_condition(tmp_path)
    r = CliRunner().invoke(cli, ["cttc", "verify-data", str(cond_path), "--data", str(good), "--checksums", str(sums),
                                 "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert [row["role"] for row in rows] == ["sequence Tiny_16x8_30", "sequence Tiny_16x8_30 checksums"]
    assert rows[1]["message"] == "ok: 1 file(s), checksums match"
    sums.write_text("0" * 32 + "  Tiny_16x8_30.yuv\n")
    r = CliRunner().invoke(cli, ["cttc", "verify-data", str(cond_path), "--data", str(good), "--checksums", str(sums)])
    assert r.exit_code == EXIT_NOT_VERIFIED and f"md5 {md5} differs from {'0' * 32}" in r.output
    (tmp_path / "rec").mkdir()
    recorded = _tiny_condition(tmp_path / "rec", yuv_md5="f" * 32)
    sums.write_text("")
    r = CliRunner().invoke(cli, ["cttc", "verify-data", str(recorded), "--data", str(good), "--checksums", str(sums)])
    assert r.exit_code == EXIT_NOT_VERIFIED and f"md5 {md5} differs from {'f' * 32}" in r.output
    pngs = _tiny_data(tmp_path / "png", yuv_frames=None, pngs=2)
    (c,) = verify_images(load_condition(cond_path), pngs, sums)
    assert not c.ok and "Tiny_16x8_30_val/img1/000001.png: no checksum" in c.message


def test_verify_data_mot_ground_truth(tmp_path):
    """A MOT gt.txt counts its frame numbers; frames outside the evaluated range, or not numbers, are refused."""
    cond = load_condition(_tiny_condition(tmp_path, tracking=True, annotations={"file": "gt.txt", "format": "mot-gt"}))
    d = _tiny_data(tmp_path / "mot")
    (d / "gt.txt").write_text("1,1,10,10,5,5,1,1,1\n4,1,10,10,5,5,1,1,1\n")
    (c,) = verify_sequences(cond, d)
    assert c.ok and c.actual_count == 2, c.message
    (d / "gt.txt").write_text("1,1,10,10,5,5,1,1,1\n5,1,10,10,5,5,1,1,1\n")
    (c,) = verify_sequences(cond, d)
    assert not c.ok and "annotates frames 1..5, outside the 4 evaluated frames" in c.message
    (d / "gt.txt").write_text("inf,1,10,10,5,5,1,1,1\n")
    (c,) = verify_sequences(cond, d)
    assert not c.ok and "is not a MOT gt.txt" in c.message


def _sfu_layout(root: Path, cond: Condition) -> Path:
    """The reference framework's SFU_HW_Obj layout from the shared metadata, with SPARSE raw files of the
    JCT-VC frame counts (no pictures: verify-data reads sizes and counts only)."""
    for s in cond.dataset["sequences"]:
        d = root / s["dir"]
        (d / "annotations").mkdir(parents=True)
        (d / "seqinfo.ini").symlink_to(SHARED / "seqinfo" / "SFU_HW_Obj" / s["dir"] / "seqinfo.ini")
        (d / "annotations" / f"{s['dir']}.json").symlink_to(SHARED / "sfu-hw-annotations" / f"{s['dir']}.json")
        with open(root / s["yuv"], "wb") as fh:
            fh.truncate(frame_bytes(s["width"], s["height"], 8) * s["total_frames"])
    return root


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/fcm-video (FCM metadata) is absent")
def test_shared_annotations_agree_with_the_condition_and_refute_the_peer_config(tmp_path):
    """The annotated frames of the SFU-HW-Objects-v1 files (counted here) equal the condition's ranges, while
    CompressAI-Vision's data/mpeg-fcm/SFUHW/sfu-configs.json (copied in ../shared/data/fcm-video) disagrees
    for the 50/60 fps sequences and Traffic's frame rate — and verify-data refuses its ranges."""
    cav = json.loads((SHARED / "cav-sfu-configs.json").read_text())
    cav_seqs = {k: v for c in cav.values() for k, v in c["seqs"].items()}
    counted = {p.stem: len(json.loads(p.read_text())["images"]) for p in (SHARED / "sfu-hw-annotations").glob("*.json")}
    cond = load_condition("fcm-sfu-hw-obj")
    by_dir = {s["dir"]: s for s in cond.dataset["sequences"]}
    assert set(counted) == set(by_dir) == set(cav_seqs)
    assert all(counted[d] == s["frames"] for d, s in by_dir.items())
    cav_wrong = {d for d, v in cav_seqs.items() if v["LastFrame"] - v["FirstFrame"] + 1 != counted[d]}
    assert cav_wrong == {"BasketballDrive_1920x1080_50_val", "BQTerrace_1920x1080_60_val",
                         "BasketballDrill_832x480_50_val", "BQMall_832x480_60_val", "BasketballPass_416x240_50_val",
                         "BQSquare_416x240_60_val"}
    assert cav_seqs["Traffic_2560x1600_30_val"]["FrameRate"] == 60 and by_dir["Traffic_2560x1600_30_val"]["fps"] == 30

    layout = _sfu_layout(tmp_path / "SFU_HW_Obj", cond)
    checks = verify_sequences(cond, layout)
    assert all(c.ok for c in checks), [c.message for c in checks if not c.ok]
    r = CliRunner().invoke(cli, ["cttc", "verify-data", "fcm-sfu-hw-obj", "--data", str(layout)])
    assert r.exit_code == 0, r.output

    peer = copy.deepcopy(cond.data)  # the condition with the peer config's ranges and frame rates
    for s in peer["dataset"]["sequences"]:
        v = cav_seqs[s["dir"]]
        s.update(first_frame=v["FirstFrame"], frames=v["LastFrame"] - v["FirstFrame"] + 1, fps=v["FrameRate"])
        s["annotations"].pop("images")
    refused = {c.role.split()[1]: c.message for c in verify_sequences(Condition(data=peer), layout) if not c.ok}
    assert set(refused) == {by_dir[d]["name"] for d in cav_wrong} | {"Traffic_2560x1600_30"}
    msg = refused["BasketballDrive_1920x1080_50"]
    assert "holds 500 frames, the evaluated range 471..599 needs 600" in msg
    assert "annotates 97 frames, the condition evaluates 129" in msg
    assert "seqinfo.ini frameRate=30 but the condition records 60" in refused["Traffic_2560x1600_30"]
