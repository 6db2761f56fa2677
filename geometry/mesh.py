"""Mesh files in, checked triangle meshes out: STL parsed here, other formats through trimesh.

STEP (``.step``, ``.stp``) is tessellated by OpenCASCADE through trimesh's loader and the
``cascadio`` wheel (no system OpenCASCADE), with a linear deflection of ``step_tol`` in the
file's length unit; the triangles come back in millimetres. A STEP file must hold one solid:
an assembly of several bodies has no single machining direction, and is refused.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

from geometry.errors import MeshError
from geometry.stl import parse_stl

MESH_SUFFIXES = (".stl", ".obj", ".ply", ".off", ".glb", ".step", ".stp")
STEP_SUFFIXES = (".step", ".stp")
#: Linear deflection of the STEP tessellation (the most a triangle strays from the exact
#: surface), in the file's length unit: 0.01 mm keeps a 3 mm hole round to the pixel at 960 px.
STEP_TOL = 0.01
#: cascadio writes glTF, whose unit is the metre; parts come back in millimetres.
_GLTF_TO_MM = 1000.0


def bounds(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-axis minimum and maximum of (n, 3) points: two (3,) float64 arrays.

    Reducing a C-ordered (n, 3) array along axis 0 strides through memory; one
    column-major copy first is about 10x faster for large n.
    """
    cols = np.asfortranarray(points, dtype=np.float64)
    return cols.min(axis=0), cols.max(axis=0)


def _load_with_trimesh(data: bytes, suffix: str, name: str, **kwargs):
    """Load OBJ/PLY/OFF/GLB/STEP through trimesh and merge every body into one array pair."""
    import trimesh

    try:
        loaded = trimesh.load(
            io.BytesIO(data), file_type=suffix.lstrip("."), process=False, **kwargs
        )
    except MeshError:
        raise
    except Exception as exc:
        raise MeshError(f"{name}: expected a {suffix} mesh, could not parse it: {exc}") from None
    if isinstance(loaded, trimesh.Scene):
        geoms = [g for g in loaded.dump() if isinstance(g, trimesh.Trimesh)]
        others = [type(g).__name__ for g in loaded.dump() if not isinstance(g, trimesh.Trimesh)]
        if not geoms:
            found = f"only {sorted(set(others))}" if others else "nothing"
            raise MeshError(f"{name}: expected a triangle mesh, found {found}")
    elif isinstance(loaded, trimesh.Trimesh):
        geoms = [loaded]
    else:
        raise MeshError(f"{name}: expected a triangle mesh, found a {type(loaded).__name__}")
    vertices, faces, offset = [], [], 0
    for g in geoms:
        v = np.asarray(g.vertices, dtype=np.float64).reshape(-1, 3)
        f = np.asarray(g.faces, dtype=np.int64).reshape(-1, 3)
        vertices.append(v)
        faces.append(f + offset)
        offset += len(v)
    return np.concatenate(vertices), np.concatenate(faces)


@contextlib.contextmanager
def _native_output():
    """Catch what native code writes to file descriptors 1 and 2 (OpenCASCADE prints its
    errors there, in colour); yields a function returning it as text."""
    with tempfile.TemporaryFile() as sink:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(1), os.dup(2)]
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            text: list[str] = []

            def said() -> str:
                if not text:
                    sink.seek(0)
                    text.append(sink.read().decode("utf-8", "replace"))
                return text[0]

            yield said
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def _first_error(text: str) -> str | None:
    """The first OpenCASCADE error line in ``text``, without its colour codes and stars."""
    for line in re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines():
        line = line.strip(" *")
        if "ERR" in line or "Fail" in line or "rror" in line:
            return re.sub(r"^ERR\s+StepFile\s*:\s*", "", line).strip(" *")
    return None


def _load_step(data: bytes, suffix: str, name: str, tol: float):
    """Tessellate a STEP file (one solid) into millimetre vertices and faces."""
    import importlib.util

    if importlib.util.find_spec("cascadio") is None:
        raise MeshError(
            f"{name}: reading STEP needs the cascadio package (OpenCASCADE in a wheel): "
            "pip install cascadio"
        )
    if not (isinstance(tol, (int, float)) and not isinstance(tol, bool) and tol > 0):
        raise MeshError(f"{name}: expected a STEP tolerance above 0, got {tol!r}")
    if b"ISO-10303-21" not in data[:4096]:
        raise MeshError(f"{name}: expected a STEP file (ISO-10303-21 header), found none")
    with _native_output() as said:
        try:
            vertices, faces = _load_with_trimesh(data, suffix, name, tol_linear=float(tol))
        except MeshError as exc:
            why = _first_error(said())
            if why is None:
                raise
            raise MeshError(f"{name}: OpenCASCADE could not read the STEP file: {why}") from exc
    vertices = vertices * _GLTF_TO_MM
    import trimesh

    merged = trimesh.Trimesh(vertices=vertices, faces=faces, process=False)
    merged.merge_vertices()
    # Bodies: groups of faces joined by shared edges (a solid's shell is one).
    groups = trimesh.graph.connected_components(
        merged.face_adjacency, nodes=np.arange(len(merged.faces)), min_len=1
    )
    bodies = len(groups) if len(merged.faces) else 0
    if bodies > 1:
        raise MeshError(
            f"{name}: expected one solid, found {bodies} separate bodies (an assembly?); "
            "export the part alone"
        )
    return vertices, faces


def load_mesh(path: str | os.PathLike, merge: bool = True, step_tol: float = STEP_TOL):
    """Load a mesh file as one ``trimesh.Trimesh``, every body merged, checked.

    STL (binary and ASCII) is parsed here, with the file length checked against the
    triangle count before any allocation; OBJ, PLY, OFF and GLB go through trimesh.
    Multi-body files (several solids, a scene of meshes) become one mesh. Stored
    normals are never read: normals come from the triangles' winding. Zero-area faces
    are dropped.

    Parameters
    ----------
    path : path-like
    merge : bool
        Merge coincident vertices (STL repeats them per triangle). The renderer passes
        False: :func:`prepare_mesh` merges them itself, more cheaply for big meshes.
    step_tol : float
        Linear deflection of a STEP file's tessellation, in its length unit (``STEP_TOL``).

    Raises
    ------
    MeshError
        Naming the file: missing or empty file, truncated binary STL, bytes that are
        not a mesh, NaN or inf vertices, no faces (with non-zero area), zero extent.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MeshError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise MeshError(f"{path}: expected a mesh file, found a directory") from None
    except OSError as exc:  # permissions, special files, I/O errors
        raise MeshError(f"{path}: could not read the file: {exc.strerror or exc}") from None
    return mesh_from_bytes(data, path.suffix.lower(), str(path), merge=merge, step_tol=step_tol)


def mesh_from_bytes(
    data: bytes,
    suffix: str,
    name: str = "<bytes>",
    merge: bool = True,
    step_tol: float = STEP_TOL,
):
    """Like :func:`load_mesh`, from the file's bytes and its suffix (``".stl"``)."""
    import trimesh

    if len(data) == 0:
        raise MeshError(f"{name}: empty file (0 bytes), expected a {suffix or 'mesh'} file")
    suffix = suffix.lower()
    if suffix == ".stl":
        vertices, faces = parse_stl(data, name)
    elif suffix in STEP_SUFFIXES:
        vertices, faces = _load_step(data, suffix, name, step_tol)
    elif suffix in MESH_SUFFIXES:
        vertices, faces = _load_with_trimesh(data, suffix, name)
    else:
        raise MeshError(
            f"{name}: expected a mesh file ({', '.join(MESH_SUFFIXES)}), found {suffix!r}"
        )

    if len(faces) == 0:
        raise MeshError(f"{name}: expected triangles, found a mesh with no faces")
    if not np.isfinite(vertices).all():
        bad = ~np.isfinite(vertices).all(axis=1)
        raise MeshError(
            f"{name}: expected finite vertex coordinates, found NaN or inf in "
            f"{int(bad.sum())} of {len(vertices)} vertices"
        )
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise MeshError(f"{name}: faces index vertices outside 0..{len(vertices) - 1}")
    tri = vertices[faces]  # (f, 3, 3)
    lo, hi = bounds(tri.reshape(-1, 3))
    if not float((hi - lo).max()) > 0.0:
        raise MeshError(
            f"{name}: expected a mesh with non-zero extent, found all vertices at one point"
        )
    # Zero-area faces have no normal: drop them.
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    faces = faces[np.einsum("ij,ij->i", cross, cross) > 0]
    if len(faces) == 0:
        raise MeshError(
            f"{name}: expected triangles with non-zero area, found only degenerate faces"
        )
    mesh = trimesh.Trimesh(vertices=vertices, faces=faces, process=False)
    # Stray vertices no face uses must not widen the bounds the part is scaled by.
    mesh.remove_unreferenced_vertices()
    if merge:
        # STL stores every triangle's corners separately: merge them into one surface.
        mesh.merge_vertices()
    return mesh
