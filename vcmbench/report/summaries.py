"""Summary figures (the first BD figure of ``bdrate`` and ``report``) and what a comparison compares.

Summary figure of one test against its anchor, per condition (dataset) — ``scope`` "dataset":

* **one scale in common** (or inputs that are already one curve each, e.g. two ``resultset-pareto.json``):
  the BD of that curve; the per-scale row and the summary are the same number.
* **several scales in common**: BD-rate between the Pareto fronts of anchor and test over all their
  scale x QP points (``run.resultset.pareto_points``, the selection ``vcmbench results --pareto`` writes),
  so ``bdrate`` on the two ``resultset-pareto.json`` files gives the same figure.

Sources, as far as they could be found (2026-12): the VCM image anchor is coded at scales 100/75/50/25 %
and QP 22-47 (MPEG VCM CTC, WG 2 N00107 and successors; ``cttc/vcm-image-anchor-base.yaml``).  No public
text was found that defines how those scale x QP points make one BD-rate: CompressAI-Vision
(InterDigitalInc/CompressAI-Vision @31165daf, ``scripts/metrics/gen_mpeg_cttc_csv.py``) writes the
``final_<DATASET>.csv`` rows for the MPEG template and computes no BD, no Pareto selection and no
overall figure; the template spreadsheet itself is not public.  The Pareto-front figure is therefore
labelled as vcmbench's rule, with that statement as its source, and never called "Overall".

**Overall** (``scope`` "overall", across conditions, datasets or SFU classes): no public source defines it
(the same CompressAI-Vision scripts pool AP per class, DESIGN 5.7, but combine no BD-rates), so no such
figure is made; a mean of per-scale or per-condition BD-rates is not shown as a summary at all.  The one
exception is a video condition's classes (SFU-HW A-D): issue 22 and DESIGN.md 5.7 state its Overall as the mean
of the class BD-rates (the FCM reporting template's row; ``OVERALL_*`` below), labelled so, with the statement
that no public source computes it (``report.inputs.video_overall`` for ``bdrate``, ``report.model.
video_overall_entries`` for ``report``).

What is compared (``check_mixed``), for every anchor/test pair of result sets:

========================  ====================================================================
difference                verdict
========================  ====================================================================
signature parts (cttc,    refused (``SignatureMismatch``) unless ``--force`` — unchanged; twins
task, map, rate, gt)      (``bd.twin``) may differ in ``cttc`` only
kind (image vs feature)   twins: allowed, warned, both curves labelled by condition and codec;
                          otherwise refused unless ``--allow-mixed``
dataset name              refused unless ``--allow-mixed``
number of images          refused unless ``--allow-mixed`` (BD on different images measures the
                          images, not the codec)
========================  ====================================================================

A difference allowed by ``--allow-mixed`` is warned about and recorded: a ``mixed:<what>`` signature
part on every BD figure and the report's provenance (``mixed``).
"""

from __future__ import annotations

from ..core.errors import DataError


def set_label(rs) -> str:
    return rs.label or rs.codec or "unnamed"


def twins(a: object, b: object) -> bool:
    """True when one result set's condition names the other's as its ``bd.twin`` (e.g. a feature condition
    and the image condition on the same images, network and metric): BD may pair them although their
    ``cttc`` parts differ; every other comparable part must still agree.  A video run's class set (``report``'s
    per-class sections: ``condition`` = the class, e.g. ``CLASS-D``) is named by its run's condition."""
    def name(rs):
        prov = getattr(rs, "provenance", None) or {}
        cond = prov.get("video_condition") if prov.get("video_class") else None
        return str(cond or getattr(rs, "condition", "") or "").split("@")[0]

    def twin(rs):
        return str((getattr(rs, "provenance", None) or {}).get("twin") or "")

    return bool(a is not None and b is not None and name(a) and name(b)
                and (twin(a) == name(b) or twin(b) == name(a)))

PARETO_NAME = "BD-rate on the Pareto fronts of all scale x QP points"
PARETO_RULE = ("anchor and test each reduced to the points not dominated in (lower bpp, higher accuracy) over all "
               "their scales and QPs (vcmbench results --pareto), then one BD computation")
PARETO_SOURCE = ("vcmbench's rule: the VCM CTC (WG 2 N00107 ff.) codes the image anchor at 4 scales x 6 QPs, but no "
                 "public text found defines how they make one BD-rate (CompressAI-Vision @31165daf computes none)")
ONE_CURVE_NAME = "BD-rate of the one curve compared"
ONE_CURVE_RULE = "one scale (or one curve per input): the BD computation of that curve"
PARETO_INPUT_RULE = "the inputs are Pareto selections (vcmbench results --pareto): one BD computation of those curves"
ONE_CURVE_SOURCE = "the condition's BD method (cttc bd.method)"
NO_OVERALL = ("No Overall figure: no public source defines how BD-rates of several conditions, datasets or classes "
              "combine (CompressAI-Vision @31165daf scripts/metrics writes per-sequence and per-class rows and "
              "computes no BD), so none is shown; each condition's summary figure stands on its own.")


# Overall of a video condition (SFU classes): report.inputs.video_overall (bdrate), report.model (report)
OVERALL_NAME = "Overall: mean of the class BD-rates"
OVERALL_RULE = "the arithmetic mean over the classes of their BD-rates (and BD-accuracies), each class one curve"
OVERALL_SOURCE = ("issue 22 and DESIGN.md 5.7 (the MPEG FCM reporting template's Overall row); no public source "
                  "computes it: CompressAI-Vision @31165daf writes the class rows and computes no BD")



def kind_of(rs) -> str | None:
    """``image`` or ``feature`` as the result set records it (``provenance.kind``), else None (unknown)."""
    k = (getattr(rs, "provenance", None) or {}).get("kind")
    return str(k) if k else None


def image_count(rs) -> int | None:
    """Images of the dataset the set was measured on: the largest per-point count (None when unknown, e.g. CSV)."""
    counts = [int(p.images) for p in getattr(rs, "points", []) if getattr(p, "images", 0)]
    return max(counts) if counts else None


def describe(rs, role: str) -> str:
    """A curve's label naming its condition and codec (and kind when known): tables, figures and messages."""
    kind = kind_of(rs)
    what = ", ".join(x for x in (str(getattr(rs, "condition", "") or ""),
                                 f"{kind} coding" if kind else "", str(getattr(rs, "codec", "") or "")) if x)
    return f"{role}: {set_label(rs)}" + (f" ({what})" if what else "")


def check_mixed(anchor, test, allow_mixed: bool = False) -> tuple[list[str], list[str]]:
    """What differs between anchor and test result sets beyond their signatures (see the module docstring).

    Returns ``(warnings, mixed)``: ``mixed`` names the differences allowed only by ``allow_mixed``
    (signature part ``mixed``).  Raises DataError for such a difference without ``allow_mixed``.
    Either side None (a CSV curve) checks nothing.
    """
    if anchor is None or test is None:
        return [], []
    warnings: list[str] = []
    refused: list[tuple[str, str]] = []
    ka, kt = kind_of(anchor), kind_of(test)
    twin = twins(anchor, test)
    if ka and kt and ka != kt:
        text = (f"anchor {set_label(anchor)!r} is {ka} coding ({anchor.condition}, {anchor.codec}) and test "
                f"{set_label(test)!r} is {kt} coding ({test.condition}, {test.codec})")
        if twin:
            warnings.append(f"{text}: twin conditions (bd.twin: same images, network and metric), compared as the "
                            "conditions allow; the curves are labelled by condition and codec")
        else:
            refused.append(("kind", text))
    elif twin:
        warnings.append(f"anchor condition {anchor.condition!r} and test condition {test.condition!r} are twins "
                        "(bd.twin: same images, network and metric); the curves are labelled by condition and codec")
    da, dt = str(anchor.dataset or ""), str(test.dataset or "")
    if da and dt and da != dt:
        refused.append(("dataset", f"anchor dataset {da!r}, test dataset {dt!r}"))
    na, nt = image_count(anchor), image_count(test)
    if na and nt and na != nt:
        refused.append(("images", f"anchor measured on {na} images, test on {nt}"))
    if refused and not allow_mixed:
        detail = "; ".join(t for _, t in refused)
        raise DataError(f"Refusing to compare {set_label(test)!r} with anchor {set_label(anchor)!r}: {detail}. No test "
                        "condition compares these; compare runs of the same condition on the same images, or pass "
                        "--allow-mixed (recorded in the signature and the report).")
    warnings += [f"MIXED comparison allowed by --allow-mixed — {t}" for _, t in refused]
    return warnings, [k for k, _ in refused]


def kept_points(points) -> str:
    return ", ".join(point_name(p.scale, p.qp) for p in points)


def point_name(scale: float | None, qp) -> str:
    """How messages name a rate point: ``scale 75 % QP 37`` (``QP 37`` when the scale is unknown)."""
    return f"QP {qp}" if scale is None else f"scale {scale * 100:g} % QP {qp}"
