"""An image model without TensorFlow: the backbone on its runtime, the head in NumPy.

Importing TensorFlow and loading a Keras model cost most of a cold ``metaview predict`` of
one part (about 6 of 12 s on 2 cores). A run trained with a frozen backbone on LiteRT or
OpenVINO (:mod:`train.runtimes`) needs neither to predict: its backbone is the converted
file the feature cache ran (cached by weights, :func:`train.runtimes.cached_backbone`),
and its head is a few small arrays. ``metaview train`` logs those arrays as the run's
``head.npz`` (:func:`write_head`); :func:`load_compact` turns them and the cached backbone
into one function. Where either is missing (another machine, an older run, a head of
other layers), prediction loads the Keras model as before, which converts and caches the
backbone for the next time.

``head.npz`` holds plain arrays and a JSON description (read with ``allow_pickle=False``):

- ``meta``: ``{"format": 1, "backbone": NAME, "runtime": R, "image_size": S,
  "classes": C, "steps": [...]}``, each step ``{"op": "normalize"|"dense"|"views",
  "activation": A}``, the last one dense; a head on view-pooled features (the
  ``efficientnet-lite0-views`` and ``-views-normals`` families) also has ``"features"``, its
  family: its backbone is then the per-tile one, and prediction pools its output by view;
- ``<i>_mean``, ``<i>_std`` for a normalize step ``i``: ``(x - mean) / std``;
- ``<i>_kernel`` (D_in, D_out) and ``<i>_bias`` (D_out,) for a dense step;
- for a views step (:func:`train.models.classifier.views_head`: the input's first ``C * D``
  values are C directions of D features): ``<i>_mean``, ``<i>_std`` and ``<i>_score``
  (D,), each direction scored ``((f_c - mean) / std) . score``; with ``<i>_normals_kernel``
  (N, C) and ``<i>_normals_bias`` (C,) the next N values are face normals scored
  ``x @ kernel + bias`` beside them (:func:`train.models.classifier.views_normals_head`).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from train.errors import TrainError

log = logging.getLogger(__name__)

#: The run artifact holding the head's arrays.
HEAD_ARTIFACT = "head.npz"
FORMAT = 1
_ACTIVATIONS = ("linear", "relu", "softmax", "sigmoid")


def head_arrays(net) -> tuple[list[dict], dict[str, np.ndarray]] | None:
    """The layers of ``net`` after its "pool" layer as NumPy steps and arrays.

    Returns None when a layer is not one of Normalization, Dropout (skipped at inference)
    or Dense with a plain activation: such a head predicts through Keras.
    """
    import keras

    from train.models import classifier

    if classifier.is_feature_model(net) and any(layer.name == "score" for layer in net.layers):
        return _views_arrays(net)
    head = classifier.head_model(net)
    steps: list[dict] = []
    arrays: dict[str, np.ndarray] = {}
    for layer in head.layers:
        i = len(steps)
        if isinstance(layer, keras.layers.InputLayer | keras.layers.Dropout):
            continue
        if isinstance(layer, keras.layers.Normalization) and not layer.invert:
            mean = np.asarray(layer.mean, np.float32).reshape(-1)
            var = np.asarray(layer.variance, np.float32).reshape(-1)
            arrays[f"{i}_mean"] = mean
            # Keras divides by max(sqrt(variance), epsilon).
            arrays[f"{i}_std"] = np.maximum(np.sqrt(var), keras.backend.epsilon())
            steps.append({"op": "normalize"})
        elif isinstance(layer, keras.layers.Dense):
            activation = keras.activations.serialize(layer.activation)
            if activation not in _ACTIVATIONS:
                return None
            arrays[f"{i}_kernel"] = np.asarray(layer.kernel, np.float32)
            arrays[f"{i}_bias"] = (
                np.asarray(layer.bias, np.float32)
                if layer.use_bias
                else np.zeros(layer.units, np.float32)
            )
            steps.append({"op": "dense", "activation": activation})
        else:
            return None
    if not steps or steps[-1]["op"] != "dense":
        return None
    return steps, arrays


def _views_arrays(net) -> tuple[list[dict], dict[str, np.ndarray]]:
    """A view-pooled head (with or without its normals part) as a views step and a dense one."""
    import keras

    from train.models import classifier

    norm = net.get_layer("norm")
    std = np.sqrt(np.asarray(norm.variance, np.float32).reshape(-1))
    arrays = {
        "0_mean": np.asarray(norm.mean, np.float32).reshape(-1),
        "0_std": np.maximum(std, keras.backend.epsilon()),
        "0_score": np.asarray(net.get_layer("score").kernel, np.float32).reshape(-1),
    }
    if classifier.is_combined(net):
        layer = net.get_layer("normals_scores")
        arrays["0_normals_kernel"] = np.asarray(layer.kernel, np.float32)
        arrays["0_normals_bias"] = np.asarray(layer.bias, np.float32)
    out = net.get_layer("predictions")
    arrays["1_kernel"] = np.asarray(out.kernel, np.float32)
    arrays["1_bias"] = np.asarray(out.bias, np.float32)
    activation = keras.activations.serialize(out.activation)
    steps = [{"op": "views"}, {"op": "dense", "activation": activation}]
    return steps, arrays


def write_head(
    net, runtime: str, path: str | Path, *, backbone=None, image_size: int = 0, features: str = ""
) -> bool:
    """Write ``net``'s head and the name of its converted backbone to ``path``.

    Parameters
    ----------
    net : keras.Model
        An image classifier with a "pool" layer, or a view-pooled family's head.
    runtime : str
        The resolved runtime its features were computed on.
    backbone, image_size, features : keras.Model, int, str
        For a view-pooled head: the per-tile backbone its features came from, the
        meta-image size and the family.

    Returns
    -------
    bool
        False (nothing written) for a TensorFlow runtime or a head of other layers.
    """
    from train import runtimes
    from train.models import classifier

    if runtime not in ("litert", "openvino", "openvino-bf16"):
        return False
    found = head_arrays(net)
    if found is None:
        return False
    steps, arrays = found
    meta = {
        "format": FORMAT,
        "backbone": runtimes.backbone_name(backbone or classifier.feature_extractor(net)),
        "runtime": runtime,
        "image_size": int(image_size) or classifier.input_size(net),
        "classes": int(arrays[f"{len(steps) - 1}_kernel"].shape[1]),
        "steps": steps,
    }
    if features:
        meta["features"] = features
    buf = io.BytesIO()
    np.savez(buf, meta=np.asarray(json.dumps(meta, sort_keys=True)), **arrays)
    Path(path).write_bytes(buf.getvalue())
    return True


def read_head(path: str | Path) -> tuple[dict, Callable[[np.ndarray], np.ndarray]]:
    """``(meta, head)`` from a ``head.npz``: ``head`` maps (n, D) float32 features to
    (n, classes) float32 probabilities.

    Raises
    ------
    TrainError
        Naming the file, for one that is not a head this version can read.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            arrays = {k: np.asarray(data[k], np.float32) for k in data.files if k != "meta"}
    except (OSError, ValueError, KeyError) as exc:
        raise TrainError(f"{path}: not a readable head.npz: {exc}") from None
    found = meta.get("format") if isinstance(meta, dict) else meta
    if found != FORMAT:
        raise TrainError(f"{path}: expected head format {FORMAT}, found {found!r}")
    steps = meta.get("steps")
    if not isinstance(steps, list) or not steps or not isinstance(steps[-1], dict):
        raise TrainError(f"{path}: expected a list of steps, found {steps!r}")
    if steps[-1].get("op") != "dense":
        raise TrainError(f"{path}: expected the last step to be dense, found {steps[-1]!r}")
    ops: list[tuple[str, Any, Any]] = []
    for i, step in enumerate(steps):
        op = step.get("op") if isinstance(step, dict) else None
        try:
            if op == "normalize":
                ops.append(("normalize", arrays[f"{i}_mean"], arrays[f"{i}_std"]))
            elif op == "views":
                ops.append(("views", _views_step(arrays, i), None))
            elif op == "dense" and step.get("activation") in _ACTIVATIONS:
                ops.append((step["activation"], arrays[f"{i}_kernel"], arrays[f"{i}_bias"]))
            else:
                raise TrainError(f"{path}: step {i}: expected normalize or dense, found {step!r}")
        except KeyError as exc:
            raise TrainError(f"{path}: step {i} ({op}) lacks the array {exc}") from None

    def head(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        for op, a, b in ops:
            if op == "normalize":
                x = (x - a) / b
                continue
            if op == "views":
                x = a(x)
                continue
            x = x @ a + b
            if op == "relu":
                x = np.maximum(x, 0)
            elif op == "softmax":
                x = np.exp(x - x.max(axis=-1, keepdims=True))
                x /= x.sum(axis=-1, keepdims=True)
            elif op == "sigmoid":
                x = 1.0 / (1.0 + np.exp(-x))
        return x.astype(np.float32)

    return meta, head


def _views_step(arrays: dict[str, np.ndarray], i: int) -> Callable[[np.ndarray], np.ndarray]:
    """The views step ``i`` (module docstring): (n, C * D [+ N]) -> (n, C [+ C]) scores."""
    mean, std, score = arrays[f"{i}_mean"], arrays[f"{i}_std"], arrays[f"{i}_score"]
    kernel = arrays.get(f"{i}_normals_kernel")
    bias = arrays.get(f"{i}_normals_bias")
    d = len(score)
    n_normals = 0 if kernel is None else kernel.shape[0]

    def scores(x: np.ndarray) -> np.ndarray:
        views = x[:, : x.shape[1] - n_normals].reshape(len(x), -1, d)
        s = ((views - mean) / std) @ score  # (n, C)
        if kernel is None:
            return s
        return np.concatenate([s, x[:, x.shape[1] - n_normals :] @ kernel + bias], axis=1)

    return scores


def compact_call(path: str | Path) -> tuple[dict, Any] | None:
    """``(meta, call)`` for the head in ``path`` and its cached backbone, ``call`` mapping
    (n, S, S, 3) float32 images to probabilities; None when this machine lacks the backbone
    file or the runtime it was trained on (then the Keras model predicts).

    For a head on view-pooled features (``meta["features"]``), ``call`` is ``(head,
    tiles)``: ``tiles`` maps images to per-tile features (n, T, D), which the caller pools
    by view (:func:`train.features.views.pool_views`), and ``head`` maps those features to
    probabilities."""
    from train import runtimes

    meta, head = read_head(path)
    runtime = str(meta.get("runtime", ""))
    backbone = runtimes.cached_backbone(str(meta.get("backbone", "")))
    if backbone is None or runtime not in runtimes.RUNTIMES or not runtimes.available(runtime):
        log.info("%s: backbone %s on %s not at hand here", path, meta.get("backbone"), runtime)
        return None
    features = runtimes.file_runner(backbone, runtime)
    if meta.get("features"):  # the head takes pooled features: the caller pools the tiles
        return meta, (head, features)
    return meta, lambda x: head(features(x))
