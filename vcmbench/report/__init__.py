"""Reports: pairing result sets with their anchors, BD per condition/scale, xlsx and HTML output.

Library API (takes ``records.ResultSet`` objects, never prints):

* ``build_report(anchor_sets, test_sets, method=...) -> ReportModel``   (model.py)
* ``write_xlsx(model, path)``                                            (xlsx.py)
* ``write_html(model, path)``                                            (html.py)
* ``load_curves(path, rate_col=..., quality_col=...)``                   (inputs.py, for ``bdrate``)
"""

from __future__ import annotations

from .model import BDEntry, ConditionSection, ReportModel, build_report, pair_result_sets


def write_xlsx(model: ReportModel, path):
    from .xlsx import write_xlsx as _w

    return _w(model, path)


def write_html(model: ReportModel, path):
    from .html import write_html as _w

    return _w(model, path)


__all__ = ["BDEntry", "ConditionSection", "ReportModel", "build_report", "pair_result_sets", "write_xlsx", "write_html"]
