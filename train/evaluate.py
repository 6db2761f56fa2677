"""Score a trained model: its best epoch, and the test split judged by part.

:func:`score_test_split` is the evaluation step of :func:`train.fit.train`: a part is
judged once, by the mean of its meta-images' probabilities (:func:`per_part`), for
accuracy, macro precision/recall/F1, the confusion matrix, and against each part's
valid set of directions (:func:`train.labelsets.set_scores`). Pure NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from train import labelsets
from train.metrics import confusion_matrix, scores_from_confusion


@dataclass
class Evaluation:
    """The scores of a run's test split, as :func:`score_test_split` gives them.

    Attributes
    ----------
    metrics : dict
        ``best_*`` (:func:`best_epoch_metrics`), ``test_*`` by part (set scores
        included) and ``test_image_accuracy`` (by meta-image), in that order.
    class_scores : dict
        Class name -> its test ``precision``, ``recall``, ``f1`` and set scores.
    confusion : (k, k) int array
        The confusion matrix of the test parts (rows: true class).
    part_rows : list of dict
        The first row of each test part, in order of first appearance.
    part_probs : (n_parts, k) float64
        Each test part's mean probabilities.
    set_scores : dict
        Direction -> its set scores (:func:`train.labelsets.set_scores`).
    top_valid : float
        The fraction of test parts whose top answer is a valid direction.
    """

    metrics: dict[str, float]
    class_scores: dict[str, dict[str, float]]
    confusion: np.ndarray
    part_rows: list[dict[str, Any]]
    part_probs: np.ndarray
    set_scores: dict[str, dict[str, float]]
    top_valid: float


def score_test_split(
    history: dict[str, list[float]],
    rows: list[dict[str, Any]],
    probs: np.ndarray,
    y: np.ndarray,
    masks: np.ndarray,
    labels: list[str],
    multi_label: bool,
) -> Evaluation:
    """Score the test split's predictions, by part, and the run's best epoch.

    Parameters
    ----------
    history : dict
        Per-epoch metric lists (``val_loss``, ``val_accuracy``, ``val_f1_macro``).
    rows : list of dict
        The test split's manifest rows (``part_id``, ``label``).
    probs : (n, k) float64
        The model's probabilities of each row's meta-image.
    y : (n,) int32
        Each row's class index.
    masks : (n, k) bool
        Each row's valid set (its part's), as :func:`train.labelsets.set_masks` gives it.
    labels : list of str
        Class names in model output order.
    multi_label : bool
        The model names a set of directions (``--objective sets``), not its top one alone.

    Returns
    -------
    Evaluation
    """
    metrics = best_epoch_metrics(history)
    # A part is judged once: the mean of its meta-images' probabilities (its variants).
    part_rows, part_probs = per_part(rows, probs)
    index = {label: i for i, label in enumerate(labels)}
    part_y = np.asarray([index[r["label"]] for r in part_rows])
    test_metrics, class_scores, cm = _scores(part_probs, part_y, labels)
    metrics.update(test_metrics)
    # Against each part's valid set: is the top answer a valid direction, and how well
    # does the predicted set match (a softmax model names its top direction alone).
    first = _first_rows(rows)
    set_metrics, set_scores = labelsets.set_scores(part_probs, masks[first], labels, multi_label)
    metrics.update({f"test_{k}": v for k, v in set_metrics.items()})
    for label, scores in set_scores.items():
        class_scores[label].update(scores)
    metrics["test_image_accuracy"] = float(np.mean(probs.argmax(axis=1) == y))
    return Evaluation(
        metrics=metrics,
        class_scores=class_scores,
        confusion=cm,
        part_rows=part_rows,
        part_probs=part_probs,
        set_scores=set_scores,
        top_valid=set_metrics["top_valid"],
    )


def best_epoch_metrics(history: dict[str, list[float]]) -> dict[str, float]:
    val_loss = np.asarray(history["val_loss"], dtype=np.float64)
    val_loss = np.where(np.isfinite(val_loss), val_loss, np.inf)
    best = int(np.argmin(val_loss))
    return {
        "best_epoch": float(best + 1),  # counted from 1, as Keras prints epochs
        "best_val_loss": history["val_loss"][best],
        "best_val_accuracy": history["val_accuracy"][best],
        "best_val_f1_macro": history["val_f1_macro"][best],
    }


def per_part(rows, probs: np.ndarray) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Average the probabilities of each part's meta-images.

    Returns
    -------
    part_rows : list of dict
        The first row of each part, in order of first appearance.
    part_probs : (n_parts, k) float64
    """
    order: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        order.setdefault(r["part_id"], []).append(i)
    part_rows = [rows[idx[0]] for idx in order.values()]
    part_probs = np.stack([probs[idx].mean(axis=0) for idx in order.values()])
    return part_rows, part_probs


def _first_rows(rows) -> list[int]:
    """Index of each part's first row, in the order :func:`per_part` lists the parts."""
    first: dict[str, int] = {}
    for i, r in enumerate(rows):
        first.setdefault(r["part_id"], i)
    return list(first.values())


def _scores(probs: np.ndarray, y_true: np.ndarray, labels):
    """Scores of test-split probabilities (n, k).

    Returns (metrics dict, per-class scores keyed by class name, confusion matrix).
    """
    y_pred = probs.argmax(axis=1)
    cm = confusion_matrix(y_true, y_pred, len(labels))
    s = scores_from_confusion(cm)
    p_true = np.clip(probs[np.arange(len(y_true)), y_true], 1e-7, 1.0)
    metrics = {
        "test_loss": float(-np.mean(np.log(p_true))),
        "test_accuracy": s["accuracy"],
        "test_precision_macro": s["precision_macro"],
        "test_recall_macro": s["recall_macro"],
        "test_f1_macro": s["f1_macro"],
    }
    class_scores = {
        label: {
            "precision": float(s["precision"][i]),
            "recall": float(s["recall"][i]),
            "f1": float(s["f1"][i]),
        }
        for i, label in enumerate(labels)
    }
    return metrics, class_scores, cm
