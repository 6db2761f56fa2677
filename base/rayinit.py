"""Start or join Ray without losing the process's SIGTERM handler.

``ray.init`` replaces the SIGTERM handler (with ``sys.exit``, and while it runs with a native
one that aborts). The ``metaview`` command's handler (stop like Ctrl-C, keep what finished)
must survive it: SIGTERM is held back while Ray starts, and the handler put back after.
Ray is passed in, never imported here.
"""

from __future__ import annotations

import signal
import threading
from typing import Any


def init_ray(ray: Any, **kwargs: Any) -> None:
    """``ray.init(**kwargs)``, the caller's SIGTERM handler kept; Ray's errors pass through."""
    main = threading.current_thread() is threading.main_thread()
    saved = signal.getsignal(signal.SIGTERM) if main else None
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM}) if main else None
    try:
        ray.init(**kwargs)
    finally:
        if main and saved is not None:
            signal.signal(signal.SIGTERM, saved)
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
