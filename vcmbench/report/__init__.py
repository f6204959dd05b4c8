"""Reports: pairing result sets with their anchors, BD per condition/scale, xlsx, HTML and .docx output.

Library API (takes ``records.ResultSet`` objects, never prints):

* ``build_report(anchor_sets, test_sets, method=...) -> ReportModel``   (model.py)
* ``build_document(model, meta) -> Document``                            (document.py: the contribution's content)
* ``write_xlsx(model, path)`` / ``write_html(model, path, meta)`` / ``write_docx(model, path, meta)``
* ``write_reports(model, outputs, meta)``: several outputs, all or nothing (publish.py)
* ``load_meta(path)``                                                    (meta.py)
* ``load_curves(path, rate_col=..., quality_col=...)``                   (inputs.py, for ``bdrate``)
"""

from __future__ import annotations

from .meta import Meta, load_meta
from .model import BDEntry, ConditionSection, ReportModel, build_report, pair_result_sets


def write_xlsx(model: ReportModel, path, **kw):
    from .xlsx import write_xlsx as _w

    return _w(model, path, **kw)


def write_html(model: ReportModel, path, meta: Meta | None = None, **kw):
    from .html import write_html as _w

    return _w(model, path, meta, **kw)


def write_docx(model: ReportModel, path, meta: Meta | None = None, **kw):
    from .docx import write_docx as _w

    return _w(model, path, meta, **kw)


def write_reports(model: ReportModel, outputs, meta: Meta | None = None, **kw):
    from .publish import write_reports as _w

    return _w(model, outputs, meta, **kw)


__all__ = ["BDEntry", "ConditionSection", "Meta", "ReportModel", "build_report", "load_meta", "pair_result_sets",
           "write_docx", "write_html", "write_reports", "write_xlsx"]
