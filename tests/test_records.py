"""What a training run records (:mod:`train.records`), through a stand-in run that
records every call: the inputs a run starts from, and what it produced, metrics last."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from _train_fixtures import make_dataset_folder

from train import labelsets, records
from train.config import TrainConfig
from train.models import get_model_spec


class FakeRun:
    """Stands for :class:`train.tracking.TrainRun`: keeps each call, in order.

    A logged file is read when it is logged (its folder is temporary): its name and bytes.
    """

    def __init__(self):
        self.calls: list[tuple] = []

    def log_params(self, params):
        self.calls.append(("params", dict(params)))

    def log_json(self, obj, artifact_file):
        self.calls.append(("json", artifact_file, obj))

    def log_dataset(self, root, digest):
        self.calls.append(("dataset", root, digest))

    def log_files(self, paths, artifact_dir=None):
        files = {Path(p).name: Path(p).read_bytes() for p in paths}
        self.calls.append(("files", artifact_dir, files))

    def log_model(self, model, example):
        self.calls.append(("model", model, example))

    def log_extra(self, what, log_it):
        self.calls.append(("extra", what))

    def log_metrics(self, metrics, step=None):
        self.calls.append(("metrics", dict(metrics)))

    def log_class_scores(self, scores):
        self.calls.append(("class_scores", scores))

    def of(self, kind):
        return [c[1:] for c in self.calls if c[0] == kind]

    def params(self):
        return {k: v for (p,) in self.of("params") for k, v in p.items()}

    def json(self):
        return {name: obj for name, obj in self.of("json")}


def _row(part, label, variant=0):
    return {"part_id": part, "label": label, "path": f"{part}_v{variant}.png"}


def test_log_inputs_records_config_dataset_counts_by_image_and_part_and_the_split(tmp_path):
    labels = ["+X", "_X"]  # one MLflow-safe key each: "_X" and "_X_2"
    rows = {
        "train": [_row("a", "+X"), _row("a", "+X", 1), _row("b", "_X")],
        "val": [_row("c", "+X")],
        "test": [_row("d", "_X"), _row("e", "_X")],
    }
    split = {"seed": 0, "train": ["a", "b"], "val": ["c"], "test": ["d", "e"]}
    meta = {"grid": [2, 2], "tile": 8, "config": {"tile": 8, "normals": "object"}}
    dataset = SimpleNamespace(root=tmp_path / "ds", meta=meta, digest="d1g35t")
    cfg = TrainConfig(model="colour-stats")
    valid = labelsets.ValidSets("reach.csv", {"a": ("+X", "_X")})
    run = FakeRun()

    records.log_inputs(
        run, cfg, dataset, split, rows, labels, {0: 1.5, 1: 0.75}, valid, {"listed": 1}
    )

    p = run.params()
    assert {k: p[k] for k in cfg.to_dict()} == cfg.to_dict()
    assert p["dataset.grid"] == "[2, 2]" and p["dataset.config.normals"] == "object"
    assert p["dataset.path"] == str(dataset.root)
    assert p["family"] == get_model_spec("colour-stats").family and p["n_classes"] == 2
    assert "runtime.resolved" not in p  # a feature-vector family runs no backbone
    # Meta-images and parts per class and split: part a has two variants.
    assert (p["n.train"], p["n.train._X"], p["parts.train._X"]) == (3, 2, 1)
    assert (p["n.train._X_2"], p["parts.train._X_2"]) == (1, 1)
    assert (p["n.val._X_2"], p["n.test._X_2"], p["parts.test._X_2"]) == (0, 2, 2)
    assert (p["class_weight._X"], p["class_weight._X_2"]) == (1.5, 0.75)
    assert any(k.startswith("version.") for k in p)
    assert (p["valid_sets.source"], p["valid_sets.listed"]) == ("reach.csv", 1)
    assert run.json() == {
        "labels.json": labels,
        "metaimage.json": meta,
        "train_config.json": cfg.to_dict(),
        "split.json": split,
    }
    assert run.of("dataset") == [(dataset.root, "d1g35t")]

    # No class weights: 1.0 each; no valid sets found: "labels only". An image model
    # records the runtime its "auto" resolved to.
    from train import runtimes

    run = FakeRun()
    cfg = TrainConfig(model="efficientnet-b0", weights="none")
    records.log_inputs(run, cfg, dataset, split, rows, labels, None, labelsets.ValidSets(), {})
    p = run.params()
    assert (p["class_weight._X"], p["class_weight._X_2"]) == (1.0, 1.0)
    assert p["valid_sets.source"] == "labels only"
    assert p["runtime.resolved"] == runtimes.resolve(cfg.runtime)


@pytest.mark.tf
def test_log_results_logs_outputs_plots_and_the_model_then_metrics_last(tmp_path):
    from train.evaluate import score_test_split
    from train.models import create_model

    labels = ["x_plus", "y_plus"]
    root = make_dataset_folder(tmp_path / "ds", labels=labels, parts_per_class=2, tile=8)
    ds_rows = [
        {"part_id": r.split("_v")[0], "label": r.split("/")[0], "path": r}
        for r in sorted(str(p.relative_to(root)) for p in root.glob("*/*.png"))
    ]
    # Two parts wrong (x_plus/0001, y_plus/0000): the misclassified plot reads their PNGs.
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    y = np.array([labels.index(r["label"]) for r in ds_rows])
    masks = np.eye(2, dtype=bool)[y]
    history = {"loss": [1.0, 0.5], "val_loss": [0.9, 0.6], "val_accuracy": [0.5, 0.75]}
    history["val_f1_macro"] = [0.4, 0.7]
    scores = score_test_split(history, ds_rows, probs, y, masks, labels, False)
    cfg = TrainConfig(model="colour-stats")
    net = create_model("colour-stats", 2, weights="none")
    net.compile(optimizer="adam", loss="categorical_crossentropy")
    example = np.random.default_rng(0).random((2, net.input_shape[1]))
    dataset = SimpleNamespace(root=root, meta={})  # PNGs only: no meshes to explain
    run = FakeRun()

    records.log_results(run, net, example, dataset, labels, history, scores, cfg)

    assert [c[0] for c in run.calls][-2:] == ["metrics", "class_scores"]
    assert run.of("metrics") == [(scores.metrics,)]
    assert run.of("class_scores") == [(scores.class_scores,)]
    j = run.json()
    assert j["history.json"] == history
    assert j["confusion_matrix.json"] == {"labels": labels, "matrix": scores.confusion.tolist()}
    files = {(d, name): data for d, batch in run.of("files") for name, data in batch.items()}
    plots = {"confusion_matrix.png", "training_curves.png", "misclassified.png", "valid_sets.png"}
    assert set(files) == {("plots", name) for name in plots}  # no head.npz: no backbone
    assert all(data.startswith(b"\x89PNG") for data in files.values())
    ((model, logged_example),) = run.of("model")
    assert logged_example.dtype == np.float32
    assert not model.compiled  # the uncompiled twin: loading it needs no custom metrics
    # The twin takes its inputs as a list (net.inputs), the trained model one tensor.
    twin = np.asarray(model([logged_example]))
    np.testing.assert_allclose(twin, np.asarray(net(logged_example)))


@pytest.mark.tf
def test_a_run_logs_explain_pictures_of_its_misclassified_parts(tmp_path, gl_ok):
    import json

    import trimesh
    from _train_fixtures import pocketed_box

    from train.evaluate import score_test_split
    from train.models import create_model

    labels = ["x_plus", "y_plus"]
    root = make_dataset_folder(tmp_path / "ds", labels=labels, parts_per_class=2, tile=8)
    ds_rows = [
        {"part_id": r.split("_v")[0], "label": r.split("/")[0], "path": r,
         "source": r.split("_v")[0] + ".stl"}
        for r in sorted(str(p.relative_to(root)) for p in root.glob("*/*.png"))
    ]  # fmt: skip
    meshes = tmp_path / "parts"
    for r in ds_rows:
        (meshes / r["source"]).parent.mkdir(parents=True, exist_ok=True)
        trimesh.Trimesh(*pocketed_box(r["label"])).export(meshes / r["source"])
    (meshes / ds_rows[2]["source"]).unlink()  # a mesh that has moved: left out, not an error
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])  # parts 1 and 2 wrong
    y = np.array([labels.index(r["label"]) for r in ds_rows])
    history = {"loss": [1.0], "val_loss": [0.9], "val_accuracy": [0.5], "val_f1_macro": [0.4]}
    scores = score_test_split(history, ds_rows, probs, y, np.eye(2, dtype=bool)[y], labels, False)
    net = create_model("normals", 2, weights="none")
    example = np.zeros((2, net.input_shape[1]))
    dataset = SimpleNamespace(root=root, meta={"source_dir": str(meshes)})
    run = FakeRun()

    records.log_results(
        run, net, example, dataset, labels, history, scores, TrainConfig(model="normals")
    )

    files = {(d, name): data for d, batch in run.of("files") for name, data in batch.items()}
    explained = {name for d, name in files if d == "explain"}
    assert explained == {"0001.png", "index.html", "explain.json"}
    summary = json.loads(files[("explain", "explain.json")])
    assert [s["label"] for s in summary] == ["y_plus"]  # what the run predicted, not the truth
    assert summary[0]["reachable"] == ["x_plus"] and summary[0]["disagrees"]
    assert files[("explain", "0001.png")].startswith(b"\x89PNG")
