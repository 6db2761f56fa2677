"""Classify workpieces with a loaded model: meshes rendered on the fly, or meta-image PNGs.

A mesh is rendered with the render config the model was trained on (the
``config`` of its ``metaimage.json``) by :class:`render.worker.MeshRenderer`, a
spawned child process that reuses one renderer for every mesh: headless GL (Mesa
llvmpipe) and TensorFlow crash when they share a process. A PNG must already be
a meta-image of the size the model was trained on (:func:`train.inference.inputs.load_png`).
Both are resized with :func:`train.pipeline.prepare_images`, the resize the training
pipeline uses.

A model of a feature-vector family (``loaded.features``) gets what its family needs:
``normals`` the face-normal features of the mesh (a mesh file is required),
``colour-stats`` the colour statistics of the meta-image (rendered from a mesh, or a PNG),
the view-pooled family those of a mesh's render or of a dataset's PNG, and the combined
family (``efficientnet-lite0-views-normals``) both the render and the normals of a mesh (of
a dataset's PNG: the mesh its manifest row names, under the dataset's ``source_dir``).

A model trained on plain class folders of PNGs has no render config: it takes PNGs,
and refuses meshes.

A bad input (missing file, unreadable mesh, PNG of the wrong size or render config)
becomes an error for that file; the other files are still predicted.

Every mesh predicted is also analysed geometrically
(:func:`train.inference.reachability.add_reach`): the analysis only informs. A multi-label
model (one sigmoid per direction, ``loaded.multi_label``) also predicts a set,
:func:`train.inference.prediction.predicted_set`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from base import native
from base.errors import MetaviewError
from base.progress import progress as progress_bar
from render.worker import MeshRenderer
from train.features.views import COMBINED, VIEW_FAMILIES
from train.inference.inputs import is_image, load_png
from train.inference.loaded import LoadedModel
from train.inference.prediction import Prediction, predicted_set
from train.inference.reachability import add_reach

log = logging.getLogger(__name__)

#: Meta-image pixels held at once while predicting: 12 meta-images of 960 px (4 files of 3
#: variants), 33 MB as rendered and 130 MB once resized to float32 for the model.
CHUNK_PIXELS = 12 * 960 * 960


def predict_files(
    paths: Sequence[str | os.PathLike],
    loaded: LoadedModel,
    batch_size: int = 32,
    variants: int | None = None,
    reach: bool = True,
    progress: bool | None = False,
    renderer: MeshRenderer | None = None,
) -> list[Prediction]:
    """Predict the class of each input file.

    Parameters
    ----------
    paths : sequence of path-like
        Mesh files (rendered with the model's render config, see
        :class:`render.worker.MeshRenderer`) and/or meta-image PNGs, in any mix.
    loaded : LoadedModel
        From :func:`train.inference.loading.load_model`.
    batch_size : int
        At most this many inputs are read, rendered, resized and predicted at a time;
        fewer for an image model, whose chunk is bounded by pixels
        (:func:`files_per_chunk`).
    variants : int, optional
        Meta-images rendered per mesh (variant 0 and randomly turned ones) whose
        probabilities are averaged; default the training dataset's ``variants``, so a
        part is judged as the test split was. A PNG is one meta-image.
    reach : bool
        Analyse every mesh predicted for the directions that reach all its features
        (``Prediction.reachable``); a PNG has no geometry and is never analysed.
    progress : bool or None
        Report progress on stderr (:func:`base.progress.progress`; None: as the
        command's logging). Off by default for library callers.
    renderer : MeshRenderer or None
        A renderer kept open across calls (``MeshRenderer(loaded.metaimage["config"])``,
        closed by its owner): a service predicting one part at a time then skips starting
        the render worker, about 2 s a call. None: one for this call.

    Returns
    -------
    list of Prediction
        One per input, in input order; failed files carry ``error``. A failed
        analysis leaves the prediction as it is, with ``reach_error`` set.
    """
    results = [Prediction(file=str(p)) for p in paths]
    if variants is None:
        variants = int(loaded.metaimage.get("variants", 1) or 1)
    per_chunk = files_per_chunk(loaded, variants, batch_size)
    # Chunks keep memory bounded by pixels for any number of inputs: only one chunk's
    # meta-images are held at a time; one worker renders them all.
    own = renderer is None
    if own:
        renderer = mesh_renderer(loaded)
    with (
        contextlib.nullcontext() if not own else renderer,
        progress_bar(len(results), "predict", "file", enabled=progress) as bar,
    ):
        for start in range(0, len(results), per_chunk):
            chunk = results[start : start + per_chunk]
            _predict_chunk(chunk, loaded, renderer, variants)
            bar.update(len(chunk))
    if reach:
        for r in results:
            if r.ok and not is_image(Path(r.file)):
                add_reach(r)
    for r in results:
        if r.error:
            log.debug("%s failed: %s", r.file, r.error)
        elif r.reach_error:
            log.debug("%s: reach analysis failed: %s", r.file, r.reach_error)
    return results


def mesh_renderer(loaded: LoadedModel) -> MeshRenderer:
    """A renderer with the model's render config, to be closed by the caller.

    A compact model runs without TensorFlow, so GL may share this process and the worker's
    start (about 2 s, most of a cold one-part predict) is saved. Only where base.native has
    prepared the process (the metaview command does): a caller that imports TensorFlow
    later then still does not crash.
    """
    alone = loaded.kind == "compact" and "tensorflow" not in sys.modules and native.applied()
    config = loaded.metaimage.get("config", {}) if loaded.can_render else {}
    return MeshRenderer(config, in_process=alone)


def files_per_chunk(loaded: LoadedModel, variants: int, batch_size: int = 32) -> int:
    """How many input files :func:`predict_files` reads, renders and predicts at a time.

    A feature-vector model takes ``batch_size`` files. An image model takes as many as
    keep the chunk's meta-images within :data:`CHUNK_PIXELS` (each file brings
    ``variants`` of them), at least one and at most ``batch_size``.
    """
    if loaded.features and loaded.features not in VIEW_FAMILIES:
        return max(1, batch_size)
    h, w = loaded.meta_image_shape
    images = max(1, CHUNK_PIXELS // max(1, h * w))
    return max(1, min(batch_size, images // max(1, variants)))


def _family_inputs(loaded: LoadedModel, images: list, views: list) -> np.ndarray:
    """A feature-vector family's inputs: (n, D) float32 from the files' meta-images.

    ``views`` gives each meta-image's ``(part_id, variant)``: where its tiles look from, for
    the view-pooled family.
    """
    if loaded.features in VIEW_FAMILIES:
        return _view_inputs(loaded, images, views)
    from train import features as F

    rows, cols = loaded.metaimage["grid"]
    return np.stack([F.colour_features(im, rows, cols) for im in images]).astype(np.float32)


def _view_inputs(loaded: LoadedModel, images: list, views: list) -> np.ndarray:
    """The view-pooled family's features of meta-images: (n, 5 * D) float32."""
    from train.features import views as V

    return V.pool_views(tile_features(loaded, images), view_weights_of(loaded, views))


def tile_features(loaded: LoadedModel, images: list) -> np.ndarray:
    """The view-pooled family's per-tile backbone features of meta-images: (n, T, D) float32.

    The backbone runs on the run's runtime, built once per loaded model, in batches bounded
    by pixels.
    """
    from train import batching
    from train.features import views as V
    from train.pipeline import prepare_images

    (rows, cols), _ = V.grid_and_seed(loaded.metaimage)
    size = max(loaded.meta_image_shape)
    if loaded._tiles is None:
        from train import runtimes
        from train.console import import_tensorflow
        from train.models.efficientnet_lite import build_tile_backbone

        import_tensorflow()
        net = build_tile_backbone(V.BACKBONE, size, rows, cols)
        loaded._tiles = runtimes.backbone_runner(net, loaded.runtime)[0]
    out = []
    per_batch = batching.images_per_batch(size, most=max(1, len(images)))
    for a in range(0, len(images), per_batch):
        x = np.asarray(prepare_images(np.stack(images[a : a + per_batch]), size), np.float32)
        out.append(np.asarray(loaded._tiles(x), np.float32))
    return np.concatenate(out)


def view_weights_of(loaded: LoadedModel, views: list) -> np.ndarray:
    """:func:`train.features.views.weights_of` with the model's render config and classes."""
    from train.features import views as V

    return V.weights_of(loaded.metaimage, views, loaded.labels)


def png_view(path: Path) -> tuple[str, int] | None:
    """``(part_id, variant)`` of a meta-image that ``metaview render`` wrote into a dataset
    folder (``DATA/<part_id>_v<k>.png``), or None."""
    from render.jobs import image_view
    from train.inference.loaded import dataset_folder_of

    folder = dataset_folder_of(path)
    if folder is None:
        return None
    return image_view(path.resolve().relative_to(folder.resolve()).as_posix())


@functools.lru_cache(maxsize=8)
def _dataset_sources(folder: str, stamp: int) -> tuple[dict[str, str], str]:
    """``({PNG path: mesh source}, source_dir)`` of a dataset folder, read once for every
    PNG of it (``stamp``, the manifest's mtime, reads it again once it changes)."""
    from metaimage.io import read_manifest, read_metaimage_info

    rows = read_manifest(folder) if stamp else []
    return {r["path"]: r["source"] for r in rows}, read_metaimage_info(folder).source_dir


def png_mesh_normals(path: Path) -> np.ndarray:
    """The ``normals`` features of the mesh a dataset's meta-image was rendered from: its
    manifest row's ``source`` under the dataset's recorded ``source_dir``.

    Raises
    ------
    TrainError
        Naming the PNG: no manifest row for it, no recorded mesh folder, or the mesh gone.
    """
    from train.errors import TrainError
    from train.features import mesh_features
    from train.inference.loaded import dataset_folder_of

    folder = dataset_folder_of(path)
    if folder is None:
        raise TrainError(f"{path}: not in a dataset folder (no metaimage.json beside it)")
    manifest = folder / "manifest.csv"
    stamp = manifest.stat().st_mtime_ns if manifest.is_file() else 0
    sources, source_dir = _dataset_sources(str(folder), stamp)
    source = sources.get(path.resolve().relative_to(folder).as_posix())
    if not source or not source_dir:
        raise TrainError(
            f"{path}: the normals of its mesh are needed, but "
            + (
                "manifest.csv has no row for it"
                if not source
                else "metaimage.json does not record the mesh folder"
            )
            + "; predict the mesh instead"
        )
    mesh = Path(source_dir) / source
    if not mesh.is_file():
        raise TrainError(f"{path}: its mesh {mesh} is gone; predict the mesh where it is now")
    try:
        return mesh_features(mesh)
    except Exception as exc:  # any failure is this file's error
        raise TrainError(f"{path}: its mesh {mesh}: {exc}") from None


def _predict_chunk(
    chunk: list[Prediction], loaded: LoadedModel, renderer: MeshRenderer, variants: int = 1
) -> None:
    from train.pipeline import prepare_images

    images: dict[int, np.ndarray] = {}
    png_views: dict[int, tuple[str, int]] = {}
    normals: dict[int, np.ndarray] = {}  # the combined family's second input, by file
    meshes = []
    family = getattr(loaded, "features", "")
    for i, r in enumerate(chunk):
        if family == "normals":
            # The mesh itself is the input: no rendering, and a meta-image will not do.
            if is_image(Path(r.file)):
                r.error = (
                    f"{r.file}: a 'normals' model reads the part's mesh (STL, OBJ, ...), "
                    "not a meta-image"
                )
            elif not Path(r.file).is_file():
                r.error = f"{r.file}: no such file"
            else:
                from train.features import mesh_features

                try:  # the face-normal features stand in for the meta-image
                    images[i] = mesh_features(r.file)
                except Exception as exc:  # any failure is this file's error
                    r.error = str(exc) if r.file in str(exc) else f"{r.file}: {exc}"
            continue
        if not is_image(Path(r.file)):
            if not Path(r.file).is_file():
                r.error = f"{r.file}: no such file"
            elif not loaded.can_render:
                try:
                    loaded.render_config()  # raises, saying why
                except MetaviewError as exc:
                    r.error = f"{r.file}: {exc}"
            else:
                meshes.append(i)
            continue
        try:
            images[i] = load_png(r.file, loaded)
        except MetaviewError as exc:
            r.error = str(exc)
            continue
        if family in VIEW_FAMILIES:
            view = png_view(Path(r.file))
            if view is None:
                del images[i]
                r.error = (
                    f"{r.file}: a {family} model needs to know which view each tile shows: "
                    "expected the mesh, or a meta-image in the dataset folder `metaview "
                    "render` wrote (DATA/<part>_v<k>.png beside metaimage.json)"
                )
                continue
            png_views[i] = view
            if family == COMBINED:  # the normals of the mesh it was rendered from
                try:
                    normals[i] = png_mesh_normals(Path(r.file))
                except MetaviewError as exc:
                    del images[i], png_views[i]
                    r.error = str(exc)
    want = loaded.meta_image_shape
    for i, (image, error) in zip(
        meshes, renderer.render([chunk[i].file for i in meshes], variants), strict=True
    ):
        if error is not None:
            chunk[i].error = error
        elif image.shape[-3:-1] != want:
            chunk[i].error = (
                f"{chunk[i].file}: rendered a {image.shape[0]}x{image.shape[1]} meta-image, "
                f"the model expects {want[0]}x{want[1]} "
                "(metaimage.json's config and image_size disagree)"
            )
        else:
            images[i] = image
    if family == COMBINED:  # its second input: the normals of each rendered mesh
        from train.features import mesh_features

        for i in [i for i in images if i in meshes]:
            try:
                normals[i] = mesh_features(chunk[i].file)
            except Exception as exc:  # any failure is this file's error
                del images[i]
                r = chunk[i]
                r.error = str(exc) if r.file in str(exc) else f"{r.file}: {exc}"
    if not images:
        return
    idx = sorted(images)
    # Every input may bring several meta-images (variants): predict them all, then average
    # each input's probabilities.
    stacks = [images[i] if images[i].ndim == 4 else images[i][None] for i in idx]
    if getattr(loaded, "features", "") == "normals":
        stacks = [images[i][None] for i in idx]
        x = np.concatenate(stacks).astype(np.float32)
    elif getattr(loaded, "features", ""):
        # Where each meta-image was seen from: a rendered mesh's variants 0..k-1 under the
        # file's stem (render.core.render_file's part id), a PNG's from its name.
        views = [
            v
            for i in idx
            for v in (
                [png_views[i]]
                if i in png_views
                else [
                    (Path(chunk[i].file).stem, k)
                    for k in range(len(images[i]) if images[i].ndim == 4 else 1)
                ]
            )
        ]
        x = _family_inputs(loaded, list(np.concatenate(stacks)), views)
        if family == COMBINED:  # each meta-image beside the normals of its part's mesh
            rep = [np.tile(normals[i], (len(s), 1)) for i, s in zip(idx, stacks, strict=True)]
            x = np.hstack([x, np.concatenate(rep)])
    else:
        x = np.asarray(prepare_images(np.concatenate(stacks), loaded.image_size), np.float32)
    probs = loaded.predict(x)
    bounds = np.cumsum([0, *(len(s) for s in stacks)])
    mean = [probs[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    for i, p in zip(idx, mean, strict=True):
        res = chunk[i]
        ranked = np.argsort(-p, kind="stable")
        res.label = loaded.labels[int(ranked[0])]
        res.probability = float(p[ranked[0]])
        res.probabilities = {loaded.labels[int(k)]: float(p[k]) for k in ranked}
        res.multi_label = bool(getattr(loaded, "multi_label", False))
        res.predicted_set = predicted_set(p, loaded.labels, res.multi_label)
