"""Samplers of the taxonomy's open kinds: slots, steps and edge features open to the face's edges.

Each sampler follows :mod:`assets.features`: ``sample(rng, face, max_depth, segments)`` draws the
sizes on the 0.1 mm grid (angles in whole degrees), scaled to the face, places the feature and
reports the boxes that hold what it removes, or gives None when the face has no room for it.
The solids are :mod:`assets.cutters_open`. None of these kinds goes through the stock.

Where a wall faces one of the edges the feature opens to (steps, corner steps), the depth stays
at most half the floor's width across that wall, as :func:`assets.features.sample_step` does:
the floor, which faces the label direction, then outweighs the wall, which faces a side.
"""

from __future__ import annotations

import math

import numpy as np

from assets.cutters import SIDES, FaceSize, Feature, side_extents, turn_point
from assets.cutters_open import GROOVE_SIDES
from assets.features import EDGE_WALL, MIN_DEPTH, Sampler, pick, turn_box

STEP_DEPTH_FRACTION = 0.4  # steps reach at most this fraction of the stock, as sample_step


def _corner(k: int) -> str:
    """The name of the corner a feature built at ``(+a, +b)`` and turned ``k`` times lies at."""
    return f"{SIDES[k]},{SIDES[(k + 1) % 4]}"


def _groove_place(rng: np.random.Generator, across: float, half: float) -> float | None:
    """A centre line for a groove of half-width ``half`` that keeps EDGE_WALL to both edges."""
    return pick(rng, -across / 2 + EDGE_WALL + half, across / 2 - EDGE_WALL - half)


# --- grooves across the whole face, open at both ends --------------------------------------


def sample_rectangular_through_slot(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A square groove across the whole face: 4-30 mm wide, up to 1.5 widths and 20 mm deep."""
    k = int(rng.integers(2))
    across, along = side_extents(face, SIDES[k])
    width = pick(rng, 4.0, min(30.0, 0.3 * across))
    if width is None:
        return None
    depth = pick(rng, MIN_DEPTH, min(20.0, 1.5 * width, max_depth))
    centre = _groove_place(rng, across, width / 2)
    if depth is None or centre is None:
        return None
    return Feature(
        "rectangular_through_slot",
        turn_point(k, centre, 0.0),
        {"width": width, "depth": depth},
        {"sides": GROOVE_SIDES[k]},
        (turn_box(k, centre - width / 2, centre + width / 2, -along / 2, along / 2, -depth, 0),),
    )


def sample_circular_through_slot(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A round groove across the whole face: radius 2-20 mm, half-round or shallower.

    Half the grooves are half-round (the cutter's axis in the face, depth = radius); the others
    are drawn from MIN_DEPTH up to the radius (the axis above the face).
    """
    k = int(rng.integers(2))
    across, along = side_extents(face, SIDES[k])
    radius = pick(rng, 2.0, min(20.0, 0.15 * across))
    if radius is None:
        return None
    if rng.random() < 0.5 and radius <= max_depth:
        depth = radius
    else:
        depth = pick(rng, MIN_DEPTH, min(radius, max_depth))
    if depth is None:
        return None
    half = math.sqrt(radius**2 - (radius - depth) ** 2)  # half its width in the face
    centre = _groove_place(rng, across, half)
    if centre is None:
        return None
    return Feature(
        "circular_through_slot",
        turn_point(k, centre, 0.0),
        {"radius": radius, "depth": depth},
        {"sides": GROOVE_SIDES[k]},
        (turn_box(k, centre - half, centre + half, -along / 2, along / 2, -depth, 0),),
    )


def sample_triangular_through_slot(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A V-groove across the whole face: included angle 60-120 degrees, 1.5-15 mm deep.

    The depth keeps the groove at most 30 % of the face wide.
    """
    k = int(rng.integers(2))
    across, along = side_extents(face, SIDES[k])
    angle = float(rng.integers(60, 121))
    spread = math.tan(math.radians(angle / 2))
    depth = pick(rng, MIN_DEPTH, min(15.0, 0.15 * across / spread, max_depth))
    if depth is None:
        return None
    half = depth * spread
    centre = _groove_place(rng, across, half)
    if centre is None:
        return None
    return Feature(
        "triangular_through_slot",
        turn_point(k, centre, 0.0),
        {"angle": angle, "depth": depth},
        {"sides": GROOVE_SIDES[k]},
        (turn_box(k, centre - half, centre + half, -along / 2, along / 2, -depth, 0),),
    )


# --- steps at a corner, open to its two edges ----------------------------------------------


def sample_rectangular_blind_step(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A rectangular notch at a corner, open to its two edges.

    4-50 mm a side (at most half the face), as deep as half its narrower side at most.
    """
    k = int(rng.integers(4))
    across, along = side_extents(face, SIDES[k])
    width = pick(rng, 4.0, min(50.0, 0.5 * across))
    length = pick(rng, 4.0, min(50.0, 0.5 * along))
    if width is None or length is None:
        return None
    limit = min(width / 2, length / 2, STEP_DEPTH_FRACTION * face.depth, max_depth)
    depth = pick(rng, MIN_DEPTH, limit)
    if depth is None:
        return None
    box = (across / 2 - width, across / 2, along / 2 - length, along / 2, -depth, 0.0)
    return Feature(
        "rectangular_blind_step",
        turn_point(k, across / 2 - width / 2, along / 2 - length / 2),
        {"width": width, "length": length, "depth": depth},
        {"corner": _corner(k)},
        (turn_box(k, *box),),
    )


def sample_triangular_blind_step(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A corner cut off by a vertical wall: a triangular notch, open to the corner's two edges.

    Its legs along the edges are 6-60 mm (at most 60 % of the face); it is as deep as half the
    triangle's height over its wall at most.
    """
    k = int(rng.integers(4))
    across, along = side_extents(face, SIDES[k])
    width = pick(rng, 6.0, min(60.0, 0.6 * across))
    length = pick(rng, 6.0, min(60.0, 0.6 * along))
    if width is None or length is None:
        return None
    height = width * length / math.hypot(width, length)  # from the corner to the wall
    limit = min(height / 2, STEP_DEPTH_FRACTION * face.depth, max_depth)
    depth = pick(rng, MIN_DEPTH, limit)
    if depth is None:
        return None
    box = (across / 2 - width, across / 2, along / 2 - length, along / 2, -depth, 0.0)
    return Feature(
        "triangular_blind_step",
        turn_point(k, across / 2 - width / 2, along / 2 - length / 2),
        {"width": width, "length": length, "depth": depth},
        {"corner": _corner(k)},
        (turn_box(k, *box),),
    )


def sample_circular_blind_step(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A quarter-round notch centred on a corner, open to its two edges.

    Radius 4-40 mm (at most 45 % of the face), as deep as half its radius at most.
    """
    k = int(rng.integers(4))
    across, along = side_extents(face, SIDES[k])
    radius = pick(rng, 4.0, min(40.0, 0.45 * min(across, along)))
    if radius is None:
        return None
    depth = pick(rng, MIN_DEPTH, min(radius / 2, STEP_DEPTH_FRACTION * face.depth, max_depth))
    if depth is None:
        return None
    box = (across / 2 - radius, across / 2, along / 2 - radius, along / 2, -depth, 0.0)
    return Feature(
        "circular_blind_step",
        turn_point(k, across / 2 - radius / 2, along / 2 - radius / 2),
        {"radius": radius, "depth": depth},
        {"corner": _corner(k)},
        (turn_box(k, *box),),
    )


# --- steps along whole edges ---------------------------------------------------------------


def sample_two_sided_step(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """Steps of one depth along two opposite edges, leaving a tenon between them.

    Each step is 4-40 mm wide (at most 35 % of the face, so the tenon keeps at least 30 %);
    half the time both are as wide (a centred tenon). The depth is at most half the narrower.
    """
    k = int(rng.integers(2))
    across, along = side_extents(face, SIDES[k])
    width = pick(rng, 4.0, min(40.0, 0.35 * across))
    if width is None:
        return None
    opposite = width if rng.random() < 0.5 else pick(rng, 4.0, min(40.0, 0.35 * across))
    if opposite is None:
        return None
    limit = min(width / 2, opposite / 2, STEP_DEPTH_FRACTION * face.depth, max_depth)
    depth = pick(rng, MIN_DEPTH, limit)
    if depth is None:
        return None
    half = along / 2
    return Feature(
        "two_sided_step",
        turn_point(k, (opposite - width) / 2, 0.0),  # the middle of the tenon
        {"width": width, "opposite_width": opposite, "depth": depth},
        {"sides": f"{SIDES[k]},{SIDES[k + 2]}"},
        (
            turn_box(k, across / 2 - width, across / 2, -half, half, -depth, 0.0),
            turn_box(k, -across / 2, -across / 2 + opposite, -half, half, -depth, 0.0),
        ),
    )


def sample_slanted_step(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A step along one whole edge whose wall leans out 10-45 degrees from the vertical.

    4-40 mm wide at the face; the floor left at the wall's foot stays at least twice as wide as
    the step is deep, as sample_step's does.
    """
    k = int(rng.integers(4))
    side = SIDES[k]
    across, along = side_extents(face, side)
    width = pick(rng, 4.0, min(40.0, 0.35 * across))
    angle = float(rng.integers(10, 46))
    if width is None:
        return None
    lean = math.tan(math.radians(angle))
    limit = min(width / (2 + lean), STEP_DEPTH_FRACTION * face.depth, max_depth)
    depth = pick(rng, MIN_DEPTH, limit)
    if depth is None:
        return None
    return Feature(
        "slanted_step",
        turn_point(k, across / 2 - width / 2, 0.0),
        {"width": width, "depth": depth, "angle": angle},
        {"side": side},
        (turn_box(k, across / 2 - width, across / 2, -along / 2, along / 2, -depth, 0.0),),
    )


# --- edge features -------------------------------------------------------------------------


def sample_round(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """Convex rounds on 1-4 edges of the face: radius 1-8 mm (at most 10 % of the face).

    Like a chamfer's, its depth is its radius, and may be shallower than MIN_DEPTH.
    """
    mask = 0
    while mask == 0:
        mask = int(rng.integers(16))
    edges = [SIDES[k] for k in range(4) if mask >> k & 1]
    radius = pick(rng, 1.0, min(8.0, 0.1 * min(face.u, face.v), max_depth))
    if radius is None:
        return None
    boxes = []
    for side in edges:
        k = SIDES.index(side)
        across, along = side_extents(face, side)
        box = (across / 2 - radius, across / 2, -along / 2, along / 2, -radius, 0.0)
        boxes.append(turn_box(k, *box))
    first = boxes[0]  # reference point: the middle of the first rounded edge's strip
    return Feature(
        "round",
        ((first[0] + first[1]) / 2, (first[2] + first[3]) / 2),
        {"radius": radius},
        {"edges": ",".join(edges)},
        tuple(boxes),
    )


def sample_horizontal_circular_end_slot(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A slot open to one edge, cut by a disc cutter whose rim shapes its closed end.

    3-20 mm wide (at most 30 % of the edge), 1.5-15 mm deep, cutter radius from the depth up to
    50 mm (its arc runs at most half across the face); the whole slot is 20-70 % of the face
    long, of which a flat floor of at least 2 mm (``length``) reaches the edge.
    """
    k = int(rng.integers(4))
    side = SIDES[k]
    across, along = side_extents(face, side)
    width = pick(rng, 3.0, min(20.0, 0.3 * along))
    if width is None:
        return None
    depth = pick(rng, MIN_DEPTH, min(15.0, max_depth))
    if depth is None:
        return None
    radius = pick(rng, depth, min(50.0, ((across / 2) ** 2 + depth**2) / (2 * depth)))
    if radius is None:
        return None
    run = math.sqrt(radius**2 - (radius - depth) ** 2)  # the end's arc, measured in the face
    length = pick(rng, max(2.0, 0.2 * across - run), 0.7 * across - run)
    centre = pick(rng, -along / 2 + EDGE_WALL + width / 2, along / 2 - EDGE_WALL - width / 2)
    if length is None or centre is None:
        return None
    a0 = across / 2 - length - run
    return Feature(
        "horizontal_circular_end_slot",
        turn_point(k, (a0 + across / 2) / 2, centre),
        {"width": width, "length": length, "depth": depth, "radius": radius},
        {"side": side},
        (turn_box(k, a0, across / 2, centre - width / 2, centre + width / 2, -depth, 0.0),),
    )


#: The kinds of this module, by name, with their samplers.
KINDS: dict[str, Sampler] = {
    "rectangular_through_slot": sample_rectangular_through_slot,
    "circular_through_slot": sample_circular_through_slot,
    "triangular_through_slot": sample_triangular_through_slot,
    "rectangular_blind_step": sample_rectangular_blind_step,
    "triangular_blind_step": sample_triangular_blind_step,
    "circular_blind_step": sample_circular_blind_step,
    "two_sided_step": sample_two_sided_step,
    "slanted_step": sample_slanted_step,
    "round": sample_round,
    "horizontal_circular_end_slot": sample_horizontal_circular_end_slot,
}
#: Those of KINDS that go right through the stock: none.
THROUGH: frozenset[str] = frozenset()
