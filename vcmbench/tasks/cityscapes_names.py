"""The 8 Cityscapes instance ("thing") classes and their Cityscapes label ids.

Sources (public facts, embedded so that nothing is read from data at run time):

* the order is detectron2's contiguous class order for Cityscapes instance segmentation
  (``detectron2/data/datasets/builtin_meta.py``, ``CITYSCAPES_THING_CLASSES``), i.e. the output
  index of ``configs/Cityscapes/mask_rcnn_R_50_FPN.yaml`` (``ROI_HEADS.NUM_CLASSES: 8``);
* the label ids are cityscapesscripts' ``helpers/labels.py`` (``name2label[name].id``): the labels
  with ``hasInstances=True`` and ``ignoreInEval=False``.  ``caravan`` (29) and ``trailer`` (30) have
  instances but are ignored in evaluation, so no model predicts them.

The Cityscapes result layout writes ``<mask png> <labelId> <score>`` lines; ``labelId`` comes from
``CITYSCAPES_LABEL_IDS[name]``.
"""

from __future__ import annotations

CITYSCAPES_THING_CLASSES: tuple[str, ...] = (
    "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle",
)

CITYSCAPES_LABEL_IDS: dict[str, int] = {
    "person": 24, "rider": 25, "car": 26, "truck": 27, "bus": 28, "train": 31, "motorcycle": 32, "bicycle": 33,
}
