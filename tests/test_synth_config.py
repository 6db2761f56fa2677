"""Tests of :class:`assets.synth_config.SynthConfig`: every field's check, the dict round trip."""

from __future__ import annotations

import pytest

from assets.errors import SynthError
from assets.synth_config import SynthConfig
from base.errors import MetaviewError


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"per_class": 0}, "per_class"),
        ({"classes": ("x_plus", "w_plus")}, "unknown class 'w_plus'"),
        ({"classes": ()}, "classes"),
        ({"classes": ("z_minus",)}, "unknown class 'z_minus'"),
        ({"classes": ("x_plus", "x_plus")}, "twice"),
        ({"min_side": -5.0}, "min_side"),
        ({"max_side": -1.0}, "max_side"),
        ({"min_side": 80.0, "max_side": 40.0}, "must not exceed"),
        ({"min_features": 0}, "min_features"),
        ({"min_features": 4, "max_features": 2}, "must not exceed"),
        ({"kinds": ("hole", "groove")}, "unknown feature kind 'groove'"),
        ({"tilt_deg": -1.0}, "tilt_deg"),
        ({"tilt_deg": float("nan")}, "tilt_deg"),
        ({"distractors": -1}, "distractors"),
        ({"segments": 3}, "segments"),
        ({"seed": -1}, "seed"),
        ({"per_class": 2.5}, "per_class"),
        ({"through": "yes"}, "through must be True or False"),
        ({"through": True, "kinds": ("hole",)}, "kinds does not apply with through"),
        ({"stock": ()}, "stock must name"),
        ({"stock": ("box", "sphere")}, "unknown stock shape 'sphere'"),
        ({"stock": ("bar", "bar")}, "stock lists a shape twice"),
        ({"second_face": 1.5}, "second_face must be between 0 and 1"),
        ({"second_face": float("nan")}, "second_face"),
    ],
)
def test_bad_options_raise_a_clear_error(options, message):
    with pytest.raises(SynthError, match=message) as info:
        SynthConfig(**options)
    assert isinstance(info.value, MetaviewError) and isinstance(info.value, ValueError)


def test_config_round_trips_through_a_dict():
    cfg = SynthConfig(classes=("z_plus",), kinds=("hole",), tilt_deg=3.0, distractors=2)
    assert SynthConfig.from_dict(cfg.to_dict()) == cfg
    cfg = SynthConfig(classes=("z_plus",), segments=16, through=True)
    assert SynthConfig.from_dict(cfg.to_dict()) == cfg
    # A synth.json written before --through existed still reads.
    old = {k: v for k, v in SynthConfig().to_dict().items() if k != "through"}
    assert SynthConfig.from_dict(old) == SynthConfig()
    with pytest.raises(SynthError, match="unknown synth configuration keys: colour"):
        SynthConfig.from_dict({**cfg.to_dict(), "colour": "red"})


def test_the_new_fields_are_written_only_when_set():
    """A configuration of the first generator writes the synth.json it always wrote."""
    assert "stock" not in SynthConfig().to_dict() and "second_face" not in SynthConfig().to_dict()
    cfg = SynthConfig(stock=("plate", "stepped"), second_face=0.25, kinds=("o_ring", "hole"))
    d = cfg.to_dict()
    assert d["stock"] == ["plate", "stepped"] and d["second_face"] == 0.25
    assert SynthConfig.from_dict(d) == cfg


def test_a_preset_fills_the_fields_not_given():
    from assets.synth_config import ALL_KINDS, PRESETS, STOCK_SHAPES

    assert SynthConfig.from_preset("default") == SynthConfig()
    tax = SynthConfig.from_preset("taxonomy", seed=4)
    assert tax.kinds == ALL_KINDS and tax.stock == STOCK_SHAPES and tax.seed == 4
    assert tax.second_face == PRESETS["taxonomy"]["second_face"] > 0
    assert SynthConfig.from_preset("taxonomy", stock=("box",)).stock == ("box",)
    with pytest.raises(SynthError, match="unknown preset 'big'; expected one of default, taxonomy"):
        SynthConfig.from_preset("big")


def test_the_command_line_preset_leaves_given_options_alone():
    import argparse

    from assets.cli import config_from_args, register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["synth", "out", "--preset", "taxonomy", "--stock", "box"])
    cfg = config_from_args(args)
    assert cfg.stock == ("box",) and cfg.second_face > 0 and "o_ring" in cfg.kinds
    assert config_from_args(parser.parse_args(["synth", "out"])) == SynthConfig()
    args = parser.parse_args(["synth", "out", "--min-side", "30", "--preset", "taxonomy"])
    assert config_from_args(args) == SynthConfig.from_preset("taxonomy")
