"""Render stage: config, view grid, mesh loading and the one-pass GL renderer."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import trimesh
from _render_fixtures import binary_stl, box_triangles, gl_backend, write

from metaimage import untile
from render import MeshError, RenderConfig, RenderError, load_mesh, normal_colours, render_file
from render.core import prepare, render_mesh, render_prepared
from render.mesh import cluster_vertices, normalise

__all__ = ["gl_backend"]  # the fixture, imported for pytest

SMALL = dict(tile=16, rows=4, cols=4)


# --------------------------------------------------------------------------- config


def test_config_rejects_bad_values_naming_the_field():
    for field, value in [
        ("tile", 0),
        ("rows", -1),
        ("normals", "world"),
        ("backend", "glx"),
        ("margin", 0.9),
        ("max_faces", 2),
        ("seed", -1),
        ("variants", 0),
    ]:
        with pytest.raises(RenderError, match=f"RenderConfig.{field}"):
            RenderConfig(**{field: value})
    with pytest.raises(RenderError, match="unknown fields"):
        RenderConfig.from_dict({"tile": 8, "colour": "red"})


def test_config_round_trip_and_hash():
    cfg = RenderConfig(tile=32, rows=3, cols=5, variants=2, seed=7)
    assert RenderConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.image_size == (96, 160)
    h = cfg.config_hash()
    assert len(h) == 16 and int(h, 16) >= 0
    # Backend and variant count do not change pixels; tile and seed do.
    assert RenderConfig(tile=32, rows=3, cols=5, backend="osmesa", seed=7).config_hash() == h
    assert RenderConfig(tile=16, rows=3, cols=5, variants=2, seed=7).config_hash() != h
    assert RenderConfig(tile=32, rows=3, cols=5, variants=2, seed=8).config_hash() != h
    assert RenderConfig(tile=64).face_budget == 2048


# --------------------------------------------------------------------------- views


# --------------------------------------------------------------------------- loading


def test_normal_colours_mapping():
    n = np.array([[0, 0, 1], [0, 0, -1], [1, 0, 0], [-1, 0, 0], [0, 1, 0]], dtype=float)
    np.testing.assert_array_equal(
        normal_colours(n),
        [[128, 128, 255], [128, 128, 0], [255, 128, 128], [0, 128, 128], [128, 255, 128]],
    )


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


# --------------------------------------------------------------------------- preparing


def test_normalise_is_unit_independent():
    v = np.asarray(trimesh.creation.box(extents=(3, 2, 1)).vertices) + 10
    a, _ = normalise(v * 0.05)
    b, _ = normalise(v * 5000)
    np.testing.assert_allclose(a, b, atol=1e-9)
    assert np.linalg.norm(a, axis=1).max() == pytest.approx(1.0)


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


def test_cluster_vertices_drops_collapsed_and_repeated_faces():
    sphere = trimesh.creation.icosphere(4)
    v, f = cluster_vertices(sphere.vertices, sphere.faces, 8)
    assert 0 < len(f) < len(sphere.faces)
    assert (f[:, 0] != f[:, 1]).all() and (f[:, 1] != f[:, 2]).all() and (f[:, 0] != f[:, 2]).all()
    assert len(np.unique(np.sort(f, axis=1), axis=0)) == len(f)


# --------------------------------------------------------------------------- GL


@pytest.mark.gl
def test_plus_z_face_has_its_colour_in_the_top_row(gl_backend):
    cfg = RenderConfig(**SMALL, backend=gl_backend)
    image, stats = render_mesh(trimesh.creation.box(), cfg)
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8
    assert (stats.faces_in, stats.faces_out) == (12, 12)
    tiles = untile(image, 4, 4)
    # Row 0 looks down from 67.5 deg: the middle of every tile is the +Z face.
    for t in tiles[:4]:
        assert np.abs(t[8, 8].astype(int) - [128, 128, 255]).max() <= 1
    # The last row looks up from below: -Z.
    for t in tiles[-4:]:
        assert np.abs(t[8, 8].astype(int) - [128, 128, 0]).max() <= 1


@pytest.mark.gl
def test_cube_shows_exactly_its_six_colours_and_background(gl_backend):
    cfg = RenderConfig(tile=32, rows=10, cols=10, backend=gl_backend)  # the 10 x 10 grid
    image, _ = render_mesh(trimesh.creation.box(), cfg)
    colours = {tuple(c) for c in np.unique(image.reshape(-1, 3), axis=0)}
    faces = {tuple(c) for c in normal_colours(np.vstack([np.eye(3), -np.eye(3)]))}
    # Every pixel, edges included: one sample per pixel, so no blended colours exist.
    assert colours == faces | {(0, 0, 0)}


@pytest.mark.gl
def test_tiles_do_not_bleed_into_each_other(gl_backend):
    # A margin of 2/16 of half a tile keeps a 1-pixel black frame round every tile.
    cfg = RenderConfig(tile=16, rows=3, cols=3, margin=0.125, backend=gl_backend)
    image, _ = render_mesh(trimesh.creation.icosphere(3), cfg)
    tiles = untile(image, 3, 3)
    assert (tiles[:, [0, -1], :, :] == 0).all() and (tiles[:, :, [0, -1], :] == 0).all()
    assert (tiles.reshape(9, -1, 3).any(axis=2).sum(axis=1) > 100).all()


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
def test_camera_normals_colour_faces_towards_the_viewer_blue(gl_backend):
    cfg = RenderConfig(**SMALL, normals="camera", backend=gl_backend)
    image, _ = render_mesh(trimesh.creation.icosphere(3), cfg)
    # The middle of each tile faces the camera: normal ~ (0, 0, 1) in view space.
    for t in untile(image, 4, 4):
        assert np.abs(t[8, 8].astype(int) - [128, 128, 255]).max() <= 40  # facets tilt a little


@pytest.mark.gl
def test_open_mesh_is_drawn_from_both_sides(gl_backend):
    plane = trimesh.Trimesh(
        vertices=[[-1, -1, 0], [1, -1, 0], [1, 1, 0], [-1, 1, 0]], faces=[[0, 1, 2], [0, 2, 3]]
    )
    cfg = RenderConfig(**SMALL, backend=gl_backend)
    prepared = prepare(plane, cfg)
    assert not prepared.closed
    tiles = untile(render_prepared(prepared, cfg), 4, 4)
    assert all(t.any() for t in tiles[[0, 15]])  # seen from above and from below


@pytest.mark.gl
def test_egl_and_osmesa_give_the_same_pixels(gl_backend, tmp_path):
    code = (
        "import sys, trimesh; from render import RenderConfig, render_mesh; "
        "from metaimage.io import write_png; "
        "cfg = RenderConfig(tile=16, rows=3, cols=3, backend=sys.argv[1]); "
        "img, _ = render_mesh(trimesh.creation.icosphere(2), cfg); "
        "write_png(sys.argv[2], img)"
    )
    outs = {}
    for backend in ("egl", "osmesa"):
        out = tmp_path / f"{backend}.png"
        proc = subprocess.run(
            [sys.executable, "-c", code, backend, str(out)], capture_output=True, text=True
        )
        if proc.returncode:
            pytest.skip(f"{backend} unavailable here: {proc.stderr.strip().splitlines()[-1:]}")
        outs[backend] = out.read_bytes()
    assert outs["egl"] == outs["osmesa"]


def test_missing_file_is_a_mesh_error(tmp_path):
    with pytest.raises(MeshError, match="no such file"):
        render_file(tmp_path / "nope.stl", RenderConfig(**SMALL))


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


# --------------------------------------------------------------------------- straightening


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


def test_straighten_is_a_validated_hashed_field():
    with pytest.raises(RenderError, match="straighten"):
        RenderConfig(straighten="yes")
    assert RenderConfig().straighten is True
    assert RenderConfig().config_hash() != RenderConfig(straighten=False).config_hash()
    # A config saved before the field existed drew parts as loaded, and still does.
    old = {k: v for k, v in RenderConfig().to_dict().items() if k != "straighten"}
    assert RenderConfig.from_dict(old).straighten is False
    assert RenderConfig.from_dict(RenderConfig().to_dict()) == RenderConfig()


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
