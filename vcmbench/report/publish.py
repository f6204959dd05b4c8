"""Write several report files all or nothing.

Every output is rendered in memory first, then written to a temporary file beside its target,
and only when all of them exist are they renamed into place.  A failure at any step (a renderer
error, a full disk, a read-only folder) removes the temporaries and leaves no output, old or new,
half-replaced.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from ..core.errors import DataError, UsageError

KINDS = {".xlsx": "xlsx", ".html": "html", ".htm": "html", ".docx": "docx"}


def output_kind(path: str | Path) -> str:
    kind = KINDS.get(Path(path).suffix.lower())
    if kind is None:
        raise UsageError(f"Output {str(path)!r}: unknown type; use a name ending in .xlsx, .html or .docx.")
    return kind


def publish(items: list[tuple[Path, Callable[[], bytes]]]) -> list[Path]:
    """Render each ``(path, render)``; write them all to temporaries; rename all into place."""
    rendered = [(Path(p), render()) for p, render in items]
    temps: list[tuple[str, Path]] = []
    try:
        for path, data in rendered:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temps.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
        for tmp, path in temps:
            os.replace(tmp, path)
    except OSError as exc:
        raise DataError(f"Cannot write the report outputs ({exc.strerror}: {exc.filename}); nothing was written. "
                        "Choose a writable folder with enough space.") from None
    finally:
        for tmp, _ in temps:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
    return [p for p, _ in rendered]


def write_reports(model, outputs: list[str | Path], meta=None, *, percent: bool = True,
                  log_rate: bool = True) -> list[Path]:
    """Write every output of ``outputs`` (.xlsx, .html, .docx) from one model, all or nothing."""
    from .document import build_document

    kinds = [output_kind(o) for o in outputs]
    doc = build_document(model, meta, percent=percent)
    items = []
    for o, kind in zip(outputs, kinds):
        if kind == "xlsx":
            from .xlsx import workbook_bytes

            items.append((Path(o), lambda: workbook_bytes(model, percent=percent)))
        elif kind == "html":
            from .html import render_html

            items.append((Path(o), lambda: render_html(model, meta, percent=percent, log_rate=log_rate,
                                                       doc=doc).encode("utf-8")))
        else:
            from .docx import docx_bytes

            items.append((Path(o), lambda: docx_bytes(model, meta, percent=percent, log_rate=log_rate, doc=doc)))
    return publish(items)
