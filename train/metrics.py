"""Classification metrics: a confusion matrix and the scores read from it.

- :func:`confusion_matrix` and :func:`scores_from_confusion`: NumPy, for the test
  split (accuracy, per-class and macro precision/recall/F1);
- :func:`make_metrics`: the same numbers as Keras metrics compiled into the model.
  Each accumulates the epoch's confusion matrix, so accuracy and macro
  precision/recall/F1 are exact over the epoch (not averages of batch values), for
  train and validation alike. They ignore sample (class) weights, so the
  training-set numbers mean the same as the validation ones.

Macro averages run over the classes that occur in the true or predicted labels
(scikit-learn's default). Keras is imported only when :func:`make_metrics` runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Per-epoch metric names of the compiled model (Keras prefixes "val_" for validation).
METRIC_KINDS = ("accuracy", "precision_macro", "recall_macro", "f1_macro")


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Return the (n_classes, n_classes) int64 confusion matrix: rows true, columns predicted."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(
        n_classes, n_classes
    )


def scores_from_confusion(cm: np.ndarray) -> dict[str, Any]:
    """Accuracy, per-class and macro precision/recall/F1 of a confusion matrix.

    A class with no predictions has precision 0 (and one with no true images
    recall 0), as scikit-learn's ``zero_division=0``. Macro averages run over
    the classes that occur in the true or the predicted labels, as
    scikit-learn's default does.

    Returns
    -------
    dict
        ``accuracy``, ``precision_macro``, ``recall_macro``, ``f1_macro`` (float)
        and ``precision``, ``recall``, ``f1`` ((k,) float64 arrays).
    """
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    n_pred, n_true = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, n_pred, out=np.zeros_like(tp), where=n_pred > 0)
    recall = np.divide(tp, n_true, out=np.zeros_like(tp), where=n_true > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    present = (n_pred + n_true) > 0
    k = max(int(present.sum()), 1)
    return {
        "accuracy": float(tp.sum() / max(cm.sum(), 1.0)),
        "precision_macro": float(precision[present].sum() / k),
        "recall_macro": float(recall[present].sum() / k),
        "f1_macro": float(f1[present].sum() / k),
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def make_metrics(n_classes: int) -> list:
    """Return the compiled per-epoch metrics: accuracy, macro precision, recall, F1."""
    return [_confusion_metric_class()(n_classes, kind) for kind in METRIC_KINDS]


_CONFUSION_METRIC = None


def _confusion_metric_class():
    # Built lazily so that importing train.metrics does not import Keras.
    global _CONFUSION_METRIC
    if _CONFUSION_METRIC is not None:
        return _CONFUSION_METRIC
    import keras
    from keras import ops

    class ConfusionMetric(keras.metrics.Metric):
        """Accuracy or macro precision/recall/F1 from a confusion matrix accumulated over an epoch.

        ``y_true`` (b,) or (b, 1) int class indices, or (b, k) target codes whose
        largest entry is the class; ``y_pred`` (b, k) probabilities.
        Sample weights (class weights) are ignored on purpose: the number
        describes the predictions, not the loss.
        """

        def __init__(self, n_classes: int, kind: str, **kwargs):
            super().__init__(name=kind, **kwargs)
            self.n_classes = int(n_classes)
            self.kind = kind
            self.cm = self.add_variable(
                shape=(n_classes, n_classes), initializer="zeros", name="cm"
            )

        def update_state(self, y_true, y_pred, sample_weight=None):
            if len(y_true.shape) == 2 and y_true.shape[-1] == self.n_classes > 1:
                # Target codes of a set objective (train.labelsets.targets): the
                # primary label has the largest code.
                y_true = ops.argmax(y_true, axis=-1)
            t = ops.one_hot(ops.reshape(ops.cast(y_true, "int32"), (-1,)), self.n_classes)
            p = ops.one_hot(ops.argmax(y_pred, axis=-1), self.n_classes)
            self.cm.assign_add(ops.matmul(ops.transpose(t), p))

        def result(self):
            cm = ops.convert_to_tensor(self.cm)
            tp = ops.diagonal(cm)
            n_pred, n_true = ops.sum(cm, axis=0), ops.sum(cm, axis=1)
            if self.kind == "accuracy":
                return ops.sum(tp) / ops.maximum(ops.sum(cm), 1.0)
            precision = tp / ops.maximum(n_pred, 1.0)
            recall = tp / ops.maximum(n_true, 1.0)
            if self.kind == "precision_macro":
                per_class = precision
            elif self.kind == "recall_macro":
                per_class = recall
            else:
                per_class = 2.0 * precision * recall / ops.maximum(precision + recall, 1e-12)
            present = ops.cast((n_pred + n_true) > 0, "float32")
            return ops.sum(per_class * present) / ops.maximum(ops.sum(present), 1.0)

        def reset_state(self):
            self.cm.assign(ops.zeros_like(self.cm))

        def get_config(self):
            return {"n_classes": self.n_classes, "kind": self.kind}

    _CONFUSION_METRIC = ConfusionMetric
    return ConfusionMetric
