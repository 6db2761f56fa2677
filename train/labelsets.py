"""Valid sets: every direction a part can be machined from, beside its primary label.

A part can often be machined from more than one side (a through-hole along X from +X and
from -X). ``metaview synth`` records each part's *valid set* in ``parts.csv`` and
``metaview reach`` computes it for any meshes in ``reach.csv``; both have a ``file`` column
(the mesh path relative to the folder that ``metaview render`` read) and a ``valid`` column
(``"x_plus|x_minus"``). This module

- finds and reads such a CSV for a dataset (:func:`find_valid_sets`);
- turns a part's set into the training target of each objective (:func:`targets`);
- scores predictions against the sets (:func:`set_scores`): the share of parts whose top
  prediction is a valid direction, and per-direction precision and recall of the
  *predicted set*.

The predicted set of a model with one sigmoid per direction (``--objective sets``) is every
direction with probability at least :data:`SET_THRESHOLD` (and always the top one); a
softmax model names one direction, its top one, since its probabilities share one unit of
mass and say nothing about how many directions are valid.

Pure NumPy and the standard library: no TensorFlow.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from geometry.directions import parse_label_set
from train.errors import TrainError

log = logging.getLogger(__name__)

#: Training objectives (``TrainConfig.objective``).
#: ``label``: softmax, cross-entropy on the primary label (the design's classifier);
#: ``any-valid``: softmax, loss ``-log`` of the probability summed over the valid set, so
#: any valid direction is a right answer;
#: ``sets``: one sigmoid per direction, binary cross-entropy against the valid set.
OBJECTIVES = ("label", "any-valid", "sets")

#: A sigmoid output at or above this names its direction as valid (the midpoint of a
#: calibrated probability; the top direction is always in the set).
SET_THRESHOLD = 0.5

#: File names searched for valid sets, in order, in the dataset folder and the mesh folder.
CSV_NAMES = ("reach.csv", "parts.csv")

#: Target codes of the set objectives: the primary label, another valid direction, neither.
PRIMARY, VALID, INVALID = 2.0, 1.0, 0.0


@dataclass(frozen=True)
class ValidSets:
    """Valid sets read from a CSV, by part id.

    Attributes
    ----------
    source : str
        The CSV they came from ("" when none was found: every set is the primary label).
    sets : dict
        Part id (mesh path relative to the render input, without suffix) -> tuple of
        direction names; an empty tuple when no direction reaches every feature.
    """

    source: str = ""
    sets: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def primary_labels(self) -> dict[str, str]:
        """A label for parts that have none: one direction of their valid set.

        What ``metaview reach`` on a user's unlabelled meshes makes of them: every part
        with a non-empty set gets a label, so it can be split, trained on and scored. For
        a part valid from several directions the choice is arbitrary, so it is made by a
        hash of the part id: the same on every run, and spread evenly over the set, so
        that ``x_plus|x_minus`` parts do not all become ``x_plus`` and leave ``x_minus``
        without parts. Train such data with ``--objective sets`` or ``any-valid`` and read
        the set scores: accuracy against these labels says little.
        """
        out = {}
        for part, names in self.sets.items():
            if names:
                digest = hashlib.sha256(part.encode("utf-8")).digest()
                out[part] = names[int.from_bytes(digest[:8], "big") % len(names)]
        return out


def part_id_of(file: str) -> str:
    """``x_plus/0003.stl`` -> ``x_plus/0003``: the id ``metaview render`` gives a mesh."""
    path = PurePosixPath(file.replace("\\", "/"))
    return str(path.with_suffix("")) if path.suffix else str(path)


def read_valid_sets(path: str | Path) -> ValidSets:
    """Read the ``file`` and ``valid`` columns of a ``parts.csv`` or ``reach.csv``.

    Rows with ``status`` ``"error"`` (``reach.csv``: the file could not be analysed) are
    skipped.

    Raises
    ------
    TrainError
        The file is missing, lacks those columns, or names a direction twice or an empty
        direction.
    """
    path = Path(path)
    if not path.is_file():
        raise TrainError(f"{path}: expected a parts.csv or reach.csv with valid sets, found none")
    sets: dict[str, tuple[str, ...]] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("file", "valid") if c not in (reader.fieldnames or [])]
        if missing:
            raise TrainError(
                f"{path}: expected columns file and valid (as metaview synth and metaview "
                f"reach write them), missing {', '.join(missing)}"
            )
        for line, row in enumerate(reader, start=2):
            if (row.get("status") or "") == "error":
                continue
            try:  # any class names: a dataset need not use the five directions
                names = parse_label_set(row["valid"] or "", known=None)
            except ValueError as exc:
                raise TrainError(f"{path}, line {line}: {exc}") from None
            sets[part_id_of(row["file"])] = names
    return ValidSets(source=str(path), sets=sets)


def find_valid_sets(
    dataset_dir: str | Path, explicit: str = "", mesh_dir: str | Path | None = None
) -> ValidSets:
    """The valid sets of a dataset: ``explicit``, else the first CSV found.

    Parameters
    ----------
    dataset_dir : path
        The rendered dataset folder.
    explicit : str
        A CSV path (``--valid-sets``); "" searches :data:`CSV_NAMES` in ``dataset_dir``,
        then in ``mesh_dir``.
    mesh_dir : path, optional
        The folder the meshes were rendered from (``metaimage.json``'s ``source_dir``).

    Returns
    -------
    ValidSets
        Empty (``source == ""``) when nothing was found and nothing was asked for.

    Raises
    ------
    TrainError
        An explicit CSV that is missing or malformed; a found CSV without a ``valid``
        column is skipped with a note in the log (older ``parts.csv`` files lack it).
    """
    if explicit:
        return read_valid_sets(Path(explicit).expanduser())
    folders = [Path(dataset_dir)] + ([Path(mesh_dir)] if mesh_dir else [])
    for folder in folders:
        for name in CSV_NAMES:
            path = folder / name
            if not path.is_file():
                continue
            try:
                return read_valid_sets(path)
            except TrainError as exc:
                log.info("valid sets: skipping %s (%s)", path, exc)
    return ValidSets()


def set_masks(
    part_ids: Sequence[str],
    primary: Sequence[str],
    labels: Sequence[str],
    valid: ValidSets,
) -> tuple[np.ndarray, dict[str, int]]:
    """Each part's valid set as a row of a boolean mask over ``labels``.

    A part's row holds its valid set's directions that are classes of the model, and
    always its primary label: a set that leaves the label out (the geometry disagrees
    with the person who labelled it), an empty set (an undercut) and a part the CSV does
    not list all keep the label as a right answer.

    Parameters
    ----------
    part_ids, primary : sequences of str, length n
    labels : sequence of str, length k
        The model's classes, in output order.
    valid : ValidSets

    Returns
    -------
    mask : (n, k) bool
    counts : dict
        ``listed`` (parts the CSV has), ``multi`` (rows with more than one direction),
        ``label_outside`` (listed sets without the primary label), ``empty``
        (listed, empty sets), ``unknown_directions`` (set members that are not classes).
    """
    index = {name: i for i, name in enumerate(labels)}
    mask = np.zeros((len(part_ids), len(labels)), dtype=bool)
    counts = dict.fromkeys(("listed", "multi", "label_outside", "empty", "unknown_directions"), 0)
    for row, (pid, label) in enumerate(zip(part_ids, primary, strict=True)):
        mask[row, index[label]] = True
        names = valid.sets.get(pid)
        if names is None:
            continue
        counts["listed"] += 1
        counts["empty"] += not names
        counts["label_outside"] += bool(names) and label not in names
        for name in names:
            if name in index:
                mask[row, index[name]] = True
            else:
                counts["unknown_directions"] += 1
    counts["multi"] = int((mask.sum(axis=1) > 1).sum())
    return mask, counts


def targets(y: np.ndarray, mask: np.ndarray, objective: str) -> np.ndarray:
    """The training target of each example for ``objective``.

    Parameters
    ----------
    y : (n,) int
        Primary label indices.
    mask : (n, k) bool
        Valid sets (:func:`set_masks`), each holding its primary label.
    objective : str
        One of :data:`OBJECTIVES`.

    Returns
    -------
    (n,) int32 for ``label``; (n, k) float32 codes for the set objectives:
    :data:`PRIMARY` at the primary label, :data:`VALID` at the other valid directions,
    :data:`INVALID` elsewhere. The codes keep the primary label (``argmax``) for accuracy
    and class weights, and the set (``> 0``) for the loss.
    """
    y = np.asarray(y, dtype=np.int32)
    if objective == "label":
        return y
    if objective not in OBJECTIVES:
        raise TrainError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    codes = np.where(mask, VALID, INVALID).astype(np.float32)
    codes[np.arange(len(y)), y] = PRIMARY
    return codes


def predicted_sets(probs: np.ndarray, multi_label: bool) -> np.ndarray:
    """The directions a model names for each part.

    Parameters
    ----------
    probs : (n, k) float
    multi_label : bool
        True for one sigmoid per direction: every direction at or above
        :data:`SET_THRESHOLD`; False (softmax): the top direction alone.

    Returns
    -------
    (n, k) bool
        Always holds each row's top direction.
    """
    probs = np.asarray(probs, dtype=np.float64)
    top = np.zeros(probs.shape, dtype=bool)
    top[np.arange(len(probs)), probs.argmax(axis=1)] = True
    return top | (probs >= SET_THRESHOLD) if multi_label else top


def set_scores(
    probs: np.ndarray, mask: np.ndarray, labels: Sequence[str], multi_label: bool
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Score predictions against valid sets.

    Parameters
    ----------
    probs : (n, k) float
        One row per part.
    mask : (n, k) bool
        The valid sets.
    labels : sequence of str, length k
    multi_label : bool
        See :func:`predicted_sets`.

    Returns
    -------
    metrics : dict
        ``top_valid``: share of parts whose top direction is valid; ``set_exact``: share
        whose predicted set equals the valid set; ``set_precision_macro`` and
        ``set_recall_macro``: the means over directions of the two below (over directions
        that some part has or some prediction names).
    per_direction : dict
        Direction -> ``{"set_precision", "set_recall", "set_support"}``: of the parts the
        model names the direction for, the share where it is valid; of the parts where it
        is valid, the share the model names it for; and how many parts it is valid for.
        A direction never named has precision 0 (and recall 0 when it is valid somewhere).
    """
    probs = np.asarray(probs, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    if probs.shape != mask.shape or probs.ndim != 2 or len(labels) != probs.shape[1]:
        raise TrainError(
            f"expected probabilities and masks of one shape (n, {len(labels)}), "
            f"got {probs.shape} and {mask.shape}"
        )
    pred = predicted_sets(probs, multi_label)
    n = len(probs)
    top = probs.argmax(axis=1)
    tp = (pred & mask).sum(axis=0).astype(np.float64)
    named = pred.sum(axis=0).astype(np.float64)
    support = mask.sum(axis=0).astype(np.float64)
    precision = np.divide(tp, named, out=np.zeros_like(tp), where=named > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    present = (named + support) > 0
    metrics = {
        "top_valid": float(mask[np.arange(n), top].mean()) if n else 0.0,
        "set_exact": float((pred == mask).all(axis=1).mean()) if n else 0.0,
        "set_precision_macro": float(precision[present].mean()) if present.any() else 0.0,
        "set_recall_macro": float(recall[present].mean()) if present.any() else 0.0,
    }
    per_direction = {
        label: {
            "set_precision": float(precision[i]),
            "set_recall": float(recall[i]),
            "set_support": float(support[i]),
        }
        for i, label in enumerate(labels)
    }
    return metrics, per_direction


def describe(counts: Mapping[str, int], source: str, n_parts: int) -> str:
    """One log line on what the valid sets cover."""
    if not source:
        return "valid sets: none found (parts.csv or reach.csv); each part's set is its label"
    return (
        f"valid sets from {source}: {counts['listed']} of {n_parts} parts listed, "
        f"{counts['multi']} valid from more than one direction, {counts['label_outside']} "
        f"labelled outside their set, {counts['empty']} with no valid direction"
    )
