"""Train one classifier on a dataset folder and record it as one MLflow run.

:func:`train` is the whole of ``metaview train``:

1. read and check the dataset, split it by part (:mod:`train.data`);
2. build the model by name (:func:`train.models.create_model`) or start from a
   previous run's (``init_from``, loaded by :mod:`train.inference.loading`);
3. phase 1: fit with early stopping on ``val_loss`` (best weights restored),
   ReduceLROnPlateau, class weights and tile shuffling; a NaN loss stops the
   run with :class:`TrainError`;
4. phase 2 (``fine_tune_layers > 0``, pretrained backbones only): unfreeze the
   top of the backbone, BatchNorm kept frozen, at a low learning rate;
5. evaluate on the test split; write plots, confusion matrix, history, and
   log everything, the model included, through :mod:`train.tracking`;
6. offer the run to the model registry (:meth:`train.tracking.TrainRun.promote`).

Per-epoch metrics are :func:`train.metrics.make_metrics`: exact over each epoch,
for train and validation alike, ignoring the class weights.

Why one module of this size: the training loop read top to bottom (as nanoGPT's train.py):
features or images, head or whole network, phase 2, evaluation by part and what is logged;
metrics, plots, tracking and featurisation live in their own modules.
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from metaimage.io import read_png
from train import console, labelsets, plots, tracking
from train import data as data_mod
from train.batching import images_per_batch
from train.config import TrainConfig
from train.errors import TrainError
from train.metrics import confusion_matrix, make_metrics, scores_from_confusion
from train.models import classifier, create_model, get_model_spec, native_size

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What a finished training run produced.

    Attributes
    ----------
    run_id, experiment_id, tracking_uri, artifact_uri : str
        Where the run lives in MLflow.
    metrics : dict
        The final metrics logged (``best_*``, ``test_*``, ``train_seconds``).
    labels : list of str
        Class names in model output order.
    config : TrainConfig
        The resolved config (``image_size`` filled in).
    history : dict
        Per-epoch metric lists, phase 1 then phase 2.
    promoted : bool
        Whether the model registry made this run the champion.
    class_scores : dict
        Test precision, recall and F1 of each class, keyed by the class name
        (``{"+X": {"precision": ..., "recall": ..., "f1": ...}}``), in output order.
    """

    run_id: str
    experiment_id: str
    tracking_uri: str
    artifact_uri: str
    metrics: dict[str, float]
    labels: list[str]
    config: TrainConfig
    history: dict[str, list[float]] = field(default_factory=dict)
    promoted: bool = False
    class_scores: dict[str, dict[str, float]] = field(default_factory=dict)


# -- training -----------------------------------------------------------------------------------


def train(
    cfg: TrainConfig,
    dataset_dir: str | Path,
    *,
    tracking_uri: str | None = None,
    experiment: str | None = None,
    run_name: str | None = None,
    verbose: int = 0,
) -> TrainResult:
    """Train a classifier on a rendered dataset folder and log one MLflow run.

    Parameters
    ----------
    cfg : TrainConfig
    dataset_dir : path
        A folder written by ``metaview render``.
    tracking_uri : str, optional
        Default ``$MLFLOW_TRACKING_URI`` or ``sqlite:///mlflow.db`` in the cwd.
    experiment : str, optional
        Default ``$MLFLOW_EXPERIMENT_NAME`` or ``"metaview"``.
    run_name : str, optional
    verbose : int
        Keras ``fit`` verbosity (1 = a progress bar per epoch).

    Returns
    -------
    TrainResult

    Raises
    ------
    DatasetError
        For a bad dataset folder (before any run is started).
    TrainError
        For weights that cannot be had, a bad ``init_from`` run (before any
        run is started), or a NaN loss (the run ends FAILED).
    """
    t_start = time.perf_counter()
    # A tracking server that is down: an error now, before minutes of work.
    tracking.open_store(tracking_uri)
    grid = data_mod.parse_grid(cfg.grid) if cfg.grid else None
    valid = _find_valid_sets(cfg, dataset_dir)
    dataset = data_mod.load_dataset(dataset_dir, grid=grid, labels_for=valid.primary_labels())
    if not dataset.grid_known and cfg.shuffle_tiles:
        log.info("%s: the grid is unknown (no metaimage.json): no tile shuffling", dataset.root)
    split = data_mod.split_parts(
        dataset.part_labels(), cfg.val_fraction, cfg.test_fraction, cfg.seed, dataset.test_parts
    )
    rows = {s: data_mod.split_rows(dataset, split, s) for s in data_mod.SPLITS}
    for s in data_mod.SPLITS:
        if not rows[s]:
            raise TrainError(
                f"{dataset.root}: the {s} split is empty; check test_parts.txt and the fractions"
            )
    labels = list(dataset.labels)
    index = {label: i for i, label in enumerate(labels)}
    spec = get_model_spec(cfg.model)

    import keras

    if run_name is None:
        # Named here: seeding Python's random below would give every run with the
        # same seed the same MLflow-generated name.
        run_name = f"{cfg.model}-{time.strftime('%Y%m%d-%H%M%S')}"
    keras.utils.set_random_seed(cfg.seed)
    net, cfg, backbone_frozen = _initial_model(cfg, labels, tracking_uri, dataset)
    # A frozen backbone (or a feature-vector family) trains its head on cached features.
    on_features = classifier.is_feature_model(net) or backbone_frozen
    size = cfg.image_size

    # Each meta-image's valid set (its part's) and training target for cfg.objective.
    masks = {
        s: labelsets.set_masks(
            [r["part_id"] for r in rows[s]], [r["label"] for r in rows[s]], labels, valid
        )[0]
        for s in rows
    }
    ys = {s: np.asarray([index[r["label"]] for r in rows[s]], dtype=np.int32) for s in rows}
    targets = {s: labelsets.targets(ys[s], masks[s], cfg.objective) for s in rows}
    set_counts = _part_counts(dataset, valid, labels)
    log.info("%s", labelsets.describe(set_counts, valid.source, len(dataset.part_labels())))
    # One sigmoid per direction for valid sets; softmax otherwise (a run started from a
    # sets model and trained on labels turns back to softmax).
    classifier.set_output_activation(net, "sigmoid" if cfg.objective == "sets" else "softmax")

    def _ds(which: str, training: bool):
        # Inference batches (validation, test) are bounded by pixels, as prediction's are.
        batch = cfg.batch_size if training else images_per_batch(size, most=cfg.batch_size)
        return data_mod.make_dataset(
            [dataset.root / r["path"] for r in rows[which]],
            targets[which],
            image_size=size,
            grid=dataset.grid,
            batch_size=batch,
            training=training,
            shuffle_tiles=cfg.shuffle_tiles,
            seed=cfg.seed,
        )

    # A PNG that TensorFlow cannot decode: an error that names it, not InvalidArgumentError.
    png_paths = [dataset.root / r["path"] for s in rows for r in rows[s]]
    feats = None
    if on_features:
        with data_mod.naming_bad_files(png_paths):
            feats = _split_features(net, spec, cfg, dataset, rows)
    weights = data_mod.class_weights(rows["train"], labels) if cfg.class_weights else None

    run = tracking.TrainRun(
        tracking_uri, experiment, run_name, tags={tracking.DATASET_TAG: str(dataset.root)}
    )
    with run, data_mod.naming_bad_files(png_paths):
        _log_inputs(run, cfg, dataset, split, rows, labels, weights)
        run.log_params(
            {
                "valid_sets.source": valid.source or "labels only",
                **{f"valid_sets.{k}": v for k, v in set_counts.items()},
            }
        )
        if on_features:
            head, history = fit_head(
                net,
                cfg,
                (feats["train"], targets["train"]),
                (feats["val"], targets["val"]),
                class_weight=weights,
                run=run,
                verbose=verbose,
                adapt=not cfg.init_from,  # a model started from keeps its statistics
                phase2=None if classifier.is_feature_model(net) else _ds,
            )
        else:
            history = fit_images(
                net,
                cfg,
                _ds("train", True),
                _ds("val", False),
                class_weight=weights,
                run=run,
                verbose=verbose,
                init_statistics=not cfg.pretrained and not cfg.init_from,
            )
        if on_features and not history.get("phase2_ran"):
            probs = np.asarray(head.predict(feats["test"], verbose=0), dtype=np.float64)
            example = feats["test"][:2] if classifier.is_feature_model(net) else None
        else:
            probs = np.asarray(net.predict(_ds("test", False), verbose=0), dtype=np.float64)
            example = None
        history.pop("phase2_ran", None)
        if example is None:
            example = next(iter(_ds("test", False)))[0][:2].numpy()
        metrics = _best_epoch_metrics(history)
        # A part is judged once: the mean of its meta-images' probabilities (its variants).
        part_rows, part_probs = per_part(rows["test"], probs)
        part_y = np.asarray([index[r["label"]] for r in part_rows])
        test_metrics, class_scores, cm = _evaluate(part_probs, part_y, labels)
        metrics.update(test_metrics)
        # Against each part's valid set: is the top answer a valid direction, and how well
        # does the predicted set match (a softmax model names its top direction alone).
        first = _first_rows(rows["test"])
        set_metrics, set_scores = labelsets.set_scores(
            part_probs, masks["test"][first], labels, cfg.objective == "sets"
        )
        metrics.update({f"test_{k}": v for k, v in set_metrics.items()})
        for label, scores in set_scores.items():
            class_scores[label].update(scores)
        metrics["test_image_accuracy"] = float(np.mean(probs.argmax(axis=1) == ys["test"]))
        metrics["train_seconds"] = time.perf_counter() - t_start
        _log_outputs(run, net, example, dataset, part_rows, labels, history, cm, part_probs)
        if spec.input_kind != "features":
            _log_compact_head(run, net, cfg.runtime)
        _log_set_plot(run, set_scores, set_metrics["top_valid"], cfg.objective)
        run.log_metrics(metrics)
        run.log_class_scores(class_scores)
    promoted = run.promote()
    return TrainResult(
        run_id=run.run_id,
        experiment_id=run.experiment_id,
        tracking_uri=run.tracking_uri,
        artifact_uri=run.artifact_uri,
        metrics=metrics,
        labels=labels,
        config=cfg,
        history=history,
        promoted=promoted,
        class_scores=class_scores,
    )


def _initial_model(cfg: TrainConfig, labels: list[str], tracking_uri: str | None, dataset):
    """Build the model (or load ``cfg.init_from``); return (model, resolved cfg, frozen?)."""
    if cfg.init_from:
        from train.inference.loading import load_run_model

        try:
            loaded = load_run_model(tracking.make_client(tracking_uri), cfg.init_from)
        except TrainError as exc:
            raise TrainError(f"--init-from {cfg.init_from}: {exc}") from None
        net, old_labels = loaded.keras_model, loaded.labels
        size = classifier.input_size(net)
        if cfg.image_size and cfg.image_size != size:
            raise TrainError(
                f"--init-from {cfg.init_from}: that model takes {size} px inputs, but "
                f"image_size is {cfg.image_size}; leave --image-size out or pass {size}"
            )
        if old_labels != labels:
            log.info(
                "init-from %s: classes %s -> %s, new output layer",
                cfg.init_from,
                old_labels,
                labels,
            )
            net = classifier.replace_head(net, len(labels), cfg.dropout)
        classifier.freeze_backbone(net)
        return net, cfg.replace(image_size=size, learning_rate=_auto_lr(cfg, True)), True
    spec = get_model_spec(cfg.model)
    if spec.input_kind == "features":
        net = create_model(cfg.model, len(labels), spec.input_size, cfg.weights, cfg.dropout)
        return net, cfg.replace(image_size=0, learning_rate=_auto_lr(cfg, True)), False
    size = cfg.image_size or _default_size(spec, dataset)
    net = create_model(cfg.model, len(labels), size, cfg.weights, cfg.dropout)
    lr = _auto_lr(cfg, cfg.pretrained)
    return net, cfg.replace(image_size=size, learning_rate=lr), cfg.pretrained


def _default_size(spec, dataset) -> int:
    """``image_size = 0``: the meta-image's own size for full-resolution models, else native."""
    if not spec.full_resolution:
        return native_size(spec.name)
    h, w = (int(v) for v in dataset.meta["image_size"])
    if h != w:
        log.info("meta-images are %dx%d; the model takes them resized to %d px", h, w, max(h, w))
    return max(h, w)


def _split_features(net, spec, cfg: TrainConfig, dataset, rows) -> dict[str, np.ndarray]:
    """The (N, D) feature matrix of each split: a family's, or the frozen backbone's."""
    from train import featurize

    if spec.input_kind == "features":
        return {
            s: featurize.family_features(spec.features, dataset, rows[s], meshes=cfg.meshes)
            for s in rows
        }
    extractor = classifier.feature_extractor(net)
    return {
        s: featurize.backbone_features(
            extractor,
            dataset,
            rows[s],
            model=cfg.model,
            weights=cfg.weights,
            image_size=cfg.image_size,
            batch_size=cfg.batch_size,
            runtime=cfg.runtime,
        )
        for s in rows
    }


def fit_head(
    net,
    cfg: TrainConfig,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    *,
    class_weight: dict[int, float] | None = None,
    run=None,
    verbose: int = 0,
    adapt: bool = True,
    phase2=None,
):
    """Train the head of ``net`` on cached features (phase 1 of a frozen backbone).

    Parameters
    ----------
    net : keras.Model
        An image classifier with a frozen backbone, or a feature-vector model.
    cfg : TrainConfig
        Epochs, batch size, learning rate (resolved), patience, seed.
    train, val : (features (n, D) float32, labels (n,) int)
    class_weight : dict, optional
    run : train.tracking.TrainRun, optional
        Per-epoch metrics go there; None logs nothing (benchmarks).
    adapt : bool
        Fit the head's standardisation ("norm") to the training features first.
    phase2 : callable, optional
        ``make_dataset(split, training)`` of images: with ``cfg.fine_tune_layers``, phase 2
        then fine-tunes the whole image model on images.

    Returns
    -------
    head : keras.Model
        ``net``'s head as a model on features (it shares ``net``'s weights).
    history : dict
        Per-epoch metric lists; ``phase2_ran`` is True when phase 2's weights were kept.
    """
    head = classifier.head_model(net)
    if adapt:
        classifier.adapt_norm(head, train[0])
    n_classes = int(head.outputs[0].shape[-1])
    history = _fit(
        head,
        cfg,
        _feature_ds(*train, cfg, training=True),
        _feature_ds(*val, cfg, training=False),
        class_weight,
        run,
        True,
        n_classes,
        verbose,
        phase2=None if phase2 is None else (net, phase2),
    )
    return head, history


def fit_images(
    net,
    cfg: TrainConfig,
    ds_train,
    ds_val,
    *,
    class_weight: dict[int, float] | None = None,
    run=None,
    verbose: int = 0,
    init_statistics: bool = True,
) -> dict:
    """Train a whole image model on batches of images (from scratch: ``weights="none"``).

    Parameters
    ----------
    net : keras.Model
        An image classifier whose backbone trains.
    cfg : TrainConfig
        Epochs, learning rate (resolved), patience, seed.
    ds_train, ds_val : tf.data.Dataset
        Of ``(images (b, s, s, 3) float32 0..255, labels)``, as
        :func:`train.data.make_dataset` makes them.
    class_weight : dict, optional
    run : train.tracking.TrainRun, optional
        Per-epoch metrics go there; None logs nothing (benchmarks).
    verbose : int
    init_statistics : bool
        Set BatchNorm's moving statistics from the first training batch first (random
        weights: see :func:`train.models.classifier.init_batchnorm_statistics`).

    Returns
    -------
    dict
        Per-epoch metric lists.
    """
    if init_statistics:
        classifier.init_batchnorm_statistics(net, next(iter(ds_train))[0])
    n_classes = int(net.outputs[0].shape[-1])
    return _fit(net, cfg, ds_train, ds_val, class_weight, run, False, n_classes, verbose)


def _feature_ds(x: np.ndarray, y: np.ndarray, cfg: TrainConfig, training: bool):
    """Batches of cached features: shuffled every epoch (seeded) for training."""
    import tensorflow as tf

    y = np.asarray(y)  # (n,) int labels, or (n, k) target codes of a set objective
    y = y.astype(np.float32 if y.ndim == 2 else np.int32)
    ds = tf.data.Dataset.from_tensor_slices((x.astype(np.float32), y))
    if training:
        ds = ds.shuffle(len(x), seed=cfg.seed, reshuffle_each_iteration=True)
    return ds.batch(cfg.batch_size).prefetch(tf.data.AUTOTUNE)


#: Phase-1 learning rates when ``TrainConfig.learning_rate`` is 0 (auto).
HEAD_LEARNING_RATE = 1e-3  # frozen pretrained backbone: only the head trains
SCRATCH_LEARNING_RATE = 1e-4  # whole network from random weights


def _auto_lr(cfg: TrainConfig, backbone_frozen: bool) -> float:
    if cfg.learning_rate:
        return cfg.learning_rate
    return HEAD_LEARNING_RATE if backbone_frozen else SCRATCH_LEARNING_RATE


def _compile(net, learning_rate: float, n_classes: int, objective: str = "label") -> None:
    import keras

    from train.losses import make_loss

    net.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=make_loss(objective),
        metrics=make_metrics(n_classes),
    )


def _nan_guard():
    import keras

    class NanGuard(keras.callbacks.Callback):
        """Remember the first batch whose loss is not finite (TerminateOnNaN stops the fit)."""

        def __init__(self):
            super().__init__()
            self.where: tuple[int, int] | None = None
            self.epoch = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            loss = (logs or {}).get("loss")
            if loss is not None and self.where is None and not math.isfinite(float(loss)):
                self.where = (self.epoch, batch)
                self.model.stop_training = True

    return NanGuard()


def _fit_phase(net, ds_train, ds_val, *, epochs, initial_epoch, cfg, class_weight, run, verbose):
    """Run one ``model.fit`` with the standard callbacks; return (History.history, NaN location)."""
    import keras

    guard = _nan_guard()
    callbacks = [
        *([run.epoch_logger()] if run is not None else []),  # first: it reads the LR before
        guard,  # ReduceLROnPlateau changes it
        console.compile_notice(),
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=cfg.patience, restore_best_weights=True
        ),
        keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss",
            factor=cfg.lr_factor,
            patience=cfg.lr_patience,
            min_lr=cfg.min_learning_rate,
        ),
    ]
    hist = net.fit(
        ds_train,
        validation_data=ds_val,
        epochs=epochs,
        initial_epoch=initial_epoch,
        class_weight=class_weight,
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,  # the tf.data pipeline shuffles the training split itself
    )
    return hist.history, guard.where


def _fit(
    net,
    cfg,
    ds_train,
    ds_val,
    class_weight,
    run,
    backbone_frozen,
    n_classes,
    verbose,
    phase2=None,
):
    """Phase 1 and (if asked) phase 2; return the combined per-epoch history.

    ``phase2 = (full model, make_dataset)`` when ``net`` is a head trained on cached
    features: phase 2 then fine-tunes the full image model on images. The history gets
    ``phase2_ran`` (True when phase 2's weights were kept).
    """
    _compile(net, cfg.learning_rate, n_classes, cfg.objective)
    history, nan_at = _fit_phase(
        net,
        ds_train,
        ds_val,
        epochs=cfg.epochs,
        initial_epoch=0,
        cfg=cfg,
        class_weight=class_weight,
        run=run,
        verbose=verbose,
    )
    _check_nan(history, nan_at, cfg.learning_rate)
    history = {k: [float(v) for v in vs] for k, vs in history.items()}
    if cfg.fine_tune_layers and not backbone_frozen:
        log.warning(
            "fine_tune_layers=%d ignored: with weights 'none' the whole network already trains",
            cfg.fine_tune_layers,
        )
    elif cfg.fine_tune_layers and phase2 is None and classifier.is_feature_model(net):
        log.warning(
            "fine_tune_layers=%d ignored: a feature-vector model has no backbone",
            cfg.fine_tune_layers,
        )
    elif cfg.fine_tune_layers:
        if phase2 is not None:
            net, make_ds = phase2
            ds_train, ds_val = make_ds("train", True), make_ds("val", False)
        best1 = min(history["val_loss"])
        snapshot = [(v, v.numpy()) for v in net.weights]
        n = classifier.unfreeze_top(net, cfg.fine_tune_layers)
        log.info(
            "phase 2: fine-tuning the top %d layers (%d with weights) at lr %g",
            cfg.fine_tune_layers,
            n,
            cfg.fine_tune_learning_rate,
        )
        _compile(net, cfg.fine_tune_learning_rate, n_classes, cfg.objective)
        done = len(history["val_loss"])
        h2, nan_at = _fit_phase(
            net,
            ds_train,
            ds_val,
            epochs=done + cfg.fine_tune_epochs,
            initial_epoch=done,
            cfg=cfg,
            class_weight=class_weight,
            run=run,
            verbose=verbose,
        )
        _check_nan(h2, nan_at, cfg.fine_tune_learning_rate)
        for k, vs in h2.items():
            history.setdefault(k, []).extend(float(v) for v in vs)
        if min(h2["val_loss"]) >= best1:
            # Fine-tuning never beat phase 1: keep phase 1's best weights.
            for v, value in snapshot:
                v.assign(value)
        else:
            history["phase2_ran"] = True
    return history


def _check_nan(history: dict, nan_at, learning_rate: float) -> None:
    losses = [float(v) for v in history.get("loss", [])]
    if nan_at is not None or any(not math.isfinite(v) for v in losses):
        # Counted from 1, as Keras prints epochs.
        where = (
            f"epoch {nan_at[0] + 1}, batch {nan_at[1] + 1}" if nan_at else f"epoch {len(losses)}"
        )
        raise TrainError(
            f"the training loss became NaN or infinite ({where}); training stopped. "
            f"Try a lower learning rate than {learning_rate:g} or check the dataset's images"
        )


def _best_epoch_metrics(history: dict[str, list[float]]) -> dict[str, float]:
    val_loss = np.asarray(history["val_loss"], dtype=np.float64)
    val_loss = np.where(np.isfinite(val_loss), val_loss, np.inf)
    best = int(np.argmin(val_loss))
    return {
        "best_epoch": float(best + 1),  # counted from 1, as Keras prints epochs
        "best_val_loss": history["val_loss"][best],
        "best_val_accuracy": history["val_accuracy"][best],
        "best_val_f1_macro": history["val_f1_macro"][best],
    }


def _first_rows(rows) -> list[int]:
    """Index of each part's first row, in the order :func:`per_part` lists the parts."""
    first: dict[str, int] = {}
    for i, r in enumerate(rows):
        first.setdefault(r["part_id"], i)
    return list(first.values())


def _find_valid_sets(cfg: TrainConfig, dataset_dir) -> labelsets.ValidSets:
    """``cfg.valid_sets``, else a reach.csv / parts.csv beside the dataset or its meshes."""
    from metaimage.errors import DatasetError
    from metaimage.io import METAIMAGE_JSON, read_metaimage_info

    mesh_dir = cfg.meshes or None
    if mesh_dir is None and (Path(dataset_dir) / METAIMAGE_JSON).is_file():
        try:
            mesh_dir = read_metaimage_info(dataset_dir).source_dir or None
        except DatasetError:
            mesh_dir = None  # load_dataset reports it, naming the file
    return labelsets.find_valid_sets(dataset_dir, cfg.valid_sets, mesh_dir)


def _part_counts(dataset, valid: labelsets.ValidSets, labels) -> dict[str, int]:
    """What :func:`train.labelsets.set_masks` counts, over the dataset's parts."""
    parts = dataset.part_labels()
    _, counts = labelsets.set_masks(list(parts), list(parts.values()), labels, valid)
    return counts


def per_part(rows, probs: np.ndarray) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Average the probabilities of each part's meta-images.

    Returns
    -------
    part_rows : list of dict
        The first row of each part, in order of first appearance.
    part_probs : (n_parts, k) float64
    """
    order: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        order.setdefault(r["part_id"], []).append(i)
    part_rows = [rows[idx[0]] for idx in order.values()]
    part_probs = np.stack([probs[idx].mean(axis=0) for idx in order.values()])
    return part_rows, part_probs


def _evaluate(probs: np.ndarray, y_true: np.ndarray, labels):
    """Scores of test-split probabilities (n, k).

    Returns (metrics dict, per-class scores keyed by class name, confusion matrix).
    """
    y_pred = probs.argmax(axis=1)
    cm = confusion_matrix(y_true, y_pred, len(labels))
    s = scores_from_confusion(cm)
    p_true = np.clip(probs[np.arange(len(y_true)), y_true], 1e-7, 1.0)
    metrics = {
        "test_loss": float(-np.mean(np.log(p_true))),
        "test_accuracy": s["accuracy"],
        "test_precision_macro": s["precision_macro"],
        "test_recall_macro": s["recall_macro"],
        "test_f1_macro": s["f1_macro"],
    }
    class_scores = {
        label: {
            "precision": float(s["precision"][i]),
            "recall": float(s["recall"][i]),
            "f1": float(s["f1"][i]),
        }
        for i, label in enumerate(labels)
    }
    return metrics, class_scores, cm


def _log_inputs(run, cfg, dataset, split, rows, labels, class_weight) -> None:
    params: dict[str, Any] = dict(cfg.to_dict())
    params.update(tracking.flatten(dataset.meta, "dataset."))
    params["dataset.path"] = str(dataset.root)
    params["family"] = get_model_spec(cfg.model).family
    if get_model_spec(cfg.model).input_kind != "features":
        from train.runtimes import resolve

        params["runtime.resolved"] = resolve(cfg.runtime)  # what "auto" was on this machine
    params["n_classes"] = len(labels)
    key = tracking.class_keys(labels)  # MLflow-safe and unique ("+X", "_X" -> "_X", "_X_2")
    for s in data_mod.SPLITS:
        counts = data_mod.class_counts(rows[s], labels)
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


def _log_set_plot(run, per_direction, top_valid: float, objective: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "valid_sets.png"
        title = f"--objective {objective}: predicted sets against valid sets (test parts)"
        run.log_files([plots.plot_set_scores(per_direction, top_valid, path, title)], "plots")


def _log_compact_head(run, net, runtime: str) -> None:
    """Log ``head.npz``, with which prediction skips TensorFlow (:mod:`train.inference.compact`)."""
    from train.inference.compact import HEAD_ARTIFACT, write_head
    from train.runtimes import resolve

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / HEAD_ARTIFACT
        if write_head(net, resolve(runtime), path):
            run.log_files([path])


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
            plots.plot_confusion_matrix(cm, labels, out / "confusion_matrix.png", "test split"),
            plots.plot_training_curves(history, out / "training_curves.png"),
        ]
        shown = wrong[: plots.MAX_MISCLASSIFIED]
        files.append(
            plots.plot_misclassified(
                [read_png(dataset.root / test_rows[i]["path"]) for i in shown],
                [labels[y_true[i]] for i in shown],
                [labels[y_pred[i]] for i in shown],
                [float(probs[i, y_pred[i]]) for i in shown],
                out / "misclassified.png",
                names=[test_rows[i]["path"] for i in shown],  # class folder/file
            )
        )
        run.log_files(files, "plots")
    # Log an uncompiled twin (same layers and weights): loading it needs no custom metric classes.
    inference = keras.Model(net.inputs, net.outputs, name=net.name)
    run.log_model(inference, np.asarray(example, dtype=np.float32))
