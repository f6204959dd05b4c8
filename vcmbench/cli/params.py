"""Option value types checked at parse time: a bad value is refused by Click (exit 2) with a message
that names the option, the value and the accepted range — before any work starts.

* :class:`FiniteFloat` — a finite number, optionally within ``[min, max]`` (each end open or closed).
* :data:`TIMEOUT` — seconds, finite and > 0 (``--timeout 0|-1|nan|inf`` are refused).
* :class:`RegularFile` — an existing regular file (a FIFO, directory, device or socket is refused).
* :data:`POSITIVE_INT` / :data:`NON_NEGATIVE_INT` — counts (``--jobs``, ``--limit``, sizes).
* :data:`VTM_DIR` — ``--vtm-dir``: an existing folder (a missing one is bad input, exit 2).
"""

from __future__ import annotations

import math
import os
import stat

import click


class FiniteFloat(click.ParamType):
    """A finite float, optionally within a range; ``min_open``/``max_open`` exclude the end."""

    name = "number"

    def __init__(self, min: float | None = None, max: float | None = None,
                 min_open: bool = False, max_open: bool = False) -> None:
        self.min, self.max, self.min_open, self.max_open = min, max, min_open, max_open

    def _range(self) -> str:
        lo = "-inf" if self.min is None else f"{self.min:g}"
        hi = "inf" if self.max is None else f"{self.max:g}"
        return f"{'(' if self.min is None or self.min_open else '['}{lo}, {hi}{')' if self.max is None or self.max_open else ']'}"

    def convert(self, value, param, ctx):
        if isinstance(value, float) and math.isfinite(value):
            v = value
        else:
            try:
                v = float(value)
            except (TypeError, ValueError):
                self.fail(f"{value!r} is not a number; give a finite number in {self._range()}.", param, ctx)
        if not math.isfinite(v):
            self.fail(f"{value!r} is not a finite number; give a number in {self._range()}.", param, ctx)
        if self.min is not None and (v < self.min or (self.min_open and v == self.min)):
            self.fail(f"{value!r} is outside {self._range()}; give a number in that range.", param, ctx)
        if self.max is not None and (v > self.max or (self.max_open and v == self.max)):
            self.fail(f"{value!r} is outside {self._range()}; give a number in that range.", param, ctx)
        return v

    def __repr__(self) -> str:
        return f"FiniteFloat{self._range()}"


class PositiveTimeout(FiniteFloat):
    """Seconds: finite and > 0."""

    name = "seconds"

    def __init__(self) -> None:
        super().__init__(min=0.0, min_open=True)


class RegularFile(click.Path):
    """An existing, readable regular file: a FIFO, a directory, a device or a socket is refused at parse time
    (reading a FIFO would hang; ``/dev/zero`` would exhaust memory)."""

    def __init__(self) -> None:
        super().__init__(exists=True, dir_okay=False, file_okay=True, readable=True)

    def convert(self, value, param, ctx):
        path = super().convert(value, param, ctx)
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            self.fail(f"{value!r} cannot be read ({exc.strerror}); give a regular file.", param, ctx)
        if not stat.S_ISREG(mode):
            self.fail(f"{value!r} is not a regular file (a pipe, device or socket); give the path of a file.",
                      param, ctx)
        return path


TIMEOUT = PositiveTimeout()
FRACTION = FiniteFloat(0.0, 1.0)  # a fraction in [0, 1]
IOU = FiniteFloat(0.0, 1.0, min_open=True)  # an IoU threshold in (0, 1]


class Count(click.IntRange):
    """A whole number >= ``min`` (``--limit``, ``--jobs``, sizes); a smaller one is refused with the fix named."""

    def __init__(self, min: int) -> None:
        super().__init__(min=min)

    def convert(self, value, param, ctx):
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            what = "a positive whole number (1 or more)" if self.min == 1 else f"a whole number >= {self.min}"
            self.fail(f"{value!r} is not {what}; give {what}, or leave the option out for its default.", param, ctx)


POSITIVE_INT = Count(1)
NON_NEGATIVE_INT = Count(0)

# ``--vtm-dir`` (and VCMBENCH_VTM_DIR where the option reads it): a folder that exists, checked at parse time
# (exit 2); a folder without EncoderApp/DecoderApp is refused by the library as bad input too (CodecSetupError).
VTM_DIR = click.Path(exists=True, file_okay=False)
