"""The Keras callback that logs a training run's metrics every epoch and keeps it alive.

:meth:`train.tracking.run.TrainRun.epoch_logger` returns it. Keras is imported
inside :func:`make_epoch_logger`, so importing this module is cheap.
"""

from __future__ import annotations

import logging

from train.tracking.names import EPOCH_METRICS

log = logging.getLogger(__name__)


def make_epoch_logger(run, prefix: str = ""):
    """Return a Keras callback that logs :data:`EPOCH_METRICS` and ``lr`` to ``run`` every epoch.

    Parameters
    ----------
    run : train.tracking.run.TrainRun
        The started run: its ``log_metrics`` and ``heartbeat`` are called.
    prefix : str
        Put before every metric's name: a part of a model trained on its own
        (``"views."``: ``views.val_loss``) keeps its curves apart from the model's.

    Returns
    -------
    keras.callbacks.Callback
    """
    import keras

    class EpochLogger(keras.callbacks.Callback):
        """Log the epoch's metrics and learning rate to the run (step = epoch - 1, from 0),
        and keep the run's heartbeat fresh (every epoch, at most every minute within one)."""

        def on_train_batch_end(self, batch, logs=None):
            run.heartbeat(force=False)

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            metrics = {k: logs[k] for k in EPOCH_METRICS if k in logs}
            try:
                metrics["lr"] = float(
                    keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)
                )
            except Exception as err:  # never let logging stop training
                log.warning("could not read the learning rate: %s", err)
            run.log_metrics({prefix + k: v for k, v in metrics.items()}, step=int(epoch))
            run.heartbeat()

    return EpochLogger()
