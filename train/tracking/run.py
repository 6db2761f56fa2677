"""A training run as MLflow records it: :class:`TrainRun`, the adapter ``train.fit`` uses.

Everything ``metaview train`` records goes through here: a run that always ends
FINISHED, FAILED or KILLED (never left RUNNING), params, per-epoch metrics (a
Keras callback), artifacts, the model, and at the end the offer to the model
registry (:meth:`TrainRun.promote`). The names are the contract that loading,
``metaview runs`` and ``export`` read (see docs/train.md's "What a run records in
MLflow").

Logging a param, metric or tag that fails (a flaky server, a too-long value)
is not fatal: it is logged as a warning and training goes on, as MLflow's own
Keras callback does. Artifacts and the model are what prediction needs, so a
failure there fails the run.

A run that is killed outright (``SIGKILL``, a lost machine) cannot end itself:
it keeps a heartbeat instead (tag ``metaview.heartbeat``, refreshed at the start,
every epoch and at most every minute during one), from which ``metaview runs``
tells a live run from a dead one (:mod:`train.tracking.compare`).

Lineage: every run records the metaview source's git commit (tag
``mlflow.source.git.commit``, and ``metaview.git_dirty``) when metaview runs from
a git checkout, and :meth:`TrainRun.log_dataset` records the dataset as an MLflow
input with its content digest.

Around it: :mod:`train.tracking.provenance` (library versions, the git commit, the
model's pinned requirements), :mod:`train.tracking.keys` (flattened params, MLflow-safe
class keys) and :mod:`train.tracking.epoch_logger` (the per-epoch Keras callback).
TrainRun stays one class: it is the one adapter between a training run and MLflow
(params, metrics, artifacts, heartbeat, lineage, promotion), and splitting it would
spread one run's state over several classes.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
import time
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import train.tracking.champion as champion
from train.errors import TrainError
from train.tracking.epoch_logger import make_epoch_logger
from train.tracking.keys import class_keys
from train.tracking.names import (
    CLASS_SCORES_ARTIFACT,
    DATASET_DIGEST_TAG,
    GIT_COMMIT_TAG,
    GIT_DIRTY_TAG,
    HEARTBEAT_INTERVAL_S,
    HEARTBEAT_TAG,
    KIND_TAG,
    KIND_TRAIN,
    MODEL_ARTIFACT,
)
from train.tracking.provenance import default_pip_requirements, source_commit
from train.tracking.store import (
    ensure_experiment,
    make_client,
    open_store,
    resolve_experiment,
    resolve_tracking_uri,
    using_tracking_uri,
)

log = logging.getLogger(__name__)


class TrainRun:
    """An MLflow run as a context manager that never stays RUNNING.

    On leaving the ``with`` block the run ends FINISHED, KILLED (on
    ``KeyboardInterrupt``) or FAILED (on any other exception, which is
    re-raised). The tracking URI is set for the block and restored after it,
    so a later caller in the same process sees what it saw before.

    Parameters
    ----------
    tracking_uri : str, optional
        See :func:`resolve_tracking_uri`.
    experiment : str, optional
        See :func:`resolve_experiment`; created if missing.
    run_name : str, optional
    tags : mapping, optional
        Set at the start (``metaview.kind = "train"`` is always added).
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment: str | None = None,
        run_name: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        self.tracking_uri = resolve_tracking_uri(tracking_uri)
        self.experiment = resolve_experiment(experiment)
        self.run_name = run_name
        self.tags = {KIND_TAG: KIND_TRAIN, **(tags or {})}
        self.run_id: str | None = None
        self.experiment_id: str | None = None
        self.artifact_uri: str | None = None
        self.status: str | None = None
        self._uri_ctx: using_tracking_uri | None = None
        self._last_beat = -math.inf
        self._lost: str | None = None  # why the store went away mid-run

    # -- run life cycle ---------------------------------------------------------------------

    def __enter__(self) -> TrainRun:
        import mlflow

        open_store(self.tracking_uri)  # a server that is down: a clear error, at once
        tags = dict(self.tags)
        tags[HEARTBEAT_TAG] = str(int(time.time()))
        source = source_commit()
        if source is not None:
            tags[GIT_COMMIT_TAG] = source[0]
            tags[GIT_DIRTY_TAG] = "true" if source[1] else "false"
        self._uri_ctx = using_tracking_uri(self.tracking_uri)
        self._uri_ctx.__enter__()
        try:
            exp_id = ensure_experiment(make_client(self.tracking_uri), self.experiment)
            exp = mlflow.set_experiment(experiment_id=exp_id)
            run = mlflow.start_run(experiment_id=exp_id, run_name=self.run_name, tags=tags)
        except BaseException:
            self._restore_uri()
            raise
        self._last_beat = time.monotonic()
        self.experiment_id = exp.experiment_id
        self.run_id = run.info.run_id
        self.artifact_uri = run.info.artifact_uri
        log.info(
            "MLflow run %s in experiment %r at %s", self.run_id, self.experiment, self.tracking_uri
        )
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        import mlflow

        if exc_type is None:
            status = "FINISHED"
        elif issubclass(exc_type, KeyboardInterrupt):
            status = "KILLED"
        else:
            status = "FAILED"
        try:
            mlflow.end_run(status)
            self.status = status
        except Exception as err:  # the run's own error matters more than this one
            if self._lost is None:  # a store that is gone: the error says so already
                log.warning("could not end MLflow run %s as %s: %s", self.run_id, status, err)
            if exc_type is None:
                raise
        finally:
            self._restore_uri()
        return False

    def _restore_uri(self) -> None:
        if self._uri_ctx is not None:
            self._uri_ctx.__exit__(None, None, None)
            self._uri_ctx = None

    # -- non-fatal logging -----------------------------------------------------------------

    def _logging_failed(self, what: str, err: Exception) -> None:
        """A logging call failed: a warning, unless the store itself has gone away.

        A tracking server (or database) that stopped mid-run would otherwise leave training
        going on for hours with a warning an epoch; it ends the run's process instead, with
        one line. The run stays RUNNING in the store: ``metaview runs`` shows it STALE once
        the store is back, and ``--mark-failed`` ends it.

        Raises
        ------
        TrainError
            The store cannot be reached any more.
        """
        from train.tracking.store import store_gone

        gone = store_gone(self.tracking_uri)
        if gone is None:
            log.warning("MLflow: could not %s: %s", what, err)
            return
        self._lost = gone
        raise TrainError(
            f"lost the tracking store mid-run: {gone}. Run {self.run_id} stays RUNNING there; "
            "'metaview runs' shows it STALE once the store is back (--mark-failed ends it)"
        )

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log params (values made strings), 100 at a time; failures are warnings."""
        import mlflow

        items = [(k, str(v)) for k, v in params.items()]
        for i in range(0, len(items), 100):
            chunk = dict(items[i : i + 100])
            try:
                mlflow.log_params(chunk)
            except Exception as err:
                self._logging_failed(f"log params {sorted(chunk)[:3]}", err)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Log metrics (non-finite values skipped with a warning); failures are warnings."""
        import mlflow

        clean = {}
        for k, v in metrics.items():
            try:
                v = float(v)
            except (TypeError, ValueError):
                log.warning("MLflow: metric %s = %r is not a number, not logged", k, v)
                continue
            if not math.isfinite(v):
                log.warning(
                    "MLflow: metric %s = %s (step %s) is not finite, not logged", k, v, step
                )
                continue
            clean[k] = v
        if not clean:
            return
        try:
            mlflow.log_metrics(clean, step=step)
        except Exception as err:
            self._logging_failed(f"log metrics {sorted(clean)} at step {step}", err)

    def set_tags(self, tags: Mapping[str, str]) -> None:
        """Set run tags; failures are warnings."""
        import mlflow

        try:
            mlflow.set_tags(dict(tags))
        except Exception as err:
            self._logging_failed(f"set tags {sorted(tags)}", err)

    def heartbeat(self, force: bool = True) -> None:
        """Record that the run is alive (tag ``metaview.heartbeat`` = Unix time in seconds).

        Parameters
        ----------
        force : bool
            False: only if the last heartbeat is at least ``HEARTBEAT_INTERVAL_S``
            old (cheap enough to call every training step).
        """
        now = time.monotonic()
        if not force and now - self._last_beat < HEARTBEAT_INTERVAL_S:
            return
        self._last_beat = now
        self.set_tags({HEARTBEAT_TAG: str(int(time.time()))})

    def log_dataset(
        self,
        root: str | os.PathLike,
        digest: str,
        name: str | None = None,
        context: str = "training",
    ) -> None:
        """Record the dataset folder as an MLflow input (lineage): its path and content digest.

        Shown under the run's "Datasets" in MLflow, with source ``root`` (a local
        folder) and ``digest``; the digest is also the tag ``metaview.dataset_digest``.
        A failure is a warning.

        Parameters
        ----------
        root : path
            The dataset folder.
        digest : str
            Its content digest (``train.data.Dataset.digest``); MLflow keeps 36 characters.
        name : str, optional
            Default: the folder's name.
        context : str
            MLflow's input context tag.
        """
        import mlflow
        from mlflow.data.dataset_source_registry import resolve_dataset_source
        from mlflow.data.meta_dataset import MetaDataset

        root = Path(root).resolve()
        self.set_tags({DATASET_DIGEST_TAG: digest})
        try:
            with warnings.catch_warnings():
                # Two registered classes both read local paths ("can be interpreted in
                # multiple ways"): MLflow picks the local-artifact one, which is right.
                warnings.simplefilter("ignore", UserWarning)
                source = resolve_dataset_source(str(root))
            dataset = MetaDataset(source, name=name or root.name, digest=digest[:36])
            mlflow.log_input(dataset, context=context)
        except Exception as err:
            log.warning("MLflow: could not log dataset %s as the run's input: %s", root, err)

    def log_class_scores(
        self, scores: Mapping[str, Mapping[str, float]], prefix: str = "test_"
    ) -> None:
        """Log per-class scores, keyed by the real class name.

        Writes the artifact ``class_scores.json`` (``{label: {score: value}}``, the
        names as given) and one metric per class and score, ``<prefix><score>.<key>``
        with ``key`` from :func:`class_keys` (MLflow-safe and unique). Readers use
        the JSON or the returned mapping; nothing rebuilds a metric name from a label.

        Parameters
        ----------
        scores : mapping label -> mapping score name -> float
            Every class of the model, in output order, e.g.
            ``{"+X": {"precision": 1.0, "recall": 0.5, "f1": 0.67}}``.
        prefix : str
            Metric name prefix.
        """
        keys = class_keys(list(scores))
        metrics = {
            f"{prefix}{score}.{keys[label]}": value
            for label, by_score in scores.items()
            for score, value in by_score.items()
        }
        self.log_metrics(metrics)
        self.log_json({label: dict(s) for label, s in scores.items()}, CLASS_SCORES_ARTIFACT)

    # -- artifacts (fatal on failure) ------------------------------------------------------

    def log_json(self, obj: Any, artifact_file: str) -> None:
        """Write ``obj`` as JSON to ``artifact_file`` (a path inside the run's artifacts)."""
        import mlflow

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(artifact_file).name
            path.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            parent = str(Path(artifact_file).parent)
            mlflow.log_artifact(str(path), artifact_path=None if parent == "." else parent)

    def log_files(
        self, paths: Iterable[str | os.PathLike], artifact_dir: str | None = None
    ) -> None:
        """Copy local files into the run's artifacts (under ``artifact_dir``)."""
        import mlflow

        for p in paths:
            mlflow.log_artifact(str(p), artifact_path=artifact_dir)

    def log_model(self, model, example, pip_requirements: list[str] | None = None) -> None:
        """Log a Keras model as artifact ``model`` with its signature.

        Parameters
        ----------
        model : keras.Model
            Uncompiled inference model (input float32 0..255, output softmax).
        example : (n, S, S, 3) float32
            A few inputs: the signature is inferred from them and the model's output.
        pip_requirements : list of str, optional
            Default: the installed tensorflow/keras/numpy versions. Passing them
            explicitly saves the ~9 s MLflow spends inferring them.
        """
        import mlflow
        from mlflow.models import infer_signature

        output = model.predict(example, verbose=0)
        signature = infer_signature(example, output)
        mlflow.keras.log_model(
            model,
            name=MODEL_ARTIFACT,
            signature=signature,
            pip_requirements=pip_requirements or default_pip_requirements(),
        )

    def log_extra(self, what: str, log_it) -> None:
        """Run ``log_it()``, more logging to the run (the served model, say); a failure is a
        warning, or ends the run's process when the store has gone (as every log call)."""
        try:
            log_it()
        except Exception as err:
            self._logging_failed(what, err)

    def epoch_logger(self, prefix: str = ""):
        """Return a Keras callback that logs :data:`EPOCH_METRICS` and ``lr`` every epoch,
        their names after ``prefix``."""
        return make_epoch_logger(self, prefix)

    # -- after the run -----------------------------------------------------------------------

    def promote(self) -> bool:
        """Offer the finished run to the model registry (``champion.promote_if_best``).

        Returns whether the run became the champion. A failure is a warning:
        the run itself is recorded and usable by id.
        """
        try:
            # The registry resolves runs:/ URIs through the global tracking URI: set it too.
            with using_tracking_uri(self.tracking_uri):
                client = make_client(self.tracking_uri)
                return bool(champion.promote_if_best(client, self.run_id, self.experiment_id))
        except Exception as err:
            log.warning("could not register run %s in the model registry: %s", self.run_id, err)
            return False
