"""TrainRun, the MLflow adapter of training: run status on every exit path, non-fatal logging,
artifacts, the per-epoch logger and promotion at the end (train.tracking.run)."""

from __future__ import annotations

import logging
import os

import pytest

from train import tracking
from train.errors import TrainError


def _client():
    from mlflow import MlflowClient

    return MlflowClient(tracking.resolve_tracking_uri())


@pytest.mark.parametrize(
    ("exc", "status"), [(None, "FINISHED"), (ValueError, "FAILED"), (KeyboardInterrupt, "KILLED")]
)
def test_run_ends_with_the_right_status(exc, status):
    run = tracking.TrainRun(run_name="s")
    with pytest.raises(exc) if exc else _nothing():
        with run:
            if exc:
                raise exc("boom")
    assert run.status == status
    got = _client().get_run(run.run_id)
    assert got.info.status == status
    assert got.data.tags["metaview.kind"] == "train"


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_tracking_uri_is_restored_after_the_run(tmp_path):
    import mlflow

    before_env = os.environ["MLFLOW_TRACKING_URI"]
    other = f"sqlite:///{tmp_path / 'other.db'}"
    with tracking.TrainRun(tracking_uri=other) as run:
        assert mlflow.get_tracking_uri() == other
    assert os.environ["MLFLOW_TRACKING_URI"] == before_env
    assert mlflow.get_tracking_uri() == before_env
    from mlflow import MlflowClient

    assert MlflowClient(other).get_run(run.run_id).info.status == "FINISHED"


def test_bad_params_and_metrics_are_warnings_not_errors(caplog, monkeypatch):
    import mlflow

    real_log_params = mlflow.log_params

    def flaky(params, **kw):
        if "flaky" in params:
            raise mlflow.exceptions.MlflowException("server said no")
        return real_log_params(params, **kw)

    monkeypatch.setattr(mlflow, "log_params", flaky)
    with caplog.at_level(logging.WARNING, logger="train.tracking.run"), tracking.TrainRun() as run:
        run.log_params({"ok": 1})
        run.log_params({"flaky": 2})
        run.log_metrics({"good": 0.5, "nan": float("nan"), "text": "abc"}, step=0)
        run.log_metrics({"good": 0.7}, step=1)
    text = caplog.text
    assert "nan" in text and "text" in text and "server said no" in text
    got = _client().get_run(run.run_id)
    assert got.info.status == "FINISHED"
    assert got.data.params["ok"] == "1"
    assert [m.value for m in _client().get_metric_history(run.run_id, "good")] == [0.5, 0.7]


def test_json_artifacts(tmp_path):
    import json

    with tracking.TrainRun() as run:
        run.log_json(["a", "b"], "labels.json")
        run.log_json({"x": 1}, "sub/dir/x.json")
    dst = _client().download_artifacts(run.run_id, "", str(tmp_path / "a"))
    assert json.loads(open(os.path.join(dst, "labels.json")).read()) == ["a", "b"]
    assert json.loads(open(os.path.join(dst, "sub/dir/x.json")).read()) == {"x": 1}


def test_promote_failure_is_a_warning(monkeypatch, caplog):
    from train.tracking import champion

    def refused(*args, **kwargs):
        raise TrainError("the model registry said no")

    monkeypatch.setattr(champion, "promote_if_best", refused)
    with tracking.TrainRun() as run:
        pass
    with caplog.at_level(logging.WARNING, logger="train.tracking.run"):
        assert run.promote() is False
    assert "could not register run" in caplog.text and "said no" in caplog.text
    assert _client().get_run(run.run_id).info.status == "FINISHED"


def test_promote_without_a_metric_leaves_no_champion():
    with tracking.TrainRun() as run:
        pass
    assert run.promote() is False  # never logged best_val_f1_macro: not the best of anything
    assert tracking.champion_run_id(tracking.make_client()) is None


def test_class_scores_are_keyed_by_the_real_class_name(tmp_path):
    """'+X' and '_X' would share a metric key if names were rebuilt; the scores are not."""
    import json

    scores = {
        "+X": {"precision": 1.0, "recall": 0.5, "f1": 2 / 3},
        "_X": {"precision": 0.25, "recall": 1.0, "f1": 0.4},
    }
    with tracking.TrainRun() as run:
        run.log_class_scores(scores)
    client = _client()
    metrics = client.get_run(run.run_id).data.metrics
    assert metrics["test_precision._X"] == 1.0 and metrics["test_precision._X_2"] == 0.25
    dst = client.download_artifacts(run.run_id, "class_scores.json", str(tmp_path))
    assert json.loads(open(dst, encoding="utf-8").read()) == scores


def test_run_records_lineage_dataset_input_and_git_commit(tmp_path):
    (tmp_path / "ds").mkdir()
    with tracking.TrainRun() as run:
        run.log_dataset(tmp_path / "ds", "0123456789abcdef0123456789abcdef")
    got = _client().get_run(run.run_id)
    [inp] = got.inputs.dataset_inputs
    assert inp.dataset.name == "ds" and inp.dataset.digest == "0123456789abcdef0123456789abcdef"
    assert str(tmp_path / "ds") in inp.dataset.source
    assert {t.key: t.value for t in inp.tags}["mlflow.data.context"] == "training"
    assert got.data.tags["metaview.dataset_digest"] == "0123456789abcdef0123456789abcdef"
    from pathlib import Path

    source = tracking.source_commit()
    if not (Path(__file__).resolve().parents[1] / ".git").exists():
        assert source is None  # an installed copy: no commit to record
        return
    assert source is not None and len(source[0]) == 40
    assert got.data.tags["mlflow.source.git.commit"] == source[0]
    assert got.data.tags["metaview.git_dirty"] == ("true" if source[1] else "false")
