"""metaimage.meta: metaimage.json as one frozen, checked dataclass (MetaImageInfo)."""

from __future__ import annotations

import pytest

from metaimage import DatasetError


def _meta_dict(**change):
    d = {
        "format": 1,
        "grid": [2, 3],
        "tile": 8,
        "image_size": [16, 24],
        "normals": "object",
        "backend": "egl",
        "gl_renderer": "llvmpipe",
        "config": {"tile": 8, "rows": 2, "cols": 3, "normals": "object", "seed": 0},
        "config_hash": "0123456789abcdef",
        "versions": {"numpy": "2.0.0"},
        "variants": 1,
        "seed": 0,
        "view_convention": "tile (i, j) ...",
        "source_dir": "/data/parts",
    }
    d.update(change)
    return {k: v for k, v in d.items() if v is not None}


def test_metaimage_info_round_trips_and_is_frozen(tmp_path):
    import dataclasses

    from metaimage.io import read_metaimage_info, write_json
    from metaimage.meta import MetaImageInfo

    info = MetaImageInfo.from_dict(_meta_dict())
    assert (info.grid, info.tile, info.image_size) == ((2, 3), 8, (16, 24))
    assert info.to_dict() == _meta_dict()
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.tile = 4  # type: ignore[misc]
    with pytest.raises(TypeError):
        info.config["tile"] = 4  # type: ignore[index]
    write_json(tmp_path / "metaimage.json", info.to_dict())
    assert read_metaimage_info(tmp_path) == info
    # Optional keys default; keys a newer writer added are kept, not dropped.
    short = _meta_dict(
        backend=None, gl_renderer=None, view_convention=None, versions=None, source_dir=None
    )
    assert MetaImageInfo.from_dict(short).backend == ""
    assert MetaImageInfo.from_dict(short).source_dir == ""  # written before it was recorded
    extra = MetaImageInfo.from_dict(_meta_dict(note="x"))
    assert extra.to_dict()["note"] == "x"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"grid": None}, r"missing \['grid'\]"),
        ({"grid": [2]}, r"grid: expected \[rows, cols\] of positive integers, found \[2\]"),
        ({"tile": True}, "tile: expected a positive integer, found True"),
        ({"image_size": [16, 16]}, r"image_size \[16, 16\] disagrees with grid \[2, 3\] x tile 8"),
        ({"config": [1]}, "config: expected a JSON object"),
        ({"config": {"tile": 9}}, "config.tile is 9 but tile is 8"),
        ({"config_hash": ""}, "config_hash: expected a non-empty string"),
        ({"format": 2}, "format: expected 1, found 2"),
        ({"seed": -1}, "seed: expected a non-negative integer"),
    ],
)
def test_metaimage_json_is_checked_naming_the_file(tmp_path, change, message):
    from metaimage.io import read_metaimage_info, read_metaimage_json, write_json

    write_json(tmp_path / "metaimage.json", _meta_dict(**change))
    with pytest.raises(DatasetError, match=message) as err:
        read_metaimage_info(tmp_path)
    assert str(tmp_path / "metaimage.json") in str(err.value)
    with pytest.raises(DatasetError, match=message):
        read_metaimage_json(tmp_path)  # the dict reader checks the same way
