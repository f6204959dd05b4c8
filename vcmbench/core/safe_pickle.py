"""Weights are data: a model-zoo ``.pkl`` through a restricted unpickler, torch files with ``weights_only``.

A pickle names the callables that rebuild its objects (``GLOBAL module name``) and the unpickler
calls them: an ordinary ``pickle.load`` of a hostile file runs any code it names before anything
can check what it is.  :class:`ZooUnpickler` resolves only the names below — from a fixed table,
never by importing what the file says — and refuses every other one with the name it met.

The names are those a model-zoo file holds: ``{"model": {name: ndarray}, "__author__": str}``
(detectron2 zoo) or ``{"blobs": {name: ndarray}}`` (Detectron/Caffe2 zoo); dicts, lists, tuples,
strings and numbers need no name at all.  They were established by recording every name
``find_class`` is asked for while loading such files: ``benchmarks/rcnn_golden.py`` seeded files
(numpy 2: protocol 4), the same dict of float/int arrays and numpy scalars written with pickle
protocols 0-5, and numpy 1.x's spelling of the same functions (``numpy.core.*``, what the
published zoo files were written with):

* ``numpy.core.multiarray._reconstruct`` / ``numpy._core.multiarray._reconstruct``,
  ``numpy.ndarray``, ``numpy.dtype`` — an array (protocols 0-4);
* ``numpy.core.numeric._frombuffer`` / ``numpy._core.numeric._frombuffer`` — an array (protocol 5);
* ``numpy.core.multiarray.scalar`` / ``numpy._core.multiarray.scalar`` — a numpy scalar;
* ``_codecs.encode`` — bytes in a protocol 0-2 pickle written by Python 3; admitted for the
  latin-1 codec only (the one pickle uses);
* ``collections.OrderedDict`` — a dict.

Arrays of Python objects (``dtype('O')``) are refused: weights are numbers.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

from .errors import DataError


class Refused(pickle.UnpicklingError):
    """The file names something a model-zoo file never holds."""


def _latin1_encode(text: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    if encoding.replace("_", "-").lower() not in ("latin1", "latin-1"):
        raise Refused(f"_codecs.encode with the codec {encoding!r} (pickle only uses latin1)")
    return text.encode("latin1")


def _allowed() -> dict[tuple[str, str], Any]:
    import collections

    import numpy as np

    core = np._core  # numpy >= 2; the numpy 1.x names of the same functions map here
    reconstruct, scalar, frombuffer = core.multiarray._reconstruct, core.multiarray.scalar, core.numeric._frombuffer

    def dtype(*args: Any) -> Any:
        dt = np.dtype(*args)
        if dt.hasobject:
            raise Refused(f"an array of Python objects (dtype {dt}); weights are numbers")
        return dt

    table: dict[tuple[str, str], Any] = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): dtype,
                                         ("_codecs", "encode"): _latin1_encode,
                                         ("collections", "OrderedDict"): collections.OrderedDict}
    for pkg in ("numpy.core", "numpy._core"):
        table[(f"{pkg}.multiarray", "_reconstruct")] = reconstruct
        table[(f"{pkg}.multiarray", "scalar")] = scalar
        table[(f"{pkg}.numeric", "_frombuffer")] = frombuffer
    return table


ALLOWED_GLOBALS: tuple[str, ...] = (
    "numpy.ndarray", "numpy.dtype", "_codecs.encode", "collections.OrderedDict",
    "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
    "numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer",
)


class ZooUnpickler(pickle.Unpickler):
    """An unpickler that builds only the objects of a model-zoo file (see the module docstring)."""

    def __init__(self, file: Any) -> None:
        super().__init__(file, encoding="latin1")
        self._table = _allowed()

    def find_class(self, module: str, name: str) -> Any:
        obj = self._table.get((module, name))
        if obj is None:
            raise Refused(f"it references {module}.{name}, which a model-zoo file never holds")
        return obj

    def persistent_load(self, pid: Any) -> Any:
        raise Refused("it holds a persistent reference (a torch file saved as .pkl?)")


def load_zoo_pickle(path: str | Path, what: str = "Weights file") -> Any:
    """The content of a model-zoo ``.pkl``; a file that names anything else is refused before it runs."""
    p = Path(path)
    data = p.read_bytes()
    try:
        return ZooUnpickler(io.BytesIO(data)).load()
    except Refused as exc:
        raise DataError(f"{what} {p} was not loaded: {exc}. A model-zoo .pkl holds only dicts, lists, strings, "
                        "numbers and numpy arrays, and a pickle that names other code could run it; use the "
                        "published model-zoo file (or a detectron2 .pth checkpoint).") from None
    except Exception as exc:  # noqa: BLE001 - a malformed pickle, reported with the file name
        raise DataError(f"Cannot read {what.lower()} {p} ({type(exc).__name__}: {exc}); it must be a model-zoo "
                        ".pkl (a pickle of numpy arrays).") from None


def load_torch_weights(path: str | Path, what: str = "Weights file") -> Any:
    """``torch.load(path, map_location="cpu", weights_only=True)``: tensors and plain data, never code."""
    p = Path(path)
    try:
        import torch
    except ImportError as exc:
        raise DataError(f"{what} {p} is a torch file and torch does not import here ({exc}); install vcmbench's "
                        "locked torch, or give a model-zoo .pkl.") from None
    try:
        return torch.load(str(p), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights only" not in str(exc).lower():  # not a refusal: a file that is no torch file at all
            raise DataError(f"Cannot read {what.lower()} {p} ({exc}); it must be a file written by torch.save.") from None
        first = str(exc).strip().splitlines()[-1]
        raise DataError(f"{what} {p} was not loaded: it holds objects other than tensors and plain data "
                        f"({first}); torch.load(weights_only=True) refuses them because unpickling them could "
                        "run code. Save a state_dict (torch.save(model.state_dict(), FILE)).") from None
    except Exception as exc:  # noqa: BLE001 - reported with the file name
        raise DataError(f"Cannot read {what.lower()} {p} ({type(exc).__name__}: {exc}); it must be a file written "
                        "by torch.save.") from None
