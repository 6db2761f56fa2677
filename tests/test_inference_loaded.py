"""A loaded model: its render config and the meta-image PNGs it refuses (train.inference.loaded)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from _toy_fixtures import CLASSES, MODEL_SIZE, metaimage_dict

from train.errors import TrainError


def _uri() -> str:
    return os.environ["MLFLOW_TRACKING_URI"]


def _loaded(metaimage=None, labels=CLASSES):
    from train.inference.loaded import LoadedModel

    return LoadedModel(
        None, list(labels), metaimage or metaimage_dict(), MODEL_SIZE, "r", "runs:/r/model"
    )


def _dataset(root: Path, metaimage: dict, label: str = "red") -> Path:
    """A one-image dataset folder (metaimage.json, manifest.csv, <label>/0000_v0.png)."""
    from _toy_fixtures import CONFIG_HASH

    from metaimage.io import write_json, write_manifest, write_png

    png = root / label / "0000_v0.png"
    write_png(png, np.zeros((16, 16, 3), np.uint8))
    write_json(root / "metaimage.json", metaimage)
    row = {"path": f"{label}/0000_v0.png", "label": label, "source": "a.stl", "part_id": "a",
           "variant": 0, "faces_in": 1, "faces_out": 1, "render_s": 0.0,
           "config_hash": metaimage.get("config_hash", CONFIG_HASH)}  # fmt: skip
    write_manifest(root, [row])
    return png


def test_input_from_the_models_render_config_fits(tmp_path):
    png = _dataset(tmp_path / "same", metaimage_dict())
    _loaded().check_input(png)  # no error
    _loaded().check_input(tmp_path / "loose.png")  # outside any dataset folder: not judged here


def test_input_rendered_with_another_config_is_refused(tmp_path):
    from metaimage.errors import DatasetError

    other = metaimage_dict(tile=4, grid=(4, 4))  # also 16x16 px: the size check passes
    other["config_hash"] = "ffffffffffffffff"
    png = _dataset(tmp_path / "other", other)
    with pytest.raises(DatasetError) as exc:
        _loaded().check_input(png)
    msg = str(exc.value)
    assert str(png) in msg and "runs:/r/model" in msg
    assert "config ffffffffffffffff: grid 4x4, tile 4 px" in msg
    assert "config 0123456789abcdef: grid 2x2, tile 8 px" in msg


def test_input_of_a_class_the_model_does_not_know_is_refused(tmp_path):
    from metaimage.errors import DatasetError

    png = _dataset(tmp_path / "ds", metaimage_dict(), label="purple")
    with pytest.raises(DatasetError, match=r"labelled 'purple'.*its classes: blue, green, red"):
        _loaded().check_input(png)


def test_class_folder_model_takes_pngs_but_cannot_render():
    plain = {"layout": "class-folders", "grid": [1, 1], "grid_known": False, "tile": 16,
             "image_size": [16, 16], "config": {}, "config_hash": ""}  # fmt: skip
    loaded = _loaded(plain)
    assert loaded.metaimage_info is None and not loaded.can_render
    with pytest.raises(TrainError, match="no render config, so meshes cannot be rendered"):
        loaded.render_config()
    assert _loaded().render_config() == metaimage_dict()["config"]


@pytest.mark.tf
def test_predict_refuses_pngs_the_model_does_not_fit(toy, tmp_path, capsys):
    """Through `metaview predict`: each refused PNG is its own error line; the rest is predicted."""
    from _toy_fixtures import cli

    run_id = toy.log(_uri())
    other = metaimage_dict(tile=4, grid=(4, 4))  # 16x16 px too: only the config tells them apart
    other["config_hash"] = "ffffffffffffffff"
    foreign = _dataset(tmp_path / "other", other)
    unknown = _dataset(tmp_path / "purple", metaimage_dict(), label="purple")
    fine = _dataset(tmp_path / "same", metaimage_dict())
    code = cli(["predict", "--model", run_id, str(foreign), str(unknown), str(fine)])
    out, err = capsys.readouterr()
    assert code == 2
    assert f"{foreign}  error: {foreign}: its dataset {tmp_path / 'other'} was rendered with" in err
    assert f"{unknown}  error: {unknown}: labelled 'purple'" in err
    assert out.startswith(f"{fine}  ")
