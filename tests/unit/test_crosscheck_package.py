"""Cross-check input handling: untrusted packages (zip safety, paths), manifest, claims, reports."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from vcmbench.cli import cli
from vcmbench.core.errors import DataError
from vcmbench.crosscheck import CheckItem, CrossCheckResult, Limits, PackageRefused, extract_zip, write_report
from vcmbench.crosscheck.check import crosscheck
from vcmbench.crosscheck.claims import load_claims
from vcmbench.crosscheck.manifest import load_manifest
from vcmbench.crosscheck.package import open_package, resolve_member

ITEM = {"image": "a", "scale": 1.0, "qp": 22, "bitstream": "bitstreams/a.266", "width": 64, "height": 64,
        "chroma_format": 420, "bit_depth": 10, "original_width": 64, "original_height": 64}


def _manifest(**kw) -> str:
    return json.dumps({"vcmbench_crosscheck": 1, "condition": "demo", "items": [dict(ITEM, **kw)]})


def _zip(path: Path, entries: dict[str, bytes], symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


def _all_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("bad, why", [
    ("../evil", "'..'"),
    ("bitstreams/../../evil", "'..'"),
    ("/tmp/evil", "absolute"),
    ("C:/evil", "absolute"),
    ("bitstreams\\..\\evil", "backslash"),
])
def test_zip_with_escaping_entry_is_refused_and_nothing_written(tmp_path, bad, why):
    z = _zip(tmp_path / "p.zip", {"manifest.json": _manifest().encode(), "bitstreams/a.266": b"x", bad: b"evil"})
    before = _all_files(tmp_path)
    with pytest.raises(PackageRefused, match=why):
        crosscheck(z, work_dir=tmp_path / "work")
    assert _all_files(tmp_path) == before  # not even the work directory was created
    assert not (tmp_path.parent / "evil").exists()


def test_cli_refuses_evil_zip_with_usage_code(tmp_path):
    z = _zip(tmp_path / "p.zip", {"manifest.json": _manifest().encode(), "../evil": b"evil"})
    before = _all_files(tmp_path)
    r = CliRunner().invoke(cli, ["crosscheck", str(z), "--work-dir", str(tmp_path / "w"), "-o", str(tmp_path / "r.html")])
    assert r.exit_code == 2 and "'..'" in r.output
    assert _all_files(tmp_path) == before


def test_zip_symlink_duplicate_count_and_size_limits(tmp_path):
    ok = {"manifest.json": _manifest().encode()}
    with pytest.raises(PackageRefused, match="symbolic link"):
        extract_zip(_zip(tmp_path / "s.zip", ok, symlink="bitstreams/a.266"), tmp_path / "o1")
    with pytest.raises(PackageRefused, match="entries"):
        extract_zip(_zip(tmp_path / "n.zip", {f"f{i}": b"" for i in range(5)}), tmp_path / "o2", Limits(max_entries=4))
    with pytest.raises(PackageRefused, match="bytes"):
        extract_zip(_zip(tmp_path / "b.zip", {"big": b"0" * 5000}), tmp_path / "o3", Limits(max_total=4000))
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as zf:
        zf.writestr("a", b"1")
        with pytest.warns(UserWarning):
            zf.writestr("a", b"2")
    with pytest.raises(PackageRefused, match="duplicate"):
        extract_zip(tmp_path / "d.zip", tmp_path / "o4")
    assert not any((tmp_path / f"o{i}").exists() for i in range(1, 5))


def test_zip_that_lies_about_its_size_is_stopped(tmp_path):
    z = _zip(tmp_path / "l.zip", {"manifest.json": b"{}", "x": b"0" * 100000})
    data = bytearray(z.read_bytes())
    # shrink the declared uncompressed size of "x" in the central directory to 10 bytes
    cd = data.rfind(b"PK\x01\x02")
    assert data[cd + 46: cd + 47] == b"x"
    data[cd + 24: cd + 28] = (10).to_bytes(4, "little")
    z.write_bytes(bytes(data))
    with pytest.raises(Exception):  # zipfile's own check (BadZipFile) or ours (PackageRefused)
        extract_zip(z, tmp_path / "out")
    out = tmp_path / "out" / "x"
    assert not out.exists() or out.stat().st_size <= 100000


def test_directory_package_with_symlink_is_refused(tmp_path):
    (tmp_path / "bitstreams").mkdir()
    (tmp_path / "manifest.json").write_text(_manifest())
    os.symlink("/etc/passwd", tmp_path / "bitstreams" / "a.266")
    with pytest.raises(PackageRefused, match="symbolic link"):
        open_package(tmp_path, tmp_path / "w")


def test_manifest_paths_cannot_escape(tmp_path):
    (tmp_path / "manifest.json").write_text(_manifest(bitstream="../outside.266"))
    with pytest.raises(PackageRefused, match="'..'"):
        load_manifest(tmp_path)
    with pytest.raises(PackageRefused, match="absolute"):
        resolve_member(tmp_path, "/etc/passwd")


@pytest.mark.parametrize("kw, fragment", [
    ({"qp": "x"}, "qp"), ({"scale": 3000}, "scale"), ({"decoded_md5": "abc"}, "decoded_md5"),
    ({"width": 0}, "width must be positive"), ({"bitstream": ""}, "missing"),
])
def test_manifest_validation(tmp_path, kw, fragment):
    (tmp_path / "manifest.json").write_text(_manifest(**kw))
    with pytest.raises(DataError, match=fragment):
        load_manifest(tmp_path)


def test_manifest_scale_in_percent_and_csv_manifest(tmp_path):
    (tmp_path / "manifest.json").write_text(_manifest(scale=75))
    assert load_manifest(tmp_path).items[0].scale == 0.75
    (tmp_path / "manifest.json").unlink()
    (tmp_path / "manifest.csv").write_text(",".join(ITEM) + "\n" + ",".join(str(v) for v in ITEM.values()) + "\n")
    m = load_manifest(tmp_path)
    assert m.condition is None and m.items[0].pixels == 64 * 64


# ---------------------------------------------------------------------------------------------- claims
def test_claims_csv_keeps_printed_figures(tmp_path):
    f = tmp_path / "claims.csv"
    f.write_text("Scale,QP,bpp,AP50\n100,22,0.4412,0.7500\n0.75,27,1.5e-1,0.70\n")
    c = load_claims(f, "AP50")
    assert c.accuracy_column == "AP50" and c.rows[0].scale == 1.0 and c.rows[1].scale == 0.75
    assert c.rows[0].printed == {"bpp": "0.4412", "accuracy": "0.7500"} and c.rows[1].values["bpp"] == 0.15


def test_claims_fall_back_to_map_column_and_note(tmp_path):
    f = tmp_path / "claims.csv"
    f.write_text("qp;bpp;mAP\n22;0.5;0.7\n")
    c = load_claims(f, "AP50")
    assert c.accuracy_column == "mAP" and any("scale 100 %" in n for n in c.notes) and any("AP50" in n for n in c.notes)


@pytest.mark.parametrize("text, fragment", [
    ("scale,qp,bpp,AP50\n1,22,nan,0.5\n", "finite"),
    ("scale,bpp,AP50\n1,0.5,0.5\n", "'qp'"),
    ("scale,qp,bpp,AP50\n1,22,0.5,0.5\n1,22,0.4,0.4\n", "second claim"),
    ("scale,qp,bpp,AP50\n1,22,,0.5\n", "empty"),
    ("scale,qp,bpp,AP50\n1,22.5,0.5,0.5\n", "integer"),
])
def test_bad_claims_are_refused(tmp_path, text, fragment):
    f = tmp_path / "claims.csv"
    f.write_text(text)
    with pytest.raises(DataError, match=fragment):
        load_claims(f, "AP50")


def test_claims_xlsx(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "claims"
    ws.append(["scale", "qp", "bpp", "AP"])
    ws.append([1.0, 22, 0.5, 0.75])
    ws.append([1.0, 27, "0.25", 0.7])
    wb.save(tmp_path / "c.xlsx")
    c = load_claims(tmp_path / "c.xlsx", "AP")
    assert [r.values["bpp"] for r in c.rows] == [0.5, 0.25]
    assert c.rows[0].printed["bpp"] is None and c.rows[1].printed["bpp"] == "0.25"


# ---------------------------------------------------------------------------------------------- reports
def _result(text: str) -> CrossCheckResult:
    r = CrossCheckResult(package="p.zip", proponent=text, title=text, condition="demo", label=text,
                         quality_key="AP50", decoders=["pyav"], tolerances={"bpp_rel": 1e-6})
    r.items = [CheckItem("bitstream", f"{text} scale 100 % QP 22", "verified", "abc", "abc", detail="ok"),
               CheckItem("bpp", "scale 100 % QP 22", "differs", 0.5, 0.51, 0.01, 5e-7, detail=text),
               CheckItem("accuracy", "scale 100 % QP 22", "unchecked", 0.7, detail="task network absent")]
    r.notes = [text]
    return r


def test_html_report_escapes_package_text(tmp_path):
    evil = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    p = write_report(_result(evil), tmp_path / "r.html")
    html = p.read_text()
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert "NOT verified" in html and "http" not in html.replace("http-equiv", "")  # self-contained


def test_xlsx_report_never_writes_package_text_as_formula(tmp_path):
    from openpyxl import load_workbook

    evil = '=HYPERLINK("http://x","click")'
    p = write_report(_result(evil), tmp_path / "r.xlsx")
    wb = load_workbook(p)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value == evil]
    assert cells and all(c.data_type == "s" for c in cells)
    items = wb["items"]
    assert [c.value for c in items[1]][:5] == ["kind", "item", "scale (%)", "QP", "status"]
    assert items["E3"].value == "differs"


def test_json_report_and_unknown_format(tmp_path):
    d = json.loads(write_report(_result("x"), tmp_path / "r.json").read_text())
    assert d["counts"] == {"verified": 1, "differs": 1, "failed": 0, "unchecked": 1} and d["verdict"] == "not verified"
    with pytest.raises(Exception, match="html"):
        write_report(_result("x"), tmp_path / "r.pdf")


def test_garbage_and_missing_bitstreams_are_verdicts_not_crashes(tmp_path):
    """Rate is still recomputed from the file sizes; the bitstreams fail; accuracy cannot be recomputed."""
    (tmp_path / "bitstreams").mkdir()
    (tmp_path / "bitstreams" / "a.266").write_bytes(b"\x00\x00\x01garbage" * 10)  # 100 bytes
    items = [dict(ITEM), dict(ITEM, image="b", bitstream="bitstreams/b.266")]
    items += [dict(ITEM, qp=27), dict(ITEM, image="b", qp=27)]
    items[2]["bitstream"] = items[3]["bitstream"] = "bitstreams/a.266"
    (tmp_path / "manifest.json").write_text(json.dumps({"condition": "demo", "proponent": "x", "items": items}))
    (tmp_path / "claims.csv").write_text("qp,bpp,mAP\n22,0.1,0.5\n27,0.0976,0.5\n")
    res = crosscheck(tmp_path, accuracy_fn=lambda *a: lambda group: pytest.fail("no bitstream verified: not called"))
    st = {(i.kind, i.name): i for i in res.items}
    assert st[("bitstream", "a scale 100 % QP 22")].status == "failed"
    assert "not decodable" in st[("bitstream", "a scale 100 % QP 22")].detail
    assert st[("bitstream", "b scale 100 % QP 22")].status == "failed" and "no file" in st[("bitstream", "b scale 100 % QP 22")].detail
    assert st[("bpp", "scale 100 % QP 22")].status == "unchecked" and "missing" in st[("bpp", "scale 100 % QP 22")].detail
    b27 = st[("bpp", "scale 100 % QP 27")]  # 2 x 800 bits / (2 x 64 x 64) = 0.1953125; claimed 0.0976: differs
    assert b27.status == "differs" and b27.recomputed == pytest.approx(0.1953125)
    assert {st[("accuracy", f"scale 100 % QP {q}")].status for q in (22, 27)} == {"unchecked"}
    assert not res.ok


def test_anchor_curves_from_a_stored_anchor_convert_units():
    from vcmbench.core.errors import UsageError
    from vcmbench.crosscheck import anchor_curves_from

    c = anchor_curves_from("seed-s1-table3:anchor", quality_key="AP")
    assert c[1.0][0] == (18.335, pytest.approx(0.384))  # printed 38.4 % -> fraction
    with pytest.raises(UsageError, match="no label"):
        anchor_curves_from("seed-s1-table3:nope", quality_key="AP")
    with pytest.raises(UsageError, match="quality key"):
        anchor_curves_from("seed-s1-table3", quality_key="map50")


def test_cli_tolerance_and_strict_options(tmp_path):
    (tmp_path / "bitstreams").mkdir()
    (tmp_path / "manifest.json").write_text(_manifest())
    r = CliRunner().invoke(cli, ["crosscheck", str(tmp_path), "--tolerance", "bpp=1"])
    assert r.exit_code == 2 and "bpp_rel" in r.output
    r = CliRunner().invoke(cli, ["crosscheck", str(tmp_path), "-o", str(tmp_path / "r.pdf")])
    assert r.exit_code == 2 and ".html" in r.output
    # no claims and a missing bitstream: failed -> exit 4 with a JSON verdict
    r = CliRunner().invoke(cli, ["crosscheck", str(tmp_path), "--json", "--no-accuracy"])
    assert r.exit_code == 4 and json.loads(r.output)["counts"]["failed"] == 1


def test_manifest_picture_size_is_bounded(tmp_path):
    (tmp_path / "manifest.json").write_text(_manifest(width=100000, height=100000))
    with pytest.raises(PackageRefused, match="pixels"):
        load_manifest(tmp_path)


def test_oversized_bitstream_is_not_decoded(tmp_path):
    (tmp_path / "bitstreams").mkdir()
    (tmp_path / "bitstreams" / "a.266").write_bytes(b"\x00" * 100)
    (tmp_path / "manifest.json").write_text(_manifest())
    res = crosscheck(tmp_path, limits=Limits(max_bitstream=10), accuracy_fn=None)
    item = next(i for i in res.items if i.kind == "bitstream")
    assert item.status == "failed" and "over the limit" in item.detail


def test_unknown_bd_remedy_is_refused_before_any_work(tmp_path):
    r = CliRunner().invoke(cli, ["crosscheck", str(tmp_path), "--remedy", "nope"])
    assert r.exit_code == 2 and "drop-nonmono" in r.output
