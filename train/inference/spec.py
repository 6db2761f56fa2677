"""``--model SPEC``: what a user may name a model by, parsed before anything is loaded.

The grammar (:data:`SPEC_FORMS` lists it for messages)::

    SPEC := "best" | "champion"
          | "runs:/" RUN_ID ["/" ARTIFACT_PATH]           a run, as MLflow names its artifacts
          | "models:/" NAME "/" (VERSION | "latest")      a version of a registered model
          | "models:/" NAME "@" ALIAS                     the version an alias points at
          | "file:" PATH                                  a path, said explicitly
          | RUN_ID                                        32 lowercase hexadecimal characters
          | PATH                                          a path, without a prefix

:func:`parse_model_spec` applies these checks, in this order, and the first that
matches decides:

1. ``"best"``: the best finished training run of the experiment
   (:mod:`train.tracking.selection`), even if a file named ``best`` exists;
2. ``"champion"``: the run behind the experiment's champion,
   ``metaview-<experiment>@champion`` (one registered model per experiment);
3. an **explicit prefix**, read before anything is guessed (as timm reads ``hf-hub:``):

   - ``runs:/RUN_ID[/ARTIFACT_PATH]`` (what ``metaview train`` prints): the run
     ``RUN_ID``, loaded as a bare run id is. The artifact path (``model``) is kept
     but the run's own model and metadata are loaded;
   - ``models:/NAME/VERSION``, ``models:/NAME/latest`` (any case, as MLflow reads it)
     or ``models:/NAME@ALIAS``: a registered model version, loaded from the run that
     logged it (its labels.json, metaimage.json and split.json come from that run).
     MLflow's stage suffixes (``models:/NAME/Production``) are refused: stages are
     deprecated in MLflow 3, aliases replace them;
   - ``file:PATH`` (also a ``file://`` URI): a path, whatever it looks like.

   A malformed one (``runs:/`` without an id, ``models:/`` without a name or
   version) is an error about that form. Any other URI scheme followed by ``/``
   (``s3://``, ``dbfs:/``, ``http://``) is refused, listing the accepted forms: a
   local path that starts so is given as ``file:PATH`` or ``./PATH``;
4. a **path**: the text contains a path separator, ends in ``.tflite`` or
   ``.keras``, or names an existing file or folder. Which layout it is (a
   ``.tflite`` file with its sidecar, a ``.keras`` file, an MLflow model folder,
   a folder of downloaded run artifacts) is decided when it is loaded. A ``:``
   elsewhere (``exp:1/model.keras``, ``model:v2.keras``) does not make it a URI;
5. a **run id**: 32 lowercase hexadecimal characters, as MLflow writes them, or its first 8
   or more (``metaview runs`` shows the first 8): a ``run-prefix``, resolved against the
   experiment's training runs (:func:`train.inference.resolve.resolve_run_id`);
6. anything else is an error listing every accepted form, raised here, before
   MLflow is touched.

A path comes before a run id so that a file whose name happens to be 32 hex
characters is still a file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from train.errors import TrainError
from train.tracking.names import CHAMPION_ALIAS, MODEL_ARTIFACT

BEST = "best"
CHAMPION = CHAMPION_ALIAS
MODEL_SUFFIXES = (".tflite", ".keras")
RUNS_PREFIX = "runs:/"
MODELS_PREFIX = "models:/"
FILE_PREFIX = "file:"
LATEST = "latest"

#: Every accepted form, for messages (``--help`` says the same in train/cli_model.py).
SPEC_FORMS = (
    "'best', 'champion', a run id (32 hex characters, or its first 8 or more as 'metaview "
    "runs' shows them), runs:/RUN_ID/model, "
    "models:/NAME/VERSION, models:/NAME/latest, models:/NAME@ALIAS, file:PATH or a path to a "
    "model (.keras, .tflite, an MLflow model folder, a folder of run artifacts)"
)

_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_RUN_PREFIX = re.compile(r"^[0-9a-f]{8,31}$")
# A URI scheme of two characters or more (so C:/ stays a Windows drive) followed by "/".
_URI_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):/")
_VERSION = re.compile(r"^[0-9]+$")


@dataclass(frozen=True)
class ModelRef:
    """A parsed ``--model`` spec.

    Attributes
    ----------
    kind : {"best", "champion", "path", "run", "run-prefix", "registered"}
    value : str
        ``best``/``champion``: the keyword; ``path``: the path (without ``file:``);
        ``run``: the run id; ``run-prefix``: the first characters of one;
        ``registered``: the registered model's name.
    version : str
        ``registered``: the version number, or ``"latest"``; "" with an alias.
    alias : str
        ``registered``: the alias; "" with a version.
    artifact_path : str
        ``run`` given as ``runs:/RUN_ID/PATH``: that artifact path ("" for a bare run id).
    """

    kind: str
    value: str
    version: str = ""
    alias: str = ""
    artifact_path: str = ""

    @property
    def uri(self) -> str:
        """The spec as an MLflow URI (``runs:/…``, ``models:/…``), or the value itself."""
        if self.kind == "run":
            return f"{RUNS_PREFIX}{self.value}/{self.artifact_path or MODEL_ARTIFACT}"
        if self.kind == "registered":
            suffix = f"@{self.alias}" if self.alias else f"/{self.version}"
            return f"{MODELS_PREFIX}{self.value}{suffix}"
        return self.value


def _refuse(spec: str, why: str) -> TrainError:
    return TrainError(f"--model {spec!r}: {why}; expected {SPEC_FORMS}")


def _parse_runs(spec: str) -> ModelRef:
    run_id, _, artifact_path = spec[len(RUNS_PREFIX) :].partition("/")
    if not run_id.strip():
        raise _refuse(spec, "runs:/ needs a run id, as in runs:/RUN_ID/model")
    return ModelRef("run", run_id, artifact_path=artifact_path.strip("/"))


def _parse_models(spec: str) -> ModelRef:
    rest = spec[len(MODELS_PREFIX) :]
    name, slash, suffix = rest.partition("/")
    if slash:
        if not name.strip():
            raise _refuse(spec, "models:/ needs a registered model name, as in models:/NAME/1")
        if _VERSION.match(suffix):
            return ModelRef("registered", name, version=str(int(suffix)))
        if suffix.lower() == LATEST:
            return ModelRef("registered", name, version=LATEST)
        if not suffix:
            raise _refuse(spec, "models:/NAME/ needs a version number or 'latest' after it")
        raise _refuse(
            spec,
            f"{suffix!r} is not a version number, 'latest' or an alias (stages are not "
            f"supported: point an alias at the version and use models:/{name}@ALIAS)",
        )
    name, at, alias = rest.rpartition("@")
    if at and name.strip() and alias.strip():
        return ModelRef("registered", name, alias=alias)
    if not rest.strip() or (at and not name.strip()):
        raise _refuse(spec, "models:/ needs a registered model name, as in models:/NAME/1")
    if at:
        raise _refuse(spec, "models:/NAME@ needs an alias after the '@'")
    raise _refuse(spec, "models:/NAME needs a version, as in models:/NAME/1, /latest or @ALIAS")


def _parse_file(spec: str) -> ModelRef:
    rest = spec[len(FILE_PREFIX) :]
    if rest.startswith("//"):  # a file URI: file:///abs/path, file://localhost/abs/path
        parts = urlsplit(spec)
        if parts.netloc not in ("", "localhost"):
            raise _refuse(spec, f"a file URI on another host ({parts.netloc}) is not a local path")
        rest = unquote(parts.path)
    if not rest:
        raise _refuse(spec, "file: needs a path, as in file:model.keras")
    return ModelRef("path", rest)


def parse_model_spec(spec: str) -> ModelRef:
    """Classify a ``--model`` spec (see the module docstring for the grammar and the order).

    Raises
    ------
    TrainError
        If it is none of the accepted forms, or a malformed ``runs:/``, ``models:/`` or
        ``file:`` spec; the message lists every accepted form.
    """
    spec = str(spec)
    if spec == BEST:
        return ModelRef("best", spec)
    if spec == CHAMPION:
        return ModelRef("champion", spec)
    if spec.startswith("runs:"):
        if not spec.startswith(RUNS_PREFIX):
            raise _refuse(spec, "expected runs:/RUN_ID/model")
        return _parse_runs(spec)
    if spec.startswith("models:"):
        if not spec.startswith(MODELS_PREFIX):
            raise _refuse(spec, "expected models:/NAME/VERSION or models:/NAME@ALIAS")
        return _parse_models(spec)
    if spec.startswith(FILE_PREFIX):
        return _parse_file(spec)
    scheme = _URI_SCHEME.match(spec)
    if scheme:
        raise _refuse(
            spec,
            f"{scheme.group(1)}: URIs are not read (a local path that starts so: file:{spec} "
            f"or ./{spec})",
        )
    if os.sep in spec or "/" in spec or spec.endswith(MODEL_SUFFIXES) or Path(spec).exists():
        return ModelRef("path", spec)
    if _RUN_ID.match(spec):
        return ModelRef("run", spec)
    if _RUN_PREFIX.match(spec):
        return ModelRef("run-prefix", spec)
    raise TrainError(f"--model {spec!r}: expected {SPEC_FORMS}, and no such file exists")
