"""Tests of :mod:`train.explain.colours`: faces painted by what reaches them."""

from __future__ import annotations

import numpy as np
from _reach_fixtures import blind_pocket_z, step_x_z, t_slot

from geometry.directions import DIRECTIONS
from render.reach_views import reach_views
from train.explain import colours as C


def _pixels_of(views, faces: np.ndarray):
    """(view, row, col) of every pixel showing one of ``faces``."""
    return np.nonzero(np.isin(views.ids, faces))


def _unshaded(views, image, where):
    """Pixel colours divided by their shading: the colour the face was painted."""
    shade = views.shading()[where]
    return image[where].astype(np.float64) / shade[:, None]


def test_a_blind_pocket_has_its_direction_colour_and_stock_is_grey(gl_backend):
    views = reach_views(blind_pocket_z(), size=128)
    image = C.paint_reach(views)
    kind, reached = C.reach_classes(views)
    pocket = np.flatnonzero(kind == C.FEATURE_FACE)
    assert len(pocket) > 0
    # Every pocket face is reached from +Z alone.
    assert (reached[pocket] == [False, False, False, False, True]).all()
    where = _pixels_of(views, pocket)
    assert len(where[0]) > 50
    assert np.allclose(_unshaded(views, image, where), C.PALETTE["z_plus"], atol=2.5)
    stock = np.flatnonzero(kind == C.STOCK_FACE)
    where = _pixels_of(views, stock)
    assert np.allclose(_unshaded(views, image, where), C.STOCK, atol=2.5)
    background = views.ids == -1
    assert (image[background] == C.BACKGROUND).all()


def test_a_t_slot_undercut_is_red(gl_backend):
    views = reach_views(t_slot(open_ends=False), size=128)
    image = C.paint_reach(views)
    kind, _ = C.reach_classes(views)
    undercut = np.flatnonzero(kind == C.UNDERCUT_FACE)
    assert len(undercut) > 0 and (views.reach.undercut[undercut]).all()
    where = _pixels_of(views, undercut)
    assert len(where[0]) > 0  # seen through the slot's opening
    assert np.allclose(_unshaded(views, image, where), C.UNDERCUT, atol=2.5)
    # No other face is red.
    others = _pixels_of(views, np.flatnonzero(kind != C.UNDERCUT_FACE))
    assert not (np.abs(_unshaded(views, image, others) - C.UNDERCUT).max(axis=1) < 30).any()


def test_faces_reached_from_several_directions_are_striped(gl_backend):
    views = reach_views(step_x_z(), size=128)
    image = C.paint_reach(views)
    kind, reached = C.reach_classes(views)
    step = np.flatnonzero(kind == C.FEATURE_FACE)
    assert (reached[step].sum(axis=1) == 4).all()  # +X, +Y, -Y, +Z
    colours = _unshaded(views, image, _pixels_of(views, step))
    palette = {name: np.array(C.PALETTE[name]) for name in DIRECTIONS}
    nearest = [min(palette, key=lambda n: np.abs(c - palette[n]).max()) for c in colours]
    assert set(nearest) == {"x_plus", "y_plus", "y_minus", "z_plus"}


def test_faces_the_prediction_cannot_reach_are_dotted(gl_backend):
    views = reach_views(blind_pocket_z(), size=128)
    plain = C.paint_reach(views)
    marked = C.paint_reach(views, unreached_by="x_plus")
    changed = np.any(plain != marked, axis=-1)
    kind, _ = C.reach_classes(views)
    faces = views.ids[changed]
    assert changed.any() and (kind[faces] == C.FEATURE_FACE).all()
    assert (marked[changed] == C.MARK).all()
    assert not np.any(plain != C.paint_reach(views, unreached_by="z_plus"))


def test_values_are_red_for_blue_against(gl_backend):
    views = reach_views(blind_pocket_z(), size=64)
    values = np.where(views.reach.normals[:, 2] > 0.5, 1.0, -1.0)
    image = C.paint_values(views, values).astype(int)
    up = np.isin(views.ids, np.flatnonzero(values > 0))
    down = np.isin(views.ids, np.flatnonzero(values < 0))
    assert (image[up][:, 0] > image[up][:, 2]).all()
    assert (image[down][:, 2] > image[down][:, 0]).all()
