"""Rate figures: dataset bpp (Σbits/Σpixels, DESIGN.md 5.1), per-image bpp, kbps, file bits."""

from __future__ import annotations

import pytest

from vcmbench.core.errors import DataError, EvaluationError
from vcmbench.metrics.rate import bits_of_file, dataset_bpp, kbps, mean_per_image_bpp, per_image_bpp, total_bits


def test_dataset_bpp_is_ratio_of_sums_not_mean_of_ratios():
    bits, pixels = [1000, 3000], [1000, 2000]
    assert dataset_bpp(bits, pixels) == pytest.approx(4000 / 3000)  # 1.3333
    assert per_image_bpp(bits, pixels) == [1.0, 1.5]
    assert mean_per_image_bpp(bits, pixels) == pytest.approx(1.25)  # a different figure


def test_side_information_is_added_only_when_given():
    assert dataset_bpp([100, 100], [50, 50]) == 2.0
    assert dataset_bpp([100, 100], [50, 50], side_bits=64) == pytest.approx(264 / 100)
    assert dataset_bpp([100, 100], [50, 50], side_bits=[32, 32]) == pytest.approx(264 / 100)
    assert total_bits([1, 2], side_bits=3) == 6


def test_kbps():
    assert kbps(1_000_000, fps=30, frames=60) == pytest.approx(1_000_000 * 30 / (1000 * 60))  # 500
    with pytest.raises(EvaluationError, match="frames"):
        kbps(100, 30, 0)
    with pytest.raises(DataError, match="fps"):
        kbps(100, 0, 10)


def test_bits_of_file(tmp_path):
    p = tmp_path / "a.266"
    p.write_bytes(b"\x00" * 37)
    assert bits_of_file(p) == 296
    with pytest.raises(DataError, match="does not exist"):
        bits_of_file(tmp_path / "missing.266")


@pytest.mark.parametrize("bits,pixels,err", [([], [], EvaluationError), ([1], [1, 2], DataError),
                                              ([1], [0], EvaluationError), ([-1], [1], DataError),
                                              ([1.5], [1], DataError), (["x"], [1], DataError)])
def test_bad_inputs(bits, pixels, err):
    with pytest.raises(err):
        dataset_bpp(bits, pixels)
