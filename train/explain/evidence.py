"""What a model looked at: the gradient of a class score through the head, Grad-CAM over the
backbone's last feature map, and the faces that carried a ``normals`` decision.

Every metaview classifier ends in the same head (:mod:`train.models.classifier`): pooled
features (or a family's feature vector) -> [normalize] -> dense layers -> softmax.
:func:`head_gradient` differentiates that head in NumPy, from the arrays
:func:`train.inference.compact.head_arrays` reads out of the Keras model, so nothing here
traces a graph. The score explained is the class's logit less the mean logit: evidence *for*
the class against the others, which does not move when all logits move together.

Grad-CAM (Selvaraju et al., 2017) weighs each channel ``k`` of a feature map ``A`` (h, w,
c) by the spatial mean of the score's gradient, ``alpha_k = mean_ij d score / d A_kij``,
and shows ``relu(sum_k alpha_k A_k)``. Behind global max pooling the gradient reaches one
position per channel, its maximum, with the pooled feature's gradient ``g_k``: so
``alpha_k = g_k / (h w)`` exactly, and only a forward pass of the backbone is needed.
"""

from __future__ import annotations

import functools
import logging

import numpy as np

from train.errors import TrainError

log = logging.getLogger(__name__)


def head_gradient(steps: list[dict], arrays: dict, x: np.ndarray, target: int) -> np.ndarray:
    """The gradient of ``logit[target] - mean(logits)`` with respect to the head's input.

    Parameters
    ----------
    steps, arrays
        The head as :func:`train.inference.compact.head_arrays` gives it: ``normalize``
        and ``dense`` steps, the last one dense (its activation is ignored: the logits).
    x : (D,) float
        One input: pooled features, or a family's feature vector.
    target : int
        The class whose evidence is wanted.

    Returns
    -------
    (D,) float64
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    # Forward, keeping what the backward pass needs.
    trace = []
    for i, step in enumerate(steps):
        if step["op"] == "normalize":
            trace.append(("normalize", arrays[f"{i}_std"], None))
            x = (x - arrays[f"{i}_mean"]) / arrays[f"{i}_std"]
            continue
        kernel = np.asarray(arrays[f"{i}_kernel"], np.float64)
        z = x @ kernel + arrays[f"{i}_bias"]
        last = i == len(steps) - 1
        act = "linear" if last else step.get("activation", "linear")
        trace.append((act, kernel, z))
        if act == "relu":
            x = np.maximum(z, 0.0)
        elif act == "sigmoid":
            x = 1.0 / (1.0 + np.exp(-z))
        elif act == "softmax":
            raise TrainError("expected softmax only on the head's last layer")
        else:
            x = z
    n_out = len(x)
    if not 0 <= target < n_out:
        raise TrainError(f"expected a class index below {n_out}, got {target}")
    grad = -np.full(n_out, 1.0 / n_out)
    grad[target] += 1.0
    for act, a, z in reversed(trace):
        if act == "normalize":
            grad = grad / a
            continue
        if act == "relu":
            grad = grad * (z > 0)
        elif act == "sigmoid":
            s = 1.0 / (1.0 + np.exp(-z))
            grad = grad * s * (1.0 - s)
        grad = a @ grad
    return grad


def grad_cam(feature_map: np.ndarray, pooled_gradient: np.ndarray) -> np.ndarray:
    """Grad-CAM of one feature map behind global max pooling (module docstring).

    Parameters
    ----------
    feature_map : (h, w, c) float
    pooled_gradient : (c,) float
        The score's gradient with respect to the max-pooled features of this map.

    Returns
    -------
    (h, w) float32 in [0, 1]
        Scaled to its maximum (all zero when nothing speaks for the class).
    """
    a = np.asarray(feature_map, dtype=np.float64)
    g = np.asarray(pooled_gradient, dtype=np.float64)
    if a.ndim != 3 or g.shape != (a.shape[2],):
        raise TrainError(f"expected a (h, w, c) map and (c,) gradient, got {a.shape} and {g.shape}")
    cam = np.maximum(a @ (g / (a.shape[0] * a.shape[1])), 0.0)
    top = float(cam.max())
    return (cam / top if top > 0 else cam).astype(np.float32)


def image_maps(net, image: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The backbone's feature maps and pooled features of one image.

    Parameters
    ----------
    net : keras.Model
        An image classifier (:mod:`train.models.classifier`).
    image : (S, S, 3) float32
        Pixels in [0, 255] at the model's input size.

    Returns
    -------
    maps : list of (h, w, c) float32
        Each backbone output, as the head's "pool" layer concatenates them.
    pooled : (D,) float32
        Their global maxima, concatenated: the head's input.
    """
    from train.models import classifier

    out = _traced(classifier.get_backbone(net))(np.asarray(image, np.float32)[None])
    outs = out if isinstance(out, (list, tuple)) else [out]
    maps = [np.asarray(m)[0] for m in outs]
    pooled = np.concatenate([m.max(axis=(0, 1)) for m in maps]).astype(np.float32)
    return maps, pooled


@functools.lru_cache(maxsize=2)
def _traced(backbone):
    """The backbone as one traced function: a graph frees activations as it goes, where an
    eager call at 960 px holds about twice the memory (docs/runtimes.md)."""
    import tensorflow as tf

    return tf.function(lambda x: backbone(x, training=False), reduce_retracing=True)


def image_evidence(net, image: np.ndarray, target: int) -> tuple[np.ndarray, np.ndarray]:
    """Grad-CAM of class ``target`` on the last (deepest) feature map of the backbone.

    Parameters
    ----------
    net : keras.Model
        An image classifier whose head :func:`~train.inference.compact.head_arrays` reads.
    image : (S, S, 3) float32
        Pixels in [0, 255] at the model's input size.
    target : int

    Returns
    -------
    cam : (h, w) float32 in [0, 1]
        At the last map's resolution (S / 32 for EfficientNet).
    pooled : (D,) float32
        The head's input (to check against the model's own prediction).

    Raises
    ------
    TrainError
        A head of layers other than normalize and dense.
    """
    from train.inference.compact import head_arrays

    found = head_arrays(net)
    if found is None:
        raise TrainError(f"model {net.name!r}: its head has layers Grad-CAM here cannot follow")
    maps, pooled = image_maps(net, image)
    grad = head_gradient(*found, pooled, target)
    # The deepest map is the smallest; its channels are the last in the pooled vector when
    # it is the last output (EfficientNet-Lite's order), wherever it is, its own slice.
    sizes = [m.shape[2] for m in maps]
    deepest = int(np.argmin([m.shape[0] * m.shape[1] for m in maps]))
    start = int(sum(sizes[:deepest]))
    return grad_cam(maps[deepest], grad[start : start + sizes[deepest]]), pooled


def normals_evidence(
    net, vertices: np.ndarray, faces: np.ndarray, target: int
) -> tuple[np.ndarray, np.ndarray]:
    """Which faces carried a ``normals`` model's score for class ``target``.

    The gradient of the score times the feature vector (gradient x input), shared out
    among the faces each feature is made of (:func:`geometry.normals.face_attribution`).

    Returns
    -------
    faces : (f,) float64
        Per face, its part of the score: positive for the class, negative against.
    features : (D,) float32
        The part's feature vector.
    """
    from geometry.normals import face_attribution, normal_features
    from train.inference.compact import head_arrays

    found = head_arrays(net)
    if found is None:
        raise TrainError(f"model {net.name!r}: its head has layers this cannot follow")
    x = normal_features(vertices, faces)
    grad = head_gradient(*found, x, target)
    return face_attribution(vertices, faces, grad * x), x


def views_evidence(net, tiles: np.ndarray, weights: np.ndarray, target: int) -> np.ndarray:
    """What each tile gave to class ``target`` in a view-pooled model
    (:func:`train.models.classifier.views_head`): (T,) float64.

    The head is linear up to its softmax: direction ``d`` scores
    ``s_d = sum_k w_dk a . (g_k - mu) / sigma`` and class ``c`` gets ``sum_d M_dc s_d + b_c``.
    So tile ``k`` gives class ``c`` exactly ``sum_d M_dc w_dk a . (g_k - mu) / sigma``; less
    the mean over classes (as everywhere here), the shares and the output biases add up to
    ``log p_c - mean log p``.

    Parameters
    ----------
    net : keras.Model
        The views head (layers "norm", "score", "predictions"), or the combined one
        (:func:`train.models.classifier.views_normals_head`), whose views block this reads.
    tiles : (T, D) float
        The part's per-tile backbone features.
    weights : (C, T) float
        Its view weights (:func:`train.features.views.view_weights`).
    target : int
    """
    norm = net.get_layer("norm")
    mean = np.asarray(norm.mean, np.float64).reshape(-1)
    # As Keras' Normalization divides: by sqrt(variance), at least its epsilon.
    std = np.maximum(np.sqrt(np.asarray(norm.variance, np.float64).reshape(-1)), 1e-7)
    a = np.asarray(net.get_layer("score").get_weights()[0], np.float64).reshape(-1)
    m = np.asarray(net.get_layer("predictions").get_weights()[0], np.float64)
    # (C, C); the combined head's is (2C, C), its first C rows taking the views' scores.
    m = m[: m.shape[1]]
    if not 0 <= target < m.shape[1]:
        raise TrainError(f"expected a class index below {m.shape[1]}, got {target}")
    s = ((np.asarray(tiles, np.float64) - mean) / std) @ a  # (T,) each tile's score
    per_class = (m.T @ np.asarray(weights, np.float64)) * s  # (C, T)
    return per_class[target] - per_class.mean(axis=0)


def normals_block_share(net, normals: np.ndarray, target: int) -> float:
    """What the face-normal block of a combined head
    (:func:`train.models.classifier.views_normals_head`) gave to class ``target``, less the
    mean over classes, as :func:`views_evidence` counts the tiles: together with the tiles'
    shares and the output biases it adds up to ``log p_c - mean log p``.

    Parameters
    ----------
    net : keras.Model
        The combined head (layers "normals_scores", "predictions").
    normals : (NORMAL_FEATURES_DIM,) float
        The part's face-normal features (:func:`geometry.normals.mesh_features`).
    target : int
    """
    kernel, bias = (
        np.asarray(w, np.float64) for w in net.get_layer("normals_scores").get_weights()
    )
    m = np.asarray(net.get_layer("predictions").get_weights()[0], np.float64)
    c = m.shape[1]
    if not 0 <= target < c:
        raise TrainError(f"expected a class index below {c}, got {target}")
    per_class = m[c:].T @ (np.asarray(normals, np.float64) @ kernel + bias)  # (C,)
    return float(per_class[target] - per_class.mean())
