"""The stock box of a synthetic part and the frames of its six faces.

A part's stock is the box ``[0, sx] x [0, sy] x [0, sz]`` mm. Each face has its own frame
(:data:`FACE_FRAMES`), the one :mod:`assets.features` draws and cuts in: the face is the
plane ``z = 0`` of that frame, material lies at ``z < 0``. :func:`face_frame` gives the exact
map from a face's frame to the world (a signed permutation and a shift).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assets.cutters import Box, FaceSize

# Each face's frame as world vectors (u, v, n): u x v = n, n is the outward normal. Side faces
# have v = +Z, so their "+v" edge is the top edge.
FACE_FRAMES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "x_plus": ((0, 1, 0), (0, 0, 1), (1, 0, 0)),
    "x_minus": ((0, -1, 0), (0, 0, 1), (-1, 0, 0)),
    "y_plus": ((-1, 0, 0), (0, 0, 1), (0, 1, 0)),
    "y_minus": ((1, 0, 0), (0, 0, 1), (0, -1, 0)),
    "z_plus": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "z_minus": ((1, 0, 0), (0, -1, 0), (0, 0, -1)),
}


def face_normal(face: str) -> np.ndarray:
    """The outward normal of a stock face (or the direction of a class), (3,) float64."""
    return np.array(FACE_FRAMES[face][2], dtype=np.float64)


@dataclass(frozen=True)
class FaceFrame:
    """A stock face: its size in its own frame and the exact map from that frame to the world.

    Attributes
    ----------
    size : assets.cutters.FaceSize
        Extents ``u``, ``v`` and the stock's thickness under the face (mm).
    rotation : (3, 3) float64
        Columns: the face's ``u``, ``v`` and outward normal in world coordinates (a signed
        permutation, so mapping loses nothing to rounding).
    origin : (3,) float64
        World position of the face's centre.
    """

    size: FaceSize
    rotation: np.ndarray
    origin: np.ndarray

    def to_world(self, p: np.ndarray) -> np.ndarray:
        """Map a point (3,) from the face frame to the (untilted) world frame."""
        return self.rotation @ p + self.origin

    def affine(self) -> np.ndarray:
        """The face-to-world map as a 3x4 affine matrix."""
        return np.hstack([self.rotation, self.origin[:, None]])

    def world_box(self, box: Box) -> tuple[np.ndarray, np.ndarray]:
        """A face-frame box ``(u0, u1, v0, v1, z0, z1)`` as world ``(lo (3,), hi (3,))``."""
        u0, u1, v0, v1, z0, z1 = box
        corners = np.array([[u, v, z] for u in (u0, u1) for v in (v0, v1) for z in (z0, z1)])
        world = corners @ self.rotation.T + self.origin
        return world.min(axis=0), world.max(axis=0)


def face_frame(face: str, stock: tuple[float, float, float]) -> FaceFrame:
    """The frame of a named face (a class or ``z_minus``) of a stock box with sides ``stock``."""
    rotation = np.array(FACE_FRAMES[face], dtype=np.float64).T
    sides = np.array(stock, dtype=np.float64)
    u, v, n = (float(np.abs(rotation[:, i]) @ sides) for i in range(3))
    origin = sides / 2 + rotation[:, 2] * n / 2
    return FaceFrame(FaceSize(u, v, n), rotation, origin)
