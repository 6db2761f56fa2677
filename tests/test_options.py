"""Options generated from config dataclasses, the shared tracking options (base.options)."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field

import pytest

from base.options import (
    add_config_options,
    add_tracking_options,
    config_kwargs,
    option,
    positive_int,
)


@dataclass(frozen=True)
class _Config:
    size: int = field(default=64, metadata=option("size in px", metavar="PX"))
    rate: float = field(default=0.0, metadata=option("a rate", default_help="0 = auto"))
    mode: str = field(default="a", metadata=option("the mode", choices=("a", "b"), group="g"))
    cap: int | None = field(default=None, metadata=option("a cap", flags=("--max-cap",)))
    flag: bool = field(default=True, metadata=option("a switch", group="g"))
    rows: int = field(default=2, metadata=option("left to the caller"))


def _parser(**kw) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="x")
    add_config_options(p, _Config, **kw)
    return p


def test_defaults_types_and_names_come_from_the_fields():
    p = _parser(exclude=("rows",))
    args = p.parse_args([])
    assert _Config(**config_kwargs(_Config, args, exclude=("rows",))) == _Config()
    args = p.parse_args(
        ["--size", "8", "--rate", "0.5", "--mode", "b", "--max-cap", "3", "--no-flag"]
    )
    assert config_kwargs(_Config, args, exclude=("rows",)) == dict(
        size=8, rate=0.5, mode="b", cap=3, flag=False
    )
    assert p.parse_args(["--flag"]).flag is True
    assert not hasattr(args, "rows")


def test_help_shows_metavar_choices_defaults_and_groups():
    text = _parser().format_help()
    assert "--size PX" in text and "size in px (default: 64)" in text
    assert "a rate (default: 0 = auto)" in text
    assert "--mode {a,b}" in text and "\ng:\n" in text
    assert "--flag, --no-flag" in text and "(default: on)" in text
    assert "a cap (default: None)" in text


def test_bad_values_and_options_are_argparse_errors(capsys):
    p = _parser()
    for argv in (["--size", "x"], ["--mode", "c"], ["--no-such"]):
        with pytest.raises(SystemExit):
            p.parse_args(argv)
    assert "invalid int value" in capsys.readouterr().err


def test_overrides_and_missing_help_are_checked():
    p = _parser(overrides={"mode": {"choices": ("a", "b", "c")}})
    assert p.parse_args(["--mode", "c"]).mode == "c"
    with pytest.raises(ValueError, match="does not have"):
        _parser(overrides={"nope": {}})

    @dataclass
    class NoHelp:
        x: int = 1

    with pytest.raises(ValueError, match="NoHelp.x: expected option"):
        add_config_options(argparse.ArgumentParser(), NoHelp)


@pytest.mark.parametrize(
    "module, cls",
    [
        ("train.config", "TrainConfig"),
        ("render.config", "RenderConfig"),
        ("assets.synth_config", "SynthConfig"),
        ("geometry.reach", "ReachConfig"),
    ],
)
def test_every_config_field_has_a_help_text(module, cls):
    import importlib

    config = getattr(importlib.import_module(module), cls)
    for f in dataclasses.fields(config):
        assert f.metadata.get("help"), f"{cls}.{f.name} has no help text"


def test_tracking_options_and_positive_int():
    p = argparse.ArgumentParser()
    add_tracking_options(p)
    args = p.parse_args(["--experiment", "e", "--tracking-uri", "sqlite:///x.db"])
    assert (args.experiment, args.tracking_uri) == ("e", "sqlite:///x.db")
    assert p.parse_args([]).experiment is None
    assert positive_int("3") == 3
    for bad in ("0", "-1", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            positive_int(bad)


def test_batch_options_spell_workers_force_and_progress_one_way(monkeypatch):
    from base.options import add_batch_options, default_workers, renamed, workers_of

    p = argparse.ArgumentParser()
    add_batch_options(p, workers="processes", force="replace OUT")
    renamed(p, "--overwrite", "--force", action="store_true")
    args = p.parse_args([])
    assert (args.workers, args.force, args.no_progress) == (None, False, False)
    assert workers_of(args) == default_workers() >= 1
    args = p.parse_args(["--workers", "3", "--overwrite", "--no-progress"])
    assert (workers_of(args), args.force, args.no_progress) == (3, True, True)
    with pytest.raises(SystemExit):
        p.parse_args(["--workers", "0"])
    assert "--overwrite" not in p.format_help()
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert default_workers() == 3  # the cores this process may use, not the machine's
