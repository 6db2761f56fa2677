"""``--model SPEC``: what a user may name a model by, parsed before anything is loaded.

:func:`parse_model_spec` applies these checks, in this order, and the first that
matches decides:

1. ``"best"``: the best finished training run of the experiment
   (:mod:`train.tracking.selection`), even if a file named ``best`` exists;
2. ``"champion"``: the run behind the experiment's champion,
   ``metaview-<experiment>@champion`` (one registered model per experiment);
3. a **path**: the text contains a path separator, ends in ``.tflite`` or
   ``.keras``, or names an existing file or folder. Which layout it is (a
   ``.tflite`` file with its sidecar, a ``.keras`` file, an MLflow model folder,
   a folder of downloaded run artifacts) is decided when it is loaded;
4. a **run id**: 32 lowercase hexadecimal characters, as MLflow writes them;
5. anything else is an error, raised here, before MLflow is touched.

A path comes before a run id so that a file whose name happens to be 32 hex
characters is still a file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from train.errors import TrainError
from train.tracking.names import CHAMPION_ALIAS

BEST = "best"
CHAMPION = CHAMPION_ALIAS
MODEL_SUFFIXES = (".tflite", ".keras")

_RUN_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class ModelRef:
    """A parsed ``--model`` spec.

    Attributes
    ----------
    kind : {"best", "champion", "path", "run"}
    value : str
        The spec as given (the path, or the run id).
    """

    kind: str
    value: str


def parse_model_spec(spec: str) -> ModelRef:
    """Classify a ``--model`` spec (see the module docstring for the order of the checks).

    Raises
    ------
    TrainError
        If it is none of ``best``, ``champion``, a path or a run id.
    """
    spec = str(spec)
    if spec == BEST:
        return ModelRef("best", spec)
    if spec == CHAMPION:
        return ModelRef("champion", spec)
    if os.sep in spec or "/" in spec or spec.endswith(MODEL_SUFFIXES) or Path(spec).exists():
        return ModelRef("path", spec)
    if _RUN_ID.match(spec):
        return ModelRef("run", spec)
    raise TrainError(
        f"--model {spec!r}: expected 'best', 'champion', a run id (32 hex characters) or a path to "
        "a model (.keras, .tflite, MLflow model folder), and no such file exists"
    )
