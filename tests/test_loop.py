"""The Keras training loop on its own: whole-network fits on batches of images."""

from __future__ import annotations

import numpy as np
import pytest

from train import loop
from train.config import TrainConfig


@pytest.mark.tf
@pytest.mark.parametrize("init", [True, False])
def test_fit_images_trains_on_batches_and_sets_statistics_from_the_first(
    init, monkeypatch, register_tiny_model
):
    """The public whole-network fit (benchmarks): BatchNorm statistics from batch 1 if asked."""
    import tensorflow as tf

    from train.models import classifier, create_model

    seen = []
    monkeypatch.setattr(classifier, "init_batchnorm_statistics", lambda net, x: seen.append(x))
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (12, 32, 32, 3)).astype(np.float32)
    y = np.arange(12, dtype=np.int32) % 2
    x[y == 1] = np.minimum(x[y == 1] + 200, 255)  # class 1 brighter: max pooling tells them apart
    batches = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    net = create_model(register_tiny_model(), 2, 32, "none", 0.0)
    cfg = TrainConfig(model="test-tiny", epochs=3, patience=3, learning_rate=1e-2, seed=0)
    history = loop.fit_images(net, cfg, batches, batches, init_statistics=init)
    assert len(history["loss"]) == len(history["val_loss"]) == 3
    assert history["loss"][-1] < history["loss"][0]
    if init:
        assert len(seen) == 1
        np.testing.assert_array_equal(np.asarray(seen[0]), x[:4])
    else:
        assert seen == []
