"""Procedural machined workpieces, labelled with the direction their features were cut from.

A part is a box of stock, ``[0, sx] x [0, sy] x [0, sz]`` mm, clamped on its ``-Z`` face.
Its label is one of :data:`CLASSES`, the five faces a machine can reach in that set-up; all
of its features (:mod:`assets.features`) are cut into the face whose outward normal is the
label direction, with one boolean difference (manifold3d).

Guarantees, for every part (tested in ``tests/test_synth.py``):

- the mesh is watertight, consistently wound, in millimetres, with less volume than its stock;
- *reachability*: every surface a label feature created is visible from infinity along the
  label direction: from a point just off such a surface, on its open side, a ray in the label
  direction leaves the part without meeting it. (Each cutter is a union of columns open
  towards the label face, see :mod:`assets.features`.)
- *no through-cuts* (unless ``through``): label features go at most ``DEPTH_FRACTION`` of the
  stock's thickness deep, so the opposite face is untouched and every line along the label
  direction through the face meets material;
- with ``through``, the label features are drawn from :data:`THROUGH_KINDS` instead: holes,
  windows and edge slots cut right through the stock, out of the opposite face, so that the
  opposite direction reaches every feature too (for a side face; the face opposite ``z_plus``
  is the clamped one, not a direction). The label stays the face the features were cut into;
- features never overlap or touch: the boxes that hold what each one removes are at least
  ``CLEARANCE`` mm apart;
- distractors (``distractors > 0``) are closed features (holes, pockets) in the clamped -Z
  face, ``EDGE_WALL`` mm from its edges: seen from the label direction they are hidden.

``parts.csv`` records each part's *valid set*: the directions from which every feature face can
be reached (:func:`assets.reach.reachable_directions` on the part's mesh). It always holds the
label; it holds more when all the features sit on edges (steps, open slots, chamfers) or
go through (``through``).

Determinism: part ``i`` of class ``c`` gets its own seed from
``SeedSequence(seed, spawn_key=(CLASSES.index(c), i))``, so a part does not depend on how many
other parts are made, in which order, or in how many processes. Stock and label features,
distractors and tilt draw from three independent streams of that seed: turning on
``tilt_deg`` or ``distractors`` keeps the same blocks and the same label features (``through``
keeps the same blocks, with other features). Vertices
are rounded to a 1/4096 mm grid (exact in float32), and the STL header holds no date, so the
same configuration gives byte-identical files.

Why one module of this size: the generator is one procedure (stock, features, boolean cut,
checks, STL, parts.csv) whose steps share the per-part random streams; the cutters live in
assets/features.py.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import manifold3d as mf
import numpy as np

from assets import features as feat
from assets.errors import SynthError
from base import files, versions
from geometry.stl import encode_stl
from metaimage import io as mio

log = logging.getLogger(__name__)

#: The labels: faces a 3-axis machine reaches with the part clamped on -Z, in output order.
CLASSES = ("x_plus", "x_minus", "y_plus", "y_minus", "z_plus")
#: The clamped face, where distractors go. It is not a class.
DISTRACTOR_FACE = "z_minus"
#: Feature kinds, in the order ``--kinds`` lists them.
FEATURE_KINDS = tuple(feat.KINDS)
#: Kinds cut through the whole stock: ``--through`` draws the label features from these.
THROUGH_KINDS = tuple(feat.THROUGH_KINDS)

DEPTH_FRACTION = 0.6  # label features reach at most this fraction of the stock's thickness
DISTRACTOR_DEPTH_FRACTION = 0.3  # distractors reach at most this fraction of the height
CLEARANCE = 2.0  # mm of material kept between any two features
QUANTUM = 1.0 / 4096  # vertices are rounded to this grid (mm): exact in float32 below 2048 mm
# Before rounding, edges shorter and slivers thinner than about this are collapsed (mm), so that
# rounding to QUANTUM cannot turn a triangle over.
TOLERANCE = 2e-3
MAX_SIDE_LIMIT = 1000.0  # largest stock side accepted (mm)
TRIES_PER_FEATURE = 20  # placement attempts for one feature before it is dropped
ATTEMPTS_PER_PART = 5  # whole-part attempts when a result fails the watertight check
STL_HEADER = b"metaview synth binary STL; units: millimetres".ljust(80, b" ")
CSV_COLUMNS = (
    "file",
    "label",
    "valid",
    "features",
    "seed",
    "stock_mm",
    "tilt_deg",
    "footprint_frac",
)

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
class SynthConfig:
    """What ``metaview synth`` makes. Every field is validated; sizes are millimetres."""

    per_class: int = 4  # parts made for each class
    classes: tuple[str, ...] = CLASSES  # which classes to make (a subset of CLASSES)
    seed: int = 0  # master seed; each part derives its own (see module docstring)
    min_side: float = 30.0  # smallest side of the stock box
    max_side: float = 150.0  # largest side of the stock box
    min_features: int = 1  # fewest label features drawn per part (fewer if they do not fit)
    max_features: int = 5  # most label features per part (fewer if they do not fit)
    kinds: tuple[str, ...] = FEATURE_KINDS  # feature kinds to draw from
    tilt_deg: float = 0.0  # rotate each part by up to this angle about a random axis
    distractors: int = 0  # 0: none; n: 1..n closed features on the clamped -Z face
    segments: int = 32  # line segments per full circle of round features
    through: bool = False  # draw the label features from THROUGH_KINDS (cut through the stock)

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(self.classes))
        object.__setattr__(self, "kinds", tuple(self.kinds))
        _check_int("per_class", self.per_class, 1, "the number of parts per class")
        if not self.classes:
            raise SynthError("classes must name at least one class, got none")
        for name in self.classes:
            if name not in CLASSES:
                raise SynthError(
                    f"classes: unknown class {name!r}; expected some of {', '.join(CLASSES)}"
                )
        if len(set(self.classes)) != len(self.classes):
            raise SynthError(f"classes lists a class twice: {', '.join(self.classes)}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise SynthError(f"seed must be a non-negative integer, got {self.seed!r}")
        for name in ("min_side", "max_side"):
            value = getattr(self, name)
            if not _is_number(value) or not 10.0 <= value <= MAX_SIDE_LIMIT:
                raise SynthError(
                    f"{name} must be between 10 and {MAX_SIDE_LIMIT:g} mm, got {value!r}"
                )
        if self.min_side > self.max_side:
            raise SynthError(
                f"min_side ({self.min_side:g} mm) must not exceed max_side ({self.max_side:g} mm)"
            )
        _check_int("min_features", self.min_features, 1, "the fewest features per part")
        _check_int("max_features", self.max_features, 1, "the most features per part")
        if self.min_features > self.max_features:
            raise SynthError(
                f"min_features ({self.min_features}) must not exceed "
                f"max_features ({self.max_features})"
            )
        if self.max_features > 20:
            raise SynthError(f"max_features must be at most 20, got {self.max_features}")
        if not self.kinds:
            raise SynthError("kinds must name at least one feature kind, got none")
        for name in self.kinds:
            if name not in FEATURE_KINDS:
                raise SynthError(
                    f"kinds: unknown feature kind {name!r}; "
                    f"expected some of {', '.join(FEATURE_KINDS)}"
                )
        if len(set(self.kinds)) != len(self.kinds):
            raise SynthError(f"kinds lists a kind twice: {', '.join(self.kinds)}")
        if not _is_number(self.tilt_deg) or not 0.0 <= self.tilt_deg <= 45.0:
            raise SynthError(f"tilt_deg must be between 0 and 45 degrees, got {self.tilt_deg!r}")
        _check_int("distractors", self.distractors, 0, "the most distractors per part")
        if self.distractors > 10:
            raise SynthError(f"distractors must be at most 10, got {self.distractors}")
        _check_int("segments", self.segments, 8, "line segments per circle")
        if self.segments > 256:
            raise SynthError(f"segments must be at most 256, got {self.segments}")
        if not isinstance(self.through, bool):
            raise SynthError(f"through must be True or False, got {self.through!r}")
        if self.through and self.kinds != FEATURE_KINDS:
            raise SynthError(
                "kinds does not apply with through: through parts draw their features from "
                f"{', '.join(THROUGH_KINDS)}; got kinds {', '.join(self.kinds)}"
            )

    def to_dict(self) -> dict:
        """The configuration as JSON-ready plain data (tuples become lists)."""
        d = asdict(self)
        d["classes"] = list(self.classes)
        d["kinds"] = list(self.kinds)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> SynthConfig:
        """Rebuild a configuration written by :meth:`to_dict`; unknown keys are an error."""
        known = {f.name for f in cls.__dataclass_fields__.values()}
        unknown = sorted(set(d) - known)
        if unknown:
            raise SynthError(f"unknown synth configuration keys: {', '.join(unknown)}")
        return cls(**d)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_int(name: str, value: object, minimum: int, what: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise SynthError(f"{name} ({what}) must be an integer of at least {minimum}, got {value!r}")


@dataclass(frozen=True)
class PlacedFeature:
    """A feature on a named face of the stock: ``role`` is ``"feature"`` or ``"distractor"``."""

    face: str
    role: str
    feature: feat.Feature


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
        :class:`assets.features.Feature`) in the untilted stock frame.
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


@dataclass(frozen=True)
class FaceFrame:
    """A stock face: its size in its own frame and the exact map from that frame to the world.

    Attributes
    ----------
    size : assets.features.FaceSize
        Extents ``u``, ``v`` and the stock's thickness under the face (mm).
    rotation : (3, 3) float64
        Columns: the face's ``u``, ``v`` and outward normal in world coordinates (a signed
        permutation, so mapping loses nothing to rounding).
    origin : (3,) float64
        World position of the face's centre.
    """

    size: feat.FaceSize
    rotation: np.ndarray
    origin: np.ndarray

    def to_world(self, p: np.ndarray) -> np.ndarray:
        """Map a point (3,) from the face frame to the (untilted) world frame."""
        return self.rotation @ p + self.origin

    def affine(self) -> np.ndarray:
        """The face-to-world map as a 3x4 affine matrix."""
        return np.hstack([self.rotation, self.origin[:, None]])

    def world_box(self, box: feat.Box) -> tuple[np.ndarray, np.ndarray]:
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
    return FaceFrame(feat.FaceSize(u, v, n), rotation, origin)


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


_SAMPLERS = {**feat.KINDS, **feat.THROUGH_KINDS}


def _place(
    rng: np.random.Generator,
    frame: FaceFrame,
    count: int,
    kinds: tuple[str, ...],
    max_depth: float,
    segments: int,
    taken: list[tuple[np.ndarray, np.ndarray]],
) -> list[feat.Feature]:
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
    """Draw one candidate part: stock, placed features and tilt (no geometry yet)."""
    rng_main, rng_distract, rng_tilt = rngs
    sides = [_stock_side(rng_main, cfg) for _ in range(3)]
    stock = (sides[0], sides[1], sides[2])
    frame = face_frame(label, stock)
    taken: list[tuple[np.ndarray, np.ndarray]] = []
    count = int(rng_main.integers(cfg.min_features, cfg.max_features + 1))
    max_depth = DEPTH_FRACTION * frame.size.depth
    kinds = THROUGH_KINDS if cfg.through else cfg.kinds
    placed = [
        PlacedFeature(label, "feature", f)
        for f in _place(rng_main, frame, count, kinds, max_depth, cfg.segments, taken)
    ]
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
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)]
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


def part_row(part: Part, file: str) -> dict[str, str | int | float]:
    """The ``parts.csv`` row of a part written to ``file`` (posix path relative to the folder).

    ``valid`` is the part's valid set as ``"x_plus"`` or ``"x_plus|z_plus"``
    (:func:`assets.reach.reachable_directions`).
    """
    from assets.reach import label_set, reachable_directions

    valid = reachable_directions(part.vertices, part.faces).valid
    if part.label not in valid:  # the guarantees say it cannot happen: say so if it does
        log.warning("%s: label %s not in its valid set %s", file, part.label, valid)
    return {
        "file": file,
        "label": part.label,
        "valid": label_set(valid),
        "features": json.dumps(part.features_json(), separators=(",", ":")),
        "seed": part.seed,
        "stock_mm": json.dumps(list(part.stock)),
        "tilt_deg": round(part.tilt_deg, 3),
        "footprint_frac": round(part.footprint_frac(), 4),
    }


def _make_and_write(job: tuple[str, SynthConfig, str, int]) -> dict:
    out_dir, cfg, label, index = job
    part = generate_part(label, part_seed(cfg.seed, label, index), cfg)
    file = f"{label}/{index:04d}.stl"
    files.atomic_write_bytes(Path(out_dir) / file, part.stl_bytes())
    return part_row(part, file)


def _clear(out_dir: Path, overwrite: bool) -> None:
    """Refuse to mix with an earlier set, or remove the files an earlier run wrote."""
    ours = [out_dir / "parts.csv", out_dir / "synth.json"] + [out_dir / c for c in CLASSES]
    found = [p for p in ours if p.exists()]
    if not found:
        return
    if not overwrite:
        raise SynthError(
            f"output folder {out_dir} already holds parts ({found[0].name}); "
            "pass --force to replace them"
        )
    # Remove only what an earlier `metaview synth` wrote (the files its parts.csv lists):
    # a class folder may also hold a user's own meshes, which are never deleted.
    listed: set[Path] = set()
    csv_path = out_dir / "parts.csv"
    if csv_path.is_file():
        listed = {(out_dir / row["file"]).resolve() for row in read_parts_csv(csv_path)}
    foreign = [
        stl
        for c in CLASSES
        if (out_dir / c).is_dir()
        for stl in sorted((out_dir / c).glob("*.stl"))
        if stl.resolve() not in listed
    ]
    if foreign:
        raise SynthError(
            f"output folder {out_dir} holds STL files that metaview synth did not write there "
            f"(not in its parts.csv), e.g. {foreign[0]}; --force never deletes those: "
            "choose another output folder"
        )
    for stl in listed:
        stl.unlink(missing_ok=True)
    for c in CLASSES:
        d = out_dir / c
        if d.is_dir() and not any(d.iterdir()):
            d.rmdir()
    for f in (csv_path, out_dir / "synth.json"):
        f.unlink(missing_ok=True)


def synth_parts(
    out_dir: str | Path,
    cfg: SynthConfig,
    workers: int = 1,
    overwrite: bool = False,
    progress: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Generate ``cfg.per_class`` parts per class into ``out_dir``.

    Writes ``out_dir/<class>/<index:04d>.stl``, ``out_dir/parts.csv`` (columns
    :data:`CSV_COLUMNS`, one row per part, classes in :data:`CLASSES` order) and
    ``out_dir/synth.json`` (the configuration and :func:`generator_versions`).

    Parameters
    ----------
    out_dir : str or Path
        The output folder; created if missing.
    cfg : SynthConfig
        What to make.
    workers : int
        Processes to use; the files are the same for any number.
    overwrite : bool
        Replace the STL files, ``parts.csv`` and ``synth.json`` of an earlier run (other files
        are left alone). Without it, a folder holding any of them is an error.
    progress : callable, optional
        Called with each part's row as it is written.

    Returns
    -------
    list of dict
        The ``parts.csv`` rows.
    """
    if not isinstance(workers, int) or workers < 1:
        raise SynthError(f"workers must be an integer of at least 1, got {workers!r}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SynthError(f"output path {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    _clear(out, overwrite)
    labels = [c for c in CLASSES if c in cfg.classes]
    for label in labels:
        (out / label).mkdir(exist_ok=True)
    jobs = [(str(out), cfg, label, i) for label in labels for i in range(cfg.per_class)]
    log.info(
        "synth: %d parts (%d per class, classes %s) into %s, seed %d",
        len(jobs),
        cfg.per_class,
        ",".join(labels),
        out,
        cfg.seed,
    )
    rows = []
    for row in _run(jobs, workers):
        rows.append(row)
        if progress is not None:
            progress(row)
    mio.write_csv(out / "parts.csv", CSV_COLUMNS, rows)
    config = {
        "format": 1,
        "config": cfg.to_dict(),
        "parts": len(rows),
        "versions": generator_versions(),
    }
    mio.write_json(out / "synth.json", config)
    return rows


def generator_versions() -> dict[str, str]:
    """Versions of the packages whose output the files depend on (recorded in synth.json).

    The same configuration gives the same bytes with the same versions; another manifold3d
    (its triangulation) or NumPy (its random streams) may give other, equally valid, parts.
    """
    return versions.package_versions(("manifold3d", "numpy"))


def _run(jobs: list, workers: int) -> Iterator[dict]:
    if workers == 1 or len(jobs) < 2:
        for job in jobs:
            yield _make_and_write(job)
        return
    from concurrent.futures import ProcessPoolExecutor

    # Fork where it is safe (no native threads yet), else spawn: see process_pool_context.
    import trimesh  # noqa: F401  (imported once here, not in every child)

    from base.native import process_pool_context

    chunk = max(1, min(16, len(jobs) // (4 * workers)))
    with ProcessPoolExecutor(max_workers=workers, mp_context=process_pool_context()) as pool:
        yield from pool.map(_make_and_write, jobs, chunksize=chunk)


def read_parts_csv(path: str | Path) -> list[dict]:
    """Read a ``parts.csv``: features and stock_mm parsed from JSON, seed as int, valid as a
    tuple of class names (``()`` in files written before it existed).

    Raises
    ------
    SynthError
        If the file is missing or lacks a column of :data:`CSV_COLUMNS` (``valid`` may be
        missing).
    """
    from assets.reach import parse_label_set

    path = Path(path)
    if not path.is_file():
        raise SynthError(f"no parts.csv at {path}")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        found = reader.fieldnames or []
        missing = [c for c in CSV_COLUMNS if c not in found and c != "valid"]
        if missing:
            raise SynthError(f"{path}: missing columns {', '.join(missing)}")
        rows = []
        for row in reader:
            row["features"] = json.loads(row["features"])
            row["stock_mm"] = json.loads(row["stock_mm"])
            row["seed"] = int(row["seed"])
            row["tilt_deg"] = float(row["tilt_deg"])
            row["footprint_frac"] = float(row["footprint_frac"])
            row["valid"] = parse_label_set(row.get("valid") or "")
            rows.append(row)
    return rows
