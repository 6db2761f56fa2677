"""Render meshes in a child process that never imports TensorFlow: :class:`MeshRenderer`.

Headless GL (Mesa llvmpipe, EGL or OSMesa) and TensorFlow crash when they share a
process unless :mod:`base.native` keeps their LLVM copies apart; a process that
has TensorFlow loaded (``metaview predict``, ``metaview demo``) renders meshes here
instead, in one spawned worker that keeps one renderer for every mesh. Start-up
costs about two seconds, once per :class:`MeshRenderer`. A process that never loads
TensorFlow (``metaview predict`` of a run with a compact head) may render in itself
(``in_process=True``) and skip that start.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from base.errors import MetaviewError


def _render_files(
    paths: list[str], config: dict, variants: int = 1
) -> list[tuple[np.ndarray | None, str | None]]:
    """Render meshes in this (child) process with one renderer: (image, None) or (None, error).

    With ``variants > 1`` each image is a stack (variants, h, w, 3): variant 0, the
    canonical grid, then the randomly turned ones (seeded by the config's seed and the
    file name).
    """
    from render.config import RenderConfig
    from render.core import render_file

    out: list[tuple[np.ndarray | None, str | None]] = []
    try:
        cfg = RenderConfig.from_dict(config)
    except MetaviewError as exc:
        return [(None, f"the model's render config is unusable: {exc}")] * len(paths)
    for p in paths:
        try:
            if variants == 1:
                out.append((render_file(p, cfg), None))
            else:
                stack = [render_file(p, cfg, variant=v, seed=cfg.seed) for v in range(variants)]
                out.append((np.stack(stack), None))
        except MetaviewError as exc:
            out.append((None, str(exc)))
        except Exception as exc:  # one file must never stop the others (as in render_job)
            out.append((None, f"{p}: could not render it: {exc!r}"))
    return out


def _reach_view_files(paths: list[str], size: int) -> list[tuple]:
    """Per path ``(ReachViews, None)`` or ``(None, message)``, in this (child) process."""
    from render.reach_views import reach_views_file

    out: list[tuple] = []
    for p in paths:
        try:
            out.append((reach_views_file(p, size), None))
        except MetaviewError as exc:
            out.append((None, str(exc)))
        except Exception as exc:  # one file must never stop the others
            out.append((None, f"{p}: could not draw it: {exc!r}"))
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
    in_process : bool
        Render in this process instead, with its cached GL renderer: for a process
        that has not imported TensorFlow and never will (the caller's promise; a
        :class:`~base.errors.MetaviewError` if TensorFlow is already loaded). It
        saves the worker's start, about 2 s; a crash of the GL driver then ends the
        caller too.
    """

    def __init__(self, config: dict, in_process: bool = False):
        self.config = dict(config)
        self.in_process = bool(in_process)
        self._pool = None

    def render(
        self, paths: Sequence[str | os.PathLike], variants: int = 1
    ) -> list[tuple[np.ndarray | None, str | None]]:
        """Render meshes; per path ``((h, w, 3) uint8, None)`` or ``(None, message)``.

        With ``variants > 1``: ``((variants, h, w, 3) uint8, None)``, variant 0 first.
        """
        if not paths:
            return []
        return self._run(_render_files, [str(p) for p in paths], self.config, variants)

    def reach_views(self, paths: Sequence[str | os.PathLike], size: int = 320) -> list[tuple]:
        """Per path ``(ReachViews, None)`` or ``(None, message)``: each part's per-face reach
        and its five direction views (:func:`render.reach_views.reach_views_file`)."""
        if not paths:
            return []
        return self._run(_reach_view_files, [str(p) for p in paths], int(size))

    def _run(self, fn, paths: list[str], *args) -> list:
        """``fn(paths, *args)`` here or in the worker; a dead worker fails every path."""
        from concurrent.futures.process import BrokenProcessPool

        if self.in_process:
            import sys

            if "tensorflow" in sys.modules:  # GL beside TensorFlow's LLVM: a segfault
                raise MetaviewError(
                    "MeshRenderer(in_process=True) in a process that has imported "
                    "TensorFlow: expected a process without it; render in the worker instead"
                )
            return fn(paths, *args)
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            from render import backend

            if self.config.get("backend", "auto") == "auto" and backend.probe_started():
                # The caller started the backend probe ahead (backend.start_probe): its answer
                # goes to the worker, which would otherwise probe again, after its start.
                self.config["backend"] = backend.resolve_backend("auto")
            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx)
        try:
            return self._pool.submit(fn, paths, *args).result()
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
