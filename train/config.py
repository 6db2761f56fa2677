"""``TrainConfig``: the frozen, validated configuration of one training run.

Pure Python: importing it costs nothing, so the CLI builds (and validates) a
config before TensorFlow is imported.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Any

from train.errors import TrainError

#: The model registry: name -> (Keras application class name, native input size in pixels).
MODELS: dict[str, tuple[str, int]] = {
    "efficientnet-b0": ("EfficientNetB0", 224),
    "efficientnet-b1": ("EfficientNetB1", 240),
    "efficientnet-b2": ("EfficientNetB2", 260),
    "efficientnet-b3": ("EfficientNetB3", 300),
    "efficientnet-b4": ("EfficientNetB4", 380),
    "efficientnet-b5": ("EfficientNetB5", 456),
    "efficientnet-b6": ("EfficientNetB6", 528),
    "efficientnet-b7": ("EfficientNetB7", 600),
}


def native_size(model: str) -> int:
    """Return the native input size (pixels) of a registered model name."""
    try:
        return MODELS[model][1]
    except KeyError:
        raise TrainError(f"model: expected one of {', '.join(MODELS)}, got {model!r}") from None


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides what a training run does; logged as MLflow params.

    ``image_size = 0`` means "the model's native size" (or, with ``init_from``,
    the input size of the model started from); ``learning_rate = 0`` means 1e-3
    when only the head trains (frozen pretrained backbone) and 1e-4 when the
    whole network trains from scratch (1e-3 does not train B0 from scratch:
    measured at chance for 20 epochs). :func:`train.fit.train` logs the
    resolved values.
    """

    model: str = "efficientnet-b0"  # a key of MODELS
    image_size: int = 0  # model input in pixels (square); 0 = the model's native size
    weights: str = "imagenet"  # "imagenet" | "none" | path to a .h5 / .weights.h5 backbone file
    epochs: int = 30  # maximum epochs of phase 1 (early stopping may end it sooner)
    batch_size: int = 16  # images per training step
    learning_rate: float = 0.0  # Adam LR of phase 1; 0 = auto (1e-3 frozen backbone, 1e-4 scratch)
    dropout: float = 0.2  # dropout rate before the softmax layer
    patience: int = 5  # early stopping: epochs without val_loss improvement
    lr_patience: int = 2  # ReduceLROnPlateau: epochs without improvement before the LR drops
    lr_factor: float = 0.5  # ReduceLROnPlateau: factor applied to the LR
    min_learning_rate: float = 1e-6  # ReduceLROnPlateau: floor of the LR
    fine_tune_layers: int = 0  # phase 2: unfreeze the top N backbone layers (0 = no phase 2)
    fine_tune_epochs: int = 10  # phase 2: maximum epochs
    fine_tune_learning_rate: float = 1e-5  # phase 2: Adam learning rate (low, as Keras advises)
    shuffle_tiles: bool = True  # tile-shuffle augmentation on the training split
    class_weights: bool = True  # weight the loss by inverse class frequency of the training split
    val_fraction: float = 0.15  # fraction of each class's parts for validation
    test_fraction: float = 0.15  # fraction of each class's parts for test (unless test_parts.txt)
    seed: int = 0  # seeds the split, the weights initialisation and the augmentation
    init_from: str = ""  # MLflow run id whose model training starts from ("" = none)

    def __post_init__(self) -> None:
        native_size(self.model)  # raises for an unknown model
        _check_int(self, "image_size", 0)
        if 0 < self.image_size < 32:
            raise TrainError(
                f"image_size: expected 0 (native) or at least 32 pixels, got {self.image_size}"
            )
        if not isinstance(self.weights, str) or not self.weights:
            raise TrainError(
                f"weights: expected 'imagenet', 'none' or a file path, got {self.weights!r}"
            )
        if self.weights not in ("imagenet", "none") and not self.weights.endswith(".h5"):
            raise TrainError(
                f"weights: expected 'imagenet', 'none' or a path to a .h5 / .weights.h5 file, "
                f"got {self.weights!r}"
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
