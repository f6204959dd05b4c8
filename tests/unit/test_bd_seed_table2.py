"""The seed paper's Table 2 (S1, "A Super-Resolution-Based Feature Map Compression for
Machine-Oriented Video Coding") through ``vcmbench bdrate`` with every method.

Anchor = the P-layer feature anchor at QP 41-49 (the QP49 row is printed twice: bpp 0.09,
mAP 0.25 — an identical pair the JVET VBA drops, and so do we); test = the proposal with RCAN
at QP 35-45.  The paper reports a 50.31 % BD-rate reduction (-50.31 %).

What each method gives (REGRESSION values computed by this implementation, not external
references; the only external number is the paper's -50.31 %):

=============  ============  =====================
method         BD-rate (%)   |diff| to -50.31 (pp)
=============  ============  =====================
cubic          -50.754423    0.44   <- closest
akima          -57.885473    7.58
pchip-trapz    -58.255890    7.95
pchip          -58.256911    7.95
pchip-jvet     -58.256911    7.95
=============  ============  =====================

Why ``cubic`` is closest: the quality ranges overlap only 38 % (anchor mAP 0.25-0.7475,
proposal 0.5523-0.7596), so BD-rate is the mean log-rate gap over the anchor's top segment
[0.5523, 0.7475], where the anchor's curve bends sharply (mAP collapses below 0.13 bpp).  The
VCEG-M33 least-squares cubic fits one smooth polynomial through all five distinct anchor points
and so flattens that bend over the overlap, whereas the piecewise methods (PCHIP, Akima, the
JVET VBA) follow the three anchor points inside the overlap and give a larger gap (~-58 %).  The
paper's figure therefore most likely comes from the classic cubic formula (as in the widely
used Python BD scripts based on ``polyfit``).  The remaining 0.44 pp is consistent with the
paper rounding its table (anchor bpp to two decimals: 0.09 may be anything in [0.085, 0.095),
a 5 % rate uncertainty at the low end); keeping the duplicated QP49 row changes the cubic
result by only 2e-5 pp, so it does not explain the gap.  This is also why the CTTC default stays
``pchip-jvet`` and the report names the method: the two families disagree by 7.5 pp here
because the overlap is poor — vcmbench warns below 75 %.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.conftest import shared_path
from vcmbench.cli import cli

# Table 2 of S1, as printed (project design facts, ../shared/data/seed-tables.md).
ANCHOR = [(41, 0.44, 0.7475), (43, 0.29, 0.6965), (45, 0.19, 0.5972), (47, 0.13, 0.4440), (49, 0.09, 0.2500),
          (49, 0.09, 0.2500)]
RCAN = [(35, 0.5190, 0.7596), (37, 0.3434, 0.7582), (39, 0.2394, 0.7470), (41, 0.1597, 0.7256),
        (43, 0.1039, 0.6675), (45, 0.0667, 0.5523)]
PAPER_BD_RATE = -50.31

# Regression values of this implementation (see the module docstring), tolerance 1e-6 pp.
REGRESSION = {"cubic": -50.754423, "akima": -57.885473, "pchip-trapz": -58.255890, "pchip": -58.256911,
              "pchip-jvet": -58.256911}


def _csv(path, rows):
    path.write_text("QP,bpp,mAP\n" + "".join(f"{q},{b},{m}\n" for q, b, m in rows))
    return str(path)


def test_table2_matches_the_design_facts_file():
    """The numbers above are those printed in ../shared/data/seed-tables.md (S1 Table 2)."""
    text = shared_path("data", "seed-tables.md").read_text()
    for (qa, ba, ma), (qt, bt, mt) in zip(ANCHOR, RCAN):
        assert f"| {qa} | {qt} | {ba:.2f} | {ma:.4f} | {bt:.4f} | {mt:.4f} |" in text
    assert "50.31 % BD-rate reduction" in text


@pytest.fixture
def table2(tmp_path):
    return _csv(tmp_path / "anchor.csv", ANCHOR), _csv(tmp_path / "rcan.csv", RCAN)


def test_table2_every_method_via_cli(table2):
    a, t = table2
    args = ["bdrate", "--anchor", a, "--test", t, "--json"]
    for m in REGRESSION:
        args += ["-m", m]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    got = {r["method"]: r["bd"]["bd_rate_pct"] for r in out["results"]}
    assert got == pytest.approx(REGRESSION, abs=1e-6)
    for r in out["results"]:
        assert r["bd"]["points_anchor"] == 5  # the duplicated QP49 row is dropped
        assert r["bd"]["overlap"] == pytest.approx((0.7475 - 0.5523) / (0.7596 - 0.25))
        assert any("overlap only 38%" in w for w in r["bd"]["warnings"])
    closest = min(got, key=lambda m: abs(got[m] - PAPER_BD_RATE))
    assert closest == "cubic"
    assert abs(got["cubic"] - PAPER_BD_RATE) < 0.5


def test_table2_text_output_names_method_overlap_points(table2):
    a, t = table2
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", a, "--test", t])
    assert res.exit_code == 0, res.output
    # core.units: BD-rate with 2 decimals, the quality overlap in percent with 1 (the JSON test above holds the full values)
    assert "-58.26 %" in res.stdout and "38.3 %" in res.stdout and "5/6" in res.stdout
    assert "bd:pchip-jvet" in res.stdout
    assert "anchor: dropped identical duplicate point QP 49" in res.stderr  # named by its QP, not raw floats
