"""Tests of the ``colour-stats`` feature family (:mod:`train.features.colour_stats`)."""

from __future__ import annotations

import numpy as np
import pytest

import assets
from metaimage.grid import shuffle_tiles, tile_grid
from metaimage.io import write_png
from render.mesh import normal_colours
from train.errors import TrainError
from train.features import (
    colour_describe,
    colour_features,
    colour_features_dim,
    extract_colour_stats,
    image_features,
)
from train.features.colour_stats import BACKGROUND, N_COLOURS, N_PAIRS, OTHER, quantise

AXES = np.concatenate([np.eye(3), -np.eye(3)])
PX, NX, PY, NY, PZ, NZ = (tuple(int(x) for x in c) for c in normal_colours(AXES))


def symbol(colour) -> int:
    return int(quantise(np.array(colour, dtype=np.uint8)))


def pair_index(a: int, b: int) -> int:
    """Documented layout: ``a * 99 + (b if b < a else b - 1)``."""
    return a * (N_COLOURS + 1) + (b if b < a else b - 1)


def random_metaimage(rng: np.random.Generator, rows: int, cols: int, tile: int) -> np.ndarray:
    """Blobs of normal colours on black: every pixel a face colour or background."""
    normals = rng.normal(size=(12, 3))
    palette = np.concatenate(
        [[[0, 0, 0]] * 4, normal_colours(normals / np.linalg.norm(normals, axis=1, keepdims=True))]
    )
    coarse = rng.integers(0, len(palette), size=(rows * cols, tile // 2, tile // 2))
    views = palette[coarse.repeat(2, axis=1).repeat(2, axis=2)].astype(np.uint8)
    return tile_grid(views, rows, cols)


def test_shape_dtype_and_blocks():
    image = random_metaimage(np.random.default_rng(0), 2, 3, 8)
    vec = colour_features(image, 2, 3)
    assert vec.shape == (colour_features_dim(),) == (19899,) and vec.dtype == np.float32
    blocks = colour_describe()
    assert [b[0] for b in blocks] == ["colour", "vertical", "horizontal"]
    assert blocks[0][1] == 0 and blocks[-1][2] == colour_features_dim()
    assert all(a[2] == b[1] for a, b in zip(blocks, blocks[1:], strict=False))
    # Every foreground pixel is counted once in the colour block.
    assert np.sum(vec[: N_COLOURS + 1].astype(np.float64) ** 2) == pytest.approx(1.0)


def test_quantisation_keeps_axis_colours_off_the_edges():
    syms = [symbol(c) for c in (PX, NX, PY, NY, PZ, NZ)]
    assert len(set(syms)) == 6 and max(syms) < N_COLOURS
    for c, s in zip((PX, NX, PY, NY, PZ, NZ), syms, strict=True):
        for delta in (-3, 3):
            near = np.clip(np.array(c) + delta, 1, 254)  # the same face, a shade off
            assert symbol(near) == s
    assert symbol((0, 0, 0)) == BACKGROUND
    assert symbol((128, 128, 128)) == OTHER  # a zero normal: no face has it
    # Every colour a unit normal can have is a colour symbol, never "other".
    normals = np.random.default_rng(1).normal(size=(20000, 3))
    colours = normal_colours(normals / np.linalg.norm(normals, axis=1, keepdims=True))
    assert (quantise(colours) < N_COLOURS).all()


def test_counts_ordered_pairs_inside_a_tile():
    # One 2 x 2 tile:  +X +Y
    #                  +Z +X
    image = np.array([[PX, PY], [PZ, PX]], dtype=np.uint8)
    vec = colour_features(image, 1, 1).astype(np.float64)
    counts = np.round(vec**2 * 4).astype(int)  # back to counts: 4 foreground pixels
    px, py, pz = symbol(PX), symbol(PY), symbol(PZ)
    colour, vertical, horizontal = (
        counts[:99],
        counts[99 : 99 + N_PAIRS],
        counts[99 + N_PAIRS :],
    )
    assert colour[px] == 2 and colour[py] == 1 and colour[pz] == 1 and colour.sum() == 4
    assert set(np.flatnonzero(vertical)) == {pair_index(px, pz), pair_index(py, px)}
    assert set(np.flatnonzero(horizontal)) == {pair_index(px, py), pair_index(pz, px)}
    assert vertical.sum() == 2 and horizontal.sum() == 2


def test_pairs_never_cross_a_tile_border():
    # Four uniform tiles of four colours: as one tile they make 2 x 4 pairs, as tiles none.
    views = np.array([PX, NX, PY, NY], dtype=np.uint8)[:, None, None, :].repeat(4, 1).repeat(4, 2)
    image = tile_grid(views, 2, 2)
    assert not colour_features(image, 2, 2)[99:].any()
    assert colour_features(image, 1, 1)[99:].any()


def test_background_only_gives_zeros():
    assert not colour_features(np.zeros((8, 8, 3), np.uint8), 2, 2).any()


def test_tile_shuffle_changes_no_bit():
    rng = np.random.default_rng(2)
    image = random_metaimage(rng, 5, 4, 8)
    base = colour_features(image, 5, 4)
    for _ in range(3):
        assert np.array_equal(colour_features(shuffle_tiles(image, 5, 4, rng), 5, 4), base)


def test_bad_images_are_refused():
    with pytest.raises(TrainError, match="uint8"):
        colour_features(np.zeros((8, 8, 3), np.float32), 2, 2)
    with pytest.raises(TrainError, match="3x3 tiles"):
        colour_features(np.zeros((8, 8, 3), np.uint8), 3, 3)


def test_files_and_cache_key_include_the_grid(tmp_path):
    rng = np.random.default_rng(3)
    paths = [write_png(tmp_path / f"{i}.png", random_metaimage(rng, 2, 2, 8)) for i in range(2)]
    cache = tmp_path / "colour.npz"
    by_tiles = extract_colour_stats(paths, 2, 2, cache_path=cache, workers=1, progress=False)
    assert np.array_equal(by_tiles[1], image_features(paths[1], 2, 2))
    whole = extract_colour_stats(paths, 1, 1, cache_path=cache, workers=1, progress=False)
    assert not np.array_equal(whole, by_tiles)  # not the 2 x 2 cache, recomputed
    (tmp_path / "junk.png").write_bytes(b"not a png")
    with pytest.raises(TrainError, match="junk.png"):
        extract_colour_stats([*paths, tmp_path / "junk.png"], 2, 2, workers=1)


@pytest.mark.gl
def test_rendered_parts_of_different_classes_differ(gl_backend):
    from render import RenderConfig, render_file

    cfg = RenderConfig(tile=16, rows=5, cols=5, backend=gl_backend)
    parts = assets.bundled_parts_dir()
    images = {c: render_file(parts / c / "0000.stl", cfg) for c in ("x_plus", "y_plus", "z_plus")}
    vecs = {c: colour_features(im, 5, 5) for c, im in images.items()}
    rng = np.random.default_rng(4)
    for c, im in images.items():
        assert np.array_equal(colour_features(shuffle_tiles(im, 5, 5, rng), 5, 5), vecs[c])
    for a in vecs:
        for b in vecs:
            if a < b:
                assert np.abs(vecs[a] - vecs[b]).sum() > 1.0, (a, b)
