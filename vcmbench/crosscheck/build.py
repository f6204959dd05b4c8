"""Build a cross-check package (the layout ``package.py`` documents) from a finished run directory.

This is what a proponent sends: every bitstream of the run, a manifest with the coded format
and the decoded MD5 of each, and the claimed figures of ``resultset.json`` (full precision) as
``claims.csv``.  Only verified jobs are packaged (the run's figures count only those).
"""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from pathlib import Path
from typing import Any

from ..core.errors import DataError, UsageError
from ..core.jsonio import atomic_write_text, read_json, write_json
from ..core.units import scale_pct
from .manifest import FORMAT_VERSION


def _claims_csv(rs, keys: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["scale_pct", "qp", "bits", "bpp", *keys])
    for p in sorted(rs.points, key=lambda p: (-p.scale, p.qp)):
        w.writerow([f"{scale_pct(p.scale):g}", p.qp, p.bits, repr(float(p.bpp)),
                    *[repr(float(p.accuracy[k])) for k in keys]])
    return buf.getvalue()


def package_from_run(run_dir: str | Path, dest: str | Path, *, proponent: str = "", title: str = "",
                     label: str | None = None, quality_key: str | None = None) -> Path:
    """Write the package into ``dest`` (a new directory, or a ``.zip`` file).  Returns ``dest``.

    ``quality_key`` names the accuracy to claim (default: the run's quality key)."""
    from ..core.records import load_result_set
    from ..run.store import RunStore

    run_dir, dest = Path(run_dir), Path(dest)
    rs = load_result_set(run_dir)
    cond = read_json(run_dir / "condition.json")
    codec = cond.get("codec") or {}
    if int(codec.get("chroma_format", 420)) != 420:
        raise UsageError("package_from_run packages image runs (4:2:0 pictures) only.")
    depth = int(codec.get("internal_bit_depth", 10))
    st = RunStore(run_dir, create=False)
    try:
        recs = [rec for _, rec, _ in st.rows("code")]
    finally:
        st.close()
    points = {(round(p.scale, 9), p.qp) for p in rs.points}
    items: list[dict[str, Any]] = []
    files: dict[str, Path] = {}
    for rec in sorted(recs, key=lambda r: (-r["scale"], r["qp"], r["image_id"])):
        if not rec["verified"] or (round(rec["scale"], 9), rec["qp"]) not in points:
            continue
        name = f"bitstreams/{rec['image_id']}_s{round(rec['scale'] * 100)}_q{rec['qp']}.266"
        src = run_dir / rec["bitstream"]
        if not src.is_file():
            raise DataError(f"{src} is missing from the run directory.")
        files[name] = src
        items.append({"image": rec["image_id"], "scale_pct": scale_pct(rec["scale"]), "qp": rec["qp"], "bitstream": name,
                      "width": rec["coded_width"], "height": rec["coded_height"], "chroma_format": 420,
                      "bit_depth": depth, "original_width": rec["width"], "original_height": rec["height"],
                      "decoded_md5": (rec.get("extra") or {}).get("decoded_md5")})
    if not items:
        raise DataError(f"{run_dir} has no verified bitstream to package.")
    qkey = quality_key or rs.quality_key
    if any(qkey not in p.accuracy for p in rs.points):
        raise UsageError(f"The run has no accuracy {qkey!r} at every point (has {sorted(rs.points[0].accuracy)}).")
    keys = list(dict.fromkeys([qkey, *sorted(rs.points[0].accuracy)]))
    manifest = {"vcmbench_crosscheck": FORMAT_VERSION, "proponent": proponent, "title": title,
                "condition": cond["name"], "label": label or rs.label, "codec": rs.codec,
                "quality_key": qkey, "claims": "claims.csv", "items": items}
    claims = _claims_csv(rs, keys)
    if dest.suffix.lower() == ".zip":
        if dest.exists():
            raise UsageError(f"{dest} exists; choose a new file name.")
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp")
        try:
            # bitstreams are already entropy-coded: stored, not deflated (as fast to write as to read)
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
                zf.writestr("manifest.json", _dumps(manifest), compress_type=zipfile.ZIP_DEFLATED)
                zf.writestr("claims.csv", claims, compress_type=zipfile.ZIP_DEFLATED)
                for name, src in files.items():
                    zf.write(src, name)
            tmp.replace(dest)
        finally:
            tmp.unlink(missing_ok=True)
        return dest
    if dest.exists() and any(dest.iterdir()):
        raise UsageError(f"{dest} exists and is not empty; choose a new directory.")
    (dest / "bitstreams").mkdir(parents=True, exist_ok=True)
    for name, src in files.items():
        shutil.copyfile(src, dest / name)
    write_json(dest / "manifest.json", manifest)
    atomic_write_text(dest / "claims.csv", claims)
    return dest


def _dumps(obj: Any) -> str:
    from ..core.jsonio import dumps

    return dumps(obj)
