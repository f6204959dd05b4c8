"""Issue 7 "done when": a proposal package built from a real run cross-checks clean; one altered
bitstream byte, one altered claimed bpp and one altered claimed accuracy are each flagged while
everything else stays verified.  Uses the demo condition (scikit-image photographs, VVenC through
FFmpeg, SSD-MobileNetV2 in PyTorch): 2 images x 3 QPs at 100 %."""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from vcmbench.cli import cli
from vcmbench.crosscheck import crosscheck
from vcmbench.crosscheck.build import package_from_run

pytestmark = pytest.mark.integration
QPS = (27, 37, 47)


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    from vcmbench.tasks.ssd import check_weights_present

    ok, why = check_weights_present()
    if not ok:
        pytest.skip(f"SSD-MobileNetV2 weights absent: {why}")
    from vcmbench.run.pipeline import run_condition

    base = tmp_path_factory.mktemp("xc")
    s = run_condition("demo", None, base / "run", qps=list(QPS), scales=[1.0], limit=2, jobs=1, label="proposal")
    assert not s.errors and s.result_set is not None, (s.errors, s.result_error)
    return package_from_run(base / "run", base / "pkg", proponent="ACME <script>alert(1)</script>",
                            title="m00001 test proposal", quality_key="AP")


def _by(res, kind: str) -> dict[str, str]:
    return {i.name: i.status for i in res.items if i.kind == kind}


def test_clean_package_verifies(package):
    man = json.loads((package / "manifest.json").read_text())  # format 2: scales in percent (issue 24)
    assert man["vcmbench_crosscheck"] == 2 and {i["scale_pct"] for i in man["items"]} == {100}
    assert (package / "claims.csv").read_text().startswith("scale_pct,qp,")
    res = crosscheck(package)
    assert res.ok, [i for i in res.items if i.status != "verified"]
    for kind, n in (("bitstream", 6), ("bits", 3), ("bpp", 3), ("accuracy", 3)):
        st = _by(res, kind)
        assert len(st) == n and set(st.values()) == {"verified"}, (kind, st)
    acc = [i for i in res.items if i.kind == "accuracy"]
    assert all(i.difference == 0 for i in acc)  # the pipeline's own scoring, recomputed exactly


def _alter(src: Path, dst: Path) -> tuple[str, str]:
    shutil.copytree(src, dst)
    bs = sorted((dst / "bitstreams").glob("*_q27.266"))[0]
    data = bytearray(bs.read_bytes())
    data[len(data) - 100] ^= 0x5A  # a byte inside the slice data; the size (so the rate) is unchanged
    bs.write_bytes(bytes(data))
    rows = list(csv.reader((dst / "claims.csv").open()))
    h = rows[0]
    for r in rows[1:]:
        if r[h.index("qp")] == "37":
            r[h.index("bpp")] = repr(float(r[h.index("bpp")]) * 1.01)
        if r[h.index("qp")] == "47":
            ap = float(r[h.index("AP")])
            r[h.index("AP")] = repr(ap - 0.05 if ap > 0.5 else ap + 0.05)
    with (dst / "claims.csv").open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return bs.name.split("_s100")[0], bs.name


def test_altered_byte_bpp_and_accuracy_are_each_flagged(package, tmp_path):
    image, _ = _alter(package, tmp_path / "pkg")
    res = crosscheck(tmp_path / "pkg")
    assert not res.ok
    flagged = {(i.kind, i.name) for i in res.items if i.status in ("differs", "failed")}
    broken = f"{image} scale 100 % QP 27"
    assert {("bitstream", broken), ("bpp", "scale 100 % QP 37"), ("accuracy", "scale 100 % QP 47")} <= flagged
    assert flagged - {("bitstream", broken), ("bpp", "scale 100 % QP 37"), ("accuracy", "scale 100 % QP 47")} <= {
        ("bd-rate", "scale 100 %: recomputed vs claimed curve")}
    bpp = next(i for i in res.items if i.kind == "bpp" and i.name == "scale 100 % QP 37")
    assert bpp.difference == pytest.approx(-bpp.claimed * (1 - 1 / 1.01), rel=1e-9)
    acc = next(i for i in res.items if i.kind == "accuracy" and i.name == "scale 100 % QP 47")
    assert abs(acc.difference) == pytest.approx(0.05, abs=1e-9)
    # the accuracy of the point with the broken bitstream cannot be recomputed: said so, with the reason
    a27 = next(i for i in res.items if i.kind == "accuracy" and i.name == "scale 100 % QP 27")
    assert a27.status == "unchecked" and "did not verify" in a27.detail
    # everything else stays verified
    rest = [i for i in res.items if (i.kind, i.name) not in flagged and i is not a27 and i.kind != "bd-rate"]
    assert rest and all(i.status == "verified" for i in rest), [i for i in rest if i.status != "verified"]


def test_cli_on_zip_writes_reports_and_exits_4(package, tmp_path):
    _alter(package, tmp_path / "pkg")
    z = tmp_path / "proposal.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in sorted((tmp_path / "pkg").rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(tmp_path / "pkg").as_posix())
    html, xlsx = tmp_path / "r.html", tmp_path / "r.xlsx"
    r = CliRunner().invoke(cli, ["crosscheck", str(z), "-o", str(html), "-o", str(xlsx)])
    assert r.exit_code == 4, r.output
    assert "NOT VERIFIED" in r.output and "FAILED" in r.output and "DIFFERS" in r.output
    text = html.read_text()
    assert "&lt;script&gt;" in text and "<script" not in text and "NOT verified" in text
    from openpyxl import load_workbook

    statuses = [row[4] for row in load_workbook(xlsx)["items"].iter_rows(min_row=2, values_only=True)]
    assert statuses.count("verified") >= 10 and "differs" in statuses and "failed" in statuses


def _set_claims(pkg: Path, acc: dict[int, float], bpp_factor: dict[int, float] | None = None) -> None:
    rows = list(csv.reader((pkg / "claims.csv").open()))
    h = rows[0]
    for r in rows[1:]:
        qp = int(r[h.index("qp")])
        r[h.index("AP")] = repr(acc[qp])
        r[h.index("bpp")] = repr(float(r[h.index("bpp")]) * (bpp_factor or {}).get(qp, 1.0))
    with (pkg / "claims.csv").open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def test_bd_rate_from_claims_and_recomputed_figures(package, tmp_path):
    """BD items: recomputed-vs-claimed curve (0 % when they agree) and BD-rate vs an anchor from both.
    The accuracy recomputation is replaced by fixed values so the curve is monotonic by design."""
    acc = {27: 0.9, 37: 0.8, 47: 0.6}

    def fake_accuracy(cond, items, data_dir, quality_key):
        return lambda group: acc[group[0][0].qp]

    shutil.copytree(package, tmp_path / "pkg")
    _set_claims(tmp_path / "pkg", acc)
    rates = {i.name: i.recomputed for i in crosscheck(package, accuracy_fn=None).items if i.kind == "bpp"}
    anchor = {1.0: [(rates[f"scale 100 % QP {qp}"] * 1.25, acc[qp]) for qp in QPS]}  # needs 25 % more rate
    res = crosscheck(tmp_path / "pkg", accuracy_fn=fake_accuracy, anchor_curves=anchor)
    bd = {i.name: i for i in res.items if i.kind == "bd-rate"}
    assert res.ok and all(i.status == "verified" for i in bd.values()), bd
    vs = bd["scale 100 %: BD-rate vs anchor"]
    assert vs.claimed == pytest.approx(-20.0, abs=1e-6) and vs.recomputed == pytest.approx(-20.0, abs=1e-6)
    m = json.loads((tmp_path / "pkg" / "manifest.json").read_text())
    m["claimed_bd_rate_pct"] = {"1.0": -25.0}  # the proposal's text says -25 %: recomputed -20 %
    (tmp_path / "pkg" / "manifest.json").write_text(json.dumps(m))
    res = crosscheck(tmp_path / "pkg", accuracy_fn=fake_accuracy, anchor_curves=anchor)
    stated = next(i for i in res.items if i.name == "scale 100 %: stated BD-rate vs anchor")
    assert stated.status == "differs" and stated.difference == pytest.approx(5.0, abs=1e-6)
    assert [i.name for i in res.items if i.status == "differs"] == [stated.name]
    _set_claims(tmp_path / "pkg", acc, {37: 0.9})  # claim 10 % less rate at one point
    res = crosscheck(tmp_path / "pkg", accuracy_fn=fake_accuracy, anchor_curves=anchor)
    bd = {i.name: i for i in res.items if i.kind == "bd-rate" and "stated" not in i.name}
    assert {i.status for i in bd.values()} == {"differs"}
    assert bd["scale 100 %: recomputed vs claimed curve"].recomputed > 0  # recomputed needs more rate than claimed


def test_unchecked_items_pass_unless_strict(package):
    r = CliRunner().invoke(cli, ["crosscheck", str(package), "--no-accuracy"])
    assert r.exit_code == 0 and "UNCHECKED" in r.output and "switched off" in r.output
    r = CliRunner().invoke(cli, ["crosscheck", str(package), "--no-accuracy", "--strict"])
    assert r.exit_code == 4


def test_bitstreams_verify_on_the_run_executor_with_the_same_items(package, tmp_path):
    """Issue 17: crosscheck's bitstream verifications run on the run executor (`--jobs 2`: a 2-worker pool),
    in the manifest's order, with the same items as in one process, and an altered stream still flagged."""
    from vcmbench.run.executor import make_executor

    altered, _ = _alter(package, tmp_path / "pkg")
    serial = crosscheck(tmp_path / "pkg", accuracy_fn=None)
    with make_executor(2) as ex:
        pooled = crosscheck(tmp_path / "pkg", accuracy_fn=None, executor=ex)
    assert [i.to_dict() for i in pooled.items] == [i.to_dict() for i in serial.items]
    assert "failed" in _by(pooled, "bitstream").values() or "differs" in _by(pooled, "bitstream").values()
