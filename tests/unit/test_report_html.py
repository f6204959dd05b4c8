"""HTML contribution document: one self-contained file, no URL, user text escaped."""

from __future__ import annotations

import re
import xml.dom.minidom

import pytest

from tests.unit._resultsets import make_anchor, make_test
from vcmbench.report import build_report, write_html
from vcmbench.report.svg import PlotSeries, nice_ticks, rd_plot_svg

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
    assert not re.search(r"\b(src|href)\s*=", html, re.I)
    assert "@import" not in html and "url(" not in html


def test_user_text_is_escaped(html):
    assert EVIL not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


def test_contribution_layout(html):
    for heading in ("Abstract", "1 Introduction", "2 Test conditions", "3 Results", "3.1 vcm-oiv6-det",
                    "4 BD-rate summary", "5 Conclusion", "Annex A – Provenance"):
        assert f"{heading}</h" in html
    assert "Input contribution" in html and "placeholder" in html
    assert "-10.00 %" in html  # BD-rate of the test (0.9 x anchor rate)
    assert html.count("<svg") == 1 and "<style>" in html


def test_svg_is_wellformed_and_escaped():
    svg = rd_plot_svg([PlotSeries("anchor", [(0.1, 0.5), (0.2, 0.6)]), PlotSeries(EVIL, [(0.15, 0.55)], role=1)],
                      "bpp", "mAP & more", title="t")
    assert EVIL not in svg and "mAP &amp; more" in svg
    doc = xml.dom.minidom.parseString(svg)
    assert doc.documentElement.tagName == "svg" and "xmlns" not in svg
    xs = [float(c.getAttribute("cx")) for c in doc.getElementsByTagName("circle")]
    assert all(64 <= x <= 640 - 170 for x in xs)


def test_nice_ticks_cover_range():
    t = nice_ticks(0.013, 1.52)
    assert t[0] <= 0.013 and t[-1] >= 1.52 and 4 <= len(t) <= 9
