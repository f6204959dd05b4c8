"""Cross-checking a proponent's package: verify bitstreams, recompute rate/accuracy, compare claims.

Modules: ``package`` (untrusted-input unpacking), ``manifest`` (the manifest: types, names, ignored
checker-side fields), ``proponent`` (the condition checked under), ``claims`` (CSV/xlsx claims),
``check`` (the verdicts), ``accuracy`` (re-scoring through the pipeline's stages), ``report``
(JSON / HTML / xlsx), ``anchor`` (anchor curves).  See ``check.py`` for the verdicts and tolerances.
"""

from .anchor import anchor_curves_from
from .check import DEFAULT_TOLERANCES, STATUSES, CheckItem, CrossCheckResult, crosscheck
from .manifest import load_manifest
from .package import Limits, PackageRefused, extract_zip, inspect_zip, open_package
from .report import write_report

__all__ = ["DEFAULT_TOLERANCES", "STATUSES", "CheckItem", "CrossCheckResult", "Limits", "PackageRefused",
           "anchor_curves_from", "crosscheck", "extract_zip", "inspect_zip", "load_manifest", "open_package",
           "write_report"]
