"""Meta-images -> EfficientNet classifier, tracked in MLflow; prediction and export.

Importing this package is cheap: TensorFlow, Keras, MLflow and matplotlib are
imported only by the modules that need them (``train.data``, ``train.model``,
``train.fit``, ``train.tracking``, ``train.plots``), never by ``train`` itself
or by ``train.cli``.

The training pipeline, in order:

- :mod:`train.config`   ``TrainConfig``, the frozen, validated training configuration;
- :mod:`train.data`     read a rendered dataset folder, split by part, tf.data pipeline;
- :mod:`train.augment`  tile-shuffle augmentation as TensorFlow ops;
- :mod:`train.model`    EfficientNetB0-B7 registry and the classifier head;
- :mod:`train.fit`      ``train(cfg, dataset_dir)``: fit, evaluate, log one MLflow run;
- :mod:`train.tracking` the one adapter between metaview and MLflow;
- :mod:`train.plots`    confusion matrix, training curves, misclassified contact sheet.
"""

from train.errors import TrainError

__all__ = ["TrainError"]
