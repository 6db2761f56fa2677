"""Small meshes and files shared by the render tests (generated, never downloaded)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest


def binary_stl(
    triangles: np.ndarray, normals: np.ndarray | None = None, count: int | None = None
) -> bytes:
    """Binary STL bytes for (f, 3, 3) triangles; stored normals default to all zeros."""
    triangles = np.asarray(triangles, dtype="<f4").reshape(-1, 3, 3)
    f = len(triangles)
    normals = np.zeros((f, 3), "<f4") if normals is None else np.asarray(normals, "<f4")
    records = np.zeros(f, dtype=[("n", "<f4", (3,)), ("v", "<f4", (3, 3)), ("a", "<u2")])
    records["n"], records["v"] = normals, triangles
    header = b"binary stl written by the metaview tests".ljust(80, b" ")
    return header + struct.pack("<I", f if count is None else count) + records.tobytes()


def ascii_stl(triangles: np.ndarray) -> bytes:
    lines = ["solid test"]
    for tri in np.asarray(triangles).reshape(-1, 3, 3):
        lines += ["  facet normal 0 0 0", "    outer loop"]
        lines += [f"      vertex {x:.6f} {y:.6f} {z:.6f}" for x, y, z in tri]
        lines += ["    endloop", "  endfacet"]
    lines.append("endsolid test")
    return ("\n".join(lines) + "\n").encode("ascii")


def box_triangles(extents=(1.0, 1.0, 1.0), centre=(0.0, 0.0, 0.0)) -> np.ndarray:
    import trimesh

    box = trimesh.creation.box(extents=extents)
    box.apply_translation(centre)
    return np.asarray(box.vertices)[np.asarray(box.faces)]


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture(scope="session")
def gl_backend() -> str:
    """The headless GL backend this machine offers; skips GL tests when there is none."""
    from render.backend import resolve_backend
    from render.errors import RenderError

    try:
        return resolve_backend("auto")
    except RenderError as exc:
        pytest.skip(f"no headless OpenGL context (EGL or OSMesa) can be created: {exc}")
