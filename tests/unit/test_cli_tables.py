"""Terminal tables never split a number across lines (issue #24): `cli.common.table` at any width and piped,
and `vcmbench results RUNDIR` at 80, 120 and 200 columns and piped into another program."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from vcmbench.cli import cli
from vcmbench.cli.common import is_number_cell, table
from vcmbench.core.records import RatePoint, ResultSet

_TOKEN = re.compile(r"[-+]?\d[\d.]*")


def _whole_on_a_line(token: str, lines: list[str]) -> bool:
    pat = re.compile(r"(?<![\d.])" + re.escape(token) + r"(?![\d.])")
    return any(pat.search(line) for line in lines)


def _random_table(rng: random.Random):
    n = rng.randint(1, 9)
    headers = [f"{rng.choice(['scale', 'QP', 'bpp', 'AP (%)', 'detail', 'a long header name'])}{j}" for j in range(n)]
    rows = []
    for _ in range(rng.randint(1, 4)):
        row = []
        for _ in range(n):
            k = rng.random()
            if k < 0.5:
                row.append(f"{rng.uniform(-1e4, 1e4):.{rng.randint(0, 8)}f}")
            elif k < 0.7:  # text with numbers inside it
                row.append(" ".join(rng.choice(["word", "0.625418", "bpp", "12345678901", "x" * rng.randint(1, 30)])
                                    for _ in range(rng.randint(1, 12))))
            else:
                row.append(rng.choice(["75 %", "+4.03 pp", "-23.17 %", "yes"]))
        rows.append(row)
    return headers, rows


@pytest.mark.parametrize("width", [40, 60, 80, 120, 200, None])
def test_table_never_splits_a_number_and_fits_its_width(width):
    rng = random.Random(width or 0)
    for _ in range(60):
        headers, rows = _random_table(rng)
        out = table(headers, rows, width=width)
        lines = out.splitlines()
        vertical = "───" not in out
        if width is None:  # piped: the natural width, one line per row (header, rule, rows)
            assert not vertical and len(lines) == len(rows) + 2, out
        elif not vertical:
            assert max(map(len, lines)) <= width, out
        for tok in {m.group(0) for r in rows for c in r for m in _TOKEN.finditer(c)}:
            assert _whole_on_a_line(tok, lines), (tok, width, out)


def test_table_drops_optional_columns_then_goes_vertical():
    headers = ["scale", "QP", "bpp", "AP (%)", "bits", "images"]
    rows = [["75 %", 22, "0.6254", "62.542", 123456789012, 5000]]
    wide = table(headers, rows, width=200, optional=["bits", "images"])
    assert "bits" in wide and "123456789012" in wide
    narrow = table(headers, rows, width=40, optional=["bits", "images"])  # dropped in the order given
    assert "bits" not in narrow and "images" in narrow and "62.542" in narrow.splitlines()[2]
    narrower = table(headers, rows, width=30, optional=["bits", "images"])
    assert narrower.splitlines()[2].split() == ["75", "%", "22", "0.6254", "62.542"]
    vertical = table(headers, rows, width=20, optional=["bits", "images"])
    assert vertical.splitlines() == [" scale: 75 %", "    QP: 22", "   bpp: 0.6254", "AP (%): 62.542",
                                     "  bits: 123456789012", "images: 5000"]  # every column again


def test_number_cells():
    for s in ("0.625418", "-23.17 %", "+4.03 pp", "75 %", "123,456", "1e-06", "-", "", "±0.01"):
        assert is_number_cell(s), s
    for s in ("yes", "img_0001.266", "0.62 vs 0.63", "v1.2.3-beta"):
        assert not is_number_cell(s), s


def _run_dir(tmp_path):
    """A run whose points carry the issue's 0.625418 (shown as 62.542 %) and many accuracy keys."""
    pts = []
    for scale in (1.0, 0.75):
        for i, qp in enumerate((22, 27, 32, 37, 42, 47)):
            m = 0.625418 - 0.031 * i - (0.1 if scale < 1 else 0)
            bits = 1_234_567_891 // (i + 1)
            pixels = 5000 * 1024 * 683
            pts.append(RatePoint(scale=scale, qp=qp, bits=bits, pixels=pixels, bpp=bits / pixels,
                                 accuracy={"map50": m, "AP": m - 0.1, "AP50": m + 0.01, "AP75": m - 0.2,
                                           "APs": m / 3, "APm": m / 2, "APl": m / 1.5},
                                 images=5000, failed=0))
    rs = ResultSet(condition="vcm-oiv6-det", codec="vtm-12.0", label="VTM-12.0 anchor", quality_key="map50",
                   points=pts, signature="cttc:vcm-oiv6-det@1|codec:vtm-12.0#3f2a|v:0.1.0", metric="OID mAP@0.5",
                   dataset="OpenImages V6 5k detection")
    d = tmp_path / "run"
    d.mkdir()
    rs.save(d / "resultset.json")
    return d, rs


def _shown_numbers(rs, with_optional: bool) -> list[str]:
    out = []
    for p in rs.points:
        out += [f"{p.scale * 100:g} %", f"{p.bpp:.4f}", f"{p.accuracy['map50'] * 100:.3f}"]
        if with_optional:
            out += [str(p.bits), *[f"{p.accuracy[k] * 100:.3f}" for k in ("AP", "AP50", "AP75", "APs", "APm", "APl")]]
    return out


@pytest.mark.parametrize("columns", ["80", "120", "200", None])
def test_results_never_breaks_a_number(tmp_path, columns):
    d, rs = _run_dir(tmp_path)
    res = CliRunner().invoke(cli, ["results", str(d)], env={"COLUMNS": columns})
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    if columns is not None:
        assert all(len(line) <= int(columns) for line in lines if not line.startswith(("signature:", "condition:"))), \
            res.stdout
    assert "map50 (%)" in res.stdout and "62.542" in res.stdout  # accuracy in percent, 3 decimals
    for num in _shown_numbers(rs, with_optional=columns in ("200", None)):
        assert _whole_on_a_line(num.split(" ")[0], lines), (num, res.stdout)
    assert "0.625418" not in res.stdout and "0.6254 " not in res.stdout  # the stored fraction is not shown


def test_results_piped_into_another_program(tmp_path):
    """A real pipe (stdout is not a terminal, COLUMNS unset): one line per point, every number whole."""
    d, rs = _run_dir(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    proc = subprocess.run([sys.executable, "-m", "vcmbench", "results", str(d)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    rows = [line for line in lines if re.match(r"^(100|75) %\s", line)]
    assert len(rows) == len(rs.points), proc.stdout
    for num in _shown_numbers(rs, with_optional=True):
        assert _whole_on_a_line(num.split(" ")[0], lines), (num, proc.stdout)
