"""Stock and features: which faces of a straightened part lie on its bounding box.

A face whose three corners all lie within a tolerance of one side plane of the part's
bounding box is *stock* surface, left as the blank was; every other face was cut (walls,
floors, chamfers, drill points). The ``normals`` features and the reachability analysis
both split a part this way, each with its own tolerance.
"""

from __future__ import annotations

import numpy as np

#: The six box sides in the order +X, -X, +Y, -Y, +Z, -Z: each side's axis and sign.
SIDE_AXIS = np.array([0, 0, 1, 1, 2, 2])
SIDE_SIGN = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])


def side_distances(
    tri: np.ndarray, lo: np.ndarray, hi: np.ndarray, scale: float = 1.0
) -> np.ndarray:
    """Distance of every corner from every side plane of the box ``[lo, hi]``, inwards.

    Parameters
    ----------
    tri : (f, 3, 3) float
        The faces' corners, inside the box.
    lo, hi : (3,) float
        The box's corners (the corners' minimum and maximum).
    scale : float
        Distances are divided by it (the longest side, for lengths relative to the part).

    Returns
    -------
    (f, 3, 6) float64
        ``[face, corner, side]``, >= 0 for corners inside the box, sides as :data:`SIDE_AXIS`.
    """
    coord = tri[:, :, SIDE_AXIS]
    return np.where(SIDE_SIGN > 0, hi[SIDE_AXIS] - coord, coord - lo[SIDE_AXIS]) / scale


def stock_sides(dist: np.ndarray, tol: float) -> np.ndarray:
    """The side planes each face lies on: all three corners within ``tol``.

    Parameters
    ----------
    dist : (f, 3, 6) float
        From :func:`side_distances`.
    tol : float
        In the units of ``dist``.

    Returns
    -------
    (f, 6) bool
        A face on no side (no True in its row) is a feature face.
    """
    return dist.max(axis=1) <= tol


def stock_faces(vertices: np.ndarray, faces: np.ndarray, tol: float) -> np.ndarray:
    """Which faces lie on the bounding box of the faces' corners: the stock.

    Parameters
    ----------
    vertices : (v, 3) float
    faces : (f, 3) int
    tol : float
        A fraction of the box's longest side (``geometry.normals.BOX_TOL`` for the
        ``normals`` family's split). On a part that is still tilted, few faces are stock.

    Returns
    -------
    (f,) bool
    """
    tri = np.asarray(vertices, np.float64)[faces]
    lo, hi = tri.min(axis=(0, 1)), tri.max(axis=(0, 1))
    longest = float(max((hi - lo).max(), 1e-12))
    return stock_sides(side_distances(tri, lo, hi, longest), tol).any(axis=1)
