"""The one Jinja2 environment behind every HTML report (contribution, conformance, cross-check).

Templates live in ``templates/`` (``resource_dir("templates")``) and extend ``base.html.j2``: one
family, one style.  The environment autoescapes every value (reports quote untrusted text: package
names, reasons, notes), fails on an undefined name (``StrictUndefined``) and passes every rendered
value through ``defang`` so that a report holds no live URL even when provenance text quotes one.
Output is self-contained: inline CSS and SVG, no script, no external resource (the base template
sets a Content-Security-Policy that forbids them).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


def defang(value: Any) -> Any:
    """``http://`` -> ``hxxp://`` (and https, any case) in rendered text."""
    if isinstance(value, str):
        return value.replace("https://", "hxxps://").replace("http://", "hxxp://") \
            .replace("HTTPS://", "hxxps://").replace("HTTP://", "hxxp://")
    return value


FIXED_LIMIT = 1e9  # from here on a fixed-point figure would print hundreds of digits: scientific notation


def fixed(v: float, digits: int, signed: bool = False) -> str:
    """``v`` with ``digits`` decimals, or in scientific notation when ``|v| >= 1e9`` (a BD-rate of 1e302 %
    from a hostile result set is one short field, not 300 digits)."""
    sign = "+" if signed else ""
    if abs(v) >= FIXED_LIMIT:
        return f"{v:{sign}.{digits}e}"
    return f"{v:{sign}.{digits}f}"


def fmt_num(v: Any, digits: int = 4) -> str:
    """A number for a table cell: integers as they are, floats with ``digits`` decimals, None as –."""
    if v is None:
        return "–"
    if isinstance(v, int):
        return f"{v:d}"
    return fixed(v, digits)


def fmt_pct(v: Any, digits: int = 2) -> str:
    return "–" if v is None else f"{fixed(v, digits)} %"


def fmt_sig(v: Any, signed: bool = False) -> str:
    """A claimed or recomputed figure at full precision (8 significant digits; ``signed`` for differences)."""
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:+.6g}" if signed else f"{v:.8g}"
    return str(v)


@lru_cache(maxsize=1)
def environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    from .. import __version__
    from .resources import resource_dir

    env = Environment(loader=FileSystemLoader(str(resource_dir("templates"))), autoescape=True,
                      undefined=StrictUndefined, finalize=defang, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = fmt_num
    env.filters["pct"] = fmt_pct
    env.filters["sig"] = fmt_sig
    env.filters["scale"] = lambda s: f"{s:.0%}"
    env.globals["vcmbench_version"] = __version__
    env.globals["zip"] = zip
    return env


def render(template: str, **context: Any) -> str:
    """Render ``templates/<template>`` with ``context``."""
    return environment().get_template(template).render(**context)
