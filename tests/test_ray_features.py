"""Backbone features on Ray (:mod:`train.features.ray_features`): the same numbers as the local
path, the same content-keyed cache, and a worker killed mid-batch retried."""

from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest
from _train_fixtures import make_dataset_folder

from train import featurize
from train.data import load_dataset

pytestmark = [pytest.mark.tf, pytest.mark.slow]


def _computed(caplog) -> list[int]:
    """How many meta-images each backbone_features call computed (not read from the cache)."""
    out = []
    for rec in caplog.records:
        msg = rec.getMessage()
        if msg.startswith("backbone features on ") and " computed, " in msg:
            out.append(int(msg.split(" computed, ")[0].rsplit(" ", 1)[1]))
    return out


def test_ray_features_match_local_resume_from_the_cache_and_survive_a_killed_worker(
    tmp_path, caplog
):
    ray = pytest.importorskip("ray")
    import keras

    from train.features.ray_features import KILL_ONCE_ENV
    from train.models import classifier, create_model

    keras.utils.set_random_seed(0)
    net = create_model("efficientnet-lite0", n_classes=2, image_size=32, weights="none")
    extractor = classifier.feature_extractor(net)  # random weights: they must travel
    root = make_dataset_folder(tmp_path / "ray", parts_per_class=6, tile=16, seed=3)
    local_root = shutil.copytree(root, tmp_path / "local")
    flag = tmp_path / "killed.pid"
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        logging_level=logging.WARNING,
        runtime_env={"env_vars": {KILL_ONCE_ENV: str(flag)}},
    )
    try:
        ds = load_dataset(root)
        kw = dict(model="efficientnet-lite0", weights="none", image_size=32, progress=False)
        kw.update(runtime="tensorflow", batch_size=4)
        caplog.set_level(logging.INFO, logger="train.featurize")
        half = featurize.backbone_features(extractor, ds, ds.rows[:5], executor="ray", **kw)
        assert flag.exists()  # a worker was killed in its first batch, and the batch redone
        full = featurize.backbone_features(extractor, ds, ds.rows, executor="ray", **kw)
    finally:
        ray.shutdown()
    assert _computed(caplog) == [5, len(ds.rows) - 5]  # the second run resumed from the cache
    local_ds = load_dataset(local_root)
    local = featurize.backbone_features(extractor, local_ds, local_ds.rows, **kw)
    assert full.shape == local.shape == (12, local.shape[1]) and local.shape[1] > 100
    np.testing.assert_allclose(full, local, atol=1e-4, rtol=1e-4)
    np.testing.assert_array_equal(half, full[:5])
