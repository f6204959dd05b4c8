"""Cross-checking a proponent's package: verify bitstreams, recompute rate/accuracy, compare claims.

Modules: ``package`` (untrusted-input unpacking, manifest), ``claims`` (CSV/xlsx claims),
``check`` (the verdicts), ``accuracy`` (re-scoring through the pipeline's stages), ``report``
(JSON / HTML / xlsx).  See ``check.py`` for the verdicts and tolerances.
"""

from .check import DEFAULT_TOLERANCES, STATUSES, CheckItem, CrossCheckResult, anchor_curves_from, crosscheck
from .package import Limits, PackageRefused, extract_zip, inspect_zip, load_manifest, open_package
from .report import write_report

__all__ = ["DEFAULT_TOLERANCES", "STATUSES", "CheckItem", "CrossCheckResult", "Limits", "PackageRefused",
           "anchor_curves_from", "crosscheck", "extract_zip", "inspect_zip", "load_manifest", "open_package",
           "write_report"]
