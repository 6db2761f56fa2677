"""``--model SPEC`` parsing: the order of the checks (train.inference.spec)."""

from __future__ import annotations

import pytest

from train.errors import TrainError
from train.inference.spec import ModelRef, parse_model_spec

RUN_ID = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    "spec, kind",
    [
        ("best", "best"),
        ("champion", "champion"),
        (RUN_ID, "run"),
        ("model.tflite", "path"),
        ("model.keras", "path"),
        ("runs/abc", "path"),
        ("/abs/folder", "path"),
    ],
)
def test_each_kind(spec, kind):
    assert parse_model_spec(spec) == ModelRef(kind, spec)


def test_keywords_come_before_files_and_files_before_run_ids(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "best").mkdir()
    (tmp_path / RUN_ID).mkdir()
    (tmp_path / "folder").mkdir()
    assert parse_model_spec("best").kind == "best"  # a folder named "best" does not count
    assert parse_model_spec(RUN_ID).kind == "path"  # an existing file wins over a run id
    assert parse_model_spec("folder").kind == "path"  # any existing file or folder is a path


@pytest.mark.parametrize("spec", ["not-a-run", RUN_ID.upper(), RUN_ID[:-1], "Best"])
def test_anything_else_is_refused_before_mlflow(spec):
    with pytest.raises(TrainError, match="expected 'best', 'champion', a run id"):
        parse_model_spec(spec)
