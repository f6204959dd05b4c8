"""HTML contribution document: one self-contained file, no URL, user text escaped."""

from __future__ import annotations

import re
import xml.dom.minidom

import pytest

from tests.unit._resultsets import make_anchor, make_test
from vcmbench.core.errors import DataError
from vcmbench.report import build_report, write_html
from vcmbench.report.document import build_document, scrub
from vcmbench.report.meta import Meta, meta_from_dict

EVIL = "<script>alert('x')</script>"


@pytest.fixture
def html(tmp_path):
    a = make_anchor()
    a.provenance["commands"].append("curl https://example.org/weights.pth")
    a.notes.append("see http://example.org")
    model = build_report([a], [make_test(label=f"Proposal {EVIL}")], title=f"My {EVIL} report")
    path = write_html(model, tmp_path / "out.html")
    return path.read_text(encoding="utf-8")


def test_no_url_and_no_external_resource(html):
    assert "http://" not in html.lower() and "https://" not in html.lower()
    assert "hxxps://example.org/weights.pth" in html  # defanged, still readable
    assert not re.search(r"<(link|script|img|iframe|object|embed)\b", html, re.I)
    assert not re.search(r"\b(src|href)\s*=\s*\"(?!#)", html, re.I)  # only the SVG's internal #id references
    assert "@import" not in html and not re.search(r"url\((?!#)", html)  # clip paths reference #ids only


def test_user_text_is_escaped(html):
    assert EVIL not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


def test_contribution_layout(html):
    for heading in ("Abstract", "1 Introduction", "2 Test conditions", "3 Results", "3.1 vcm-oiv6-det",
                    "4 BD-rate summary", "5 Proposal", "6 Conclusion", "Annex A – Provenance"):
        assert f"{heading}</h" in html
    assert "placeholder" in html and "[m-number]" in html
    assert "-10.00 %" in html  # BD-rate of the test (0.9 x anchor rate)
    assert html.count("<svg") == 2 and "<style>" in html  # one figure per scale
    assert "/runs/anchor" not in html  # no local paths
    assert "Pareto fronts of all scale x QP points" in html and "mean of" not in html  # no undefined mean
    assert "BD-rate per condition and scale (detail)" in html


def test_svg_figures_are_wellformed():
    from vcmbench.report.html import figures_svg

    model = build_report([make_anchor()], [make_test(label=f"P {EVIL} $x$")])
    for svg in figures_svg(model).values():
        doc = xml.dom.minidom.parseString(svg.replace("xlink:href", "href"))
        assert doc.documentElement.tagName == "svg" and "http" not in svg and EVIL not in svg


def test_header_subtitle_follows_the_working_group():
    model = build_report([make_anchor()], [make_test()])
    assert build_document(model, Meta()).header_lines[2:] == ["ISO/IEC JTC 1/SC 29/WG 4", "MPEG VIDEO CODING"]
    doc = build_document(model, meta_from_dict({"wg": 2}))
    assert doc.header_lines[2:] == ["ISO/IEC JTC 1/SC 29/WG 2", "MPEG TECHNICAL REQUIREMENTS"]
    for wg in (99, 3, 11):  # VCM/FCM documents go to WG 2 or WG 4 only
        with pytest.raises(DataError, match="give wg: 4 or wg: 2"):
            meta_from_dict({"wg": wg})
    with pytest.raises(Exception, match="unknown key"):
        meta_from_dict({"m_numbr": "m1"})


def test_scrub_removes_paths_and_control_characters():
    assert scrub("/home/user/runs/anchor/resultset.json") == "resultset.json"
    assert scrub("vcmbench run --out /tmp/x/run1 --data ./data") == "vcmbench run --out run1 --data ./data"
    assert scrub("a\x07b") == "ab"
