"""Scoring a trained model (:mod:`train.evaluate`): its best epoch, and the test split
judged by part (a part's meta-images averaged), not by meta-image."""

from __future__ import annotations

import numpy as np
import pytest

from train import labelsets
from train.evaluate import best_epoch_metrics, per_part, score_test_split

LABELS = ["x_plus", "y_plus"]


def _history(val_loss):
    n = len(val_loss)
    return {
        "val_loss": list(val_loss),
        "val_accuracy": [0.1 * (i + 1) for i in range(n)],
        "val_f1_macro": [0.05 * (i + 1) for i in range(n)],
    }


def test_best_epoch_is_the_lowest_finite_val_loss_counted_from_one():
    history = _history([0.9, float("nan"), 0.4, 0.5, float("inf")])
    best = best_epoch_metrics(history)
    assert best["best_epoch"] == 3.0  # the third epoch (index 2): NaN never wins
    assert best["best_val_loss"] == history["val_loss"][2]
    assert best["best_val_accuracy"] == history["val_accuracy"][2]
    assert best["best_val_f1_macro"] == history["val_f1_macro"][2]


def test_per_part_averages_each_parts_variants_in_order_of_first_appearance():
    rng = np.random.default_rng(0)
    ids = ["b", "a", "b", "c", "a", "b"]
    rows = [{"part_id": p, "label": "x_plus", "n": i} for i, p in enumerate(ids)]
    probs = rng.dirichlet([1.0, 1.0, 1.0], size=len(rows))
    part_rows, part_probs = per_part(rows, probs)
    assert [r["n"] for r in part_rows] == [0, 1, 3]  # each part's first row
    for row, p in zip(part_rows, part_probs, strict=True):
        mine = [i for i, pid in enumerate(ids) if pid == row["part_id"]]
        np.testing.assert_allclose(p, probs[mine].mean(axis=0))


def test_the_test_split_is_scored_by_part_and_against_valid_sets():
    """Part a (x_plus): one variant right, one wrong, right on average; part b (y_plus):
    right; part c (y_plus): both variants wrong, but c is valid from x_plus too."""
    rows = [
        {"part_id": "a", "label": "x_plus"},
        {"part_id": "b", "label": "y_plus"},
        {"part_id": "a", "label": "x_plus"},
        {"part_id": "c", "label": "y_plus"},
        {"part_id": "c", "label": "y_plus"},
    ]
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3], [0.6, 0.4]])
    y = np.array([LABELS.index(r["label"]) for r in rows])
    valid = labelsets.ValidSets("reach.csv", {"c": ("x_plus", "y_plus")})
    masks, _ = labelsets.set_masks(
        [r["part_id"] for r in rows], [r["label"] for r in rows], LABELS, valid
    )
    ev = score_test_split(_history([0.5, 0.3]), rows, probs, y, masks, LABELS, False)

    assert [r["part_id"] for r in ev.part_rows] == ["a", "b", "c"]
    np.testing.assert_allclose(ev.part_probs[0], [0.65, 0.35])
    assert ev.confusion.sum() == 3  # one count per part, not per meta-image
    np.testing.assert_array_equal(ev.confusion, [[1, 0], [1, 1]])  # rows: true class
    m = ev.metrics
    assert m["test_accuracy"] == pytest.approx(2 / 3)  # a and b
    assert m["test_image_accuracy"] == pytest.approx(2 / 5)  # a's first variant and b
    p_true = [0.65, 0.8, 0.35]  # each part's mean probability of its label
    assert m["test_loss"] == pytest.approx(-np.mean(np.log(p_true)))
    # c's top answer (x_plus) is valid for it: every part's top answer is valid.
    assert ev.top_valid == m["test_top_valid"] == 1.0
    assert m["best_epoch"] == 2.0
    keys = list(m)
    assert keys[0].startswith("best_") and keys[-1] == "test_image_accuracy"
    # x_plus is named for a and c, right for a only: precision 1/2, recall 1/1.
    assert ev.class_scores["x_plus"]["precision"] == pytest.approx(0.5)
    assert ev.class_scores["x_plus"]["recall"] == pytest.approx(1.0)
    assert ev.class_scores["x_plus"]["set_precision"] == pytest.approx(1.0)  # valid for both
    assert set(ev.set_scores) == set(LABELS)
