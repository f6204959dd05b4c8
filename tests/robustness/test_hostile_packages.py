"""Robustness suite, issue 26: generated hostile cross-check packages, in-process (Click's CliRunner), each
with a hard time limit and a documented exit code, no traceback.  The package is one real VTM-12.0
bitstream (shared fixtures), so every case isolates what the generator changed:

* lies with manifest fields that try to decide for the checker (tolerances, decoders, network...): always
  exit 4, the checker's tolerances reported;
* any value of any type in any manifest field: exit 0, 2 or 4, never a traceback;
* any member name: refused (exit 2) before the user's decoder template runs, or a plain name.

Hypothesis runs derandomized (no example database), as in ``test_hostile_cli.py``."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SHARED
from tests.unit._hostile import invoke
from vcmbench.crosscheck import DEFAULT_TOLERANCES
from vcmbench.crosscheck.manifest import CHECKER_SIDE, TOLERANCE_KEYS

CASES = {"lies": 30, "fields": 60, "names": 50, "conditions": 50}
BITSTREAM = SHARED / "fixtures" / "vtm12" / "texture_256x192_420_qp22.266"
BITS, PIXELS = 6040 * 8, 256 * 192
ITEM = {"image": "astronaut", "scale": 1.0, "qp": 22, "bitstream": "bitstreams/a.266", "width": 256, "height": 192,
        "chroma_format": 420, "bit_depth": 10, "original_width": 256, "original_height": 192}
PLAIN = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9._-]*$")
_counter = itertools.count()

pytestmark = pytest.mark.skipif(not BITSTREAM.is_file(), reason=f"test data {BITSTREAM} is absent (../shared)")


def _settings(n: int):
    return settings(max_examples=n, derandomize=True, database=None, deadline=None, print_blob=False,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hostile-packages")


def _zip(base: Path, manifest: dict, claims: str, member: str = "bitstreams/a.266") -> Path:
    z = base / f"case{next(_counter)}.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        zf.writestr("claims.csv", claims)
        zf.write(BITSTREAM, member)
    return z


def _claims(bits_factor: float = 1.0) -> str:
    return f"scale,qp,bits,bpp\n1.0,22,{round(BITS * bits_factor)},{BITS * bits_factor / PIXELS!r}\n"


json_values = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                      max_size=4), max_leaves=12)
tolerance_sets = st.dictionaries(st.sampled_from(TOLERANCE_KEYS + ("bits", "*")),
                                 st.floats(0, 1e300) | st.integers(0, 10**30) | json_values, max_size=6)


@_settings(CASES["lies"])
@given(factor=st.sampled_from([1 / 3, 0.5, 0.9, 2.0, 2.5]), tolerances=tolerance_sets,
       extra=st.dictionaries(st.sampled_from(sorted(CHECKER_SIDE)), json_values, max_size=3))
def test_lies_never_verify_whatever_the_manifest_sets(base, factor, tolerances, extra):
    manifest = {"vcmbench_crosscheck": 1, "condition": "demo", "items": [ITEM], **extra, "tolerances": tolerances}
    r = invoke(["crosscheck", _zip(base, manifest, _claims(factor)), "--no-accuracy", "--json"], seconds=60)
    assert r.exit_code == 4, r.output
    out = json.loads(r.output)
    assert out["tolerances"] == DEFAULT_TOLERANCES and out["verdict"] == "not verified"
    assert {i["name"] for i in out["items"] if i["kind"] == "package"} >= {"manifest field 'tolerances'"}


@_settings(CASES["fields"])
@given(key=st.sampled_from(["vcmbench_crosscheck", "condition", "claims", "proponent", "title", "label", "codec",
                            "quality_key", "claimed_bd_rate_pct", "items", *ITEM]), value=json_values)
def test_any_value_in_any_manifest_field(base, key, value):
    manifest = {"vcmbench_crosscheck": 1, "condition": "demo", "items": [dict(ITEM)]}
    if key in ITEM:
        manifest["items"][0][key] = value
    else:
        manifest[key] = value
    r = invoke(["crosscheck", _zip(base, manifest, _claims()), "--no-accuracy", "--json"], seconds=60)
    assert r.exit_code in (0, 2, 4), r.output


names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00/\\"), min_size=1, max_size=30)


@_settings(CASES["names"])
@given(name=names | st.sampled_from(["a;id", "$(id)", "`id`", "a b", "-rf", "a|b", "a&b", "a>b", "*", "?", "'\"",
                                     "a\nb", "é"]))
def test_member_names_are_plain_or_refused_before_any_decoder(base, name):
    marker = base / f"ran{next(_counter)}"
    member = f"bitstreams/{name}.266"
    z = _zip(base, {"vcmbench_crosscheck": 1, "condition": "demo", "items": [dict(ITEM, bitstream=member)]},
             _claims(), member)
    work = base / f"work{next(_counter)}"
    template = f"sh -c 'touch {marker}; : {{input}} {{output}}'"
    r = invoke(["crosscheck", z, "--no-accuracy", "--decoder", template, "--work-dir", work], seconds=60)
    if PLAIN.match(f"{name}.266") and len(f"{name}.266".encode()) <= 255:
        assert r.exit_code == 4 and marker.exists(), r.output  # the template ran (and its output was no picture)
    else:
        assert r.exit_code == 2 and not marker.exists(), r.output
    shutil.rmtree(work, ignore_errors=True)


PATHS = ["/etc/passwd", "../../etc/passwd", "~/.ssh/id_rsa", "C:\\x", "\\\\server\\share", "file:///etc/passwd",
         "a/../../b", "demo", "vcm-image-anchor-base", "x.yaml"]
SECTIONS = {"dataset": ["sample_images", "image_list", "annotations"], "task": ["network", "score_threshold"],
            "metric": ["quality_key", "name"], "ground_truth": ["mode", "score_threshold"], "codec": ["qps", "cfg"],
            "": ["base", "name", "version", "kind", "title", "description"]}
PROSE = {"title", "description"}


@pytest.fixture(scope="module")
def demo_condition() -> dict:
    import yaml

    from vcmbench.conditions.load import resolve_path

    return yaml.safe_load(resolve_path("demo").read_text())


@_settings(CASES["conditions"])
@given(where=st.sampled_from([(sec, k) for sec, ks in SECTIONS.items() for k in ks]),
       value=st.sampled_from(PATHS) | json_values | st.lists(st.sampled_from(PATHS), min_size=1, max_size=2))
def test_proponents_look_alike_never_verifies_and_reads_nothing_outside(base, demo_condition, where, value):
    """A package carrying ``demo.yaml`` with one value changed to anything (paths included): a documented exit
    code, only files of the package (or the checker's own shipped conditions) read, and never exit 0 unless
    the change is prose or no change."""
    import copy

    import yaml

    from vcmbench.conditions import load as load_mod
    from vcmbench.conditions.load import conditions_dir

    data = copy.deepcopy(demo_condition)
    sec, key = where
    target = data if not sec else data[sec]
    before = copy.deepcopy(target.get(key, ...))
    target[key] = value
    pkg = base / f"case{next(_counter)}"
    (pkg / "bitstreams").mkdir(parents=True)
    shutil.copyfile(BITSTREAM, pkg / "bitstreams" / "a.266")
    (pkg / "manifest.json").write_text(json.dumps({"condition": "demo.yaml", "items": [ITEM]}))
    (pkg / "claims.csv").write_text(_claims())
    try:
        (pkg / "demo.yaml").write_text(yaml.safe_dump(data))
    except yaml.YAMLError:
        return
    read: list[Path] = []
    real = load_mod.read_yaml

    def spy(p, *a, **k):
        read.append(Path(p).resolve())
        return real(p, *a, **k)

    load_mod.read_yaml = spy
    try:
        r = invoke(["crosscheck", pkg, "--no-accuracy"], seconds=60)
    finally:
        load_mod.read_yaml = real
    assert r.exit_code in (0, 2, 4), r.output
    ours = conditions_dir().resolve()
    assert all(p.is_relative_to(pkg.resolve()) or p.is_relative_to(ours) for p in read), read
    if r.exit_code == 0:
        assert key in PROSE or value == before, (where, value, r.output)


def test_case_count():
    assert sum(CASES.values()) >= 190
