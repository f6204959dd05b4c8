"""End to end on real COCO images with real annotations: VVenC (fast preset), SSD-MobileNetV2, COCO AP."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
from click.testing import CliRunner

QPS = [22, 37, 47]


def _run(coco_tiny, out, limit):
    from vcmbench.cli import cli

    args = ["run", "coco-tiny-cc-ssd", "--data", str(coco_tiny), "--qps", ",".join(map(str, QPS)), "--jobs", "2",
            "--quiet", "--out", str(out)]
    if limit:
        args += ["--limit", str(limit)]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    return json.loads((out / "resultset.json").read_text())


def _check(coco_tiny, out, rs, n_images):
    from vcmbench.cli import cli
    from vcmbench.coding.verify import verify_bitstream
    from vcmbench.coding.yuv import YuvFormat

    pts = {p["qp"]: p for p in rs["points"]}
    assert sorted(pts) == QPS and all(p["images"] == n_images and p["failed"] == 0 for p in pts.values())
    # accuracy falls as QP rises, and never beats the uncompressed images by much
    aps = [pts[q]["accuracy"]["AP"] for q in QPS]
    assert aps[0] > aps[1] > aps[2], aps
    assert rs["provenance"]["uncompressed_accuracy"]["AP"] >= aps[0] - 0.01
    # bpp per the condition: sum of bitstream bits / sum of ORIGINAL image pixels (from the COCO JSON)
    sizes = {str(im["id"]): im["width"] * im["height"]
             for im in json.loads((coco_tiny / "instances_val2017_cc.json").read_text())["images"]}
    db = sqlite3.connect(str(out / "results.sqlite"))
    recs = [json.loads(r) for (r,) in db.execute("SELECT record FROM jobs WHERE kind = 'code'")]
    db.close()
    assert len(recs) == n_images * len(QPS)
    for q in QPS:
        mine = [r for r in recs if r["qp"] == q]
        bits = sum((out / r["bitstream"]).stat().st_size * 8 for r in mine)
        pixels = sum(sizes[r["image_id"]] for r in mine)
        assert pts[q]["bits"] == bits and pts[q]["pixels"] == pixels
        assert pts[q]["bpp"] == bits / pixels
    assert pts[22]["bpp"] > pts[37]["bpp"] > pts[47]["bpp"]
    # every bitstream verified: re-check each with another decoder (FFmpeg CLI) against the recorded MD5
    for r in recs:
        assert r["verified"] and r["verdict"] == "ok"
        v = verify_bitstream(out / r["bitstream"], expected=YuvFormat(r["coded_width"], r["coded_height"], 420, 10),
                             decoders=("ffmpeg",))
        assert v.ok and v.decoded_md5 == r["extra"]["decoded_md5"], r["job_id"]
    # `vcmbench results --csv` shows the same numbers
    res = CliRunner().invoke(cli, ["results", str(out), "--csv"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.output)))
    assert [(int(r["qp"]), int(r["bits"]), float(r["bpp"]), float(r["AP"])) for r in rows] == \
        [(q, pts[q]["bits"], pts[q]["bpp"], pts[q]["accuracy"]["AP"]) for q in QPS]
    res = CliRunner().invoke(cli, ["results", str(out), "--pareto", "--json"])
    assert res.exit_code == 0, res.output
    front = json.loads(res.output)
    assert json.loads((out / "resultset-pareto.json").read_text()) == front
    assert "selection:pareto" in front["signature"] and front["points"]  # one scale, AP falling: all kept
    assert [p["qp"] for p in front["points"]] == [47, 37, 22]
    assert "gt:annotations" in rs["signature"] and "codec:vvenc-" in rs["signature"] and "-fast-" in rs["signature"]


@pytest.mark.integration
def test_coco_tiny_six_images_three_qps(coco_tiny, tmp_path):
    out = tmp_path / "run"
    rs = _run(coco_tiny, out, 6)
    _check(coco_tiny, out, rs, 6)


@pytest.mark.integration
@pytest.mark.slow
def test_coco_tiny_all_images_three_qps(coco_tiny, tmp_path):
    out = tmp_path / "run"
    rs = _run(coco_tiny, out, None)
    _check(coco_tiny, out, rs, 22)
