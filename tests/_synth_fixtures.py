"""Generated part sets shared by the tests of ``metaview synth`` and its modules.

Each set is made once per test session, whichever test module asks first
(test_synth.py, test_part.py, test_partsfile.py), and only read afterwards.
Import the fixtures a module uses by name (and list them in its ``__all__``).

Also the stock under one face and checks of what a cutter removes from it, in the face's own
frame (test_cutters.py, test_features.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import manifold3d as mf
import numpy as np
import pytest
import trimesh

import assets
from assets.cutters import FaceSize
from assets.synth import synth_parts
from assets.synth_config import SynthConfig


def load_stl(path: Path) -> trimesh.Trimesh:
    mesh = trimesh.load(path, file_type="stl", process=True)
    assert isinstance(mesh, trimesh.Trimesh)
    return mesh


PLAIN = SynthConfig(per_class=3, seed=11)
HARD = SynthConfig(per_class=2, seed=5, distractors=3, max_features=3)
TILTED = SynthConfig(per_class=2, seed=5, distractors=3, max_features=3, tilt_deg=8.0)
THROUGH = SynthConfig(per_class=3, seed=9, distractors=2, through=True)
# The taxonomy preset: every kind, every stock shape, features on two faces.
TAXONOMY = SynthConfig.from_preset("taxonomy", per_class=5, seed=21, distractors=1)


def bundled_config() -> SynthConfig:
    return SynthConfig.from_dict(
        json.loads((assets.bundled_parts_dir() / "synth.json").read_text())["config"]
    )


CONFIGS = {
    "plain": PLAIN,
    "hard": HARD,
    "tilted": TILTED,
    "through": THROUGH,
    "taxonomy": TAXONOMY,
}


def set_and_config(which: str, request) -> tuple[Path, SynthConfig]:
    """A generated set by name, with its configuration; "bundled" is the committed set."""
    if which == "bundled":
        return assets.bundled_parts_dir(), bundled_config()
    return request.getfixturevalue(f"{which}_set"), CONFIGS[which]


# Sets made so far, by name: pytest makes one fixture per module that imports it, and the
# sets are only read, so the modules share one copy.
_MADE: dict[str, Path] = {}


def _made(which: str, tmp_path_factory) -> Path:
    if which not in _MADE:
        out = tmp_path_factory.mktemp(which)
        synth_parts(out, CONFIGS[which])
        _MADE[which] = out
    return _MADE[which]


@pytest.fixture(scope="module")
def plain_set(tmp_path_factory) -> Path:
    return _made("plain", tmp_path_factory)


@pytest.fixture(scope="module")
def hard_set(tmp_path_factory) -> Path:
    return _made("hard", tmp_path_factory)


@pytest.fixture(scope="module")
def tilted_set(tmp_path_factory) -> Path:
    return _made("tilted", tmp_path_factory)


@pytest.fixture(scope="module")
def through_set(tmp_path_factory) -> Path:
    return _made("through", tmp_path_factory)


@pytest.fixture(scope="module")
def taxonomy_set(tmp_path_factory) -> Path:
    return _made("taxonomy", tmp_path_factory)


# --- cutters in a face's frame ---------------------------------------------------------------


def face_stock(face: FaceSize) -> mf.Manifold:
    """The stock under a face, in its frame: ``[-u/2, u/2] x [-v/2, v/2] x [-depth, 0]``."""
    size = (face.u, face.v, face.depth)
    return mf.Manifold.cube(size).translate((-face.u / 2, -face.v / 2, -face.depth))


def removed_by(cutter: mf.Manifold, face: FaceSize) -> mf.Manifold:
    """The material ``cutter`` removes from the stock under ``face``."""
    return cutter ^ face_stock(face)


def left_in_the_way(removed: mf.Manifold, face: FaceSize, towards: int = 1) -> float:
    """Volume of stock left between removed material and the face it was cut from.

    ``towards`` is +1 for the face itself (``z = 0``), -1 for the opposite face. A cut reached
    along -z from the face removes, with every point, the whole column above it up to the
    face: moved up by any distance and clipped to the stock, it lies inside itself. 0 when so.
    """
    stock = face_stock(face)
    lifts = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, face.depth / 2)
    return max(
        ((removed.translate((0.0, 0.0, towards * dz)) ^ stock) - removed).volume() for dz in lifts
    )


def check_cut(
    cutter: mf.Manifold,
    face: FaceSize,
    volume: float,
    depth: float,
    *,
    through: bool,
    genus: int = 0,
    rel: float = 1e-9,
) -> None:
    """The checks every hand-built cutter passes (test_cutters*.py): closed solids of the
    given genus, removing ``volume`` (to ``rel``) down to ``depth``, rising LIFT above the
    face, with nothing left between the cut and the face (and the opposite face, through)."""
    from assets.face_geometry import LIFT, OVERSHOOT

    assert cutter.status().name == "NoError" and not cutter.is_empty()
    assert all(solid.genus() == genus for solid in cutter.decompose())
    removed = removed_by(cutter, face)
    assert removed.volume() == pytest.approx(volume, rel=rel)
    lo, hi = np.reshape(cutter.bounding_box(), (2, 3))
    r_lo, r_hi = np.reshape(removed.bounding_box(), (2, 3))
    assert hi[2] == pytest.approx(LIFT)  # above the face: no cutter face lies in the face's plane
    assert r_hi[2] == 0.0 and r_lo[2] == pytest.approx(-depth)
    assert left_in_the_way(removed, face) < 1e-9 * volume  # reached along -z from the face
    if through:
        assert lo[2] == -face.depth - OVERSHOOT
        assert left_in_the_way(removed, face, towards=-1) < 1e-9 * volume  # and from below
    else:
        assert depth < face.depth  # the opposite face is untouched
