"""Prediction: its answer as a set, its text line and JSON dict (train.inference.prediction)."""

from __future__ import annotations

import numpy as np
import pytest

from train.errors import TrainError
from train.inference.prediction import Prediction, format_prediction, predicted_set
from train.labelsets import SET_THRESHOLD

DIRS = ("x_plus", "x_minus", "y_plus", "y_minus", "z_plus")  # the classes, in class order

pytestmark = pytest.mark.tf


def test_predicted_set():
    # Softmax: the top class alone, whatever the others.
    assert predicted_set([0.1, 0.5, 0.4, 0.0, 0.0], DIRS, multi_label=False) == ("x_minus",)
    # Multi-label: every output at or above the threshold, in label order, not by probability.
    probs = [0.7, 0.2, 0.9, SET_THRESHOLD, 0.1]
    assert predicted_set(probs, DIRS, multi_label=True) == ("x_plus", "y_plus", "y_minus")
    below = np.nextafter(SET_THRESHOLD, 0.0)
    assert predicted_set([0.2, below, 0.1, 0.0, 0.0], DIRS, True) == ("x_minus",)
    # The top label is always in, even below the threshold.
    assert predicted_set([0.2, 0.3, 0.1, 0.0, 0.05], DIRS, True) == ("x_minus",)
    assert predicted_set(np.float32([0.1, 0.9]), ["a", "b"], True) == ("b",)
    with pytest.raises(TrainError, match="one probability per label"):
        predicted_set([0.5, 0.5], DIRS, True)


def _pred(label="x_plus", reachable=None, labels=DIRS, **kw) -> Prediction:
    probs = dict.fromkeys(labels, 0.1) | {label: 0.6}
    probs = dict(sorted(probs.items(), key=lambda kv: -kv[1]))
    return Prediction("p.stl", label, 0.6, probs, reachable=reachable, **kw)


@pytest.mark.parametrize("label", DIRS)
@pytest.mark.parametrize("reachable", [("x_plus", "x_minus"), ("z_plus",), DIRS])
def test_format_flags_a_top_class_outside_the_reachable_set(label, reachable):
    reasons = {d: f"why not {d}" for d in DIRS if d not in reachable}
    pred = _pred(label, reachable, reach_reasons=reasons)

    line = format_prediction(pred, top=1)

    start = f"p.stl  {label}  0.600  reachable: {'|'.join(reachable)}"
    if label in reachable:
        assert pred.agrees is True and line == start
    else:
        assert pred.agrees is False
        assert line == f"{start}  DISAGREES: {label} does not reach every feature (why not {label})"


def test_format_undercut_unknown_classes_and_missing_reasons():
    undercut = _pred("z_plus", (), reach_reasons={d: "shadowed" for d in DIRS})
    assert undercut.agrees is None
    assert format_prediction(undercut, top=1) == (
        "p.stl  z_plus  0.600  reachable: none (no direction reaches every feature)"
    )
    # A model of other classes: the set is shown, but there is nothing to compare.
    toy = _pred("a", ("z_plus",), labels=("a", "b"))
    assert toy.agrees is None
    assert format_prediction(toy) == "p.stl  a  0.600  (b 0.100)  reachable: z_plus"
    # No reason recorded: the flag without parentheses.
    bare = _pred("x_plus", ("z_plus",))
    assert format_prediction(bare, top=1) == (
        "p.stl  x_plus  0.600  reachable: z_plus  DISAGREES: x_plus does not reach every feature"
    )
    # A long analysis error is cut short in the line, kept whole in JSON.
    long = _pred(reach_error="p.stl: " + "x" * 200)
    line = format_prediction(long, top=1)
    assert line.startswith("p.stl  x_plus  0.600  reachable: ? (xxx") and line.endswith("...)")
    assert len(line) < 130 and long.to_dict()["reach_error"] == "p.stl: " + "x" * 200
    # Not analysed (a PNG): the line of old.
    assert format_prediction(_pred(), top=2) == "p.stl  x_plus  0.600  (x_minus 0.100)"
