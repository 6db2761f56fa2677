"""`metaview export`: TFLite in every mode, evaluated and logged; predict with the .tflite file.

Covers train.inference.export (with the steps it runs: calibration, convert, evaluation,
writing) and train.inference.tflite (TFLiteModel).
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
from _toy_fixtures import (
    CLASSES,
    MODEL_SIZE,
    cli,
    log_fake_run,
    metaimage_dict,
    read_split_images,
)

from train import tracking
from train.errors import TrainError
from train.inference import TFLiteModel

pytestmark = pytest.mark.tf

MODES = [
    ("float32", None),
    ("float16", None),
    ("dynamic", None),
    ("int8", None),  # int8 inputs and outputs by default
    ("int8", "uint8"),
    ("int8", "float32"),
]


def _uri() -> str:
    return os.environ["MLFLOW_TRACKING_URI"]


def _tensor_dtypes(tfl) -> set[str]:
    return {np.dtype(t["dtype"]).name for t in tfl.interpreter.get_tensor_details()}


@pytest.mark.parametrize("mode, io_type", MODES, ids=[f"{m}-{io}" for m, io in MODES])
def test_export_every_mode(toy, tmp_path, mode, io_type):
    from mlflow import MlflowClient

    from train.inference.export import export_model

    run_id = toy.log(_uri())
    out = tmp_path / "models" / f"{mode}.tflite"

    report = export_model(out, mode, io_type)

    want_io = io_type or ("int8" if mode == "int8" else "float32")
    assert report.run_id == run_id and report.mode == mode and report.io_type == want_io
    assert out.stat().st_size == report.size_bytes > 0
    assert report.n_test == 12 and report.n_representative == (18 if mode == "int8" else 0)
    assert report.keras_accuracy == 1.0  # the toy set is separable
    assert report.accuracy >= 0.9 and report.agreement >= 0.9
    assert report.latency_ms > 0 and report.keras_latency_ms > 0 and report.keras_size_bytes > 0

    sidecar = json.loads(out.with_name(out.name + ".json").read_text())
    assert sidecar["labels"] == list(CLASSES)
    assert sidecar["image_size"] == MODEL_SIZE and sidecar["features"] == ""  # an image model
    assert sidecar["metaimage"]["grid"] == [2, 2] and "config" in sidecar["metaimage"]
    assert sidecar["run_id"] == run_id
    assert sidecar["quantization"]["mode"] == mode
    assert sidecar["quantization"]["io_type"] == want_io
    assert sidecar["quantization"]["input"]["dtype"] == want_io

    tfl = TFLiteModel(out)
    assert (tfl.image_size, tfl.features_dim) == (MODEL_SIZE, 0)
    assert tfl.input_dtype.name == want_io and tfl.output_dtype.name == want_io
    if want_io != "float32":
        scale, zero = tfl.input["quantization"]
        assert scale > 0 and sidecar["quantization"]["input"]["zero_point"] == zero
    dtypes = _tensor_dtypes(tfl)
    if mode == "int8":
        assert "int8" in dtypes
    if mode == "float16":
        assert "float16" in dtypes  # weights stored as float16
    # (dynamic range leaves this model's tiny weights in float32: under TFLite's size cut-off.)

    key = report.key
    run = MlflowClient(_uri()).get_run(run_id)
    for name in ("accuracy", "size_bytes", "latency_ms", "agreement"):
        assert f"export.{key}.{name}" in run.data.metrics
    assert run.data.metrics[f"export.{key}.size_bytes"] == report.size_bytes
    assert run.data.metrics["keras.accuracy"] == 1.0
    assert {"keras.size_bytes", "keras.latency_ms"} <= set(run.data.metrics)
    artifacts = {f.path for f in MlflowClient(_uri()).list_artifacts(run_id)}
    assert f"export_{key}.json" in artifacts
    logged = tracking.read_run_json(MlflowClient(_uri()), run_id, f"export_{key}.json")
    assert logged["size_bytes"] == report.size_bytes and logged["mode"] == mode


def test_int8_agrees_with_keras_and_predict_gives_the_same_classes(toy, tmp_path, capsys):
    """On the separable toy set the full-integer model agrees with Keras on >= 90% of test inputs,
    and `predict --model X.tflite` gives the same top class as the Keras run."""
    from train.inference.export import export_model

    run_id = toy.log(_uri())
    x, y, paths = read_split_images(toy.dataset, toy.split, "test")
    keras_top = np.asarray(toy.model(x)).argmax(1)
    assert (keras_top == y).all()

    for mode, io_type in (("int8", "int8"), ("int8", "uint8"), ("float32", None)):
        out = tmp_path / f"{mode}-{io_type}.tflite"
        export_model(out, mode, io_type, spec=run_id)
        tflite_top = TFLiteModel(out).predict(x).argmax(1)
        assert np.mean(tflite_top == keras_top) >= 0.9

        assert cli(["predict", "--model", str(out), "--json", *map(str, paths)]) == 0
        by_tflite = json.loads(capsys.readouterr().out)
        assert cli(["predict", "--model", run_id, "--json", *map(str, paths)]) == 0
        by_keras = json.loads(capsys.readouterr().out)
        assert [r["label"] for r in by_tflite] == [r["label"] for r in by_keras]
        assert [r["label"] for r in by_keras] == [CLASSES[i] for i in keras_top]
        assert by_tflite[0]["model"] == str(out)


@pytest.mark.gl
def test_predict_stl_with_a_tflite_file(toy, gl_ok, tmp_path, capsys):
    import trimesh

    from train.inference.export import export_model

    run_id = toy.log(_uri())
    out = tmp_path / "m.tflite"
    export_model(out, "int8", "int8", spec=run_id)
    stl = tmp_path / "part.stl"
    trimesh.creation.annulus(r_min=0.3, r_max=1.0, height=0.5).export(stl)

    assert cli(["predict", "--model", str(out), "--json", str(stl)]) == 0
    by_tflite = json.loads(capsys.readouterr().out)[0]
    assert cli(["predict", "--model", run_id, "--json", str(stl)]) == 0
    by_keras = json.loads(capsys.readouterr().out)[0]
    assert by_tflite["error"] is None and by_tflite["label"] in CLASSES
    assert by_tflite["label"] == by_keras["label"]
    # The sidecar carries the render config: without it the .tflite file is refused.
    shutil.copy(out, tmp_path / "bare.tflite")
    assert cli(["predict", "--model", str(tmp_path / "bare.tflite"), str(stl)]) == 1
    assert "sidecar bare.tflite.json" in capsys.readouterr().err


def test_cli_export_prints_the_comparison(toy, tmp_path, capsys):
    toy.log(_uri())
    out = tmp_path / "model.tflite"
    assert (
        cli(["export", "--model", "best", "--quantize", "int8", "--io-type", "uint8", str(out)])
        == 0
    )
    text = capsys.readouterr().out
    assert f"wrote {out} (int8, uint8 I/O)" in text
    lines = {line.split()[0]: line.split() for line in text.splitlines() if line.strip()}
    assert lines["keras"][1] == "1.000" and float(lines["tflite"][1]) >= 0.9
    assert out.exists() and (tmp_path / "model.tflite.json").exists()


# --------------------------------------------------------------------------- bad input


def test_model_without_a_test_split_is_refused(toy, tmp_path, capsys):
    from train.inference.export import export_model
    from train.inference.export_options import ExportError

    empty_test = {**toy.split, "test": []}
    run_id = log_fake_run(
        _uri(), metrics={"best_val_f1_macro": 0.9}, model=toy.model, split=empty_test,
        dataset=toy.dataset,
    )  # fmt: skip
    with pytest.raises(ExportError, match="model without a test split"):
        export_model(tmp_path / "m.tflite", "float32", spec=run_id)
    assert cli(["export", "--model", run_id, str(tmp_path / "m.tflite")]) == 1
    assert "model without a test split" in capsys.readouterr().err
    assert not (tmp_path / "m.tflite").exists()

    # A model that is not an MLflow run has no split at all.
    keras_dir = tmp_path / "k"
    keras_dir.mkdir()
    toy.model.save(keras_dir / "m.keras")
    (keras_dir / "labels.json").write_text(json.dumps(list(CLASSES)))
    (keras_dir / "metaimage.json").write_text(json.dumps(metaimage_dict()))
    with pytest.raises(ExportError, match="model without a test split"):
        export_model(tmp_path / "m.tflite", "float32", spec=str(keras_dir / "m.keras"))


def test_missing_dataset_and_tflite_input_are_refused(toy, tmp_path):
    from train.inference.export import export_model
    from train.inference.export_options import ExportError

    moved = tmp_path / "moved"
    shutil.copytree(toy.dataset, moved)
    run_id = log_fake_run(
        _uri(), metrics={"best_val_f1_macro": 0.9}, model=toy.model, split=toy.split,
        dataset=tmp_path / "gone",
    )  # fmt: skip
    with pytest.raises(ExportError, match="pass --dataset DIR"):
        export_model(tmp_path / "m.tflite", "float32", spec=run_id)
    report = export_model(tmp_path / "m.tflite", "float32", spec=run_id, dataset=moved)
    assert report.accuracy == 1.0
    with pytest.raises(TrainError, match="already a TFLite model"):
        export_model(tmp_path / "again.tflite", "float32", spec=str(tmp_path / "m.tflite"))


def test_dataset_of_another_render_config_is_refused(toy, tmp_path):
    """The same parts rendered again with another config: the model was not trained on that."""
    from metaimage.io import read_json, read_manifest, write_json, write_manifest
    from train.inference.export import export_model
    from train.inference.export_options import ExportError

    toy.log(_uri())
    moved = tmp_path / "rerendered"
    shutil.copytree(toy.dataset, moved)
    meta = read_json(moved / "metaimage.json")
    meta["config_hash"] = "ffffffffffffffff"
    write_json(moved / "metaimage.json", meta)
    rows = read_manifest(moved)
    write_manifest(moved, [{**r, "config_hash": "ffffffffffffffff"} for r in rows])
    with pytest.raises(ExportError, match=r"rendered with config ffffffffffffffff, but runs:/"):
        export_model(tmp_path / "m.tflite", "float32", dataset=moved)


# --------------------------------------------------------------------------- feature families


def _train_family(root, model: str, **cfg):
    """Train a feature-vector run on ``root`` in this test's store; return its run id."""
    from train import fit
    from train.config import TrainConfig

    cfg = TrainConfig(model=model, epochs=15, batch_size=4, learning_rate=0.01, **cfg)
    return fit.train(cfg, root, tracking_uri=_uri()).run_id


def test_colour_stats_run_exports_in_float32_and_int8_and_predicts_like_keras(tmp_path, capsys):
    """A colour-stats model takes (n, 19899) features: exported, calibrated and evaluated on
    the family's features, its sidecar names the family, and the .tflite file predicts the
    test meta-images' colour features as the Keras model does, through load_model and predict."""
    from _train_fixtures import make_dataset_folder

    from metaimage.io import read_png
    from train.data import load_split
    from train.features import colour_features, colour_features_dim
    from train.inference import load_model
    from train.inference.export import export_model

    root = make_dataset_folder(tmp_path / "ds", parts_per_class=10, tile=16)
    run_id = _train_family(root, "colour-stats")
    split = tracking.read_run_json(tracking.make_client(_uri()), run_id, "split.json")
    paths, labels = load_split(root, split, "test")
    n_train = len(load_split(root, split, "train")[0])  # under 100: every one calibrates int8
    x = np.stack([colour_features(read_png(p), 2, 2) for p in paths]).astype(np.float32)
    keras_model = load_model(run_id)
    assert keras_model.features == "colour-stats" and keras_model.image_size == 0
    keras_top = keras_model.predict(x).argmax(1)
    assert [keras_model.labels[i] for i in keras_top] == labels  # the colours separate the classes

    for mode in ("float32", "int8"):
        out = tmp_path / f"{mode}.tflite"
        report = export_model(out, mode, spec=run_id)
        assert report.features == "colour-stats" and report.n_test == len(paths)
        assert report.n_representative == (n_train if mode == "int8" else 0)
        assert report.keras_accuracy == 1.0 and report.accuracy == 1.0 and report.agreement == 1.0
        assert report.latency_ms > 0 and report.keras_latency_ms > 0

        sidecar = json.loads(out.with_name(out.name + ".json").read_text())
        assert sidecar["features"] == "colour-stats" and sidecar["image_size"] == 0
        assert sidecar["report"]["features"] == "colour-stats"
        tfl = TFLiteModel(out)
        assert (tfl.image_size, tfl.features_dim) == (0, colour_features_dim())
        assert tfl.input_dtype.name == ("int8" if mode == "int8" else "float32")

        loaded = load_model(str(out))
        assert loaded.kind == "tflite" and loaded.features == "colour-stats"
        np.testing.assert_array_equal(loaded.predict(x).argmax(1), keras_top)
        with pytest.raises(TrainError, match=r"expected inputs of shape \(n, 19899\)"):
            tfl.predict(x[:, :10])

        assert cli(["predict", "--model", str(out), "--json", *map(str, paths)]) == 0
        assert [r["label"] for r in json.loads(capsys.readouterr().out)] == labels


def test_normals_run_exports_with_its_meshes_found_or_pointed_at(tmp_path, capsys):
    """A normals model reads the meshes behind the dataset: at the recorded source_dir, or at
    --meshes DIR once they moved (without it, the error says so)."""
    import trimesh
    from _train_fixtures import make_dataset_folder

    from metaimage.io import read_json, write_json
    from train.features import NORMAL_FEATURES_DIM
    from train.inference.export import export_model

    root = make_dataset_folder(tmp_path / "ds", parts_per_class=8, tile=8)
    meshes = tmp_path / "parts"
    rng = np.random.default_rng(0)
    for label, shape in (("x_plus", trimesh.creation.box), ("y_plus", trimesh.creation.cylinder)):
        (meshes / label).mkdir(parents=True)
        for i in range(8):
            size = rng.uniform(0.5, 2.0, size=3)
            mesh = (
                shape(extents=size) if label == "x_plus" else shape(radius=size[0], height=size[1])
            )
            mesh.export(meshes / label / f"{i:04d}.stl")
    meta = read_json(root / "metaimage.json")
    write_json(root / "metaimage.json", {**meta, "source_dir": str(meshes)})
    run_id = _train_family(root, "normals")

    report = export_model(tmp_path / "f.tflite", "float32", spec=run_id)  # at source_dir
    assert report.features == "normals" and report.keras_accuracy == 1.0
    assert report.accuracy == 1.0 and report.agreement == 1.0

    moved = meshes.rename(tmp_path / "moved")
    with pytest.raises(TrainError, match=r"mesh not found .* pass their folder with --meshes DIR"):
        export_model(tmp_path / "g.tflite", "float32", spec=run_id)
    out = tmp_path / "int8.tflite"
    argv = ["export", "--model", run_id, "--quantize", "int8", "--meshes", str(moved), str(out)]
    assert cli(argv) == 0
    text = capsys.readouterr().out
    assert "test inputs (normals features)" in text
    assert float(text.split("top-1 agreement with keras:")[1]) >= 0.9
    sidecar = json.loads((tmp_path / "int8.tflite.json").read_text())
    assert sidecar["features"] == "normals" and sidecar["quantization"]["input"]["dtype"] == "int8"
    assert TFLiteModel(out).features_dim == NORMAL_FEATURES_DIM
