"""What a person sees while a command trains or converts: no native log noise, plain progress.

TensorFlow writes its C++ log (oneDNN notices, CPU feature lines, absl's
"WARNING: All log messages before absl::InitializeLog() ..." and the TFLite
converter's ``W0000 ...`` lines) straight to file descriptor 2, past Python's
logging and past ``TF_CPP_MIN_LOG_LEVEL`` in TF 2.21. :func:`native_stderr_to_log`
sends fd 2 to a temporary file for a block and logs what was written at DEBUG,
so it shows only with ``metaview -v``. :func:`import_tensorflow` imports
TensorFlow and Keras that way (the import is where all of it is printed: TF 2.21
writes the absl and oneDNN lines there, twice each, whatever ``TF_CPP_MIN_LOG_LEVEL``
says). :func:`quiet_tensorflow_import`, which the ``metaview`` command calls first,
does the same for whichever code imports TensorFlow first (``import keras`` in a
library function, as when the demo calls ``train.fit.train``).

For ``model.fit``: :func:`epoch_progress` shows the epochs through the project's one
progress reporter (:mod:`base.progress`: a bar on a terminal, one plain line per epoch
with its losses in a log file; none with ``--no-progress``, :func:`fit_verbosity`), in
place of Keras' own display, and :func:`compile_notice` says that the first training step
builds the graph, which takes tens of seconds on a CPU before any progress appears.

TensorFlow and Keras are imported inside the functions.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import logging
import os
import sys
import tempfile
import time

log = logging.getLogger(__name__)


def _verbose() -> bool:
    return logging.getLogger().isEnabledFor(logging.DEBUG)


@contextlib.contextmanager
def native_stderr_to_log(what: str, enabled: bool | None = None):
    """Send file descriptor 2 to a temporary file for the block; log what it got at DEBUG.

    Parameters
    ----------
    what : str
        Named in the log line ("TensorFlow import", "TFLite conversion").
    enabled : bool, optional
        Default: unless the root logger shows DEBUG (``metaview -v``), where
        everything stays on the terminal as it comes.

    If the block raises, what was captured is logged at WARNING instead: it may
    say why. Python's own ``sys.stderr`` writes in the block are captured too.
    """
    if enabled is None:
        enabled = not _verbose()
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    failed = False
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", "replace").strip()
            if text:
                log.log(logging.WARNING if failed else logging.DEBUG, "%s said:\n%s", what, text)


def import_tensorflow() -> None:
    """Import TensorFlow and Keras with their native start-up log kept off the terminal."""
    with native_stderr_to_log("TensorFlow import"):
        import keras  # noqa: F401
        import tensorflow  # noqa: F401


class _QuietLoader(importlib.abc.Loader):
    """Runs the real loader of ``tensorflow`` inside :func:`native_stderr_to_log`."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        # Put the real loader back first: the package and its users see a normal module.
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        with native_stderr_to_log("TensorFlow import"):
            self._loader.exec_module(module)


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` with the other finders and wraps its loader in :class:`_QuietLoader`."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _QuietLoader(spec.loader)
        return spec


def quiet_tensorflow_import() -> None:
    """Keep TensorFlow's native start-up lines off the terminal wherever it is first imported.

    Installs an import hook: the first ``import tensorflow`` of the process (direct, or
    through ``import keras``) runs inside :func:`native_stderr_to_log`, so its lines go
    to the debug log unless the root logger shows DEBUG (``metaview -v``), decided at
    the import. Call it once logging is configured; idempotent; does nothing once
    TensorFlow is imported. Only this process: a child process that imports TensorFlow
    calls it (or :func:`import_tensorflow`) itself.
    """
    if "tensorflow" in sys.modules:
        return
    if any(isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _QuietTensorFlowFinder())


def fit_verbosity(no_progress: bool = False) -> int:
    """``verbose`` of :func:`train.fit.train`: 0 with ``no_progress``, else 1 (the epochs
    shown by :func:`epoch_progress`)."""
    return 0 if no_progress else 1


#: Epoch metrics shown beside the count, in this order, where the model logs them.
_SHOWN = ("loss", "val_loss", "accuracy", "val_accuracy")


def epoch_progress(epochs: int, initial_epoch: int = 0, *, file=None, tty: bool | None = None):
    """A Keras callback that reports epochs through :class:`base.progress.Progress`.

    Parameters
    ----------
    epochs : int
        The ``epochs`` given to ``fit`` (the last epoch number); ``initial_epoch`` of them
        are already done.
    file, tty :
        As for :class:`~base.progress.Progress` (tests pass a stream).

    Returns
    -------
    keras.callbacks.Callback
        A bar on a terminal; in a log, one line per epoch with the losses and a final
        line (early stopping ends it before ``epochs``: the count says where).
    """
    import keras

    from base.progress import Progress

    class EpochProgress(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self._bar = Progress(
                max(0, epochs - initial_epoch), "train", "epoch",
                enabled=True, file=file, interval=0.0, tty=tty,
            )  # fmt: skip

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            self._bar.set_postfix(**{k: f"{float(logs[k]):.4g}" for k in _SHOWN if k in logs})
            self._bar.update(1)

        def on_train_end(self, logs=None):
            self._bar.close()

    return EpochProgress()


def compile_notice():
    """A Keras callback that announces the first step's graph build and reports its time.

    Logs at INFO when training starts ("building the training graph ...") and
    after the first batch ("... first step took 23 s"); once per ``fit``.
    """
    import keras

    class CompileNotice(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self._t0: float | None = None

        def on_train_begin(self, logs=None):
            self._t0 = time.perf_counter()
            log.info(
                "building the training graph: the first step takes longer than the others "
                "(up to tens of seconds for a whole network on a CPU)"
            )

        def on_train_batch_end(self, batch, logs=None):
            if self._t0 is not None:
                log.info(
                    "training graph built; first step took %.0f s", time.perf_counter() - self._t0
                )
                self._t0 = None

    return CompileNotice()
