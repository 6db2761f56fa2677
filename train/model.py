"""EfficientNetB0-B7 with a small classification head, built by name.

The classifier is::

    input (S, S, 3) float32 0..255
      -> EfficientNetBk backbone (include_top=False; its own Rescaling/Normalization inside)
      -> GlobalMaxPooling2D -> Dropout -> Dense(n_classes, softmax)

Weights (``TrainConfig.weights``):

- ``"imagenet"``: the Keras ImageNet weights (downloaded once to
  ``~/.keras/models/``). The backbone is frozen for phase 1 (the head learns on
  top of ImageNet features); phase 2 (``fine_tune_layers``) unfreezes its top
  layers, BatchNorm layers excepted, at a low learning rate: the Keras
  fine-tuning recipe.
- a path to a ``.h5`` / ``.weights.h5`` file of backbone weights (for example
  ``efficientnetb0_notop.h5`` copied from a machine that has it): treated like
  ``imagenet``, frozen.
- ``"none"``: random initialisation. Then the WHOLE network trains from the
  start: a frozen random backbone would only give the head random features.
  Its BatchNorm momentum is lowered to 0.9 and the moving statistics (used
  at validation and test time) start from a real training batch
  (:func:`init_batchnorm_statistics`), so a small dataset's few hundred
  steps give a model that also works in inference mode.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

from train.config import MODELS, native_size
from train.errors import TrainError

log = logging.getLogger(__name__)

BACKBONE_NAME = "backbone"
HEAD_LAYERS = ("pool", "dropout", "predictions")

# The Keras ImageNet files are called efficientnetb0_notop.h5 ... efficientnetb7_notop.h5.
KERAS_CACHE = "~/.keras/models/"

# ImageNet per-channel std the Keras EfficientNet divides by once more when it
# builds with weights="imagenet" (a quirk of its port, see keras-team/keras
# efficientnet.py); a model loading the same file from a path must do the same.
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def build_backbone(model: str, image_size: int, weights: str):
    """Build an EfficientNet backbone (no top) by registry name.

    Parameters
    ----------
    model : str
        A key of :data:`train.config.MODELS` (``"efficientnet-b0"`` ...).
    image_size : int
        Input size in pixels (square).
    weights : str
        ``"imagenet"``, ``"none"`` or a path to a backbone weights file.

    Returns
    -------
    keras.Model
        Input (None, S, S, 3) float32 0..255, output (None, s, s, c) features.

    Raises
    ------
    TrainError
        When ImageNet weights cannot be fetched (offline) or the weights file
        is missing or does not fit the model.
    """
    import keras

    native_size(model)
    app = getattr(keras.applications, MODELS[model][0])
    shape = (image_size, image_size, 3)
    if weights == "none":
        return app(include_top=False, weights=None, input_shape=shape, name=BACKBONE_NAME)
    if weights == "imagenet":
        try:
            # Keras names the weights file after the model ("<name>_notop.h5"), so the
            # backbone keeps its Keras name while it loads and is renamed after.
            backbone = app(include_top=False, weights="imagenet", input_shape=shape)
            backbone.name = BACKBONE_NAME
            return backbone
        except Exception as exc:  # Keras raises a bare Exception for a failed download
            fname = f"efficientnet{MODELS[model][0][-2:].lower()}_notop.h5"
            raise TrainError(
                f"could not get the ImageNet weights of {model} ({exc}). Without network access, "
                f"pass '--weights none' to train from scratch, or '--weights /path/{fname}' with "
                f"the Keras weights file copied from a machine that has it (Keras caches it in "
                f"{KERAS_CACHE}{fname}; copying it there also works)."
            ) from None
    path = Path(os.path.expanduser(weights))
    if not path.is_file():
        raise TrainError(
            f"weights: expected 'imagenet', 'none' or an existing .h5 file, no such file: {path}"
        )
    backbone = app(include_top=False, weights=None, input_shape=shape, name=BACKBONE_NAME)
    try:
        backbone.load_weights(str(path))
    except Exception as exc:  # h5py / Keras raise various types for a mismatched file
        raise TrainError(
            f"{path}: could not load it as {model} backbone weights (include_top=False): {exc}"
        ) from None
    return backbone


def _is_keras_imagenet_file(weights: str) -> bool:
    name = Path(weights).name
    return name.startswith("efficientnet") and name.endswith("_notop.h5")


def build_model(
    model: str,
    n_classes: int,
    image_size: int | None = None,
    weights: str = "imagenet",
    dropout: float = 0.2,
):
    """Build the classifier: backbone -> global max pooling -> dropout -> softmax.

    Parameters
    ----------
    model : str
        Registry name (``"efficientnet-b0"`` ... ``"efficientnet-b7"``).
    n_classes : int
        Number of outputs.
    image_size : int, optional
        Input size in pixels; default the model's native size.
    weights : str
        ``"imagenet"``, ``"none"`` or a path to a backbone weights file.
        Pretrained backbones are frozen; a random one trains in full.
    dropout : float
        Dropout rate before the output layer.

    Returns
    -------
    keras.Model
        Input (None, S, S, 3) float32 0..255, output (None, n_classes) softmax.
    """
    import keras

    size = int(image_size or native_size(model))
    backbone = build_backbone(model, size, weights)
    inputs = keras.Input((size, size, 3), dtype="float32", name="image")
    x = inputs
    if weights not in ("imagenet", "none") and _is_keras_imagenet_file(weights):
        # Built from a path, Keras leaves out the extra division by sqrt(std)
        # it applies after its Normalization layer for weights="imagenet". An
        # affine map before the backbone does the same: with a = 1/sqrt(std)
        # and b = 255*m*(1 - a), (a*x + b)/255 - m == (x/255 - m) * a.
        scale = [1.0 / math.sqrt(s) for s in _IMAGENET_STD]
        offset = [255.0 * m * (1.0 - a) for m, a in zip(_IMAGENET_MEAN, scale, strict=True)]
        x = keras.layers.Rescaling(scale, offset, name="imagenet_scale")(x)
    x = backbone(x)
    x = keras.layers.GlobalMaxPooling2D(name="pool")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="predictions")(x)
    net = keras.Model(inputs, outputs, name=model.replace("-", "_"))
    if weights == "none":
        backbone.trainable = True
        for layer in backbone.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = 0.9
    else:
        backbone.trainable = False
    return net


def init_batchnorm_statistics(net, images) -> None:
    """Set the BatchNorm moving statistics of a fresh model from one batch of images.

    A randomly initialised EfficientNet starts with moving mean 0 and variance
    1 in every BatchNorm layer, while the real activations of its deep layers
    are orders of magnitude off; with momentum 0.9 the moving values need
    around a hundred steps to catch up, and until then the model predicts one
    class at validation time however well it trains (measured: 36+ steps on a
    trivial two-class set). Starting the moving statistics from a real batch
    removes that lag; no weight changes.

    Parameters
    ----------
    net : keras.Model
        A classifier from :func:`build_model` (weights "none").
    images : (b, S, S, 3) float32, 0..255
        One training batch.
    """
    import keras

    layers = [
        layer
        for layer in _all_layers(net)
        if isinstance(layer, keras.layers.BatchNormalization) and layer.trainable
    ]
    saved = [layer.momentum for layer in layers]
    for layer in layers:
        layer.momentum = 0.0  # moving value := this batch's value
    try:
        net(images, training=True)
    finally:
        for layer, momentum in zip(layers, saved, strict=True):
            layer.momentum = momentum


def _all_layers(net):
    """Yield the layers of ``net``, descending into nested models."""
    import keras

    for layer in net.layers:
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)
        else:
            yield layer


def get_backbone(net):
    """Return the backbone sub-model of a classifier built by :func:`build_model`."""
    import keras

    for layer in net.layers:
        if isinstance(layer, keras.Model):
            return layer
    raise TrainError(f"model {net.name!r}: expected an EfficientNet backbone sub-model, found none")


def freeze_backbone(net) -> None:
    """Freeze the whole backbone (phase 1 of a pretrained model)."""
    get_backbone(net).trainable = False


def unfreeze_top(net, n_layers: int) -> int:
    """Unfreeze the top ``n_layers`` of the backbone, keeping BatchNorm frozen.

    BatchNorm layers stay frozen (and so in inference mode): updating their
    statistics on a small dataset would wreck the pretrained features.

    Returns
    -------
    int
        The number of layers made trainable (BatchNorm layers not counted).
    """
    import keras

    backbone = get_backbone(net)
    backbone.trainable = True
    layers = backbone.layers
    top = set(id(layer) for layer in layers[max(0, len(layers) - n_layers) :])
    count = 0
    for layer in layers:
        trainable = id(layer) in top and not isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = trainable
        count += bool(trainable and layer.weights)
    return count


def replace_head(net, n_classes: int, dropout: float = 0.2):
    """Return a model with ``net``'s layers up to pooling and a new softmax head.

    Used by ``--init-from`` when the class list differs from the run started from.
    """
    import keras

    try:
        pooled = net.get_layer("pool").output
    except ValueError:
        raise TrainError(
            f"model {net.name!r}: expected a layer named 'pool' (a metaview model)"
        ) from None
    x = keras.layers.Dropout(dropout, name="dropout_new")(pooled)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="predictions_new")(x)
    return keras.Model(net.inputs, outputs, name=net.name)


def input_size(net) -> int:
    """Return the square input size (pixels) of a classifier."""
    shape = net.inputs[0].shape
    if shape[1] is None or shape[1] != shape[2]:
        raise TrainError(
            f"model {net.name!r}: expected a square fixed-size input, found {tuple(shape)}"
        )
    return int(shape[1])
