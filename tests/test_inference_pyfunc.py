"""The served model (:mod:`train.inference.pyfunc`): logged as models-from-code, loaded by
MLflow, and answering real HTTP requests under ``mlflow models serve``."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import numpy as np
import pandas as pd
import pytest
import trimesh
from _reach_fixtures import t_slot
from _step_fixtures import step_text
from _tracking_fixtures import REPO, _unused_port, stop_server
from _train_fixtures import nearest_template_normals, pocketed_box

from train.inference.pyfunc import FORMATS, OUTPUT_COLUMNS, decode_rows

CLASSES = ["x_plus", "x_minus", "y_plus", "y_minus", "z_plus"]


def _row(name: str, fmt: str, data: bytes) -> dict:
    return {"name": name, "format": fmt, "content": base64.b64encode(data).decode()}


def _stl(label: str) -> bytes:
    return trimesh.Trimesh(*pocketed_box(label)).export(file_type="stl")


def test_rows_are_decoded_or_refused_naming_the_row():
    from mlflow.exceptions import MlflowException

    frame = pd.DataFrame([_row("a.stl", "STL", b"abc"), _row("b.png", ".png", b"\x89PNG")])
    assert decode_rows(frame) == [("a.stl", "stl", b"abc"), ("b.png", "png", b"\x89PNG")]
    bad = [
        ([{"name": "x", "format": "stl"}], "missing ['content']"),
        ([_row("a.doc", "doc", b"x")], "row 0 (a.doc): format 'doc' is not one of"),
        ([{"name": "c", "format": "stl", "content": "%%%"}], "row 0 (c): content is not base64"),
        ([{"format": "stl", "content": ""}], "row 0 (row0): content is empty"),
    ]
    for rows, message in bad:
        with pytest.raises(MlflowException, match=re.escape(message)) as exc:
            decode_rows(pd.DataFrame(rows))
        assert exc.value.get_http_status_code() == 400
    assert set(FORMATS) >= {"stl", "step", "png", "obj", "ply"}


@pytest.fixture(scope="module")
def champion(tmp_path_factory):
    """A ``normals`` model logged as the pyfunc of a run, registered as the champion of
    experiment "serve": (tracking URI, model URI)."""
    import mlflow

    from train.inference.pyfunc import log_pyfunc
    from train.tracking.champion import _logged_model_id

    root = tmp_path_factory.mktemp("serve")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    loaded = nearest_template_normals(CLASSES)
    client = mlflow.MlflowClient(uri)
    exp = client.create_experiment("serve", artifact_location=str(root / "artifacts"))
    run = client.create_run(exp)
    from train.tracking.store import using_tracking_uri

    with using_tracking_uri(uri), mlflow.start_run(run_id=run.info.run_id):
        log_pyfunc(loaded.keras_model, CLASSES, loaded.metaimage, pip_requirements=["mlflow"])
    model_id = _logged_model_id(client.get_run(run.info.run_id), client)
    with using_tracking_uri(uri):  # the registry resolves models:/ through the global URI
        client.create_registered_model("metaview-serve")
        version = client.create_model_version(
            "metaview-serve", f"models:/{model_id}", run_id=run.info.run_id, model_id=model_id
        )
        client.set_registered_model_alias("metaview-serve", "champion", version.version)
    return uri, "models:/metaview-serve@champion"


def test_the_logged_model_loads_as_code_and_predicts_meshes(champion, tmp_path, monkeypatch, gl_ok):
    import mlflow

    uri, model_uri = champion
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    model = mlflow.pyfunc.load_model(model_uri)
    # Models from code: the MLmodel names a script, and no pickle is among its files.
    local = mlflow.artifacts.download_artifacts(model_uri, dst_path=str(tmp_path / "m"))
    mlmodel = open(os.path.join(local, "MLmodel")).read()
    assert "pyfunc_code.py" in mlmodel and "python_model.pkl" not in os.listdir(local)
    assert os.path.isdir(os.path.join(local, "artifacts", "run", "model"))  # weights travel
    part = trimesh.Trimesh(*pocketed_box("y_minus"))
    part.merge_vertices()
    frame = pd.DataFrame(
        [
            _row("p.stl", "stl", _stl("x_plus")),
            _row("q.step", "step", step_text((part.vertices, part.faces)).encode()),
            _row("t.stl", "stl", t_slot(open_ends=False).export(file_type="stl")),
        ]
    )
    out = model.predict(frame)
    assert list(out.columns) == list(OUTPUT_COLUMNS)
    assert list(out["name"]) == ["p.stl", "q.step", "t.stl"]
    assert list(out["label"][:2]) == ["x_plus", "y_minus"]
    assert list(out["reachable"]) == ["x_plus", "y_minus", ""]  # the T-slot: an undercut
    probs = json.loads(out["probabilities"][0])
    assert set(probs) == set(CLASSES) and abs(sum(probs.values()) - 1) < 1e-5
    assert np.isclose(out["probability"][0], max(probs.values()))


def _post(url: str, rows: list[dict]) -> tuple[int, dict]:
    body = json.dumps({"dataframe_records": rows}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.mark.slow
@pytest.mark.tf
def test_mlflow_models_serve_answers_and_keeps_serving_after_a_bad_request(
    champion, tmp_path, gl_ok
):
    uri, model_uri = champion
    exe = os.path.join(os.path.dirname(sys.executable), "mlflow")
    port = _unused_port()
    # MLflow starts uvicorn by name: the environment's bin folder must be on PATH.
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": path}
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [exe, "models", "serve", "-m", model_uri, "--env-manager", "local", "-p", str(port),
         "-h", "127.0.0.1"],
        env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"{url}/ping", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail(
                f"mlflow models serve did not start: {(tmp_path / 'serve.log').read_text()[-3000:]}"
            )
        status, body = _post(f"{url}/invocations", [_row("a.stl", "stl", _stl("z_plus"))])
        assert status == 200, body
        (pred,) = body["predictions"]
        assert (
            pred["label"] == "z_plus" and pred["reachable"] == "z_plus" and pred["name"] == "a.stl"
        )
        status, body = _post(
            f"{url}/invocations", [_row("broken.stl", "stl", b"\x00" * 84 + b"junk")]
        )
        assert 400 <= status < 500, body
        assert "row 0 (broken.stl)" in body.get("message", ""), body
        status, body = _post(f"{url}/invocations", [_row("b.stl", "stl", _stl("x_minus"))])
        assert status == 200 and body["predictions"][0]["label"] == "x_minus", body
    finally:
        stop_server(proc)
        log.close()
