"""Inline SVG rate-distortion plots for the HTML report (no external resources, no xmlns URL).

``rd_plot_svg(series, x_label, y_label)`` draws one polyline with markers per series, linear
axes with "nice" ticks, and a legend.  Every text is XML-escaped here, so the result can be
inserted into the (autoescaped) template as markup.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Sequence

PALETTE = ("#1f4e9c", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0e7490", "#a16207", "#374151")
DASHES = ("", "6 3", "2 2", "8 3 2 3")


@dataclass
class PlotSeries:
    label: str
    points: Sequence[tuple[float, float]]  # (x, y); drawn in ascending x
    role: int = 0  # 0 = anchor (solid, circles), >0 = tests


def nice_ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    """About ``n`` round tick values covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    # A range of a few float steps (0.5 vs nextafter(0.5), 1e16 vs 1e16 + 2) would give a step below the
    # float resolution, and ``v += step`` would never advance: widen it, and bound the loop by count.
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0) * 0.1
    elif hi - lo <= 1e-9 * max(abs(lo), abs(hi)):
        mid = (lo + hi) / 2
        half = (abs(mid) or 1.0) * 0.05
        lo, hi = mid - half, mid + half
    raw = (hi - lo) / max(n - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    count = int(math.ceil((hi - start) / step - 1e-9)) + 1
    ticks = [round(start + k * step, 12) for k in range(min(count, 4 * n) + 1)]
    while len(ticks) > 2 and ticks[-2] >= hi:
        ticks.pop()
    return ticks


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def rd_plot_svg(series: Sequence[PlotSeries], x_label: str, y_label: str, title: str = "",
                width: int = 640, height: int = 400) -> str:
    pts = [p for s in series for p in s.points]
    if not pts:
        return ""
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    xt, yt = nice_ticks(min(xs), max(xs)), nice_ticks(min(ys), max(ys))
    left, right, top, bottom = 64, 170, 30 if title else 14, 46
    pw, ph = width - left - right, height - top - bottom

    def sx(v: float) -> float:
        return left + (v - xt[0]) / (xt[-1] - xt[0]) * pw

    def sy(v: float) -> float:
        return top + ph - (v - yt[0]) / (yt[-1] - yt[0]) * ph

    out = [f'<svg class="rd" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'aria-label="{escape(title or y_label + " vs " + x_label)}">']
    if title:
        out.append(f'<text x="{left + pw / 2:.1f}" y="18" text-anchor="middle" font-size="14" '
                   f'font-weight="bold">{escape(title)}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="#444"/>')
    for v in xt:
        x = sx(v)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="#e5e7eb"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 16}" text-anchor="middle" font-size="11">{escape(_fmt(v))}</text>')
    for v in yt:
        y = sy(v)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{escape(_fmt(v))}</text>')
    out.append(f'<text x="{left + pw / 2:.1f}" y="{height - 8}" text-anchor="middle" font-size="12">{escape(x_label)}</text>')
    out.append(f'<text transform="translate(14 {top + ph / 2:.1f}) rotate(-90)" text-anchor="middle" '
               f'font-size="12">{escape(y_label)}</text>')
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        dash = DASHES[min(s.role, len(DASHES) - 1)]
        ordered = sorted(s.points)
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in ordered)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.8"{dash_attr} points="{path}"/>')
        for x, y in ordered:
            if s.role == 0:
                out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.2" fill="{color}"/>')
            else:
                cx, cy = sx(x), sy(y)
                out.append(f'<rect x="{cx - 3:.1f}" y="{cy - 3:.1f}" width="6" height="6" fill="{color}"/>')
        ly = top + 12 + i * 18
        out.append(f'<line x1="{left + pw + 12}" y1="{ly}" x2="{left + pw + 32}" y2="{ly}" stroke="{color}" '
                   f'stroke-width="2"{dash_attr}/>')
        out.append(f'<text x="{left + pw + 38}" y="{ly + 4}" font-size="11">{escape(s.label)}</text>')
    out.append("</svg>")
    return "\n".join(out)
