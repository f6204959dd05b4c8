"""Features computed once per image: a cache of ``task.features(image)`` in the run directory.

``FeatureCache(run_dir).get_or_compute(task, image_ref, load_rgb)`` returns the layers of
``task.features()`` for one image, computing them at most once per (image content, task
signature, split point): every feature job of the image (all its QPs) and the studies built on
the run load the same arrays.

Layout and safety
-----------------
* ``RUNDIR/features/<key>.npz`` with ``key`` = sha256 of (image content digest, task signature,
  split point), 32 hex digits.  The arrays are stored uncompressed (float32, exact).
* Written atomically: into a temporary file of the same folder (unique per process), flushed and
  fsynced, then renamed over the final name with ``os.replace``.  A process killed mid-write (even
  by ``kill -9``) leaves only a ``.tmp-*`` file, which is never read; the final name either does
  not exist or holds a complete archive.  Two processes computing the same image both write
  complete files; the last rename wins (the contents are equal).
* A final file that cannot be read (e.g. a disk error) is recomputed and rewritten, never trusted.
* Video (``FeatureCache.frame``): one file per evaluated frame of a sequence, keyed by :func:`frame_digest`
  (sequence content, colour mode, frame index) in place of the image digest.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

FEATURES_DIR = "features"


def cache_key(image_digest: str, task_signature: str, split_point: str) -> str:
    blob = "\x1f".join((str(image_digest), str(task_signature), str(split_point)))
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


class FeatureCache:
    """Per-run cache of split-network features (see the module docstring)."""

    def __init__(self, run_dir: str | Path, split_point: str = "") -> None:
        self.dir = Path(run_dir) / FEATURES_DIR
        self.split_point = split_point
        self.computed = 0  # backbone calls made by this object (for tests and benchmarks)
        self.loaded = 0

    def path(self, task: Any, image_ref: Any, split_point: str | None = None) -> Path:
        split = split_point if split_point is not None else (self.split_point or _default_split(task))
        return self.dir / f"{cache_key(image_ref.digest, task.signature(), split)}.npz"

    def load(self, path: Path) -> dict[str, np.ndarray] | None:
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):  # missing or unreadable: recompute
            return None

    def get_or_compute(self, task: Any, image_ref: Any, load_rgb: Callable[[Any], np.ndarray],
                       split_point: str | None = None, store: bool = True) -> dict[str, np.ndarray]:
        """The image's features from the cache, computed (and stored atomically unless ``store`` is False) when
        absent."""
        path = self.path(task, image_ref, split_point)
        if path.exists():
            got = self.load(path)
            if got is not None:
                self.loaded += 1
                return got
        feats = {k: np.ascontiguousarray(np.asarray(v, np.float32)) for k, v in task.features(load_rgb(image_ref)).items()}
        self.computed += 1
        if store:
            self.store(path, feats)
        return feats

    def frame(self, task: Any, ref: Any, k: int, color: str, store: bool = True) -> dict[str, np.ndarray]:
        """Evaluated frame ``k`` of the sequence ``ref`` (``conditions.sequences.SequenceRef``): its features from
        the cache, computed (and stored, unless ``store`` is False: a run too big to cache) when absent.  Keyed by
        :func:`frame_digest`."""
        from ..conditions.sequences import frame_rgb

        return self.get_or_compute(task, _FrameKey(frame_digest(ref, k, color)), lambda _key: frame_rgb(ref, k, color),
                                   store=store)

    def store(self, path: Path, feats: dict[str, np.ndarray]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **feats)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def frame_digest(ref: Any, k: int, color: str) -> str:
    """What a sequence frame's features are keyed on (in place of an image's content digest): the sequence's
    evaluated bytes (``ref.digest``), the colour mode that turns them into the network's RGB, the frame's index."""
    return f"{ref.digest}|{color}|frame{int(k)}"


@dataclass(frozen=True)
class _FrameKey:
    digest: str


def _default_split(task: Any) -> str:
    points = tuple(getattr(task, "split_points", ()) or ())
    return points[0] if points else ""
