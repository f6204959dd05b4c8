"""The detectron2 model-zoo configurations the native R-CNN backend implements, as data.

Values are detectron2's defaults (``detectron2/config/defaults.py``) merged with
``configs/Base-RCNN-FPN.yaml`` and each model's own yaml, for **inference** only:

* input: BGR, ``ResizeShortestEdge(800, max 1333)`` (PIL bilinear on uint8; Cityscapes: 1024, max 2048), ``PIXEL_MEAN``
  103.530/116.280/123.675, ``PIXEL_STD`` 1/1/1 (MSRA R50/R101) or 57.375/57.120/58.395 (the
  C2-trained X101-32x8d), padding to a multiple of 32 (``SIZE_DIVISIBILITY``) with zeros after
  normalisation;
* ResNet (FrozenBN, ``STRIDE_IN_1X1`` True for R50/R101, False for X101-32x8d, 32 groups of width 8
  for X101), FPN 256 channels on res2..res5 with P6 = max-pool(P5, kernel 1, stride 2);
* RPN on p2..p6: anchors 32..512 (one size per level), aspect ratios 0.5/1/2, offset 0,
  deltas weights 1/1/1/1, pre/post-NMS top-k 1000/1000 at test time, NMS 0.7, min box size 0;
* ROI heads on p2..p5: ROIAlignV2 (aligned, adaptive sampling), canonical box 224 at level 4,
  box head 2 x fc 1024 on 7x7, box deltas weights 10/10/5/5, scale clamp log(1000/16),
  score threshold 0.05, NMS 0.5, 100 detections; mask head 4 x conv 256 on 14x14, deconv x2,
  class-specific 28x28 masks, pasted with threshold 0.5.

``Cityscapes/mask_rcnn_R_50_FPN`` (``configs/Cityscapes/mask_rcnn_R_50_FPN.yaml``, detectron2 0.6 and
main alike) is Base-RCNN-FPN with ``MASK_ON: True``, ``ROI_HEADS.NUM_CLASSES: 8`` and
``INPUT.MIN_SIZE_TEST: 1024`` / ``MAX_SIZE_TEST: 2048``; depth, strides, mean/std and every head setting
are the defaults above (R50, MSRA).  Its classes are the Cityscapes things (``cityscapes_names``).
Weights file names are the model zoo's (``detectron2/model_zoo/model_zoo.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..cityscapes_names import CITYSCAPES_THING_CLASSES
from ..coco_names import COCO_NAMES

PIXEL_MEAN_BGR = (103.530, 116.280, 123.675)
C2_PIXEL_STD = (57.375, 57.120, 58.395)

DEPTH_BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}


@dataclass(frozen=True)
class RCNNConfig:
    """One model-zoo configuration (inference settings)."""

    name: str  # model-zoo config name without .yaml, e.g. COCO-Detection/faster_rcnn_R_50_FPN_3x
    depth: int = 50
    num_groups: int = 1
    width_per_group: int = 64
    stride_in_1x1: bool = True
    mask_on: bool = False
    num_classes: int = 80
    classes: tuple[str, ...] = COCO_NAMES  # contiguous class order of the model's outputs
    weights_file: str = ""  # the model zoo's file name, e.g. model_final_280758.pkl
    nominal_size: tuple[int, int] = (640, 480)  # (W, H) of a typical input of the dataset (tasks --json shapes, MACs)
    pixel_mean: tuple[float, float, float] = PIXEL_MEAN_BGR
    pixel_std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    input_format: str = "BGR"
    min_size_test: int = 800
    max_size_test: int = 1333
    size_divisibility: int = 32
    fpn_channels: int = 256
    anchor_sizes: tuple[int, ...] = (32, 64, 128, 256, 512)
    aspect_ratios: tuple[float, ...] = (0.5, 1.0, 2.0)
    anchor_offset: float = 0.0
    rpn_nms: float = 0.7
    rpn_pre_nms_topk: int = 1000
    rpn_post_nms_topk: int = 1000
    rpn_min_box_size: float = 0.0
    box_pooler_resolution: int = 7
    box_fc_dim: int = 1024
    box_num_fc: int = 2
    box_reg_weights: tuple[float, float, float, float] = (10.0, 10.0, 5.0, 5.0)
    roi_nms: float = 0.5
    mask_pooler_resolution: int = 14
    mask_num_conv: int = 4
    mask_conv_dim: int = 256
    canonical_box_size: int = 224
    canonical_level: int = 4
    scale_clamp: float = math.log(1000.0 / 16)
    published_sha256: dict[str, str] = field(default_factory=dict)  # weights file name -> sha256

    @property
    def blocks(self) -> tuple[int, ...]:
        return DEPTH_BLOCKS[self.depth]

    @property
    def task_type(self) -> str:
        return "instance-segmentation" if self.mask_on else "detection"

    @property
    def input_convention(self) -> str:
        return (f"RGB uint8 -> {self.input_format}, ResizeShortestEdge {self.min_size_test}/{self.max_size_test} "
                f"(PIL bilinear), config mean/std, pad {self.size_divisibility}")


# sha256 of the model-zoo files, as pinned by CompressAI-Vision's scripts/install.sh (WEIGHTS list).
_SHA = {
    "faster_rcnn_R_50_FPN_3x": {"model_final_280758.pkl":
                                "3c25caca37baabbff3e22cc9eb0923db165a0c18b867871a3bf3570bac9b7ef0"},
    "faster_rcnn_X_101_32x8d_FPN_3x": {"model_final_68b088.pkl":
                                       "fe5ad56ff746aa55c5f453b01f8395134e9281d240dbeb473411d4a6b262c9dc"},
    "mask_rcnn_R_50_FPN_3x": {"model_final_f10217.pkl":
                              "9a737e290372f1f70994ebcbd89d8004dbb3ae30a605fd915a190fa4a782dd66"},
    "mask_rcnn_X_101_32x8d_FPN_3x": {"model_final_2d9806.pkl":
                                     "12f6e1811baf1b4d329c3f5ac5ec52d8f634d3cedc82a13fff55d0c05d84f442"},
}
# The model zoo's file of each config (detectron2/model_zoo/model_zoo.py, _ModelZooUrls.CONFIG_PATH_TO_URL_SUFFIX).
_FILES = {
    "faster_rcnn_R_50_FPN_3x": "model_final_280758.pkl", "faster_rcnn_R_101_FPN_3x": "model_final_f6e8b1.pkl",
    "faster_rcnn_X_101_32x8d_FPN_3x": "model_final_68b088.pkl", "mask_rcnn_R_50_FPN_3x": "model_final_f10217.pkl",
    "mask_rcnn_R_101_FPN_3x": "model_final_a3ec72.pkl", "mask_rcnn_X_101_32x8d_FPN_3x": "model_final_2d9806.pkl",
}


def _make(task: str, arch: str, schedule: str = "3x") -> RCNNConfig:
    kind = "mask" if task == "COCO-InstanceSegmentation" else "faster"
    short = f"{kind}_rcnn_{arch}_FPN_{schedule}"
    extra: dict = {}
    if arch == "R_50":
        extra = {"depth": 50}
    elif arch == "R_101":
        extra = {"depth": 101}
    elif arch == "X_101_32x8d":
        extra = {"depth": 101, "num_groups": 32, "width_per_group": 8, "stride_in_1x1": False,
                 "pixel_std": C2_PIXEL_STD}
    return RCNNConfig(name=f"{task}/{short}", mask_on=kind == "mask", published_sha256=_SHA.get(short, {}),
                      weights_file=_FILES[short], **extra)


CONFIGS: dict[str, RCNNConfig] = {}
for _task in ("COCO-Detection", "COCO-InstanceSegmentation"):
    for _arch in ("R_50", "R_101", "X_101_32x8d"):
        _c = _make(_task, _arch)
        CONFIGS[_c.name] = _c
# configs/Cityscapes/mask_rcnn_R_50_FPN.yaml: no sha256 of model_final_af9cf5.pkl is published by the model zoo or
# pinned by CompressAI-Vision (its install script lists the COCO files only), so none is checked.
CITYSCAPES_MASK_RCNN = RCNNConfig(name="Cityscapes/mask_rcnn_R_50_FPN", mask_on=True, num_classes=8,
                                  classes=CITYSCAPES_THING_CLASSES, min_size_test=1024, max_size_test=2048,
                                  weights_file="model_final_af9cf5.pkl", nominal_size=(2048, 1024))
CONFIGS[CITYSCAPES_MASK_RCNN.name] = CITYSCAPES_MASK_RCNN


def supported_models() -> list[str]:
    return sorted(CONFIGS)


def get_config(model: str) -> RCNNConfig:
    from ...core.errors import UsageError

    key = model[:-5] if model.endswith(".yaml") else model
    if key not in CONFIGS:
        raise UsageError(f"The native R-CNN backend has no model-zoo config {model!r}; it implements: "
                         f"{', '.join(supported_models())}.")
    return CONFIGS[key]
