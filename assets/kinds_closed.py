"""Samplers of the taxonomy's closed kinds: O-ring grooves, countersinks, shaped pockets, passages.

Each sampler draws a feature away from the face's edges (it keeps ``EDGE_WALL`` of material
to them), like :func:`assets.features.sample_hole`: sizes on the 0.1 mm grid, scaled to the
face, angles in whole degrees. The solids are :mod:`assets.cutters_closed`.

The triangle and hexagon kinds are turned by a random angle: their centre is chosen only once
the box of the turned polygon is known (:func:`_place_polygon`), and that box is the one
reported, so it holds exactly what is cut.
"""

from __future__ import annotations

import math

import numpy as np

from assets.cutters import Box, FaceSize, Feature, drill_point
from assets.cutters_closed import hexagon_outline, polygon_bounds, triangle_outline
from assets.features import EDGE_WALL, MIN_DEPTH, Sampler, centred_box, pick, place_closed

COUNTERSINK_ANGLES = (90.0, 82.0)  # included angles of metric and inch flat-head screws
# Placements stay this far inside EDGE_WALL: manifold3d keeps revolved profiles in single
# precision and cross-sections to about 1e-8 mm, so a cut placed to touch the wall exactly
# could end up a rounding error past it.
HAIR = 1e-5


def _place(
    rng: np.random.Generator, face: FaceSize, hu: float, hv: float
) -> tuple[float, float] | None:
    """A centre for a closed feature of half-extents ``(hu, hv)``, EDGE_WALL and a hair in."""
    return place_closed(rng, face, hu + HAIR, hv + HAIR)


def _place_polygon(
    rng: np.random.Generator,
    face: FaceSize,
    bounds: tuple[float, float, float, float],
    z0: float,
) -> tuple[tuple[float, float], Box] | None:
    """A centre for a polygon whose box about its centre is ``bounds``, and its box there.

    The box need not be centred on the polygon's reference point (a turned triangle's is not),
    so the range of centres that keep EDGE_WALL follows from each side of the box.
    """
    u0, u1, v0, v1 = bounds
    wall = EDGE_WALL + HAIR
    cu = pick(rng, -face.u / 2 + wall - u0, face.u / 2 - wall - u1)
    cv = pick(rng, -face.v / 2 + wall - v0, face.v / 2 - wall - v1)
    if cu is None or cv is None:
        return None
    return (cu, cv), (cu + u0, cu + u1, cv + v0, cv + v1, z0, 0.0)


# --- round kinds ---------------------------------------------------------------------------


def sample_o_ring(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """An O-ring (face seal) groove: outer diameter 8-100 mm, 1.5-10 mm wide, 0.4-1 widths deep.

    The groove is at most a quarter of its outer diameter wide, so the island inside it is at
    least half the outer diameter across.
    """
    outer = pick(rng, 8.0, min(100.0, 0.7 * min(face.u, face.v)))
    if outer is None:
        return None
    width = pick(rng, 1.5, min(10.0, outer / 4))
    if width is None:
        return None
    depth = pick(rng, max(MIN_DEPTH, 0.4 * width), min(width, max_depth))
    centre = _place(rng, face, outer / 2, outer / 2)
    if depth is None or centre is None:
        return None
    inner = round(outer - 2 * width, 1)  # both on the grid: keep the difference on it exactly
    return Feature(
        "o_ring",
        centre,
        {"inner_diameter": inner, "outer_diameter": outer, "depth": depth},
        {},
        (centred_box(*centre, outer / 2, outer / 2, depth),),
    )


def sample_countersink(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A countersunk hole: hole 3-16 mm, cone 90 or 82 degrees and 1.4-2.2x the hole wide.

    The hole runs on 0.5-3 diameters below the cone; flat or drill-point bottom like a hole.
    """
    diameter = pick(rng, 3.0, min(16.0, 0.15 * min(face.u, face.v)))
    if diameter is None:
        return None
    cs_angle = COUNTERSINK_ANGLES[int(rng.integers(len(COUNTERSINK_ANGLES)))]
    cs_diameter = pick(rng, max(1.4 * diameter, diameter + 1.0), 2.2 * diameter)
    if cs_diameter is None:
        return None
    cone = (cs_diameter - diameter) / 2 / math.tan(math.radians(cs_angle / 2))
    depth = pick(rng, cone + 0.5 * diameter, min(cone + 3 * diameter, max_depth))
    if depth is None:
        return None
    point = drill_point(diameter / 2)
    bottom = "drill" if rng.random() < 0.5 and depth + point <= max_depth else "flat"
    centre = _place(rng, face, cs_diameter / 2, cs_diameter / 2)
    if centre is None:
        return None
    total = depth + (point if bottom == "drill" else 0.0)
    return Feature(
        "countersink",
        centre,
        {"diameter": diameter, "depth": depth, "cs_diameter": cs_diameter, "cs_angle": cs_angle},
        {"bottom": bottom},
        (centred_box(*centre, cs_diameter / 2, cs_diameter / 2, total),),
    )


# --- pockets -------------------------------------------------------------------------------


def _triangle(
    rng: np.random.Generator, largest: float
) -> tuple[dict[str, float], dict[str, str], float] | None:
    """The sizes and options of a triangle kind, and the smaller of its base and height.

    Equilateral or isosceles (apex 28-103 degrees), ``largest`` mm at most across, any turn,
    sharp or rounded.
    """
    if rng.random() < 0.5:
        side = pick(rng, 8.0, largest)
        if side is None:
            return None
        size, options = {"side": side}, {"shape": "equilateral"}
        base, height, turns = side, side * math.sqrt(3) / 2, 120  # symmetric under 120 degrees
    else:
        base = pick(rng, 8.0, largest)
        if base is None:
            return None
        height = pick(rng, max(6.0, 0.4 * base), min(largest, 2 * base))
        if height is None:
            return None
        size, options = {"base": base, "height": height}, {"shape": "isosceles"}
        turns = 360
    size["angle"] = float(rng.integers(turns))
    # Inradius: twice the area over the perimeter.
    inradius = base * height / (base + 2 * math.hypot(base / 2, height))
    size["corner_radius"] = 0.0
    if rng.random() < 0.6:
        size["corner_radius"] = pick(rng, 1.0, 0.5 * inradius) or 0.0
    return size, options, min(base, height)


def _sample_triangle(
    kind: str, rng: np.random.Generator, face: FaceSize, max_depth: float, through: bool
) -> Feature | None:
    shape = _triangle(rng, min(70.0, (0.5 if through else 0.6) * min(face.u, face.v)))
    if shape is None:
        return None
    size, options, smallest = shape
    if through:
        depth = face.depth
    else:
        depth = pick(rng, MIN_DEPTH, min(20.0, 0.6 * smallest, max_depth))
        if depth is None:
            return None
    size["depth"] = depth
    bounds = polygon_bounds(triangle_outline(size, options), size["corner_radius"])
    placed = _place_polygon(rng, face, bounds, -depth)
    if placed is None:
        return None
    centre, box = placed
    return Feature(kind, centre, size, options, (box,))


def sample_triangular_pocket(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A blind triangular pocket: equilateral or isosceles, 8-70 mm a side, turned at random.

    Isosceles ones are 0.4-2 bases high (apex 28-103 degrees); 60 % have their corners rounded
    (1 mm up to half the inradius). Depth up to 0.6 of its smaller size (base or height).
    """
    return _sample_triangle("triangular_pocket", rng, face, max_depth, through=False)


def _sample_hexagon(
    kind: str, rng: np.random.Generator, face: FaceSize, max_depth: float, through: bool
) -> Feature | None:
    largest = min(60.0, (0.4 if through else 0.5) * min(face.u, face.v))
    across = pick(rng, 6.0, largest)
    if across is None:
        return None
    angle = float(rng.integers(60))  # a hexagon is symmetric under 60 degree turns
    if through:
        depth = face.depth
    else:
        depth = pick(rng, MIN_DEPTH, min(20.0, 0.6 * across, max_depth))
        if depth is None:
            return None
    size = {"across_flats": across, "depth": depth, "angle": angle}
    placed = _place_polygon(rng, face, polygon_bounds(hexagon_outline(size), 0.0), -depth)
    if placed is None:
        return None
    centre, box = placed
    return Feature(kind, centre, size, {}, (box,))


def sample_hexagonal_pocket(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A blind regular hexagonal pocket: 6-60 mm across flats, turned at random, sharp corners.

    Depth up to 0.6 of its width across flats.
    """
    return _sample_hexagon("hexagonal_pocket", rng, face, max_depth, through=False)


def sample_circular_end_pocket(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """An obround pocket (a closed slot, round at both ends): 4-25 mm wide, 1.5-8 widths long.

    Its long axis is turned by any whole degree; depth up to its width (at most 20 mm).
    """
    largest = 0.7 * min(face.u, face.v)  # a turned pocket needs room along either axis
    width = pick(rng, 4.0, min(25.0, largest / 1.5))
    if width is None:
        return None
    length = pick(rng, 1.5 * width, min(8 * width, largest))
    depth = pick(rng, MIN_DEPTH, min(20.0, width, max_depth))
    if length is None or depth is None:
        return None
    angle = float(rng.integers(180))  # symmetric under a half turn
    a = math.radians(angle)
    half = (length - width) / 2  # from the middle to either end's centre
    hu = half * abs(math.cos(a)) + width / 2
    hv = half * abs(math.sin(a)) + width / 2
    centre = _place(rng, face, hu, hv)
    if centre is None:
        return None
    return Feature(
        "circular_end_pocket",
        centre,
        {"width": width, "length": length, "depth": depth, "angle": angle},
        {},
        (centred_box(*centre, hu, hv, depth),),
    )


def sample_filleted_pocket(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A rectangular pocket milled with a ball-end mill: floor edges and corners filleted.

    8-80 mm a side; fillet (and corner) radius 1-10 mm, at most a quarter of the shorter
    side; the straight wall above the fillet at least 0.5 mm; depth up to 0.6 of the shorter
    side (at most 20 mm).
    """
    width = pick(rng, 8.0, min(80.0, 0.6 * face.u))
    length = pick(rng, 8.0, min(80.0, 0.6 * face.v))
    if width is None or length is None:
        return None
    deepest = min(20.0, 0.6 * min(width, length), max_depth)
    radius = pick(rng, 1.0, min(10.0, min(width, length) / 4, deepest - 0.5))
    if radius is None:
        return None
    depth = pick(rng, max(MIN_DEPTH, radius + 0.5), deepest)
    centre = _place(rng, face, width / 2, length / 2)
    if depth is None or centre is None:
        return None
    return Feature(
        "filleted_pocket",
        centre,
        {"width": width, "length": length, "depth": depth, "fillet_radius": radius},
        {},
        (centred_box(*centre, width / 2, length / 2, depth),),
    )


# --- passages: through the whole stock (``max_depth`` does not apply) ----------------------


def sample_triangular_passage(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A triangular window through the stock: as a triangular pocket, 8-70 mm a side."""
    return _sample_triangle("triangular_passage", rng, face, max_depth, through=True)


def sample_hexagonal_passage(
    rng: np.random.Generator, face: FaceSize, max_depth: float, segments: int
) -> Feature | None:
    """A regular hexagonal window through the stock: 6-60 mm across flats, turned at random."""
    return _sample_hexagon("hexagonal_passage", rng, face, max_depth, through=True)


#: The kinds of this module, by name, with their samplers.
KINDS: dict[str, Sampler] = {
    "o_ring": sample_o_ring,
    "countersink": sample_countersink,
    "triangular_pocket": sample_triangular_pocket,
    "hexagonal_pocket": sample_hexagonal_pocket,
    "circular_end_pocket": sample_circular_end_pocket,
    "filleted_pocket": sample_filleted_pocket,
    "triangular_passage": sample_triangular_passage,
    "hexagonal_passage": sample_hexagonal_passage,
}
#: Those of KINDS that go right through the stock.
THROUGH: frozenset[str] = frozenset({"triangular_passage", "hexagonal_passage"})
