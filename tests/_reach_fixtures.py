"""Parts for the reach tests (:mod:`geometry.reach`, ``metaview explain``): a 40 x 30 x 20 block
centred on the origin (x in [-20, 20], y in [-15, 15], z in [-10, 10]) with cutters subtracted
by manifold3d, built in memory."""

from __future__ import annotations

import numpy as np
import trimesh

SIZE = (40.0, 30.0, 20.0)


def box(extents, centre=(0.0, 0.0, 0.0)) -> trimesh.Trimesh:
    return trimesh.creation.box(
        extents=extents, transform=trimesh.transformations.translation_matrix(centre)
    )


def span(lo, hi) -> trimesh.Trimesh:
    """The box [lo, hi] (3-vectors)."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    return box(hi - lo, (lo + hi) / 2)


def rod(p0, p1, radius=3.0) -> trimesh.Trimesh:
    return trimesh.creation.cylinder(radius=radius, segment=[p0, p1], sections=32)


def cut(*cutters) -> trimesh.Trimesh:
    part = trimesh.boolean.difference([box(SIZE), *cutters], engine="manifold")
    assert part.is_watertight
    return part


def blind_hole_x() -> trimesh.Trimesh:
    return cut(rod((8, 0, 0), (25, 0, 0)))  # 12 mm deep into the +X face


def through_hole_x() -> trimesh.Trimesh:
    return cut(rod((-25, 0, 0), (25, 0, 0)))


def step_x_z() -> trimesh.Trimesh:
    return cut(span((15, -20, 6), (25, 20, 15)))  # the whole +X/+Z edge, 5 wide, 4 deep


def t_slot(open_ends: bool) -> trimesh.Trimesh:
    """A T-slot cut down from +Z along X: a 4 mm neck over a 12 mm wide, 4 mm high channel."""
    x = 25 if open_ends else 12
    return cut(span((-x, -2, 4), (x, 2, 15)), span((-x, -6, 0), (x, 6, 4)))


def blind_pocket_z() -> trimesh.Trimesh:
    """A 16 x 12 pocket, 6 deep, into the +Z face."""
    return cut(span((-8, -6, 4), (8, 6, 15)))
