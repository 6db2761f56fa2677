"""train.tracking.artifacts: a finished run read back and added to, errors naming the run."""

from __future__ import annotations

import logging

import pytest

from train.errors import TrainError
from train.tracking import artifacts
from train.tracking.store import make_client

MISSING = "0" * 32


@pytest.fixture
def run():
    """A finished run with a tag, a JSON artifact and a text file that is not JSON."""
    client = make_client()
    exp = client.create_experiment("artifacts")
    run = client.create_run(exp, tags={"metaview.kind": "train"})
    client.log_dict(run.info.run_id, {"classes": ["a", "b"]}, "labels.json")
    client.log_text(run.info.run_id, "not { json", "broken.json")
    client.set_terminated(run.info.run_id)
    return client, run.info.run_id


def test_check_run_and_tags_name_the_run_that_is_not_there(run):
    client, run_id = run
    assert artifacts.check_run(client, run_id).info.run_id == run_id
    assert artifacts.run_tag(client, run_id, "metaview.kind") == "train"
    assert artifacts.run_tag(client, run_id, "unset") is None
    with pytest.raises(TrainError, match=f"no run with id {MISSING} in the tracking store"):
        artifacts.check_run(client, MISSING)
    with pytest.raises(TrainError, match=f"run {MISSING}"):
        artifacts.run_tag(client, MISSING, "metaview.kind")


def test_json_artifacts_read_back_or_say_what_is_wrong(run):
    client, run_id = run
    assert artifacts.read_run_json(client, run_id, "labels.json") == {"classes": ["a", "b"]}
    with pytest.raises(TrainError, match=f"run {run_id} has no artifact split.json"):
        artifacts.read_run_json(client, run_id, "split.json")
    with pytest.raises(TrainError, match="artifact broken.json is not valid JSON"):
        artifacts.read_run_json(client, run_id, "broken.json")


def test_optional_artifacts_are_a_path_or_none(run, tmp_path):
    client, run_id = run
    got = artifacts.download_optional(run_id, "labels.json", client.tracking_uri, tmp_path)
    assert got is not None and got.parent == tmp_path and '"a"' in got.read_text()
    assert artifacts.download_optional(run_id, "head.npz", client.tracking_uri, tmp_path) is None


def test_a_run_without_a_model_says_so(run, tmp_path):
    client, run_id = run
    with pytest.raises(TrainError, match=f"run {run_id} has no logged model at runs:/"):
        artifacts.download_model(client, run_id, tmp_path)


def test_log_to_run_adds_to_a_finished_run_and_only_warns_on_failure(run, caplog):
    client, run_id = run
    assert artifacts.log_to_run(client, run_id, {"tflite_accuracy": 0.9}, {"n": 3}, "x.json")
    assert client.get_run(run_id).data.metrics["tflite_accuracy"] == 0.9
    assert artifacts.read_run_json(client, run_id, "x.json") == {"n": 3}
    with caplog.at_level(logging.WARNING, logger="train.tracking.artifacts"):
        assert not artifacts.log_to_run(client, MISSING, {"m": 1.0}, {}, "y.json")
    assert f"could not log y.json to run {MISSING}" in caplog.text
