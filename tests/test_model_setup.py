"""The model a run starts from (:mod:`train.model_setup`): the automatic input size and
learning rate, ``--init-from``'s checks, and the head's features that stand for the images."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
from _train_fixtures import make_dataset_folder

from train import model_setup
from train.config import TrainConfig
from train.data import load_dataset
from train.errors import TrainError

pytestmark = pytest.mark.tf

LABELS = ["x_plus", "y_plus"]


def test_the_auto_learning_rate_is_the_head_rate_for_a_frozen_backbone_else_scratch(
    tmp_path, register_tiny_model
):
    name = register_tiny_model()
    ds = load_dataset(make_dataset_folder(tmp_path / "ds", parts_per_class=3, tile=8))
    weights_file = str(tmp_path / "backbone.weights.h5")  # the tiny builder ignores it

    _, cfg, frozen = model_setup.initial_model(TrainConfig(model=name), LABELS, None, ds)
    assert (cfg.weights, frozen) == ("none", False)
    assert cfg.learning_rate == model_setup.SCRATCH_LEARNING_RATE
    assert cfg.image_size == 32  # image_size 0: the model's native size

    net, cfg, frozen = model_setup.initial_model(
        TrainConfig(model=name, weights=weights_file, image_size=48), LABELS, None, ds
    )
    assert frozen and cfg.learning_rate == model_setup.HEAD_LEARNING_RATE
    assert cfg.image_size == 48 and tuple(net.input_shape) == (None, 48, 48, 3)

    _, cfg, _ = model_setup.initial_model(
        TrainConfig(model=name, learning_rate=0.02), LABELS, None, ds
    )
    assert cfg.learning_rate == 0.02  # a rate given is kept

    # A feature-vector family: no image size, only its head trains from scratch.
    net, cfg, frozen = model_setup.initial_model(
        TrainConfig(model="colour-stats"), LABELS, None, ds
    )
    assert (cfg.image_size, frozen) == (0, False)
    assert cfg.learning_rate == model_setup.HEAD_LEARNING_RATE
    assert len(net.input_shape) == 2 and net.output_shape == (None, len(LABELS))
    assert model_setup.HEAD_LEARNING_RATE > model_setup.SCRATCH_LEARNING_RATE


def test_a_full_resolution_model_takes_the_meta_images_own_size(
    tmp_path, register_tiny_model, monkeypatch
):
    from train import models

    name = register_tiny_model()
    monkeypatch.setitem(
        models._MODELS, name, dataclasses.replace(models.get_model_spec(name), full_resolution=True)
    )
    root = make_dataset_folder(tmp_path / "ds", parts_per_class=3, rows=2, cols=3, tile=16)
    net, cfg, _ = model_setup.initial_model(
        TrainConfig(model=name), LABELS, None, load_dataset(root)
    )
    assert cfg.image_size == 48  # 32 x 48 meta-images: the larger side
    assert tuple(net.input_shape) == (None, 48, 48, 3)


def test_init_from_names_the_run_and_refuses_another_image_size(toy):
    uri = os.environ["MLFLOW_TRACKING_URI"]
    run_id = toy.log(uri)
    cfg = TrainConfig(model="efficientnet-lite0", init_from=run_id, image_size=64)
    with pytest.raises(TrainError) as info:
        model_setup.initial_model(cfg, ["blue", "green", "red"], uri, None)
    msg = str(info.value)
    assert msg.startswith(f"--init-from {run_id}: ")
    assert "that model takes 12 px inputs, but image_size is 64" in msg
    with pytest.raises(TrainError, match=r"^--init-from 0123456789abcdef0123456789abcdef: "):
        model_setup.initial_model(
            TrainConfig(model="efficientnet-lite0", init_from="0123456789abcdef0123456789abcdef"),
            LABELS,
            uri,
            None,
        )


def test_split_features_and_the_head_compute_the_classifier(tmp_path, register_tiny_model):
    """Each split's rows become feature vectors on which the head answers as the whole
    classifier answers on the meta-images."""
    from metaimage.io import read_png
    from train import pipeline
    from train.models import classifier, get_model_spec

    name = register_tiny_model()
    ds = load_dataset(make_dataset_folder(tmp_path / "ds", parts_per_class=4, tile=8))
    cfg = TrainConfig(model=name, image_size=32, runtime="tensorflow")
    net, cfg, _ = model_setup.initial_model(cfg, LABELS, None, ds)
    rng = np.random.default_rng(0)
    out = net.get_layer("predictions")  # zeros as built: give it weights that tell apart
    out.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in out.get_weights()])
    rows = {"train": ds.rows[:5], "test": ds.rows[5:]}

    feats = model_setup.split_features(net, get_model_spec(name), cfg, ds, rows)

    assert set(feats) == {"train", "test"}
    head = classifier.head_model(net)
    for split, split_rows in rows.items():
        assert feats[split].shape[0] == len(split_rows) and feats[split].dtype == np.float32
        images = np.stack([read_png(ds.root / r["path"]) for r in split_rows])
        whole = np.asarray(net(pipeline.prepare_images(images, 32)))
        np.testing.assert_allclose(np.asarray(head(feats[split])), whole, atol=1e-5)
    assert not np.allclose(whole, whole[0])  # the answers differ from image to image
