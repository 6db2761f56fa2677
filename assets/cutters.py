"""Machining features as cutters in the frame of the face they are cut into.

Every feature lives in its face's own frame: the face is the plane ``z = 0``, material lies
at ``z < 0``, the outward normal is ``+z`` and the face spans ``u in [-U/2, U/2]``,
``v in [-V/2, V/2]`` (:class:`FaceSize`). :mod:`assets.part` maps that frame onto a stock
face with an exact rotation (a signed permutation) and subtracts the cutters.

Why every feature is reachable from ``+z``: each cutter is *column-monotone*. Wherever the
cutter contains a point ``(u, v, z)`` inside the stock, it also contains every point
``(u, v, z')`` with ``z < z' <= 0``, and it rises ``LIFT`` mm above the face. The material a
cutter removes is therefore a union of vertical columns open to ``+z``, and every surface it
leaves behind (floor, wall, cone, chamfer) looks straight out of the face along ``+z``.
The through kinds (``metaview synth --through``) go right through the stock, out of the
opposite face: still column-monotone, and also open to ``-z``.

This module holds what a feature *is*: :class:`Feature`, the face-frame geometry shared with
the samplers, and the solid each kind cuts (:meth:`Feature.cutter`). How features are drawn
at random, and which kinds exist, is :mod:`assets.features`.

Why the solids sit with :class:`Feature` rather than with their samplers: the method
dispatches on ``kind`` to a builder, so the type and the builders must share a module for
the imports to stay free of cycles.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import manifold3d as mf
import numpy as np

from assets.cutters_closed import BUILDERS as CLOSED_BUILDERS
from assets.cutters_open import BUILDERS as OPEN_BUILDERS
from assets.face_geometry import (
    DRILL_POINT_DEG,
    LIFT,
    OVERSHOOT,
    SIDES,
    Box,
    FaceSize,
    drill_point,
    quarter_turn,
    revolved,
    side_extents,
    turn_point,
)

__all__ = [
    "DRILL_POINT_DEG",
    "LIFT",
    "OVERSHOOT",
    "SIDES",
    "Box",
    "FaceSize",
    "Feature",
    "drill_point",
    "side_extents",
    "turn_point",
]


@dataclass(frozen=True)
class Feature:
    """One machining feature, placed on a face, in that face's frame.

    Attributes
    ----------
    kind : str
        One of :data:`assets.features.KINDS` or :data:`assets.features.THROUGH_KINDS`.
    position : (float, float)
        ``(u, v)`` of the feature's reference point on the face: the centre of a hole or a
        pocket, the middle of a slot's, step's or chamfer's footprint.
    size : dict[str, float]
        Named dimensions in mm (``diameter``, ``depth``, ``width``...) and degrees (``angle``).
    options : dict[str, str]
        Named choices: ``bottom`` (``flat``/``drill``), ``side``, ``edges``, ``end``.
    boxes : tuple of Box
        Boxes ``(u0, u1, v0, v1, z0, z1)`` holding all the material the feature removes.
    """

    kind: str
    position: tuple[float, float]
    size: dict[str, float]
    options: dict[str, str] = field(default_factory=dict)
    boxes: tuple[Box, ...] = ()

    def cutter(self, face: FaceSize, segments: int) -> mf.Manifold:
        """Build the solid to subtract, in the face frame.

        Parameters
        ----------
        face : FaceSize
            The face the feature was sampled for.
        segments : int
            Line segments per full circle for round shapes.

        Returns
        -------
        manifold3d.Manifold
        """
        return _BUILDERS[self.kind](self, face, segments)


# --- blind kinds ---------------------------------------------------------------------------


def _build_hole(f: Feature, face: FaceSize, segments: int) -> mf.Manifold:
    r, depth = f.size["diameter"] / 2, f.size["depth"]
    tip = [(0.0, -depth - drill_point(r))] if f.options["bottom"] == "drill" else [(0.0, -depth)]
    profile = [*tip, (r, -depth), (r, LIFT), (0.0, LIFT)]
    return revolved(profile, *f.position, segments)


def _build_counterbore(f: Feature, face: FaceSize, segments: int) -> mf.Manifold:
    r, depth = f.size["diameter"] / 2, f.size["depth"]
    r_cb, cb_depth = f.size["cb_diameter"] / 2, f.size["cb_depth"]
    tip = [(0.0, -depth - drill_point(r))] if f.options["bottom"] == "drill" else [(0.0, -depth)]
    profile = [*tip, (r, -depth), (r, -cb_depth), (r_cb, -cb_depth), (r_cb, LIFT), (0.0, LIFT)]
    return revolved(profile, *f.position, segments)


def _build_circular_pocket(f: Feature, face: FaceSize, segments: int) -> mf.Manifold:
    r, depth = f.size["diameter"] / 2, f.size["depth"]
    return revolved([(0.0, -depth), (r, -depth), (r, LIFT), (0.0, LIFT)], *f.position, segments)


def _build_rectangular_pocket(f: Feature, face: FaceSize, segments: int) -> mf.Manifold:
    w, length, depth, r = (f.size[k] for k in ("width", "length", "depth", "corner_radius"))
    if r > 0:
        core = mf.CrossSection.square((w - 2 * r, length - 2 * r), center=True)
        section = core.offset(r, mf.JoinType.Round, circular_segments=segments)
    else:
        section = mf.CrossSection.square((w, length), center=True)
    cu, cv = f.position
    return mf.Manifold.extrude(section, depth + LIFT).translate((cu, cv, -depth))


def _build_slot(f: Feature, face: FaceSize, segments: int) -> mf.Manifold:
    k = SIDES.index(f.options["side"])
    across, _ = side_extents(face, f.options["side"])
    w, length, depth = f.size["width"], f.size["length"], f.size["depth"]
    # Back in the slot's own frame: it opens towards +a, its centre line is b = centre.
    a_mid, centre = turn_point(-k, *f.position)
    a0 = a_mid - length / 2
    start = a0 + w / 2 if f.options["end"] == "round" else a0
    rect = [
        (start, centre - w / 2),
        (across / 2 + OVERSHOOT, centre - w / 2),
        (across / 2 + OVERSHOOT, centre + w / 2),
        (start, centre + w / 2),
    ]
    section = mf.CrossSection([rect])
    if f.options["end"] == "round":
        section = section + mf.CrossSection.circle(w / 2, segments).translate((start, centre))
    solid = mf.Manifold.extrude(section, depth + LIFT).translate((0.0, 0.0, -depth))
    return solid.transform(quarter_turn(k))


def _build_step(f: Feature, face: FaceSize, segments: int) -> mf.Manifold:
    k = SIDES.index(f.options["side"])
    across, along = side_extents(face, f.options["side"])
    w, depth = f.size["width"], f.size["depth"]
    size = (w + OVERSHOOT, along + 2 * OVERSHOOT, depth + LIFT)
    solid = mf.Manifold.cube(size).translate((across / 2 - w, -along / 2 - OVERSHOOT, -depth))
    return solid.transform(quarter_turn(k))


def _build_chamfer(f: Feature, face: FaceSize, segments: int) -> mf.Manifold:
    w = f.size["width"]
    h = w * math.tan(math.radians(f.size["angle"]))
    solids = []
    for side in f.options["edges"].split(","):
        k = SIDES.index(side)
        across, along = side_extents(face, side)
        # The triangle above the chamfer plane through (across/2 - w, 0) and (across/2, -h),
        # in (a, z), extended past the edge and above the face.
        tri = [
            (across / 2 - w - LIFT * w / h, LIFT),
            (across / 2 + OVERSHOOT, -h - OVERSHOOT * h / w),
            (across / 2 + OVERSHOOT, LIFT),
        ]
        prism = mf.Manifold.extrude(mf.CrossSection([tri]), along + 2 * OVERSHOOT)
        # Extrusion frame (x, y, t) -> (a, b, z) = (x, along/2 + OVERSHOOT - t, y): a rotation.
        lay = np.array([[1, 0, 0, 0], [0, 0, -1, along / 2 + OVERSHOOT], [0, 1, 0, 0]], float)
        solids.append(prism.transform(lay).transform(quarter_turn(k)))
    return mf.Manifold.batch_boolean(solids, mf.OpType.Add)


# --- through kinds: their floor lies OVERSHOOT below the opposite face ---------------------


def _build_through_hole(f: Feature, face: FaceSize, segments: int) -> mf.Manifold:
    r, bottom = f.size["diameter"] / 2, -f.size["depth"] - OVERSHOOT
    return revolved([(0.0, bottom), (r, bottom), (r, LIFT), (0.0, LIFT)], *f.position, segments)


def _build_through_pocket(f: Feature, face: FaceSize, segments: int) -> mf.Manifold:
    w, length, depth, r = (f.size[k] for k in ("width", "length", "depth", "corner_radius"))
    if r > 0:
        core = mf.CrossSection.square((w - 2 * r, length - 2 * r), center=True)
        section = core.offset(r, mf.JoinType.Round, circular_segments=segments)
    else:
        section = mf.CrossSection.square((w, length), center=True)
    cu, cv = f.position
    height = depth + OVERSHOOT + LIFT
    return mf.Manifold.extrude(section, height).translate((cu, cv, -depth - OVERSHOOT))


def _build_through_slot(f: Feature, face: FaceSize, segments: int) -> mf.Manifold:
    # A slot (see _build_slot) whose floor lies OVERSHOOT below the opposite face.
    deeper = Feature(
        f.kind, f.position, {**f.size, "depth": f.size["depth"] + OVERSHOOT}, f.options
    )
    return _build_slot(deeper, face, segments)


_BUILDERS: dict[str, Callable[[Feature, FaceSize, int], mf.Manifold]] = {
    **CLOSED_BUILDERS,
    **OPEN_BUILDERS,
    "hole": _build_hole,
    "counterbore": _build_counterbore,
    "rectangular_pocket": _build_rectangular_pocket,
    "circular_pocket": _build_circular_pocket,
    "slot": _build_slot,
    "step": _build_step,
    "chamfer": _build_chamfer,
    "through_hole": _build_through_hole,
    "through_pocket": _build_through_pocket,
    "through_slot": _build_through_slot,
}
