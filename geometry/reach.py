"""Reachability: from which of the five machine directions can every cut surface be reached?

A part is clamped on its ``-Z`` face; a 3-axis machine then reaches it from five directions,
the classes of :mod:`geometry.directions`: ``x_plus`` (+X), ``x_minus`` (-X), ``y_plus`` (+Y),
``y_minus`` (-Y) and ``z_plus`` (+Z). :func:`reachable_directions` answers, for one mesh,
which of them reach *every* feature face, and why the others do not.

Method (all lengths relative to ``L``, the longest side of the straightened bounding box, so
the answer does not depend on the part's scale):

1. *Straighten.* A slightly tilted part is turned back onto the axes with
   :func:`geometry.straighten.straighten` (tilts below 45 degrees are undone exactly;
   axes are never swapped).
2. *Feature faces.* A face whose three corners lie within ``box_tol * L`` of one side plane of
   the bounding box is stock surface; every other face was cut (walls, floors, chamfers,
   drill points).
3. *Samples.* Each cut face is probed at ``samples`` points (its centroid, or its centroid and
   the three points halfway between it and the corners), each carrying an equal share of the
   face's area, moved ``offset * L`` off the surface along the face's normal, onto its open
   side.
4. *Reach.* A direction ``d`` reaches a sample when the face's unit normal ``n`` does not point
   away from ``d`` (``n . d >= -facing_tol``: walls parallel to ``d`` are reached by the side of
   the tool) and the ray from the sample towards ``d`` meets no triangle (trimesh's ray
   casting: Embree through ``embreex`` when it is installed, else ``rtree``). A sample that
   fails is *away* (its face points away from ``d``) or *shadowed* (material is in the way).
5. *The clamped side.* Samples reached from ``-Z`` and from none of the five directions
   (features in the clamped face) are reported as ``clamped_frac``, a share of the cut area,
   and left out of everything else: the *feature area* is the cut area minus them.
6. *The rule.* A direction is valid when the feature area it does not reach is at most
   ``area_tol`` of the feature area (default 0.1 %). On synthetic parts a direction misses
   either nothing (up to float rounding, 1e-16) or at least 5 % (``bench/reach.py``); the
   tolerance absorbs rounding and stray slivers of real meshes and stays below a small hole's
   share of a part with large cuts. A part without feature faces (a plain box, or only
   clamped-side cuts) is valid from every direction, vacuously, with ``status``
   ``"no_features"``.

Shares (``reach``, ``away``, ``shadowed``, ``unreachable``) are fractions of the feature area;
``unreachable`` is the share no direction reaches, not even ``-Z`` (an undercut): it makes every
direction invalid.

This module analyses one part (arrays or one file); ``metaview reach`` runs it over a folder
into ``reach.csv`` (:mod:`assets.reach`), ``metaview synth`` labels its parts with it, and
``metaview predict`` checks its answers against it.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field

import numpy as np

from base.options import option
from geometry.directions import AXIS_NAMES, CLAMPED, DIRECTIONS
from geometry.errors import MeshError, ReachError
from geometry.stock import side_distances, stock_sides
from geometry.straighten import check_mesh, face_normals_areas, straighten, turn_angle_deg

log = logging.getLogger(__name__)


RAY_BACKENDS = ("auto", "embree", "rtree")


STATUS_OK = "ok"  # the part has feature faces; ``valid`` says which directions reach them all


STATUS_NO_FEATURES = "no_features"  # nothing cut (a plain box): every direction, vacuously


def _fraction(name: str, value: object, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ReachError(f"{name} must be a number, got {value!r}")
    if not 0.0 <= value <= hi:
        raise ReachError(f"{name} must be between 0 and {hi:g}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class ReachConfig:
    """How :func:`reachable_directions` probes a part; lengths are fractions of ``L``."""

    area_tol: float = field(
        default=0.001,
        metadata=option("share of the feature area a valid direction may miss", metavar="F"),
    )
    box_tol: float = field(
        default=1e-4,
        metadata=option(
            "a face within this share of the longest side from a bounding-box side is stock",
            metavar="F",
        ),
    )
    offset: float = field(
        default=1e-4,
        metadata=option(
            "rays start this share of the longest side off the surface, on its open side",
            metavar="F",
        ),
    )
    facing_tol: float = field(
        default=0.02,
        metadata=option(
            "a face faces a direction d when n . d >= -F (0.02: about 1.1 degrees past a wall)",
            metavar="F",
        ),
    )
    samples: int = field(
        default=4,
        metadata=option(
            "ray origins per face: 1 (its centroid) or 4 (centroid and 3 inner points)",
            choices=(1, 4),
        ),
    )
    rays: str = field(
        default="auto",
        metadata=option(
            "ray casting: embree (embreex), rtree, or auto (embree where it imports)",
            choices=RAY_BACKENDS,
        ),
    )

    def __post_init__(self) -> None:
        _fraction("area_tol", self.area_tol, 0.5)
        _fraction("box_tol", self.box_tol, 0.01)
        _fraction("facing_tol", self.facing_tol, 0.5)
        if _fraction("offset", self.offset, 0.01) <= 0:
            raise ReachError(f"offset must be above 0, got {self.offset!r}")
        if self.samples not in (1, 4):
            raise ReachError(f"samples must be 1 or 4, got {self.samples!r}")
        if self.rays not in RAY_BACKENDS:
            raise ReachError(f"rays must be one of {', '.join(RAY_BACKENDS)}, got {self.rays!r}")


@dataclass(frozen=True)
class ReachResult:
    """What :func:`reachable_directions` found for one part.

    Attributes
    ----------
    valid : tuple of str
        The directions (class names, in :data:`DIRECTIONS` order) that reach every feature
        face, up to ``area_tol``.
    status : str
        ``"ok"``, or ``"no_features"`` when nothing but stock surface is left to reach.
    feature_faces : int
        Faces off the bounding box, less those only the clamped side reaches.
    feature_area, cut_area, total_area : float
        Areas in the mesh's units squared: feature faces, all faces off the box, all faces.
    reach, away, shadowed : dict[str, float]
        Per direction, shares of the feature area: reached; facing away from it; facing it
        but hidden behind material. ``reach + away + shadowed == 1``.
    clamped_frac : float
        Share of the cut area that only ``-Z`` reaches (features in the clamped face).
    unreachable_frac : float
        Share of the feature area that no direction reaches, ``-Z`` included.
    tilt_deg : float
        The angle the part was turned by to straighten it.
    area_tol : float
        The rule's tolerance the result was decided with.
    """

    valid: tuple[str, ...]
    status: str
    feature_faces: int
    feature_area: float
    cut_area: float
    total_area: float
    reach: dict[str, float] = field(repr=False)
    away: dict[str, float] = field(repr=False)
    shadowed: dict[str, float] = field(repr=False)
    clamped_frac: float = 0.0
    unreachable_frac: float = 0.0
    tilt_deg: float = 0.0
    area_tol: float = ReachConfig.area_tol

    def reasons(self) -> dict[str, str]:
        """Why each invalid direction fails, in words, e.g.
        ``{"x_plus": "12.0 % of feature area faces away from +X, 8.0 % is shadowed from +X"}``.
        """
        out = {}
        for name in DIRECTIONS:
            if name in self.valid:
                continue
            axis = AXIS_NAMES[name]
            parts = []
            if self.away[name] > 0:
                parts.append(f"{_pct(self.away[name])} % of feature area faces away from {axis}")
            if self.shadowed[name] > 0:
                parts.append(f"{_pct(self.shadowed[name])} % is shadowed from {axis}")
            out[name] = ", ".join(parts)
        return out


def _pct(share: float) -> str:
    """A share as a percentage that never rounds a non-zero share to "0.0"."""
    pct = 100.0 * share
    return f"{pct:.1f}" if pct >= 0.05 else f"{pct:.2g}"


def ray_backend(requested: str = "auto") -> str:
    """The ray caster ``requested`` resolves to: ``"embree"`` or ``"rtree"``.

    ``"auto"`` is Embree when ``embreex`` imports (trimesh's own choice), else rtree.

    Raises
    ------
    ReachError
        The requested caster's package is missing.
    """
    import importlib.util

    from trimesh.ray import has_embree

    if requested == "embree" or (requested == "auto" and has_embree):
        if not has_embree:
            raise ReachError("rays='embree' needs the embreex package: pip install embreex")
        return "embree"
    if importlib.util.find_spec("rtree") is None:
        raise ReachError(
            "ray casting needs embreex (fast: pip install embreex) or rtree (pip install rtree); "
            "neither is installed"
        )
    return "rtree"


def _ray_engine(vertices: np.ndarray, faces: np.ndarray, backend: str):
    """A trimesh ray intersector for the mesh (``intersects_any(origins, directions)``)."""
    import trimesh

    mesh = trimesh.Trimesh(vertices=vertices, faces=faces, process=False, validate=False)
    if backend == "embree":
        from trimesh.ray.ray_pyembree import RayMeshIntersector
    else:
        from trimesh.ray.ray_triangle import RayMeshIntersector
    return RayMeshIntersector(mesh)


# Barycentric weights of the sample points: the centroid, then halfway from it to each corner.
_SAMPLES = {
    1: np.array([[1 / 3, 1 / 3, 1 / 3]]),
    4: np.array(
        [[1 / 3, 1 / 3, 1 / 3], [2 / 3, 1 / 6, 1 / 6], [1 / 6, 2 / 3, 1 / 6], [1 / 6, 1 / 6, 2 / 3]]
    ),
}


def _as_arrays(mesh, faces) -> tuple[np.ndarray, np.ndarray]:
    if faces is None:
        if not (hasattr(mesh, "vertices") and hasattr(mesh, "faces")):
            raise ReachError(
                "expected a mesh with vertices and faces (or vertices and faces arrays), "
                f"got {type(mesh).__name__}"
            )
        mesh, faces = mesh.vertices, mesh.faces
    try:
        return check_mesh(np.asarray(mesh), np.asarray(faces))
    except MeshError as exc:
        raise ReachError(str(exc)) from None


@dataclass(frozen=True)
class FaceReach:
    """Per-face reach of one part, in its straightened frame: what :func:`reachable_directions`
    sums up, kept face by face (``metaview explain`` colours the faces with it).

    Attributes
    ----------
    vertices : (v, 3) float64
        The part, moved and turned onto the axes (the frame the directions refer to).
    faces : (f, 3) int64
        Triangles wound outwards (a mesh wound inside out is turned round); the same faces
        in the same order as the input.
    normals : (f, 3) float64
        Unit face normals (zero for a face without area).
    areas : (f,) float64
    stock : (f,) bool
        Faces on a side plane of the bounding box (stock surface, never probed).
    reached : (f, 6) float64
        Per face, the share of its samples reached from each of the five directions, in
        :data:`DIRECTIONS` order, then from ``-Z`` (the clamped side); 0 for stock faces.
    clamped : (f,) bool
        Cut faces that only ``-Z`` reaches (features in the clamped face), left out of the
        feature area.
    tilt_deg : float
        The angle the part was turned by to straighten it.
    """

    vertices: np.ndarray
    faces: np.ndarray
    normals: np.ndarray
    areas: np.ndarray
    stock: np.ndarray
    reached: np.ndarray
    clamped: np.ndarray
    tilt_deg: float

    def directions(self, share: float = 0.5) -> np.ndarray:
        """(f, 5) bool: the directions that reach at least ``share`` of each face's samples."""
        return self.reached[:, :5] >= share

    @property
    def undercut(self) -> np.ndarray:
        """(f,) bool: cut faces (neither stock nor clamped-only) most of whose samples no
        direction reaches, ``-Z`` included."""
        feature = ~self.stock & ~self.clamped & (self.areas > 0)
        return feature & ~self.directions().any(axis=1) & ~(self.reached[:, 5] >= 0.5)


@dataclass(frozen=True)
class _Probe:
    """Sample-level results of casting the rays (:func:`_probe`)."""

    vertices: np.ndarray
    faces: np.ndarray
    normals: np.ndarray
    areas: np.ndarray
    on_box: np.ndarray  # (f,) bool
    cut: np.ndarray  # (c,) indices of the probed faces
    k: int  # samples per probed face
    facing: np.ndarray  # (c * k, 6) bool, five directions then -Z
    clear: np.ndarray  # (c * k, 6) bool: no material between the sample and the outside
    weights: np.ndarray  # (c * k,) each sample's share of its face's area
    tilt_deg: float


def _probe(mesh, faces: np.ndarray | None, cfg: ReachConfig) -> _Probe:
    """Straighten the part, find its cut faces and cast the rays (steps 1-4 of the module
    docstring)."""
    backend = ray_backend(cfg.rays)
    vertices, faces = _as_arrays(mesh, faces)
    # Turn about a point on the part: less rounding far from the origin.
    vertices = vertices - vertices[faces[0, 0]]
    try:
        rot = straighten(vertices, faces)
    except MeshError as exc:  # the geometry layer's error type; ours here
        raise ReachError(str(exc)) from None
    tilt = turn_angle_deg(rot)
    vertices = vertices @ rot.T
    tri = vertices[faces]  # (f, 3, 3)
    lo, hi = tri.min(axis=(0, 1)), tri.max(axis=(0, 1))
    big = float((hi - lo).max())
    if not big > 0:
        raise ReachError("expected a mesh with non-zero extent, found all vertices at one point")
    # A mesh wound inside out (negative signed volume) would put every ray origin inside the
    # material: turn its triangles round.
    if np.einsum("ij,ij->", tri[:, 0] - lo, np.cross(tri[:, 1] - lo, tri[:, 2] - lo)) < 0:
        faces = faces[:, ::-1]
        tri = vertices[faces]
    normals, areas = face_normals_areas(vertices, faces)
    if not float(areas.sum()) > 0:
        raise ReachError("expected a mesh with non-zero surface area, got none")

    # Stock surface: all three corners on one side plane of the box.
    on_box = stock_sides(side_distances(tri, lo, hi), cfg.box_tol * big).any(axis=1)
    cut = np.flatnonzero(~on_box & (areas > 0))

    bary = _SAMPLES[cfg.samples]
    k = len(bary)
    # (c * k, 3) sample points, face by face, and each sample's share of its face's area.
    points = np.einsum("sj,fjd->fsd", bary, tri[cut]).reshape(-1, 3)
    n_s = np.repeat(normals[cut], k, axis=0)
    origins = points + n_s * (cfg.offset * big)

    dirs = np.array([*DIRECTIONS.values(), CLAMPED], dtype=np.float64)  # (6, 3)
    facing = (n_s @ dirs.T) >= -cfg.facing_tol  # (s, 6)
    clear = np.zeros_like(facing)
    sample, direction = np.nonzero(facing)  # only the rays a facing test leaves open, at once
    if len(sample):
        engine = _ray_engine(vertices, faces, backend)
        hit = engine.intersects_any(origins[sample], dirs[direction])
        clear[sample, direction] = ~np.asarray(hit, dtype=bool)
    return _Probe(
        vertices=vertices,
        faces=faces,
        normals=normals,
        areas=areas,
        on_box=on_box,
        cut=cut,
        k=k,
        facing=facing,
        clear=clear,
        weights=np.repeat(areas[cut] / k, k),
        tilt_deg=tilt,
    )


def face_reach(mesh, faces: np.ndarray | None = None, cfg: ReachConfig | None = None) -> FaceReach:
    """What reaches each face of a part: the rays of :func:`reachable_directions`, per face.

    Parameters and errors as :func:`reachable_directions`.

    Returns
    -------
    FaceReach
    """
    p = _probe(mesh, faces, cfg or ReachConfig())
    n = len(p.faces)
    reached = p.facing & p.clear  # (s, 6)
    clamped_s = reached[:, 5] & ~reached[:, :5].any(axis=1)
    per_face = np.zeros((n, 6))
    clamped = np.zeros(n, dtype=bool)
    if len(p.cut):
        per_face[p.cut] = reached.reshape(len(p.cut), p.k, 6).mean(axis=1)
        clamped[p.cut] = clamped_s.reshape(len(p.cut), p.k).all(axis=1)
    return FaceReach(
        vertices=p.vertices,
        faces=np.asarray(p.faces, dtype=np.int64),
        normals=p.normals,
        areas=p.areas,
        stock=p.on_box,
        reached=per_face,
        clamped=clamped,
        tilt_deg=p.tilt_deg,
    )


def reachable_directions(
    mesh, faces: np.ndarray | None = None, cfg: ReachConfig | None = None
) -> ReachResult:
    """The directions that reach every feature face of a part (see the module docstring).

    Parameters
    ----------
    mesh : trimesh.Trimesh, or (v, 3) float vertices
        The part, in any units, possibly tilted by less than 45 degrees; with vertices, pass
        ``faces`` too.
    faces : (f, 3) int, optional
        Counter-clockwise triangles (outward normals), when ``mesh`` is a vertex array.
    cfg : ReachConfig, optional
        Tolerances and sampling; the defaults when omitted.

    Returns
    -------
    ReachResult

    Raises
    ------
    ReachError
        A malformed mesh: wrong shapes, non-finite vertices, indices out of range, no area.
    """
    cfg = cfg or ReachConfig()
    p = _probe(mesh, faces, cfg)
    facing, clear, w_s = p.facing, p.clear, p.weights
    reached = facing & clear
    from_five = reached[:, :5].any(axis=1)
    clamped = reached[:, 5] & ~from_five
    counted = ~clamped
    cut_area = float(w_s.sum())
    feature_area = float(w_s[counted].sum())
    face_counted = counted.reshape(-1, p.k).any(axis=1) if len(p.cut) else np.zeros(0, dtype=bool)

    reach, away, shadowed = {}, {}, {}
    valid = []
    if feature_area > 0:
        wf = w_s[counted] / feature_area
        for j, name in enumerate(DIRECTIONS):
            reach[name] = float(wf[reached[counted, j]].sum())
            away[name] = float(wf[~facing[counted, j]].sum())
            shadowed[name] = float(wf[facing[counted, j] & ~clear[counted, j]].sum())
            if 1.0 - reach[name] <= cfg.area_tol:
                valid.append(name)
        unreachable = float(wf[~from_five[counted]].sum())
        status = STATUS_OK
    else:
        reach = dict.fromkeys(DIRECTIONS, 1.0)
        away = dict.fromkeys(DIRECTIONS, 0.0)
        shadowed = dict.fromkeys(DIRECTIONS, 0.0)
        valid = list(DIRECTIONS)
        unreachable = 0.0
        status = STATUS_NO_FEATURES
    return ReachResult(
        valid=tuple(valid),
        status=status,
        feature_faces=int(face_counted.sum()),
        feature_area=feature_area,
        cut_area=cut_area,
        total_area=float(p.areas.sum()),
        reach=reach,
        away=away,
        shadowed=shadowed,
        clamped_frac=float(w_s[clamped].sum() / cut_area) if cut_area > 0 else 0.0,
        unreachable_frac=unreachable,
        tilt_deg=p.tilt_deg,
        area_tol=cfg.area_tol,
    )


def reach_file(path: str | os.PathLike, cfg: ReachConfig | None = None) -> ReachResult:
    """Load a mesh file (any format ``render.mesh.load_mesh`` reads) and analyse it.

    Raises
    ------
    render.errors.MeshError
        The file is missing or not a mesh, naming the file.
    ReachError
        The mesh cannot be measured, naming the file.
    """
    from geometry.mesh import load_mesh

    # merge=False: rays and per-face normals need no shared vertices.
    mesh = load_mesh(path, merge=False)
    try:
        return reachable_directions(np.asarray(mesh.vertices), np.asarray(mesh.faces), cfg)
    except ReachError as exc:
        raise ReachError(f"{path}: {exc}") from None
