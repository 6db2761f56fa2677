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
        (RUN_ID[:8], "run-prefix"),  # as `metaview runs` shows it
        (RUN_ID[:-1], "run-prefix"),
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


@pytest.mark.parametrize(
    "spec", ["not-a-run", RUN_ID.upper(), RUN_ID[:7], RUN_ID + "0", "ABCDEF01", "Best"]
)
def test_anything_else_is_refused_before_mlflow(spec):
    with pytest.raises(TrainError, match="expected 'best', 'champion', a run id"):
        parse_model_spec(spec)


# -- explicit prefixes: runs:/, models:/, file: (issue 20) --------------------------------------


@pytest.mark.parametrize(
    "spec, ref",
    [
        (f"runs:/{RUN_ID}/model", ModelRef("run", RUN_ID, artifact_path="model")),
        (f"runs:/{RUN_ID}", ModelRef("run", RUN_ID)),
        (f"runs:/{RUN_ID}/", ModelRef("run", RUN_ID)),
        (f"runs:/{RUN_ID}/model/", ModelRef("run", RUN_ID, artifact_path="model")),
        (f"runs:/{RUN_ID}/sub/dir", ModelRef("run", RUN_ID, artifact_path="sub/dir")),
        ("models:/metaview-exp/1", ModelRef("registered", "metaview-exp", version="1")),
        ("models:/metaview-exp/012", ModelRef("registered", "metaview-exp", version="12")),
        ("models:/metaview-exp/latest", ModelRef("registered", "metaview-exp", version="latest")),
        ("models:/metaview-exp/Latest", ModelRef("registered", "metaview-exp", version="latest")),
        ("models:/metaview-exp@champion", ModelRef("registered", "metaview-exp", alias="champion")),
        ("models:/a.b c_d@x-1", ModelRef("registered", "a.b c_d", alias="x-1")),
        ("models:/n@a@b", ModelRef("registered", "n@a", alias="b")),  # rsplit, as MLflow
        ("file:model.keras", ModelRef("path", "model.keras")),
        ("file:best", ModelRef("path", "best")),  # a file named best, said explicitly
        (f"file:{RUN_ID}", ModelRef("path", RUN_ID)),
        ("file:runs:/x/model", ModelRef("path", "runs:/x/model")),
        ("file:/abs/dir", ModelRef("path", "/abs/dir")),
        ("file:///abs/my%20dir/m.tflite", ModelRef("path", "/abs/my dir/m.tflite")),
        ("file://localhost/abs/m.keras", ModelRef("path", "/abs/m.keras")),
        # A ':' that is not a known prefix followed by '/' leaves a path a path.
        ("exp:1/model.keras", ModelRef("path", "exp:1/model.keras")),
        ("model:v2.keras", ModelRef("path", "model:v2.keras")),
        ("out/run:3/", ModelRef("path", "out/run:3/")),
        ("C:/models/m.keras", ModelRef("path", "C:/models/m.keras")),  # a drive, not a scheme
        ("./s3://bucket/m.keras", ModelRef("path", "./s3://bucket/m.keras")),
    ],
)
def test_explicit_prefixes(spec, ref):
    assert parse_model_spec(spec) == ref


def test_uri_of_each_run_form():
    assert parse_model_spec(RUN_ID).uri == f"runs:/{RUN_ID}/model"
    assert parse_model_spec(f"runs:/{RUN_ID}").uri == f"runs:/{RUN_ID}/model"
    assert parse_model_spec("models:/m/3").uri == "models:/m/3"
    assert parse_model_spec("models:/m@champion").uri == "models:/m@champion"


def test_a_prefix_wins_over_an_existing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs:").mkdir()
    (tmp_path / "runs:" / RUN_ID).mkdir()
    assert parse_model_spec(f"runs:/{RUN_ID}").kind == "run"
    assert parse_model_spec(f"file:runs:/{RUN_ID}") == ModelRef("path", f"runs:/{RUN_ID}")
    assert parse_model_spec(f"./runs:/{RUN_ID}").kind == "path"


ALL_FORMS = (
    "'best'",
    "'champion'",
    "a run id",
    "runs:/RUN_ID/model",
    "models:/NAME/VERSION",
    "models:/NAME/latest",
    "models:/NAME@ALIAS",
    "file:PATH",
    "a path to a model",
)


@pytest.mark.parametrize(
    "spec, why",
    [
        ("runs:/", "runs:/ needs a run id"),
        ("runs://model", "runs:/ needs a run id"),
        ("runs:abc", "expected runs:/RUN_ID/model"),
        ("models:/", "models:/ needs a registered model name"),
        ("models://1", "models:/ needs a registered model name"),
        ("models:/@champion", "models:/ needs a registered model name"),
        ("models:/name", "models:/NAME needs a version"),
        ("models:/name/", "needs a version number or 'latest'"),
        ("models:/name@", "needs an alias after the '@'"),
        ("models:/name/Production", "'Production' is not a version number"),
        ("models:/name/1/extra", "'1/extra' is not a version number"),
        ("models:name/1", "expected models:/NAME/VERSION"),
        ("file:", "file: needs a path"),
        ("file://otherhost/m.keras", "another host"),
        ("s3://bucket/model", "s3: URIs are not read"),
        ("dbfs:/models/m", "dbfs: URIs are not read"),
        ("http://host/model.keras", "http: URIs are not read"),
        ("mlflow-artifacts:/1/abc/artifacts/model", "mlflow-artifacts: URIs are not read"),
        ("RUNS:/abc/model", "RUNS: URIs are not read"),  # prefixes are lowercase, as MLflow's
    ],
)
def test_malformed_and_unknown_prefixes_list_every_form(spec, why):
    with pytest.raises(TrainError) as err:
        parse_model_spec(spec)
    message = str(err.value)
    assert repr(spec) in message and why in message
    for form in ALL_FORMS:
        assert form in message


@pytest.mark.parametrize("spec", ["hf-hub:org", "nothing-here", "Champion"])
def test_a_spec_matching_nothing_lists_every_form(spec):
    with pytest.raises(TrainError, match="no such file exists") as err:
        parse_model_spec(spec)
    for form in ALL_FORMS:
        assert form in str(err.value)
