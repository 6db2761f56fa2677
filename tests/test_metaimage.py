"""metaimage: grid tiling and tile permutations (pure numpy), and dataset files."""

from __future__ import annotations

import numpy as np
import pytest

from metaimage import (
    DatasetError,
    permute_tiles,
    read_manifest,
    read_png,
    shuffle_tiles,
    tile_grid,
    untile,
    write_manifest,
    write_png,
)
from metaimage.io import MANIFEST_COLUMNS, encode_png


def _views(n=6, h=3, w=4, c=3):
    return np.arange(n * h * w * c, dtype=np.int64).reshape(n, h, w, c)


def test_tile_grid_layout_is_row_major():
    views = _views()
    grid = tile_grid(views, 2, 3)
    assert grid.shape == (6, 12, 3)
    for k in range(6):
        i, j = divmod(k, 3)
        np.testing.assert_array_equal(grid[i * 3 : (i + 1) * 3, j * 4 : (j + 1) * 4], views[k])
    np.testing.assert_array_equal(untile(grid, 2, 3), views)


def test_grayscale_grids_round_trip():
    views = _views()[..., 0]
    np.testing.assert_array_equal(untile(tile_grid(views, 3, 2), 3, 2), views)


def test_shuffle_is_a_permutation_and_its_inverse_restores():
    grid = tile_grid(_views(n=12), 3, 4)
    shuffled, perm = shuffle_tiles(grid, 3, 4, np.random.default_rng(5), return_perm=True)
    assert not np.array_equal(shuffled, grid)
    a = untile(grid, 3, 4).reshape(12, -1)
    b = untile(shuffled, 3, 4).reshape(12, -1)
    # The sorted tiles are equal: nothing lost, nothing duplicated.
    np.testing.assert_array_equal(np.sort(a, axis=0), np.sort(b, axis=0))
    np.testing.assert_array_equal(b, a[perm])
    np.testing.assert_array_equal(permute_tiles(shuffled, 3, 4, np.argsort(perm)), grid)
    # Same generator state, same shuffle.
    np.testing.assert_array_equal(shuffle_tiles(grid, 3, 4, np.random.default_rng(5)), shuffled)


def test_permute_tiles_semantics():
    grid = tile_grid(_views(n=4), 2, 2)
    out = permute_tiles(grid, 2, 2, np.array([3, 2, 1, 0]))
    np.testing.assert_array_equal(untile(out, 2, 2), _views(n=4)[::-1])


def test_grid_errors():
    with pytest.raises(DatasetError, match="divide"):
        untile(np.zeros((10, 10, 3)), 3, 3)
    with pytest.raises(DatasetError, match="4 views"):
        tile_grid(_views(n=5), 2, 2)
    with pytest.raises(DatasetError, match="permutation"):
        permute_tiles(np.zeros((4, 4, 3)), 2, 2, np.array([0, 0, 1, 2]))
    with pytest.raises(TypeError, match="Generator"):
        shuffle_tiles(np.zeros((4, 4, 3)), 2, 2, rng=5)


def test_png_round_trip_is_exact_and_deterministic(tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    write_png(tmp_path / "a.png", image)
    np.testing.assert_array_equal(read_png(tmp_path / "a.png"), image)
    assert encode_png(image) == (tmp_path / "a.png").read_bytes()
    with pytest.raises(DatasetError, match="no such image"):
        read_png(tmp_path / "missing.png")
    (tmp_path / "bad.png").write_bytes(b"nope")
    with pytest.raises(DatasetError, match="bad.png"):
        read_png(tmp_path / "bad.png")


def test_manifest_round_trip_typed_and_sorted(tmp_path):
    rows = [
        {
            "path": "b/1_v0.png",
            "label": "b",
            "source": "b/1.stl",
            "part_id": "b/1",
            "variant": 0,
            "faces_in": 10,
            "faces_out": 8,
            "render_s": 0.5,
            "config_hash": "ab",
            "png_bytes": 1234,
            "sha256": "e3" * 32,
        },
        {
            "path": "1_v1.png",
            "label": "",
            "source": "1.stl",
            "part_id": "1",
            "variant": 1,
            "faces_in": 12,
            "faces_out": 12,
            "render_s": 0.25,
            "config_hash": "ab",
            "png_bytes": 99,
            "sha256": "0f" * 32,
        },
    ]
    write_manifest(tmp_path, rows)
    back = read_manifest(tmp_path)
    assert [r["path"] for r in back] == ["1_v1.png", "b/1_v0.png"]
    assert back[0] == rows[1] and set(back[0]) == set(MANIFEST_COLUMNS)
    assert back[1] == rows[0]


def test_manifest_without_png_bytes_and_sha256_is_still_read(tmp_path):
    """Manifests written before the integrity columns existed: read, values unknown."""
    old = MANIFEST_COLUMNS[: MANIFEST_COLUMNS.index("png_bytes")]
    (tmp_path / "manifest.csv").write_text(
        ",".join(old) + "\n" + "a/1_v0.png,a,a/1.stl,a/1,0,10,8,0.5,ab\n", encoding="utf-8"
    )
    (row,) = read_manifest(tmp_path)
    assert (row["png_bytes"], row["sha256"], row["faces_out"]) == (None, "", 8)
    # Written back (by a row without them), the columns are there and empty.
    write_manifest(tmp_path, [{k: v for k, v in row.items() if k in old}])
    header, line = (tmp_path / "manifest.csv").read_text().splitlines()
    assert header.split(",") == list(MANIFEST_COLUMNS) and line.endswith(",ab,,")
    assert read_manifest(tmp_path) == [row]


def test_non_utf8_names_are_written_escaped_not_fatal(tmp_path):
    """A file name with non-UTF-8 bytes (a surrogate escape in Python) must not stop a CSV."""
    import os

    from metaimage.io import printable, read_csv, write_csv

    name = os.fsdecode(b"x_plus/caf\xe9.stl")  # 'x_plus/caf\udce9.stl'
    assert printable(name) == "x_plus/caf\\xe9.stl"
    assert printable("x_plus/café.stl") == "x_plus/café.stl"  # valid UTF-8 is kept
    assert printable("lone \ud800") == "lone \\ud800"
    write_csv(tmp_path / "e.csv", ["source", "error"], [{"source": name, "error": f"{name}: bad"}])
    (row,) = read_csv(tmp_path / "e.csv")
    assert row == {"source": "x_plus/caf\\xe9.stl", "error": "x_plus/caf\\xe9.stl: bad"}
    (tmp_path / "e.csv").read_bytes().decode("utf-8")  # valid UTF-8 throughout


def test_atomic_writes_leave_no_temporary_files_and_normal_permissions(tmp_path):
    import os

    write_png(tmp_path / "x" / "a.png", np.zeros((4, 4, 3), np.uint8))
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["a.png"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert (tmp_path / "x" / "a.png").stat().st_mode & 0o777 == 0o666 & ~umask


# ------------------------------------------------------------------ metaimage.json


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


def test_metaimage_imports_nothing_heavy():
    import subprocess
    import sys

    script = (
        "import sys, metaimage, metaimage.meta, metaimage.io; "
        "heavy = ('PIL', 'trimesh', 'manifold3d', 'OpenGL', 'pyrender', 'tensorflow', "
        "'keras', 'mlflow', 'render', 'train', 'assets'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_one_grid_reader_for_every_option_and_file():
    import argparse

    from metaimage.errors import DatasetError
    from metaimage.grid import parse_grid
    from render.cli import _grid
    from train.config import TrainConfig
    from train.errors import TrainError

    assert parse_grid("10x10") == (10, 10) and parse_grid(" 2 X 3 ") == (2, 3)
    for bad in ("10", "0x3", "axb", "2x3x4", ""):
        with pytest.raises(DatasetError, match="expected ROWSxCOLS of positive integers"):
            parse_grid(bad)
        with pytest.raises(argparse.ArgumentTypeError, match="expected ROWSxCOLS"):
            _grid(bad)
        if bad:
            with pytest.raises(TrainError, match="expected ROWSxCOLS"):
                TrainConfig(grid=bad)
    assert _grid("5x4") == (5, 4) and TrainConfig(grid="5x4").grid == "5x4"
