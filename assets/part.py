"""One procedural machined workpiece, labelled with the direction its features were cut from.

A part is a box of stock, ``[0, sx] x [0, sy] x [0, sz]`` mm, clamped on its ``-Z`` face
(its faces' frames: :mod:`assets.face_frames`). Its label is one of
:data:`~assets.synth_config.CLASSES`, the five faces a machine can reach in that set-up; all
of its features (:mod:`assets.features`) are cut into the face whose outward normal is the
label direction, with one boolean difference (manifold3d).

Guarantees, for every part (tested in ``tests/test_part.py``):

- the mesh is watertight, consistently wound, in millimetres, with less volume than its stock;
- *reachability*: every surface a label feature created is visible from infinity along the
  label direction: from a point just off such a surface, on its open side, a ray in the label
  direction leaves the part without meeting it. (Each cutter is a union of columns open
  towards the label face, see :mod:`assets.cutters`.)
- *no through-cuts* (unless ``through``): label features go at most ``DEPTH_FRACTION`` of the
  stock's thickness deep, so the opposite face is untouched and every line along the label
  direction through the face meets material;
- with ``through``, the label features are drawn from
  :data:`~assets.synth_config.THROUGH_KINDS` instead: holes, windows and edge slots cut right
  through the stock, out of the opposite face, so that the opposite direction reaches every
  feature too (for a side face; the face opposite ``z_plus`` is the clamped one, not a
  direction). The label stays the face the features were cut into;
- features never overlap or touch: the boxes that hold what each one removes are at least
  ``CLEARANCE`` mm apart;
- distractors (``distractors > 0``) are closed features (holes, pockets) in the clamped -Z
  face, ``EDGE_WALL`` mm from its edges: seen from the label direction they are hidden.

Determinism: part ``i`` of class ``c`` gets its own seed from
``SeedSequence(seed, spawn_key=(CLASSES.index(c), i))`` (:func:`part_seed`), so a part does
not depend on how many other parts are made, in which order, or in how many processes. Stock
and label features, distractors and tilt draw from three independent streams of that seed:
turning on ``tilt_deg`` or ``distractors`` keeps the same blocks and the same label features
(``through`` keeps the same blocks, with other features). Vertices are rounded to a 1/4096 mm
grid (exact in float32), and the STL header holds no date, so the same configuration gives
byte-identical files.

Why one module of this size: making a part is one procedure (stock, features, boolean cut,
checks, STL) whose steps share the part's random streams; the feature kinds live in
assets/features.py, their cutters in assets/cutters.py, the face frames in assets/face_frames.py.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import manifold3d as mf
import numpy as np

from assets import features as feat
from assets import taxonomy
from assets.cutters import Feature
from assets.errors import SynthError
from assets.face_frames import FaceFrame, face_frame
from assets.stock_shapes import shape_sides, stock_step
from assets.synth_config import CLASSES, THROUGH_KINDS, SynthConfig
from geometry.stl import encode_stl

log = logging.getLogger(__name__)

#: The clamped face, where distractors go. It is not a class.
DISTRACTOR_FACE = "z_minus"
#: The face opposite each side class (``second_face``): through features cut from it open on
#: the label face too. ``z_plus`` has none: the face opposite it is the clamped one.
OPPOSITE = {"x_plus": "x_minus", "x_minus": "x_plus", "y_plus": "y_minus", "y_minus": "y_plus"}

DEPTH_FRACTION = 0.6  # label features reach at most this fraction of the stock's thickness
DISTRACTOR_DEPTH_FRACTION = 0.3  # distractors reach at most this fraction of the height
CLEARANCE = 2.0  # mm of material kept between any two features
QUANTUM = 1.0 / 4096  # vertices are rounded to this grid (mm): exact in float32 below 2048 mm
# Before rounding, edges shorter and slivers thinner than about this are collapsed (mm), so that
# rounding to QUANTUM cannot turn a triangle over.
TOLERANCE = 2e-3
TRIES_PER_FEATURE = 20  # placement attempts for one feature before it is dropped
ATTEMPTS_PER_PART = 5  # whole-part attempts when a result fails the watertight check
STL_HEADER = b"metaview synth binary STL; units: millimetres".ljust(80, b" ")


@dataclass(frozen=True)
class PlacedFeature:
    """A feature on a named face of the stock: ``role`` is ``"feature"`` or ``"distractor"``."""

    face: str
    role: str
    feature: Feature


@dataclass(frozen=True, eq=False)
class Part:
    """One generated workpiece.

    Attributes
    ----------
    label : str
        The class: the face all label features were cut into.
    seed : int
        The part's own seed; ``generate_part(label, seed, cfg)`` makes it again.
    stock : (float, float, float)
        Stock box sides ``(sx, sy, sz)`` in mm; untilted, the stock is
        ``[0, sx] x [0, sy] x [0, sz]``.
    features : tuple of PlacedFeature
        Label features first, then distractors.
    tilt_deg : float
        The angle the part was turned by (0 without ``tilt_deg``).
    transform : (4, 4) float64
        The tilt, a rotation about the stock's centre: ``mesh = transform @ untilted``.
    vertices : (n, 3) float64
        Vertex positions in mm, on the QUANTUM grid (exact in float32).
    faces : (m, 3) int64
        Counter-clockwise triangles (outward normals) indexing ``vertices``.
    """

    label: str
    seed: int
    stock: tuple[float, float, float]
    features: tuple[PlacedFeature, ...]
    tilt_deg: float
    transform: np.ndarray = field(repr=False)
    vertices: np.ndarray = field(repr=False)
    faces: np.ndarray = field(repr=False)

    def stl_bytes(self) -> bytes:
        """The part as a binary STL (see :func:`stl_bytes`)."""
        return stl_bytes(self.vertices, self.faces)

    def footprint_frac(self) -> float:
        """The fraction of the label face covered by the label features' bounding boxes."""
        frame = face_frame(self.label, self.stock)
        area = sum(
            (b[1] - b[0]) * (b[3] - b[2])
            for p in self.features
            if p.role == "feature"
            for b in p.feature.boxes
        )
        return area / (frame.size.u * frame.size.v)

    def world_boxes(self) -> list[tuple[PlacedFeature, np.ndarray, np.ndarray]]:
        """Every feature's boxes in the untilted world frame: ``(feature, lo (3,), hi (3,))``.

        A box holds all the material its feature removes; boxes of different features are at
        least CLEARANCE apart.
        """
        out = []
        for p in self.features:
            frame = face_frame(p.face, self.stock)
            out.extend((p, *frame.world_box(b)) for b in p.feature.boxes)
        return out

    def features_json(self) -> list[dict]:
        """The features as plain data: type, face, role, world position (mm), size, options.

        ``position`` is the feature's reference point on its face (see
        :class:`assets.cutters.Feature`) in the untilted stock frame.
        """
        out = []
        for p in self.features:
            frame = face_frame(p.face, self.stock)
            pos = frame.to_world(np.array([*p.feature.position, 0.0]))
            entry = {
                "type": p.feature.kind,
                "face": p.face,
                "role": p.role,
                "position": [round(float(x), 3) + 0.0 for x in pos],
                "size": {k: round(v, 4) for k, v in p.feature.size.items()},
            }
            if p.feature.options:
                entry["options"] = dict(p.feature.options)
            out.append(entry)
        return out


def part_seed(master_seed: int, label: str, index: int) -> int:
    """The seed of part ``index`` of class ``label``: a 63-bit integer from the master seed.

    Parameters
    ----------
    master_seed : int
        :attr:`SynthConfig.seed`.
    label : str
        One of :data:`CLASSES`.
    index : int
        The part's number within its class, from 0.
    """
    seq = np.random.SeedSequence(master_seed, spawn_key=(CLASSES.index(label), index))
    return int(seq.generate_state(1, np.uint64)[0] >> np.uint64(1))


def _disjoint(boxes: list[tuple[np.ndarray, np.ndarray]], lo: np.ndarray, hi: np.ndarray) -> bool:
    """True when the box (lo, hi) keeps CLEARANCE from every box in ``boxes``."""
    for b_lo, b_hi in boxes:
        if np.all(lo < b_hi + CLEARANCE) and np.all(b_lo < hi + CLEARANCE):
            return False
    return True


_SAMPLERS = taxonomy.ALL_KINDS


def _place(
    rng: np.random.Generator,
    frame: FaceFrame,
    count: int,
    kinds: tuple[str, ...],
    max_depth: float,
    segments: int,
    taken: list[tuple[np.ndarray, np.ndarray]],
) -> list[Feature]:
    """Draw up to ``count`` features on one face that keep clear of ``taken`` (updated)."""
    placed = []
    for _ in range(count):
        for _try in range(TRIES_PER_FEATURE):
            kind = kinds[int(rng.integers(len(kinds)))]
            f = _SAMPLERS[kind](rng, frame.size, max_depth, segments)
            if f is None:
                continue
            boxes = [frame.world_box(b) for b in f.boxes]
            if all(_disjoint(taken, lo, hi) for lo, hi in boxes):
                taken.extend(boxes)
                placed.append(f)
                break
    return placed


def _rotation(axis: np.ndarray, angle_rad: float) -> np.ndarray:
    """Rotation matrix (3, 3) about a unit axis (Rodrigues' formula)."""
    x, y, z = axis
    k = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
    return np.eye(3) + math.sin(angle_rad) * k + (1 - math.cos(angle_rad)) * (k @ k)


def _draw(label: str, cfg: SynthConfig, rngs: list[np.random.Generator]):
    """Draw one candidate part: stock, placed features and tilt (no geometry yet).

    The stock shape and the second face draw from their own stream (the fourth), only when
    they are asked for, so that the first generator's parts come out byte for byte as before.
    """
    rng_main, rng_distract, rng_tilt, rng_shape = rngs
    sides = [_stock_side(rng_main, cfg) for _ in range(3)]
    shape = "box"
    if cfg.stock != ("box",):
        shape = cfg.stock[int(rng_shape.integers(len(cfg.stock)))]
        shape_sides(rng_shape, shape, sides)
    stock = (sides[0], sides[1], sides[2])
    frame = face_frame(label, stock)
    taken: list[tuple[np.ndarray, np.ndarray]] = []
    placed = []
    if shape == "stepped":
        step = stock_step(rng_shape, frame)
        taken.extend(frame.world_box(b) for b in step.boxes)
        placed.append(PlacedFeature(label, "stock", step))
    count = int(rng_main.integers(cfg.min_features, cfg.max_features + 1))
    max_depth = DEPTH_FRACTION * frame.size.depth
    kinds = THROUGH_KINDS if cfg.through else cfg.kinds
    placed += [
        PlacedFeature(label, "feature", f)
        for f in _place(rng_main, frame, count, kinds, max_depth, cfg.segments, taken)
    ]
    if cfg.second_face > 0 and label in OPPOSITE and rng_shape.random() < cfg.second_face:
        # Through features cut from the opposite face open on the label face too: the part
        # has features on two faces, and the label still reaches every one of them.
        other = face_frame(OPPOSITE[label], stock)
        through = [k for k in cfg.kinds if k in taxonomy.THROUGH] or list(THROUGH_KINDS)
        n = int(rng_shape.integers(1, 3))
        for f in _place(rng_shape, other, n, tuple(through), 0.0, cfg.segments, taken):
            placed.append(PlacedFeature(OPPOSITE[label], "feature", f))
    if cfg.distractors:
        bottom = face_frame(DISTRACTOR_FACE, stock)
        n = int(rng_distract.integers(1, cfg.distractors + 1))
        depth = DISTRACTOR_DEPTH_FRACTION * bottom.size.depth
        for f in _place(rng_distract, bottom, n, feat.CLOSED_KINDS, depth, cfg.segments, taken):
            placed.append(PlacedFeature(DISTRACTOR_FACE, "distractor", f))
    tilt = np.eye(4)
    angle = 0.0
    if cfg.tilt_deg > 0:
        axis = rng_tilt.normal(size=3)
        axis /= np.linalg.norm(axis)
        angle = float(rng_tilt.uniform(0.0, cfg.tilt_deg))
        centre = np.array(stock) / 2
        rot = _rotation(axis, math.radians(angle))
        tilt[:3, :3] = rot
        tilt[:3, 3] = centre - rot @ centre
    return stock, tuple(placed), angle, tilt


def _stock_side(rng: np.random.Generator, cfg: SynthConfig) -> float:
    # Stock comes in whole and half millimetres.
    lo, hi = math.ceil(cfg.min_side * 2), math.floor(cfg.max_side * 2)
    return int(rng.integers(lo, max(lo, hi) + 1)) / 2


def _cut(stock: tuple[float, float, float], placed: tuple[PlacedFeature, ...], segments: int):
    """Subtract every cutter from the stock in one boolean; return the manifold."""
    solids = [mf.Manifold.cube(stock)]
    for p in placed:
        frame = face_frame(p.face, stock)
        solids.append(p.feature.cutter(frame.size, segments).transform(frame.affine()))
    return mf.Manifold.batch_boolean(solids, mf.OpType.Subtract)


def generate_part(label: str, seed: int, cfg: SynthConfig) -> Part:
    """Make one labelled part.

    Parameters
    ----------
    label : str
        One of :data:`CLASSES`: the face that gets the features.
    seed : int
        The part's own seed (see :func:`part_seed`).
    cfg : SynthConfig
        Stock, feature, tilt and distractor settings (``per_class``, ``classes`` and ``seed``
        are not used here).

    Returns
    -------
    Part

    Raises
    ------
    SynthError
        If ``label`` is not a class, or no watertight part came out in ATTEMPTS_PER_PART tries.
    """
    if label not in CLASSES:
        raise SynthError(f"unknown class {label!r}; expected one of {', '.join(CLASSES)}")
    # spawn(4)'s first three children are spawn(3)'s: the fourth stream is new, the rest as before.
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]
    for attempt in range(ATTEMPTS_PER_PART):
        stock, placed, angle, tilt = _draw(label, cfg, rngs)
        if not any(p.role == "feature" for p in placed):
            log.debug("part %s seed %d attempt %d: no feature fitted", label, seed, attempt)
            continue
        mesh = _cut(stock, placed, cfg.segments).simplify(TOLERANCE).to_mesh64()
        exact = np.asarray(mesh.vert_properties, dtype=np.float64)[:, :3]
        faces = np.asarray(mesh.tri_verts, dtype=np.int64)
        if angle > 0:
            exact = exact @ tilt[:3, :3].T + tilt[:3, 3]
        vertices = np.round(exact / QUANTUM) * QUANTUM
        problem = _mesh_problem(vertices, faces, float(np.prod(stock)), exact)
        if problem is None:
            return Part(label, seed, stock, placed, angle, tilt, vertices, faces)
        log.debug("part %s seed %d attempt %d: %s", label, seed, attempt, problem)
    raise SynthError(
        f"could not make a watertight {label} part from seed {seed} in {ATTEMPTS_PER_PART} attempts"
    )


def _mesh_problem(
    vertices: np.ndarray, faces: np.ndarray, stock_volume: float, exact: np.ndarray
) -> str | None:
    """Why the mesh is not a valid part (None when it is): watertight, wound, smaller than stock.

    The check runs on the mesh as an STL reader sees it: vertices merged by position. It also
    refuses a triangle that rounding turned over (its normal against the unrounded one).
    """
    import trimesh

    before = _cross(exact[faces])
    after = _cross(vertices[faces])
    if np.any(np.einsum("ij,ij->i", before, after) <= 0):
        return "rounding turned a triangle over"
    mesh = trimesh.Trimesh(vertices=vertices, faces=faces, process=True)
    if len(mesh.faces) != len(faces):
        return "rounding merged vertices"
    if not mesh.is_watertight:
        return "not watertight"
    if not mesh.is_winding_consistent:
        return "inconsistent winding"
    if not 0 < mesh.volume < stock_volume:
        return f"volume {mesh.volume:.1f} mm^3 not below the stock's {stock_volume:.1f} mm^3"
    return None


def _cross(tri: np.ndarray) -> np.ndarray:
    """Area-weighted normals (m, 3) of triangles (m, 3, 3)."""
    return np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])


def stl_bytes(vertices: np.ndarray, faces: np.ndarray) -> bytes:
    """Encode a triangle mesh as binary STL with a fixed header (no date, no name).

    Parameters
    ----------
    vertices : (n, 3) float
        Positions in mm.
    faces : (m, 3) int
        Counter-clockwise triangles.

    Returns
    -------
    bytes
        ``84 + 50 * m`` bytes: :data:`STL_HEADER`, count, then normal, three vertices and
        a zero attribute per triangle, little-endian float32 (:func:`geometry.stl.encode_stl`,
        the codec the renderer reads with).
    """
    return encode_stl(vertices, faces, header=STL_HEADER)
