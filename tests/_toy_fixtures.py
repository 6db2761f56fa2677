"""Test data for the tests of trained runs (tracking, inference, runs): helpers, no fixtures.

The fixtures built on these (``toy``, ``four_runs``, ``gl_ok``) are in ``conftest.py``.

- :func:`make_toy_dataset` writes a tiny dataset folder in the layout of
  ``metaview render`` (PNGs, manifest.csv, metaimage.json) whose classes are
  separable by colour: class ``c`` paints blobs whose dominant channel is ``c``.
- :func:`toy_split` splits its parts by class into train/val/test.
- :func:`tiny_classifier` / :func:`train_tiny` build and fit a very small Keras
  classifier with the project's model contract (input (None, S, S, 3) float32
  in [0, 255], softmax output).
- :func:`log_fake_run` logs an MLflow run with exactly the layout that
  ``metaview train`` writes (tags, params, per-epoch and final metrics,
  labels.json, metaimage.json, split.json, the model), so these tests do not
  depend on the training code; :func:`log_metric_run` and :func:`log_history_run`
  are shorter forms of it for selection and ``metaview runs``.
- :func:`cli` runs the ``metaview`` command in-process; :func:`render_in_subprocess`
  renders meshes in a separate Python (GL never shares the test process with TF).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from metaimage.io import write_json, write_manifest, write_png

CLASSES = ("blue", "green", "red")  # sorted: output i is CLASSES[i]
CHANNEL = {"red": 0, "green": 1, "blue": 2}
GRID = (2, 2)
TILE = 8
CONFIG_HASH = "0123456789abcdef"
MODEL_SIZE = 12  # model input size: the 16 px meta-images are resized (area) to 12


def render_config_dict(tile: int = TILE, rows: int = GRID[0], cols: int = GRID[1]) -> dict:
    """The ``config`` entry of metaimage.json: ``RenderConfig.to_dict()``."""
    from render.config import RenderConfig

    return RenderConfig(tile=tile, rows=rows, cols=cols).to_dict()


def metaimage_dict(tile: int = TILE, grid: tuple[int, int] = GRID) -> dict:
    """A metaimage.json dict for a dataset of ``grid`` x ``tile`` px meta-images."""
    rows, cols = grid
    return {
        "format": 1,
        "grid": [rows, cols],
        "tile": tile,
        "image_size": [rows * tile, cols * tile],
        "normals": "object",
        "backend": "egl",
        "config": render_config_dict(tile, rows, cols),
        "config_hash": CONFIG_HASH,
        "versions": {},
        "variants": 1,
        "seed": 0,
    }


def toy_image(label: str, rng: np.random.Generator, tile: int = TILE, grid=GRID) -> np.ndarray:
    """One meta-image of class ``label``: (rows*tile, cols*tile, 3) uint8.

    Every tile holds a blob (a random rectangle) whose channel ``CHANNEL[label]``
    is bright (150..255) and whose other channels are dim (0..70).
    """
    rows, cols = grid
    img = np.zeros((rows * tile, cols * tile, 3), dtype=np.uint8)
    for r in range(rows):
        for c in range(cols):
            h, w = rng.integers(3, tile + 1, size=2)
            y, x = rng.integers(0, tile - h + 1), rng.integers(0, tile - w + 1)
            colour = rng.integers(0, 71, size=3)
            colour[CHANNEL[label]] = rng.integers(150, 256)
            img[r * tile + y : r * tile + y + h, c * tile + x : c * tile + x + w] = colour
    return img


def make_toy_dataset(root: Path, parts_per_class: int = 12, seed: int = 0) -> Path:
    """Write a separable toy dataset folder (see module docstring) and return it."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    rows = []
    for label in CLASSES:
        for i in range(parts_per_class):
            rel = f"{label}/{i:04d}_v0.png"
            write_png(root / rel, toy_image(label, rng))
            rows.append(
                {
                    "path": rel,
                    "label": label,
                    "source": f"{label}/{i:04d}.stl",
                    "part_id": f"{label}/{i:04d}",
                    "variant": 0,
                    "faces_in": 12,
                    "faces_out": 12,
                    "render_s": 0.0,
                    "config_hash": CONFIG_HASH,
                }
            )
    write_manifest(root, rows)
    write_json(root / "metaimage.json", metaimage_dict())
    return root


def toy_split(parts_per_class: int = 12, n_test: int = 4, n_val: int = 2) -> dict:
    """split.json for :func:`make_toy_dataset`: per class, the first parts are test, then val."""
    out = {"seed": 0, "train": [], "val": [], "test": []}
    for label in CLASSES:
        ids = [f"{label}/{i:04d}" for i in range(parts_per_class)]
        out["test"] += ids[:n_test]
        out["val"] += ids[n_test : n_test + n_val]
        out["train"] += ids[n_test + n_val :]
    return out


def read_split_images(dataset: Path, split: dict, which: str, size: int = MODEL_SIZE):
    """(x (n, size, size, 3) float32, y (n,) int, paths) for one split, via train.data."""
    from metaimage.io import read_png
    from train.data import load_split
    from train.pipeline import prepare_images

    paths, labels = load_split(dataset, split, which)
    x = np.asarray(prepare_images(np.stack([read_png(p) for p in paths]), size), dtype=np.float32)
    y = np.array([CLASSES.index(label) for label in labels])
    return x, y, paths


def tiny_classifier(n_classes: int = len(CLASSES), size: int = MODEL_SIZE, seed: int = 0):
    """A ~100-parameter Keras classifier: (None, size, size, 3) float32 0..255 -> softmax."""
    import keras

    keras.utils.set_random_seed(seed)
    inp = keras.Input((size, size, 3), name="image")
    x = keras.layers.Rescaling(1.0 / 255.0)(inp)
    x = keras.layers.Conv2D(6, 3, activation="relu")(x)
    x = keras.layers.GlobalMaxPooling2D()(x)
    out = keras.layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inp, out, name="tiny")


def train_tiny(dataset: Path, split: dict, epochs: int = 20, seed: int = 0):
    """Fit :func:`tiny_classifier` on the toy set's training split; return (model, history dict).

    The history has ``loss``, ``accuracy``, ``val_loss`` and ``val_accuracy`` per epoch
    (validation is evaluated once per epoch on the val split).
    """
    import keras

    x, y, _ = read_split_images(dataset, split, "train")
    xv, yv, _ = read_split_images(dataset, split, "val")
    model = tiny_classifier(seed=seed)
    model.compile(
        optimizer=keras.optimizers.Adam(0.05),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    hist = model.fit(x, y, validation_data=(xv, yv), epochs=epochs, batch_size=len(x), verbose=0)
    return model, hist.history


@contextlib.contextmanager
def tracking_uri(uri: str):
    """Point MLflow's fluent API at ``uri`` and restore the previous URI afterwards."""
    import mlflow
    from mlflow.tracking._tracking_service import utils as tracking_utils

    saved = (getattr(tracking_utils, "_tracking_uri", None), os.environ.get("MLFLOW_TRACKING_URI"))
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        tracking_utils._tracking_uri = saved[0]
        if saved[1] is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = saved[1]


def log_fake_run(
    uri: str,
    *,
    metrics: dict,
    model=None,
    labels=CLASSES,
    metaimage: dict | None = None,
    split: dict | None = None,
    dataset: Path | None = None,
    history: dict | None = None,
    params: dict | None = None,
    experiment: str = "metaview",
    status: str = "FINISHED",
    start_time: int | None = None,
    run_name: str | None = None,
    kind: str = "train",
    artifacts: bool = True,
) -> str:
    """Log a run in the ``metaview train`` layout and return its id.

    Parameters
    ----------
    metrics : dict
        Final metrics (best_val_f1_macro, best_val_loss, test_accuracy, ...).
    model : keras.Model or None
        Logged as ``model`` (mlflow.keras flavour with a signature) when given.
    history : dict or None
        Per-epoch metrics, name -> list of values (step = epoch index).
    start_time : int or None
        Start time in ms since the epoch (to control tie-breaking).
    artifacts : bool
        Log labels.json, metaimage.json, split.json, train_config.json.
    """
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(experiment)
    exp_id = exp.experiment_id if exp else client.create_experiment(experiment)
    tags = {"metaview.kind": kind}
    if dataset is not None:
        tags["metaview.dataset"] = str(Path(dataset).resolve())
    if run_name:
        tags["mlflow.runName"] = run_name
    run = client.create_run(exp_id, start_time=start_time, tags=tags, run_name=run_name)
    run_id = run.info.run_id
    params = {
        "model": "tiny",
        "image_size": MODEL_SIZE,
        "epochs": 3,
        "batch_size": 16,
        **(params or {}),
    }
    now = int(start_time or 0) + 1000
    batch = [Metric(k, float(v), now, 0) for k, v in metrics.items()]
    for name, values in (history or {}).items():
        batch += [Metric(name, float(v), now + i, i) for i, v in enumerate(values)]
    client.log_batch(run_id, metrics=batch, params=[Param(k, str(v)) for k, v in params.items()])
    if artifacts:
        client.log_dict(run_id, list(labels), "labels.json")
        client.log_dict(run_id, metaimage or metaimage_dict(), "metaimage.json")
        client.log_dict(run_id, split or toy_split(), "split.json")
        client.log_dict(run_id, params, "train_config.json")
    if model is not None:
        from mlflow.models import infer_signature

        x = np.zeros((1, *model.input_shape[1:]), dtype=np.float32)
        signature = infer_signature(x, np.asarray(model(x)))
        with tracking_uri(uri):
            # start_run refuses a run of another experiment than the process's active one
            # (set by any earlier set_experiment in this test session): make it this one.
            mlflow.set_experiment(experiment_id=exp_id)
        with tracking_uri(uri), mlflow.start_run(run_id=run_id, experiment_id=exp_id):
            mlflow.keras.log_model(
                model,
                name="model",
                signature=signature,
                pip_requirements=["tensorflow-cpu", "keras"],
            )
            mlflow.end_run(status)
    elif status != "RUNNING":
        client.set_terminated(run_id, status=status, end_time=now + 1000)
    return run_id


@dataclass
class Toy:
    """A trained toy model and the dataset it was trained on (shared by a whole session)."""

    dataset: Path
    split: dict
    model: object
    history: dict

    def log(self, uri: str, f1: float = 0.9, **kwargs) -> str:
        """Log this model as a finished training run with the full layout; return its id."""
        hist = {k: v for k, v in self.history.items() if k in ("val_loss", "loss")}
        hist["val_f1_macro"] = [
            min(1.0, f1 * (i + 1) / len(hist["val_loss"])) for i in range(len(hist["val_loss"]))
        ]
        metrics = {
            "best_val_f1_macro": f1,
            "best_val_loss": 0.1,
            "best_val_accuracy": f1,
            "test_accuracy": f1,
            "test_f1_macro": f1,
        }
        return log_fake_run(
            uri,
            metrics=metrics,
            model=self.model,
            split=self.split,
            dataset=self.dataset,
            history=hist,
            **kwargs,
        )


def cli(argv: list[str]) -> int:
    """Run ``metaview ARGV`` in-process (the real dispatcher) and return its exit code."""
    from metaview.cli import main

    return main(argv)


_RENDER_SCRIPT = """
import json, sys
import render
from metaimage.io import write_png
cfg = render.RenderConfig.from_dict(json.loads(sys.argv[1]))
for src, dst in zip(sys.argv[2::2], sys.argv[3::2]):
    write_png(dst, render.render_file(src, cfg))
"""


def render_in_subprocess(
    config: dict, pairs: list[tuple[Path, Path]]
) -> subprocess.CompletedProcess:
    """Render meshes to PNGs in a separate Python (never in this TF-loaded process: GL crashes)."""
    args = [str(p) for pair in pairs for p in pair]
    return subprocess.run(
        [sys.executable, "-c", _RENDER_SCRIPT, json.dumps(config), *args],
        cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def log_metric_run(f1: float | None = None, loss: float = 0.5, start: int = 1000, **kw) -> str:
    """Log a ``metaview train``-like run with only the selection metrics, to the current store.

    ``f1`` is ``best_val_f1_macro`` (None: the run logs no metric), ``loss``
    ``best_val_loss``, ``start`` the start time in ms; no artifacts, no model.
    """
    metrics = {} if f1 is None else {"best_val_f1_macro": f1, "best_val_loss": loss}
    return log_fake_run(
        os.environ["MLFLOW_TRACKING_URI"], metrics=metrics, start_time=start, artifacts=False, **kw
    )


def log_history_run(
    name: str, f1: float, loss: float, start: int, status: str = "FINISHED", epochs_run: int = 3
) -> str:
    """Log a run with per-epoch val_loss/val_f1_macro and the final metrics ``metaview runs`` shows.

    It ran ``epochs_run`` of 10 epochs (params ``model``, ``image_size`` 64); the final
    metrics derive from ``f1`` (val accuracy f1 + 0.01, test accuracy f1 - 0.02, test
    F1 f1 - 0.03) and ``loss``.
    """
    history = {
        "val_loss": [loss + 0.1 * (epochs_run - i) for i in range(epochs_run)],
        "val_f1_macro": [f1 * (i + 1) / epochs_run for i in range(epochs_run)],
    }
    final = {
        "best_val_f1_macro": f1,
        "best_val_loss": loss,
        "best_val_accuracy": f1 + 0.01,
        "test_accuracy": f1 - 0.02,
        "test_f1_macro": f1 - 0.03,
    }
    return log_fake_run(
        os.environ["MLFLOW_TRACKING_URI"], metrics=final, history=history, start_time=start,
        run_name=name, status=status,
        params={"epochs": 10, "model": "efficientnet-b0", "image_size": 64}, artifacts=False,
    )  # fmt: skip


# Runs a command and prints its peak resident memory in bytes (the largest descendant's,
# which is the metaview process itself: the render worker is not used for PNGs).
_PEAK = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "print('PEAK', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n"
    "sys.exit(code)\n"
)


def run_with_peak(args: list[str], cwd: Path) -> tuple[int, float, str, str]:
    """Run ``metaview ARGS`` in a subprocess: (exit code, peak resident bytes, stdout, stderr)."""
    metaview = [sys.executable, "-c", "from metaview.cli import main; raise SystemExit(main())"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK, *metaview, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    peak = [line for line in proc.stdout.splitlines() if line.startswith("PEAK ")]
    assert peak, f"no peak line; stderr:\n{proc.stderr[-3000:]}"
    out = proc.stdout.replace(peak[-1], "")
    return proc.returncode, float(peak[-1].split()[1]), out, proc.stderr
