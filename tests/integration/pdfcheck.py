"""Page checks of a PDF that LibreOffice rendered from a .docx (poppler's pdftotext and pdfimages):
A4 pages, nothing outside the text area, captions kept with their figure or table."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

A4_PT = (595.28, 841.89)
MARGIN_PT = 25 / 25.4 * 72


def have_poppler() -> bool:
    return bool(shutil.which("pdftotext") and shutil.which("pdfimages"))


def pages(pdf: Path) -> list[dict]:
    """Per page: width, height and its words as (xMin, yMin, xMax, yMax, text), in reading order."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    result = []
    for m in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', out, re.S):
        words = [(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', m.group(3))]
        result.append({"width": float(m.group(1)), "height": float(m.group(2)), "words": words})
    return result


def image_pages(pdf: Path) -> list[int]:
    """1-based page of each image (soft masks left out), in document order."""
    out = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    return [int(line.split()[0]) for line in out.splitlines()[2:] if line.split()[2] == "image"]


def problems(pdf: Path) -> list[str]:
    """What a delegate would have to fix by hand; empty when the document is fine."""
    found = []
    ps = pages(pdf)
    captions = {"Figure": [], "Table": []}
    for n, p in enumerate(ps, 1):
        if abs(p["width"] - A4_PT[0]) > 1 or abs(p["height"] - A4_PT[1]) > 1:
            found.append(f"page {n} is {p['width']:.0f} x {p['height']:.0f} pt, not A4")
        for x0, _, x1, _, t in p["words"]:
            if x0 < MARGIN_PT - 3 or x1 > p["width"] - MARGIN_PT + 3:
                found.append(f"page {n}: {t!r} outside the text width ({x0:.0f}-{x1:.0f} pt)")
        w = p["words"]
        for i in range(len(w) - 2):
            if w[i][4] in captions and w[i + 1][4].isdigit() and w[i + 2][4] == "–" and w[i][0] > MARGIN_PT + 5:
                below = [x for x in w if x[1] > w[i][3] + 1]
                captions[w[i][4]].append((int(w[i + 1][4]), n, bool(below)))
    for k, (num, page, below) in enumerate(captions["Table"]):
        if not below:
            found.append(f"Table {num}: its caption is the last line of page {page}, its table on the next")
    imgs = image_pages(pdf)
    if len(imgs) != len(captions["Figure"]):
        found.append(f"{len(imgs)} images but {len(captions['Figure'])} figure captions")
    for (num, page, _), ipage in zip(captions["Figure"], imgs):
        if page != ipage:
            found.append(f"Figure {num}: picture on page {ipage}, caption on page {page}")
    return found
