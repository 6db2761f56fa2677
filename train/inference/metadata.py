"""A model's labels, meta-image layout and sidecar: read and checked before it is used.

Every model, from a run or a file, comes with ``labels.json`` (class names in output
order) and ``metaimage.json`` (the training dataset's layout, checked as
:class:`metaimage.meta.MetaImageInfo`, or the stand-in of a plain class-folder dataset).
A ``.tflite`` or ``.keras`` file may carry both in its sidecar ``<file>.json``
(:data:`SIDECAR_SUFFIX`), written by ``metaview export``. :func:`check_metadata` and
:func:`check_classes` refuse metadata that does not describe the model, so prediction
never guesses a grid or a class order.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from metaimage.errors import DatasetError
from metaimage.meta import MetaImageInfo
from train.errors import TrainError

SIDECAR_SUFFIX = ".json"  # model.tflite -> model.tflite.json


def is_class_folder_layout(metaimage: Any) -> bool:
    """True for the ``metaimage.json`` stand-in of a plain class-folder dataset."""
    return isinstance(metaimage, dict) and metaimage.get("layout") == "class-folders"


def check_metadata(labels: Any, metaimage: Any, where: str) -> tuple[list[str], dict]:
    """Check a model's labels and ``metaimage.json`` as read; return them unchanged.

    Parameters
    ----------
    labels : Any
        The parsed ``labels.json``: must be a non-empty list of str.
    metaimage : Any
        The parsed ``metaimage.json``: a dict valid as :class:`MetaImageInfo`, or the
        class-folder stand-in with at least ``grid`` and ``image_size``.
    where : str
        What they came from, for messages (``run <id>``, a path).

    Returns
    -------
    labels : list of str
    metaimage : dict

    Raises
    ------
    TrainError
        Naming ``where`` and what is wrong.
    """
    if not isinstance(labels, list) or not labels or not all(isinstance(s, str) for s in labels):
        raise TrainError(
            f"{where}: expected labels as a non-empty JSON list of class names, found {labels!r}"
        )
    if not isinstance(metaimage, dict):
        raise TrainError(
            f"{where}: expected metaimage.json as a JSON object, found {type(metaimage).__name__}"
        )
    if is_class_folder_layout(metaimage):
        missing = [k for k in ("grid", "image_size") if k not in metaimage]
        if missing:
            raise TrainError(f"{where}: metaimage.json lacks keys {missing}")
        return labels, metaimage
    try:
        MetaImageInfo.from_dict(metaimage, where=f"{where}: metaimage.json")
    except DatasetError as exc:
        raise TrainError(str(exc)) from None
    return labels, metaimage


def check_classes(n: int, labels: Sequence[str], where: str) -> None:
    """Refuse (TrainError) a model whose ``n`` outputs are not one per label."""
    if int(n) != len(labels):
        raise TrainError(
            f"{where}: the model has {n} outputs but labels.json lists {len(labels)} classes"
        )


def find_json(candidates: Iterable[Path]) -> Any:
    """The parsed JSON of the first existing file of ``candidates``, None if none exists.

    Raises
    ------
    TrainError
        If that file is not valid JSON.
    """
    for p in candidates:
        if p.is_file():
            try:
                return json.loads(p.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise TrainError(f"{p}: expected JSON, could not parse it: {exc}") from None
    return None


def read_sidecar(path: str | os.PathLike) -> dict:
    """Read the ``<model>.json`` sidecar of a ``.tflite`` or ``.keras`` file.

    Raises
    ------
    TrainError
        If it is missing or lacks labels or metaimage.
    """
    path = Path(path)
    side = path.with_name(path.name + SIDECAR_SUFFIX)
    data = find_json([side])
    if data is None:
        raise TrainError(
            f"{path}: its sidecar {side.name} (labels and render config) is missing; "
            "export the model again with metaview export"
        )
    if not isinstance(data, dict):
        raise TrainError(f"{side}: expected a JSON object, found {type(data).__name__}")
    check_metadata(data.get("labels"), data.get("metaimage"), str(side))
    want = data.get("tflite_sha256")  # written by metaview export since the sidecar has it
    if want and path.is_file():
        from metaimage.io import file_digest

        found = file_digest(path)[1]
        if found != want:
            raise TrainError(
                f"{path}: its sidecar {side.name} was written for another model file "
                f"(sha256 {want[:12]}..., this file has {found[:12]}...); export the model "
                "again with metaview export"
            )
    return data
