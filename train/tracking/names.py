"""Every name metaview writes into MLflow or looks up there, in one place.

Tags mark a run as metaview's; the selection metric decides "best"; the registered
model and its alias name the champion. docs/train.md's "What a run records in MLflow"
lists the rest (params and metrics), which :mod:`train.tracking.run` writes.

Epochs: a person reads epochs counted from 1 (Keras prints "Epoch 1/30"; the
``best_epoch`` metric, the summary and every plot count the same way). MLflow's
per-epoch ``step`` counts from 0, as MLflow does: step ``s`` is epoch ``s + 1``.
"""

from __future__ import annotations

import re

DEFAULT_EXPERIMENT = "metaview"
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"

KIND_TAG = "metaview.kind"  # what made the run: "train" (others, e.g. benchmarks, are ignored)
KIND_TRAIN = "train"
DATASET_TAG = "metaview.dataset"  # absolute path of the dataset folder the run trained on
DATASET_DIGEST_TAG = "metaview.dataset_digest"  # content digest of that dataset (see log_dataset)
HEARTBEAT_TAG = "metaview.heartbeat"  # Unix time (s) of the run's last sign of life
GIT_COMMIT_TAG = "mlflow.source.git.commit"  # the metaview source's commit (MLflow shows it)
GIT_DIRTY_TAG = "metaview.git_dirty"  # "true" when that source tree had uncommitted changes
ENDED_BY_TAG = "metaview.ended_by"  # set when something other than the run itself ended it

SELECTION_METRIC = "best_val_f1_macro"  # "best run": highest value ...
TIEBREAK_METRIC = "best_val_loss"  # ... ties: lowest value, then the earlier run

MODEL_NAME_PREFIX = "metaview-"  # registered model of experiment E: "metaview-E"
CHAMPION_ALIAS = "champion"  # alias of the best run's version: models:/metaview-E@champion

MODEL_ARTIFACT = "model"  # artifact path of the logged Keras model: runs:/<id>/model
PYFUNC_ARTIFACT = "pyfunc"  # the served form (train.inference.pyfunc), what @champion points at
CLASS_SCORES_ARTIFACT = "class_scores.json"  # per-class test scores keyed by the real class name

HEARTBEAT_INTERVAL_S = 60.0  # a training run refreshes its heartbeat at most this often
STALE_AFTER_MINUTES = 30.0  # a RUNNING run silent for longer is shown as STALE

#: Per-epoch metric names (step = epoch - 1, see above), train and validation.
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

# MLflow refuses "/" and ":" in registered model names; "@" would split models:/NAME@ALIAS.
_MODEL_NAME_UNSAFE = re.compile(r"[/:@]")


def registered_model_name(experiment: str) -> str:
    """The registered model that holds experiment ``experiment``'s champion.

    ``"metaview-" + experiment``, with ``/``, ``:`` and ``@`` (which MLflow model
    names and ``models:/`` URIs cannot hold) replaced by ``_``: each experiment
    has its own champion, so a model trained on other classes or another render
    config never becomes this experiment's ``--model champion``.
    """
    return MODEL_NAME_PREFIX + _MODEL_NAME_UNSAFE.sub("_", experiment)
