"""Issue 26: the checker decides, never the package.  A manifest that sets its own tolerances, a
condition that reads files of the checking machine, a modified look-alike of a shipped condition and
member names that would run as shell commands never yield VERIFIED; wrong types and deep nesting are
exit 2 without a traceback.  The package is one real VTM-12.0 bitstream (shared fixtures) so every
other item verifies and each test isolates the one lie it tells."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml

from vcmbench.core.errors import DataError
from vcmbench.crosscheck import DEFAULT_TOLERANCES, PackageRefused, crosscheck, write_report
from vcmbench.crosscheck.manifest import load_manifest
from vcmbench.crosscheck.proponent import checked_condition

from ._hostile import invoke

BITS = 6040 * 8  # texture_256x192_420_qp22.266 (shared/fixtures/vtm12/manifest.json: 6040 bytes)
BPP = BITS / (256 * 192)
ITEM = {"image": "astronaut", "scale": 1.0, "qp": 22, "bitstream": "bitstreams/astronaut_s100_q22.266",
        "width": 256, "height": 192, "chroma_format": 420, "bit_depth": 10, "original_width": 256,
        "original_height": 192, "decoded_md5": "eeaa4f7235ecb45a611678cc27b17f67"}
TRUE_AP = 0.3


def _fake_accuracy(cond, items, data_dir, quality_key):
    return lambda group: TRUE_AP


def _package(d: Path, fixtures: Path, *, bits=BITS, bpp=BPP, ap=TRUE_AP, bitstream=None, **manifest) -> Path:
    item = dict(ITEM, bitstream=bitstream or ITEM["bitstream"])
    (d / Path(item["bitstream"]).parent).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(fixtures / "texture_256x192_420_qp22.266", d / item["bitstream"])
    m = {"vcmbench_crosscheck": 1, "condition": "demo", "proponent": "ACME", "items": [item], **manifest}
    (d / "manifest.json").write_text(json.dumps(m))
    (d / "claims.csv").write_text(f"scale,qp,bits,bpp,AP\n1.0,22,{bits!r},{bpp!r},{ap!r}\n")
    return d


def _status(res, kind: str) -> dict[str, str]:
    return {i.name: i.status for i in res.items if i.kind == kind}


# ------------------------------------------------------------------------------- checker-side fields
def test_honest_package_verifies(tmp_path, vtm_fixtures):
    """The control: the same package with true claims verifies (so the tests below fail only on their lie)."""
    res = crosscheck(_package(tmp_path / "p", vtm_fixtures), accuracy_fn=_fake_accuracy)
    assert res.ok and _status(res, "accuracy") == {"scale 100 % QP 22": "verified"}, res.to_dict()
    assert "the shipped condition 'demo'" in res.checked_under


def test_manifest_tolerances_are_ignored_and_lies_never_verify(tmp_path, vtm_fixtures):
    """Claims of 1/3 the bits and bpp and 2.5x the AP, with the manifest loosening every tolerance,
    choosing its decoder and network: NOT verified (exit 4), the fields reported as ignored."""
    loose = {"bits_abs": 1e12, "bpp_rel": 1e6, "bpp_abs": 1e6, "accuracy_abs": 10.0, "bd_rate_abs": 1e6}
    pkg = _package(tmp_path / "p", vtm_fixtures, bits=BITS // 3, bpp=BPP / 3, ap=TRUE_AP * 2.5, tolerances=loose,
                   decoders=["none"], network="yolo", comment="hello")
    res = crosscheck(pkg, accuracy_fn=_fake_accuracy)
    assert not res.ok and res.tolerances == DEFAULT_TOLERANCES
    assert _status(res, "bits") == _status(res, "bpp") == _status(res, "accuracy") == {"scale 100 % QP 22": "differs"}
    ignored = {i.name: i for i in res.items if i.kind == "package"}
    assert set(ignored) == {"manifest field 'tolerances'", "manifest field 'decoders'", "manifest field 'network'"}
    assert all(i.status == "unchecked" and i.detail.startswith("ignored") for i in ignored.values())
    assert "--tolerance" in ignored["manifest field 'tolerances'"].detail
    assert any("comment" in n for n in res.notes)
    r = invoke(["crosscheck", pkg, "--no-accuracy", "-o", tmp_path / "r.json"])
    assert r.exit_code == 4 and "NOT VERIFIED" in r.output, r.output
    d = json.loads((tmp_path / "r.json").read_text())
    assert d["verdict"] == "not verified" and d["tolerances"] == DEFAULT_TOLERANCES


def test_checker_tolerance_still_applies(tmp_path, vtm_fixtures):
    """--tolerance is the checker's: it is applied (here: a claimed bpp 1 % off accepted at bpp_rel=0.02)."""
    pkg = _package(tmp_path / "p", vtm_fixtures, bits=None, bpp=BPP * 1.01)
    (pkg / "claims.csv").write_text(f"scale,qp,bpp\n1.0,22,{BPP * 1.01!r}\n")
    assert not crosscheck(pkg, accuracy_fn=None).ok
    assert crosscheck(pkg, accuracy_fn=None, tolerances={"bpp_rel": 0.02}).ok


# ------------------------------------------------------------------------------- wrong types, nesting
@pytest.mark.parametrize("top, item", [
    ({}, {"qp": True}), ({}, {"qp": [22]}), ({}, {"image": {"a": 1}}), ({}, {"bitstream": 5}),
    ({}, {"scale": [1]}), ({}, {"width": "wide"}), ({}, {"decoded_md5": 12}),
    ({"proponent": ["x"]}, {}), ({"condition": 5}, {}), ({"claims": {"a": 1}}, {}),
    ({"vcmbench_crosscheck": True}, {}), ({"items": "x"}, None), ({"claimed_bd_rate_pct": "lots"}, {}),
    ({"quality_key": 7}, {}),
])
def test_manifest_fields_of_the_wrong_type_are_exit_2(tmp_path, top, item):
    m = {"vcmbench_crosscheck": 1, "condition": "demo", "items": [dict(ITEM, **item)] if item is not None else None}
    m.update(top)
    (tmp_path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(DataError):
        load_manifest(tmp_path)
    r = invoke(["crosscheck", tmp_path, "--no-accuracy"])
    assert r.exit_code == 2 and "manifest" in r.output, r.output


@pytest.mark.parametrize("depth", [40, 100000])
def test_deeply_nested_manifest_is_exit_2(tmp_path, depth):
    text = json.dumps({"vcmbench_crosscheck": 1, "items": [ITEM]})[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"
    (tmp_path / "manifest.json").write_text(text)
    with pytest.raises(DataError, match="nested"):
        load_manifest(tmp_path)
    r = invoke(["crosscheck", tmp_path, "--no-accuracy"])
    assert r.exit_code == 2 and "nested" in r.output, r.output


def test_csv_manifest_with_a_huge_field_is_exit_2(tmp_path):
    (tmp_path / "manifest.csv").write_text("image,scale,qp\n" + "a" * 200_000 + ",1,22\n")
    r = invoke(["crosscheck", tmp_path, "--no-accuracy"])
    assert r.exit_code == 2 and "manifest" in r.output.lower(), r.output


# ------------------------------------------------------------------------------- names are data
EVIL = ["bitstreams/a;touch PWNED.266", "bitstreams/$(id).266", "bitstreams/a b.266", "bitstreams/-rf.266",
        "bitstreams/a`id`.266", "bitstreams/a|b.266"]


def _template(marker: Path) -> str:
    """A user's decoder template that wraps a shell; it leaves ``marker`` whenever it runs."""
    return f"sh -c 'touch {marker}; : {{input}} {{output}}'"


def test_decoder_template_runs_for_a_plain_name(tmp_path, vtm_fixtures):
    """The control for the test below: the template does run (and leaves its marker) on a plain name."""
    marker = tmp_path / "ran"
    crosscheck(_package(tmp_path / "p", vtm_fixtures), decoders=[_template(marker)], accuracy_fn=None)
    assert marker.exists()


@pytest.mark.parametrize("name", EVIL)
def test_shell_metacharacters_in_member_names_are_refused_before_any_decoder(tmp_path, vtm_fixtures, name):
    marker = tmp_path / "ran"
    pkg = _package(tmp_path / "p", vtm_fixtures, bitstream=name)
    with pytest.raises(PackageRefused, match="letters, digits"):
        crosscheck(pkg, decoders=[_template(marker)], accuracy_fn=None)
    assert not marker.exists()
    z = tmp_path / "p.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in sorted(pkg.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(pkg).as_posix())
    r = invoke(["crosscheck", z, "--decoder", _template(marker), "--no-accuracy", "--work-dir", tmp_path / "w"])
    assert r.exit_code == 2 and "letters, digits" in r.output and not marker.exists(), r.output
    assert not (tmp_path / "w").exists() or not list((tmp_path / "w").rglob("*.266"))


@pytest.mark.parametrize("image", ["a;b", "$(id)", "../x", "a b", "-x", "", "x" * 300])
def test_unsafe_image_ids_are_refused(tmp_path, image):
    (tmp_path / "manifest.json").write_text(json.dumps({"items": [dict(ITEM, image=image)]}))
    with pytest.raises((PackageRefused, DataError)):
        load_manifest(tmp_path)


def test_macosx_resource_forks_are_skipped(tmp_path, vtm_fixtures):
    pkg = _package(tmp_path / "p", vtm_fixtures)
    z = tmp_path / "p.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in sorted(pkg.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(pkg).as_posix())
        zf.writestr("__MACOSX/bitstreams/._astronaut_s100_q22.266", b"\x00\x05\x16\x07")
    res = crosscheck(z, work_dir=tmp_path / "w", accuracy_fn=_fake_accuracy)
    assert res.ok and not (tmp_path / "w" / "package" / "__MACOSX").exists()


# ------------------------------------------------------------------------------- the proponent's condition
def _shipped(name: str) -> dict:
    from vcmbench.conditions.load import resolve_path

    return yaml.safe_load(resolve_path(name).read_text())


def _with_condition(pkg: Path, data: dict, rel: str = "conds/demo.yaml") -> Path:
    (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
    (pkg / rel).write_text(yaml.safe_dump(data))
    m = json.loads((pkg / "manifest.json").read_text())
    m["condition"] = rel
    (pkg / "manifest.json").write_text(json.dumps(m))
    return pkg


def test_identical_copy_of_a_shipped_condition_is_checked_under_the_shipped_one(tmp_path, vtm_fixtures):
    data = _shipped("demo")
    data["title"] = "our copy"  # prose: no number depends on it
    pkg = _with_condition(_package(tmp_path / "p", vtm_fixtures), data)
    res = crosscheck(pkg, accuracy_fn=_fake_accuracy)
    assert res.ok and _status(res, "condition") == {"the proponent's condition conds/demo.yaml": "verified"}
    assert res.checked_under.startswith("the shipped condition 'demo'")
    item = next(i for i in res.items if i.kind == "condition")
    assert "title" in item.detail and "sha256" in item.claimed


@pytest.mark.parametrize("change", [
    lambda d: d["task"].update(score_threshold=0.5), lambda d: d["ground_truth"].update(score_threshold=0.9),
    lambda d: d["metric"].update(quality_key="AP50"), lambda d: d["codec"].update(qps=[22, 27]),
])
def test_modified_look_alike_never_verifies(tmp_path, vtm_fixtures, change):
    """A look-alike named like the shipped condition, with one setting changed and honest claims: NOT
    verified (exit 4); the report names it the proponent's condition, its hash and the difference."""
    data = _shipped("demo")
    change(data)
    pkg = _with_condition(_package(tmp_path / "p", vtm_fixtures), data)
    res = crosscheck(pkg, accuracy_fn=_fake_accuracy)
    assert not res.ok
    item = next(i for i in res.items if i.kind == "condition")
    assert item.status == "differs" and "shipped condition 'demo'" in item.detail
    assert res.checked_under.startswith("the proponent's condition 'demo'") and "differs from the shipped" in \
        res.checked_under
    html = write_report(res, tmp_path / "r.html").read_text()
    assert "the proponent&#39;s condition" in html and f"#{res.checked_under.split('#')[1][:6]}" in html
    r = invoke(["crosscheck", pkg, "--no-accuracy"])
    assert r.exit_code == 4 and "proponent's condition" in r.output, r.output


def test_look_alike_elsewhere_in_the_package_is_still_compared(tmp_path, vtm_fixtures):
    data = _shipped("demo")
    data["task"]["score_threshold"] = 0.5
    pkg = _with_condition(_package(tmp_path / "p", vtm_fixtures), data, rel="deep/er/demo.yaml")
    res = crosscheck(pkg, accuracy_fn=_fake_accuracy)
    assert not res.ok and "task.score_threshold: shipped 0.05, proponent's 0.5" in \
        next(i for i in res.items if i.kind == "condition").detail


@pytest.mark.parametrize("rel", ["ours.yaml", "demo.yaml"])
def test_invalid_look_alike_never_verifies(tmp_path, vtm_fixtures, rel):
    """A look-alike (named demo, or in demo.yaml) that does not even validate: nothing is checked under it and
    the package is NOT verified (found by tests/robustness/test_hostile_packages.py)."""
    data = _shipped("demo")
    if rel == "demo.yaml":
        data["dataset"]["sample_images"] = None
    pkg = _with_condition(_package(tmp_path / "p", vtm_fixtures), data, rel=rel)
    res = crosscheck(pkg, accuracy_fn=lambda *a: pytest.fail("no condition: accuracy not recomputed"))
    item = next(i for i in res.items if i.kind == "condition")
    assert item.status == "differs" and "shipped condition 'demo'" in item.detail and not res.ok
    assert "verified" not in _status(res, "accuracy").values() and res.checked_under.startswith("no condition")
    r = invoke(["crosscheck", pkg, "--no-accuracy"])
    assert r.exit_code == 4, r.output


def test_invalid_new_proponent_condition_is_unchecked(tmp_path, vtm_fixtures):
    data = _shipped("demo")
    data["name"] = "acme"  # in other.yaml: invalid (the name must be the file's), and no shipped look-alike
    pkg = _with_condition(_package(tmp_path / "p", vtm_fixtures), data, rel="other.yaml")
    res = crosscheck(pkg, accuracy_fn=None)
    item = next(i for i in res.items if i.kind == "condition")
    assert item.status == "unchecked" and "differs from the file name" in item.detail
    r = invoke(["crosscheck", pkg, "--no-accuracy", "--strict"])
    assert r.exit_code == 4, r.output


def test_new_proponent_condition_is_checked_under_it_and_said_so(tmp_path, vtm_fixtures):
    data = _shipped("demo")
    data["name"] = "acme-demo"
    pkg = _with_condition(_package(tmp_path / "p", vtm_fixtures), data, rel="acme-demo.yaml")
    res = crosscheck(pkg, accuracy_fn=_fake_accuracy)
    assert res.ok and _status(res, "condition") == {"the proponent's condition acme-demo.yaml": "unchecked"}
    assert "not a shipped condition" in res.checked_under
    r = invoke(["crosscheck", pkg, "--no-accuracy", "--strict"])
    assert r.exit_code == 4, r.output


def test_base_inside_the_package_is_read_from_the_package(tmp_path):
    """A copy of vcm-oiv6-det and its base, both inside the package: identical -> the shipped condition."""
    (tmp_path / "c").mkdir()
    for n in ("vcm-oiv6-det", "vcm-image-anchor-base"):
        (tmp_path / "c" / f"{n}.yaml").write_text(yaml.safe_dump(_shipped(n)))
    c = checked_condition("c/vcm-oiv6-det.yaml", tmp_path, trusted=False)
    assert c.source == "shipped" and c.condition.name == "vcm-oiv6-det" and not c.differences


@pytest.mark.parametrize("base", ["/etc/passwd", "../secret", "../../cttc/demo", "demo", "vcm-image-anchor-base",
                                  "a/b", "~/x"])
def test_base_outside_the_package_is_refused_and_nothing_outside_is_read(tmp_path, monkeypatch, base):
    from vcmbench.conditions import load as load_mod

    (tmp_path / "secret.yaml").write_text("name: secret\n")
    pkg = tmp_path / "pkg"
    data = _shipped("vcm-oiv6-det")
    data["base"] = base
    (pkg / "c").mkdir(parents=True)
    (pkg / "c" / "x.yaml").write_text(yaml.safe_dump(data))
    read: list[Path] = []
    real = load_mod.read_yaml
    monkeypatch.setattr(load_mod, "read_yaml", lambda p, *a, **k: (read.append(Path(p)), real(p, *a, **k))[1])
    with pytest.raises(PackageRefused):
        checked_condition("c/x.yaml", pkg, trusted=False)
    assert read and all(p.resolve().is_relative_to(pkg.resolve()) for p in read), read


@pytest.mark.parametrize("where, value", [
    ("image_list", {"file": "/etc/passwd", "count": 1}), ("image_list", {"file": "../../etc/passwd", "count": 1}),
    ("image_list", {"file": "~/.ssh/id_rsa", "count": 1}), ("image_list", {"file": "C:\\Windows\\x", "count": 1}),
    ("image_list", {"file": "file:///etc/passwd", "count": 1}), ("name", "sub/../../../x"),
])
def test_absolute_or_escaping_paths_in_the_proponents_condition_are_refused(tmp_path, vtm_fixtures, where, value):
    data = _shipped("demo")
    data["dataset"][where] = value
    pkg = _with_condition(_package(tmp_path / "p", vtm_fixtures), data, rel="acme.yaml")
    with pytest.raises(PackageRefused, match="absolute or escaping"):
        checked_condition("acme.yaml", pkg, trusted=False)
    r = invoke(["crosscheck", pkg, "--no-accuracy", "-o", tmp_path / "r.html"])
    assert r.exit_code == 2 and "absolute or escaping" in r.output and not (tmp_path / "r.html").exists(), r.output


@pytest.mark.parametrize("sample", ["download_all", "file_hash", "*", "astronaut.png"])
def test_proponents_condition_names_only_bundled_sample_pictures(tmp_path, vtm_fixtures, sample):
    """skimage.data also holds functions (download_all fetches every data set): a package's condition
    may name only bundled pictures."""
    data = _shipped("demo")
    data["name"] = "acme"
    data["dataset"]["sample_images"] = ["astronaut", sample]
    pkg = _with_condition(_package(tmp_path / "p", vtm_fixtures), data, rel="acme.yaml")
    with pytest.raises(PackageRefused, match="sample pictures bundled"):
        checked_condition("acme.yaml", pkg, trusted=False)
    data["dataset"]["sample_images"] = ["astronaut", "rocket"]
    _with_condition(pkg, data, rel="acme.yaml")
    assert checked_condition("acme.yaml", pkg, trusted=False).source == "proponent"
