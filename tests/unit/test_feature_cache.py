"""features.cache.FeatureCache: one backbone call per image, atomic files, a partial file never read."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from vcmbench.conditions.datasets import ImageRef
from vcmbench.features.cache import FeatureCache, cache_key


class _Net:
    split_points = ("heads",)

    def __init__(self, sig="net#1"):
        self.sig, self.calls = sig, 0

    def signature(self):
        return self.sig

    def features(self, rgb):
        self.calls += 1
        return {"a": rgb[..., 0].astype(np.float32)[None] / 7.0, "b": np.ones((2, 1, 1), np.float64)}


def _img(i=1, digest="d1"):
    return ImageRef(f"im{i}", i, 4, 3, digest)


def _rgb(ref):
    return np.arange(36, dtype=np.uint8).reshape(3, 4, 3) + ref.eval_id


def test_computed_once_per_image_and_reloaded_exactly(tmp_path):
    net = _Net()
    cache = FeatureCache(tmp_path)
    first = cache.get_or_compute(net, _img(), _rgb)
    for _ in range(5):  # e.g. the QPs of the image
        again = FeatureCache(tmp_path).get_or_compute(net, _img(), _rgb)
        assert again.keys() == first.keys() and all(np.array_equal(again[k], first[k]) for k in first)
    assert net.calls == 1 and again["b"].dtype == np.float32
    FeatureCache(tmp_path).get_or_compute(net, _img(2, "d2"), _rgb)
    FeatureCache(tmp_path).get_or_compute(_Net("net#2"), _img(), _rgb)  # another network: its own entry
    assert net.calls == 2 and len(list((tmp_path / "features").glob("*.npz"))) == 3
    assert not list((tmp_path / "features").glob(".tmp-*"))
    assert cache_key("d1", "net#1", "heads") != cache_key("d1", "net#1", "fpn")


def test_partial_and_corrupt_files_are_never_read(tmp_path):
    net = _Net()
    path = FeatureCache(tmp_path).path(net, _img())
    path.parent.mkdir(parents=True)
    (path.parent / ".tmp-123.npz").write_bytes(b"PK\x03\x04 half-written")  # a killed writer's leftover
    path.write_bytes(b"PK\x03\x04 truncated archive")  # a damaged final file
    got = FeatureCache(tmp_path).get_or_compute(net, _img(), _rgb)
    assert net.calls == 1 and np.array_equal(got["a"], _rgb(_img())[..., 0][None] / np.float32(7.0))
    assert FeatureCache(tmp_path).load(path) is not None  # rewritten whole


def test_kill_9_during_write_leaves_no_final_file(tmp_path):
    """A writer killed between writing and renaming leaves only its temporary file."""
    code = f"""
import os, signal, numpy as np
from vcmbench.features import cache as c
def die(src, dst):
    os.kill(os.getpid(), signal.SIGKILL)
c.os.replace = die
from vcmbench.conditions.datasets import ImageRef
class N:
    split_points = ("heads",)
    def signature(self): return "n"
    def features(self, rgb): return {{"a": np.zeros((2, 300, 300), np.float32)}}
c.FeatureCache({str(tmp_path)!r}).get_or_compute(N(), ImageRef("x", 1, 1, 1, "d"), lambda r: None)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    files = os.listdir(tmp_path / "features")
    assert files and all(f.startswith(".tmp-") for f in files)


def test_evaluate_quality_cli_pictures_and_folders(tmp_path):
    import json

    from click.testing import CliRunner
    from PIL import Image

    from vcmbench.cli import cli

    rng = np.random.default_rng(1)
    a = (rng.random((180, 200, 3)) * 255).astype(np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-4, 5, a.shape), 0, 255).astype(np.uint8)
    for d, pic in (("ref", a), ("dec", b)):
        (tmp_path / d).mkdir()
        Image.fromarray(pic).save(tmp_path / d / "p.png")
    res = CliRunner().invoke(cli, ["evaluate", "quality", str(tmp_path / "ref"), str(tmp_path / "dec"), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    mse = np.mean((a.astype(float) - b) ** 2)
    assert out["count"] == 1 and out["mean"]["psnr_rgb"] == pytest.approx(10 * np.log10(255 ** 2 / mse), abs=1e-9)
    p = out["pairs"][0]
    assert p["psnr_yuv"] == pytest.approx((6 * p["psnr_y"] + p["psnr_u"] + p["psnr_v"]) / 8)
    assert 0.9 < p["ms_ssim"] < 1.0
    res = CliRunner().invoke(cli, ["evaluate", "quality", str(tmp_path / "ref" / "p.png"), str(tmp_path / "dec" / "p.png"),
                                   "--yuv-weights", "4:1:1", "--json"])
    q = json.loads(res.output)["pairs"][0]
    assert q["psnr_yuv"] == pytest.approx((4 * q["psnr_y"] + q["psnr_u"] + q["psnr_v"]) / 6)
    Image.fromarray(a[:100]).save(tmp_path / "dec" / "p.png")
    res = CliRunner().invoke(cli, ["evaluate", "quality", str(tmp_path / "ref"), str(tmp_path / "dec")])
    assert res.exit_code == 2 and "same size" in res.output
