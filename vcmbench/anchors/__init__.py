"""Anchor store: stored reference results with signature, provenance, per-row tolerances and history.

An anchor is one JSON file ``anchors/<name>.json`` (``schema_version: 1``)::

    {"schema_version": 1, "name": "demo", "kind": "regression",
     "title": "...", "condition": "demo",
     "signature": "cttc:demo@1|codec:vvenc-1.15#ab12cd|...",   # the parts that matter are checked
     "label_signatures": {"vvenc-fast": "cttc:demo@1|..."},     # optional: per-label signatures
     "source": "where the numbers come from (a run, a paper with table number)",
     "provenance": {...}, "notes": ["..."], "tolerance_rule": "how the tolerances were chosen",
     "metric_keys": {"mAP": {"key": "map50", "factor": 1.0}},   # optional: printed name -> run key
     "rerun": "demo",                                            # optional: how `verify` re-runs it
     "reported": [{"what": "BD-rate", "value": -50.31, ...}],    # optional: other printed facts
     "rows": [{"label": "anchor", "condition": "demo", "scale": 1.0, "qp": 22, "metric": "bits",
               "expected": 123456, "tolerance": 0, "rel_tolerance": 0.0, "unit": "bits",
               "printed": "0.44"}],
     "history": [{"date": "2026-11-21T10:00:00Z", "reason": "...", "from_run": "...",
                  "vcmbench_version": "0.1.0", "changed_rows": 0}]}

Conventions
-----------
* Kinds: ``regression`` (produced by vcmbench itself; re-run and compare after any change;
  updated only by ``update_anchor`` with a reason), ``published-reference`` (figures printed in a
  paper or standard document, carried as facts with their source; never updated from a run) and
  ``smoke-reference`` (public figures that are not conformance data: the source itself flags them as
  provisional; a mismatch still fails ``verify`` (exit 3) but is reported as a smoke check — a
  gross-error detector, not a conformance verdict).
* Row ``metric``: ``bits`` (sum of bitstream bits at that point), ``bpp`` (dataset bpp,
  DESIGN.md 5.1), or an accuracy key (looked up in ``RatePoint.accuracy``, after ``metric_keys``).
* A row passes when ``|actual - expected| <= tolerance + rel_tolerance * |expected|``; tolerances
  are absolute in the row's own unit.  Published figures use half a unit in the last printed digit
  (``printed`` keeps the figure as printed, trailing zeros included, so the rule can be checked).
* Signatures: every signature part in ``signature.MATTERING_PARTS`` that the anchor records must
  agree with the run's; a part the anchor does not record is listed as "not checked".  An anchor
  codec value without a ``#hash`` (a published figure cannot name a binary) matches a run value
  ``<same>#<any hash>``; a regression anchor records the hash, so another build is refused.
* Missing points: for a regression anchor every row must be in the run (a missing row fails);
  for references only the rows present in the run are compared, and at least one must be.

The library never prints; ``vcmbench.cli.anchors`` formats the comparison.
"""


from .compare import Comparison, RowResult, check_signature, choose_label, compare
from .format import (
                     DEFAULT_TOLERANCES,
                     KINDS,
                     RATE_METRICS,
                     SCHEMA_VERSION,
                     Anchor,
                     AnchorRow,
                     anchor_from_dict,
                     anchor_path,
                     anchors_dir,
                     half_unit_of,
                     list_anchors,
                     load_anchor,
                     validate_anchor_data,
)
from .update import check_writable, update_anchor

__all__ = [
    "DEFAULT_TOLERANCES", "KINDS", "RATE_METRICS", "SCHEMA_VERSION", "Anchor", "AnchorRow", "Comparison", "RowResult",
    "anchor_from_dict", "anchor_path", "anchors_dir", "check_signature", "check_writable", "choose_label", "compare",
    "half_unit_of", "list_anchors", "load_anchor", "update_anchor", "validate_anchor_data",
]
