"""The ``colour-stats`` feature family: a meta-image -> a fixed-length float32 vector.

A meta-image colours every face by its part-frame normal (``rgb = round((n/2 + 1/2) *
255)``, see ``metaview render``) on a black background, and every tile shows the part
with +Z up. Counting colours says how much surface faces each way; counting neighbouring
colours says which surfaces meet and which lies above or left of which (a pocket's
ceiling wall above its floor). Neither depends on where a view sits in the grid.

Quantisation: each channel ``c`` (0-255) becomes ``q = (5 * c) // 256``, levels 0-4 with
edges at 51.2, 102.4, 153.6 and 204.8; the axis colours 0, 128 and 255 fall inside levels
0, 2 and 4, never on an edge. Of the 125 cells ``(q_r, q_g, q_b)``, the 98 that a unit
normal can reach (:data:`REACHABLE`, exact box-sphere test at import) are the colour
symbols 0-97, in ``q_r * 25 + q_g * 5 + q_b`` order; the other 27 share symbol 98
(*other*: a colour no face has, e.g. from resizing or multisampling). A pixel is
background when it is exactly (0, 0, 0) (no unit normal has that colour): symbol 99.

Pairs: every two pixels one above the other, and every two side by side, *in the same
tile* (pairs never cross a tile border, so shuffling the tiles leaves every count
unchanged), counted as ordered pairs ``(a, b)`` of distinct symbols: ``a`` above ``b``
(vertical block) or ``a`` left of ``b`` (horizontal block). Pairs of equal symbols (they
follow the colour counts) and so background-background pairs are not counted. Pair
``(a, b)`` has index ``a * 99 + (b if b < a else b - 1)`` in its block.

Blocks (``colour_describe()``), D = 99 + 2 * 9900 = 19899. Every count is divided by the
number of foreground (non-background) pixels and square-rooted (the Hellinger map);
an image with no foreground gives zeros:

==========  ====  ===================================================================
block       size  content
==========  ====  ===================================================================
colour      99    sqrt(pixels of each colour symbol 0-98 / foreground pixels)
vertical    9900  sqrt(in-tile pairs a above b, a != b / foreground pixels)
horizontal  9900  sqrt(in-tile pairs a left of b, a != b / foreground pixels)
==========  ====  ===================================================================

Why ordered pairs (measured on 500 default ``metaview synth`` parts rendered as 10 x 10
grids of 32 px tiles, 70/30 split by part, logistic regression on standardised features,
C = 0.1, six splits): colours alone score 0.83-0.87; unordered pairs (h and v together)
0.92-0.99; ordered pairs, one block per direction, 0.95-0.99. Most of the 19899 entries
are zero on every image (about 2,200 vary on 500 parts); the cache compresses them.

Version history (``COLOUR_VERSION``, part of every cache key): 1, first version.
"""

from __future__ import annotations

import os

import numpy as np

from train.errors import TrainError

COLOUR_VERSION = 1

LEVELS = 5  # quantisation levels per channel


def _reachable() -> np.ndarray:
    """(125,) bool: quantised cells some unit normal's colour falls in.

    Colour ``k`` comes from normal components in ``[(k - .5) / 127.5 - 1, (k + .5) /
    127.5 - 1)``; a cell is a box of normals, reachable when the unit sphere crosses it
    (its nearest point inside the sphere, its farthest outside).
    """
    first = -(-256 * np.arange(LEVELS + 1) // LEVELS)  # first colour of each level; 256 at end
    lo = np.clip((first[:-1] - 0.5) / 127.5 - 1.0, -1.0, 1.0)
    hi = np.clip((first[1:] - 1 + 0.5) / 127.5 - 1.0, -1.0, 1.0)
    near = np.where((lo <= 0) & (hi >= 0), 0.0, np.minimum(lo**2, hi**2))
    far = np.maximum(lo**2, hi**2)
    q = np.stack(np.meshgrid(*[np.arange(LEVELS)] * 3, indexing="ij"), axis=-1).reshape(-1, 3)
    return (near[q].sum(axis=1) <= 1.0) & (far[q].sum(axis=1) >= 1.0)


REACHABLE = _reachable()
N_COLOURS = int(REACHABLE.sum())  # 98 colour symbols
OTHER = N_COLOURS  # symbol 98: a cell no unit normal reaches
BACKGROUND = N_COLOURS + 1  # symbol 99: (0, 0, 0)
N_SYMBOLS = N_COLOURS + 2
N_PAIRS = N_SYMBOLS * (N_SYMBOLS - 1)  # ordered pairs of distinct symbols, per direction
_SYMBOL = np.where(REACHABLE, np.cumsum(REACHABLE) - 1, OTHER)  # cell -> symbol


def colour_features_dim() -> int:
    """Length of a ``colour-stats`` vector (19899)."""
    return N_COLOURS + 1 + 2 * N_PAIRS


def colour_describe() -> list[tuple[str, int, int, str]]:
    """The feature blocks in order: ``(name, start, stop, description)``, ``stop`` exclusive."""
    c = N_COLOURS + 1
    return [
        ("colour", 0, c, "sqrt(pixels of each colour symbol (98 = other) / fg)"),
        ("vertical", c, c + N_PAIRS, "sqrt(in-tile pairs a above b, a != b / fg)"),
        ("horizontal", c + N_PAIRS, c + 2 * N_PAIRS, "sqrt(in-tile pairs a left of b / fg)"),
    ]


def quantise(image: np.ndarray) -> np.ndarray:
    """Symbol of every pixel: colour 0-97, other 98, background 99 (see the module docstring).

    Parameters
    ----------
    image : (..., 3) uint8

    Returns
    -------
    (...) int64
    """
    q = (image.astype(np.int64) * LEVELS) // 256
    sym = _SYMBOL[q[..., 0] * LEVELS * LEVELS + q[..., 1] * LEVELS + q[..., 2]]
    return np.where((image == 0).all(axis=-1), BACKGROUND, sym)


def _pair_counts(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N_PAIRS,) counts of ordered pairs ``(a, b)`` of distinct symbols, elementwise."""
    differ = a != b
    a, b = a[differ], b[differ]
    return np.bincount(a * (N_SYMBOLS - 1) + b - (b > a), minlength=N_PAIRS)


def colour_features(image: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The ``colour-stats`` vector of one meta-image.

    Parameters
    ----------
    image : (rows * h, cols * w, 3) uint8
        A meta-image as ``metaview render`` writes it.
    rows, cols : int
        Its grid; pairs are counted inside each ``h x w`` tile only.

    Returns
    -------
    (colour_features_dim(),) float32
        Blocks as in :func:`colour_describe`. Exactly the same for any order of the tiles.

    Raises
    ------
    TrainError
        Not an (H, W, 3) uint8 image, or H, W not divisible by rows, cols.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise TrainError(f"expected an (H, W, 3) uint8 image, got {image.dtype} {image.shape}")
    if rows < 1 or cols < 1 or image.shape[0] % rows or image.shape[1] % cols:
        raise TrainError(
            f"expected an image that divides into {rows}x{cols} tiles, got "
            f"{image.shape[0]}x{image.shape[1]} pixels"
        )
    h, w = image.shape[0] // rows, image.shape[1] // cols
    # (rows, h, cols, w): tile axes 0 and 2, pixel axes 1 and 3.
    sym = quantise(image).reshape(rows, h, cols, w)
    fg = sym != BACKGROUND
    n_fg = int(fg.sum())
    if n_fg == 0:
        return np.zeros(colour_features_dim(), dtype=np.float32)
    counts = np.concatenate(
        [
            np.bincount(sym[fg], minlength=N_SYMBOLS)[: N_COLOURS + 1],
            # Neighbours along the pixel axes only: never across a tile border. Integer
            # counts summed in any order are exact, so a tile shuffle changes no bit.
            _pair_counts(sym[:, :-1], sym[:, 1:]),  # a above b
            _pair_counts(sym[..., :-1], sym[..., 1:]),  # a left of b
        ]
    )
    return np.sqrt(counts / n_fg).astype(np.float32)


def image_features(path: str | os.PathLike, rows: int, cols: int) -> np.ndarray:
    """Read a meta-image file (PNG) and return its ``colour-stats`` vector.

    Parameters
    ----------
    path : path-like
    rows, cols : int
        The grid it was rendered with (``metaimage.json``).

    Returns
    -------
    (colour_features_dim(),) float32

    Raises
    ------
    metaimage.DatasetError
        The file is missing or not an image, naming the file.
    TrainError
        The image does not fit the grid, naming the file.
    """
    from metaimage.io import read_png

    image = read_png(path)
    try:
        return colour_features(image, rows, cols)
    except TrainError as exc:
        raise TrainError(f"{path}: {exc}") from None
