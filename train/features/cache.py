"""Batch feature extraction over files: parallel, with a progress bar and an on-disk cache.

:func:`extract` maps a per-file feature function over a list of files and stacks the
vectors into an ``(N, D)`` float32 matrix. With a ``cache_path`` the matrix is stored as
an ``.npz`` file, written atomically (a temporary file in the same folder, then
``os.replace``), and reused while its *cache key* matches: a SHA-256 of the caller's
``key`` (feature family, version, parameters) and of every file's absolute path and
content (its SHA-256, as ``manifest.csv`` records a meta-image's). Adding, removing,
renaming or changing a file, or bumping a family's version, recomputes everything;
touching or copying a file back unchanged does not. Reading the files to hash them costs
a few per cent of extracting their features.

Cache file contents (``numpy.load(path, allow_pickle=False)`` reads it): ``features``
``(N, D)`` float32, ``files`` ``(N,)`` str (the absolute paths, in order), ``key`` 0-d
str (the hex digest) and ``format`` 0-d int.

Failures: every file is tried; when some fail, :class:`~train.errors.TrainError` is
raised once, naming each failing file and what was wrong (the first few in the message,
all of them in its ``failures`` attribute, a list of ``(path, message)``), and no cache
is written.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np

from base.files import atomic_file
from base.pool import pool_map
from train.errors import TrainError

logger = logging.getLogger(__name__)

CACHE_FORMAT = 2  # 2: files keyed by content (SHA-256), not size and mtime
_SHOWN_FAILURES = 5  # failures spelled out in the exception message


def default_workers() -> int:
    """``min(os.cpu_count(), 4)``: feature functions are quick, more processes mostly wait."""
    return max(1, min(os.cpu_count() or 1, 4))


def file_signature(paths: Sequence[str | os.PathLike]) -> list[tuple[str, str]]:
    """``(absolute path, SHA-256 of the content, hex)`` of every file, in order.

    Raises
    ------
    TrainError
        A file that does not exist or cannot be read, naming it.
    """
    out = []
    for p in paths:
        path = os.path.abspath(os.fspath(p))
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as f:
                for block in iter(lambda f=f: f.read(1 << 20), b""):
                    digest.update(block)
        except OSError as exc:
            raise TrainError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
        out.append((path, digest.hexdigest()))
    return out


def cache_key(key: Mapping[str, Any], signature: Sequence[tuple[str, str]]) -> str:
    """SHA-256 hex digest of the caller's ``key`` (JSON, sorted keys) and the files."""
    text = json.dumps(
        {"format": CACHE_FORMAT, "key": key, "files": [list(s) for s in signature]},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_cache(path: Path, digest: str, n: int) -> np.ndarray | None:
    """The cached matrix if ``path`` holds one for ``digest`` with ``n`` rows, else None."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["key"]) != digest:
                logger.info("%s: feature cache is for other files or settings: recomputing", path)
                return None
            features = np.asarray(data["features"], dtype=np.float32)
    except (OSError, ValueError, KeyError) as exc:
        logger.warning("%s: unreadable feature cache (%s): recomputing", path, exc)
        return None
    if features.ndim != 2 or features.shape[0] != n:
        logger.warning("%s: feature cache has shape %s, expected %d rows", path, features.shape, n)
        return None
    return features


def save_cache(path: Path, digest: str, files: Sequence[str], features: np.ndarray) -> None:
    """Write the cache atomically (:func:`base.files.atomic_file`)."""
    with atomic_file(path) as tmp, open(tmp, "wb") as f:
        # Mostly-zero histograms: compression makes the file several times smaller.
        np.savez_compressed(
            f,
            features=features,
            files=np.asarray(files, dtype=str),
            key=np.asarray(digest),
            format=np.asarray(CACHE_FORMAT),
        )


def _run_one(fn: Callable[[str], np.ndarray], path: str) -> tuple[np.ndarray | None, str | None]:
    """``fn(path)`` as a float32 vector, or the error message (naming the file)."""
    try:
        vec = np.asarray(fn(path), dtype=np.float32)
    except Exception as exc:  # any failure is this file's error, reported by the caller
        msg = str(exc) or type(exc).__name__
        return None, msg if path in msg else f"{path}: {msg}"
    if vec.ndim != 1 or vec.size == 0:
        return None, f"{path}: expected a 1-D feature vector, the function returned {vec.shape}"
    if not np.isfinite(vec).all():
        return None, f"{path}: expected finite features, found NaN or inf"
    return vec, None


def extract(
    paths: Sequence[str | os.PathLike],
    fn: Callable[[str], np.ndarray],
    *,
    key: Mapping[str, Any],
    cache_path: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: bool | None = None,
) -> np.ndarray:
    """Feature vectors of many files, computed in parallel or read from a cache.

    Parameters
    ----------
    paths : sequence of path-like, length N
        The files, in the order of the output rows.
    fn : callable ``(path: str) -> (D,) float``
        The per-file feature function. With ``workers > 1`` it runs in spawned processes,
        so it must be picklable: a module-level function or a ``functools.partial`` of one.
    key : mapping
        What ``fn`` computes, JSON-serialisable, e.g. ``{"family": "normals", "version":
        1}``; part of the cache key, so bump the version when the features change.
    cache_path : path-like, optional
        ``.npz`` file to reuse or (re)write; None computes every time.
    workers : int, optional
        Processes; None means :func:`default_workers`. 1 runs in this process.
    progress : bool, optional
        Report progress on stderr (:mod:`base.progress`: a bar on a terminal, plain
        lines every few seconds otherwise); None (default): unless logging is quieter than
        INFO (``metaview -q``).

    Returns
    -------
    (N, D) float32

    Raises
    ------
    TrainError
        No files; a missing file; files that failed (each named, see ``failures``);
        vectors of different lengths; a worker process that died.
    """
    if len(paths) == 0:
        raise TrainError("expected at least one file to extract features from, got none")
    if workers is not None and workers < 1:
        raise TrainError(f"workers: expected an integer >= 1, got {workers}")
    signature = file_signature(paths)
    files = [s[0] for s in signature]
    digest = cache_key(dict(key), signature)
    cache = Path(cache_path) if cache_path is not None else None
    if cache is not None:
        cached = load_cache(cache, digest, len(files))
        if cached is not None:
            logger.info("%s: %d cached feature vectors reused", cache, len(files))
            return cached

    from base.progress import progress as make_progress

    n_workers = min(workers or default_workers(), len(files))
    results: list[tuple[np.ndarray | None, str | None]] = []
    desc = f"{key['family']} features" if isinstance(key.get("family"), str) else "features"
    with make_progress(len(files), desc, "file", enabled=progress) as bar:
        if n_workers == 1:
            for path in files:
                results.append(_run_one(fn, path))
                bar.update(1)
        else:
            # spawn: no inherited threads or locks (TensorFlow may be loaded in this process).
            jobs = pool_map(
                functools.partial(_run_one, fn),
                files,
                n_workers,
                max_chunk=64,
                start_method="spawn",
            )
            try:
                for res in jobs:
                    results.append(res)
                    bar.update(1)
            except BrokenProcessPool as exc:
                raise TrainError(f"feature extraction: a worker process died: {exc}") from None

    failures = [(path, err) for path, (_, err) in zip(files, results, strict=True) if err]
    if failures:
        shown = "; ".join(err for _, err in failures[:_SHOWN_FAILURES])
        more = len(failures) - _SHOWN_FAILURES
        error = TrainError(
            f"feature extraction failed for {len(failures)} of {len(files)} files: {shown}"
            + (f"; and {more} more" if more > 0 else "")
        )
        error.failures = failures
        raise error
    dims = {vec.shape[0] for vec, _ in results}
    if len(dims) != 1:
        first = results[0][0].shape[0]
        odd = next(p for p, (v, _) in zip(files, results, strict=True) if v.shape[0] != first)
        raise TrainError(
            f"expected feature vectors of one length, got {sorted(dims)}: {files[0]} has "
            f"{first}, {odd} has another"
        )
    features = np.stack([vec for vec, _ in results]).astype(np.float32, copy=False)
    if cache is not None:
        save_cache(cache, digest, files, features)
        logger.info("%s: %d feature vectors cached", cache, len(files))
    return features
