"""Everything metaview says to MLflow, and nothing else does: the one adapter.

- :mod:`train.tracking.names`      every tag, metric, model and alias name in one place;
- :mod:`train.tracking.store`      tracking URI and experiment resolution, a client;
- :mod:`train.tracking.run`        :class:`TrainRun`: a run that never stays RUNNING,
  non-fatal params/metrics, artifacts, the model, promotion at the end;
- :mod:`train.tracking.selection`  which run is best (search, rank, ``find_best_run``);
- :mod:`train.tracking.champion`   the registered model ``metaview@champion``;
- :mod:`train.tracking.artifacts`  reading a finished run back (JSON, tags, the model)
  and adding to it (export results);
- :mod:`train.tracking.compare`    the rows and curves of ``metaview runs``.

This package imports nothing from the training loop (:mod:`train.fit` calls
:meth:`TrainRun.promote`), nor from model loading (:mod:`train.inference` calls
it). MLflow is imported inside the functions, so importing it is cheap.
"""

from train.tracking.artifacts import read_run_json
from train.tracking.champion import champion_run_id, promote_if_best
from train.tracking.names import (
    CHAMPION_ALIAS,
    DATASET_TAG,
    DEFAULT_EXPERIMENT,
    DEFAULT_MODEL_NAME,
    DEFAULT_TRACKING_URI,
    EPOCH_METRICS,
    KIND_TAG,
    KIND_TRAIN,
    SELECTION_METRIC,
    TIEBREAK_METRIC,
)
from train.tracking.run import TrainRun, flatten, key_part, library_versions
from train.tracking.selection import find_best_run, rank_runs, run_sort_key, search_train_runs
from train.tracking.store import (
    get_experiment_id,
    make_client,
    resolve_experiment,
    resolve_tracking_uri,
    using_tracking_uri,
)

__all__ = [
    "CHAMPION_ALIAS",
    "DATASET_TAG",
    "DEFAULT_EXPERIMENT",
    "DEFAULT_MODEL_NAME",
    "DEFAULT_TRACKING_URI",
    "EPOCH_METRICS",
    "KIND_TAG",
    "KIND_TRAIN",
    "SELECTION_METRIC",
    "TIEBREAK_METRIC",
    "TrainRun",
    "champion_run_id",
    "find_best_run",
    "flatten",
    "get_experiment_id",
    "key_part",
    "library_versions",
    "make_client",
    "promote_if_best",
    "rank_runs",
    "read_run_json",
    "resolve_experiment",
    "resolve_tracking_uri",
    "run_sort_key",
    "search_train_runs",
    "using_tracking_uri",
]
