"""Headless OpenGL backends: which one this process draws with, found once.

The GL context comes from pyrender's headless platforms (EGL or OSMesa). PyOpenGL reads
``PYOPENGL_PLATFORM`` once, when OpenGL is first imported, so a process can use one
backend only; ``"auto"`` therefore probes in a child process: EGL first (on a machine
with an NVIDIA driver it renders on the GPU, elsewhere on Mesa's llvmpipe), then OSMesa.
``PYOPENGL_PLATFORM`` set in the environment wins over the probe.

The probe's child makes a :class:`render.gl.GridRenderer` and draws one triangle
(:meth:`~render.gl.GridRenderer.check`); :func:`start_probe` starts it ahead for a caller
that has other work first. :func:`set_platform` sets up this process for the chosen backend
before OpenGL is imported.
"""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
import sys

import numpy as np

from render.errors import RenderError

logger = logging.getLogger(__name__)

_PROBE_TIMEOUT_S = 120
_auto_backend: str | None = None
_probes: dict[str, subprocess.Popen] = {}  # backend -> a probe started ahead (start_probe)

_PROBE_CODE = """
import sys
from render.gl import GridRenderer
r = GridRenderer(sys.argv[1])
r.check()
r.close()
"""


def _imported_platform() -> str | None:
    """The backend OpenGL was imported with in this process, or None if not imported yet."""
    if "OpenGL" not in sys.modules:
        return None
    return os.environ.get("PYOPENGL_PLATFORM", "").lower() or "default"


def _spawn_probe(backend: str) -> subprocess.Popen:
    env = dict(os.environ, PYOPENGL_PLATFORM=backend)
    return subprocess.Popen(
        [sys.executable, "-c", _PROBE_CODE, backend],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def start_probe() -> None:
    """Start probing the first ``auto`` backend (EGL) in the background, if it will be asked.

    The probe's child takes about a second (Python, pyrender and a GL context): a caller
    that knows it will render, and has other work first (``metaview predict`` loading its
    model), starts it here so :func:`resolve_backend` finds the answer ready. Does nothing
    where the backend is already known (resolved, or named by ``PYOPENGL_PLATFORM``).
    """
    env_choice = os.environ.get("PYOPENGL_PLATFORM", "").lower()
    if _auto_backend is None and env_choice not in ("egl", "osmesa") and not _probes:
        _probes["egl"] = _spawn_probe("egl")
        atexit.register(_stop_probes)  # a caller that fails before rendering leaves none


def probe_started() -> bool:
    """Whether :func:`start_probe` left a probe for :func:`resolve_backend` to collect."""
    return bool(_probes)


def _stop_probes() -> None:
    while _probes:
        proc = _probes.popitem()[1]
        proc.kill()
        proc.communicate()


def probe_backend(backend: str, timeout: float = _PROBE_TIMEOUT_S) -> str | None:
    """Try to make a context and draw one frame with ``backend`` in a child process.

    Uses the child :func:`start_probe` started for ``backend``, if there is one.

    Returns
    -------
    None if it worked, else the last line of the child's error output.
    """
    proc = _probes.pop(backend, None) or _spawn_probe(backend)
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return f"no frame within {timeout:.0f} s"
    if proc.returncode == 0:
        return None
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else f"exit code {proc.returncode}"


def resolve_backend(backend: str = "auto") -> str:
    """Turn ``"auto"`` into ``"egl"`` or ``"osmesa"``; pass those two through.

    ``"auto"`` uses ``PYOPENGL_PLATFORM`` if it names one of them, else probes EGL then
    OSMesa in a child process (once per process; the answer is cached).

    Raises
    ------
    RenderError
        If neither backend can make a context, with each one's reason.
    """
    global _auto_backend
    if backend in ("egl", "osmesa"):
        return backend
    if backend != "auto":
        raise RenderError(f"backend: expected 'auto', 'egl' or 'osmesa', got {backend!r}")
    if _auto_backend is not None:
        return _auto_backend
    env_choice = os.environ.get("PYOPENGL_PLATFORM", "").lower()
    if env_choice in ("egl", "osmesa"):
        _auto_backend = env_choice
        return env_choice
    reasons = []
    for candidate in ("egl", "osmesa"):
        why = probe_backend(candidate)
        if why is None:
            logger.debug("GL backend: %s", candidate)
            _auto_backend = candidate
            return candidate
        logger.info("GL backend %s unavailable: %s", candidate, why)
        reasons.append(f"{candidate}: {why}")
    raise RenderError(
        "no headless OpenGL context could be created ("
        + "; ".join(reasons)
        + "). Install the Debian packages libegl1 libegl-mesa0 libgl1-mesa-dri libosmesa6 "
        "(./run.sh install does)."
    )


def set_platform(backend: str) -> None:
    """Set up this process to load OpenGL for ``backend`` (``"egl"`` or ``"osmesa"``).

    Raises
    ------
    RenderError
        If this process already loaded OpenGL for another backend.
    """
    current = _imported_platform()
    if current is not None and current != backend:
        raise RenderError(
            f"backend: this process already loaded OpenGL for {current!r}; cannot switch to "
            f"{backend!r} (PYOPENGL_PLATFORM is read once per process)"
        )
    os.environ["PYOPENGL_PLATFORM"] = backend
    # pyrender 0.1.45 (whose headless platforms make our context) still reads
    # np.infty, which NumPy 2 removed.
    if not hasattr(np, "infty"):
        np.inf = np.inf
