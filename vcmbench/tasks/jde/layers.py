"""The JDE 1088x608 network as data: its 116 layers (Darknet-53 + three YOLOv3-style heads with a
512-d embedding branch), the split-layer sets of the FCM conditions, and the layer dependencies.

Facts and their sources (Zhongdao/Towards-Realtime-MOT at c2654cdd, the commit CompressAI-Vision
@31165daf ``scripts/install.sh`` checks out):

* ``cfg/yolov3_1088x608.cfg``: input 1088x608 (``width``/``height``), ``embedding_dim=512``,
  3 channels; 116 layers indexed from 0 as ``models.create_modules`` numbers them (the ``[net]``
  block is not a layer).  Every ``[convolutional]`` has ``pad=1`` (padding ``(k-1)//2``); with
  ``batch_normalize=1`` the conv has no bias and is followed by ``BatchNorm2d`` (eps 1e-5) and, with
  ``activation=leaky``, ``LeakyReLU(0.1)``; the 24-channel box/confidence convs (81, 96, 111) and
  the embedding convs (83, 98, 113: 3x3, 512 outputs) have a bias, no BatchNorm, linear activation.
* ``[shortcut] from=-3``: the previous output plus the output three layers back; ``[route]``:
  one layer's output, or the channel concatenation of several (relative indices counted from the
  route itself, absolute ones as written: ``-1, 61`` and ``-1, 36``); ``[upsample] stride=2``:
  ``F.interpolate(scale_factor=2, mode="nearest")`` (``models.Upsample``).
* ``[yolo]``: anchors (pixels of the 1088x608 input) ``8,24 11,34 16,48 23,68 32,96 45,135 64,192
  90,271 128,384 180,540 256,640 512,640``, masks ``8-11`` (layer 85, stride 32), ``4-7`` (100,
  stride 16), ``0-3`` (115, stride 8); one class; each reads a route of the 24-channel conv
  (4 anchors x (4 box + 2 confidence logits)) and the 512-channel embedding conv.
* Split layers (CompressAI-Vision @31165daf ``cfgs/vision_model/default.yaml`` ``splits`` and
  ``scripts/evaluation/{tvd,hieve}/eval_on_*_vtm.sh``): TVD ``[36, 61, 74]``, HiEve ``[105, 90, 75]``.
  The indices are the *outputs* of those layers (``Darknet.forward`` as patched by
  ``0001-jde-interface-with-compressai-vision.patch`` stores ``x`` after layer ``i`` when
  ``i in splits``; the back half takes them as those layers' outputs).  TVD: the three Darknet-53
  stage outputs (shortcuts 36, 61, 74: 256x76x136, 512x38x68, 1024x19x34), read by routes 104, 89
  and conv 75.  HiEve: the first conv of each head (75: 512x19x34, 90: 256x38x68, 105:
  128x76x136, all after LeakyReLU); the back half runs each head from there.  The shapes equal
  the reference's ``data/mpeg-fcm/{MPEGTVDTRACKING,MPEGHIEVE}/fpn-sizes/*.json``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...core.errors import UsageError

INPUT_W, INPUT_H = 1088, 608
EMBEDDING_DIM = 512
NUM_ANCHORS = 4
ANCHORS = ((8, 24), (11, 34), (16, 48), (23, 68), (32, 96), (45, 135), (64, 192), (90, 271),
           (128, 384), (180, 540), (256, 640), (512, 640))
LEAKY_SLOPE = 0.1
BN_EPS = 1e-5

SPLITS: dict[str, tuple[int, ...]] = {"tvd": (36, 61, 74), "hieve": (105, 90, 75)}


@dataclass(frozen=True)
class Layer:
    """One layer: ``kind`` conv | shortcut | route | upsample | yolo; ``inputs`` absolute layer indices
    (-1: the network input); conv: ``cout``, ``k``, ``stride``, ``bn`` (BatchNorm, no bias) and
    ``leaky``; yolo: ``anchor_mask`` (indices into ``ANCHORS``)."""

    kind: str
    inputs: tuple[int, ...]
    cout: int = 0
    k: int = 0
    stride: int = 1
    bn: bool = False
    leaky: bool = False
    anchor_mask: tuple[int, ...] = ()


def _build() -> tuple[Layer, ...]:
    layers: list[Layer] = []

    def conv(cout: int, k: int, stride: int = 1, bn: bool = True, src: int | None = None) -> int:
        i = len(layers)
        layers.append(Layer("conv", (i - 1 if src is None else src,), cout, k, stride, bn, bn))
        return i

    def add(kind: str, inputs: tuple[int, ...], **kw) -> int:
        layers.append(Layer(kind, inputs, **kw))
        return len(layers) - 1

    # Darknet-53: conv 32, then per stage a stride-2 conv and residual blocks (1x1 c/2, 3x3 c, shortcut)
    conv(32, 3)
    for cout, blocks in ((64, 1), (128, 2), (256, 8), (512, 8), (1024, 4)):
        conv(cout, 3, 2)
        for _ in range(blocks):
            conv(cout // 2, 1)
            conv(cout, 3)
            i = len(layers)
            add("shortcut", (i - 1, i - 3))
    assert len(layers) == 75  # 0..74
    # three heads: (1x1 c, 3x3 2c) x3, box/conf conv, embedding conv from the fifth conv, yolo
    route_src = 74
    lateral = {1: 61, 2: 36}
    for h, (c, mask) in enumerate(((512, (8, 9, 10, 11)), (256, (4, 5, 6, 7)), (128, (0, 1, 2, 3)))):
        if h > 0:
            r = add("route", (route_src,))  # route -7: the fifth conv of the previous head
            conv(c, 1)
            up = add("upsample", (r + 1,))
            add("route", (up, lateral[h]))
        for _ in range(2):
            conv(c, 1)
            conv(2 * c, 3)
        fifth = conv(c, 1)
        conv(2 * c, 3)
        box = conv(NUM_ANCHORS * 6, 1, bn=False)
        add("route", (fifth,))  # route -3
        emb = conv(EMBEDDING_DIM, 3, bn=False)
        cat = add("route", (box, emb))
        add("yolo", (cat,), anchor_mask=mask)
        route_src = fifth
    assert len(layers) == 116
    return tuple(layers)


LAYERS: tuple[Layer, ...] = _build()
YOLO_LAYERS: tuple[int, ...] = tuple(i for i, lay in enumerate(LAYERS) if lay.kind == "yolo")  # 85, 100, 115


def in_channels() -> list[int]:
    """``[3, C_0, C_1, ...]``: the input's channels, then each layer's output channels."""
    out = [3]
    for lay in LAYERS:
        if lay.kind == "conv":
            out.append(lay.cout)
        elif lay.kind in ("shortcut", "upsample", "yolo"):
            out.append(out[lay.inputs[0] + 1])
        else:  # route
            out.append(sum(out[j + 1] for j in lay.inputs))
    return out


OUT_CHANNELS: tuple[int, ...] = tuple(in_channels()[1:])


def strides() -> list[int]:
    """Each layer's output stride relative to the 1088x608 input."""
    s: list[int] = []
    for lay in LAYERS:
        src = 1 if lay.inputs[0] < 0 else s[lay.inputs[0]]
        if lay.kind == "conv":
            s.append(src * lay.stride)
        elif lay.kind == "upsample":
            s.append(src // 2)
        else:
            s.append(src)
    return s


STRIDES: tuple[int, ...] = tuple(strides())


def output_shape(i: int) -> tuple[int, int, int]:
    """(C, H, W) of layer ``i``'s output for the 1088x608 input."""
    return OUT_CHANNELS[i], INPUT_H // STRIDES[i], INPUT_W // STRIDES[i]


def needed(targets: set[int], given: set[int] = frozenset()) -> list[int]:  # type: ignore[assignment]
    """The layers to compute (ascending) to obtain ``targets`` when the outputs of ``given`` are known."""
    todo, seen = list(targets), set()
    while todo:
        i = todo.pop()
        if i in seen or i in given or i < 0:
            continue
        seen.add(i)
        todo.extend(LAYERS[i].inputs)
    return sorted(seen)


def parse_split(split: str | tuple[int, ...] | list[int]) -> tuple[int, ...]:
    """``"tvd"`` / ``"hieve"`` / ``"36,61,74"`` / a list of ints -> the layer indices (in the given order)."""
    if isinstance(split, str):
        key = split.strip().lower()
        if key in SPLITS:
            return SPLITS[key]
        try:
            layers = tuple(int(x) for x in key.replace("[", "").replace("]", "").split(",") if x.strip())
        except ValueError:
            layers = ()
    else:
        layers = tuple(int(x) for x in split)
    if not layers or any(not 0 <= i < YOLO_LAYERS[-1] for i in layers) or len(set(layers)) != len(layers):
        raise UsageError(f"JDE split {split!r} is not a split set: use tvd ({list(SPLITS['tvd'])}), hieve "
                         f"({list(SPLITS['hieve'])}) or distinct layer indices 0..114 separated by commas.")
    bad = [i for i in layers if LAYERS[i].kind == "yolo"]
    back = needed(set(YOLO_LAYERS), set(layers))
    if bad or 0 in back:
        raise UsageError(f"JDE split layers {list(layers)} do not cut the network in two (the back half would need "
                         "the input image); use tvd or hieve, or a set of layers every detection head depends on.")
    return layers
