"""EfficientNetB0-B7 (Keras applications) as metaview classifiers.

The classifier is the one of :mod:`train.models.classifier`::

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
  (:func:`train.models.classifier.init_batchnorm_statistics`), so a small
  dataset's few hundred steps give a model that also works in inference mode.

:data:`VARIANTS` is what :mod:`train.models` registers as ``efficientnet-b0`` ...
``efficientnet-b7``. Keras is imported inside the functions, so the registry stays
cheap to import.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

from train.errors import TrainError
from train.models.classifier import BACKBONE_NAME, add_head, set_trainable_for_weights

log = logging.getLogger(__name__)

#: name -> (Keras application class name, native input size in pixels).
VARIANTS: dict[str, tuple[str, int]] = {
    "efficientnet-b0": ("EfficientNetB0", 224),
    "efficientnet-b1": ("EfficientNetB1", 240),
    "efficientnet-b2": ("EfficientNetB2", 260),
    "efficientnet-b3": ("EfficientNetB3", 300),
    "efficientnet-b4": ("EfficientNetB4", 380),
    "efficientnet-b5": ("EfficientNetB5", 456),
    "efficientnet-b6": ("EfficientNetB6", 528),
    "efficientnet-b7": ("EfficientNetB7", 600),
}

# Keras keeps downloaded weights here, as efficientnetb0_notop.h5 ... efficientnetb7_notop.h5.
KERAS_CACHE = "~/.keras/models/"
KERAS_WEIGHTS_URL = "https://storage.googleapis.com/keras-applications/"

# ImageNet per-channel mean and std of pixels scaled to [0, 1]: the normalisation inside
# the Keras EfficientNet. It divides by sqrt(std) once more when built with
# weights="imagenet" (a quirk of its port, see keras-team/keras efficientnet.py); a model
# loading the same file from a path must do the same.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _variant(model: str) -> tuple[str, int]:
    try:
        return VARIANTS[model]
    except KeyError:
        raise TrainError(f"model: expected one of {', '.join(VARIANTS)}, got {model!r}") from None


def weights_file(model: str) -> str:
    """The Keras ImageNet weights file of ``model``: ``efficientnetb0_notop.h5`` ..."""
    return f"efficientnet{_variant(model)[0][-2:].lower()}_notop.h5"


def build_backbone(model: str, image_size: int, weights: str):
    """Build an EfficientNet backbone (no top) by name.

    Parameters
    ----------
    model : str
        A key of :data:`VARIANTS` (``"efficientnet-b0"`` ...).
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

    app = getattr(keras.applications, _variant(model)[0])
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
            fname = weights_file(model)
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
        ``"efficientnet-b0"`` ... ``"efficientnet-b7"``.
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

    size = int(image_size or _variant(model)[1])
    backbone = build_backbone(model, size, weights)
    inputs = keras.Input((size, size, 3), dtype="float32", name="image")
    x = inputs
    if weights not in ("imagenet", "none") and _is_keras_imagenet_file(weights):
        # Built from a path, Keras leaves out the extra division by sqrt(std)
        # it applies after its Normalization layer for weights="imagenet". An
        # affine map before the backbone does the same: with a = 1/sqrt(std)
        # and b = 255*m*(1 - a), (a*x + b)/255 - m == (x/255 - m) * a.
        scale = [1.0 / math.sqrt(s) for s in IMAGENET_STD]
        offset = [255.0 * m * (1.0 - a) for m, a in zip(IMAGENET_MEAN, scale, strict=True)]
        x = keras.layers.Rescaling(scale, offset, name="imagenet_scale")(x)
    net = add_head(inputs, backbone(x), n_classes, dropout, name=model.replace("-", "_"))
    set_trainable_for_weights(net, weights)
    return net
