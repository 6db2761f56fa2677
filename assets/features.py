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

:data:`THROUGH_KINDS` (``metaview synth --through``) go right through the stock, out of the
opposite face: still column-monotone, and also open to ``-z``.

Each kind has a sampler, ``sample(rng, face, max_depth, segments) -> Feature | None`` (None
when the face is too small for that kind), and :meth:`Feature.cutter` builds the
``manifold3d.Manifold`` to subtract. All sizes are millimetres, drawn on a 0.1 mm grid so
that ``parts.csv`` shows the exact values that were cut.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import manifold3d as mf
import numpy as np

LIFT = 1.0  # cutters rise this far above the face, so no cutter face is coplanar with it
OVERSHOOT = 1.0  # features open to a side run this far past the stock's edge, for the same reason
EDGE_WALL = 3.0  # closed features (holes, pockets) keep at least this much material to the edges
MIN_DEPTH = 1.5  # the shallowest cut of any kind
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


@dataclass(frozen=True)
class Feature:
    """One machining feature, placed on a face, in that face's frame.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
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


# --- small helpers -------------------------------------------------------------------------


def _pick(rng: np.random.Generator, lo: float, hi: float) -> float | None:
    """A uniform value on the 0.1 mm grid inside ``[lo, hi]``, or None if there is none."""
    lo_i = math.ceil(lo * 10 - 1e-9)
    hi_i = math.floor(hi * 10 + 1e-9)
    if lo_i > hi_i:
        return None
    return int(rng.integers(lo_i, hi_i + 1)) / 10


def _quarter_turn(k: int) -> np.ndarray:
    """The exact rotation by ``k`` quarter turns about ``+z`` as a 3x4 affine matrix.

    Side features are built facing ``+u`` and then turned: quarter turns are signed
    permutations, so turning moves no coordinate by a rounding error.
    """
    c, s = ((1, 0), (0, 1), (-1, 0), (0, -1))[k % 4]
    return np.array([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0]], dtype=np.float64)


def _turn_point(k: int, a: float, b: float) -> tuple[float, float]:
    m = _quarter_turn(k)
    return (m[0, 0] * a + m[0, 1] * b + 0.0, m[1, 0] * a + m[1, 1] * b + 0.0)


def _turn_box(k: int, a0: float, a1: float, b0: float, b1: float, z0: float, z1: float) -> Box:
    corners = np.array([_turn_point(k, a, b) for a in (a0, a1) for b in (b0, b1)])
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    return (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]), z0, z1)


def _side_extents(face: FaceSize, side: str) -> tuple[float, float]:
    """``(A, B)``: the face's extent across the edge ``side`` and along it."""
    return (face.u, face.v) if side in ("+u", "-u") else (face.v, face.u)


def _box(cu: float, cv: float, hu: float, hv: float, depth: float) -> Box:
    return (cu - hu, cu + hu, cv - hv, cv + hv, -depth, 0.0)


def _place_closed(
    rng: np.random.Generator, face: FaceSize, hu: float, hv: float
) -> tuple[float, float] | None:
    """A centre for a closed feature of half-extents ``(hu, hv)`` that keeps EDGE_WALL."""
    cu = _pick(rng, -face.u / 2 + EDGE_WALL + hu, face.u / 2 - EDGE_WALL - hu)
    cv = _pick(rng, -face.v / 2 + EDGE_WALL + hv, face.v / 2 - EDGE_WALL - hv)
    if cu is None or cv is None:
        return None
    return cu, cv


def _revolved(
    profile: list[tuple[float, float]], cu: float, cv: float, segments: int
) -> mf.Manifold:
    """Revolve a ``(radius, z)`` profile (counter-clockwise) about the vertical through (cu, cv)."""
    section = mf.CrossSection([profile])
    return mf.Manifold.revolve(section, circular_segments=segments).translate((cu, cv, 0.0))


def _drill_point(radius: float) -> float:
    """Height of a drill point's cone for a hole of this radius."""
    return radius / math.tan(math.radians(DRILL_POINT_DEG / 2))


# --- holes and counterbores ----------------------------------------------------------------


def sample_hole(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A blind hole: diameter 3-20 mm, depth 1-3 diameters, flat or drill-point bottom."""
    diameter = _pick(rng, 3.0, min(20.0, 0.3 * min(face.u, face.v)))
    if diameter is None:
        return None
    depth = _pick(rng, min(diameter, max_depth), min(3 * diameter, max_depth))
    if depth is None or depth < MIN_DEPTH:
        return None
    point = _drill_point(diameter / 2)
    bottom = "drill" if rng.random() < 0.5 and depth + point <= max_depth else "flat"
    centre = _place_closed(rng, face, diameter / 2, diameter / 2)
    if centre is None:
        return None
    total = depth + (point if bottom == "drill" else 0.0)
    return Feature(
        "hole",
        centre,
        {"diameter": diameter, "depth": depth},
        {"bottom": bottom},
        (_box(*centre, diameter / 2, diameter / 2, total),),
    )


def _build_hole(f: Feature, face: FaceSize, segments: int) -> mf.Manifold:
    r, depth = f.size["diameter"] / 2, f.size["depth"]
    tip = [(0.0, -depth - _drill_point(r))] if f.options["bottom"] == "drill" else [(0.0, -depth)]
    profile = [*tip, (r, -depth), (r, LIFT), (0.0, LIFT)]
    return _revolved(profile, *f.position, segments)


def sample_counterbore(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A counterbored hole: hole 3-12 mm, counterbore 1.5-2x wider and 0.4-1 hole diameters deep."""
    diameter = _pick(rng, 3.0, min(12.0, 0.15 * min(face.u, face.v)))
    if diameter is None:
        return None
    cb_diameter = _pick(rng, 1.5 * diameter, 2.0 * diameter)
    cb_depth = _pick(rng, max(0.4 * diameter, 1.0), min(diameter, max_depth / 3))
    if cb_diameter is None or cb_depth is None:
        return None
    depth = _pick(rng, cb_depth + diameter, min(cb_depth + 3 * diameter, max_depth))
    if depth is None:
        return None
    point = _drill_point(diameter / 2)
    bottom = "drill" if rng.random() < 0.5 and depth + point <= max_depth else "flat"
    centre = _place_closed(rng, face, cb_diameter / 2, cb_diameter / 2)
    if centre is None:
        return None
    total = depth + (point if bottom == "drill" else 0.0)
    return Feature(
        "counterbore",
        centre,
        {"diameter": diameter, "depth": depth, "cb_diameter": cb_diameter, "cb_depth": cb_depth},
        {"bottom": bottom},
        (_box(*centre, cb_diameter / 2, cb_diameter / 2, total),),
    )


def _build_counterbore(f: Feature, face: FaceSize, segments: int) -> mf.Manifold:
    r, depth = f.size["diameter"] / 2, f.size["depth"]
    r_cb, cb_depth = f.size["cb_diameter"] / 2, f.size["cb_depth"]
    tip = [(0.0, -depth - _drill_point(r))] if f.options["bottom"] == "drill" else [(0.0, -depth)]
    profile = [*tip, (r, -depth), (r, -cb_depth), (r_cb, -cb_depth), (r_cb, LIFT), (0.0, LIFT)]
    return _revolved(profile, *f.position, segments)


# --- pockets -------------------------------------------------------------------------------


def sample_circular_pocket(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A flat-bottomed circular pocket: diameter 12-60 mm, depth up to half its diameter."""
    diameter = _pick(rng, 12.0, min(60.0, 0.6 * min(face.u, face.v)))
    if diameter is None:
        return None
    depth = _pick(rng, MIN_DEPTH, min(15.0, diameter / 2, max_depth))
    centre = _place_closed(rng, face, diameter / 2, diameter / 2)
    if depth is None or centre is None:
        return None
    return Feature(
        "circular_pocket",
        centre,
        {"diameter": diameter, "depth": depth},
        {},
        (_box(*centre, diameter / 2, diameter / 2, depth),),
    )


def _build_circular_pocket(f: Feature, face: FaceSize, segments: int) -> mf.Manifold:
    r, depth = f.size["diameter"] / 2, f.size["depth"]
    return _revolved([(0.0, -depth), (r, -depth), (r, LIFT), (0.0, LIFT)], *f.position, segments)


def sample_rectangular_pocket(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A rectangular pocket, 8-80 mm a side, sharp or with rounded corners (radius 1 mm up)."""
    width = _pick(rng, 8.0, min(80.0, 0.6 * face.u))
    length = _pick(rng, 8.0, min(80.0, 0.6 * face.v))
    if width is None or length is None:
        return None
    depth = _pick(rng, MIN_DEPTH, min(20.0, 0.6 * min(width, length), max_depth))
    radius = 0.0
    if rng.random() < 0.6:
        radius = _pick(rng, 1.0, min(width, length) / 4) or 0.0
    centre = _place_closed(rng, face, width / 2, length / 2)
    if depth is None or centre is None:
        return None
    return Feature(
        "rectangular_pocket",
        centre,
        {"width": width, "length": length, "depth": depth, "corner_radius": radius},
        {},
        (_box(*centre, width / 2, length / 2, depth),),
    )


def _build_rectangular_pocket(f: Feature, face: FaceSize, segments: int) -> mf.Manifold:
    w, length, depth, r = (f.size[k] for k in ("width", "length", "depth", "corner_radius"))
    if r > 0:
        core = mf.CrossSection.square((w - 2 * r, length - 2 * r), center=True)
        section = core.offset(r, mf.JoinType.Round, circular_segments=segments)
    else:
        section = mf.CrossSection.square((w, length), center=True)
    cu, cv = f.position
    return mf.Manifold.extrude(section, depth + LIFT).translate((cu, cv, -depth))


# --- features open to an edge: slots, steps, chamfers --------------------------------------


def sample_slot(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A slot open to one edge: 4-20 mm wide, 20-70 % of the face long, square or round end."""
    k = int(rng.integers(4))
    side = SIDES[k]
    across, along = _side_extents(face, side)
    width = _pick(rng, 4.0, min(20.0, 0.3 * along))
    if width is None:
        return None
    length = _pick(rng, max(width, 0.2 * across), 0.7 * across)
    depth = _pick(rng, MIN_DEPTH, min(15.0, max_depth))
    centre = _pick(rng, -along / 2 + EDGE_WALL + width / 2, along / 2 - EDGE_WALL - width / 2)
    if length is None or depth is None or centre is None:
        return None
    end = "round" if rng.random() < 0.5 else "square"
    a0 = across / 2 - length
    return Feature(
        "slot",
        _turn_point(k, a0 + length / 2, centre),
        {"width": width, "length": length, "depth": depth},
        {"side": side, "end": end},
        (_turn_box(k, a0, across / 2, centre - width / 2, centre + width / 2, -depth, 0.0),),
    )


def _build_slot(f: Feature, face: FaceSize, segments: int) -> mf.Manifold:
    k = SIDES.index(f.options["side"])
    across, _ = _side_extents(face, f.options["side"])
    w, length, depth = f.size["width"], f.size["length"], f.size["depth"]
    # Back in the slot's own frame: it opens towards +a, its centre line is b = centre.
    a_mid, centre = _turn_point(-k, *f.position)
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
    return solid.transform(_quarter_turn(k))


def sample_step(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A step along one whole edge: 4-40 mm wide, at most half as deep as it is wide.

    Its floor faces the label direction and its wall the neighbouring side face; keeping the
    floor at least twice as wide as the wall is high keeps the label face the dominant one.
    """
    k = int(rng.integers(4))
    side = SIDES[k]
    across, along = _side_extents(face, side)
    width = _pick(rng, 4.0, min(40.0, 0.35 * across))
    if width is None:
        return None
    depth = _pick(rng, MIN_DEPTH, min(width / 2, 0.4 * face.depth, max_depth))
    if depth is None:
        return None
    return Feature(
        "step",
        _turn_point(k, across / 2 - width / 2, 0.0),
        {"width": width, "depth": depth},
        {"side": side},
        (_turn_box(k, across / 2 - width, across / 2, -along / 2, along / 2, -depth, 0.0),),
    )


def _build_step(f: Feature, face: FaceSize, segments: int) -> mf.Manifold:
    k = SIDES.index(f.options["side"])
    across, along = _side_extents(face, f.options["side"])
    w, depth = f.size["width"], f.size["depth"]
    size = (w + OVERSHOOT, along + 2 * OVERSHOOT, depth + LIFT)
    solid = mf.Manifold.cube(size).translate((across / 2 - w, -along / 2 - OVERSHOOT, -depth))
    return solid.transform(_quarter_turn(k))


def sample_chamfer(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """Chamfers on 1-4 edges of the face: 1-6 mm wide, 20-40 degrees from the face.

    The angle stays below 45 degrees so that the chamfer leans towards the label face rather
    than towards the side face it shares the edge with.
    """
    mask = 0
    while mask == 0:
        mask = int(rng.integers(16))
    edges = [SIDES[k] for k in range(4) if mask >> k & 1]
    width = _pick(rng, 1.0, min(6.0, 0.1 * min(face.u, face.v)))
    angle = float(rng.integers(20, 41))
    if width is None:
        return None
    depth = round(width * math.tan(math.radians(angle)), 4)
    if depth > max_depth:
        return None
    boxes = []
    for side in edges:
        k = SIDES.index(side)
        across, along = _side_extents(face, side)
        boxes.append(_turn_box(k, across / 2 - width, across / 2, -along / 2, along / 2, -depth, 0))
    # Reference point: the middle of the first chamfered edge's strip.
    first = boxes[0]
    return Feature(
        "chamfer",
        ((first[0] + first[1]) / 2, (first[2] + first[3]) / 2),
        {"width": width, "angle": angle},
        {"edges": ",".join(edges)},
        tuple(boxes),
    )


def _build_chamfer(f: Feature, face: FaceSize, segments: int) -> mf.Manifold:
    w = f.size["width"]
    h = w * math.tan(math.radians(f.size["angle"]))
    solids = []
    for side in f.options["edges"].split(","):
        k = SIDES.index(side)
        across, along = _side_extents(face, side)
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
        solids.append(prism.transform(lay).transform(_quarter_turn(k)))
    return mf.Manifold.batch_boolean(solids, mf.OpType.Add)


# --- through features (``metaview synth --through``) ---------------------------------------
#
# Features cut right through the stock, out of the face opposite the one they were cut into:
# the opposite direction reaches every surface they leave too, so a part whose features are
# all through features has (at least) two valid directions. They stay column-monotone, so the
# label face reaches them as before. (Every ``step`` already runs along a whole edge and opens
# at both of its ends: a through-step in the usual sense.)


def sample_through_hole(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A hole through the whole stock: diameter 3-20 mm (``max_depth`` does not apply)."""
    diameter = _pick(rng, 3.0, min(20.0, 0.3 * min(face.u, face.v)))
    if diameter is None:
        return None
    centre = _place_closed(rng, face, diameter / 2, diameter / 2)
    if centre is None:
        return None
    return Feature(
        "through_hole",
        centre,
        {"diameter": diameter, "depth": face.depth},
        {},
        (_box(*centre, diameter / 2, diameter / 2, face.depth),),
    )


def _build_through_hole(f: Feature, face: FaceSize, segments: int) -> mf.Manifold:
    r, bottom = f.size["diameter"] / 2, -f.size["depth"] - OVERSHOOT
    return _revolved([(0.0, bottom), (r, bottom), (r, LIFT), (0.0, LIFT)], *f.position, segments)


def sample_through_pocket(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A rectangular window through the whole stock, 8-60 mm a side, sharp or rounded corners."""
    width = _pick(rng, 8.0, min(60.0, 0.5 * face.u))
    length = _pick(rng, 8.0, min(60.0, 0.5 * face.v))
    if width is None or length is None:
        return None
    radius = 0.0
    if rng.random() < 0.6:
        radius = _pick(rng, 1.0, min(width, length) / 4) or 0.0
    centre = _place_closed(rng, face, width / 2, length / 2)
    if centre is None:
        return None
    return Feature(
        "through_pocket",
        centre,
        {"width": width, "length": length, "depth": face.depth, "corner_radius": radius},
        {},
        (_box(*centre, width / 2, length / 2, face.depth),),
    )


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


def sample_through_slot(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A slot through the whole stock, open to one edge: 4-20 mm wide, 20-70 % of the face long.

    Its walls also show from the side it opens to (``options["side"]``).
    """
    k = int(rng.integers(4))
    side = SIDES[k]
    across, along = _side_extents(face, side)
    width = _pick(rng, 4.0, min(20.0, 0.3 * along))
    if width is None:
        return None
    length = _pick(rng, max(width, 0.2 * across), 0.7 * across)
    centre = _pick(rng, -along / 2 + EDGE_WALL + width / 2, along / 2 - EDGE_WALL - width / 2)
    if length is None or centre is None:
        return None
    end = "round" if rng.random() < 0.5 else "square"
    a0 = across / 2 - length
    return Feature(
        "through_slot",
        _turn_point(k, a0 + length / 2, centre),
        {"width": width, "length": length, "depth": face.depth},
        {"side": side, "end": end},
        (_turn_box(k, a0, across / 2, centre - width / 2, centre + width / 2, -face.depth, 0.0),),
    )


def _build_through_slot(f: Feature, face: FaceSize, segments: int) -> mf.Manifold:
    # A slot (see _build_slot) whose floor lies OVERSHOOT below the opposite face.
    deeper = Feature(
        f.kind, f.position, {**f.size, "depth": f.size["depth"] + OVERSHOOT}, f.options
    )
    return _build_slot(deeper, face, segments)


# --- the registry --------------------------------------------------------------------------

Sampler = Callable[[np.random.Generator, FaceSize, float, int], "Feature | None"]

#: Feature kinds by name, with their samplers, in the order ``--kinds`` lists them.
KINDS: dict[str, Sampler] = {
    "hole": sample_hole,
    "counterbore": sample_counterbore,
    "rectangular_pocket": sample_rectangular_pocket,
    "circular_pocket": sample_circular_pocket,
    "slot": sample_slot,
    "step": sample_step,
    "chamfer": sample_chamfer,
}

#: Features cut through the whole stock: ``metaview synth --through`` draws from these instead
#: of KINDS.
THROUGH_KINDS: dict[str, Sampler] = {
    "through_hole": sample_through_hole,
    "through_pocket": sample_through_pocket,
    "through_slot": sample_through_slot,
}

#: Kinds used as distractors on the clamped face: closed ones, invisible from the side faces.
CLOSED_KINDS = ("hole", "counterbore", "rectangular_pocket", "circular_pocket")

_BUILDERS: dict[str, Callable[[Feature, FaceSize, int], mf.Manifold]] = {
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
