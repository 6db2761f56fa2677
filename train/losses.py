"""The loss of each training objective (:data:`train.labelsets.OBJECTIVES`), for Keras.

``label`` is Keras' sparse categorical cross-entropy on the primary label. The two set
objectives take the target codes of :func:`train.labelsets.targets`, ``(b, k)`` float32
with ``> 0`` on the part's valid directions:

- ``any-valid`` (softmax outputs): ``-log sum_{d valid} p_d``, the cross-entropy of the
  event "the answer is a valid direction"; how the mass splits among valid directions is
  left to the model.
- ``sets`` (sigmoid outputs): binary cross-entropy of each output against "d is valid",
  averaged over the k directions.

Keras is imported inside :func:`make_loss`, so importing this module stays cheap.
"""

from __future__ import annotations

from train.errors import TrainError

_EPS = 1e-7  # probabilities are clipped to [eps, 1 - eps] before a log, as Keras does


def make_loss(objective: str):
    """The Keras loss for ``objective`` (``"label"``, ``"any-valid"`` or ``"sets"``)."""
    import keras
    from keras import ops

    if objective == "label":
        return keras.losses.SparseCategoricalCrossentropy()

    def any_valid(y_true, y_pred):
        valid = ops.cast(y_true > 0, y_pred.dtype)
        mass = ops.sum(y_pred * valid, axis=-1)
        return -ops.log(ops.clip(mass, _EPS, 1.0))

    def sets(y_true, y_pred):
        valid = ops.cast(y_true > 0, y_pred.dtype)
        p = ops.clip(y_pred, _EPS, 1.0 - _EPS)
        bce = -(valid * ops.log(p) + (1.0 - valid) * ops.log(1.0 - p))
        return ops.mean(bce, axis=-1)

    if objective == "any-valid":
        return any_valid
    if objective == "sets":
        return sets
    raise TrainError(f"objective must be label, any-valid or sets, got {objective!r}")
