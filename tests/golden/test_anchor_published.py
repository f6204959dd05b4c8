"""The published anchors carry the seed paper's figures faithfully.

Source: "A Super-Resolution-Based Feature Map Compression for Machine-Oriented Video Coding"
(seed paper S1), Table 3 (single- vs multi-channel SR input, CARN; COCO, Mask R-CNN R50) and
its reported "BD-rate gain 59.27 % vs anchor"; transcribed in ../shared/data/seed-tables.md.
The BD-rate recomputed from the anchor file's rows with the JVET piecewise-cubic method equals
the printed figure to its two decimals, which checks the transcription of all 20 figures at once.
"""

from __future__ import annotations

import pytest

from vcmbench import bd
from vcmbench.anchors import load_anchor


def _curve(anchor, label: str) -> list[tuple[float, float]]:
    pts: dict[int, dict[str, float]] = {}
    for r in anchor.rows:
        if r.label == label:
            pts.setdefault(r.qp, {})[r.metric] = r.expected
    return [(v["bpp"], v["mAP"]) for _, v in sorted(pts.items())]


def test_seed_table3_bd_rate_reproduces_the_printed_59_27():
    """S1 Table 3: multi-channel CARN vs anchor, printed -59.27 % (pchip-jvet and scipy pchip agree)."""
    a = load_anchor("seed-s1-table3")
    reported = next(r for r in a.reported if r["test"] == "proposal-carn-multi" and r["anchor"] == "anchor")
    assert reported["value_pct"] == -59.27
    for method in ("pchip-jvet", "pchip"):
        got = bd.bd_rate(_curve(a, "anchor"), _curve(a, "proposal-carn-multi"), method)
        assert round(got, 2) == pytest.approx(-59.27, abs=1e-9), method


def test_seed_table2_figures_as_printed():
    """S1 Table 2, first and last rows as printed (anchor QP 41: 0.44 bpp / 0.7475; proposal QP 45: 0.0667 / 0.5523 / 0.4467)."""
    a = load_anchor("seed-s1-table2")
    assert _curve(a, "anchor")[0] == (0.44, 0.7475)  # QP 41, the lowest anchor QP
    assert _curve(a, "proposal-rcan")[-1] == (0.0667, 0.5523)
    assert _curve(a, "proposal-bicubic")[-1] == (0.0667, 0.4467)
