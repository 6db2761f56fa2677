"""Split a dataset's parts into train, validation and test, and count a split's classes.

:func:`split_parts` assigns whole parts (all variants of a mesh) to train, validation
and test, stratified by class and seeded; a fixed test list (``test_parts.txt``) is
honoured. :func:`train.data.split_rows` then picks a split's meta-images.
:func:`class_counts` and :func:`class_weights` count the classes of a split's rows
(what a run logs, and the inverse-frequency weights of the training split).

Plain Python and NumPy on part ids, labels and rows: no file is read here.
"""

from __future__ import annotations

import logging
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from metaimage.errors import DatasetError
from train.data import SPLITS

log = logging.getLogger(__name__)


def split_parts(
    part_labels: Mapping[str, str],
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
    test_parts: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Split parts into train / val / test, stratified by class and seeded.

    Parameters
    ----------
    part_labels : mapping part id -> label
    val_fraction, test_fraction : float
        Fractions of each class's parts. Each is rounded; a class with at least
        3 parts gets at least one part in validation and in test (and keeps at
        least one for training).
    seed : int
        The same seed and parts give the same split.
    test_parts : sequence of str, optional
        A fixed test split (from ``test_parts.txt``): exactly these parts are
        the test set; the rest are split into train and val (ids not in
        ``part_labels`` are ignored with a warning).

    Returns
    -------
    dict
        ``{"seed": int, "train": [...], "val": [...], "test": [...]}``, each list
        of part ids sorted.

    Raises
    ------
    DatasetError
        If a class has too few parts to give each split at least one part.
    """
    by_class: dict[str, list[str]] = {}
    for part, label in part_labels.items():
        by_class.setdefault(label, []).append(part)
    fixed_test: set[str] = set()
    if test_parts is not None:
        fixed_test = {p for p in test_parts if p in part_labels}
        unknown = sorted(set(test_parts) - fixed_test)
        if unknown:
            log.warning(
                "test_parts.txt: %d part ids are not labelled meta-images here, ignored: %s",
                len(unknown),
                ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else ""),
            )
    out: dict[str, list[str]] = {s: [] for s in SPLITS}
    for label in sorted(by_class):
        parts = sorted(by_class[label])
        # A per-class generator derived from the seed and the class name: adding a
        # class does not reshuffle the others.
        rng = np.random.default_rng([seed, zlib.crc32(label.encode("utf-8"))])
        if test_parts is not None:
            test = [p for p in parts if p in fixed_test]
            rest = [p for p in parts if p not in fixed_test]
            if not test:
                log.warning(
                    "test_parts.txt lists no part of class %r: it has no test metrics", label
                )
            if len(rest) < 2:
                raise DatasetError(
                    f"class {label!r}: expected at least 2 parts outside test_parts.txt (one for "
                    f"training, one for validation), found {len(rest)}"
                )
            rest = [rest[i] for i in rng.permutation(len(rest))]
            n_val = min(max(1, round(val_fraction * len(parts))), len(rest) - 1)
            out["test"] += test
            out["val"] += rest[:n_val]
            out["train"] += rest[n_val:]
            continue
        n = len(parts)
        if n < 3:
            raise DatasetError(
                f"class {label!r}: expected at least 3 labelled parts (one each for training, "
                f"validation and test), found {n}; add parts or list test parts in test_parts.txt"
            )
        n_test = max(1, round(test_fraction * n))
        n_val = max(1, round(val_fraction * n))
        while n_test + n_val > n - 1:  # keep at least one part to train on
            if n_test >= n_val:
                n_test -= 1
            else:
                n_val -= 1
        order = [parts[i] for i in rng.permutation(n)]
        out["test"] += order[:n_test]
        out["val"] += order[n_test : n_test + n_val]
        out["train"] += order[n_test + n_val :]
    return {"seed": int(seed), **{s: sorted(out[s]) for s in SPLITS}}


def class_counts(rows: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> dict[str, int]:
    """Return label -> number of meta-images in ``rows`` (0 for absent labels)."""
    counts = Counter(r["label"] for r in rows)
    return {label: counts.get(label, 0) for label in labels}


def class_weights(rows: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> dict[int, float]:
    """Inverse-frequency class weights of the training rows (``n / (k * n_c)``).

    Returns class index -> weight; a balanced split gives 1.0 for every class.
    """
    counts = class_counts(rows, labels)
    n, k = sum(counts.values()), len(labels)
    return {i: (n / (k * counts[lab]) if counts[lab] else 0.0) for i, lab in enumerate(labels)}
