"""Tile-shuffle augmentation: the TensorFlow ops match metaimage.permute_tiles exactly."""

from __future__ import annotations

import numpy as np
import pytest

import metaimage

pytestmark = pytest.mark.tf


def _grid(rows, cols, tile, channels=3):
    # Every pixel unique, so any misplaced pixel shows.
    n = rows * tile * cols * tile * channels
    return np.arange(n, dtype=np.int32).reshape(rows * tile, cols * tile, channels)


@pytest.mark.parametrize(("rows", "cols", "tile"), [(2, 2, 4), (3, 5, 2), (1, 4, 3), (10, 10, 2)])
def test_permute_tiles_matches_numpy(rows, cols, tile):
    import tensorflow as tf

    from train.augment import permute_tiles

    grid = _grid(rows, cols, tile)
    rng = np.random.default_rng(rows * 100 + cols)
    for _ in range(3):
        perm = rng.permutation(rows * cols)
        got = permute_tiles(tf.constant(grid), rows, cols, tf.constant(perm)).numpy()
        np.testing.assert_array_equal(got, metaimage.permute_tiles(grid, rows, cols, perm))


def test_permute_tiles_semantics_tile_i_is_input_tile_perm_i():
    import tensorflow as tf

    from train.augment import permute_tiles

    rows, cols, tile = 2, 3, 2
    grid = _grid(rows, cols, tile)
    perm = np.array([5, 0, 3, 1, 4, 2])
    out = permute_tiles(tf.constant(grid), rows, cols, tf.constant(perm)).numpy()
    for i, src in enumerate(perm):
        r, c = divmod(i, cols)
        sr, sc = divmod(int(src), cols)
        np.testing.assert_array_equal(
            out[r * tile : (r + 1) * tile, c * tile : (c + 1) * tile],
            grid[sr * tile : (sr + 1) * tile, sc * tile : (sc + 1) * tile],
        )


def test_shuffle_tiles_is_a_seeded_permutation():
    import tensorflow as tf

    from train.augment import shuffle_tiles

    rows, cols, tile = 4, 4, 3
    grid = _grid(rows, cols, tile)
    tiles_in = metaimage.untile(grid, rows, cols).reshape(rows * cols, -1)
    outs = []
    for seed in ([1, 2], [1, 2], [3, 4]):
        out = shuffle_tiles(tf.constant(grid), rows, cols, tf.constant(seed, tf.int64)).numpy()
        tiles_out = metaimage.untile(out, rows, cols).reshape(rows * cols, -1)
        # Each output tile is exactly one input tile, each input tile used once.
        idx = [int(np.flatnonzero((tiles_in == t).all(axis=1))[0]) for t in tiles_out]
        assert sorted(idx) == list(range(rows * cols))
        outs.append(idx)
    assert outs[0] == outs[1]  # same seed, same order
    assert outs[0] != outs[2]  # another seed, another order (16! orders: a clash is ~impossible)
    assert outs[0] != list(range(rows * cols))
