"""A run's model as an MLflow pyfunc that serves: mesh or meta-image bytes in, the answer out.

``metaview train`` logs it as the run's artifact ``pyfunc`` (:func:`log_pyfunc`), written as
*models from code*: the model is the script :mod:`train.inference.pyfunc_code`, which MLflow
runs to build a :class:`MetaviewModel` — no pickled instance anywhere. Its artifact ``run``
carries what predicting needs, offline: the Keras model (backbone weights included),
``labels.json`` and ``metaimage.json``. The experiment's champion alias points at it, so::

    mlflow models serve -m models:/metaview-EXPERIMENT@champion --env-manager local -p 5001
    curl -s localhost:5001/invocations -H 'Content-Type: application/json' -d '{
      "dataframe_records": [{"name": "bracket.stl", "format": "stl", "content": "<base64>"}]}'

Input, one row per part: ``content`` (the file's bytes, base64), ``format`` (its suffix:
stl, obj, ply, off, glb, step, stp or png) and, optionally, ``name``. Output, one row per
part: ``name``, ``label``, ``probability``, ``probabilities`` (JSON, class -> probability)
and ``reachable`` (the directions that reach every feature face, ``|``-joined; empty for an
undercut; null for a PNG, which has no geometry). A row whose bytes are not what its format
says fails the request with HTTP 400 and a message naming the row and what was wrong; the
server keeps serving.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import tempfile
from pathlib import Path

from train.errors import TrainError
from train.tracking.names import PYFUNC_ARTIFACT

log = logging.getLogger(__name__)

#: What a row's ``format`` may be.
FORMATS = ("stl", "obj", "ply", "off", "glb", "step", "stp", "png")
INPUT_COLUMNS = ("name", "format", "content")
OUTPUT_COLUMNS = ("name", "label", "probability", "probabilities", "reachable")


def code_path() -> str:
    """The models-from-code script MLflow runs to build the model."""
    return str(Path(__file__).with_name("pyfunc_code.py"))


def signature():
    """The pyfunc's input and output schema (strings in, strings and a number out)."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    inputs = Schema(
        [
            ColSpec("string", "name", required=False),
            ColSpec("string", "format"),
            ColSpec("string", "content"),
        ]
    )
    outputs = Schema(
        [
            ColSpec("string", "name"),
            ColSpec("string", "label"),
            ColSpec("double", "probability"),
            ColSpec("string", "probabilities"),
            ColSpec("string", "reachable", required=False),
        ]
    )
    return ModelSignature(inputs=inputs, outputs=outputs)


def _bad_request(message: str):
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


def decode_rows(frame) -> list[tuple[str, str, bytes]]:
    """``(name, format, bytes)`` per row of an input frame.

    Raises
    ------
    MlflowException
        INVALID_PARAMETER_VALUE (HTTP 400), naming the row: a missing column, an unknown
        format, content that is not base64 or is empty.
    """
    missing = [c for c in ("format", "content") if c not in frame.columns]
    if missing:
        raise _bad_request(
            f"expected columns format and content (and optionally name), missing {missing}"
        )
    rows = []
    for i, rec in enumerate(frame.to_dict("records")):
        name = str(rec.get("name") or f"row{i}")
        fmt = str(rec.get("format") or "").lower().lstrip(".")
        if fmt not in FORMATS:
            raise _bad_request(
                f"row {i} ({name}): format {rec.get('format')!r} is not one of {', '.join(FORMATS)}"
            )
        try:
            data = base64.b64decode(str(rec.get("content") or ""), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _bad_request(f"row {i} ({name}): content is not base64: {exc}") from None
        if not data:
            raise _bad_request(f"row {i} ({name}): content is empty")
        rows.append((name, fmt, data))
    return rows


def make_model():
    """A new :class:`MetaviewModel` (``mlflow.pyfunc.PythonModel``), for the code script.

    The class is built here, not at import, so importing this module costs no MLflow.
    """
    import mlflow.pyfunc

    class MetaviewModel(mlflow.pyfunc.PythonModel):
        """Predicts parts from their bytes with the run's model (module docstring)."""

        def load_context(self, context):
            from render.worker import MeshRenderer
            from train.inference.loading import load_path_model

            self.loaded = load_path_model(context.artifacts["run"])
            config = self.loaded.metaimage.get("config", {}) if self.loaded.can_render else {}
            # One render worker for the server's life: a part then costs no process start.
            self.renderer = MeshRenderer(config)

        def predict(self, context, model_input, params=None):
            import pandas as pd

            from train.inference import predict_files

            rows = decode_rows(model_input)
            with tempfile.TemporaryDirectory(prefix="metaview-serve-") as tmp:
                paths = []
                for i, (_, fmt, data) in enumerate(rows):
                    path = Path(tmp) / f"part{i:04d}.{fmt}"
                    path.write_bytes(data)
                    paths.append(path)
                preds = predict_files(paths, self.loaded, renderer=self.renderer)
            out = []
            for i, ((name, _, _), p) in enumerate(zip(rows, preds, strict=True)):
                if not p.ok:
                    why = str(p.error).replace(str(paths[i]), name)
                    raise _bad_request(f"row {i} ({name}): {why}")
                out.append(
                    {
                        "name": name,
                        "label": p.label,
                        "probability": float(p.probability),
                        "probabilities": json.dumps(p.probabilities),
                        "reachable": None if p.reachable is None else "|".join(p.reachable),
                    }
                )
            return pd.DataFrame(out, columns=list(OUTPUT_COLUMNS))

    return MetaviewModel()


def write_run_folder(net, labels, metaimage: dict, folder: Path) -> Path:
    """What the pyfunc needs to predict, in ``folder``: ``model/`` (the Keras model as an
    MLflow model), ``labels.json``, ``metaimage.json``."""
    import mlflow.keras

    folder.mkdir(parents=True, exist_ok=True)
    mlflow.keras.save_model(net, str(folder / "model"))
    (folder / "labels.json").write_text(json.dumps(list(labels)))
    (folder / "metaimage.json").write_text(json.dumps(metaimage))
    return folder


def log_pyfunc(net, labels, metaimage: dict, pip_requirements: list[str] | None = None) -> None:
    """Log the served form of a model as the active run's artifact ``pyfunc``.

    Raises
    ------
    TrainError
        When MLflow refuses it (the caller decides whether that is fatal).
    """
    import mlflow.pyfunc

    with tempfile.TemporaryDirectory(prefix="metaview-pyfunc-") as tmp:
        run = write_run_folder(net, labels, metaimage, Path(tmp) / "run")
        try:
            mlflow.pyfunc.log_model(
                name=PYFUNC_ARTIFACT,
                python_model=code_path(),
                artifacts={"run": str(run)},
                signature=signature(),
                pip_requirements=pip_requirements,
            )
        except Exception as exc:  # MLflow's errors, file system errors: one message
            raise TrainError(f"could not log the served model ({PYFUNC_ARTIFACT}): {exc}") from exc
