"""Mesh -> meta-image for one part: the pipeline the batch and prediction share."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geometry.mesh import load_mesh
from render.config import RenderConfig
from render.gl import get_renderer
from render.mesh import PreparedMesh, prepare_mesh
from render.views import grid_rotations, variant_rotation

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderStats:
    """What one meta-image cost: faces before/after simplification and seconds spent."""

    faces_in: int
    faces_out: int
    seconds: float


def prepare(mesh, cfg: RenderConfig) -> PreparedMesh:
    """Normalise, straighten (``cfg.straighten``) and simplify a loaded mesh, and mark its
    stock faces when ``cfg.stock`` colours them apart.

    Very large meshes are first vertex-clustered on a grid of ``2 * tile`` cells, finer
    than half a pixel of the tile.
    """
    return prepare_mesh(
        mesh,
        cfg.face_budget,
        cluster_cells=2 * cfg.tile,
        straighten=cfg.straighten,
        find_stock=cfg.stock != "normal",
    )


def render_prepared(
    prepared: PreparedMesh,
    cfg: RenderConfig,
    variant: int = 0,
    seed: int | None = None,
    part_id: str = "",
) -> np.ndarray:
    """Render one meta-image of a prepared mesh with the process's GL renderer.

    Parameters
    ----------
    prepared : PreparedMesh
        From :func:`prepare`.
    variant : int
        0 for the canonical grid; ``v > 0`` turns the grid by a rotation seeded from
        ``(seed, part_id, v)``.
    seed : int or None
        Variant seed; None uses ``cfg.seed``.
    part_id : str
        The part's id (its source path without suffix, relative to the input folder).

    Returns
    -------
    (cfg.rows * cfg.tile, cfg.cols * cfg.tile, 3) uint8
    """
    seed = cfg.seed if seed is None else seed
    rotations = grid_rotations(cfg.rows, cfg.cols, variant_rotation(seed, part_id, variant))
    renderer = get_renderer(cfg.backend)
    return renderer.render(
        prepared,
        rotations,
        cfg.rows,
        cfg.cols,
        cfg.tile,
        cfg.margin,
        normals=cfg.normals,
        framing=cfg.framing,
    )


def render_mesh(
    mesh, cfg: RenderConfig, variant: int = 0, seed: int | None = None, part_id: str = ""
) -> tuple[np.ndarray, RenderStats]:
    """Prepare and render a loaded ``trimesh.Trimesh``; returns the image and its stats."""
    t0 = time.perf_counter()
    prepared = prepare(mesh, cfg)
    image = render_prepared(prepared, cfg, variant=variant, seed=seed, part_id=part_id)
    stats = RenderStats(prepared.faces_in, prepared.faces_out, time.perf_counter() - t0)
    return image, stats


def render_file(
    path: str | os.PathLike,
    cfg: RenderConfig,
    variant: int = 0,
    seed: int = 0,
    part_id: str | None = None,
) -> np.ndarray:
    """Load, normalise, simplify and render one mesh file into a meta-image.

    Uses a GL renderer cached per process (created on the first call).

    Parameters
    ----------
    path : path-like
        STL (binary or ASCII), OBJ, PLY, OFF or GLB file.
    cfg : RenderConfig
    variant : int
        0 for the canonical grid (what prediction wants).
    seed : int
        Seed of the variant rotation (unused for variant 0).
    part_id : str or None
        Id mixed into the variant seed; None uses the file name without suffix.

    Returns
    -------
    (cfg.rows * cfg.tile, cfg.cols * cfg.tile, 3) uint8

    Raises
    ------
    MeshError
        The file is missing or not a usable mesh (the message says why).
    RenderError
        Headless GL failed.
    """
    path = Path(path)
    mesh = load_mesh(path, merge=False, step_tol=cfg.step_tol)
    pid = path.stem if part_id is None else part_id
    image, _ = render_mesh(mesh, cfg, variant=variant, seed=seed, part_id=pid)
    return image
