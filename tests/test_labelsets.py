"""Valid sets: reading them, targets of each objective, and the set scores."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from train import labelsets
from train.errors import TrainError

DIRS = ("x_minus", "x_plus", "y_minus", "y_plus", "z_plus")  # sorted, as a dataset's labels


def _write_csv(path, rows, columns=("file", "label", "valid")):
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def test_reads_parts_and_reach_csv_by_part_id_skipping_errors(tmp_path):
    path = _write_csv(
        tmp_path / "reach.csv",
        [
            {"file": "x_plus/0001.stl", "valid": "x_plus|x_minus", "status": "ok"},
            {"file": "loose.obj", "valid": "", "status": "ok"},
            {"file": "broken.stl", "valid": "", "status": "error"},
            {"file": "sub\\part.STL", "valid": "z_plus", "status": "ok"},
        ],
        columns=("file", "valid", "status"),
    )
    vs = labelsets.read_valid_sets(path)
    assert vs.source == str(path)
    assert vs.sets == {"x_plus/0001": ("x_plus", "x_minus"), "loose": (), "sub/part": ("z_plus",)}
    # Unlabelled parts take one valid direction; a part valid from nowhere takes none.
    primary = vs.primary_labels()
    assert set(primary) == {"x_plus/0001", "sub/part"} and primary["sub/part"] == "z_plus"
    assert primary["x_plus/0001"] in ("x_plus", "x_minus")


def test_labels_from_sets_are_stable_and_spread_over_the_set():
    sets = {f"p{i:03d}": ("x_plus", "x_minus", "z_plus") for i in range(300)}
    primary = labelsets.ValidSets("r.csv", sets).primary_labels()
    assert primary == labelsets.ValidSets("r.csv", dict(sets)).primary_labels()
    counts = {d: list(primary.values()).count(d) for d in ("x_plus", "x_minus", "z_plus")}
    assert min(counts.values()) > 70  # about 100 each: none left without parts


def test_a_csv_without_the_columns_names_itself(tmp_path):
    path = _write_csv(
        tmp_path / "parts.csv", [{"file": "a.stl", "label": "x_plus"}], ("file", "label")
    )
    with pytest.raises(TrainError, match=r"parts\.csv.*missing valid"):
        labelsets.read_valid_sets(path)
    with pytest.raises(TrainError, match="found none"):
        labelsets.read_valid_sets(tmp_path / "nope.csv")


def test_a_direction_named_twice_is_an_error_with_its_line(tmp_path):
    path = _write_csv(tmp_path / "r.csv", [{"file": "a.stl", "valid": "x_plus|x_plus"}])
    with pytest.raises(TrainError, match="line 2"):
        labelsets.read_valid_sets(path)


def test_find_prefers_the_explicit_csv_then_the_dataset_then_the_meshes(tmp_path):
    data, meshes = tmp_path / "data", tmp_path / "meshes"
    data.mkdir()
    meshes.mkdir()
    assert labelsets.find_valid_sets(data, "", meshes) == labelsets.ValidSets()
    _write_csv(meshes / "parts.csv", [{"file": "a.stl", "valid": "x_plus"}])
    assert labelsets.find_valid_sets(data, "", meshes).source == str(meshes / "parts.csv")
    # An old parts.csv without a valid column is skipped, not an error.
    _write_csv(data / "parts.csv", [{"file": "a.stl", "label": "y_plus"}], ("file", "label"))
    assert labelsets.find_valid_sets(data, "", meshes).source == str(meshes / "parts.csv")
    _write_csv(data / "reach.csv", [{"file": "a.stl", "valid": "z_plus"}])
    assert labelsets.find_valid_sets(data, "", meshes).sets == {"a": ("z_plus",)}
    other = _write_csv(tmp_path / "mine.csv", [{"file": "a.stl", "valid": "y_minus"}])
    assert labelsets.find_valid_sets(data, str(other), meshes).sets == {"a": ("y_minus",)}
    with pytest.raises(TrainError):
        labelsets.find_valid_sets(data, str(tmp_path / "missing.csv"), meshes)


def test_masks_always_hold_the_label_and_count_what_they_met():
    vs = labelsets.ValidSets(
        "x.csv",
        {
            "a": ("x_plus", "x_minus"),  # two sides
            "b": ("y_plus",),  # labelled outside its set
            "c": (),  # undercut
            "d": ("z_plus", "w_other"),  # a direction the model does not have
        },
    )
    mask, counts = labelsets.set_masks(
        ["a", "b", "c", "d", "e"], ["x_plus", "z_plus", "y_minus", "z_plus", "x_minus"], DIRS, vs
    )
    want = np.zeros((5, 5), bool)
    want[0, [0, 1]] = True
    want[1, [3, 4]] = True
    want[2, 2] = True
    want[3, 4] = True
    want[4, 0] = True  # not listed: its label alone
    np.testing.assert_array_equal(mask, want)
    assert counts == {
        "listed": 4,
        "multi": 2,
        "label_outside": 1,
        "empty": 1,
        "unknown_directions": 1,
    }


def test_targets_code_the_label_above_the_other_valid_directions():
    y = np.array([1, 3])
    mask = np.array([[1, 1, 0, 0, 0], [0, 0, 0, 1, 0]], bool)
    np.testing.assert_array_equal(labelsets.targets(y, mask, "label"), y)
    codes = labelsets.targets(y, mask, "sets")
    np.testing.assert_array_equal(codes, [[1, 2, 0, 0, 0], [0, 0, 0, 2, 0]])
    assert codes.dtype == np.float32
    # The label is recovered by argmax, the set by > 0: what the loss and metrics read.
    np.testing.assert_array_equal(codes.argmax(1), y)
    np.testing.assert_array_equal(codes > 0, mask)
    with pytest.raises(TrainError, match="objective"):
        labelsets.targets(y, mask, "bogus")


def test_predicted_sets_threshold_sigmoids_and_keep_the_top_of_softmax():
    probs = np.array([[0.9, 0.6, 0.1], [0.2, 0.3, 0.4], [0.5, 0.49, 0.0]])
    np.testing.assert_array_equal(
        labelsets.predicted_sets(probs, multi_label=True),
        [[1, 1, 0], [0, 0, 1], [1, 0, 0]],  # the top is in even below the threshold
    )
    np.testing.assert_array_equal(
        labelsets.predicted_sets(probs, multi_label=False), [[1, 0, 0], [0, 0, 1], [1, 0, 0]]
    )


def test_set_scores_by_hand():
    labels = ("a", "b", "c")
    mask = np.array([[1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]], bool)
    probs = np.array(
        [
            [0.8, 0.7, 0.0],  # set {a, b}: exact
            [0.6, 0.3, 0.0],  # set {a}: top invalid
            [0.0, 0.6, 0.9],  # set {b, c}: c valid, b not
            [0.9, 0.0, 0.0],  # set {a}: exact
        ]
    )
    m, per = labelsets.set_scores(probs, mask, labels, multi_label=True)
    assert m["top_valid"] == pytest.approx(3 / 4)
    assert m["set_exact"] == pytest.approx(2 / 4)
    # a: named 3 times, valid in 2 of them, valid 2 times; b: named 2, right 1, valid 2;
    # c: named 1, right 1, valid 1.
    assert per["a"] == {"set_precision": 2 / 3, "set_recall": 1.0, "set_support": 2.0}
    assert per["b"] == {"set_precision": 0.5, "set_recall": 0.5, "set_support": 2.0}
    assert per["c"] == {"set_precision": 1.0, "set_recall": 1.0, "set_support": 1.0}
    assert m["set_precision_macro"] == pytest.approx((2 / 3 + 0.5 + 1.0) / 3)
    assert m["set_recall_macro"] == pytest.approx((1.0 + 0.5 + 1.0) / 3)
    # As a softmax model, the same numbers name one direction each.
    m1, _ = labelsets.set_scores(probs, mask, labels, multi_label=False)
    assert m1["top_valid"] == m["top_valid"] and m1["set_exact"] == pytest.approx(2 / 4)


def test_set_scores_refuse_shapes_that_disagree():
    with pytest.raises(TrainError, match="one shape"):
        labelsets.set_scores(np.zeros((2, 3)), np.zeros((2, 2), bool), "abc", True)
