"""The per-epoch Keras callback: metrics, learning rate and heartbeat every epoch
(train.tracking.epoch_logger)."""

from __future__ import annotations

import pytest

from train import tracking


def _client():
    from mlflow import MlflowClient

    return MlflowClient(tracking.resolve_tracking_uri())


@pytest.mark.tf
def test_epoch_logger_logs_metrics_and_lr_per_epoch():
    import keras
    import numpy as np

    net = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    net.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    y = np.array([0, 1] * 4)
    with tracking.TrainRun() as run:
        _client().set_tag(run.run_id, "metaview.heartbeat", "1")  # long ago
        net.fit(x, y, epochs=3, verbose=0, validation_data=(x, y), callbacks=[run.epoch_logger()])
    client = _client()
    assert int(client.get_run(run.run_id).data.tags["metaview.heartbeat"]) > 1  # every epoch
    for name in ("loss", "val_loss", "lr"):
        assert [m.step for m in client.get_metric_history(run.run_id, name)] == [0, 1, 2]
    assert client.get_metric_history(run.run_id, "lr")[0].value == pytest.approx(0.01)
