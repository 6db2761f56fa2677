"""What a person sees while a command trains or converts: no native log noise, plain progress.

TensorFlow writes its C++ log (oneDNN notices, CPU feature lines, absl's
"WARNING: All log messages before absl::InitializeLog() ..." and the TFLite
converter's ``W0000 ...`` lines) straight to file descriptor 2, past Python's
logging and past ``TF_CPP_MIN_LOG_LEVEL`` in TF 2.21. :func:`native_stderr_to_log`
sends fd 2 to a temporary file for a block and logs what was written at DEBUG,
so it shows only with ``metaview -v``. :func:`import_tensorflow` imports
TensorFlow and Keras that way (the import is where most of it is printed).

For ``model.fit``: :func:`fit_verbosity` picks Keras' progress display (a bar on
a terminal, one plain line per epoch in a log file, none with ``--no-progress``),
and :func:`compile_notice` says that the first training step builds the graph,
which takes tens of seconds on a CPU before any progress appears.

TensorFlow and Keras are imported inside the functions.
"""

from __future__ import annotations

import contextlib
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


def fit_verbosity(no_progress: bool = False, stream=None) -> int:
    """Keras ``fit`` verbosity: 0 with ``no_progress``, else 1 (a progress bar) when
    ``stream`` (default: stdout, where Keras writes) is a terminal, else 2 (one plain
    line per epoch, for log files and CI)."""
    if no_progress:
        return 0
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return 1 if isatty is not None and isatty() else 2


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
