"""Meta-images -> classifier, tracked in MLflow; prediction and export.

The package, by concern:

- :mod:`train.config`     ``TrainConfig``, the frozen, validated training configuration
  (its fields' help texts are ``metaview train``'s options);
- :mod:`train.data`       read a rendered dataset folder (or plain class folders of PNGs)
  and check it; one split's meta-images;
- :mod:`train.split`      the split by part (stratified, seeded), class counts and weights;
- :mod:`train.pipeline`   the tf.data pipeline and the one resize (``prepare_images``);
- :mod:`train.augment`    tile-shuffle augmentation as TensorFlow ops;
- :mod:`train.models`     the model registry (``create_model(name, ...)``, ``list_models()``)
  and the families in it (``train.models.efficientnet``), the classifier head and what
  training does to it (``train.models.classifier``);
- :mod:`train.metrics`    confusion matrix, accuracy and macro precision/recall/F1, as
  NumPy functions and as Keras metrics;
- :mod:`train.fit`        ``train(cfg, dataset_dir)``: the pipeline of one MLflow run, step by
  step, over :mod:`train.model_setup` (the model to start from), :mod:`train.loop` (the Keras
  training loop, head on cached features or images), :mod:`train.evaluate` (the test split,
  scored by part) and :mod:`train.records` (what the run logs);
- :mod:`train.featurize`, :mod:`train.features`, :mod:`train.runtimes`  feature matrices
  (backbone features on TensorFlow, LiteRT or OpenVINO; colour features; the mesh's face
  normals, :mod:`geometry.normals`), cached;
- :mod:`train.plots`      every plot, one module each: confusion matrix, training curves,
  misclassified contact sheet, valid-set scores, the runs' validation curves; fonts;
- :mod:`train.tracking`   the only code that talks to MLflow: store, run adapter, tag
  names, best-run selection, champion promotion, reading runs back;
- :mod:`train.inference`  load a model from any ``--model`` spec, predict, export to TFLite;
- :mod:`train.runs`       ``metaview runs``: the runs as a table, CSV and plot; stale runs;
- :mod:`train.console`    what a person sees while training or converting: TensorFlow's
  native log lines sent to the debug log, the epochs through base.progress, the first-step
  notice;
- :mod:`train.cli`, :mod:`train.cli_model`  the ``train``, ``predict``, ``runs`` and
  ``export`` sub-commands (thin: parse, build a config, call one function).

Dependencies point one way: ``fit`` -> ``loop``, ``evaluate``, ``records``, ``models``,
``metrics``, ``plots``, ``tracking``, ``inference`` (for ``--init-from``); ``inference`` ->
``tracking``; ``tracking`` imports none of them.

Importing this package is cheap: TensorFlow, Keras, MLflow and matplotlib are
imported only inside the functions that need them, never by ``train`` itself or
by ``train.cli``.
"""

from train.errors import TrainError

__all__ = ["TrainError"]
