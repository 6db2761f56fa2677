"""The result of predicting one input file, and its forms for a person and for JSON.

:class:`Prediction` holds the model's answer for one file (top class, probabilities,
the answer as a set, :func:`predicted_set`) and, for a mesh, its reachable set
(:mod:`train.inference.reachability`). :meth:`Prediction.to_dict` is its JSON form,
:func:`format_prediction` its text line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from train.errors import TrainError
from train.labelsets import predicted_sets

# An analysis error shown in a text line is cut to this many characters (JSON has it whole).
_SHORT_ERROR = 80


@dataclass
class Prediction:
    """The result for one input file.

    Attributes
    ----------
    file : str
        The input path as given.
    label : str or None
        Top class (None when the file failed).
    probability : float or None
        Its probability.
    probabilities : dict
        Class name -> probability, highest first.
    error : str or None
        Why the file could not be predicted (None on success).
    predicted_set : tuple of str
        The model's answer as a set (:func:`predicted_set`): ``(label,)`` for a softmax
        model, every direction at or above :data:`train.labelsets.SET_THRESHOLD` for a
        multi-label one; ``()`` when the file failed.
    multi_label : bool
        The model is multi-label (one sigmoid per direction): the text line shows the set.
    reachable : tuple of str or None
        The directions that reach every feature face of the mesh (class order; ``()`` for
        an undercut), from :func:`geometry.reach.reach_file`. None when not analysed: a PNG,
        ``reach=False``, a failed prediction, or a failed analysis.
    reach_error : str or None
        Why the analysis failed (the prediction itself still stands).
    reach_reasons : dict
        Direction -> why it does not reach every feature, for each direction outside
        ``reachable`` (``ReachResult.reasons()``); empty when not analysed.
    """

    file: str
    label: str | None = None
    probability: float | None = None
    probabilities: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    predicted_set: tuple[str, ...] = ()
    multi_label: bool = False
    reachable: tuple[str, ...] | None = None
    reach_error: str | None = None
    reach_reasons: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True if the file was predicted."""
        return self.error is None

    @property
    def agrees(self) -> bool | None:
        """Whether the top class is among the part's reachable directions.

        None when there is nothing to compare: the mesh was not analysed, no direction
        reaches every feature (an undercut: ``reachable == ()``), or the model's class is
        not a direction name (a model trained on other classes).
        """
        if not self.reachable or self.label is None:
            return None
        from geometry.directions import DIRECTIONS

        if self.label not in DIRECTIONS:
            return None
        return self.label in self.reachable

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the fields (``reachable`` a list or None) and ``agrees``.

        ``multi_label`` and ``reach_reasons`` are left out: ``predicted_set`` and the
        text line carry them.
        """
        return {
            "file": self.file,
            "label": self.label,
            "probability": self.probability,
            "probabilities": self.probabilities,
            "error": self.error,
            "predicted_set": list(self.predicted_set),
            "reachable": None if self.reachable is None else list(self.reachable),
            "reach_error": self.reach_error,
            "agrees": self.agrees,
        }


def predicted_set(
    probs: Sequence[float] | np.ndarray, labels: Sequence[str], multi_label: bool
) -> tuple[str, ...]:
    """The model's answer as a set of classes.

    Parameters
    ----------
    probs : (n_classes,) array-like
        One input's output, in label order.
    labels : sequence of str
        Class names in output order.
    multi_label : bool
        The outputs are independent sigmoids (each the probability that its direction
        reaches the part) rather than a softmax.

    Returns
    -------
    tuple of str
        Softmax: ``(top label,)``. Multi-label: every label whose probability is at least
        :data:`train.labelsets.SET_THRESHOLD`, in label order, the top label always among them.

    Raises
    ------
    TrainError
        If ``probs`` and ``labels`` differ in length or are empty.
    """
    p = np.asarray(probs, dtype=np.float64).reshape(1, -1)
    if p.shape[1] != len(labels) or len(labels) == 0:
        raise TrainError(f"expected one probability per label ({len(labels)}), found {p.size}")
    # train.labelsets decides, as it does when a run is scored.
    keep = predicted_sets(p, multi_label)[0]
    return tuple(name for name, k in zip(labels, keep, strict=True) if k)


def format_prediction(pred: Prediction, top: int | None = None) -> str:
    """One line for a person: ``file  label  p  (other p, ...)`` or ``file  error: reason``.

    A multi-label model's set follows (``  set: x_plus|x_minus``), then, for an analysed
    mesh, its reachable set (``  reachable: x_plus|x_minus``, ``  reachable: none (...)``
    for an undercut, ``  reachable: ? (why)`` when the analysis failed) and, when the top
    class is not in it, ``  DISAGREES: x_plus does not reach every feature (why)``.

    Parameters
    ----------
    top : int or None
        Show this many classes in all (the top one included); None shows all.
    """
    if not pred.ok:
        return f"{pred.file}  error: {pred.error}"
    items = list(pred.probabilities.items())[1 : None if top is None else max(top, 1)]
    others = ", ".join(f"{name} {p:.3f}" for name, p in items)
    line = f"{pred.file}  {pred.label}  {pred.probability:.3f}"
    if others:
        line += f"  ({others})"
    if pred.multi_label and pred.predicted_set:
        line += f"  set: {'|'.join(pred.predicted_set)}"
    if pred.reach_error is not None:
        line += f"  reachable: ? ({_short_error(pred.reach_error, pred.file)})"
    elif pred.reachable is not None and not pred.reachable:
        line += "  reachable: none (no direction reaches every feature)"
    elif pred.reachable is not None:
        line += f"  reachable: {'|'.join(pred.reachable)}"
        if pred.agrees is False:
            why = pred.reach_reasons.get(pred.label or "", "")
            line += f"  DISAGREES: {pred.label} does not reach every feature"
            line += f" ({why})" if why else ""
    return line


def _short_error(error: str, file: str) -> str:
    """An analysis error for a text line that already names the file: first line, cut short."""
    text = error.removeprefix(f"{file}: ").strip().splitlines()[0] if error.strip() else "failed"
    return text if len(text) <= _SHORT_ERROR else text[: _SHORT_ERROR - 3].rstrip() + "..."
