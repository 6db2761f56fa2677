"""The machining feature kinds: how each is drawn at random, and the registry of kinds.

Each kind has a sampler, ``sample(rng, face, max_depth, segments) -> Feature | None`` (None
when the face is too small for that kind): it draws the feature's sizes and places it on the
face, in the face's own frame, with the boxes that hold what it removes. The
:class:`~assets.cutters.Feature` it returns builds the ``manifold3d.Manifold`` to subtract
(:meth:`~assets.cutters.Feature.cutter`); the frame, the feature type and the solids are
:mod:`assets.cutters`. All sizes are millimetres, drawn on a 0.1 mm grid so that
``parts.csv`` shows the exact values that were cut.

:data:`KINDS` are blind: they stop short of the opposite face. :data:`THROUGH_KINDS`
(``metaview synth --through``) go right through the stock, out of the opposite face.
:data:`CLOSED_KINDS` are the distractors of the clamped face.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from assets.cutters import (
    SIDES,
    Box,
    FaceSize,
    Feature,
    drill_point,
    side_extents,
    turn_point,
)

EDGE_WALL = 3.0  # closed features (holes, pockets) keep at least this much material to the edges
MIN_DEPTH = 1.5  # the shallowest cut of any kind


# --- small helpers -------------------------------------------------------------------------


def pick(rng: np.random.Generator, lo: float, hi: float) -> float | None:
    """A uniform value on the 0.1 mm grid inside ``[lo, hi]``, or None if there is none."""
    lo_i = math.ceil(lo * 10 - 1e-9)
    hi_i = math.floor(hi * 10 + 1e-9)
    if lo_i > hi_i:
        return None
    return int(rng.integers(lo_i, hi_i + 1)) / 10


def turn_box(k: int, a0: float, a1: float, b0: float, b1: float, z0: float, z1: float) -> Box:
    corners = np.array([turn_point(k, a, b) for a in (a0, a1) for b in (b0, b1)])
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    return (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]), z0, z1)


def centred_box(cu: float, cv: float, hu: float, hv: float, depth: float) -> Box:
    return (cu - hu, cu + hu, cv - hv, cv + hv, -depth, 0.0)


def place_closed(
    rng: np.random.Generator, face: FaceSize, hu: float, hv: float
) -> tuple[float, float] | None:
    """A centre for a closed feature of half-extents ``(hu, hv)`` that keeps EDGE_WALL."""
    cu = pick(rng, -face.u / 2 + EDGE_WALL + hu, face.u / 2 - EDGE_WALL - hu)
    cv = pick(rng, -face.v / 2 + EDGE_WALL + hv, face.v / 2 - EDGE_WALL - hv)
    if cu is None or cv is None:
        return None
    return cu, cv


# --- holes and counterbores ----------------------------------------------------------------


def sample_hole(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A blind hole: diameter 3-20 mm, depth 1-3 diameters, flat or drill-point bottom."""
    diameter = pick(rng, 3.0, min(20.0, 0.3 * min(face.u, face.v)))
    if diameter is None:
        return None
    depth = pick(rng, min(diameter, max_depth), min(3 * diameter, max_depth))
    if depth is None or depth < MIN_DEPTH:
        return None
    point = drill_point(diameter / 2)
    bottom = "drill" if rng.random() < 0.5 and depth + point <= max_depth else "flat"
    centre = place_closed(rng, face, diameter / 2, diameter / 2)
    if centre is None:
        return None
    total = depth + (point if bottom == "drill" else 0.0)
    return Feature(
        "hole",
        centre,
        {"diameter": diameter, "depth": depth},
        {"bottom": bottom},
        (centred_box(*centre, diameter / 2, diameter / 2, total),),
    )


def sample_counterbore(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A counterbored hole: hole 3-12 mm, counterbore 1.5-2x wider and 0.4-1 hole diameters deep."""
    diameter = pick(rng, 3.0, min(12.0, 0.15 * min(face.u, face.v)))
    if diameter is None:
        return None
    cb_diameter = pick(rng, 1.5 * diameter, 2.0 * diameter)
    cb_depth = pick(rng, max(0.4 * diameter, 1.0), min(diameter, max_depth / 3))
    if cb_diameter is None or cb_depth is None:
        return None
    depth = pick(rng, cb_depth + diameter, min(cb_depth + 3 * diameter, max_depth))
    if depth is None:
        return None
    point = drill_point(diameter / 2)
    bottom = "drill" if rng.random() < 0.5 and depth + point <= max_depth else "flat"
    centre = place_closed(rng, face, cb_diameter / 2, cb_diameter / 2)
    if centre is None:
        return None
    total = depth + (point if bottom == "drill" else 0.0)
    return Feature(
        "counterbore",
        centre,
        {"diameter": diameter, "depth": depth, "cb_diameter": cb_diameter, "cb_depth": cb_depth},
        {"bottom": bottom},
        (centred_box(*centre, cb_diameter / 2, cb_diameter / 2, total),),
    )


# --- pockets -------------------------------------------------------------------------------


def sample_circular_pocket(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A flat-bottomed circular pocket: diameter 12-60 mm, depth up to half its diameter."""
    diameter = pick(rng, 12.0, min(60.0, 0.6 * min(face.u, face.v)))
    if diameter is None:
        return None
    depth = pick(rng, MIN_DEPTH, min(15.0, diameter / 2, max_depth))
    centre = place_closed(rng, face, diameter / 2, diameter / 2)
    if depth is None or centre is None:
        return None
    return Feature(
        "circular_pocket",
        centre,
        {"diameter": diameter, "depth": depth},
        {},
        (centred_box(*centre, diameter / 2, diameter / 2, depth),),
    )


def sample_rectangular_pocket(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A rectangular pocket, 8-80 mm a side, sharp or with rounded corners (radius 1 mm up)."""
    width = pick(rng, 8.0, min(80.0, 0.6 * face.u))
    length = pick(rng, 8.0, min(80.0, 0.6 * face.v))
    if width is None or length is None:
        return None
    depth = pick(rng, MIN_DEPTH, min(20.0, 0.6 * min(width, length), max_depth))
    radius = 0.0
    if rng.random() < 0.6:
        radius = pick(rng, 1.0, min(width, length) / 4) or 0.0
    centre = place_closed(rng, face, width / 2, length / 2)
    if depth is None or centre is None:
        return None
    return Feature(
        "rectangular_pocket",
        centre,
        {"width": width, "length": length, "depth": depth, "corner_radius": radius},
        {},
        (centred_box(*centre, width / 2, length / 2, depth),),
    )


# --- features open to an edge: slots, steps, chamfers --------------------------------------


def sample_slot(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A slot open to one edge: 4-20 mm wide, 20-70 % of the face long, square or round end."""
    k = int(rng.integers(4))
    side = SIDES[k]
    across, along = side_extents(face, side)
    width = pick(rng, 4.0, min(20.0, 0.3 * along))
    if width is None:
        return None
    length = pick(rng, max(width, 0.2 * across), 0.7 * across)
    depth = pick(rng, MIN_DEPTH, min(15.0, max_depth))
    centre = pick(rng, -along / 2 + EDGE_WALL + width / 2, along / 2 - EDGE_WALL - width / 2)
    if length is None or depth is None or centre is None:
        return None
    end = "round" if rng.random() < 0.5 else "square"
    a0 = across / 2 - length
    return Feature(
        "slot",
        turn_point(k, a0 + length / 2, centre),
        {"width": width, "length": length, "depth": depth},
        {"side": side, "end": end},
        (turn_box(k, a0, across / 2, centre - width / 2, centre + width / 2, -depth, 0.0),),
    )


def sample_step(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A step along one whole edge: 4-40 mm wide, at most half as deep as it is wide.

    Its floor faces the label direction and its wall the neighbouring side face; keeping the
    floor at least twice as wide as the wall is high keeps the label face the dominant one.
    """
    k = int(rng.integers(4))
    side = SIDES[k]
    across, along = side_extents(face, side)
    width = pick(rng, 4.0, min(40.0, 0.35 * across))
    if width is None:
        return None
    depth = pick(rng, MIN_DEPTH, min(width / 2, 0.4 * face.depth, max_depth))
    if depth is None:
        return None
    return Feature(
        "step",
        turn_point(k, across / 2 - width / 2, 0.0),
        {"width": width, "depth": depth},
        {"side": side},
        (turn_box(k, across / 2 - width, across / 2, -along / 2, along / 2, -depth, 0.0),),
    )


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
    width = pick(rng, 1.0, min(6.0, 0.1 * min(face.u, face.v)))
    angle = float(rng.integers(20, 41))
    if width is None:
        return None
    depth = round(width * math.tan(math.radians(angle)), 4)
    if depth > max_depth:
        return None
    boxes = []
    for side in edges:
        k = SIDES.index(side)
        across, along = side_extents(face, side)
        boxes.append(turn_box(k, across / 2 - width, across / 2, -along / 2, along / 2, -depth, 0))
    # Reference point: the middle of the first chamfered edge's strip.
    first = boxes[0]
    return Feature(
        "chamfer",
        ((first[0] + first[1]) / 2, (first[2] + first[3]) / 2),
        {"width": width, "angle": angle},
        {"edges": ",".join(edges)},
        tuple(boxes),
    )


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
    diameter = pick(rng, 3.0, min(20.0, 0.3 * min(face.u, face.v)))
    if diameter is None:
        return None
    centre = place_closed(rng, face, diameter / 2, diameter / 2)
    if centre is None:
        return None
    return Feature(
        "through_hole",
        centre,
        {"diameter": diameter, "depth": face.depth},
        {},
        (centred_box(*centre, diameter / 2, diameter / 2, face.depth),),
    )


def sample_through_pocket(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A rectangular window through the whole stock, 8-60 mm a side, sharp or rounded corners."""
    width = pick(rng, 8.0, min(60.0, 0.5 * face.u))
    length = pick(rng, 8.0, min(60.0, 0.5 * face.v))
    if width is None or length is None:
        return None
    radius = 0.0
    if rng.random() < 0.6:
        radius = pick(rng, 1.0, min(width, length) / 4) or 0.0
    centre = place_closed(rng, face, width / 2, length / 2)
    if centre is None:
        return None
    return Feature(
        "through_pocket",
        centre,
        {"width": width, "length": length, "depth": face.depth, "corner_radius": radius},
        {},
        (centred_box(*centre, width / 2, length / 2, face.depth),),
    )


def sample_through_slot(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A slot through the whole stock, open to one edge: 4-20 mm wide, 20-70 % of the face long.

    Its walls also show from the side it opens to (``options["side"]``).
    """
    k = int(rng.integers(4))
    side = SIDES[k]
    across, along = side_extents(face, side)
    width = pick(rng, 4.0, min(20.0, 0.3 * along))
    if width is None:
        return None
    length = pick(rng, max(width, 0.2 * across), 0.7 * across)
    centre = pick(rng, -along / 2 + EDGE_WALL + width / 2, along / 2 - EDGE_WALL - width / 2)
    if length is None or centre is None:
        return None
    end = "round" if rng.random() < 0.5 else "square"
    a0 = across / 2 - length
    return Feature(
        "through_slot",
        turn_point(k, a0 + length / 2, centre),
        {"width": width, "length": length, "depth": face.depth},
        {"side": side, "end": end},
        (turn_box(k, a0, across / 2, centre - width / 2, centre + width / 2, -face.depth, 0.0),),
    )


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
