"""OID CSV formats: mask cells (COCO RLE → zlib → base64), class lists, readers."""

from __future__ import annotations

import base64
import zlib

import numpy as np
import pytest
from pycocotools import mask as coco_mask

from vcmbench.core.errors import DataError
from vcmbench.metrics.oid_io import (
    decode_oid_mask,
    encode_oid_mask,
    normalise_class_name,
    read_class_list,
    read_predictions,
    write_predictions_csv,
)


def test_mask_cell_round_trip_and_format():
    rng = np.random.default_rng(0)
    m = (rng.random((37, 53)) > 0.6).astype(np.uint8)
    cell = encode_oid_mask(m)
    np.testing.assert_array_equal(decode_oid_mask(cell, 53, 37), m)
    # the cell is base64(zlib(COCO compressed RLE counts)), decodable by pycocotools as the TF OD API does
    counts = zlib.decompress(base64.b64decode(cell))
    np.testing.assert_array_equal(coco_mask.decode({"size": [37, 53], "counts": counts}), m)
    with pytest.raises(DataError, match="2-D"):
        encode_oid_mask(np.zeros((2, 2, 2)))
    with pytest.raises(DataError, match="base64"):
        decode_oid_mask("not a mask!", 4, 4)


def test_class_lists(tmp_path, oid_dir):
    assert normalise_class_name("traffic light") == "traffic_light"
    names = read_class_list(oid_dir / "selected_classes.txt")
    assert len(names) == 47 and names[0] == "person" and "traffic_light" in names
    pbtxt = read_class_list(oid_dir / "coco_label_map.pbtxt")
    assert pbtxt[:3] == ["person", "bird", "car"]
    (tmp_path / "c.txt").write_text("# comment\nperson\n\nteddy bear  # inline\n")
    assert read_class_list(tmp_path / "c.txt") == ["person", "teddy_bear"]
    with pytest.raises(DataError, match="does not exist"):
        read_class_list(tmp_path / "none.txt")


def test_predictions_csv_round_trip(tmp_path):
    rows = [{"ImageID": "a", "LabelName": "person", "Score": 0.5, "XMin": 0.1, "XMax": 0.2, "YMin": 0.3, "YMax": 0.4}]
    write_predictions_csv(tmp_path / "p.csv", rows)
    df = read_predictions(tmp_path / "p.csv")
    assert df.to_dict("records") == rows
    with pytest.raises(DataError, match="Mask"):
        read_predictions(tmp_path / "p.csv", segmentation=True)


class _Det:  # a tasks.base.Detections look-alike
    def __init__(self, boxes, scores, labels, masks=None, image_size=(200, 100)):
        self.boxes, self.scores, self.labels, self.masks, self.image_size = boxes, scores, labels, masks, image_size


def test_detections_to_oid_rows():
    from vcmbench.metrics.oid_io import detections_to_oid_rows

    m = np.zeros((2, 100, 200), np.uint8)
    m[0, 10:20, 20:60] = 1
    d = _Det(np.array([[20.0, 10, 60, 20], [0, 0, 200, 100]]), np.array([.9, .4]), ["traffic light", "zebra"], m)
    rows = detections_to_oid_rows("img", d, classes=["traffic_light"], segmentation=True)
    assert len(rows) == 1
    r = rows[0]
    assert (r["LabelName"], r["XMin"], r["XMax"], r["YMin"], r["YMax"]) == ("traffic_light", 0.1, 0.3, 0.1, 0.2)
    np.testing.assert_array_equal(decode_oid_mask(r["Mask"], 200, 100), m[0])
    with pytest.raises(DataError, match="image_size"):
        detections_to_oid_rows("img", _Det(d.boxes, d.scores, d.labels, image_size=(0, 0)))
