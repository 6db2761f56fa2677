"""Train one classifier on a dataset folder and record it as one MLflow run.

:func:`train` is the whole of ``metaview train``, and reads as the pipeline it is:

1. read and check the dataset (:mod:`train.data`), split it by part (:mod:`train.split`);
2. build the model by name or start from a previous run's (``init_from``), config
   resolved (:mod:`train.model_setup`); cache the features a frozen backbone's head
   trains on, or stream images through tf.data (:mod:`train.pipeline`);
3. fit: phase 1, and phase 2 where asked (:mod:`train.loop`);
4. evaluate on the test split, by part (:mod:`train.evaluate`);
5. log everything, the model included (:mod:`train.records`, through
   :mod:`train.tracking`), and offer the run to the model registry
   (:meth:`train.tracking.TrainRun.promote`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from metaimage.grid import parse_grid
from train import evaluate, labelsets, loop, records, tracking
from train.batching import images_per_batch
from train.config import TrainConfig
from train.data import SPLITS, load_dataset, split_rows
from train.errors import TrainError
from train.model_setup import adopt_init_model, initial_model, split_features
from train.models import classifier, get_model_spec
from train.pipeline import make_dataset, naming_bad_files
from train.split import class_weights, split_parts

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
    valid, dataset, split, rows = _read_and_split(cfg, dataset_dir)
    labels = list(dataset.labels)
    cfg = adopt_init_model(cfg, tracking_uri)
    spec = get_model_spec(cfg.model)

    import keras

    if run_name is None:
        # Named here: seeding Python's random below would give every run with the
        # same seed the same MLflow-generated name.
        run_name = f"{cfg.model}-{time.strftime('%Y%m%d-%H%M%S')}"
    keras.utils.set_random_seed(cfg.seed)
    net, cfg, backbone_frozen = initial_model(cfg, labels, tracking_uri, dataset)
    # A frozen backbone (or a feature-vector family) trains its head on cached features.
    on_features = classifier.is_feature_model(net) or backbone_frozen

    masks, ys, targets = _targets(rows, labels, valid, cfg.objective)
    set_counts = _part_counts(dataset, valid, labels)
    log.info("%s", labelsets.describe(set_counts, valid.source, len(dataset.part_labels())))
    # One sigmoid per direction for valid sets; softmax otherwise (a run started from a
    # sets model and trained on labels turns back to softmax).
    classifier.set_output_activation(net, "sigmoid" if cfg.objective == "sets" else "softmax")
    make_ds = _image_batches(cfg, dataset, rows, targets)

    # A PNG that TensorFlow cannot decode: an error that names it, not InvalidArgumentError.
    png_paths = [dataset.root / r["path"] for s in rows for r in rows[s]]
    feats = None
    if on_features:
        with naming_bad_files(png_paths):
            feats = split_features(net, spec, cfg, dataset, rows)
    weights = class_weights(rows["train"], labels) if cfg.class_weights else None

    run = tracking.TrainRun(
        tracking_uri, experiment, run_name, tags={tracking.DATASET_TAG: str(dataset.root)}
    )
    with run, naming_bad_files(png_paths):
        records.log_inputs(run, cfg, dataset, split, rows, labels, weights, valid, set_counts)
        history, probs, example = loop.fit_and_predict(
            net, cfg, feats, targets, make_ds, class_weight=weights, run=run, verbose=verbose
        )
        scores = evaluate.score_test_split(
            history, rows["test"], probs, ys["test"], masks["test"], labels, cfg.objective == "sets"
        )
        scores.metrics["train_seconds"] = time.perf_counter() - t_start
        records.log_results(run, net, example, dataset, labels, history, scores, cfg)
    promoted = run.promote()
    return TrainResult(
        run_id=run.run_id,
        experiment_id=run.experiment_id,
        tracking_uri=run.tracking_uri,
        artifact_uri=run.artifact_uri,
        metrics=scores.metrics,
        labels=labels,
        config=cfg,
        history=history,
        promoted=promoted,
        class_scores=scores.class_scores,
    )


def _read_and_split(cfg: TrainConfig, dataset_dir):
    """Read and check the dataset and split it by part: (valid sets, dataset, split, rows).

    ``rows`` maps each split name to its manifest rows; an empty split is a
    :class:`TrainError` (no run is started).
    """
    grid = parse_grid(cfg.grid) if cfg.grid else None
    valid = _find_valid_sets(cfg, dataset_dir)
    dataset = load_dataset(dataset_dir, grid=grid, labels_for=valid.primary_labels())
    if not dataset.grid_known and cfg.shuffle_tiles:
        log.info("%s: the grid is unknown (no metaimage.json): no tile shuffling", dataset.root)
    split = split_parts(
        dataset.part_labels(), cfg.val_fraction, cfg.test_fraction, cfg.seed, dataset.test_parts
    )
    rows = {s: split_rows(dataset, split, s) for s in SPLITS}
    for s in SPLITS:
        if not rows[s]:
            raise TrainError(
                f"{dataset.root}: the {s} split is empty; check test_parts.txt and the fractions"
            )
    return valid, dataset, split, rows


def _targets(rows, labels, valid: labelsets.ValidSets, objective: str):
    """Each split's valid-set masks, class indices and training targets for ``objective``.

    Returns three dicts keyed by split name: masks (n, k) bool (each meta-image's valid
    set, its part's), ys (n,) int32, and targets (:func:`train.labelsets.targets`).
    """
    index = {label: i for i, label in enumerate(labels)}
    masks = {
        s: labelsets.set_masks(
            [r["part_id"] for r in rows[s]], [r["label"] for r in rows[s]], labels, valid
        )[0]
        for s in rows
    }
    ys = {s: np.asarray([index[r["label"]] for r in rows[s]], dtype=np.int32) for s in rows}
    targets = {s: labelsets.targets(ys[s], masks[s], objective) for s in rows}
    return masks, ys, targets


def _image_batches(cfg: TrainConfig, dataset, rows, targets):
    """``make_ds(split, training)``: the tf.data pipeline of one split's meta-images."""
    size = cfg.image_size

    def make_ds(which: str, training: bool):
        # Inference batches (validation, test) are bounded by pixels, as prediction's are.
        batch = cfg.batch_size if training else images_per_batch(size, most=cfg.batch_size)
        return make_dataset(
            [dataset.root / r["path"] for r in rows[which]],
            targets[which],
            image_size=size,
            grid=dataset.grid,
            batch_size=batch,
            training=training,
            shuffle_tiles=cfg.shuffle_tiles,
            seed=cfg.seed,
        )

    return make_ds


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
