"""geometry.stl: the one binary/ASCII STL codec, used by the loader and by the generator."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from _render_fixtures import ascii_stl, binary_stl, box_triangles

from geometry.stl import RECORD_DTYPE, encode_stl, parse_stl
from render.errors import MeshError


def test_record_layout_is_the_binary_stl_record():
    assert RECORD_DTYPE.itemsize == 50
    assert RECORD_DTYPE.names == ("normal", "vertices", "attr")


def test_encode_then_parse_round_trips_exactly():
    box = trimesh.creation.box((2.0, 3.0, 4.0))
    data = encode_stl(box.vertices, box.faces, header=b"a test header")
    assert len(data) == 84 + 50 * len(box.faces)
    assert data[:80] == b"a test header".ljust(80, b" ")
    vertices, faces = parse_stl(data, "box.stl")
    np.testing.assert_array_equal(vertices.reshape(-1, 3, 3), box.vertices[box.faces])
    np.testing.assert_array_equal(faces, np.arange(3 * len(box.faces)).reshape(-1, 3))
    # Stored normals are unit normals of the float32 triangles, from their winding.
    records = np.frombuffer(data, dtype=RECORD_DTYPE, offset=84)
    np.testing.assert_allclose(records["normal"], box.face_normals, atol=1e-6)
    assert not records["attr"].any()


def test_encoder_agrees_with_an_independent_writer_and_trimesh():
    tri = box_triangles(extents=(1.0, 2.0, 3.0))
    ours = encode_stl(tri.reshape(-1, 3), np.arange(len(tri) * 3).reshape(-1, 3))
    theirs = binary_stl(tri)  # test fixture: struct + its own dtype
    np.testing.assert_array_equal(parse_stl(ours, "ours")[0], parse_stl(theirs, "theirs")[0])
    loaded = trimesh.load(trimesh.util.wrap_as_stream(ours), file_type="stl")
    assert loaded.volume == pytest.approx(6.0)


def test_parse_ascii_and_reject_truncated_or_long_headers():
    tri = box_triangles()
    vertices, _ = parse_stl(ascii_stl(tri), "a.stl")
    np.testing.assert_allclose(vertices.reshape(-1, 3, 3), tri, atol=1e-6)
    with pytest.raises(MeshError, match=r"cut\.stl: truncated .* claims 12 triangles"):
        parse_stl(binary_stl(tri)[:300], "cut.stl")
    with pytest.raises(MeshError, match="header: expected at most 80 bytes, found 81"):
        encode_stl(np.zeros((3, 3)), np.array([[0, 1, 2]]), header=b"x" * 81)


def test_the_generator_and_the_loader_share_the_codec():
    from assets import part
    from render import mesh

    box = trimesh.creation.box((2.0, 3.0, 4.0))
    assert part.stl_bytes(box.vertices, box.faces) == encode_stl(
        box.vertices, box.faces, header=part.STL_HEADER
    )
    # The loader reads through the same parser (no second record layout).
    assert not hasattr(mesh, "_STL_DTYPE") and not hasattr(mesh, "_parse_stl")
