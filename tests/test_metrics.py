"""Confusion matrix and scores (NumPy), and the per-epoch Keras metrics that must match them."""

from __future__ import annotations

import numpy as np
import pytest

from train import metrics


def test_scores_from_confusion_by_hand():
    cm = np.array([[3, 1, 0], [0, 2, 0], [0, 0, 0]])  # class 2 never occurs nor is predicted
    s = metrics.scores_from_confusion(cm)
    assert s["accuracy"] == pytest.approx(5 / 6)
    np.testing.assert_allclose(s["precision"], [1.0, 2 / 3, 0.0])
    np.testing.assert_allclose(s["recall"], [3 / 4, 1.0, 0.0])
    f1 = [2 * 1 * 0.75 / 1.75, 2 * (2 / 3) * 1.0 / (2 / 3 + 1.0)]
    assert s["precision_macro"] == pytest.approx((1 + 2 / 3) / 2)  # absent class 2 left out
    assert s["recall_macro"] == pytest.approx((0.75 + 1.0) / 2)
    assert s["f1_macro"] == pytest.approx(sum(f1) / 2)
    # A class predicted but never true counts (precision 0).
    s2 = metrics.scores_from_confusion(np.array([[1, 1], [0, 0]]))
    assert s2["precision_macro"] == pytest.approx(0.5)


def test_confusion_matrix_rows_true_columns_predicted():
    cm = metrics.confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 0]), 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 0]])


@pytest.mark.tf
def test_keras_epoch_metrics_equal_numpy_over_several_batches():
    rng = np.random.default_rng(0)
    k = 4
    compiled = metrics.make_metrics(k)
    y_all, p_all = [], []
    for _ in range(5):
        y = rng.integers(0, k, 7)
        p = rng.dirichlet(np.ones(k), 7).astype(np.float32)
        for m in compiled:
            m.update_state(y.reshape(-1, 1), p, sample_weight=np.full(7, 3.0))  # weights ignored
        y_all.append(y)
        p_all.append(p)
    s = metrics.scores_from_confusion(
        metrics.confusion_matrix(np.concatenate(y_all), np.concatenate(p_all).argmax(1), k)
    )
    for m in compiled:
        assert float(m.result()) == pytest.approx(s[m.name], abs=1e-6), m.name
    compiled[0].reset_state()
    assert float(compiled[0].result()) == 0.0
