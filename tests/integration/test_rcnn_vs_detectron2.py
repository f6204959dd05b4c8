"""Where detectron2 imports: its adapter (``detectron2:``) and the native backend (``rcnn:``) agree.

Both built from the same seeded model-zoo-style ``.pkl`` (vcmbench.tasks.rcnn.seeded), run on one
elongated crop of a coco-tiny-cc image (the first input of tests/golden/rcnn/faster_rcnn_R_50_FPN_3x.json):
same detections one to one, boxes within 0.01 px, scores within 1e-5, FPN features within 1e-4.
"""

from __future__ import annotations

import numpy as np
import pytest

from vcmbench.tasks.detectron2 import detectron2_available

pytestmark = [pytest.mark.needs_detectron2, pytest.mark.integration,
              pytest.mark.skipif(not detectron2_available()[0], reason="detectron2 does not import here")]


def test_adapter_and_native_agree(tmp_path):
    from tests.golden.rcnn_golden_common import BOX_TOL, FEATURE_TOL, IMAGES, SCORE_TOL, load_golden, load_image
    from vcmbench.tasks import get_task
    from vcmbench.tasks.rcnn import get_config
    from vcmbench.tasks.rcnn.seeded import seeded_state, write_model_zoo_pkl

    if not IMAGES.is_dir():
        pytest.skip(f"coco-tiny-cc images not found at {IMAGES}")
    model = "COCO-Detection/faster_rcnn_R_50_FPN_3x"
    pkl = str(write_model_zoo_pkl(seeded_state(get_config(model), 0), tmp_path / "seeded.pkl"))
    meta, _ = load_golden("faster_rcnn_R_50_FPN_3x")
    rgb = load_image(meta["images"][0])
    d2 = get_task("detectron2:" + model, weights=pkl, device="cpu")
    native = get_task("rcnn:" + model, weights=pkl, device="cpu")
    assert d2.signature().startswith("d2~") and native.signature().startswith("rcnn~")
    fa, fb = d2.features(rgb), native.features(rgb)
    assert max(float(np.abs(fa[k] - fb[k]).max()) for k in fa) <= FEATURE_TOL
    a, b = d2.run(rgb), native.run(rgb)
    assert len(a) == len(b) > 0 and a.labels == b.labels
    assert np.abs(a.boxes - b.boxes).max() <= BOX_TOL and np.abs(a.scores - b.scores).max() <= SCORE_TOL
