"""Feature matrices for a dataset's meta-images: what a classifier head trains on.

Two sources:

- an image model with a frozen backbone (:func:`backbone_features`): the backbone and its
  pooling run once per meta-image, in batches, and the vectors are cached beside the
  dataset (``DATA/.features-<model>-<size>.npz``) by the SHA-256 of each PNG's bytes, for
  one model, weights and input size. A re-render that adds variants or parts computes only
  the new images; a changed image is a new key. The head then trains in well under a
  second an epoch on the cached matrix (:mod:`train.loop`);
- a feature-vector family (:data:`FEATURES`, :func:`family_features`): ``normals`` reads
  the mesh behind each meta-image (the manifest's ``source``, under the dataset's mesh
  folder), ``colour-stats`` reads the meta-image itself; both are computed in parallel
  and cached by :mod:`train.features`.

"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from train.errors import TrainError
from train.features.cache import file_signature
from train.features.views import COMBINED, VIEW_FAMILIES
from train.features.views import FAMILY as VIEWS_FAMILY

log = logging.getLogger(__name__)

#: Feature-vector families: name -> what their features are read from.
FEATURES = {
    "normals": "mesh",  # the part's mesh file (STL, OBJ, ...)
    "colour-stats": "image",  # the meta-image
    # The frozen Lite0 backbone per tile, pooled per direction (train.features.views).
    VIEWS_FAMILY: "image",
    # Both: the view-pooled features of the meta-image, then the normals of its mesh.
    COMBINED: "image and mesh",
}

IMAGE_FEATURES_VERSION = 1


def feature_dim(features: str) -> int:
    """Length of one family's feature vector."""
    from train.features import NORMAL_FEATURES_DIM, colour_features_dim

    if features == "normals":
        return NORMAL_FEATURES_DIM
    if features == "colour-stats":
        return colour_features_dim()
    if features == VIEWS_FAMILY:
        from train.features.views import VIEWS_DIM

        return VIEWS_DIM
    if features == COMBINED:
        from train.features.views import COMBINED_DIM

        return COMBINED_DIM
    raise TrainError(f"features: expected one of {', '.join(FEATURES)}, got {features!r}")


def mesh_folder(dataset, meshes: str = "") -> Path:
    """The folder the dataset's meshes were rendered from.

    ``meshes`` (``--meshes``) wins; otherwise the ``source_dir`` that ``metaview render``
    records in ``metaimage.json``.
    """
    if meshes:
        return Path(meshes).expanduser().resolve()
    meta = dataset.meta
    src = meta.get("source_dir") if hasattr(meta, "get") else getattr(meta, "source_dir", "")
    if not src:
        raise TrainError(
            f"{dataset.root}: this dataset does not record where its meshes are; "
            "pass the mesh folder with --meshes DIR (the IN folder of `metaview render`)"
        )
    return Path(src)


def mesh_paths(dataset, rows: Sequence[dict[str, Any]], meshes: str = "") -> list[Path]:
    """The mesh file behind each row, checked to exist.

    Raises
    ------
    TrainError
        Naming the first missing file, how many are missing, and the option to fix it.
    """
    folder = mesh_folder(dataset, meshes)
    paths = [folder / r["source"] for r in rows]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise TrainError(
            f"{missing[0]}: mesh not found ({len(missing)} of {len(paths)} meshes missing "
            f"under {folder}); if the meshes moved, pass their folder with --meshes DIR"
        )
    return paths


def family_features(
    features: str,
    dataset,
    rows: Sequence[dict[str, Any]],
    *,
    meshes: str = "",
    progress: bool | None = None,
    runtime: str = "auto",
    executor: str = "local",
    address: str = "",
) -> np.ndarray:
    """One feature-vector family's features for ``rows`` of ``dataset``: (N, D) float32.

    Computed in parallel and cached in the dataset folder (``.features-<family>.npz``; one
    cache for the whole dataset, so the three splits share it). ``runtime``, ``executor``
    and ``address`` are for the view-pooled family, whose features come from a backbone
    (:func:`view_features`). The combined family's are the view-pooled features, then the
    ``normals`` of the mesh behind each row, each from its own cache.
    """
    if features in VIEW_FAMILIES:
        out = view_features(
            dataset, rows, runtime=runtime, progress=progress, executor=executor, address=address
        )
        if features == VIEWS_FAMILY:
            return out
        normals = family_features("normals", dataset, rows, meshes=meshes, progress=progress)
        return np.hstack([out, normals]).astype(np.float32)
    from train.features import default_cache_path, extract_colour_stats, extract_normals

    every = list(dataset.rows)
    where = {id(r): i for i, r in enumerate(every)}
    if features == "normals":
        paths = mesh_paths(dataset, every, meshes)
        unique = sorted(set(paths))
        cache = _cache_path(default_cache_path(dataset.root, features))
        mat = extract_normals(unique, cache_path=cache, progress=progress)
        at = {p: i for i, p in enumerate(unique)}
        full = mat[[at[p] for p in paths]]
    elif features == "colour-stats":
        rows_, cols_ = dataset.grid
        paths = [dataset.root / r["path"] for r in every]
        cache = _cache_path(default_cache_path(dataset.root, features))
        full = extract_colour_stats(paths, rows_, cols_, cache_path=cache, progress=progress)
    else:
        raise TrainError(f"features: expected one of {', '.join(FEATURES)}, got {features!r}")
    return full[[where[id(r)] for r in rows]]


def view_features(
    dataset,
    rows: Sequence[dict[str, Any]],
    *,
    runtime: str = "auto",
    progress: bool | None = None,
    executor: str = "local",
    address: str = "",
) -> np.ndarray:
    """The view-pooled family's features of ``rows``: (N, 5 * 2048) float32.

    The frozen Lite0 backbone pooled per tile (:func:`train.models.efficientnet_lite.
    build_tile_backbone`), then per direction by where each tile looks
    (:func:`train.features.views.pool_views`, from the rows' ``part_id`` and ``variant`` and
    the dataset's render config). Cached as :func:`backbone_features` caches, keyed by the
    PNG and the view it was rendered from.
    """
    from train.features import views
    from train.models.efficientnet_lite import build_tile_backbone

    views.check_classes(list(dataset.labels), str(dataset.root))
    meta = dict(dataset.meta) if not isinstance(dataset.meta, dict) else dataset.meta
    (grid_rows, grid_cols), _ = views.grid_and_seed(meta)
    size = max(int(v) for v in meta["image_size"])
    labels = list(dataset.labels)

    def pool(tiles: np.ndarray, these: list[dict[str, Any]]) -> np.ndarray:
        return views.pool_views(tiles, views.row_weights(meta, these, labels))

    return backbone_features(
        None,
        dataset,
        rows,
        model=VIEWS_FAMILY,
        weights="imagenet",
        image_size=size,
        progress=progress,
        runtime=runtime,
        executor=executor,
        address=address,
        pool=pool,
        build=lambda: build_tile_backbone(views.BACKBONE, size, grid_rows, grid_cols),
    )


#: New backbone features between two writes of the cache (about a minute of work at 960 px
#: on 2 cores): an interrupted run loses at most this many.
CACHE_EVERY = 256


def _cache_path(path: Path) -> Path | None:
    """``path`` if its folder is writable, else None (no cache; a read-only dataset works)."""
    return path if os.access(path.parent, os.W_OK) else None


def backbone_features(
    extractor,
    dataset,
    rows: Sequence[dict[str, Any]],
    *,
    model: str,
    weights: str,
    image_size: int,
    batch_size: int = 16,
    progress: bool | None = None,
    runtime: str = "tensorflow",
    executor: str = "local",
    address: str = "",
    pool=None,
    build=None,
) -> np.ndarray:
    """Pooled backbone features of the meta-images of ``rows``: (N, D) float32.

    Parameters
    ----------
    extractor : keras.Model
        Image (None, S, S, 3) float32 0..255 -> (None, D) (:func:`train.models.classifier.
        feature_extractor`).
    dataset : train.data.Dataset
    rows : sequence of manifest rows
    model, weights : str
        Go into the cache's identity (another model or weights file starts a new cache).
    image_size : int
        S; meta-images are resized to it with :func:`train.pipeline.prepare_images`.
    runtime : str
        Where the backbone runs (:data:`train.runtimes.RUNTIMES`). Each resolved runtime
        keeps its own cache (``.features-<model>-<size>.npz`` for TensorFlow,
        ``...-<size>-<runtime>.npz`` for the others, e.g. ``-openvino-bf16``), so features
        of two runtimes or precisions never mix.
    executor : {"local", "ray"}
        Compute here, or on a Ray cluster (:mod:`train.features.ray_features`, at
        ``address``); the same features and the same cache.
    pool : callable or None
        ``pool(outputs, rows) -> (n, D)``: turns the extractor's outputs for some rows into
        their features (the view-pooled family pools per-tile features by each row's views).
        With it, a cache key is the PNG's and the row's ``part_id`` and ``variant``.
    build : callable or None
        With ``extractor=None``: returns the extractor, called only when some meta-image is
        not in the cache.

    The cache is written every :data:`CACHE_EVERY` new meta-images, so an interrupted run
    keeps what it computed and resumes from there.
    """
    from train import runtimes

    resolved = runtimes.resolve(runtime)
    paths = [dataset.root / r["path"] for r in rows]
    keys = [_content_key(p, r) for p, r in zip(paths, rows, strict=True)]
    row_of: dict[str, dict[str, Any]] = {}
    if pool is not None:  # the same pixels seen from other views are other features
        keys = [f"{k}|{r['part_id']}|{r['variant']}" for k, r in zip(keys, rows, strict=True)]
        row_of = dict(zip(keys, rows, strict=True))
    ident = {
        "version": IMAGE_FEATURES_VERSION,
        "model": model,
        # A weights file: by its content, as every cache here keys its files.
        "weights": weights if weights in ("imagenet", "none") else file_signature([weights])[0],
        "image_size": image_size,
    }
    suffix = ""
    if resolved != "tensorflow":  # TensorFlow's caches keep the name and identity they had
        ident["runtime"] = resolved
        suffix = f"-{resolved}"
    cache = dataset.root / f".features-{model}-{image_size}{suffix}.npz"
    known = _read_keyed_cache(cache, ident)
    todo = sorted({k: p for k, p in zip(keys, paths, strict=True) if k not in known}.items())
    writable = _cache_path(cache) is not None
    if todo and extractor is None and build is not None:
        extractor = build()
    if todo and executor == "ray":
        from base.progress import progress as progress_bar
        from train import batching
        from train.features.ray_features import ray_features

        per_batch = batching.images_per_batch(image_size, most=batch_size)
        fresh = 0
        with progress_bar(len(todo), "backbone features", "img", enabled=progress) as bar:
            for k, v in ray_features(
                extractor,
                todo,
                model=model,
                image_size=image_size,
                runtime=resolved,
                per_batch=per_batch,
                address=address,
            ):
                known[k] = v if pool is None else pool(v[None], [row_of[k]])[0]
                fresh += 1
                bar.update(1)
                if writable and fresh % CACHE_EVERY == 0:
                    _write_keyed_cache(cache, ident, known)
        missing = [k for k, _ in todo if k not in known]
        if missing:
            raise TrainError(f"Ray returned no features for {len(missing)} meta-images")
    elif todo:
        call, _ = runtimes.backbone_runner(extractor, resolved)
        for start in range(0, len(todo), CACHE_EVERY):
            part = todo[start : start + CACHE_EVERY]
            new = _run_backbone(call, [p for _, p in part], image_size, batch_size, progress)
            if pool is not None:
                new = pool(new, [row_of[k] for k, _ in part])
            known.update({k: v for (k, _), v in zip(part, new, strict=True)})
            if writable and start + CACHE_EVERY < len(todo):
                _write_keyed_cache(cache, ident, known)
    if todo and writable:
        _write_keyed_cache(cache, ident, known)
    log.info(
        "backbone features on %s: %d meta-images, %d computed, %d from %s",
        resolved,
        len(keys),
        len(todo),
        len(keys) - len(todo),
        cache.name,
    )
    if not keys:
        return np.zeros((0, 0), np.float32)
    return np.stack([known[k] for k in keys]).astype(np.float32)


def _content_key(path: Path, row: dict[str, Any]) -> str:
    """SHA-256 of the PNG's bytes: from the manifest when it records it, else computed."""
    import hashlib

    digest = row.get("sha256") or ""
    if digest:
        return str(digest)
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise TrainError(f"{path}: cannot read the meta-image: {exc.strerror or exc}") from None


def _read_keyed_cache(path: Path, ident: dict[str, Any]) -> dict[str, np.ndarray]:
    """``{sha256: vector}`` from a cache file made for ``ident``; empty when there is none."""
    import json

    if not path.is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            if json.loads(str(data["ident"])) != ident:
                log.info("%s: feature cache is for another model or size: recomputing", path)
                return {}
            keys, feats = data["keys"], np.asarray(data["features"], np.float32)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("%s: unreadable feature cache (%s): recomputing", path, exc)
        return {}
    return {str(k): feats[i] for i, k in enumerate(keys)}


def _write_keyed_cache(path: Path, ident: dict[str, Any], known: dict[str, np.ndarray]) -> None:
    """Write the cache atomically (:func:`base.files.atomic_file`)."""
    import json

    from base.files import atomic_file

    keys = sorted(known)
    with atomic_file(path) as tmp, open(tmp, "wb") as f:
        np.savez(
            f,
            ident=np.asarray(json.dumps(ident, sort_keys=True)),
            keys=np.asarray(keys, dtype=str),
            features=np.stack([known[k] for k in keys]).astype(np.float32),
        )


def _run_backbone(
    call, paths, image_size: int, batch_size: int, progress, stats: dict | None = None
) -> np.ndarray:
    """Run ``call`` (a backbone on a runtime, :func:`train.runtimes.backbone_runner`, or a
    Keras model) over PNG files in batches, with progress (a bar or plain lines).

    Batches are bounded by pixels (:func:`train.batching.images_per_batch`), and the next
    batch is decoded and resized in a thread while the backbone runs on this one. ``stats``
    (a dict) receives ``images``, ``wall_s`` and ``busy_s``, the seconds spent inside
    ``call``: their ratio is the share of time the backbone was busy (the rest, waiting
    for PNGs).
    """
    import time
    from concurrent.futures import ThreadPoolExecutor

    from base.progress import progress as progress_bar
    from train import batching, pipeline

    per_batch = batching.images_per_batch(image_size, most=batch_size)
    slices = list(batching.batch_slices(len(paths), per_batch))
    if hasattr(call, "input_shape"):  # a Keras model: traced on TensorFlow
        call = batching.compiled(call)
    out = []
    log.info("computing backbone features of %d meta-images at %d px", len(paths), image_size)
    busy, start = 0.0, time.perf_counter()
    with (
        progress_bar(len(paths), "backbone features", "img", enabled=progress) as bar,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="png-reader") as reader,
    ):
        ahead = reader.submit(pipeline.read_batch, paths[slices[0]], image_size) if slices else None
        for k, sl in enumerate(slices):
            x = ahead.result()
            if k + 1 < len(slices):
                ahead = reader.submit(pipeline.read_batch, paths[slices[k + 1]], image_size)
            t = time.perf_counter()
            out.append(np.asarray(call(x), dtype=np.float32))
            busy += time.perf_counter() - t
            bar.update(sl.stop - sl.start)
    wall = time.perf_counter() - start
    if paths:
        log.info(
            "backbone busy %.0f%% of %.1f s (%.0f ms a meta-image; PNG decoding overlaps it)",
            100 * busy / max(wall, 1e-9),
            wall,
            1000 * wall / len(paths),
        )
    if stats is not None:
        stats.update(images=len(paths), wall_s=wall, busy_s=busy)
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)
