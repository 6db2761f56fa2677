"""Stock beyond boxes (``metaview synth --stock``): plates, bars and stepped blocks.

:mod:`assets.part` draws a box's three sides first, as the first generator does; a shape then
changes them (:func:`shape_sides`), or, for a stepped block, cuts a wide step from the label
face (:func:`stock_step`), recorded in the part's features with the role ``stock``.
"""

from __future__ import annotations

import math

import numpy as np

from assets import features as feat
from assets.cutters import Feature
from assets.face_frames import FaceFrame
from assets.face_geometry import SIDES, side_extents, turn_point
from assets.synth_config import MAX_SIDE_LIMIT


def shape_sides(rng: np.random.Generator, shape: str, sides: list[float]) -> None:
    """Turn the box's sides (drawn as for a box) into those of ``shape``, in place.

    A plate has one side 10-30 % of the smaller other (at least 10 mm); a bar one side 1.5-3
    times the larger other (at most MAX_SIDE_LIMIT); a stepped block keeps the box's sides.
    """
    axis = int(rng.integers(3))
    others = [sides[i] for i in range(3) if i != axis]
    if shape == "plate":
        lo, hi = max(10.0, 0.1 * min(others)), max(10.0, 0.3 * min(others))
    elif shape == "bar":
        lo, hi = min(1.5 * max(others), MAX_SIDE_LIMIT), min(3.0 * max(others), MAX_SIDE_LIMIT)
    else:
        return
    sides[axis] = int(rng.integers(math.ceil(lo * 2), math.floor(hi * 2) + 1)) / 2


def stock_step(rng: np.random.Generator, frame: FaceFrame) -> Feature:
    """The step that makes a stepped block: along one whole edge of the label face, 25-50 % of
    the face across and 20-45 % of the stock deep (a ``step`` feature, drawn wider)."""
    k = int(rng.integers(4))
    side = SIDES[k]
    across, along = side_extents(frame.size, side)
    # Both ranges are wider than 0.1 mm for any face metaview makes (sides of 10 mm up).
    width = feat.pick(rng, 0.25 * across, 0.5 * across) or 0.25 * across
    depth = feat.pick(rng, 0.2 * frame.size.depth, 0.45 * frame.size.depth) or 2.0
    box = feat.turn_box(k, across / 2 - width, across / 2, -along / 2, along / 2, -depth, 0.0)
    return Feature(
        "step", turn_point(k, across / 2 - width / 2, 0.0),
        {"width": width, "depth": depth}, {"side": side}, (box,),
    )  # fmt: skip
