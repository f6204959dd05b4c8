"""The native JDE (``jde-1088x608``) equals the original implementation on seeded weights.

Golden source: Towards-Realtime-MOT @c2654cdd7b69d39af669cff90758c04436025fe1 with CompressAI-Vision
@31165daf's two JDE patches, driven by CompressAI-Vision's ``jde_1088x608`` wrapper
(``input_to_features`` -> ``features_to_output``: Darknet split forward, ``_jde_process`` with NMS,
``scale_coords``, the association and the output filter) on its ``JDECustomMapper`` input, CPU,
torch 2.14.1 / torchvision 0.29.1, numpy 2.4.6, opencv 5.0.0, cython_bbox 0.1.5 with CompressAI-Vision's
float32 patch — recorded by ``tests/golden/record_jde_golden.py`` (its docstring gives the exact setup
and command) into ``tests/golden/jde/seed0_pan10.json``.  Weights: ``vcmbench.tasks.jde.seeded`` seed 0,
regenerated here.  Sequence: 10 frames of a 480x360 window panning 6 px right and 2 px down a frame
over coco-tiny-cc 000000005001.jpg (4:3: the letterbox pads left and right).

Compared per frame and split set (TVD [36, 61, 74], HiEve [105, 90, 75]): the split features (mean,
std and 16 seeded samples per layer) <= 1e-4; the detections matched one to one in the reference's
order, boxes <= 1e-4 px, scores <= 1e-5, the first 16 embedding dimensions <= 1e-5; the tracks of
``net.new_tracker`` (``tasks.tracking.JDETracker``) every id equal and every tlwh <= 1e-4 px.  The default
run checks the first three frames with the TVD split and that ``detect`` equals ``detect_features`` of
``features`` bit for bit; the whole sequence with both splits is marked slow (about 10 s a frame here).
Measured 2026-12-06 (torch 2.13.0 here vs 2.14.1 in the reference): features, boxes, scores and
embeddings equal bit for bit, 91 track rows over 10 frames with equal ids, tlwh within 6.1e-8 px.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("cv2")

from tests.conftest import SHARED  # noqa: E402
from tests.golden import jde_golden_common as C  # noqa: E402

GOLDEN = Path(__file__).parent / "jde" / "seed0_pan10.json"
PICTURE = C.shared_picture(SHARED)
FEATURE_TOL = 1e-4
BOX_TOL = 1e-4
SCORE_TOL = 1e-5
EMB_TOL = 1e-5
TLWH_TOL = 1e-4

pytestmark = pytest.mark.skipif(not PICTURE.is_file(), reason=f"coco-tiny-cc picture {PICTURE} not found")


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    from vcmbench.tasks.jde.seeded import seeded_state, write_checkpoint

    return write_checkpoint(seeded_state(C.SEED), tmp_path_factory.mktemp("jde") / "jde_seed0.pt")


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(GOLDEN.read_text())


def _frames(golden: dict) -> list[np.ndarray]:
    frames = C.frames_bgr(PICTURE)
    for t, (f, g) in enumerate(zip(frames, golden["frames"])):
        assert C.frame_sha256(f) == g["sha256"], (
            f"frame {t}: cv2 decodes {C.PICTURE} differently from the recording (opencv {golden['cv2']}); "
            "the comparison needs the same pixels")
    return [np.ascontiguousarray(f[:, :, ::-1]) for f in frames]  # RGB, as vcmbench networks take frames


def _close(a, b, tol: float, what: str) -> None:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != reference {b.shape}"
    if a.size:
        err = float(np.abs(a - b).max())
        assert err <= tol, f"{what}: max |diff| {err:.3g} > {tol}"


def _check(weights: Path, golden: dict, split: str, n_frames: int, tracks: bool) -> None:
    from vcmbench.tasks import get_task

    net = get_task("jde-1088x608", weights=str(weights), split=split)
    ref = golden["splits"][split]
    assert list(net.feature_layers) == [str(i) for i in ref["layers"]]
    tracker = net.new_tracker(30.0) if tracks else None
    for t, (rgb, g) in enumerate(zip(_frames(golden)[:n_frames], ref["frames"][:n_frames])):
        feats = net.features(rgb)
        for layer, s in g["features"].items():
            ours = C.summarise(feats[layer])
            assert ours["shape"] == s["shape"]
            _close([ours["mean"], ours["std"]], [s["mean"], s["std"]], FEATURE_TOL, f"{split} frame {t} layer {layer} mean/std")
            _close(ours["samples"], s["samples"], FEATURE_TOL, f"{split} frame {t} layer {layer} samples")
        fd = net.detect_features(feats, (rgb.shape[1], rgb.shape[0]))
        d = fd.detections
        assert len(d) == len(g["detections"]["scores"]), f"{split} frame {t}: {len(d)} detections, reference {len(g['detections']['scores'])}"
        _close(d.boxes, np.asarray(g["detections"]["boxes"]).reshape(-1, 4), BOX_TOL, f"{split} frame {t} boxes")
        _close(d.scores, g["detections"]["scores"], SCORE_TOL, f"{split} frame {t} scores")
        _close(fd.embeddings[:, :C.EMB_DIMS], np.asarray(g["detections"]["emb"]).reshape(-1, C.EMB_DIMS), EMB_TOL,
               f"{split} frame {t} embeddings")
        assert d.labels == ["person"] * len(d)
        if tracker is not None:
            out = tracker.update(fd)
            assert [int(i) for i in out.ids] == g["tracks"]["ids"], f"{split} frame {t}: track ids"
            _close(out.tlwh, np.asarray(g["tracks"]["tlwh"]).reshape(-1, 4), TLWH_TOL, f"{split} frame {t} tlwh")


def test_jde_first_frames_tvd_split(weights, golden):
    _check(weights, golden, "tvd", 3, tracks=True)


def test_detect_equals_split_path_bit_for_bit(weights, golden):
    from vcmbench.tasks import get_task

    rgb = _frames(golden)[1]
    net = get_task("jde-1088x608", weights=str(weights), split="hieve")
    whole = net.detect(rgb)
    split = net.detect_features({k: v.copy() for k, v in net.features(rgb).items()}, (rgb.shape[1], rgb.shape[0]))
    assert len(whole.detections) > 0
    assert np.array_equal(whole.detections.boxes, split.detections.boxes)
    assert np.array_equal(whole.detections.scores, split.detections.scores)
    assert np.array_equal(whole.embeddings, split.embeddings)


@pytest.mark.slow
@pytest.mark.parametrize("split", ["tvd", "hieve"])
def test_jde_whole_sequence(weights, golden, split):
    _check(weights, golden, split, C.FRAMES, tracks=True)
