"""geometry.mesh: mesh files in (STL here, other formats through trimesh), checked, merged."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import trimesh
from _render_fixtures import ascii_stl, binary_stl, box_triangles, write

from geometry.errors import MeshError
from geometry.mesh import load_mesh, mesh_from_bytes


@pytest.mark.parametrize("kind", ["binary_stl", "ascii_stl", "obj", "ply", "off", "glb"])
def test_load_formats(tmp_path, kind):
    box = trimesh.creation.box(extents=(2, 1, 0.5))
    tri = np.asarray(box.vertices)[box.faces]
    if kind == "binary_stl":
        path = write(tmp_path / "a.stl", binary_stl(tri))
    elif kind == "ascii_stl":
        path = write(tmp_path / "a.stl", ascii_stl(tri))
    else:
        path = tmp_path / f"a.{kind}"
        box.export(path)
    mesh = load_mesh(path)
    assert len(mesh.faces) == 12
    np.testing.assert_allclose(np.ptp(mesh.vertices, axis=0), [2, 1, 0.5], atol=1e-6)


def test_multi_body_files_merge(tmp_path):
    a, b = box_triangles(centre=(-2, 0, 0)), box_triangles(centre=(2, 0, 0))
    stl = load_mesh(write(tmp_path / "two.stl", binary_stl(np.concatenate([a, b]))))
    assert len(stl.faces) == 24 and len(stl.split(only_watertight=False)) == 2
    scene = trimesh.Scene(
        [trimesh.creation.box(), trimesh.creation.icosphere(1).apply_translation([3, 0, 0])]
    )
    scene.export(tmp_path / "two.glb")
    glb = load_mesh(tmp_path / "two.glb")
    assert len(glb.faces) == 12 + 80
    np.testing.assert_allclose(glb.bounds, [[-0.5, -1, -1], [4, 1, 1]], atol=1e-6)


@pytest.mark.parametrize(
    ("name", "data", "match"),
    [
        ("empty.stl", b"", "empty file"),
        ("short.stl", b"\x00" * 40, "at least 84 bytes"),
        (
            "garbage.stl",
            bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)),
            "not a binary STL",
        ),
        ("garbage.obj", b"\x89PNG\r\n\x1a\n" + b"\x00\xff" * 300, "no faces|expected|could not"),
        ("points.obj", b"v 0 0 0\nv 1 0 0\nv 0 1 0\n", "no faces|expected a triangle mesh"),
        ("nan.obj", b"v 0 0 0\nv nan 0 0\nv 0 1 0\nf 1 2 3\n", "NaN or inf"),
        ("inf.stl", None, "NaN or inf"),
        ("flat.obj", b"v 1 1 1\nv 1 1 1\nv 1 1 1\nf 1 2 3\n", "non-zero extent"),
        ("text.off", b"this is not a mesh at all\n", "could not parse|expected"),
        ("notes.txt", b"hello", "expected a mesh file"),
    ],
)
def test_bad_inputs_raise_mesh_error_naming_the_file(tmp_path, name, data, match):
    if data is None:
        tri = box_triangles()
        tri[3, 1, 0] = np.inf
        data = binary_stl(tri)
    path = write(tmp_path / name, data)
    with pytest.raises(MeshError, match=match) as info:
        load_mesh(path)
    assert name in str(info.value)


def test_truncated_stl_claiming_many_triangles_does_not_allocate(tmp_path):
    full = binary_stl(box_triangles())
    with pytest.raises(MeshError, match=r"claims 12 triangles \(684 bytes\), the file has 300"):
        load_mesh(write(tmp_path / "cut.stl", full[:300]))
    # 4 billion triangles claimed in a 134-byte file: rejected at once, nothing allocated.
    # Measured in bytes (numpy reports its arrays to tracemalloc), not in seconds: trusting
    # the count would mean 200 GB of records, checking it first takes under a megabyte.
    path = write(tmp_path / "huge.stl", binary_stl(box_triangles()[:1], count=4_000_000_000))
    tracemalloc.start()
    try:
        with pytest.raises(MeshError, match="claims 4000000000 triangles"):
            load_mesh(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, f"{peak} bytes allocated to reject a 134-byte file"


def test_binary_stl_whose_header_starts_with_solid(tmp_path):
    data = b"solid" + binary_stl(box_triangles())[5:]
    assert len(load_mesh(write(tmp_path / "s.stl", data)).faces) == 12


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_unreadable_file_is_a_mesh_error_naming_it():
    # /proc/self/mem exists but reading it from offset 0 fails with an OSError (EIO/EPERM),
    # like a file without read permission: it must be a MeshError, not a traceback.
    with pytest.raises(MeshError, match=r"/proc/self/mem: could not read the file"):
        load_mesh("/proc/self/mem")


def test_bytes_load_as_the_file_does(tmp_path):
    data = binary_stl(box_triangles())
    from_file = load_mesh(write(tmp_path / "b.stl", data))
    from_bytes = mesh_from_bytes(data, ".STL", name="upload.stl")
    np.testing.assert_array_equal(from_bytes.vertices, from_file.vertices)
    np.testing.assert_array_equal(from_bytes.faces, from_file.faces)
    with pytest.raises(MeshError, match="upload.stl: empty file"):
        mesh_from_bytes(b"", ".stl", name="upload.stl")
