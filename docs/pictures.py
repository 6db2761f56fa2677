"""Draw docs/taxonomy.png: one generated part per taxonomy kind, and the four stock shapes.

    .venv/bin/python docs/pictures.py            # writes docs/taxonomy.png

Each part is made by :func:`assets.part.generate_part` (a ``z_plus`` part with one feature
of the kind, on a 60 x 45 x 30 mm box; the stock shapes with the taxonomy preset) and drawn
with the renderer of ``metaview render`` (every face coloured by its object-space normal),
seen from above at an angle, one tile each, laid out with matplotlib.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ELEVATION, AZIMUTH = 35.0, 30.0  # degrees: the view, above the part and off its corner
sys.path.insert(0, str(ROOT))


def _draw(part, tile: int = 240) -> np.ndarray:
    """The part seen from above at an angle, as ``metaview render`` draws one tile."""
    import trimesh

    from render.config import RenderConfig
    from render.core import prepare
    from render.gl import get_renderer
    from render.views import view_rotation

    cfg = RenderConfig()
    prepared = prepare(trimesh.Trimesh(part.vertices, part.faces, process=False), cfg)
    rotations = view_rotation(ELEVATION, AZIMUTH)[None]
    renderer = get_renderer(cfg.backend)
    return renderer.render(
        prepared, rotations, 1, 1, tile, cfg.margin, normals=cfg.normals, framing=cfg.framing
    )


def main() -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from assets.part import generate_part
    from assets.synth_config import SynthConfig
    from assets.taxonomy import TAXONOMY_KINDS

    box = {"min_side": 45.0, "max_side": 70.0, "max_features": 1}
    cells = []
    for i, kind in enumerate(TAXONOMY_KINDS):
        part = generate_part("z_plus", 100 + i, SynthConfig(kinds=(kind,), **box))
        cells.append((part, kind))
    for i, shape in enumerate(("plate", "bar", "stepped")):
        cfg = SynthConfig.from_preset("taxonomy", stock=(shape,), second_face=0.0, max_features=3)
        cells.append((generate_part("z_plus", 7 + i, cfg), f"stock: {shape}"))
    cols = 6
    rows = -(-len(cells) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 2.0, rows * 2.2), dpi=90)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, (part, title) in zip(axes.ravel(), cells, strict=False):
        ax.imshow(_draw(part))
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    out = ROOT / "docs" / "taxonomy.png"
    fig.savefig(out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
