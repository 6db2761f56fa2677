"""Using a trained model: load it from any spec, predict with it, export it to TFLite.

- :mod:`train.inference.spec`     ``--model SPEC`` parsed by explicit checks in a fixed
  order: ``best``, ``champion``, an explicit prefix (``runs:/``, ``models:/``, ``file:``),
  a path, a run id;
- :mod:`train.inference.resolve`  a spec that names a run (best, champion, runs:/,
  models:/, a run id) -> its run id;
- :mod:`train.inference.loading`  :func:`load_model`: a run's model (Keras, or compact
  where it can) or a model file -> :class:`LoadedModel`, its labels and meta-image
  layout checked by :mod:`~train.inference.metadata`;
- :mod:`train.inference.loaded`   :class:`LoadedModel` (Keras, TFLite or compact, with its
  labels, meta-image layout and input size): predicts, and refuses inputs it does not fit;
- :mod:`train.inference.tflite`   :class:`TFLiteModel`, the interpreter with (de)quantisation;
- :mod:`train.inference.predict`  :func:`predict_files`: meshes (rendered by
  :class:`render.worker.MeshRenderer`) and meta-image PNGs
  (:mod:`~train.inference.inputs`) -> :class:`Prediction`
  (:mod:`~train.inference.prediction`, with its text and JSON forms), each mesh's
  reachable set beside it (:mod:`~train.inference.reachability`);
- :mod:`train.inference.export`   ``metaview export``: TFLite in four modes, evaluated, in
  steps: :mod:`~train.inference.export_options` (modes, I/O types),
  :mod:`~train.inference.calibration` (int8 calibration inputs),
  :mod:`~train.inference.convert` (the conversion), :mod:`~train.inference.writing`
  (the ``.tflite`` file and its sidecar), :mod:`~train.inference.evaluation` (accuracy,
  latency and size beside Keras).

Runs are found and read through :mod:`train.tracking`; TensorFlow, Keras and MLflow
are imported inside the functions, so importing this package is cheap.
"""

from train.inference.inputs import load_png
from train.inference.loaded import LoadedModel
from train.inference.loading import load_model
from train.inference.predict import predict_files
from train.inference.prediction import Prediction, format_prediction
from train.inference.spec import ModelRef, parse_model_spec
from train.inference.tflite import TFLiteModel

__all__ = [
    "LoadedModel",
    "ModelRef",
    "Prediction",
    "TFLiteModel",
    "format_prediction",
    "load_model",
    "load_png",
    "parse_model_spec",
    "predict_files",
]
