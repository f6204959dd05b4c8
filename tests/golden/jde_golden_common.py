"""What the JDE golden record (``record_jde_golden.py``, run outside the repository against the original
code) and its test (``test_jde_golden.py``) share: the seeded weights, the constructed sequence and
the feature summaries.  Imports numpy and cv2 only (the record runs in the reference's venv)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

SEED = 0  # vcmbench.tasks.jde.seeded.seeded_state(SEED)
PICTURE = "000000005001.jpg"  # coco-tiny-cc, 640x480 (CC BY; ../shared/data/coco-tiny-cc/ATTRIBUTION.md)
WINDOW = (480, 360)  # 4:3 frames: the 1088x608 letterbox pads them left and right
FRAMES = 10
STEP = (6, 2)  # the window pans right 6 px and down 2 px a frame
SAMPLES = 16  # feature values sampled per layer (RandomState(SAMPLE_SEED))
SAMPLE_SEED = 1234
EMB_DIMS = 16  # first embedding dimensions recorded per detection
SPLITS = {"tvd": (36, 61, 74), "hieve": (105, 90, 75)}


def shared_picture(shared: Path) -> Path:
    return shared / "data" / "coco-tiny-cc" / "images" / PICTURE


def frames_bgr(picture: Path) -> list[np.ndarray]:
    """The constructed sequence, BGR uint8 as ``cv2.imread`` reads the reference's frames."""
    import cv2

    img = cv2.imread(str(picture), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(picture)
    w, h = WINDOW
    out = []
    for t in range(FRAMES):
        x0, y0 = STEP[0] * t, STEP[1] * t
        out.append(np.ascontiguousarray(img[y0:y0 + h, x0:x0 + w]))
    return out


def frame_sha256(bgr: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(bgr).tobytes()).hexdigest()


def sample_index(shape: tuple[int, ...]) -> np.ndarray:
    """Flat indices of the sampled values of a (C, H, W) feature map."""
    n = int(np.prod(shape))
    return np.random.RandomState(SAMPLE_SEED + n % 9973).randint(0, n, SAMPLES)


def summarise(feature: np.ndarray) -> dict:
    """``{"shape", "mean", "std", "samples"}`` of one (C, H, W) float32 feature map (float64 statistics)."""
    f = np.asarray(feature, dtype=np.float32)
    flat = f.reshape(-1)
    return {"shape": list(f.shape), "mean": float(flat.astype(np.float64).mean()),
            "std": float(flat.astype(np.float64).std()),
            "samples": [float(v) for v in flat[sample_index(f.shape)]]}
