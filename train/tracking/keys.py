"""Param and metric keys as MLflow accepts them: nested params flattened, class names made safe.

MLflow rejects a whole logging batch for one bad key, and class folders such as
``+X`` are natural: :func:`class_keys` gives every class of a run its own safe
key part, which :class:`train.tracking.run.TrainRun` and :mod:`train.records`
put into ``n.<split>.<key>``, ``test_recall.<key>`` and the like.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Flatten nested dicts into ``{"a.b": "value"}`` strings, as MLflow params want."""
    out: dict[str, str] = {}
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        elif isinstance(value, (list, tuple)):
            out[name] = json.dumps(list(value))
        else:
            out[name] = str(value)
    return out


_KEY_UNSAFE = re.compile(r"[^\w\-. /]")


def key_part(label: str) -> str:
    """A class name made safe inside an MLflow param or metric key.

    MLflow accepts letters, digits, ``_ - . /`` and spaces in keys and rejects the
    whole logging batch otherwise; class folders like ``+X`` are natural, so other
    characters become ``_`` here (``labels.json`` keeps the real names). Two
    names may give the same key (``+X``, ``_X``): use :func:`class_keys`.
    """
    return _KEY_UNSAFE.sub("_", label)


def class_keys(labels: Sequence[str]) -> dict[str, str]:
    """Map each class name to its MLflow key part: :func:`key_part`, made unique.

    A name whose safe form another name already took gets ``_2``, ``_3``, ...
    (in ``labels`` order): ``["+X", "_X"]`` -> ``{"+X": "_X", "_X": "_X_2"}``.
    Pass every class of the run, in model output order, so a class always gets
    the same key.
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    for label in labels:
        if label in out:
            continue
        base = key_part(label)
        key, n = base, 1
        while key in taken:
            n += 1
            key = f"{base}_{n}"
        out[label] = key
        taken.add(key)
    return out
