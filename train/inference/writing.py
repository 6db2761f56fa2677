"""The exported files: the ``.tflite`` model and its sidecar ``OUT.tflite.json``.

The sidecar carries what ``metaview predict --model OUT.tflite`` needs beside the file:
the labels, the render config, the feature family (``"features"``, "" for an image
model), the quantisation parameters and the SHA-256 of the model it belongs to.
:func:`check_writable` refuses an output path before any work; :func:`write_model`
writes the pair, each file atomically.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from train.inference.export_options import ExportError
from train.inference.metadata import SIDECAR_SUFFIX
from train.inference.tflite import TFLiteModel


def check_writable(out: str | os.PathLike) -> Path:
    """Check that ``out`` (a ``.tflite`` path) and its sidecar can be written.

    Creates missing parent folders. Raises ExportError otherwise.
    """
    out = Path(out)
    if out.suffix != ".tflite":
        raise ExportError(f"{out}: expected an output path ending in .tflite")
    if out.is_dir():
        raise ExportError(f"{out}: is a folder; expected a .tflite file path")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out.parent, prefix=f".{out.name}.", suffix=".probe"):
            pass
    except OSError as exc:
        raise ExportError(f"{out}: cannot write there: {exc.strerror or exc}") from None
    for p in (out, out.with_name(out.name + ".json")):
        if p.exists() and not os.access(p, os.W_OK):
            raise ExportError(f"{p}: exists and cannot be overwritten (no write permission)")
    return out


def sidecar_for(loaded, mode: str, io_type: str, flat: bytes, quant: TFLiteModel) -> dict[str, Any]:
    """What ``metaview predict --model OUT.tflite`` needs beside the file.

    Parameters
    ----------
    loaded : LoadedModel
        The run's Keras model: its labels, render config, input size and feature family.
    mode, io_type : str
        The export's quantisation mode and input/output type.
    flat : bytes
        The ``.tflite`` model, whose SHA-256 ties the sidecar to it.
    quant : TFLiteModel
        The converted model, for its input and output quantisation parameters.

    Returns
    -------
    dict
        The JSON-ready sidecar (``format`` 1).
    """
    from metaimage.io import sha256_hex

    return {
        "format": 1,
        "labels": loaded.labels,
        "metaimage": loaded.metaimage,
        "image_size": loaded.image_size,
        # What predict computes for the input: "" = the resized meta-image, else this family.
        "features": loaded.features,
        # One sigmoid per direction (--objective sets): predict names a set, not one class.
        "multi_label": bool(loaded.multi_label),
        "quantization": {
            "mode": mode,
            "io_type": io_type,
            "input": _quant_params(quant.input),
            "output": _quant_params(quant.output),
        },
        # The sidecar belongs to these bytes: a loader refuses a model beside another's.
        "tflite_sha256": sha256_hex(flat),
        "run_id": loaded.run_id,
        "source": loaded.source,
    }


def sidecar_path(out: Path) -> Path:
    """The sidecar of a ``.tflite`` path: ``OUT.tflite.json`` beside it."""
    return out.with_name(out.name + SIDECAR_SUFFIX)


def write_model(out: Path, flat: bytes, sidecar: dict[str, Any]) -> dict[str, Any]:
    """Write the ``.tflite`` file and its sidecar together, each atomically; return ``sidecar``.

    The sidecar goes first, then the model, each through :func:`metaimage.io.
    atomic_write_bytes`. A reader sees the old pair, the new pair, or (if the process
    dies between the two) a new sidecar beside an old model, which ``tflite_sha256``
    lets it refuse; never a half-written file nor a new model without its sidecar.
    """
    from base.files import atomic_write_bytes
    from metaimage.io import write_json

    try:
        write_json(sidecar_path(out), sidecar)
        atomic_write_bytes(out, flat)
    except OSError as exc:
        raise ExportError(f"{out}: cannot write the model and its sidecar: {exc}") from None
    return sidecar


def _quant_params(detail: dict) -> dict:
    """An interpreter tensor's dtype name, scale and zero point, JSON-ready."""
    scale, zero = detail["quantization"]
    return {"dtype": np.dtype(detail["dtype"]).name, "scale": float(scale), "zero_point": int(zero)}
