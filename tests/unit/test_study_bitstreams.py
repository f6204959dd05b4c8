"""Study codings never share a kept bitstream: two jobs coding the same image at the same QP (two variants, or
two layer pictures of one job) each keep their own file, and the bits each records are its own file's."""

from __future__ import annotations

import numpy as np

from vcmbench.conditions.datasets import ImageRef
from vcmbench.studies.common import code_picture
from vcmbench.studies.runner import StudyJob


def _job(tmp_path, job_id: str) -> StudyJob:
    image = ImageRef(image_id="img", eval_id=1, width=64, height=48, digest="0" * 32)
    return StudyJob(job_id=job_id, study_type="distortions", variant="v", image=image, params="{}",
                    run_dir=str(tmp_path), task="ssd-mobilenet-v2-coco", task_options=(), signature="s")


def test_two_codings_of_one_image_and_qp_keep_two_bitstreams(tmp_path):
    rng = np.random.default_rng(0)
    flat = np.full((48, 64), 100, np.uint8)
    noisy = rng.integers(0, 256, (48, 64), dtype=np.uint8)
    _, bits_a = code_picture(_job(tmp_path, "a1"), flat, 32, preset="faster", chroma=400)
    _, bits_b = code_picture(_job(tmp_path, "b2"), noisy, 32, preset="faster", chroma=400, tag="-p2")
    kept = sorted((tmp_path / "bitstreams").glob("*.266"))
    assert len(kept) == 2, kept
    sizes = {p.name: p.stat().st_size * 8 for p in kept}
    assert sorted(sizes.values()) == sorted([bits_a, bits_b]) and bits_a != bits_b
    assert any("a1" in n for n in sizes) and any("b2-p2" in n for n in sizes)


def test_a_picture_smaller_than_vvenc_takes_is_padded_and_cropped_back(tmp_path):
    """libvvenc refuses pictures under 16 samples a side (S2's per-layer picture of SSD's 1x1 map m5 is 16x8):
    code_picture pads by edge replication and returns the picture's own size."""
    pic = np.arange(128, dtype=np.uint8).reshape(8, 16)
    dec, bits = code_picture(_job(tmp_path, "c3"), pic, 22, preset="faster", chroma=400)
    assert dec.shape == (8, 16) and bits > 0
    assert np.abs(dec.astype(int) - pic).max() <= 8
