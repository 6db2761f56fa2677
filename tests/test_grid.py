"""metaimage.grid: grid tiling, tile permutations (pure numpy), and the one grid reader."""

from __future__ import annotations

import numpy as np
import pytest

from metaimage import DatasetError, permute_tiles, shuffle_tiles, tile_grid, untile


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
