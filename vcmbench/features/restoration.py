"""Restoration after decoding: feature-map up-scaling (S1) and image inpainting (S4).

Feature restorers take a *down-scaled, de-quantised* layer ``(C, h, w)`` float32 and the target
``(H, W)`` and return ``(C, H, W)``:

* ``bicubic`` (built in): OpenCV ``INTER_CUBIC`` per channel straight to ``(H, W)``.
* a module: a ``torch.nn.Module`` subclass with plain-data constructor options and a weights file
  (a ``state_dict`` saved by ``torch.save``; loaded with ``weights_only=True``).  Data (study
  settings, ``restoration.json``) names it, never its code: ``network: espcn`` (built in), an
  installed entry point of group ``vcmbench.restorations``, or a class the user gave on the command
  line (``--restoration-module package.module:Class``, matched by class name); the class is checked
  to be a ``torch.nn.Module`` subclass before anything of it is called.  Its ``forward`` takes ``(N, 1, h, w)`` channels normalised to [0, 1]
  with the layer's min/max and returns ``(N, 1, s*h, s*w)``; the result is cropped to ``(H, W)``
  and mapped back to the layer's range.  The signature part is ``Class#<sha256 of the weights, 12>``.
* ``ESPCN``: the small network ``vcmbench study train-restore`` trains — ESPCN (Shi et
  al. 2016: 5x5 conv 32, 3x3 conv 16, 3x3 conv s², pixel shuffle, tanh activations) predicting the
  residual over bicubic up-sampling (PyTorch ``interpolate(mode="bicubic", align_corners=False)``),
  so that an untrained network starts at bicubic quality.  A module whose ``forward`` takes a
  ``size`` keyword is given the target ``(H, W)`` (maps of odd size: ``ceil(H/s)*s != H``); ESPCN
  then resizes its residual (bilinear) to that size.
* ``espcn-multi`` (``LayerESPCN``): the multi-channel variant (the S1 paper's Table 3 setting): per
  layer one ESPCN taking all ``C`` channels of the map as one input ``(1, C, h, w)`` (``in_channels``
  C, ``C·s²`` outputs before the pixel shuffle).  A module with ``multi_channel = True`` is called
  with ``layer=`` and the whole map, normalised with the layer's min/max as above.

Image restorers (occlusion study) take an ``HxWx3`` uint8 picture and an ``HxW`` bool mask:
``inpaint-telea`` / ``inpaint-ns`` (OpenCV ``cv2.inpaint``, radius 5) or a module whose
``forward(image (N,3,H,W) in [0,1], mask (N,1,H,W))`` returns the restored image.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..core.errors import UsageError
from ..core.hashing import file_digest
from ..core.safe_pickle import load_torch_weights
from .distortions import resize_map


def bicubic_restore(feature: np.ndarray, height: int, width: int) -> np.ndarray:
    return resize_map(feature, width, height, "bicubic")


ENTRY_POINT_GROUP = "vcmbench.restorations"
BUILTIN_NETWORKS = ("espcn", "espcn-multi")
ESPCN_IMPORT_PATH = "vcmbench.features.restoration:ESPCN"  # the built-in ESPCN (older restoration.json name it)
PLAIN = (str, int, float, bool, type(None))
CLI_HINT = ("data never names code: name the network (network: espcn, an installed entry point of group "
            f"{ENTRY_POINT_GROUP}, or the class given on the command line with --restoration-module "
            "package.module:Class)")


def plain_options(options: Any, where: str) -> dict[str, Any]:
    """A restoration's options: a mapping of plain data (strings, numbers, booleans, lists, mappings)."""
    if options is None:
        return {}

    def ok(v: Any, depth: int) -> bool:
        if depth > 8:
            return False
        if isinstance(v, PLAIN):
            return True
        if isinstance(v, (list, tuple)):
            return all(ok(x, depth + 1) for x in v)
        if isinstance(v, dict):
            return all(isinstance(k, str) and ok(x, depth + 1) for k, x in v.items())
        return False

    if not isinstance(options, dict) or not ok(options, 0):
        raise UsageError(f"{where}: restoration options must be a mapping of plain data (strings, numbers, booleans, "
                         "lists, mappings, at most 8 deep); fix them.")
    return dict(options)


def _module_class(obj: Any, label: str) -> type:
    """``obj`` if it is a ``torch.nn.Module`` subclass (checked before anything of it is called)."""
    import torch

    if not (isinstance(obj, type) and issubclass(obj, torch.nn.Module)):
        what = obj.__name__ if isinstance(obj, type) else type(obj).__name__
        raise UsageError(f"{label} is {what}, not a torch.nn.Module subclass; a restoration plug-in must be one "
                         "(nothing of it was called).")
    return obj


def import_plugin(path: str) -> type:
    """The class ``package.module:Class`` the user gave on the command line (``--restoration-module``)."""
    mod_name, sep, attr = str(path).partition(":")
    if not sep or not mod_name or not attr:
        raise UsageError(f"Restoration module {path!r} must be written 'package.module:Class'.")
    if path == ESPCN_IMPORT_PATH:
        return _module_class(__getattr__("ESPCN"), f"Restoration module {path!r}")
    try:
        mod = importlib.import_module(mod_name)
    except ImportError as exc:
        raise UsageError(f"Cannot import restoration module {mod_name!r} ({exc}); install it or fix the import path.") from None
    try:
        obj = getattr(mod, attr)
    except AttributeError:
        raise UsageError(f"Module {mod_name!r} has no {attr!r}; check the restoration import path.") from None
    return _module_class(obj, f"Restoration module {path!r}")


def network_class(name: str) -> type:
    """A restoration network named by data: built in (``espcn``) or an installed entry point."""
    if str(name).lower() == "espcn":
        return __getattr__("ESPCN")
    if str(name).lower() == "espcn-multi":
        return __getattr__("LayerESPCN")
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            return _module_class(ep.load(), f"Entry point {name!r} ({ep.value})")
    raise UsageError(f"Unknown restoration network {name!r}: it is neither built in ({', '.join(BUILTIN_NETWORKS)}) "
                     f"nor an installed entry point of group {ENTRY_POINT_GROUP}; give its class on the command line "
                     "with --restoration-module package.module:Class.")


def resolve_spec(entry: Any, plugins: tuple[str, ...] | list[str] = (), where: str = "restoration") -> Any:
    """A restoration read from data (study settings, ``restoration.json``) as the spec the studies run.

    A string is a method name; a mapping names its network (``network: NAME``: ``espcn``, a class given
    with ``--restoration-module`` — ``plugins``, matched by class name — or an installed entry point),
    its ``weights`` and plain-data ``options``.  A mapping that names code (``module: pkg.mod:Class``) is
    refused, except the built-in ESPCN's own path that older ``restoration.json`` files carry."""
    if isinstance(entry, str):
        return entry
    if not isinstance(entry, dict):
        raise UsageError(f"{where}: a restoration is a method name or a mapping (network, weights, options); "
                         f"got {type(entry).__name__}.")
    unknown = sorted(set(entry) - {"method", "network", "module", "weights", "options", "info"})
    if unknown:
        raise UsageError(f"{where}: unknown restoration keys {unknown}; use network, weights and options.")
    if not isinstance(entry.get("weights"), str) or not entry["weights"]:
        raise UsageError(f"{where}: a module restoration needs 'weights: FILE' (a state_dict saved by torch.save).")
    out: dict[str, Any] = {"method": "module", "weights": entry["weights"],
                           "options": plain_options(entry.get("options"), where)}
    if entry.get("info") is not None:  # how it was trained (train-restore): labels the study's tables
        out["info"] = plain_options(entry["info"], where)
    module = entry.get("module")
    if module is not None and module != ESPCN_IMPORT_PATH:
        raise UsageError(f"{where} names code to import ({module!r}); {CLI_HINT}.")
    name = "espcn" if module is not None else entry.get("network")
    if not isinstance(name, str) or not name:
        raise UsageError(f"{where}: a module restoration needs 'network: NAME' ({CLI_HINT}).")
    plugin = next((p for p in plugins if str(p).rpartition(":")[2] == name), None)
    if plugin is not None:
        out["module"] = str(plugin)
    elif name.lower() == "espcn":
        out["module"] = ESPCN_IMPORT_PATH  # a constant of this package, never a name from the data
    else:
        network_class(name)  # refused now, with the reason, if it is not installed
        out["network"] = name
    return out


def spec_class(spec: Mapping[str, Any]) -> type:
    """The class of a resolved spec (``module``: a command-line path or the built-in; ``network``: an entry point)."""
    return import_plugin(spec["module"]) if spec.get("module") else network_class(spec["network"])


def load_module(target: str | type, weights: str | Path | None, options: Mapping[str, Any] | None = None):
    """Build ``target(**options)`` and load its state_dict from ``weights`` (eval mode, CPU).

    ``target``: a ``torch.nn.Module`` subclass, or its command-line import path ``package.module:Class``."""
    cls = import_plugin(target) if isinstance(target, str) else _module_class(target, f"Restoration {target!r}")
    label = target if isinstance(target, str) else cls.__name__
    try:
        net = cls(**plain_options(dict(options or {}), f"Restoration {label!r}"))
    except TypeError as exc:
        raise UsageError(f"Bad options for restoration module {label!r}: {exc}.") from None
    if weights is not None:
        p = Path(weights)
        if not p.is_file():
            raise UsageError(f"Restoration weights {p} do not exist; train them with `vcmbench study train-restore` "
                             "or give the right file.")
        state = load_torch_weights(p, "Restoration weights")
        if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
            state = state["model"]
        try:
            net.load_state_dict(state)
        except RuntimeError as exc:
            raise UsageError(f"Weights {p} do not fit {label!r}: {str(exc).splitlines()[0]}") from None
    return net.eval()


class FeatureRestorer:
    """``bicubic`` or a torch module (see the module docstring)."""

    def __init__(self, spec: Mapping[str, Any] | str | None) -> None:
        spec = {"method": spec} if isinstance(spec, str) or spec is None else dict(spec)
        self.method = spec.get("method") or ("module" if spec.get("module") else "bicubic")
        self.net = None
        self.weights_sha = ""
        if self.method == "bicubic":
            return
        if self.method != "module":
            raise UsageError(f"Unknown restoration {self.method!r}; use 'bicubic' or a network (network: espcn, "
                             "weights: FILE; or a class given with --restoration-module package.module:Class).")
        if not (spec.get("module") or spec.get("network")) or not spec.get("weights"):
            raise UsageError("A module restoration needs 'network: NAME' (or --restoration-module package.module:Class) "
                             "and 'weights: FILE'.")
        cls = spec_class(spec)
        self.class_name = cls.__name__
        self.net = load_module(cls, spec["weights"], spec.get("options"))
        self.weights_sha = file_digest(spec["weights"], "sha256")

    def signature(self) -> str:
        if self.net is None:
            return "bicubic"
        return f"{self.class_name}#{self.weights_sha[:12]}"

    def params(self) -> int:
        return 0 if self.net is None else int(sum(p.numel() for p in self.net.parameters()))

    def __call__(self, feature: np.ndarray, height: int, width: int, layer: str | None = None) -> np.ndarray:
        if self.net is None:
            return bicubic_restore(feature, height, width)
        return module_restore(self.net, feature, height, width, layer)


def module_restore(net, feature: np.ndarray, height: int, width: int, layer: str | None = None) -> np.ndarray:
    """``net`` on one layer ``(C, h, w)``, normalised to [0, 1] with the layer's min/max: channel by channel
    (``(C, 1, h, w)``), or all channels as one input (``(1, C, h, w)``, a module with ``multi_channel = True``,
    given ``layer=``)."""
    import inspect

    import torch

    f = np.asarray(feature, np.float32)
    lo, hi = float(f.min()), float(f.max())
    span = hi - lo if hi > lo else 1.0
    multi = bool(getattr(net, "multi_channel", False))
    x = torch.from_numpy((f - lo) / span)
    x = x[None] if multi else x[:, None]
    params = inspect.signature(net.forward).parameters
    kw = {"size": (height, width)} if "size" in params else {}
    if multi:
        kw["layer"] = layer
    with torch.no_grad():
        y = net(x, **kw)
        y = (y[0] if multi else y[:, 0]).numpy()
    if y.shape[1] < height or y.shape[2] < width:
        return bicubic_restore(y * span + lo, height, width)
    return np.ascontiguousarray(y[:, :height, :width] * span + lo, dtype=np.float32)


def _build_espcn():
    import torch
    import torch.nn.functional as F

    class ESPCN(torch.nn.Module):
        """ESPCN residual over bicubic (see the module docstring); ``in_channels`` channels in and out."""

        def __init__(self, scale: int = 2, width: int = 32, in_channels: int = 1) -> None:
            super().__init__()
            self.scale = int(scale)
            c = int(in_channels)
            self.c1 = torch.nn.Conv2d(c, width, 5, padding=2)
            self.c2 = torch.nn.Conv2d(width, width // 2, 3, padding=1)
            self.c3 = torch.nn.Conv2d(width // 2, c * self.scale ** 2, 3, padding=1)
            torch.nn.init.zeros_(self.c3.weight)
            torch.nn.init.zeros_(self.c3.bias)

        def forward(self, x, size=None):
            size = tuple(size) if size is not None else (x.shape[-2] * self.scale, x.shape[-1] * self.scale)
            base = F.interpolate(x, size=size, mode="bicubic", align_corners=False)
            r = torch.tanh(self.c1(x))
            r = torch.tanh(self.c2(r))
            r = F.pixel_shuffle(self.c3(r), self.scale)
            if tuple(r.shape[-2:]) != size:
                r = F.interpolate(r, size=size, mode="bilinear", align_corners=False)
            return base + r

    class LayerESPCN(torch.nn.Module):
        """Multi-channel restoration (the S1 paper's Table 3 setting): per layer one ESPCN whose input is all
        ``channels[layer]`` channels of the map at once, ``(1, C, h, w)`` -> ``(1, C, H, W)``."""

        multi_channel = True

        def __init__(self, scale: int = 2, width: int = 32, channels: dict | None = None) -> None:
            super().__init__()
            if not isinstance(channels, dict) or not channels:
                raise TypeError("LayerESPCN needs channels: {layer: number of channels}")
            self.scale = int(scale)
            self.layers = torch.nn.ModuleDict({str(k): ESPCN(scale, width, int(c)) for k, c in channels.items()})

        def forward(self, x, size=None, layer=None):
            if layer is None and len(self.layers) == 1:
                layer = next(iter(self.layers))
            if layer not in self.layers:
                raise KeyError(f"LayerESPCN has no branch for layer {layer!r} (has {', '.join(self.layers)})")
            return self.layers[layer](x, size=size)

    return ESPCN, LayerESPCN


def __getattr__(name: str):  # lazy: torch is imported only when the class is asked for
    if name in ("ESPCN", "LayerESPCN"):
        espcn, layer_espcn = _build_espcn()
        globals().update(ESPCN=espcn, LayerESPCN=layer_espcn)
        return globals()[name]
    raise AttributeError(name)



def gmacs(net, in_shape: tuple[int, ...], **kwargs) -> float:
    """Multiply-accumulates (G) of the Conv2d layers of ``net`` for one input of ``in_shape`` (N, C, H, W)
    (``kwargs`` go to its forward, e.g. ``layer=`` of a multi-channel network)."""
    import torch

    total = [0]

    def hook(mod, inp, out):
        k = mod.kernel_size[0] * mod.kernel_size[1] * (mod.in_channels // mod.groups)
        total[0] += int(out.numel()) * k

    hs = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    try:
        with torch.no_grad():
            net(torch.zeros(in_shape), **kwargs)
    finally:
        for h in hs:
            h.remove()
    return total[0] / 1e9


# -- images (occlusion study) ------------------------------------------------------------------------------
IMAGE_RESTORERS = ("none", "inpaint-telea", "inpaint-ns")


def restore_image(rgb: np.ndarray, mask: np.ndarray, method: str = "inpaint-telea", net=None, radius: int = 5) -> np.ndarray:
    """Fill the masked pixels of ``rgb`` (see the module docstring)."""
    import cv2

    if net is not None:
        import torch

        x = torch.from_numpy(rgb.astype(np.float32) / 255.0).permute(2, 0, 1)[None]
        m = torch.from_numpy(mask.astype(np.float32))[None, None]
        with torch.no_grad():
            y = net(x, m)[0].permute(1, 2, 0).numpy()
        return np.clip(np.rint(y * 255.0), 0, 255).astype(np.uint8)
    if method == "none":
        return rgb.copy()
    flags = {"inpaint-telea": cv2.INPAINT_TELEA, "inpaint-ns": cv2.INPAINT_NS}.get(method)
    if flags is None:
        raise UsageError(f"Unknown image restoration {method!r}; use one of {', '.join(IMAGE_RESTORERS)} or a module.")
    return cv2.inpaint(np.ascontiguousarray(rgb), mask.astype(np.uint8) * 255, radius, flags)
