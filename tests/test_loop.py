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


def _two_block_features(rng, n: int):
    """Five-direction toy features, the class in both blocks: in the views block direction
    c's 2,048 features are raised for class c, in the normals block (322) feature c."""
    from train.features.views import VIEWS_DIM

    y = np.arange(n, dtype=np.int32) % 5
    views = rng.normal(0.0, 1.0, (n, 5, 2048)).astype(np.float32)
    views[np.arange(n), y] += 0.3
    normals = rng.uniform(0.0, 0.3, (n, 322)).astype(np.float32)
    normals[np.arange(n), y] += 0.4
    return np.hstack([views.reshape(n, VIEWS_DIM), normals]), y


@pytest.mark.tf
def test_the_combined_head_trains_its_parts_apart_and_averages_their_logits():
    """The combined head learns held-out rows; each part has its own curves, and the model is
    the geometric mean of the two parts' probabilities, exactly."""
    from train.models import classifier, create_model

    rng = np.random.default_rng(3)
    x, y = _two_block_features(rng, 200)
    xv, yv = _two_block_features(rng, 100)
    net = create_model("efficientnet-lite0-views-normals", 5, 0, "none", 0.2)
    cfg = TrainConfig(
        model="efficientnet-lite0-views-normals", epochs=40, patience=5, learning_rate=1e-2, seed=0
    )
    head, history = loop.fit_head(net, cfg, (x, y), (xv, yv))
    assert head is net
    for part in ("views", "normals"):
        assert len(history[f"{part}.val_loss"]) >= 1
    assert [len(history[k]) for k in ("loss", "val_loss", "val_accuracy", "val_f1_macro")] == [
        1
    ] * 4
    probs = np.asarray(net(xv), np.float64)
    assert np.mean(np.argmax(probs, axis=1) == yv) >= 0.9  # chance: 0.2
    assert history["val_accuracy"][0] == pytest.approx(np.mean(np.argmax(probs, axis=1) == yv))
    # The geometric mean of the parts (their models share the head's weights; the views
    # part's output layer is the one folded into the head's).
    views_part, normals_part = (m for _, m in classifier.combined_blocks(net))
    kernel, bias = net.get_layer("predictions").get_weights()
    views_part.get_layer("views_predictions").set_weights([2 * kernel[:5], 2 * bias])
    mean = np.sqrt(
        np.asarray(views_part(xv), np.float64) * np.asarray(normals_part(xv), np.float64)
    )
    np.testing.assert_allclose(probs, mean / mean.sum(axis=1, keepdims=True), rtol=1e-4, atol=1e-6)
