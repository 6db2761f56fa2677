"""EfficientNetB0-B7: the classifier, and every source of weights (train.models.efficientnet)."""

from __future__ import annotations

import numpy as np
import pytest

from train.errors import TrainError
from train.models import classifier, efficientnet


@pytest.mark.tf
def test_build_from_scratch_trains_everything_with_max_pooling():
    import keras

    net = efficientnet.build_model("efficientnet-b0", 3, image_size=32, weights="none", dropout=0.3)
    assert tuple(net.inputs[0].shape) == (None, 32, 32, 3)
    assert isinstance(net.get_layer("pool"), keras.layers.GlobalMaxPooling2D)
    assert net.get_layer("dropout").rate == 0.3
    backbone = classifier.get_backbone(net)
    assert backbone.trainable and all(layer.trainable for layer in backbone.layers)
    assert len(net.trainable_weights) > 200  # every conv, BatchNorm scale and bias
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    y = net.predict(x, verbose=0)
    assert y.shape == (2, 3)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)
    assert classifier.input_size(net) == 32


@pytest.mark.tf
def test_local_weights_file_loads_equal_and_backbone_is_frozen(tmp_path):
    random_backbone = efficientnet.build_backbone("efficientnet-b0", 32, "none")
    path = tmp_path / "b0_random.weights.h5"
    random_backbone.save_weights(str(path))
    net = efficientnet.build_model("efficientnet-b0", 2, image_size=32, weights=str(path))
    loaded = classifier.get_backbone(net)
    assert len(loaded.weights) == len(random_backbone.weights) > 100
    for a, b in zip(random_backbone.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not loaded.trainable and not loaded.trainable_weights
    assert len(net.trainable_weights) == 2  # the Dense head only

    # Phase 2: the top layers train again, BatchNorm stays frozen.
    import keras

    n = classifier.unfreeze_top(net, 20)
    assert n > 0
    top = loaded.layers[-20:]
    assert any(layer.trainable for layer in top)
    for layer in loaded.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            assert not layer.trainable
        elif layer not in top:
            assert not layer.trainable


@pytest.mark.tf
def test_missing_or_wrong_weights_file_is_a_clear_error(tmp_path):
    with pytest.raises(TrainError, match="no such file"):
        efficientnet.build_model("efficientnet-b0", 2, 32, str(tmp_path / "nope.h5"))
    other = efficientnet.build_backbone("efficientnet-b1", 32, "none")
    path = tmp_path / "b1.weights.h5"
    other.save_weights(str(path))
    with pytest.raises(TrainError, match="could not load it as efficientnet-b0"):
        efficientnet.build_model("efficientnet-b0", 2, 32, str(path))


@pytest.mark.tf
def test_offline_imagenet_says_what_to_do(monkeypatch):
    from keras.src.utils import file_utils

    def offline(*args, **kwargs):
        raise Exception(  # what Keras raises for a failed download
            "URL fetch failure on https://storage.googleapis.com/keras-applications/"
            "efficientnetb0_notop.h5: None -- [Errno -3] Temporary failure in name resolution"
        )

    monkeypatch.setattr(file_utils, "get_file", offline)
    with pytest.raises(TrainError) as info:
        efficientnet.build_model("efficientnet-b0", 2, 32, "imagenet")
    msg = str(info.value)
    assert "--weights none" in msg
    assert "--weights /path/efficientnetb0_notop.h5" in msg
    assert "~/.keras/models/" in msg
    assert "Temporary failure" in msg


@pytest.mark.tf
def test_imagenet_asks_keras_for_the_published_file(monkeypatch, tmp_path):
    """The download must name Keras' file (efficientnetb0_notop.h5), whatever we call the layer."""
    import keras
    import numpy as np
    from keras.src.utils import file_utils

    reference = keras.applications.EfficientNetB0(
        include_top=False, weights=None, input_shape=(32, 32, 3)
    )
    local = tmp_path / "b0.weights.h5"
    reference.save_weights(local)
    asked = []

    def fake_get_file(fname=None, origin=None, **kwargs):
        asked.append((fname, origin))
        return str(local)

    monkeypatch.setattr(file_utils, "get_file", fake_get_file)
    backbone = efficientnet.build_backbone("efficientnet-b0", 32, "imagenet")

    assert asked == [
        (
            "efficientnetb0_notop.h5",
            "https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5",
        )
    ]
    assert backbone.name == classifier.BACKBONE_NAME
    for got, want in zip(backbone.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.tf
def test_imagenet_scaling_from_a_path_matches_keras_imagenet_build(monkeypatch):
    """weights=path to efficientnetbK_notop.h5 must see the inputs Keras' imagenet build sees."""
    real = efficientnet.build_backbone
    monkeypatch.setattr(efficientnet, "build_backbone", lambda m, s, w: real(m, s, "none"))
    net = efficientnet.build_model("efficientnet-b0", 2, 32, "/nowhere/efficientnetb0_notop.h5")
    scaling = net.get_layer("imagenet_scale")

    mean = np.array(efficientnet.IMAGENET_MEAN)
    std = np.array(efficientnet.IMAGENET_STD)
    x = np.random.default_rng(0).uniform(0, 255, (4, 5, 5, 3)).astype("float32")
    # What Keras does for weights="imagenet": x/255 -> Normalization(mean, std**2) -> /sqrt(std).
    want = ((x / 255.0 - mean) / std) / np.sqrt(std)
    # What our model does for a path: the compensating affine map, then Keras' path build.
    got = (np.asarray(scaling(x)) / 255.0 - mean) / std
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    assert efficientnet._is_keras_imagenet_file("/x/efficientnetb3_notop.h5")
    assert not efficientnet._is_keras_imagenet_file("/x/mine.weights.h5")
