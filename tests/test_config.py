"""TrainConfig: round trip, validation of every field, and its command-line options."""

from __future__ import annotations

import dataclasses

import pytest

from train.config import TrainConfig
from train.errors import TrainError


def test_config_round_trip_and_validation():
    cfg = TrainConfig(model="efficientnet-b3", image_size=64, weights="none", epochs=3)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(TrainError, match="unknown keys"):
        TrainConfig.from_dict({**cfg.to_dict(), "bogus": 1})
    bad = [
        dict(model="resnet50"),
        dict(image_size=16),
        dict(weights="weights.bin"),
        dict(epochs=0),
        dict(batch_size=-1),
        dict(learning_rate=-1.0),
        dict(dropout=1.0),
        dict(val_fraction=0.5, test_fraction=0.5),
        dict(shuffle_tiles="yes"),
        dict(lr_factor=1.5),
    ]
    for kw in bad:
        field = next(iter(kw))
        with pytest.raises(TrainError, match=field.split("_")[0]):
            TrainConfig(**kw)


def test_unknown_model_lists_the_registered_ones():
    with pytest.raises(TrainError, match=r"model: expected one of efficientnet-b0, .*, got 'b9'"):
        TrainConfig(model="b9")


def test_every_field_is_an_option_of_metaview_train():
    from metaview.cli import build_parser

    args = build_parser().parse_args(["train", "DATA"])
    for f in dataclasses.fields(TrainConfig):
        assert f.metadata["help"], f.name
        assert getattr(args, f.name) == f.default, f.name


def test_the_view_pooled_models_refuse_shuffled_tiles_and_fine_tuning():
    default = TrainConfig()
    assert default.model == "efficientnet-lite0-views-normals" and default.weights == "none"
    for kw in ({"shuffle_tiles": True}, {"fine_tune_layers": 20}):
        with pytest.raises(TrainError, match="tiles in their places.*efficientnet-lite0 for"):
            TrainConfig(**kw)
        with pytest.raises(TrainError, match="tiles in their places"):
            TrainConfig(model="efficientnet-lite0-views", **kw)
        TrainConfig(model="efficientnet-lite0", **kw)  # the max-pooled model takes them
