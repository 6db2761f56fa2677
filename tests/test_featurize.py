"""Feature matrices for training: the content-keyed backbone cache and the mesh folder."""

from __future__ import annotations

import numpy as np
import pytest
from _train_fixtures import make_dataset_folder

from metaimage.io import read_png, write_png
from train import featurize
from train.data import load_dataset
from train.errors import TrainError


class CountingExtractor:
    """Stands for a Keras feature extractor: mean colour of each image; counts the images."""

    def __init__(self):
        self.seen = 0

    def __call__(self, x, training=False):
        self.seen += len(x)
        return np.asarray(x).mean(axis=(1, 2))


def _features(ds, extractor, size=32, model="m"):
    return featurize.backbone_features(
        extractor, ds, ds.rows, model=model, weights="imagenet", image_size=size, progress=False
    )


def test_backbone_features_are_cached_by_content(tmp_path):
    root = make_dataset_folder(tmp_path / "ds", parts_per_class=3, tile=16)
    ds = load_dataset(root)
    ex = CountingExtractor()
    first = _features(ds, ex)
    assert first.shape == (6, 3) and ex.seen == 6
    expected = np.stack([read_png(root / r["path"]).mean(axis=(0, 1)) for r in ds.rows])
    np.testing.assert_allclose(first, expected, rtol=1e-5)

    again = CountingExtractor()
    np.testing.assert_array_equal(_features(ds, again), first)
    assert again.seen == 0  # every image found by its SHA-256

    # One image changes: only it is computed again.
    changed = root / ds.rows[0]["path"]
    write_png(changed, 255 - read_png(changed))
    ex2 = CountingExtractor()
    third = _features(load_dataset(root), ex2)
    assert ex2.seen == 1
    np.testing.assert_array_equal(third[1:], first[1:])
    assert not np.allclose(third[0], first[0])

    # Another input size is another cache.
    ex3 = CountingExtractor()
    _features(ds, ex3, size=48)
    assert ex3.seen == 6


def test_rows_come_back_in_the_order_asked(tmp_path):
    root = make_dataset_folder(tmp_path / "ds", parts_per_class=3, tile=16)
    ds = load_dataset(root)
    full = _features(ds, CountingExtractor())
    picked = [ds.rows[4], ds.rows[1]]
    sub = featurize.backbone_features(
        CountingExtractor(), ds, picked, model="m", weights="imagenet", image_size=32
    )
    np.testing.assert_array_equal(sub, full[[4, 1]])


def test_normals_need_the_meshes_and_say_how_to_point_at_them(tmp_path):
    root = make_dataset_folder(tmp_path / "ds", parts_per_class=3, tile=16)
    ds = load_dataset(root)
    with pytest.raises(TrainError, match="--meshes DIR"):
        featurize.mesh_paths(ds, ds.rows)  # the fixture records no source folder
    with pytest.raises(TrainError, match=r"x_plus/0000\.stl: mesh not found \(6 of 6"):
        featurize.mesh_paths(ds, ds.rows, meshes=str(tmp_path / "elsewhere"))


def test_feature_dims_match_the_registry():
    from train.models import get_model_spec

    for name in featurize.FEATURES:
        assert featurize.feature_dim(name) == get_model_spec(name).input_size
    with pytest.raises(TrainError, match="expected one of"):
        featurize.feature_dim("pixels")


def test_a_pooled_cache_runs_the_pooling_on_each_row_and_builds_the_backbone_only_when_needed(
    tmp_path,
):
    """``pool`` turns each row's extractor output into its features (here: scaled by the
    row's variant + 1); the second call finds every row in the cache without building."""
    root = make_dataset_folder(tmp_path / "ds", parts_per_class=3, variants=2, tile=16)
    ds = load_dataset(root)
    ex = CountingExtractor()

    def pool(out, rows):
        return np.asarray(out) * np.array([[int(r["variant"]) + 1.0] for r in rows])

    def features(build):
        return featurize.backbone_features(
            None, ds, ds.rows, model="m", weights="imagenet", image_size=32, progress=False,
            pool=pool, build=build,
        )  # fmt: skip

    first = features(lambda: ex)
    expected = np.stack(
        [read_png(root / r["path"]).mean(axis=(0, 1)) * (int(r["variant"]) + 1) for r in ds.rows]
    )
    np.testing.assert_allclose(first, expected, rtol=1e-5)
    assert ex.seen == len(ds.rows) == 12
    again = features(lambda: pytest.fail("the cache had every row"))
    np.testing.assert_array_equal(again, first)
