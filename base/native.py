"""Let headless Mesa GL (llvmpipe) and TensorFlow share one process.

Mesa's software rasteriser links the system ``libLLVM-NN.so``; TensorFlow's
native libraries carry their own copy of LLVM and load with ``RTLD_GLOBAL``.
In one process the two copies resolve each other's symbols and the process
dies with a segmentation fault, whichever is loaded first (measured here with
TensorFlow 2.21 and Mesa 22.3 / LLVM 15, EGL and OSMesa alike).

The cure is to load the system LLVM first, into the global scope, and to load
every later native library with ``RTLD_DEEPBIND`` so TensorFlow binds to its own
LLVM symbols before the global ones. :func:`allow_gl_and_tensorflow` does that.
It changes the whole process (a library loaded, the dlopen flags of every later
import), so no import does it: the entry points that may load both call it
first, once: ``metaview.cli.main`` (the ``metaview`` command and
``python -m metaview``) and ``tests/conftest.py``. A script that draws with
:mod:`render` and also imports TensorFlow calls it itself, before either. It
must run before TensorFlow is imported: afterwards it does nothing but log why.
Calling it again is harmless. ``METAVIEW_NO_DEEPBIND=1`` turns it off.

The library code does not rely on it: prediction renders meshes in a child
process anyway, and batch rendering runs in worker processes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys

log = logging.getLogger(__name__)

_done = False


def _system_llvm() -> str | None:
    """The newest system libLLVM the loader can find, or None."""
    for version in range(20, 10, -1):
        name = ctypes.util.find_library(f"LLVM-{version}")
        if name:
            return name
    return None


def allow_gl_and_tensorflow() -> bool:
    """Prepare the process so Mesa GL and TensorFlow can both be loaded; return True if applied.

    Idempotent: once applied, later calls return True and change nothing (the
    DEEPBIND flag is added once). Does nothing (and returns False) off Linux, when
    ``METAVIEW_NO_DEEPBIND`` is set, when TensorFlow is already imported, or when no
    system LLVM exists (then Mesa's llvmpipe is absent too and there is nothing to
    clash).
    """
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux") or os.environ.get("METAVIEW_NO_DEEPBIND"):
        return False
    if "tensorflow" in sys.modules:
        log.debug("TensorFlow already imported: cannot isolate it from Mesa's LLVM")
        return False
    llvm = _system_llvm()
    if llvm is None:
        return False
    try:
        ctypes.CDLL(llvm, mode=os.RTLD_GLOBAL | os.RTLD_NOW)
    except OSError as exc:
        log.debug("could not preload %s: %s", llvm, exc)
        return False
    sys.setdlopenflags(sys.getdlopenflags() | os.RTLD_DEEPBIND)
    _done = True
    return True


def applied() -> bool:
    """Whether :func:`allow_gl_and_tensorflow` has prepared this process."""
    return _done


#: Modules whose native threads make a forked child deadlock (a lock held by a thread that
#: does not exist in the child): TensorFlow's thread pools, a GL driver's threads.
_THREADED_NATIVE = ("tensorflow", "OpenGL", "pyrender", "ray")


def process_pool_context():
    """The multiprocessing context for a pool of CPU workers started from this process.

    ``fork`` where there is one and it is safe: it starts in milliseconds and needs no
    ``__main__`` guard. Once TensorFlow, a GL driver or Ray is loaded the process has native
    threads, and a forked child can hang on a lock one of them held (measured: a test of
    ``metaview reach`` hung after an earlier test in the same process imported TensorFlow):
    then ``spawn``.
    """
    import multiprocessing

    threaded = any(name in sys.modules for name in _THREADED_NATIVE)
    if "fork" in multiprocessing.get_all_start_methods() and not threaded:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")
