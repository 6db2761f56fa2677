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
        },
    ]
    write_manifest(tmp_path, rows)
    back = read_manifest(tmp_path)
    assert [r["path"] for r in back] == ["1_v1.png", "b/1_v0.png"]
    assert back[0] == rows[1] and set(back[0]) == set(MANIFEST_COLUMNS)


def test_atomic_writes_leave_no_temporary_files_and_normal_permissions(tmp_path):
    import os

    write_png(tmp_path / "x" / "a.png", np.zeros((4, 4, 3), np.uint8))
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["a.png"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert (tmp_path / "x" / "a.png").stat().st_mode & 0o777 == 0o666 & ~umask
