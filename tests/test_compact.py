"""train.inference.compact: an image model's head in NumPy, its backbone from the cache."""

from __future__ import annotations

import json

import numpy as np
import pytest

from train import runtimes
from train.errors import TrainError
from train.inference import compact

pytestmark = pytest.mark.tf

needs_litert = pytest.mark.skipif(
    not runtimes.available("litert"), reason="ai-edge-litert is not installed"
)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("METAVIEW_CACHE", str(tmp_path / "cache"))


def _classifier(seed: int = 0, size: int = 24, extra=None):
    """A small image classifier in the project's layout: two depths pooled into "pool",
    then "norm" -> dropout -> dense, with trained-looking (random) statistics and weights."""
    import keras

    from train.models import classifier

    keras.utils.set_random_seed(seed)
    inp = keras.Input((size, size, 3), name="image")
    a = keras.layers.Conv2D(4, 3, strides=2, activation="relu6")(inp)
    b = keras.layers.Conv2D(6, 3, strides=2, activation="relu6")(a)
    net = classifier.add_head(inp, [a, b], 3, 0.2, "tiny", standardize=True)
    rng = np.random.default_rng(seed)
    classifier.adapt_norm(net, rng.uniform(0, 6, (40, 10)).astype(np.float32))
    dense = net.get_layer("predictions")
    dense.kernel.assign(rng.normal(0, 1, dense.kernel.shape).astype(np.float32))
    dense.bias.assign(rng.normal(0, 1, dense.bias.shape).astype(np.float32))
    if extra is not None:
        x = extra(net.get_layer("pool").output)
        x = keras.layers.Dense(3, activation="softmax", name="out")(x)
        net = keras.Model(net.inputs, x, name="tiny")
    return net


@pytest.mark.parametrize("activation", ["softmax", "sigmoid"])
def test_the_numpy_head_gives_the_keras_heads_probabilities(tmp_path, activation):
    from train.models import classifier

    net = _classifier()
    classifier.set_output_activation(net, activation)
    path = tmp_path / "head.npz"
    assert compact.write_head(net, "litert", path)
    meta, head = compact.read_head(path)
    assert meta["runtime"] == "litert" and meta["image_size"] == 24 and meta["classes"] == 3
    assert [s["op"] for s in meta["steps"]] == ["normalize", "dense"]
    assert meta["backbone"] == runtimes.backbone_name(classifier.feature_extractor(net))
    feats = np.random.default_rng(1).uniform(0, 6, (7, 10)).astype(np.float32)
    want = np.asarray(classifier.head_model(net)(feats, training=False))
    got = head(feats)
    assert got.shape == (7, 3) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    if activation == "softmax":
        np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-6)


def test_a_tensorflow_run_or_a_head_of_other_layers_has_no_compact_form(tmp_path):
    import keras

    path = tmp_path / "head.npz"
    assert not compact.write_head(_classifier(), "tensorflow", path)
    odd = _classifier(extra=keras.layers.LayerNormalization(name="ln"))
    assert compact.head_arrays(odd) is None
    assert not compact.write_head(odd, "litert", path)
    assert not path.exists()


def test_a_damaged_head_is_refused_naming_the_file(tmp_path):
    net = _classifier()
    good = tmp_path / "head.npz"
    compact.write_head(net, "litert", good)
    with np.load(good) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays["meta"]))

    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not an npz")
    with pytest.raises(TrainError, match="bad.npz: not a readable head.npz"):
        compact.read_head(bad)
    newer = tmp_path / "newer.npz"
    np.savez(newer, **{**arrays, "meta": np.asarray(json.dumps({**meta, "format": 99}))})
    with pytest.raises(TrainError, match="newer.npz: expected head format 1, found 99"):
        compact.read_head(newer)
    short = tmp_path / "short.npz"
    np.savez(short, **{k: v for k, v in arrays.items() if not k.endswith("_kernel")})
    with pytest.raises(TrainError, match="short.npz: step 1 \\(dense\\) lacks the array"):
        compact.read_head(short)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, meta=np.asarray([{"format": 1}], dtype=object))
    with pytest.raises(TrainError, match="pickled.npz: not a readable head.npz"):
        compact.read_head(pickled)  # an object array would need pickle: refused


@needs_litert
def test_the_compact_model_needs_its_backbone_in_this_machines_cache(tmp_path):
    from train.models import classifier

    net = _classifier()
    path = tmp_path / "head.npz"
    compact.write_head(net, "litert", path)
    assert compact.compact_call(path) is None  # never converted here
    runtimes.backbone_runner(classifier.feature_extractor(net), "litert")  # converts, caches
    meta, call = compact.compact_call(path)
    x = np.random.default_rng(2).uniform(0, 255, (4, 24, 24, 3)).astype(np.float32)
    np.testing.assert_allclose(call(x), np.asarray(net(x, training=False)), atol=1e-5)


@pytest.mark.parametrize("model", ["efficientnet-lite0-views", "efficientnet-lite0-views-normals"])
def test_a_view_pooled_head_in_numpy_gives_the_keras_heads_probabilities(tmp_path, model):
    """The views step (a shared scorer over standardised directions, with or without the
    normals part) then the output layer: the Keras head's probabilities, for a head of
    trained-looking weights."""
    from train.models import classifier, create_model

    rng = np.random.default_rng(1)
    net = create_model(model, 5, 0, "none", 0.2)
    x = rng.uniform(0, 3, (12, net.input_shape[-1])).astype(np.float32)
    classifier.adapt_norm(net, x)
    net.get_layer("score").set_weights([rng.normal(0, 0.05, (2048, 1)).astype(np.float32)])
    if classifier.is_combined(net):
        net.get_layer("normals_scores").set_weights(
            [rng.normal(0, 1, (322, 5)).astype(np.float32), rng.normal(0, 1, 5).astype(np.float32)]
        )
    out = net.get_layer("predictions")
    out.set_weights([rng.normal(0, 1, w.shape).astype(np.float32) for w in out.get_weights()])
    backbone = _classifier()  # stands in for the per-tile backbone: only its name is written
    path = tmp_path / "head.npz"
    assert compact.write_head(
        net, "litert", path, backbone=backbone, image_size=960, features=model
    )
    meta, head = compact.read_head(path)
    assert meta["features"] == model and meta["image_size"] == 960
    assert meta["backbone"] == runtimes.backbone_name(backbone)
    np.testing.assert_allclose(head(x), np.asarray(net(x)), rtol=1e-4, atol=1e-6)
