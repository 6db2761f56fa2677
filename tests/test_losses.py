"""The loss of each objective, against values computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from train.errors import TrainError

pytestmark = pytest.mark.tf

# Two examples over three directions: codes 2 = primary label, 1 = other valid direction.
CODES = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 2.0]], np.float32)
PROBS = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]], np.float32)


def _loss(objective, y, p):
    from train.losses import make_loss

    return np.asarray(make_loss(objective)(y, p), dtype=np.float64)


def test_any_valid_is_minus_log_of_the_mass_on_the_valid_set():
    got = _loss("any-valid", CODES, PROBS)
    np.testing.assert_allclose(got, [-np.log(0.8), -np.log(0.8)], rtol=1e-5)
    # All mass on a valid direction that is not the label costs nothing.
    assert _loss("any-valid", CODES[:1], np.array([[0.0, 1.0, 0.0]], np.float32))[0] < 1e-6
    # None on the set: large but finite (clipped).
    assert 10 < _loss("any-valid", CODES[:1], np.array([[0.0, 0.0, 1.0]], np.float32))[0] < 20


def test_sets_is_the_mean_binary_cross_entropy_against_the_set():
    want = [
        -(np.log(0.5) + np.log(0.3) + np.log(0.8)) / 3,
        -(np.log(0.9) + np.log(0.9) + np.log(0.8)) / 3,
    ]
    np.testing.assert_allclose(_loss("sets", CODES, PROBS), want, rtol=1e-5)


def test_label_is_sparse_cross_entropy_and_unknown_objectives_fail():
    got = float(np.mean(_loss("label", np.array([0, 2]), PROBS)))
    assert got == pytest.approx(-(np.log(0.5) + np.log(0.8)) / 2, rel=1e-5)
    with pytest.raises(TrainError, match="objective"):
        _loss("bogus", CODES, PROBS)


def test_accuracy_metrics_read_the_label_from_the_codes():
    from train.metrics import make_metrics

    acc = make_metrics(3)[0]
    acc.update_state(CODES, np.array([[0.1, 0.8, 0.1], [0.1, 0.1, 0.8]], np.float32))
    # Example 1 picks a valid direction that is not the label: wrong against the label.
    assert float(acc.result()) == pytest.approx(0.5)
