"""geometry.directions: the five directions and the one codec of a set of them."""

from __future__ import annotations

import numpy as np
import pytest

from geometry.directions import (
    AXIS_NAMES,
    CLAMPED,
    CLASSES,
    DIRECTIONS,
    label_set,
    parse_label_set,
)


def test_five_unit_directions_in_class_order_none_of_them_clamped():
    assert CLASSES == ("x_plus", "x_minus", "y_plus", "y_minus", "z_plus") == tuple(DIRECTIONS)
    vectors = np.array(list(DIRECTIONS.values()))
    assert (np.abs(vectors).sum(axis=1) == 1).all() and len(set(map(tuple, vectors))) == 5
    assert CLAMPED not in DIRECTIONS.values() and set(AXIS_NAMES) == set(CLASSES)


@pytest.mark.parametrize(
    "names", [(), ("z_plus",), ("x_plus", "z_plus"), CLASSES, ("y_minus", "x_minus")]
)
def test_a_set_round_trips_in_class_order(names):
    text = label_set(reversed(names))
    assert parse_label_set(text) == tuple(n for n in CLASSES if n in names)


def test_other_class_names_keep_every_name():
    assert label_set(["red", "x_plus", "blue"]) == "x_plus|blue|red"
    assert parse_label_set(" red | blue ||", known=None) == ("red", "blue")


@pytest.mark.parametrize(
    ("text", "match"),
    [("x_plus|z_minus", "unknown direction 'z_minus'"), ("z_plus|z_plus", "twice")],
)
def test_bad_sets_say_what_is_wrong(text, match):
    with pytest.raises(ValueError, match=match):
        parse_label_set(text)
