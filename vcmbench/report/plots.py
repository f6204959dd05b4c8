"""Rate-accuracy figures with matplotlib: SVG for the HTML document, PNG for the .docx.

One figure per condition and scale.  x = rate (``bpp`` unless the input names another rate),
logarithmic by default (``log_rate=False`` for linear) with plain tick numbers at 1, 2 and 5
per decade; y = the accuracy, in percent when the document shows percent (``core.units``).
The anchor is drawn black with circles and a solid line, each test in its own colour, marker and dash; points a remedy dropped (or refitted: the original
point) are drawn hollow grey with an x and named in the legend; the legend sits inside the axes.
Rendering is deterministic (Agg backend, fixed SVG hash salt, no date metadata).
"""

from __future__ import annotations

import io
import re

from .document import scrub
from .model import ConditionSection, set_label
from .summaries import describe  # curves labelled by condition and codec (what is compared)


def _label(text: str) -> str:
    """Plain text for matplotlib (no mathtext: '$' escaped; control characters removed)."""
    return scrub(text).replace("$", r"\$")[:80]

TEST_STYLES = [("#d62728", "s", "--"), ("#1f77b4", "^", "-."), ("#2ca02c", "D", ":"), ("#9467bd", "v", "--"),
               ("#ff7f0e", "P", "-."), ("#8c564b", "X", ":")]


def _used(sec: ConditionSection, label: str, scale: float, role: str):
    """Points the BD computation used for this set (after a remedy), or None when unknown."""
    for e in sec.entries:
        if abs(e.scale - scale) < 1e-9 and e.ok and (role == "test" and e.test_label == label or role == "anchor"):
            return e.result.anchor_points if role == "anchor" else e.result.test_points
    return None


def figure(sec: ConditionSection, scale: float, factor: float = 1.0, rate: str = "bpp", log_rate: bool = True):
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.2), dpi=150)
    ax = fig.add_subplot(1, 1, 1)
    dropped_drawn = False
    for k, rs in enumerate([sec.anchor, *sec.tests]):
        role = "anchor" if k == 0 else "test"
        pts = sorted((p.bpp, p.accuracy[sec.quality_key]) for p in sec.points(rs, scale) if sec.quality_key in p.accuracy)
        if not pts:
            continue
        colour, marker, dash = ("#000000", "o", "-") if k == 0 else TEST_STYLES[(k - 1) % len(TEST_STYLES)]
        used = _used(sec, set_label(rs), scale, role)
        shown = used if used is not None else pts
        ax.plot([x for x, _ in shown], [y * factor for _, y in shown], color=colour, marker=marker, linestyle=dash,
                linewidth=1.6, markersize=5, label=_label(describe(rs, "Anchor" if k == 0 else "Test")))
        if used is not None:
            kept = {(round(x, 12), round(y, 12)) for x, y in used}
            gone = [(x, y) for x, y in pts if (round(x, 12), round(y, 12)) not in kept]
            if gone:
                ax.plot([x for x, _ in gone], [y * factor for _, y in gone], linestyle="none", marker="x",
                        color="#7f7f7f", markersize=7,
                        label=None if dropped_drawn else "dropped / refitted by the remedy (original value)")
                dropped_drawn = True
    if log_rate:
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        ax.set_xscale("log")  # plain numbers at 1, 2, 5 per decade (0.05, 0.1, 0.2), not powers of ten
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.tick_params(labelsize=8)
    ax.set_xlabel(_label(f"{rate} ({'log scale' if log_rate else 'linear'})"))
    ax.set_ylabel(_label(f"{sec.quality_key} (%)" if factor == 100.0 else sec.quality_key))
    ax.set_title(_label(f"{sec.condition}, scale {scale * 100:g} %"), fontsize=10)
    ax.grid(True, which="both", linewidth=0.4, alpha=0.5)
    ax.legend(loc="lower right", fontsize=8, frameon=True)
    fig.tight_layout()
    return fig


def svg(fig) -> str:
    """Inline SVG (no XML prolog, DOCTYPE or namespace URLs; internal ``#id`` references only)."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "vcmbench"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    return text.replace("<svg ", '<svg class="rd" role="img" ', 1)


def png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, metadata={"Software": None})
    return buf.getvalue()
