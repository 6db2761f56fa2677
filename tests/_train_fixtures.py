"""Tiny generated datasets for the train tests: PNGs + manifest.csv + metaimage.json.

No renderer needed: each meta-image is a grid of tiles, each tile a black
background with a few random rectangles ("faces"). A class is recognisable by
its dominant face colour, as a real part's meta-image is dominated by the
normal colour of the direction its features were cut from.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from metaimage.io import write_json, write_manifest, write_png

CONFIG_HASH = "0123456789abcdef"

# Normal colours (n*0.5+0.5)*255 of +x, -x, +y, -y, +z.
COLOURS = {
    "x_plus": (255, 128, 128),
    "x_minus": (0, 128, 128),
    "y_plus": (128, 255, 128),
    "y_minus": (128, 0, 128),
    "z_plus": (128, 128, 255),
}
DISTRACTOR = (128, 128, 160)
CLASSES_5 = tuple(COLOURS)


def make_meta_image(
    rng: np.random.Generator, colour: Sequence[int], rows: int, cols: int, tile: int
) -> np.ndarray:
    """Return one (rows*tile, cols*tile, 3) uint8 meta-image dominated by ``colour``."""
    img = np.zeros((rows * tile, cols * tile, 3), dtype=np.uint8)
    for r in range(rows):
        for c in range(cols):
            view = np.zeros((tile, tile, 3), dtype=np.float64)
            for k in range(3):
                # Mostly the class colour, sometimes a neutral "side face" colour.
                col = colour if k < 2 or rng.random() < 0.5 else DISTRACTOR
                h, w = rng.integers(tile // 4, tile, size=2)
                y, x = rng.integers(0, tile - h + 1), rng.integers(0, tile - w + 1)
                view[y : y + h, x : x + w] = col
            view += rng.normal(0.0, 8.0, size=view.shape) * (view.sum(axis=2, keepdims=True) > 0)
            img[r * tile : (r + 1) * tile, c * tile : (c + 1) * tile] = np.clip(view, 0, 255)
    return img


def make_dataset_folder(
    root: str | Path,
    labels: Sequence[str] = ("x_plus", "y_plus"),
    parts_per_class: int = 6,
    variants: int = 1,
    rows: int = 2,
    cols: int = 2,
    tile: int = 16,
    seed: int = 0,
    unlabelled: int = 0,
    test_parts: Sequence[str] | None = None,
) -> Path:
    """Write a dataset folder like ``metaview render`` does and return its path.

    Part ids are ``<label>/<nnnn>``; PNGs are ``<label>/<nnnn>_v<k>.png``;
    unlabelled parts are ``loose_<nnnn>`` with an empty label.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    rows_out = []

    def _add(label: str, part_id: str, colour) -> None:
        for v in range(variants):
            rel = f"{part_id}_v{v}.png"
            write_png(root / rel, make_meta_image(rng, colour, rows, cols, tile))
            rows_out.append(
                {
                    "path": rel,
                    "label": label,
                    "source": f"{part_id}.stl",
                    "part_id": part_id,
                    "variant": v,
                    "faces_in": 12,
                    "faces_out": 12,
                    "render_s": 0.01,
                    "config_hash": CONFIG_HASH,
                }
            )

    for label in labels:
        for i in range(parts_per_class):
            _add(label, f"{label}/{i:04d}", COLOURS[label])
    for i in range(unlabelled):
        _add("", f"loose_{i:04d}", COLOURS[labels[0]])
    write_manifest(root, rows_out)
    write_json(
        root / "metaimage.json",
        {
            "format": 1,
            "grid": [rows, cols],
            "tile": tile,
            "image_size": [rows * tile, cols * tile],
            "normals": "object",
            "backend": "osmesa",
            "config": {"tile": tile, "rows": rows, "cols": cols, "normals": "object"},
            "config_hash": CONFIG_HASH,
            "versions": {"numpy": np.__version__},
            "variants": variants,
            "seed": seed,
        },
    )
    if test_parts is not None:
        (root / "test_parts.txt").write_text("\n".join(test_parts) + "\n", encoding="utf-8")
    return root


# -- meshes: a box with one pocket, for the normals family and the feature cache -------------

EXTENTS = (40.0, 30.0, 20.0)
# Pocket centre on each cut face of a 40 x 30 x 20 box centred on the origin.
POCKETS = {
    "x_plus": ((6.0, 10.0, 8.0), (20.0, 3.0, 2.0)),
    "x_minus": ((6.0, 10.0, 8.0), (-20.0, 3.0, 2.0)),
    "y_plus": ((10.0, 6.0, 8.0), (5.0, 15.0, 2.0)),
    "y_minus": ((10.0, 6.0, 8.0), (5.0, -15.0, 2.0)),
    "z_plus": ((10.0, 8.0, 6.0), (5.0, 3.0, 10.0)),
}


def pocketed_box(label: str = "z_plus") -> tuple[np.ndarray, np.ndarray]:
    """The 40 x 30 x 20 box with one box pocket (3 mm deep) cut into the ``label`` face."""
    import trimesh

    size, centre = POCKETS[label]
    box = trimesh.creation.box(extents=EXTENTS)
    cutter = trimesh.creation.box(extents=size)
    cutter.apply_translation(centre)
    part = box.difference(cutter, engine="manifold")
    return np.asarray(part.vertices, dtype=np.float64), np.asarray(part.faces, dtype=np.int64)


def nearest_template_normals(labels: Sequence[str] = CLASSES_5):
    """A ``normals`` model, set by hand: it picks the nearest of the five pocketed boxes'
    feature vectors (:func:`pocketed_box`). A LoadedModel with a Keras head, no training."""
    from _toy_fixtures import metaimage_dict

    from geometry.normals import NORMAL_FEATURES_DIM, normal_features
    from train.inference.loaded import LoadedModel
    from train.models.classifier import feature_head

    templates = np.stack([normal_features(*pocketed_box(c)) for c in labels], axis=1)
    net = feature_head(NORMAL_FEATURES_DIM, len(labels), 0.0, "nearest", standardize=False)
    net.get_layer("predictions").set_weights([10 * templates, -5 * (templates**2).sum(axis=0)])
    return LoadedModel(
        net, list(labels), metaimage_dict(), 0, None, "nearest-template", features="normals"
    )
