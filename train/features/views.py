"""View-pooled image features: what each direction's views show, for one shared scorer.

The image model's usual head sees the backbone's features max-pooled over the whole
meta-image: it cannot tell which view showed a pocket, so it learns from colours and
looks which face holds it, and it learns the generator's look (docs/accuracy.md: 0.68-0.86
on sets unlike its training). This family keeps where each feature was seen:

1. the frozen backbone's features are max-pooled per tile
   (:func:`train.models.efficientnet_lite.build_tile_backbone`): ``g``, (T, D);
2. tile ``k`` looks at the part from ``t_k`` (towards the viewer, in the part's frame:
   the render's view grid turned by the meta-image's variant rotation,
   :mod:`render.views`);
3. direction ``d`` gets the tiles that look at it: ``w_dk ~ max(0, t_k . d) ** POWER``
   where ``t_k . d > FLOOR``, normalised to sum 1, and ``f_d = sum_k w_dk g_k``.

The features of a meta-image are ``f`` for the five directions in class order,
flattened: (5 * D,). The family's head (:func:`train.models.classifier.views_head`) scores
every direction with the same weights, so what it learns is what a machined face looks
like, not which colours the training parts had. Measured on 600 taxonomy parts
(bench/viewpool.py, 3 split seeds): 0.92-0.99 on five shifted sets, against 0.68-0.86
for the max-pooled head on the same backbone.
"""

from __future__ import annotations

import numpy as np

from geometry.directions import DIRECTIONS
from geometry.normals import NORMAL_FEATURES_DIM
from train.errors import TrainError

#: Tiles whose view is more than about 60 degrees off a direction do not count for it.
FLOOR = 0.5
#: Tiles facing a direction squarely count more than oblique ones.
POWER = 2.0
#: The family's name: its registered model and its features (train.featurize.FEATURES).
FAMILY = "efficientnet-lite0-views"
#: The backbone's name in the registry, and its per-tile feature length.
BACKBONE = "efficientnet-lite0"
TILE_DIM = 2048
VIEWS_DIM = len(DIRECTIONS) * TILE_DIM
VIEWS_VERSION = 1
#: The combined family: these view-pooled features, then the part's face-normal features
#: (:mod:`geometry.normals`), side by side under one head
#: (:func:`train.models.classifier.views_normals_head`).
COMBINED = "efficientnet-lite0-views-normals"
COMBINED_DIM = VIEWS_DIM + NORMAL_FEATURES_DIM
#: The families whose features need the view grid of their meta-images.
VIEW_FAMILIES = (FAMILY, COMBINED)


def check_classes(labels, where: str) -> None:
    """The family scores the five directions: a dataset of other classes cannot use it."""
    if sorted(labels) != sorted(DIRECTIONS):
        raise TrainError(
            f"{where}: the views family scores the five directions "
            f"({', '.join(DIRECTIONS)}); this dataset's classes are {', '.join(labels)}"
        )


def tile_directions(rows: int, cols: int, seed: int, part_id: str, variant: int) -> np.ndarray:
    """Where each tile looks from, in the part's frame: (rows * cols, 3) float64 unit
    vectors, tiles row-major (towards the viewer: a face with normal ``n`` shows when
    ``n . t > 0``)."""
    from render.views import variant_rotation, view_rotations

    back = view_rotations(rows, cols)[:, 2, :]
    # Tile k's rotation is R_k Q; its backward axis in the part frame is Q^T b_k.
    return back @ variant_rotation(seed, part_id, variant)


def view_weights(
    directions: np.ndarray, labels, power: float = POWER, floor: float = FLOOR
) -> np.ndarray:
    """Tile weights per class: (len(labels), T) float32, each row summing to 1.

    Parameters
    ----------
    directions : (T, 3) float
        :func:`tile_directions`.
    labels : sequence of str
        Class names, in the model's output order (each one of the five directions).
    power, floor : float
        ``w ~ max(0, cos) ** power`` where ``cos > floor`` (the defaults: :data:`POWER`,
        :data:`FLOOR`; other values for ``bench/viewpool.py``).
    """
    dirs = np.array([DIRECTIONS[name] for name in labels], dtype=np.float64)
    c = dirs @ np.asarray(directions, np.float64).T  # (C, T)
    w = np.where(c > floor, np.maximum(c, 0.0) ** power, 0.0)
    return (w / np.maximum(w.sum(axis=1, keepdims=True), 1e-12)).astype(np.float32)


def pool_views(tiles: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per-direction features of meta-images.

    Parameters
    ----------
    tiles : (n, T, D) float
        Per-tile backbone features.
    weights : (n, C, T) float
        :func:`view_weights` of each meta-image.

    Returns
    -------
    (n, C * D) float32
        ``f[i, c] = sum_k weights[i, c, k] * tiles[i, k]``, classes in order, flattened.
    """
    tiles = np.asarray(tiles, np.float32)
    weights = np.asarray(weights, np.float32)
    if tiles.ndim != 3 or weights.ndim != 3 or weights.shape[2] != tiles.shape[1]:
        raise TrainError(
            f"view pooling: expected tiles (n, T, D) and weights (n, C, T), found "
            f"{tiles.shape} and {weights.shape}"
        )
    f = np.einsum("nct,ntd->ncd", weights, tiles)
    return f.reshape(len(f), -1).astype(np.float32)


def weights_of(meta: dict, views, labels, **shape) -> np.ndarray:
    """:func:`view_weights` of meta-images seen as ``views`` (``(part_id, variant)`` each)
    under the render config of ``meta`` (a ``metaimage.json``): (n, C, T) float32.
    ``shape`` passes ``power`` and ``floor`` on."""
    (rows, cols), seed = grid_and_seed(meta)
    out = [
        view_weights(tile_directions(rows, cols, seed, str(p), int(v)), labels, **shape)
        for p, v in views
    ]
    return np.stack(out) if out else np.zeros((0, len(labels), rows * cols), np.float32)


def row_weights(meta: dict, rows, labels) -> np.ndarray:
    """:func:`weights_of` manifest rows (their ``part_id`` and ``variant``)."""
    return weights_of(meta, [(r["part_id"], r["variant"]) for r in rows], labels)


def grid_and_seed(meta: dict) -> tuple[tuple[int, int], int]:
    config = meta.get("config") if hasattr(meta, "get") else None
    if not isinstance(config, dict) or "rows" not in config or "seed" not in config:
        raise TrainError(
            "the views family needs the render config (grid and variant seed) of its "
            "meta-images: expected metaimage.json from `metaview render`, found none (for "
            "meta-images made elsewhere, use --model efficientnet-lite0)"
        )
    return (int(config["rows"]), int(config["cols"])), int(config["seed"])
