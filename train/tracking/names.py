"""Every name metaview writes into MLflow or looks up there, in one place.

Tags mark a run as metaview's; the selection metric decides "best"; the registered
model and its alias name the champion. The README's "What a run records in MLflow"
lists the rest (params and metrics), which :mod:`train.tracking.run` writes.
"""

from __future__ import annotations

DEFAULT_EXPERIMENT = "metaview"
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"

KIND_TAG = "metaview.kind"  # what made the run: "train" (others, e.g. benchmarks, are ignored)
KIND_TRAIN = "train"
DATASET_TAG = "metaview.dataset"  # absolute path of the dataset folder the run trained on

SELECTION_METRIC = "best_val_f1_macro"  # "best run": highest value ...
TIEBREAK_METRIC = "best_val_loss"  # ... ties: lowest value, then the earlier run

DEFAULT_MODEL_NAME = "metaview"  # registered model whose versions are promoted runs
CHAMPION_ALIAS = "champion"  # alias of the best run's version: models:/metaview@champion

MODEL_ARTIFACT = "model"  # artifact path of the logged Keras model: runs:/<id>/model

#: Per-epoch metric names (step = epoch index from 0), train and validation.
EPOCH_METRICS = (
    "loss",
    "accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "val_loss",
    "val_accuracy",
    "val_precision_macro",
    "val_recall_macro",
    "val_f1_macro",
)

NO_RUNS_HINT = "train one first with: metaview train DATA"
