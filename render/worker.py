"""Render meshes in a child process that never imports TensorFlow: :class:`MeshRenderer`.

Headless GL (Mesa llvmpipe, EGL or OSMesa) and TensorFlow crash when they share a
process unless :mod:`metaview.native` keeps their LLVM copies apart; a process that
has TensorFlow loaded (``metaview predict``, ``metaview demo``) renders meshes here
instead, in one spawned worker that keeps one renderer for every mesh. Start-up
costs about a second, once per :class:`MeshRenderer`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from metaview.errors import MetaviewError


def _render_files(paths: list[str], config: dict) -> list[tuple[np.ndarray | None, str | None]]:
    """Render meshes in this (child) process with one renderer: (image, None) or (None, error)."""
    from render.config import RenderConfig
    from render.core import render_file

    out: list[tuple[np.ndarray | None, str | None]] = []
    try:
        cfg = RenderConfig.from_dict(config)
    except MetaviewError as exc:
        return [(None, f"the model's render config is unusable: {exc}")] * len(paths)
    for p in paths:
        try:
            out.append((render_file(p, cfg), None))
        except MetaviewError as exc:
            out.append((None, str(exc)))
        except Exception as exc:  # one file must never stop the others (as in render_job)
            out.append((None, f"{p}: could not render it: {exc!r}"))
    return out


class MeshRenderer:
    """Renders mesh files into meta-images in one spawned child process, reused across calls.

    Headless GL (Mesa llvmpipe) and TensorFlow crash when they share a process
    (a segmentation fault, whichever loads first), so meshes are rendered by a
    worker that never imports TensorFlow. The worker starts on the first call
    and keeps one renderer for every mesh; use as a context manager, or call
    :meth:`close`.

    Parameters
    ----------
    config : dict
        ``RenderConfig.to_dict()`` of the model's dataset (``metaimage["config"]``).
    """

    def __init__(self, config: dict):
        self.config = dict(config)
        self._pool = None

    def render(
        self, paths: Sequence[str | os.PathLike]
    ) -> list[tuple[np.ndarray | None, str | None]]:
        """Render meshes; per path ``((h, w, 3) uint8, None)`` or ``(None, message)``."""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        if not paths:
            return []
        if self._pool is None:
            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx)
        try:
            return self._pool.submit(_render_files, [str(p) for p in paths], self.config).result()
        except BrokenProcessPool:
            self.close()
            msg = "the renderer process died (headless GL crashed); try PYOPENGL_PLATFORM=osmesa"
            return [(None, msg)] * len(paths)

    def close(self) -> None:
        """Stop the worker, if it was started."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> MeshRenderer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
