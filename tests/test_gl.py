"""render.gl: one GL context per process, a whole grid drawn in one instanced pass.

Every pixel is background or exactly the colour of the face it shows; tiles never reach
into each other; EGL and OSMesa give the same pixels.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import trimesh

from metaimage import untile
from render import RenderConfig, RenderError, normal_colours
from render.core import prepare, render_mesh, render_prepared
from render.gl import get_renderer

SMALL = dict(tile=16, rows=4, cols=4)


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


def _square() -> tuple[np.ndarray, np.ndarray]:
    """The square [-1, 1]^2 at z = 0, two faces wound counter-clockwise seen from +z."""
    vertices = np.array([[-1, -1, 0], [1, -1, 0], [1, 1, 0], [-1, 1, 0]], dtype=np.float32)
    return vertices, np.array([[0, 1, 2], [0, 2, 3]], dtype=np.uint32)


def _at(x: float, y: float) -> np.ndarray:
    pose = np.eye(4)
    pose[:2, 3] = x, y
    return pose


@pytest.mark.gl
def test_draw_gives_each_instance_its_colours_with_row_0_at_the_top(gl_backend):
    renderer = get_renderer(gl_backend)
    vertices, faces = _square()
    rng = np.random.default_rng(0)
    top = rng.integers(1, 255, 3)
    bottom = 255 - top  # differs from top in every channel
    # Per face and instance (instance-major): instance 0 draws `top`, instance 1 `bottom`.
    colours = np.array([[*top, 255], [*top, 255], [*bottom, 255], [*bottom, 255]], np.uint8)
    poses = np.stack([_at(0, 1), _at(0, -1)])  # world y in [-2, 2] fills the 16 rows
    image = renderer.draw(vertices, faces, colours, poses, 8, 16, np.diag([1, 0.5, -0.5, 1]))
    assert image.shape == (16, 8, 3) and image.dtype == np.uint8
    assert (image[:8] == top).all() and (image[8:] == bottom).all()
    # One colour per face serves every instance.
    both = renderer.draw(vertices, faces, colours[:2], poses, 8, 16, np.diag([1, 0.5, -0.5, 1]))
    assert (both == top).all()


@pytest.mark.gl
def test_draw_culls_only_faces_wound_clockwise_when_asked(gl_backend):
    renderer = get_renderer(gl_backend)
    vertices, faces = _square()
    colour = np.array([200, 100, 50], np.uint8)
    colours = np.array([[*colour, 255]] * 2, np.uint8)
    args = (np.eye(4)[None], 8, 8, np.diag([1, 1, -0.5, 1]))
    flipped = faces[:, ::-1]  # clockwise on screen: a back face
    assert (renderer.draw(vertices, faces, colours, *args, cull_back_faces=True) == colour).all()
    assert (renderer.draw(vertices, flipped, colours, *args, cull_back_faces=True) == 0).all()
    assert (renderer.draw(vertices, flipped, colours, *args) == colour).all()


@pytest.mark.gl
def test_draw_refuses_a_colour_count_that_fits_neither_faces_nor_instances(gl_backend):
    vertices, faces = _square()
    poses = np.stack([_at(0, 0)] * 2)
    with pytest.raises(RenderError, match="expected 2 or 4 face colours, got 3"):
        get_renderer(gl_backend).draw(
            vertices, faces, np.zeros((3, 4), np.uint8), poses, 8, 8, np.eye(4)
        )


@pytest.mark.gl
def test_one_renderer_per_process_that_will_not_switch_backend(gl_backend):
    renderer = get_renderer("auto")
    assert get_renderer(renderer.backend) is renderer and get_renderer("auto") is renderer
    other = "osmesa" if renderer.backend == "egl" else "egl"
    with pytest.raises(RenderError, match=f"renders with '{renderer.backend}'; cannot switch"):
        get_renderer(other)
    assert get_renderer("auto") is renderer  # still the one it had


@pytest.mark.gl
def test_grey_stock_leaves_the_colours_of_cut_faces_only(gl_backend):
    """--stock grey: faces on the bounding box are grey; a pocket shows its normals."""
    from render.mesh import STOCK_GREY

    block = trimesh.creation.box((4.0, 4.0, 2.0))
    pocket = trimesh.creation.box((1.5, 1.5, 1.0))
    pocket.apply_translation((0.5, 0.0, 0.75))  # open to +Z, 0.5 deep
    part = block.difference(pocket)
    cfg = RenderConfig(tile=64, rows=2, cols=2, stock="grey", backend=gl_backend)
    image, _ = render_mesh(part, cfg)
    colours = {tuple(int(v) for v in c) for c in np.unique(image.reshape(-1, 3), axis=0)}
    # The pocket's floor (+Z) and its four walls (+-X, +-Y) and nothing else of the normals.
    cut = {tuple(c) for c in normal_colours(np.array([[0, 0, 1], [1, 0, 0], [-1, 0, 0]]))}
    assert colours <= {STOCK_GREY, (0, 0, 0)} | {
        tuple(c) for c in normal_colours(np.vstack([np.eye(3), -np.eye(3)]))
    }
    assert STOCK_GREY in colours and cut <= colours
    # Seen from above (row 0), the +Z colour is only the pocket's floor: a small share.
    top = untile(image, 2, 2)[0]
    floor = np.all(top == normal_colours(np.array([[0.0, 0.0, 1.0]]))[0], axis=2).mean()
    grey = np.all(top == STOCK_GREY, axis=2).mean()
    assert 0.02 < floor < grey
    # The same part drawn with every face by its normal has no grey at all.
    plain, _ = render_mesh(part, RenderConfig(tile=64, rows=2, cols=2, backend=gl_backend))
    assert not np.all(plain == STOCK_GREY, axis=2).any()
