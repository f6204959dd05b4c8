"""``ssd-mobilenet-v2-coco-tracker``: SSD person detections + the JDE association without embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from vcmbench.core.errors import UsageError
from vcmbench.tasks import TASK_INFO, get_task, task_names
from vcmbench.tasks.base import TrackingNetwork

IMAGE = "000000261888.jpg"  # coco-tiny-cc: three people, the SSD finds them with scores 1.0, 0.89, 0.69


def _weights_or_skip():
    from vcmbench.tasks.ssd import check_weights_present

    ok, why = check_weights_present()
    if not ok:
        pytest.skip(why)


@pytest.fixture(scope="module")
def net():
    _weights_or_skip()
    return get_task("ssd-mobilenet-v2-coco-tracker")


def _pan(coco_tiny, frames: int, step: int) -> list[np.ndarray]:
    """A camera panning right over the picture: windows 560x380, ``step`` px a frame."""
    from PIL import Image

    rgb = np.asarray(Image.open(coco_tiny / "images" / IMAGE).convert("RGB"))
    return [np.ascontiguousarray(rgb[20:400, step * f: step * f + 560]) for f in range(frames)]


def test_registered_and_labelled():
    assert "ssd-mobilenet-v2-coco-tracker" in task_names()
    info = TASK_INFO["ssd-mobilenet-v2-coco-tracker"]
    assert info["type"] == "tracking" and "no embeddings" in info["backend"]


def test_people_keep_their_id_across_frames(net, coco_tiny):
    """Camera panning 4 px a frame over three people: the large one is tracked from the second frame on
    with one id; the small one (found again from the third frame) keeps its id to the end."""
    assert isinstance(net, TrackingNetwork) and net.split_points == ("heads",)
    tracker = net.new_tracker(25.0)
    outs = []
    for rgb in _pan(coco_tiny, 8, 4):
        fd = net.detect(rgb)
        assert fd.embeddings is None
        assert set(fd.detections.labels) <= {"person"} and (fd.detections.scores > 0.5).all()
        outs.append(tracker.update(fd))
    assert len(outs[0]) == 0  # output from a track's second matched frame, as the reference

    def ids_where(o, lo, hi):  # ids of output boxes whose left edge is in [lo, hi)
        return [int(i) for i, b in zip(o.ids, o.tlwh) if lo <= b[0] < hi]

    big = [ids_where(o, 330, 380) for o in outs[1:]]
    assert all(len(x) == 1 for x in big) and len({x[0] for x in big}) == 1
    small = [ids_where(o, 240, 300) for o in outs[3:]]
    assert all(len(x) == 1 for x in small) and len({x[0] for x in small}) == 1
    assert small[0][0] != big[0][0]
    xs = [b[0] for o in outs[1:] for i, b in zip(o.ids, o.tlwh) if i == big[0][0]]
    assert xs[-1] < xs[0] - 5  # it moves left in the panning window


def test_detect_equals_split_path_and_describes_itself(net, coco_tiny):
    rgb = _pan(coco_tiny, 1, 0)[0]
    a = net.detect(rgb).detections
    b = net.detect_features(net.features(rgb), (rgb.shape[1], rgb.shape[0])).detections
    assert np.array_equal(a.boxes, b.boxes) and np.array_equal(a.scores, b.scores)
    sig = net.signature()
    assert sig.startswith("ssd-mobilenet-v2-coco-tracker#") and "jde-assoc-noemb" in sig and "~fr30~" in sig
    assert net.describe()["association"] == "SSD detector + JDE association without embeddings"
    assert set(net.feature_info()) == {"m0", "m1", "m2", "m3", "m4", "m5"}
    assert get_task("ssd-mobilenet-v2-coco-tracker", track_frame_rate=None).new_tracker(50.0).max_time_lost == 50
    assert net.new_tracker(50.0).max_time_lost == 30  # the committee's runs: frame_rate 30 at every rate
    from vcmbench.run.frame_outputs import FrameOutputs

    fo = FrameOutputs(net, 25.0)
    js = [fo.rgb(f) for f in _pan(coco_tiny, 2, 4)]
    assert fo.tracking and js[0]["ids"] == [] and len(js[1]["ids"]) >= 1 and js[1]["image_size"] == [560, 380]


def test_bad_options_are_refused():
    _weights_or_skip()
    with pytest.raises(UsageError, match="COCO class names"):
        get_task("ssd-mobilenet-v2-coco-tracker", classes="pedestrian")
    with pytest.raises(UsageError, match="track_frame_rate"):
        get_task("ssd-mobilenet-v2-coco-tracker", track_frame_rate=0)
    assert get_task("ssd-mobilenet-v2-coco-tracker", classes="person,car").classes == ("person", "car")
