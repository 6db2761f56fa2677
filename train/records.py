"""What a training run records in MLflow, through :class:`train.tracking.TrainRun`.

:func:`log_inputs` logs what a run starts from (params, labels, the configs, the split,
the dataset's lineage) when it opens; :func:`log_results` what it produced (history,
confusion matrix, plots, the model and its compact head, metrics, per-class scores)
when training and evaluation are done.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from metaimage.io import read_png
from train import tracking
from train.data import SPLITS
from train.evaluate import Evaluation
from train.features.views import VIEW_FAMILIES
from train.models import get_model_spec
from train.plots.confusion import plot_confusion_matrix
from train.plots.misclassified import MAX_MISCLASSIFIED, plot_misclassified
from train.plots.set_scores import plot_set_scores
from train.plots.training_curves import plot_training_curves
from train.split import class_counts


def log_inputs(
    run, cfg, dataset, split, rows, labels, class_weight, valid, set_counts: dict[str, int]
) -> None:
    """Log what a run starts from: params, labels, configs, the split, the dataset's lineage.

    Parameters
    ----------
    run : train.tracking.TrainRun
    cfg : TrainConfig
        The resolved config.
    dataset : train.data.Dataset
    split : dict
        The split by part (:func:`train.split.split_parts`), logged as ``split.json``.
    rows : dict
        Split name -> its manifest rows.
    labels : list of str
        Class names in model output order.
    class_weight : dict or None
        Class index -> weight; None logs 1.0 for every class.
    valid : train.labelsets.ValidSets
        The valid sets found (``valid_sets.source``).
    set_counts : dict
        What :func:`train.labelsets.set_masks` counts over the dataset's parts.
    """
    params: dict[str, Any] = dict(cfg.to_dict())
    params.update(tracking.flatten(dataset.meta, "dataset."))
    params["dataset.path"] = str(dataset.root)
    params["family"] = get_model_spec(cfg.model).family
    if (
        get_model_spec(cfg.model).input_kind != "features"
        # Their backbone runs on a runtime too.
        or get_model_spec(cfg.model).features in VIEW_FAMILIES
    ):
        from train.runtimes import resolve

        params["runtime.resolved"] = resolve(cfg.runtime)  # what "auto" was on this machine
    params["n_classes"] = len(labels)
    key = tracking.class_keys(labels)  # MLflow-safe and unique ("+X", "_X" -> "_X", "_X_2")
    for s in SPLITS:
        counts = class_counts(rows[s], labels)
        parts = {lab: len({r["part_id"] for r in rows[s] if r["label"] == lab}) for lab in labels}
        params[f"n.{s}"] = len(rows[s])
        for lab in labels:
            params[f"n.{s}.{key[lab]}"] = counts[lab]
            params[f"parts.{s}.{key[lab]}"] = parts[lab]
    for i, lab in enumerate(labels):
        params[f"class_weight.{key[lab]}"] = round(class_weight[i], 6) if class_weight else 1.0
    for pkg, version in tracking.library_versions().items():
        params[f"version.{pkg}"] = version
    run.log_params(params)
    run.log_json(labels, "labels.json")
    run.log_json(dataset.meta, "metaimage.json")
    run.log_json(cfg.to_dict(), "train_config.json")
    run.log_json(split, "split.json")
    run.log_dataset(dataset.root, dataset.digest)  # lineage: the input, by content digest
    run.log_params(
        {
            "valid_sets.source": valid.source or "labels only",
            **{f"valid_sets.{k}": v for k, v in set_counts.items()},
        }
    )


def log_results(run, net, example, dataset, labels, history, scores: Evaluation, cfg) -> None:
    """Log what a run produced, metrics last.

    Parameters
    ----------
    run : train.tracking.TrainRun
    net : keras.Model
        The trained image (or feature-vector) model.
    example : (2, ...) array
        Two of its inputs, for the logged model's signature.
    dataset : train.data.Dataset
    labels : list of str
        Class names in model output order.
    history : dict
        Per-epoch metric lists.
    scores : Evaluation
        The test split's scores (:func:`train.evaluate.score_test_split`).
    cfg : TrainConfig
        The resolved config (model, runtime, objective).
    """
    _log_outputs(
        run,
        net,
        example,
        dataset,
        scores.part_rows,
        labels,
        history,
        scores.confusion,
        scores.part_probs,
    )
    spec = get_model_spec(cfg.model)
    if spec.input_kind != "features" or spec.features in VIEW_FAMILIES:
        _log_compact_head(run, net, cfg.runtime, dataset, spec.features)
    _log_set_plot(run, scores.set_scores, scores.top_valid, cfg.objective)
    run.log_metrics(scores.metrics)
    run.log_class_scores(scores.class_scores)


def _log_outputs(run, net, example, dataset, test_rows, labels, history, cm, probs) -> None:
    import keras

    run.log_json(history, "history.json")
    run.log_json({"labels": labels, "matrix": cm.tolist()}, "confusion_matrix.json")
    index = {label: i for i, label in enumerate(labels)}
    y_true = np.asarray([index[r["label"]] for r in test_rows])
    y_pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(y_pred != y_true)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        files = [
            plot_confusion_matrix(cm, labels, out / "confusion_matrix.png", "test split"),
            plot_training_curves(history, out / "training_curves.png"),
        ]
        shown = wrong[:MAX_MISCLASSIFIED]
        files.append(
            plot_misclassified(
                [read_png(dataset.root / test_rows[i]["path"]) for i in shown],
                [labels[y_true[i]] for i in shown],
                [labels[y_pred[i]] for i in shown],
                [float(probs[i, y_pred[i]]) for i in shown],
                out / "misclassified.png",
                names=[test_rows[i]["path"] for i in shown],  # class folder/file
            )
        )
        run.log_files(files, "plots")
        explained = _explain_misclassified(
            net, dataset, test_rows, labels, probs, wrong, out / "explain"
        )
        if explained:
            run.log_files(explained, "explain")
    # Log an uncompiled twin (same layers and weights): loading it needs no custom metric classes.
    inference = keras.Model(net.inputs, net.outputs, name=net.name)
    run.log_model(inference, np.asarray(example, dtype=np.float32))
    from train.inference.pyfunc import log_pyfunc
    from train.tracking.provenance import default_pip_requirements

    run.log_extra(
        "log the served model",
        lambda: log_pyfunc(inference, labels, dataset.meta, default_pip_requirements()),
    )


#: At most this many misclassified test parts are explained (a picture each) in a run.
MAX_EXPLAINED = 6


def _explain_misclassified(net, dataset, test_rows, labels, probs, wrong, out: Path) -> list[Path]:
    """Explain pictures of the first misclassified test parts whose meshes are at hand.

    The parts' meshes are the dataset's sources (``metaimage.json``'s ``source_dir``); a
    dataset of plain PNGs, or one whose meshes have moved, has none and gets no pictures.
    Each costs about 2 s (its geometry, a meta-image and Grad-CAM), so at most
    :data:`MAX_EXPLAINED`. Returns the files to log: the pictures, ``index.html`` and
    ``explain.json``; none when nothing was explained.
    """
    source_dir = str(dataset.meta.get("source_dir") or "")
    if not source_dir or not len(wrong):
        return []
    from train.explain.report import INDEX, SUMMARY, explain_files
    from train.inference.loaded import LoadedModel
    from train.inference.loading import model_features
    from train.inference.prediction import Prediction
    from train.inference.reachability import add_reach
    from train.models import classifier

    preds = []
    for i in wrong:
        path = Path(source_dir) / str(test_rows[i].get("source") or "")
        if not path.is_file():
            continue
        p = np.asarray(probs[i], dtype=np.float64)
        order = np.argsort(-p, kind="stable")
        pred = Prediction(
            file=str(path),
            label=labels[int(order[0])],
            probability=float(p[order[0]]),
            probabilities={labels[int(k)]: float(p[k]) for k in order},
        )
        add_reach(pred)
        preds.append(pred)
        if len(preds) == MAX_EXPLAINED:
            break
    if not preds:
        return []
    features = model_features(tuple(net.input_shape))
    loaded = LoadedModel(
        net,
        list(labels),
        dataset.meta,
        0 if features else classifier.input_size(net),
        None,
        "this run",
        features=features,
    )
    items = explain_files([p.file for p in preds], loaded, out, predictions=preds)
    return [out / it.picture for it in items if it.picture] + [out / INDEX, out / SUMMARY]


def _log_set_plot(run, per_direction, top_valid: float, objective: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "valid_sets.png"
        title = f"--objective {objective}: predicted sets against valid sets (test parts)"
        run.log_files([plot_set_scores(per_direction, top_valid, path, title)], "plots")


def _log_compact_head(run, net, runtime: str, dataset, features: str = "") -> None:
    """Log ``head.npz``, with which prediction skips TensorFlow (:mod:`train.inference.compact`).

    A view-pooled family's head names the per-tile backbone its features came from (built
    again here to name it: its weights are the package's)."""
    from train.inference.compact import HEAD_ARTIFACT, write_head
    from train.runtimes import resolve

    resolved = resolve(runtime)
    extra: dict[str, Any] = {}
    if features and resolved != "tensorflow":
        from train.features import views
        from train.models.efficientnet_lite import build_tile_backbone

        meta = dict(dataset.meta)
        (rows, cols), _ = views.grid_and_seed(meta)
        size = max(int(v) for v in meta["image_size"])
        extra = {
            "backbone": build_tile_backbone(views.BACKBONE, size, rows, cols),
            "image_size": size,
            "features": features,
        }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / HEAD_ARTIFACT
        if write_head(net, resolved, path, **extra):
            run.log_files([path])
