"""The classifier head and what training does to any classifier (train.models.classifier)."""

from __future__ import annotations

import pytest

from train.errors import TrainError
from train.models import classifier


@pytest.mark.tf
def test_replace_head_keeps_backbone_weights():
    from train.models.efficientnet import build_model

    net = build_model("efficientnet-b0", 2, image_size=32, weights="none")
    new = classifier.replace_head(net, 5)
    assert new.outputs[0].shape[-1] == 5
    assert classifier.get_backbone(new) is classifier.get_backbone(net)


@pytest.mark.tf
def test_a_model_without_backbone_or_pool_is_a_clear_error():
    import keras

    inp = keras.Input((8, 8, 3))
    net = keras.Model(inp, keras.layers.Dense(2)(keras.layers.Flatten()(inp)), name="plain")
    with pytest.raises(TrainError, match="expected a backbone sub-model"):
        classifier.get_backbone(net)
    with pytest.raises(TrainError, match="expected a layer named 'pool'"):
        classifier.replace_head(net, 3)
    assert classifier.input_size(net) == 8


@pytest.mark.tf
def test_batchnorm_statistics_start_from_one_batch():
    import keras
    import numpy as np

    backbone = keras.Sequential(
        [keras.Input((4, 4, 3)), keras.layers.BatchNormalization(momentum=0.9)], name="backbone"
    )
    net = classifier.from_backbone(backbone, 2, 0.0, "none", "t")
    assert backbone.trainable and backbone.layers[0].momentum == 0.9
    x = np.random.default_rng(0).uniform(0, 255, (8, 4, 4, 3)).astype("float32")

    classifier.init_batchnorm_statistics(net, x)

    bn = backbone.layers[0]
    np.testing.assert_allclose(np.asarray(bn.moving_mean), x.mean(axis=(0, 1, 2)), rtol=1e-4)
    assert bn.momentum == 0.9  # restored after the batch
    assert [layer.name for layer in net.layers[-3:]] == list(classifier.HEAD_LAYERS)


@pytest.mark.parametrize("standardize", [True, False])
def test_per_branch_head_computes_the_same_function_without_a_concatenation(standardize):
    import keras
    import numpy as np

    keras.utils.set_random_seed(1)
    inp = keras.Input((16, 16, 3))
    a = keras.layers.Conv2D(3, 3, activation="relu")(inp)  # a shallow map
    b = keras.layers.Conv2D(5, 3, strides=2)(a)  # a deeper one, another range
    net = classifier.add_head(inp, [a, b], 4, 0.2, "multi", standardize=standardize)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (6, 16, 16, 3)).astype(np.float32)
    if standardize:
        assert classifier.adapt_norm(net, np.asarray(classifier.feature_extractor(net)(x)))

    split = classifier.per_branch_head(net)

    types = {type(layer).__name__ for layer in split.layers}
    assert "Concatenate" not in types and "Add" in types
    np.testing.assert_allclose(
        np.asarray(split(x, training=False)), np.asarray(net(x, training=False)), atol=1e-5
    )


def test_per_branch_head_leaves_a_single_depth_model_as_it_is():
    import keras

    inp = keras.Input((8, 8, 3))
    net = classifier.add_head(inp, keras.layers.Conv2D(2, 3)(inp), 3, 0.2, "one")
    assert classifier.per_branch_head(net) is net
