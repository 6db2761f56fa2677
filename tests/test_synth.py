"""Tests of ``metaview synth`` (:mod:`assets.synth`): determinism for any worker count, the
bundled set, the command line, overwriting an earlier set, atomic writes.
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

import pytest
from _synth_fixtures import PLAIN, plain_set

import assets
from assets import cli as assets_cli
from assets.errors import SynthError
from assets.part import part_seed
from assets.partsfile import read_parts_csv
from assets.synth import generator_versions, synth_parts
from assets.synth_config import CLASSES, FEATURE_KINDS, THROUGH_KINDS, SynthConfig

__all__ = ["plain_set"]

REPO = Path(__file__).resolve().parents[1]


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="metaview")
    sub = parser.add_subparsers(dest="command", required=True)
    assets_cli.register(sub)
    return parser


# --- determinism ---------------------------------------------------------------------------


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.*")}


def test_same_seed_gives_identical_files_for_any_worker_count(tmp_path, plain_set):
    synth_parts(tmp_path / "again", PLAIN, workers=2)
    assert _files(tmp_path / "again") == _files(plain_set)


def test_different_seeds_give_different_parts(tmp_path, plain_set):
    other = SynthConfig(per_class=3, seed=12)
    synth_parts(tmp_path / "other", other)
    a, b = _files(plain_set), _files(tmp_path / "other")
    stls = [name for name in a if name.endswith(".stl")]
    assert all(a[name] != b[name] for name in stls)
    seeds = {part_seed(s, c, i) for s in (11, 12) for c in CLASSES for i in range(3)}
    assert len(seeds) == 2 * len(CLASSES) * 3


def test_a_part_does_not_depend_on_the_other_classes_or_counts(tmp_path, plain_set):
    cfg = SynthConfig(per_class=2, seed=11, classes=("y_minus", "x_plus"))
    synth_parts(tmp_path / "some", cfg)
    files = _files(tmp_path / "some")
    assert sorted(n for n in files if n.endswith(".stl")) == [
        "x_plus/0000.stl",
        "x_plus/0001.stl",
        "y_minus/0000.stl",
        "y_minus/0001.stl",
    ]
    full = _files(plain_set)
    for name in files:
        if name.endswith(".stl"):
            assert files[name] == full[name]


def test_bundled_assets_match_the_documented_command(tmp_path):
    bundled = assets.bundled_parts_dir()
    assert bundled == REPO / "assets" / "parts"
    made_with = json.loads((bundled / "synth.json").read_text())["versions"]
    if made_with != generator_versions():
        pytest.skip(f"bundled parts were made with {made_with}, not {generator_versions()}")
    words = shlex.split(assets.BUNDLED_COMMAND)
    assert words[:3] == ["metaview", "synth", "assets/parts"]
    args = make_parser().parse_args(["synth", str(tmp_path / "parts"), *words[3:]])
    assert args.func(args) == 0
    made, committed = _files(tmp_path / "parts"), _files(bundled)
    assert sorted(made) == sorted(committed)
    for name in made:
        assert made[name] == committed[name], f"{name} differs from the bundled file"
    assert sum(len(b) for b in committed.values()) < 1_000_000  # small enough to commit


# --- command line --------------------------------------------------------------------------


def test_kinds_restrict_the_features(tmp_path):
    synth_parts(tmp_path, SynthConfig(per_class=2, kinds=("hole", "chamfer"), seed=3))
    kinds = {f["type"] for row in read_parts_csv(tmp_path / "parts.csv") for f in row["features"]}
    assert kinds <= {"hole", "chamfer"} and kinds


def test_cli_writes_parts_and_prints_a_summary(tmp_path, capsys):
    out = tmp_path / "parts"
    args = make_parser().parse_args(
        ["synth", str(out), "--per-class", "1", "--classes", "x_plus,z_plus", "--seed", "3"]
    )
    assert args.func(args) == 0
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.*")) == [
        "parts.csv",
        "synth.json",
        "x_plus/0000.stl",
        "z_plus/0000.stl",
    ]
    rows = read_parts_csv(out / "parts.csv")
    assert [(r["file"], r["label"]) for r in rows] == [
        ("x_plus/0000.stl", "x_plus"),
        ("z_plus/0000.stl", "z_plus"),
    ]
    assert rows[0]["seed"] == part_seed(3, "x_plus", 0)
    assert "wrote 2 parts" in capsys.readouterr().out
    # A second run into the same folder needs --force, which removes stale parts.
    with pytest.raises(SynthError, match="--force"):
        args.func(args)
    again = make_parser().parse_args(
        ["synth", str(out), "--per-class", "1", "--classes", "z_plus", "--force"]
    )
    assert again.func(again) == 0
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.stl")) == ["z_plus/0000.stl"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--per-class", "0"], "per_class"),
        (["--classes", "x_plus,up"], "unknown class 'up'"),
        (["--min-side", "-20"], "min_side"),
        (["--distractors", "-2"], "distractors"),
    ],
)
def test_cli_bad_options_raise_synth_error(tmp_path, argv, message):
    args = make_parser().parse_args(["synth", str(tmp_path / "out"), *argv])
    with pytest.raises(SynthError, match=message):
        args.func(args)
    assert not (tmp_path / "out").exists()


def test_cli_help_documents_classes_and_kinds(capsys):
    with pytest.raises(SystemExit):
        make_parser().parse_args(["synth", "--help"])
    text = capsys.readouterr().out
    for name in (*CLASSES, *FEATURE_KINDS, "--tilt-deg", "--distractors", "--seed", "--through"):
        assert name in text
    for name in THROUGH_KINDS:
        assert name in text
    defaults = make_parser().parse_args(["synth", "x"])
    assert assets_cli.config_from_args(defaults) == SynthConfig()


def test_overwrite_never_deletes_meshes_synth_did_not_write(tmp_path):
    """`--force` (and so `metaview demo OUT`) must leave a user's own parts alone."""
    from assets.synth import SynthConfig, SynthError, synth_parts

    out = tmp_path / "parts"
    cfg = SynthConfig(per_class=1, seed=0)
    synth_parts(out, cfg)
    mine = out / "x_plus" / "my_bracket.stl"
    mine.write_bytes(b"solid mine\nendsolid mine\n")
    with pytest.raises(SynthError, match="my_bracket.stl"):
        synth_parts(out, cfg, overwrite=True)
    assert mine.read_bytes() == b"solid mine\nendsolid mine\n"
    mine.unlink()
    # Without foreign files, --force replaces exactly the earlier set.
    rows = synth_parts(out, SynthConfig(per_class=2, seed=1), overwrite=True)
    assert sorted(p.relative_to(out).as_posix() for p in out.glob("*/*.stl")) == sorted(
        r["file"] for r in rows
    )


def test_synth_writes_every_file_atomically(tmp_path, monkeypatch):
    """Parts, parts.csv and synth.json go through the project's atomic writer."""
    from assets.synth import SynthConfig, synth_parts
    from base import files

    written = []
    real = files.atomic_write_bytes

    def spy(path, data):
        written.append(Path(path).relative_to(tmp_path / "parts").as_posix())
        return real(path, data)

    monkeypatch.setattr(files, "atomic_write_bytes", spy)
    rows = synth_parts(tmp_path / "parts", SynthConfig(per_class=1, seed=0, classes=("z_plus",)))
    assert sorted(written) == sorted([r["file"] for r in rows] + ["parts.csv", "synth.json"])
    assert not list((tmp_path / "parts").rglob("*.tmp"))
