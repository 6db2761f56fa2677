"""Run an image model with memory bounded by pixels, not by the number of inputs.

Every path that runs an image model (the feature cache, prediction, export's calibration
and checks, evaluation, the benchmarks) goes through here, so none of them holds more
than :data:`BATCH_PIXELS` pixels in one forward pass, whatever the number of inputs.

Two measurements on the project's 2-core CPU, Lite0 classifier, one 960 px meta-image
(``python -m bench.memory`` repeats them):

- an eager call ``model(x)`` held 2.45 GB peak resident for a batch of 1 and 4.0 GB for a
  batch of 2 (and 32 at once exceed 24 GB); the same model traced once as a
  ``tf.function`` held 1.13 GB and 1.34 GB: the graph frees each activation as soon as
  the next layer has read it;
- the traced call is also faster (178 against 446 ms an image at batch 2), and tracing
  costs about a second, once per model.

So models run through :func:`compiled`, in batches of :func:`images_per_batch`.
TensorFlow is imported inside the functions.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator

import numpy as np

#: Pixels of input in one forward pass: two 960 px meta-images (1.3 GB peak resident for a
#: Lite0 classifier in a traced call); smaller images go more at a time.
BATCH_PIXELS = 2 * 960 * 960


def images_per_batch(image_size: int, most: int | None = None, budget: int = BATCH_PIXELS) -> int:
    """How many ``image_size`` px square images fit in one forward pass.

    Parameters
    ----------
    image_size : int
        Side of the model's input in pixels (0 for a feature-vector model: ``most``).
    most : int, optional
        Never more than this many (a caller's own batch size).
    budget : int
        Pixels per pass.

    Returns
    -------
    int
        At least 1.
    """
    if image_size <= 0:
        return max(1, most or 256)
    n = max(1, budget // (image_size * image_size))
    return max(1, min(n, most)) if most else n


def batch_slices(n: int, per_batch: int) -> Iterator[slice]:
    """Slices ``[0:k], [k:2k], ...`` covering ``range(n)``."""
    for start in range(0, n, max(1, per_batch)):
        yield slice(start, min(n, start + per_batch))


def compiled(model) -> Callable[[np.ndarray], np.ndarray]:
    """``model`` traced once as a ``tf.function`` for inference: (n, ...) float32 -> numpy.

    The input signature leaves the batch free (``(None, *model.input_shape[1:])``), so
    one trace serves every batch size. Any other callable (another runtime's session,
    a stand-in) is called as it is, with ``training=False``.
    """
    if not hasattr(model, "input_shape"):
        return lambda x: np.asarray(model(np.asarray(x, np.float32), training=False))
    import tensorflow as tf

    shape = tuple(model.input_shape)
    if isinstance(model.input_shape, list):  # a model built with inputs=[image]
        shape = tuple(model.input_shape[0])
    spec = tf.TensorSpec((None, *shape[1:]), tf.float32)

    @tf.function(input_signature=[spec])
    def _call(x):
        return model(x, training=False)

    def call(x: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings():
            # A model built with inputs=[image] warns when called with a bare tensor; harmless.
            warnings.filterwarnings("ignore", message="The structure of `inputs` doesn't match")
            return np.asarray(_call(tf.constant(np.asarray(x, np.float32))))

    return call


def run_batched(
    call: Callable[[np.ndarray], np.ndarray], x: np.ndarray, per_batch: int
) -> np.ndarray:
    """``call`` over ``x`` in batches of ``per_batch``, outputs concatenated (float32)."""
    parts = [np.asarray(call(x[s]), dtype=np.float32) for s in batch_slices(len(x), per_batch)]
    if not parts:
        return np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(parts)
