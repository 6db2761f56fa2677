"""Reachability: from which of the five machine directions can every cut surface be reached?

A part is clamped on its ``-Z`` face; a 3-axis machine then reaches it from five directions,
the classes of :mod:`assets.synth`: ``x_plus`` (+X), ``x_minus`` (-X), ``y_plus`` (+Y),
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

Why one module of this size: the analysis, its CSV and the parallel batch are one command's
worth; straightening is shared with train/features/straighten.py.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from base.errors import MetaviewError
from geometry.errors import MeshError
from geometry.straighten import check_mesh, face_normals_areas, straighten, turn_angle_deg

log = logging.getLogger(__name__)

#: The five directions a machine reaches with the part clamped on -Z, in class order
#: (the same names and order as :data:`assets.synth.CLASSES`).
DIRECTIONS: dict[str, tuple[int, int, int]] = {
    "x_plus": (1, 0, 0),
    "x_minus": (-1, 0, 0),
    "y_plus": (0, 1, 0),
    "y_minus": (0, -1, 0),
    "z_plus": (0, 0, 1),
}
CLAMPED = (0, 0, -1)  # the clamped side: reported, never a valid direction
AXIS_NAMES = {"x_plus": "+X", "x_minus": "-X", "y_plus": "+Y", "y_minus": "-Y", "z_plus": "+Z"}
RAY_BACKENDS = ("auto", "embree", "rtree")
SET_SEPARATOR = "|"  # "x_plus|z_plus" in CSV files

STATUS_OK = "ok"  # the part has feature faces; ``valid`` says which directions reach them all
STATUS_NO_FEATURES = "no_features"  # nothing cut (a plain box): every direction, vacuously
STATUS_ERROR = "error"  # the file could not be read or measured (CSV rows only)

#: Columns of ``reach.csv``, documented in :func:`result_row` and docs/parts.md.
CSV_COLUMNS = (
    "file",
    "label",
    "status",
    "valid",
    "n_valid",
    "label_in_set",
    "feature_faces",
    "feature_area_frac",
    *(f"reach_{name}" for name in DIRECTIONS),
    "clamped_frac",
    "unreachable_frac",
    "tilt_deg",
    "reasons",
    "error",
)


class ReachError(MetaviewError, ValueError):
    """A mesh the analysis cannot measure, or a bad option; the message names the file."""


def _fraction(name: str, value: object, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ReachError(f"{name} must be a number, got {value!r}")
    if not 0.0 <= value <= hi:
        raise ReachError(f"{name} must be between 0 and {hi:g}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class ReachConfig:
    """How :func:`reachable_directions` probes a part; lengths are fractions of ``L``."""

    area_tol: float = 0.001  # a direction may miss this share of the feature area
    box_tol: float = 1e-4  # a face within this of a bounding-box side is stock, not cut
    offset: float = 1e-4  # rays start this far off the surface, on its open side
    facing_tol: float = 0.02  # n . d >= -facing_tol faces d (about 1.1 degrees past a wall)
    samples: int = 4  # ray origins per face: 1 (centroid) or 4 (centroid and 3 inner points)
    rays: str = "auto"  # ray casting: "embree" (embreex), "rtree", or "auto": embree if it imports

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


def label_set(valid: Iterable[str]) -> str:
    """A set of directions as one CSV field: ``"x_plus|z_plus"`` (class order; "" if empty)."""
    chosen = set(valid)
    return SET_SEPARATOR.join(name for name in DIRECTIONS if name in chosen)


def parse_label_set(text: str) -> tuple[str, ...]:
    """The inverse of :func:`label_set`.

    Raises
    ------
    ReachError
        If a name is not one of :data:`DIRECTIONS`.
    """
    names = tuple(n for n in text.split(SET_SEPARATOR) if n)
    for n in names:
        if n not in DIRECTIONS:
            raise ReachError(
                f"unknown direction {n!r} in {text!r}; expected {', '.join(DIRECTIONS)}"
            )
    return names


# --- the analysis --------------------------------------------------------------------------


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
    total = float(areas.sum())
    if not total > 0:
        raise ReachError("expected a mesh with non-zero surface area, got none")

    # Stock surface: all three corners on one side plane of the box.
    tol = cfg.box_tol * big
    on_box = np.zeros(len(faces), dtype=bool)
    for axis in range(3):
        on_box |= np.all(np.abs(tri[:, :, axis] - lo[axis]) <= tol, axis=1)
        on_box |= np.all(np.abs(tri[:, :, axis] - hi[axis]) <= tol, axis=1)
    cut = np.flatnonzero(~on_box & (areas > 0))

    bary = _SAMPLES[cfg.samples]
    k = len(bary)
    # (c * k, 3) sample points, face by face, and each sample's share of its face's area.
    points = np.einsum("sj,fjd->fsd", bary, tri[cut]).reshape(-1, 3)
    n_s = np.repeat(normals[cut], k, axis=0)
    w_s = np.repeat(areas[cut] / k, k)
    origins = points + n_s * (cfg.offset * big)

    dirs = np.array([*DIRECTIONS.values(), CLAMPED], dtype=np.float64)  # (6, 3)
    facing = (n_s @ dirs.T) >= -cfg.facing_tol  # (s, 6)
    clear = np.zeros_like(facing)
    sample, direction = np.nonzero(facing)  # only the rays a facing test leaves open, at once
    if len(sample):
        engine = _ray_engine(vertices, faces, backend)
        hit = engine.intersects_any(origins[sample], dirs[direction])
        clear[sample, direction] = ~np.asarray(hit, dtype=bool)
    reached = facing & clear
    from_five = reached[:, :5].any(axis=1)
    clamped = reached[:, 5] & ~from_five
    counted = ~clamped
    cut_area = float(w_s.sum())
    feature_area = float(w_s[counted].sum())
    face_counted = counted.reshape(-1, k).any(axis=1) if len(cut) else np.zeros(0, dtype=bool)

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
        total_area=total,
        reach=reach,
        away=away,
        shadowed=shadowed,
        clamped_frac=float(w_s[clamped].sum() / cut_area) if cut_area > 0 else 0.0,
        unreachable_frac=unreachable,
        tilt_deg=tilt,
        area_tol=cfg.area_tol,
    )


# --- files and folders ---------------------------------------------------------------------


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


def _label_of(source: str) -> str:
    """The class a file's first folder names (``x_plus/0003.stl`` -> ``x_plus``), else ""."""
    first = source.split("/")[0] if "/" in source else ""
    return first if first in DIRECTIONS else ""


def result_row(source: str, result: ReachResult | None, error: str = "") -> dict:
    """One ``reach.csv`` row (see :data:`CSV_COLUMNS`).

    ``file`` is the path relative to the input folder; ``label`` the class its first folder
    names ("" otherwise); ``valid`` the set as ``"x_plus|z_plus"``; ``label_in_set`` 1/0
    ("" without a label); ``feature_area_frac`` the feature area's share of the surface;
    ``reach_<class>`` the share of the feature area reached from that direction;
    ``clamped_frac`` the share of the cut area only -Z reaches; ``unreachable_frac`` the share
    of the feature area nothing reaches; ``tilt_deg`` the straightening angle; ``reasons``
    ``"x_plus: 12.0 % of feature area faces away from +X; ..."`` for each invalid direction;
    ``error`` why a file failed (then ``status`` is ``"error"`` and the numbers are empty).
    """
    label = _label_of(source)
    row = dict.fromkeys(CSV_COLUMNS, "")
    row.update(file=source, label=label)
    if result is None:
        row.update(status=STATUS_ERROR, error=error)
        return row
    row.update(
        status=result.status,
        valid=label_set(result.valid),
        n_valid=len(result.valid),
        label_in_set=(int(label in result.valid) if label else ""),
        feature_faces=result.feature_faces,
        feature_area_frac=round(result.feature_area / result.total_area, 6),
        clamped_frac=round(result.clamped_frac, 6),
        unreachable_frac=round(result.unreachable_frac, 6),
        tilt_deg=round(result.tilt_deg, 4),
        reasons="; ".join(f"{k}: {v}" for k, v in result.reasons().items()),
    )
    if result.status == STATUS_NO_FEATURES:
        row["reasons"] = "no feature faces: nothing is cut, every direction reaches (vacuously)"
    for name in DIRECTIONS:
        row[f"reach_{name}"] = round(result.reach[name], 6)
    return row


def _analyse(job: tuple[str, str, ReachConfig]) -> dict:
    """Analyse one file; never raises (an error becomes the row's ``error``)."""
    root, source, cfg = job
    try:
        result = reach_file(Path(root) / source, cfg)
    except MetaviewError as exc:
        return result_row(source, None, str(exc))
    except Exception as exc:  # one broken file never stops a batch
        log.debug("reach %s failed", source, exc_info=True)
        return result_row(source, None, f"{source}: {type(exc).__name__}: {exc}")
    return result_row(source, result)


def _run(jobs: list, workers: int) -> Iterator[dict]:
    if workers == 1 or len(jobs) < 2:
        for job in jobs:
            yield _analyse(job)
        return
    from concurrent.futures import ProcessPoolExecutor

    # Fork where it is safe (no native threads yet), else spawn: see process_pool_context.
    import trimesh  # noqa: F401  (imported once here, not in every child)

    from base.native import process_pool_context

    chunk = max(1, min(16, len(jobs) // (4 * workers)))
    with ProcessPoolExecutor(max_workers=workers, mp_context=process_pool_context()) as pool:
        yield from pool.map(_analyse, jobs, chunksize=chunk)


def reach_folder(
    in_path: str | os.PathLike,
    out_csv: str | os.PathLike | None = None,
    cfg: ReachConfig | None = None,
    workers: int = 1,
    progress: Callable[[dict], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> list[dict]:
    """Analyse every mesh under a folder (or one mesh file) and write ``reach.csv``.

    Parameters
    ----------
    in_path : path-like
        A folder, searched like ``metaview render`` does (:func:`render.batch.scan_input`:
        entries that look like meshes but cannot be one become error rows), or one mesh file.
    out_csv : path-like, optional
        Where to write; default ``IN/reach.csv`` (beside the file for a single file).
    cfg : ReachConfig, optional
    workers : int
        Processes to use; the rows are the same for any number.
    progress : callable, optional
        Called with each row as it is made.
    on_start : callable, optional
        Called once with the number of files before the first is analysed.

    Returns
    -------
    list of dict
        The rows written, sorted by file; failed files have ``status`` ``"error"``.

    Raises
    ------
    ReachError
        ``in_path`` is neither a folder nor a file, ``workers`` is below 1, or no mesh was found.
    """
    from metaimage import io as mio
    from render.batch import scan_input

    cfg = cfg or ReachConfig()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ReachError(f"workers must be an integer of at least 1, got {workers!r}")
    src = Path(in_path)
    if src.is_dir():
        root = src
        scan = scan_input(src)
        sources = [s for s, _label in scan.meshes]
        failed = [result_row(f["source"], None, f["error"]) for f in scan.failed]
        default_out = src / "reach.csv"
    elif src.is_file():
        root, sources, failed = src.parent, [src.name], []
        default_out = src.parent / "reach.csv"
    else:
        raise ReachError(f"{src}: expected a folder of meshes or a mesh file, found nothing")
    if not sources and not failed:
        raise ReachError(f"{src}: expected mesh files (.stl, .obj, .ply, .off, .glb), found none")
    log.info(
        "reach: %d files under %s, %d workers, rays by %s",
        len(sources),
        src,
        workers,
        ray_backend(cfg.rays),
    )
    if on_start is not None:
        on_start(len(sources) + len(failed))
    rows = list(failed)
    for row in failed:
        if progress is not None:
            progress(row)
    for row in _run([(str(root), s, cfg) for s in sources], workers):
        rows.append(row)
        if progress is not None:
            progress(row)
    rows.sort(key=lambda r: r["file"])
    mio.write_csv(out_csv if out_csv is not None else default_out, CSV_COLUMNS, rows)
    return rows
