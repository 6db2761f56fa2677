"""Inputs drawn from a run's splits (:mod:`train.inference.calibration`): meta-images read
only when sliced, and the int8 calibration draw from the training split."""

from __future__ import annotations

import numpy as np
import pytest
from _toy_fixtures import make_toy_dataset, toy_split

from metaimage.errors import DatasetError
from metaimage.io import read_png
from train.data import load_split
from train.inference import calibration
from train.inference.export_options import ExportError

SIZE = 16  # the toy meta-images' own size: nothing to resize, no TensorFlow


def test_lazy_images_read_only_the_slice_asked_for(tmp_path):
    root = make_toy_dataset(tmp_path / "data", parts_per_class=2)
    paths = sorted(root.glob("*/*.png"))
    # Files that do not exist are never read unless sliced: nothing is read up front.
    images = calibration.LazyImages([*paths, tmp_path / "gone.png"], SIZE)
    assert len(images) == len(paths) + 1
    want = np.stack([read_png(p) for p in paths]).astype(np.float32)
    np.testing.assert_array_equal(images[1:3], want[1:3])
    np.testing.assert_array_equal(images[[4, 0]], want[[4, 0]])
    np.testing.assert_array_equal(images[2], want[2])
    assert images[1:3].dtype == np.float32 and images[0:0].shape == (0, SIZE, SIZE, 3)
    with pytest.raises(DatasetError, match="gone.png: no such image file"):
        images[len(paths)]


def test_representative_images_are_a_seeded_draw_from_the_training_split(tmp_path):
    root = make_toy_dataset(tmp_path / "data")
    split = toy_split()
    train, _ = load_split(root, split, "train")
    draw = calibration.representative_images(root, split, SIZE, n=5, seed=0)
    assert len(draw) == 5 and len(set(draw.paths)) == 5
    assert set(draw.paths) <= set(train)
    assert draw.paths == calibration.representative_images(root, split, SIZE, n=5, seed=0).paths
    assert draw.paths != calibration.representative_images(root, split, SIZE, n=5, seed=1).paths
    every = calibration.representative_images(root, split, SIZE, n=10_000)
    assert sorted(every.paths) == sorted(train)  # at most the whole training split
    with pytest.raises(ExportError, match="training split is empty; int8 needs"):
        calibration.representative_images(root, {**split, "train": []}, SIZE)


def test_a_familys_features_of_a_split_and_its_calibration_draw(tmp_path):
    from train.features import colour_features

    root = make_toy_dataset(tmp_path / "data", parts_per_class=4)
    split = toy_split(parts_per_class=4, n_test=1, n_val=1)
    x, labels = calibration.split_features("colour-stats", root, split, "test")
    paths, want_labels = load_split(root, split, "test")
    assert labels == want_labels and len(x) == len(paths) == 3 and x.dtype == np.float32
    for row, path in zip(x, paths, strict=True):
        np.testing.assert_allclose(row, colour_features(read_png(path), 2, 2), rtol=1e-6)
    train, _ = calibration.split_features("colour-stats", root, split, "train")
    reps = calibration.representative_features("colour-stats", root, split, n=4)
    assert reps.shape == (4, x.shape[1])
    assert all(any(np.array_equal(r, t) for t in train) for r in reps)
    empty, none = calibration.split_features("colour-stats", root, {**split, "val": []}, "val")
    assert empty.shape == (0, 0) and none == []
