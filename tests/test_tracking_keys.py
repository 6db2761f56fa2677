"""MLflow keys: nested params flattened, class names made safe and unique (train.tracking.keys)."""

from __future__ import annotations

from train import tracking


def test_flatten_nested_params():
    flat = tracking.flatten(
        {"grid": [10, 10], "config": {"tile": 64, "n": {"x": None}}}, "dataset."
    )
    assert flat == {
        "dataset.grid": "[10, 10]",
        "dataset.config.tile": "64",
        "dataset.config.n.x": "None",
    }


def test_awkward_class_names_become_valid_mlflow_keys(tmp_path):
    """Class folders like '+X' must not make MLflow drop a whole batch of params/metrics."""
    import mlflow

    from train.tracking.keys import key_part

    labels = ["+X", "-X", "x (top)", "z+/a", "ä_ok", "a*b?"]
    keys = [key_part(label) for label in labels]
    assert keys[0] == "_X" and keys[1] == "-X" and keys[4] == "ä_ok"
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'keys.db'}")
    exp = client.create_experiment("keys")
    run = client.create_run(exp)
    for key in keys:
        client.log_param(run.info.run_id, f"n.train.{key}", 1)
        client.log_metric(run.info.run_id, f"test_recall.{key}", 0.5)
    got = client.get_run(run.info.run_id).data
    assert len(got.params) == len(set(keys)) and len(got.metrics) == len(set(keys))


def test_class_keys_are_safe_and_unique():
    labels = ["+X", "_X", "-X", "_X_2", "x (top)", "テスト"]
    keys = tracking.class_keys(labels)
    assert list(keys) == labels
    assert keys["+X"] == "_X" and keys["_X"] == "_X_2" and keys["_X_2"] == "_X_2_2"
    assert keys["-X"] == "-X" and keys["テスト"] == "テスト"
    assert len(set(keys.values())) == len(labels)
