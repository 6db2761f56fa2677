"""render.core: one part, mesh file -> meta-image (load, prepare, straighten, render)."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from _render_fixtures import binary_stl, box_triangles, write

from render import MeshError, RenderConfig, load_mesh, normal_colours, render_file
from render.core import prepare, render_mesh

SMALL = dict(tile=16, rows=4, cols=4)


def test_missing_file_is_a_mesh_error(tmp_path):
    with pytest.raises(MeshError, match="no such file"):
        render_file(tmp_path / "nope.stl", RenderConfig(**SMALL))


def test_stored_normals_are_ignored(tmp_path):
    tri = box_triangles()
    wrong = np.tile([[0.0, 1.0, 0.0]], (len(tri), 1))  # every stored normal says +Y
    path = write(tmp_path / "n.stl", binary_stl(tri, normals=wrong))
    prepared = prepare(load_mesh(path), RenderConfig(**SMALL))
    expected = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert sorted(map(tuple, np.round(prepared.normals, 6))) == sorted(
        map(tuple, np.round(expected, 6))
    )


def test_inside_out_and_stray_vertices_are_handled(tmp_path):
    # Every face wound inwards, plus a vertex no face uses far away.
    box = trimesh.creation.box()
    obj = "".join(f"v {x} {y} {z}\n" for x, y, z in box.vertices) + "v 100 100 100\n"
    obj += "".join(f"f {a + 1} {c + 1} {b + 1}\n" for a, b, c in box.faces)
    prepared = prepare(load_mesh(write(tmp_path / "inverted.obj", obj.encode())), RenderConfig())
    assert prepared.closed
    centroids = prepared.vertices[prepared.faces].mean(axis=1)
    assert (np.einsum("ij,ij->i", centroids, prepared.normals) > 0).all()  # outwards
    assert np.linalg.norm(prepared.vertices, axis=1).max() == pytest.approx(1.0, abs=1e-6)


def test_simplification_caps_faces_and_keeps_the_part_in_the_unit_sphere():
    torus = trimesh.creation.torus(1.0, 0.3, major_sections=400, minor_sections=50)  # 40k faces
    cfg = RenderConfig(tile=32)  # budget 512
    prepared = prepare(torus, cfg)
    assert prepared.faces_in == 40_000
    assert prepared.faces_out <= cfg.face_budget * 1.05
    assert np.linalg.norm(prepared.vertices, axis=1).max() <= 1.0 + 1e-6
    np.testing.assert_allclose(np.linalg.norm(prepared.normals, axis=1), 1.0)
    again = prepare(torus, cfg)
    np.testing.assert_array_equal(again.vertices, prepared.vertices)
    np.testing.assert_array_equal(again.faces, prepared.faces)


@pytest.mark.gl
def test_scale_invariance(gl_backend, tmp_path):
    cfg = RenderConfig(**SMALL, backend=gl_backend)
    tri = box_triangles(extents=(3, 2, 1), centre=(7, -3, 2))
    small = render_file(write(tmp_path / "small.stl", binary_stl(tri * 0.05)), cfg)
    large = render_file(write(tmp_path / "large.stl", binary_stl(tri * 5000)), cfg)
    fg_small, fg_large = small.any(axis=2), large.any(axis=2)
    assert fg_small.sum() > 0.2 * fg_small.size
    # Same picture up to float rounding on a few silhouette pixels.
    assert (small != large).any(axis=2).mean() < 0.005
    assert abs(int(fg_small.sum()) - int(fg_large.sum())) <= 0.005 * fg_small.sum()


@pytest.mark.gl
def test_same_seed_is_byte_identical_and_variants_differ(gl_backend, tmp_path):
    from metaimage.io import encode_png

    cfg = RenderConfig(**SMALL, backend=gl_backend)
    path = tmp_path / "part.obj"
    trimesh.creation.box(extents=(3, 2, 1)).difference(trimesh.creation.cylinder(0.4, 3)).export(
        path
    )
    v0 = render_file(path, cfg, variant=0)
    v1 = render_file(path, cfg, variant=1, seed=3)
    assert encode_png(render_file(path, cfg, variant=1, seed=3)) == encode_png(v1)
    assert encode_png(render_file(path, cfg, variant=0)) == encode_png(v0)
    assert not np.array_equal(v0, v1)
    assert not np.array_equal(v1, render_file(path, cfg, variant=1, seed=4))
    assert not np.array_equal(v1, render_file(path, cfg, variant=2, seed=3))


@pytest.mark.gl
def test_a_variant_is_seeded_by_the_part_id_which_defaults_to_the_file_stem(gl_backend, tmp_path):
    cfg = RenderConfig(**SMALL, backend=gl_backend)
    box = trimesh.creation.box(extents=(3, 2, 1))
    paths = [tmp_path / "a" / "part.stl", tmp_path / "b" / "part.stl", tmp_path / "other.stl"]
    for path in paths:
        path.parent.mkdir(exist_ok=True)
        box.export(path)
    same, elsewhere, other = (render_file(p, cfg, variant=1, seed=3) for p in paths)
    np.testing.assert_array_equal(same, elsewhere)  # the id is the stem, not the folder
    assert not np.array_equal(same, other)
    np.testing.assert_array_equal(render_file(paths[2], cfg, 1, 3, part_id="part"), same)
    # The canonical grid (variant 0) is the same whatever the id.
    np.testing.assert_array_equal(render_file(paths[0], cfg), render_file(paths[2], cfg))


def _tilted_box(deg: float = 7.0, seed: int = 0):
    """A 3 x 2 x 1 box turned by ``deg`` about a random axis."""
    rng = np.random.default_rng(seed)
    axis = rng.normal(size=3)
    box = trimesh.creation.box(extents=(3, 2, 1))
    box.apply_transform(trimesh.transformations.rotation_matrix(np.radians(deg), axis))
    return box


def test_straighten_turns_a_tilted_part_back_onto_the_axes():
    for seed in range(3):
        tilted = _tilted_box(seed=seed)
        on = prepare(tilted, RenderConfig(**SMALL))
        off = prepare(tilted, RenderConfig(**SMALL, straighten=False))
        # Straightened, every face normal is an axis; as loaded, none is.
        assert np.abs(on.normals).max(axis=1).min() > 1 - 1e-9
        assert np.abs(off.normals).max(axis=1).min() < 0.999
    # A straight part is left as it is (the rotation closest to the identity).
    box = trimesh.creation.box(extents=(3, 2, 1))
    a = prepare(box, RenderConfig(**SMALL))
    b = prepare(box, RenderConfig(**SMALL, straighten=False))
    np.testing.assert_allclose(a.vertices, b.vertices, atol=1e-6)


def test_straighten_leaves_parts_whose_turn_would_be_large():
    from geometry.straighten import MAX_STRAIGHTEN_DEG, straighten_vertices

    # A wedge (a 30 degree slope over a 10 x 1 base): the slope outweighs the base and the
    # upright end, so straightening would turn it by 30 degrees. The slope is meant.
    h = 10.0 * np.tan(np.radians(30))
    corners = [[0, 0, 0], [10, 0, 0], [10, 0, h], [0, 1, 0], [10, 1, 0], [10, 1, h]]
    wedge = trimesh.Trimesh(np.array(corners, dtype=float)).convex_hull
    v = np.asarray(wedge.vertices)
    np.testing.assert_array_equal(straighten_vertices(v, wedge.faces), v)
    # A box tilted by more than the cap is left too; by less, it is turned back.
    big = _tilted_box(deg=MAX_STRAIGHTEN_DEG + 5)
    np.testing.assert_array_equal(straighten_vertices(big.vertices, big.faces), big.vertices)
    small = _tilted_box(deg=MAX_STRAIGHTEN_DEG - 5)
    assert not np.allclose(straighten_vertices(small.vertices, small.faces), small.vertices)


@pytest.mark.gl
def test_a_tilted_box_straightened_shows_only_its_six_axis_colours(gl_backend):
    cfg = RenderConfig(tile=32, rows=4, cols=4, backend=gl_backend)
    faces = normal_colours(np.vstack([np.eye(3), -np.eye(3), np.zeros((1, 3))])).astype(int)
    faces[-1] = 0  # the background

    def off_by(image):
        """How far each distinct colour is from the nearest face colour (or background)."""
        colours = np.unique(image.reshape(-1, 3), axis=0).astype(int)
        return np.abs(colours[:, None, :] - faces[None]).max(axis=2).min(axis=1)

    on, _ = render_mesh(_tilted_box(), cfg)
    # Within 1 level: a component that is 0 up to float rounding maps to 127 or 128.
    assert off_by(on).max() <= 1
    off, _ = render_mesh(_tilted_box(), RenderConfig(**{**cfg.to_dict(), "straighten": False}))
    assert off_by(off).max() >= 10  # a 7 degree tilt moves some face's colour this far
