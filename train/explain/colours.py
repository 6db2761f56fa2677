"""The colours of an explain picture: each face by what reaches it, and a model's evidence.

Faces (:func:`reach_classes`, painted by :func:`paint_reach`):

- stock surface (on the bounding box, never cut): light grey;
- a feature face reached from one direction: that direction's colour (:data:`PALETTE`);
- reached from several: diagonal stripes of their colours, in :data:`DIRECTIONS` order;
- reached from none of the five, nor from below: red (an undercut);
- reached from below only (a feature in the clamped face): brown.

Feature faces that the predicted direction cannot reach are dotted black when the
prediction disagrees with the geometry. Every colour is shaded by how squarely its face
faces the camera (:meth:`render.reach_views.ReachViews.shading`), so the shape shows.
"""

from __future__ import annotations

import numpy as np

from geometry.directions import DIRECTIONS
from render.reach_views import ReachViews

#: One colour per direction (colour-blind safe, after Okabe and Ito), none grey or red.
PALETTE = {
    "x_plus": (0, 114, 178),  # blue
    "x_minus": (230, 159, 0),  # orange
    "y_plus": (0, 158, 115),  # bluish green
    "y_minus": (204, 121, 167),  # reddish purple
    "z_plus": (86, 180, 233),  # sky blue
}
STOCK = (200, 200, 200)
UNDERCUT = (213, 20, 20)
CLAMPED = (140, 90, 60)
BACKGROUND = (255, 255, 255)
MARK = (0, 0, 0)
#: Stripe width, in pixels, of a face several directions reach.
STRIPE_PX = 6

# Face classes of reach_classes.
STOCK_FACE, FEATURE_FACE, UNDERCUT_FACE, CLAMPED_FACE = 0, 1, 2, 3

LEGEND = (
    ("stock (not cut)", STOCK),
    *((f"reached from {name} only", PALETTE[name]) for name in DIRECTIONS),
    ("stripes: reached from each of their colours", None),
    ("undercut: reached from none", UNDERCUT),
    ("reached from below only (clamped side)", CLAMPED),
)


def reach_classes(views: ReachViews) -> tuple[np.ndarray, np.ndarray]:
    """Each face's class and the directions that reach it.

    Returns
    -------
    kind : (f,) int8
        :data:`STOCK_FACE`, :data:`FEATURE_FACE`, :data:`UNDERCUT_FACE` or
        :data:`CLAMPED_FACE`.
    reached : (f, 5) bool
        Per feature face, the directions reaching most of it (False elsewhere).
    """
    r = views.reach
    reached = r.directions() & ~r.stock[:, None]
    kind = np.full(len(r.faces), FEATURE_FACE, dtype=np.int8)
    kind[r.undercut] = UNDERCUT_FACE
    kind[r.clamped] = CLAMPED_FACE
    kind[r.stock | (r.areas <= 0)] = STOCK_FACE
    reached[kind != FEATURE_FACE] = False
    return kind, reached


def paint_reach(views: ReachViews, unreached_by: str | None = None) -> np.ndarray:
    """The five views with every face in the colour of what reaches it (module docstring).

    Parameters
    ----------
    views : ReachViews
    unreached_by : str or None
        A direction whose unreached feature faces are dotted black (the prediction, when
        it is outside the reachable set).

    Returns
    -------
    (5, size, size, 3) uint8
    """
    kind, reached = reach_classes(views)
    n = len(kind)
    base = np.empty((n, 3), dtype=np.float32)
    base[kind == STOCK_FACE] = STOCK
    base[kind == UNDERCUT_FACE] = UNDERCUT
    base[kind == CLAMPED_FACE] = CLAMPED
    # Per face, the colours of the directions reaching it, packed first: (f, 5, 3).
    palette = np.array([PALETTE[d] for d in DIRECTIONS], dtype=np.float32)
    count = reached.sum(axis=1)
    order = np.argsort(~reached, axis=1, kind="stable")  # reaching directions first
    stripes = palette[order]
    single = (kind == FEATURE_FACE) & (count >= 1)
    base[single] = stripes[single, 0]
    # A feature face most of which no single direction reaches, though some part of it is
    # reached (a partly shadowed wall): the colour of its best direction.
    partial = (kind == FEATURE_FACE) & (count == 0)
    best = np.argmax(views.reach.reached[:, :5], axis=1)
    base[partial] = palette[best[partial]]

    size = views.ids.shape[1]
    yy, xx = np.mgrid[0:size, 0:size]
    band = (xx + yy) // STRIPE_PX
    dots = ((xx // 2) % 3 == 0) & ((yy // 2) % 3 == 0)  # 2 x 2 px dots, 6 px apart
    undone = np.zeros(n, dtype=bool)
    if unreached_by is not None:
        j = list(DIRECTIONS).index(unreached_by)
        undone = (kind != STOCK_FACE) & (views.reach.reached[:, j] < 0.5)
    shade = views.shading()
    out = np.empty((*views.ids.shape, 3), dtype=np.uint8)
    for v in range(len(views.ids)):
        ids = views.ids[v]
        shown = ids >= 0
        f = ids[shown]
        rgb = base[f]
        multi = count[f] > 1
        k = band[shown][multi] % count[f][multi]
        rgb[multi] = stripes[f[multi], k]
        img = np.empty((size, size, 3), dtype=np.float32)
        img[:] = BACKGROUND
        img[shown] = rgb * shade[v][shown, None]
        if undone.any():
            mark = shown & dots
            mark[shown] &= undone[f]
            img[mark] = MARK
        out[v] = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return out


def paint_values(views: ReachViews, values: np.ndarray) -> np.ndarray:
    """The five views with each face coloured by a signed value (a diverging map: blue
    against, white nothing, red for), scaled to the largest magnitude.

    Parameters
    ----------
    values : (f,) float

    Returns
    -------
    (5, size, size, 3) uint8
    """
    from matplotlib import colormaps

    values = np.asarray(values, dtype=np.float64)
    top = float(np.abs(values).max()) if len(values) else 0.0
    scaled = values / top if top > 0 else np.zeros_like(values)
    rgb = colormaps["RdBu_r"](0.5 + 0.5 * scaled)[:, :3] * 255.0  # (f, 3)
    shade = views.shading()
    out = np.empty((*views.ids.shape, 3), dtype=np.uint8)
    for v in range(len(views.ids)):
        ids = views.ids[v]
        shown = ids >= 0
        img = np.empty((*ids.shape, 3), dtype=np.float64)
        img[:] = BACKGROUND
        img[shown] = rgb[ids[shown]] * shade[v][shown, None]
        out[v] = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return out
