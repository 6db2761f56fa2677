"""The frame of a stock face, and the geometry that feature samplers and cutters share.

Every feature lives in its face's own frame: the face is the plane ``z = 0``, material lies
at ``z < 0``, the outward normal is ``+z`` and the face spans ``u in [-U/2, U/2]``,
``v in [-V/2, V/2]`` (:class:`FaceSize`). Side features are built facing ``+u`` and turned
by exact quarter turns (:func:`quarter_turn`). The feature type and the solids of the kinds
are :mod:`assets.cutters` (and :mod:`assets.cutters_closed`, :mod:`assets.cutters_open` for
the taxonomy kinds), which all build on this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import manifold3d as mf
import numpy as np

LIFT = 1.0  # cutters rise this far above the face, so no cutter face is coplanar with it
OVERSHOOT = 1.0  # features open to a side run this far past the stock's edge, for the same reason
DRILL_POINT_DEG = 118.0  # included angle of a twist drill's point (conical hole bottom)
SIDES = ("+u", "+v", "-u", "-v")  # a face's edges by the way they face; index = quarter turns

# A box (u0, u1, v0, v1, z0, z1) in the face frame that contains all the material a cutter
# removes from the stock. Boxes decide overlaps; the cutter may stick out of the stock past it.
Box = tuple[float, float, float, float, float, float]


@dataclass(frozen=True)
class FaceSize:
    """The size of a stock face, in its own frame.

    Attributes
    ----------
    u, v : float
        Extents of the face along its ``u`` and ``v`` axes (mm).
    depth : float
        Thickness of the stock along the face's normal (mm): a cut this deep goes through.
    """

    u: float
    v: float
    depth: float


class FeatureLike(Protocol):
    """What a cutter builder reads of a feature (:class:`assets.cutters.Feature`)."""

    kind: str
    position: tuple[float, float]
    size: dict[str, float]
    options: dict[str, str]


def quarter_turn(k: int) -> np.ndarray:
    """The exact rotation by ``k`` quarter turns about ``+z`` as a 3x4 affine matrix.

    Side features are built facing ``+u`` and then turned: quarter turns are signed
    permutations, so turning moves no coordinate by a rounding error.
    """
    c, s = ((1, 0), (0, 1), (-1, 0), (0, -1))[k % 4]
    return np.array([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0]], dtype=np.float64)


def turn_point(k: int, a: float, b: float) -> tuple[float, float]:
    """The point ``(a, b)`` turned by ``k`` quarter turns about ``+z`` (exactly)."""
    m = quarter_turn(k)
    return (m[0, 0] * a + m[0, 1] * b + 0.0, m[1, 0] * a + m[1, 1] * b + 0.0)


def side_extents(face: FaceSize, side: str) -> tuple[float, float]:
    """``(A, B)``: the face's extent across the edge ``side`` and along it."""
    return (face.u, face.v) if side in ("+u", "-u") else (face.v, face.u)


def drill_point(radius: float) -> float:
    """Height of a drill point's cone for a hole of this radius."""
    return radius / math.tan(math.radians(DRILL_POINT_DEG / 2))


def revolved(
    profile: list[tuple[float, float]], cu: float, cv: float, segments: int
) -> mf.Manifold:
    """Revolve a ``(radius, z)`` profile (counter-clockwise) about the vertical through (cu, cv)."""
    section = mf.CrossSection([profile])
    return mf.Manifold.revolve(section, circular_segments=segments).translate((cu, cv, 0.0))
