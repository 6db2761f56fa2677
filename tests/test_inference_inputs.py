"""Meta-image PNG inputs of a prediction (:mod:`train.inference.inputs`): which inputs are
PNGs, and reading one only when it is a meta-image the model fits."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from _toy_fixtures import CLASSES, CONFIG_HASH, MODEL_SIZE, metaimage_dict

from metaimage.errors import DatasetError
from metaimage.io import write_json, write_manifest, write_png
from train.inference.inputs import is_image, load_png
from train.inference.loaded import LoadedModel


def _loaded(tile: int = 8, grid=(2, 2)) -> LoadedModel:
    """A model trained on ``grid`` meta-images of ``tile`` px tiles (no network needed)."""
    meta = metaimage_dict(tile=tile, grid=grid)
    return LoadedModel(None, list(CLASSES), meta, MODEL_SIZE, "r", "runs:/r/model")


def test_is_image_by_suffix_in_any_case():
    assert is_image(Path("a/part.png")) and is_image(Path("PART.PNG"))
    assert not is_image(Path("part.stl")) and not is_image(Path("part.png.obj"))
    assert not is_image(Path("png"))


def test_a_png_of_the_trained_size_is_read_as_it_is(tmp_path):
    image = np.random.default_rng(0).integers(0, 256, size=(16, 24, 3), dtype=np.uint8)
    path = write_png(tmp_path / "x.png", image)
    np.testing.assert_array_equal(load_png(path, _loaded(grid=(2, 3))), image)


def test_a_png_of_another_size_is_refused_naming_the_file_and_both_sizes(tmp_path):
    path = write_png(tmp_path / "wrong.png", np.zeros((20, 16, 3), np.uint8))
    with pytest.raises(DatasetError) as info:
        load_png(path, _loaded())
    msg = str(info.value)
    assert msg.startswith(f"{path}: ")
    assert "expected a 16x16 meta-image (a 2x2 grid of 8 px tiles" in msg
    assert "found 20x16" in msg
    with pytest.raises(DatasetError, match="missing.png"):
        load_png(tmp_path / "missing.png", _loaded())


def test_a_png_of_the_right_size_from_a_foreign_dataset_is_refused(tmp_path):
    """The size alone does not decide: the PNG's dataset folder says another render config."""
    meta = {**metaimage_dict(), "config_hash": "ffffffffffffffff"}
    root = tmp_path / "other"
    png = write_png(root / "red" / "0000_v0.png", np.zeros((16, 16, 3), np.uint8))
    write_json(root / "metaimage.json", meta)
    row = {"path": "red/0000_v0.png", "label": "red", "source": "a.stl", "part_id": "a",
           "variant": 0, "faces_in": 1, "faces_out": 1, "render_s": 0.0,
           "config_hash": meta["config_hash"]}  # fmt: skip
    write_manifest(root, [row])
    assert meta["config_hash"] != CONFIG_HASH
    with pytest.raises(DatasetError, match=re.escape(f"{png}: ") + ".*ffffffffffffffff"):
        load_png(png, _loaded())
