"""The view grid: which rotation each tile shows, and where each tile sits.

Convention
----------
Tile ``(i, j)`` (row ``i`` from the top, column ``j`` from the left; tile index
``k = i * cols + j``) shows the part seen from the direction

    d = (cos(e) cos(a), cos(e) sin(a), sin(e))    in the part's own frame,

with elevation ``e = 90 - (i + 0.5) * 180 / rows`` degrees and azimuth
``a = j * 360 / cols`` degrees. The part's +Z axis points up in every tile, and the
camera is orthographic. With the default 10 x 10 grid the rows look from elevations
81, 63, 45, 27, 9, -9, ..., -81 degrees and the columns from azimuths 0, 36, ..., 324
degrees, so the first tile (top left) looks down at the part from 81 degrees above
its +X side, with +Y to the right; the last row looks up from below. Elevations sit in
the middle of equal bands, so no row looks straight along +Z or -Z (where the
azimuth would only spin the picture).

The rotation of tile ``k`` is the matrix ``R_k`` whose rows are the camera's right,
up and backward (towards the viewer) axes in the part frame: a point ``p`` of the
part lands at ``R_k @ p`` in a camera frame that looks down -Z with +Y up.

Variant ``v > 0`` turns the part first by a random rotation ``Q_v`` (uniform over
rotations, seeded by ``(seed, part id, v)``): tile ``k`` then shows ``R_k @ Q_v``.
Variant 0 uses ``Q_0 = I``, the canonical grid.
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np


def view_angles(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Elevation of each row and azimuth of each column, in degrees.

    Returns
    -------
    elevations : (rows,) float64
        ``90 - (i + 0.5) * 180 / rows``, from near +90 down to near -90.
    azimuths : (cols,) float64
        ``j * 360 / cols``, from 0.
    """
    elevations = 90.0 - (np.arange(rows) + 0.5) * 180.0 / rows
    azimuths = np.arange(cols) * 360.0 / cols
    return elevations, azimuths


def view_rotation(elevation_deg: float, azimuth_deg: float) -> np.ndarray:
    """The (3, 3) float64 rotation taking the part frame to the camera frame of one view.

    Rows are the camera's right, up and backward axes expressed in the part frame
    (see the module docstring). The right axis is horizontal (it depends on the azimuth
    only), so the frame stays well defined even at elevations of +-90 degrees.
    """
    e, a = np.radians(elevation_deg), np.radians(azimuth_deg)
    back = np.array([np.cos(e) * np.cos(a), np.cos(e) * np.sin(a), np.sin(e)])
    # right = forward x Z with forward = -back, i.e. Z x back, normalised.
    right = np.array([-np.sin(a), np.cos(a), 0.0])
    up = np.cross(back, right)
    return np.stack([right, up, back])


def view_rotations(rows: int, cols: int) -> np.ndarray:
    """Rotations of all tiles in row-major order.

    Returns
    -------
    (rows * cols, 3, 3) float64
        ``R[i * cols + j]`` is the rotation of tile ``(i, j)``.
    """
    return _view_rotations(int(rows), int(cols)).copy()


@functools.lru_cache(maxsize=16)
def _view_rotations(rows: int, cols: int) -> np.ndarray:
    elevations, azimuths = view_angles(rows, cols)
    return np.stack([view_rotation(e, a) for e in elevations for a in azimuths])


def _variant_rng(seed: int, part_id: str, variant: int) -> np.random.Generator:
    # Python's hash() of a str changes between processes; a digest does not.
    digest = hashlib.sha256(part_id.encode("utf-8")).digest()
    part_key = int.from_bytes(digest[:8], "little")
    return np.random.default_rng([int(seed), part_key, int(variant)])


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A rotation drawn uniformly from SO(3): (3, 3) float64.

    A normalised 4-vector of independent normals is a uniform unit quaternion.
    """
    q = rng.standard_normal(4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def variant_rotation(seed: int, part_id: str, variant: int) -> np.ndarray:
    """The rotation ``Q_v`` applied to the part before the view grid: (3, 3) float64.

    Identity for variant 0; otherwise uniform random, and the same for the same
    ``(seed, part_id, variant)`` in every process and on every machine.
    """
    if variant < 0:
        raise ValueError(f"variant must be >= 0, got {variant}")
    if variant == 0:
        return np.eye(3)
    return random_rotation(_variant_rng(seed, part_id, variant))


def grid_rotations(rows: int, cols: int, variant_rot: np.ndarray | None = None) -> np.ndarray:
    """Rotations of all tiles for one variant: ``R_k @ Q_v``, (rows * cols, 3, 3) float64."""
    rots = view_rotations(rows, cols)
    if variant_rot is not None:
        rots = rots @ variant_rot
    return rots


def tile_centres(rows: int, cols: int) -> np.ndarray:
    """Centres of the tiles in world units, row-major: (rows * cols, 2) float64 (x, y).

    Each tile is a 2 x 2 square; the grid spans x in [-cols, cols] and y in [-rows, rows],
    with row 0 at the top (largest y).
    """
    i, j = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    x = -cols + 1.0 + 2.0 * j
    y = rows - 1.0 - 2.0 * i
    return np.stack([x.ravel(), y.ravel()], axis=1).astype(np.float64)


def tile_poses(rows: int, cols: int, rotations: np.ndarray) -> np.ndarray:
    """Model matrices placing one rotated copy of the part in each tile.

    Parameters
    ----------
    rotations : (rows * cols, 3, 3) float
        Per-tile rotations (see :func:`grid_rotations`).

    Returns
    -------
    (rows * cols, 4, 4) float64
        ``pose[k] = [[R_k, (x_k, y_k, 0)], [0, 0, 0, 1]]``.
    """
    n = rows * cols
    if rotations.shape != (n, 3, 3):
        raise ValueError(f"expected rotations of shape {(n, 3, 3)}, got {rotations.shape}")
    poses = np.zeros((n, 4, 4))
    poses[:, :3, :3] = rotations
    poses[:, :2, 3] = tile_centres(rows, cols)
    poses[:, 3, 3] = 1.0
    return poses


#: How a part is framed in its tiles (``RenderConfig.framing``).
FRAMINGS = ("sphere", "view")
#: With ``framing="view"`` a view is enlarged at most this much over the sphere framing, so
#: the depth range stays inside the projection (|z| <= 2) and a needle seen end-on does not
#: fill its tile with a few pixels of its tip.
MAX_VIEW_ZOOM = 2.0


def view_framing(vertices: np.ndarray, rotations: np.ndarray, framing: str) -> np.ndarray:
    """Per-view scale and centre that fit the part in its tiles.

    Parameters
    ----------
    vertices : (v, 3) float
        The part within the unit sphere (:func:`render.mesh.normalise`).
    rotations : (n, 3, 3) float
        Per-tile rotations.
    framing : {"sphere", "view"}
        ``"sphere"``: every view at the same scale, the unit sphere filling the tile (the
        part's size is comparable across views). ``"view"``: each view scaled and centred
        so the part's projected bounding box fills the tile (more pixels on the part; at
        most :data:`MAX_VIEW_ZOOM` times the sphere scale).

    Returns
    -------
    (n, 3) float64
        ``(scale, cx, cy)`` per view: draw ``scale * (R @ v) - scale * (cx, cy, 0)``.
    """
    n = len(rotations)
    out = np.zeros((n, 3))
    out[:, 0] = 1.0
    if framing == "sphere":
        return out
    if framing != "view":
        raise ValueError(f"framing: expected one of {FRAMINGS}, got {framing!r}")
    xy = np.einsum("kij,vj->kvi", rotations[:, :2, :], np.asarray(vertices, np.float64))
    lo, hi = xy.min(axis=1), xy.max(axis=1)  # (n, 2)
    half = np.maximum((hi - lo).max(axis=1) / 2.0, 1.0 / MAX_VIEW_ZOOM)
    out[:, 0] = 1.0 / half
    out[:, 1:] = (hi + lo) / 2.0
    return out
