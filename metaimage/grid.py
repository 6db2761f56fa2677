"""Meta-image grids: views <-> one tiled image, and tile permutations. Pure numpy.

A grid of ``rows x cols`` tiles, each ``h x w`` pixels, is one ``(rows * h, cols * w, c)``
image; tile ``k`` (row-major: ``k = i * cols + j``) occupies rows ``i*h:(i+1)*h`` and
columns ``j*w:(j+1)*w``.
"""

from __future__ import annotations

import re

import numpy as np

from metaimage.errors import DatasetError

_GRID = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


def parse_grid(text: str) -> tuple[int, int]:
    """``"10x10"`` -> ``(10, 10)``: a meta-image grid as ``ROWSxCOLS``, both positive.

    The one reader of a grid, for every option and file that names one.

    Raises
    ------
    DatasetError
        For anything else, saying what was expected.
    """
    m = _GRID.match(str(text))
    if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
        raise DatasetError(
            f"grid: expected ROWSxCOLS of positive integers (e.g. 10x10), got {text!r}"
        )
    return int(m.group(1)), int(m.group(2))


def _check_grid(grid: np.ndarray, rows: int, cols: int) -> tuple[int, int]:
    if rows < 1 or cols < 1:
        raise DatasetError(f"expected rows and cols >= 1, got {rows}x{cols}")
    if grid.ndim not in (2, 3):
        raise DatasetError(f"expected a grid image of shape (H, W) or (H, W, C), got {grid.shape}")
    height, width = grid.shape[:2]
    if height % rows or width % cols:
        raise DatasetError(
            f"expected a grid whose height and width divide into {rows}x{cols} tiles, "
            f"got {height}x{width}"
        )
    return height // rows, width // cols


def tile_grid(views: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Arrange views into one grid image, row-major.

    Parameters
    ----------
    views : (rows * cols, h, w, c) or (rows * cols, h, w) array, any dtype
    rows, cols : int

    Returns
    -------
    (rows * h, cols * w, c) or (rows * h, cols * w) array, same dtype.
    """
    views = np.asarray(views)
    if views.ndim not in (3, 4) or views.shape[0] != rows * cols:
        raise DatasetError(
            f"expected {rows * cols} views of shape (h, w[, c]) for a {rows}x{cols} grid, "
            f"got an array of shape {views.shape}"
        )
    n, h, w = views.shape[:3]
    rest = views.shape[3:]
    grid = views.reshape((rows, cols, h, w) + rest).swapaxes(1, 2)
    return np.ascontiguousarray(grid.reshape((rows * h, cols * w) + rest))


def untile(grid: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Split a grid image into its tiles, row-major (the inverse of :func:`tile_grid`).

    Parameters
    ----------
    grid : (rows * h, cols * w, c) or (rows * h, cols * w) array

    Returns
    -------
    (rows * cols, h, w, c) or (rows * cols, h, w) array, same dtype.
    """
    grid = np.asarray(grid)
    h, w = _check_grid(grid, rows, cols)
    rest = grid.shape[2:]
    tiles = grid.reshape((rows, h, cols, w) + rest).swapaxes(1, 2)
    return np.ascontiguousarray(tiles.reshape((rows * cols, h, w) + rest))


def permute_tiles(grid: np.ndarray, rows: int, cols: int, perm: np.ndarray) -> np.ndarray:
    """Reorder the tiles of a grid: tile ``k`` of the output is tile ``perm[k]`` of the input.

    ``permute_tiles(permute_tiles(g, r, c, p), r, c, np.argsort(p))`` restores ``g``.

    Parameters
    ----------
    grid : (rows * h, cols * w[, c]) array
    perm : (rows * cols,) int
        A permutation of ``0 .. rows * cols - 1``.

    Returns
    -------
    Array of the same shape and dtype as ``grid``.
    """
    perm = np.asarray(perm)
    n = rows * cols
    if perm.shape != (n,) or not np.issubdtype(perm.dtype, np.integer):
        raise DatasetError(
            f"expected an integer permutation of shape ({n},), got {perm.dtype} {perm.shape}"
        )
    if not np.array_equal(np.sort(perm), np.arange(n)):
        raise DatasetError(f"expected a permutation of 0..{n - 1}, got repeated or missing indices")
    return tile_grid(untile(grid, rows, cols)[perm], rows, cols)


def shuffle_tiles(
    grid: np.ndarray, rows: int, cols: int, rng: np.random.Generator, return_perm: bool = False
):
    """Shuffle the tiles of a grid with a permutation drawn from ``rng``.

    Parameters
    ----------
    grid : (rows * h, cols * w[, c]) array
    rng : numpy.random.Generator
        The only source of randomness: the same generator state gives the same shuffle.
    return_perm : bool
        Also return the permutation used (see :func:`permute_tiles`).

    Returns
    -------
    shuffled : array of the same shape and dtype
    perm : (rows * cols,) int64, only if ``return_perm``
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
    perm = rng.permutation(rows * cols)
    shuffled = permute_tiles(grid, rows, cols, perm)
    return (shuffled, perm) if return_perm else shuffled
