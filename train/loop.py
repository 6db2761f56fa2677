"""The Keras training loop: phase 1, phase 2, NaN checks, and the test split's predictions.

- :func:`fit_head` trains the head of a frozen backbone (or a feature-vector model) on
  cached features; :func:`fit_images` trains a whole image model on batches of images;
- phase 1 fits with early stopping on ``val_loss`` (best weights restored),
  ReduceLROnPlateau, class weights and the per-epoch metrics of
  :func:`train.metrics.make_metrics`; a NaN loss stops the run with :class:`TrainError`;
- phase 2 (``fine_tune_layers > 0``, pretrained backbones only) unfreezes the top of the
  backbone, BatchNorm kept frozen, at a low learning rate, and keeps its weights only
  when they beat phase 1's;
- :func:`fit_and_predict` is the step :func:`train.fit.train` takes: either fit, then
  the test split's probabilities.

Keras and TensorFlow are imported inside the functions that need them.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from train import console
from train.config import TrainConfig
from train.errors import TrainError
from train.metrics import make_metrics
from train.models import classifier

log = logging.getLogger(__name__)


def fit_and_predict(
    net,
    cfg: TrainConfig,
    feats: dict[str, np.ndarray] | None,
    targets: dict[str, np.ndarray],
    make_ds,
    *,
    class_weight: dict[int, float] | None,
    run,
    verbose: int,
) -> tuple[dict, np.ndarray, np.ndarray]:
    """Train ``net`` on features or on images, then predict the test split.

    Parameters
    ----------
    net : keras.Model
        The model :func:`train.model_setup.initial_model` gave (its config resolved).
    cfg : TrainConfig
        The resolved config.
    feats : dict or None
        Split name -> (n, D) float32 cached features
        (:func:`train.model_setup.split_features`): the head trains on them. None: the
        whole network trains on images.
    targets : dict
        Split name -> (n,) int32 labels, or (n, k) target codes of a set objective.
    make_ds : callable
        ``make_ds(split, training)``: the tf.data pipeline of one split's meta-images.
    class_weight : dict, optional
    run : train.tracking.TrainRun
        Per-epoch metrics go there.
    verbose : int
        Keras ``fit`` verbosity.

    Returns
    -------
    history : dict
        Per-epoch metric lists, phase 1 then phase 2.
    probs : (n_test, k) float64
        The test split's probabilities, from the weights kept.
    example : (2, ...) array
        Two test inputs (features or images) of the model that was kept, for the logged
        model's signature.
    """
    if feats is not None:
        head, history = fit_head(
            net,
            cfg,
            (feats["train"], targets["train"]),
            (feats["val"], targets["val"]),
            class_weight=class_weight,
            run=run,
            verbose=verbose,
            adapt=not cfg.init_from,  # a model started from keeps its statistics
            phase2=None if classifier.is_feature_model(net) else make_ds,
        )
    else:
        history = fit_images(
            net,
            cfg,
            make_ds("train", True),
            make_ds("val", False),
            class_weight=class_weight,
            run=run,
            verbose=verbose,
            init_statistics=not cfg.pretrained and not cfg.init_from,
        )
    if feats is not None and not history.get("phase2_ran"):
        probs = np.asarray(head.predict(feats["test"], verbose=0), dtype=np.float64)
        example = feats["test"][:2] if classifier.is_feature_model(net) else None
    else:
        probs = np.asarray(net.predict(make_ds("test", False), verbose=0), dtype=np.float64)
        example = None
    history.pop("phase2_ran", None)
    if example is None:
        example = next(iter(make_ds("test", False)))[0][:2].numpy()
    return history, probs, example


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
    if classifier.is_combined(head):
        return head, _fit_combined(head, cfg, train, val, class_weight, run, n_classes, verbose)
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


def _fit_combined(net, cfg, train, val, class_weight, run, n_classes: int, verbose) -> dict:
    """The combined head: each part trained on its own, as its family trains alone, then
    their logits averaged (:func:`train.models.classifier.fold_combined`).

    Trained together, the part that fits the training split first (the views, on the first
    generator's parts) leaves the other little to learn, and the model leaned on it where it
    fails (big blocks 0.90 against 0.96 for the parts trained apart, docs/accuracy.md).

    The parts' per-epoch metrics go to the run as ``views.*`` and ``normals.*`` (and into
    the history under those names); the history's own metrics are one entry, the folded
    model scored on the training and validation splits, which the run also logs at step 0.
    """
    ds_train = _feature_ds(*train, cfg, training=True)
    ds_val = _feature_ds(*val, cfg, training=False)
    history: dict[str, list[float]] = {}
    parts = classifier.combined_blocks(net)
    for name, part in parts:
        log.info("combined head: training its %s part on its own", name)
        h = _phase1(part, cfg, ds_train, ds_val, class_weight, run, n_classes, verbose, f"{name}.")
        history.update({f"{name}.{k}": vs for k, vs in h.items()})
    classifier.fold_combined(net, parts[0][1])
    _compile(net, cfg.learning_rate, n_classes, cfg.objective)
    scored = {}
    for split, ds in (("", _feature_ds(*train, cfg, training=False)), ("val_", ds_val)):
        values = net.evaluate(ds, verbose=0, return_dict=True)
        scored.update({split + k: float(v) for k, v in values.items()})
    if run is not None:
        run.log_metrics(scored, step=0)
    history.update({k: [v] for k, v in scored.items()})
    return history


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
        :func:`train.pipeline.make_dataset` makes them.
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


def _fit_phase(
    net, ds_train, ds_val, *, epochs, initial_epoch, cfg, class_weight, run, verbose, prefix=""
):
    """Run one ``model.fit`` with the standard callbacks; return (History.history, NaN location).

    ``prefix`` goes before the names of the metrics logged to ``run``."""
    import keras

    guard = _nan_guard()
    callbacks = [
        *([run.epoch_logger(prefix)] if run is not None else []),  # first: it reads the LR before
        guard,  # ReduceLROnPlateau changes it
        console.compile_notice(),
        *([console.epoch_progress(epochs, initial_epoch)] if verbose else []),
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
        verbose=0,  # epochs are shown by console.epoch_progress, as every other progress
        shuffle=False,  # the tf.data pipeline shuffles the training split itself
    )
    return hist.history, guard.where


def _phase1(
    net, cfg, ds_train, ds_val, class_weight, run, n_classes: int, verbose, prefix: str = ""
) -> dict[str, list[float]]:
    """Compile ``net`` at the config's learning rate and fit it from epoch 0 (early stopping,
    NaN checks); return its per-epoch history. ``prefix``: see :func:`_fit_phase`."""
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
        prefix=prefix,
    )
    _check_nan(history, nan_at, cfg.learning_rate)
    return {k: [float(v) for v in vs] for k, vs in history.items()}


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
    history = _phase1(net, cfg, ds_train, ds_val, class_weight, run, n_classes, verbose)
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
