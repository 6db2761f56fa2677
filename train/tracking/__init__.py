"""Everything metaview says to MLflow, and nothing else does: the one adapter.

- :mod:`train.tracking.names`      every tag, metric, model and alias name in one place;
- :mod:`train.tracking.store`      tracking URI and experiment resolution, opening a store
  (a fast error for a server that is down, a lock around creating a sqlite store), a client;
- :mod:`train.tracking.run`        :class:`TrainRun`: a run that never stays RUNNING,
  non-fatal params/metrics, a heartbeat, lineage (dataset input, git commit),
  artifacts, per-class scores, the model, promotion at the end;
- :mod:`train.tracking.epoch_logger`  the Keras callback of :meth:`TrainRun.epoch_logger`:
  metrics and learning rate every epoch, the heartbeat within one;
- :mod:`train.tracking.provenance`  library versions, the model's pinned requirements,
  the metaview source's git commit;
- :mod:`train.tracking.keys`       params flattened, class names as MLflow-safe, unique keys;
- :mod:`train.tracking.selection`  which run is best (search, rank, ``find_best_run``);
- :mod:`train.tracking.champion`   each experiment's registered model ``metaview-<experiment>``
  and its ``@champion``; any ``models:/NAME/VERSION`` or ``models:/NAME@ALIAS`` -> its run;
- :mod:`train.tracking.artifacts`  reading a finished run back (JSON, tags, the model)
  and adding to it (export results);
- :mod:`train.tracking.compare`    the rows and curves of ``metaview runs``; stale runs
  (killed without ending) and ending them.

This package imports nothing from the training loop (:mod:`train.fit` calls
:meth:`TrainRun.promote`), nor from model loading (:mod:`train.inference` calls
it). MLflow is imported inside the functions, so importing it is cheap.
"""

from train.tracking.artifacts import read_run_json
from train.tracking.champion import champion_run_id, model_version_run_id, promote_if_best
from train.tracking.keys import class_keys, flatten, key_part
from train.tracking.names import (
    CHAMPION_ALIAS,
    DATASET_TAG,
    DEFAULT_EXPERIMENT,
    DEFAULT_TRACKING_URI,
    EPOCH_METRICS,
    KIND_TAG,
    KIND_TRAIN,
    SELECTION_METRIC,
    TIEBREAK_METRIC,
    registered_model_name,
)
from train.tracking.provenance import library_versions, source_commit
from train.tracking.run import TrainRun
from train.tracking.selection import find_best_run, rank_runs, run_sort_key, search_train_runs
from train.tracking.store import (
    check_reachable,
    get_experiment_id,
    make_client,
    open_store,
    resolve_experiment,
    resolve_tracking_uri,
    using_tracking_uri,
)

__all__ = [
    "CHAMPION_ALIAS",
    "DATASET_TAG",
    "DEFAULT_EXPERIMENT",
    "DEFAULT_TRACKING_URI",
    "EPOCH_METRICS",
    "KIND_TAG",
    "KIND_TRAIN",
    "SELECTION_METRIC",
    "TIEBREAK_METRIC",
    "TrainRun",
    "champion_run_id",
    "check_reachable",
    "class_keys",
    "find_best_run",
    "flatten",
    "get_experiment_id",
    "key_part",
    "library_versions",
    "make_client",
    "model_version_run_id",
    "open_store",
    "promote_if_best",
    "rank_runs",
    "read_run_json",
    "registered_model_name",
    "resolve_experiment",
    "resolve_tracking_uri",
    "run_sort_key",
    "search_train_runs",
    "source_commit",
    "using_tracking_uri",
]
