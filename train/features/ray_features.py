"""Backbone features on a Ray cluster: ``metaview train --executor ray [--address ADDR]``.

The meta-images to embed become a Ray Dataset of ``{key, path}`` rows, mapped in batches by
an actor pool (``map_batches`` with :class:`BackboneActor`, one CPU each): each actor builds
the frozen backbone once, with the weights the driver's model has (sent through the object
store, so random or fine-tuned weights are the same everywhere), on the run's runtime, and
reads, resizes and embeds its batches. Results stream back to the driver, which adds them to
the content-keyed feature cache (:mod:`train.featurize`) as they come, so an interrupted run
resumes where it stopped.

Workers read the PNGs at the driver's paths: the dataset folder must be visible at the same
path on every node (a shared file system; on a machine's own Ray instance it always is).

A worker that dies (the out-of-memory killer, a lost node) is replaced and its batch tried
again (``max_restarts``, ``max_task_retries``), up to :data:`RETRIES` times.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from base.rayinit import init_ray
from train.errors import TrainError

log = logging.getLogger(__name__)

#: How often a dead actor is replaced and its batch retried.
RETRIES = 3
#: Test hook: a file path; the first actor call that finds it missing creates it and ends its
#: own process, as a worker killed mid-batch (tests/test_ray_features.py).
KILL_ONCE_ENV = "METAVIEW_TEST_KILL_RAY_ACTOR_ONCE"


class BackboneActor:
    """One frozen backbone on one Ray worker: ``{key, path}`` batches -> ``{key, features}``.

    Parameters
    ----------
    model : str
        The registered model whose backbone embeds (:func:`train.models.create_model`).
    image_size : int
    weights : list of arrays, or a Ray object reference to one
        The feature extractor's weights (``keras.Model.get_weights()`` on the driver).
    runtime : str
        A resolved runtime (:func:`train.runtimes.resolve`).
    """

    def __init__(self, model: str, image_size: int, weights, runtime: str):
        import ray

        from train import runtimes
        from train.console import quiet_tensorflow_import
        from train.models import classifier, create_model

        quiet_tensorflow_import()  # TensorFlow's start-up lines: the worker's debug log
        if isinstance(weights, ray.ObjectRef):  # constructor arguments arrive unresolved
            weights = ray.get(weights)
        net = create_model(model, n_classes=2, image_size=image_size, weights="none")
        extractor = classifier.feature_extractor(net)
        extractor.set_weights(weights)
        self.call, _ = runtimes.backbone_runner(extractor, runtime)
        self.image_size = image_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from train.pipeline import read_batch

        flag = os.environ.get(KILL_ONCE_ENV)
        if flag and not Path(flag).exists():
            Path(flag).write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        x = read_batch([Path(p) for p in batch["path"]], self.image_size)
        return {"key": batch["key"], "features": np.asarray(self.call(x), np.float32)}


def import_ray():
    """Import Ray (with Ray Data), or raise :class:`TrainError` saying how to install it."""
    try:
        import ray
        import ray.data  # Ray Data needs pyarrow, which ray's "data" extra brings
    except ImportError as exc:
        raise TrainError(
            f"--executor ray needs Ray with Ray Data, which is not installed ({exc}); "
            "pip install -e '.[ray]'"
        ) from None
    return ray


def connect(address: str = "") -> bool:
    """Connect to the cluster at ``address`` ($RAY_ADDRESS; else start a local instance).

    Returns True when this call started Ray (the caller shuts it down after).

    Raises
    ------
    TrainError
        The cluster cannot be reached or started.
    """
    ray = import_ray()
    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS", "")
    kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING}
    kwargs["address"] = address or "local"
    if not address:  # our own instance: its workers keep TensorFlow's start-up lines quiet
        quiet = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")
        kwargs["runtime_env"] = {"env_vars": {"TF_CPP_MIN_LOG_LEVEL": quiet}}
    try:
        init_ray(ray, **kwargs)  # the metaview command's SIGTERM handler kept
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise TrainError(f"could not start or reach {where}: {exc}") from None
    return True


def ray_features(
    extractor,
    items: Sequence[tuple[str, Path]],
    *,
    model: str,
    image_size: int,
    runtime: str,
    per_batch: int,
    address: str = "",
) -> Iterator[tuple[str, np.ndarray]]:
    """Embed meta-images on a Ray cluster; yield ``(key, vector)`` as batches finish.

    Parameters
    ----------
    extractor : keras.Model
        The driver's feature extractor; its weights go to every actor.
    items : sequence of (key, path)
        Content key and PNG file of each meta-image to embed.
    model, image_size, runtime
        As the driver's (``runtime`` resolved).
    per_batch : int
        Meta-images per actor call (bounded by pixels, :func:`train.batching.images_per_batch`).
    address : str
        See :func:`connect`.
    """
    ray = import_ray()
    started = connect(address)
    try:
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        actors = max(1, min(cpus, (len(items) + per_batch - 1) // per_batch))
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # metaview's own bar counts the images
        weights = ray.put(extractor.get_weights())
        ds = ray.data.from_items([{"key": k, "path": str(p)} for k, p in items])
        ds = ds.map_batches(
            BackboneActor,
            fn_constructor_kwargs={
                "model": model,
                "image_size": image_size,
                "weights": weights,
                "runtime": runtime,
            },
            batch_size=per_batch,
            batch_format="numpy",
            concurrency=actors,
            num_cpus=1,
            max_restarts=RETRIES,
            max_task_retries=RETRIES,
        )
        log.info(
            "backbone features of %d meta-images on Ray: %d actors (%d CPUs)",
            len(items),
            actors,
            cpus,
        )
        for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
            for k, v in zip(batch["key"], batch["features"], strict=True):
                yield str(k), np.asarray(v, np.float32)
    except Exception as exc:
        if type(exc).__module__.startswith("ray"):
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise TrainError(f"backbone features on Ray failed: {first}") from exc
        raise
    finally:
        if started:
            ray.shutdown()
