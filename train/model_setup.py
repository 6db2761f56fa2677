"""The model a run starts from, its resolved config, and the features its head trains on.

:func:`initial_model` builds the model by name (:func:`train.models.create_model`) or
loads a previous run's (``init_from``, through :mod:`train.inference.loading`), and
fills in what the config leaves automatic: the input size (``image_size = 0``) and the
phase-1 learning rate (``learning_rate = 0``: :data:`HEAD_LEARNING_RATE` or
:data:`SCRATCH_LEARNING_RATE`). :func:`split_features` computes the cached feature
matrices a frozen backbone's head (or a feature-vector family) trains on.
"""

from __future__ import annotations

import logging

import numpy as np

from train import tracking
from train.config import TrainConfig
from train.errors import TrainError
from train.models import classifier, create_model, get_model_spec, native_size

log = logging.getLogger(__name__)


#: Phase-1 learning rates when ``TrainConfig.learning_rate`` is 0 (auto).
HEAD_LEARNING_RATE = 1e-3  # frozen pretrained backbone: only the head trains
SCRATCH_LEARNING_RATE = 1e-4  # whole network from random weights


def _auto_lr(cfg: TrainConfig, backbone_frozen: bool) -> float:
    if cfg.learning_rate:
        return cfg.learning_rate
    return HEAD_LEARNING_RATE if backbone_frozen else SCRATCH_LEARNING_RATE


def adopt_init_model(cfg: TrainConfig, tracking_uri: str | None) -> TrainConfig:
    """With ``--init-from RUN``, the run's own architecture continues: ``cfg.model`` becomes
    the run's ``model`` parameter, whatever ``--model`` said (its default included)."""
    if not cfg.init_from:
        return cfg
    try:
        run = tracking.make_client(tracking_uri).get_run(cfg.init_from)
    except Exception:  # any failure to read the run: initial_model says what, naming it
        return cfg
    model = run.data.params.get("model")
    if not model or model == cfg.model:
        return cfg
    log.info("init-from %s: a %s model; --model %s does not apply", cfg.init_from, model, cfg.model)
    return cfg.replace(model=model)


def initial_model(cfg: TrainConfig, labels: list[str], tracking_uri: str | None, dataset):
    """Build the model (or load ``cfg.init_from``); return (model, resolved cfg, frozen?).

    Parameters
    ----------
    cfg : TrainConfig
        As given: ``image_size`` and ``learning_rate`` may be 0 (automatic).
    labels : list of str
        Class names in model output order; a model started from whose classes differ
        gets a new output layer.
    tracking_uri : str or None
        Where ``cfg.init_from`` is looked up.
    dataset : train.data.Dataset
        Its meta-image size is the input size of a full-resolution family.

    Returns
    -------
    net : keras.Model
    cfg : TrainConfig
        ``image_size`` (0 for a feature-vector family) and ``learning_rate`` filled in.
    backbone_frozen : bool
        Whether the backbone is frozen (its head then trains on cached features).

    Raises
    ------
    TrainError
        For a bad ``init_from`` run, or an ``image_size`` that disagrees with it.
    """
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


def split_features(net, spec, cfg: TrainConfig, dataset, rows) -> dict[str, np.ndarray]:
    """The (N, D) feature matrix of each split: a family's, or the frozen backbone's.

    Parameters
    ----------
    net : keras.Model
        The model :func:`initial_model` gave (its backbone extracts the features).
    spec : train.models.ModelSpec
        Its family's spec (``input_kind == "features"``: the family's own features).
    cfg : TrainConfig
        The resolved config.
    dataset : train.data.Dataset
    rows : dict
        Split name -> its manifest rows.

    Returns
    -------
    dict
        Split name -> (N, D) float32 features, one row per manifest row.
    """
    from train import featurize

    if spec.input_kind == "features":
        return {
            s: featurize.family_features(
                spec.features,
                dataset,
                rows[s],
                meshes=cfg.meshes,
                runtime=cfg.runtime,
                executor=cfg.executor,
                address=cfg.address,
            )
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
            executor=cfg.executor,
            address=cfg.address,
        )
        for s in rows
    }
