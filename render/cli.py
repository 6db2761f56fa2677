"""``metaview render IN OUT``: the render stage's sub-command (no heavy imports here)."""

from __future__ import annotations

import argparse
import os


def _grid(text: str) -> tuple[int, int]:
    try:
        rows, cols = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected ROWSxCOLS such as 10x10, got {text!r}"
        ) from None
    if rows < 1 or cols < 1:
        raise argparse.ArgumentTypeError(f"expected positive ROWSxCOLS, got {text!r}")
    return rows, cols


def register(sub) -> None:
    """Add the ``render`` sub-command to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser(
        "render",
        help="render a folder of meshes into normal-map meta-images",
        description=(
            "Render every mesh (STL, OBJ, PLY, OFF, GLB) under IN into a 10x10 meta-image "
            "PNG in OUT: IN/<label>/<part>.stl -> OUT/<label>/<part>_v0.png, plus "
            "OUT/manifest.csv, OUT/metaimage.json and OUT/errors.csv. Re-running skips "
            "images already rendered with the same settings. Exit code 2 if some files failed."
        ),
    )
    p.add_argument(
        "input", metavar="IN", help="folder of meshes; first-level subfolders are labels"
    )
    p.add_argument("output", metavar="OUT", help="dataset folder to write")
    p.add_argument("--tile", type=int, default=64, help="tile size in pixels (default 64)")
    p.add_argument(
        "--grid",
        type=_grid,
        default=(10, 10),
        metavar="ROWSxCOLS",
        help="view grid: rows step the elevation, columns the azimuth (default 10x10)",
    )
    p.add_argument(
        "--variants",
        type=int,
        default=1,
        metavar="K",
        help="meta-images per part: variant 0 is the canonical grid, the others "
        "turn the part by a seeded random rotation (default 1)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the variant rotations (default 0)")
    p.add_argument(
        "--normals",
        choices=("object", "camera"),
        default="object",
        help="colour by the part-frame normal (default) or the view-frame normal",
    )
    p.add_argument(
        "--backend",
        choices=("auto", "egl", "osmesa"),
        default="auto",
        help="headless OpenGL: auto tries EGL, then OSMesa (default auto)",
    )
    p.add_argument(
        "--max-faces",
        type=int,
        default=None,
        metavar="N",
        help="simplify meshes to about N faces before drawing (default tile*tile/2)",
    )
    p.add_argument(
        "--margin",
        type=float,
        default=0.05,
        help="free border per tile side, fraction of half a tile (default 0.05)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help=f"worker processes (default: all {os.cpu_count()} cores)",
    )
    p.add_argument("--force", action="store_true", help="re-render images that are up to date")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``metaview render`` and return the exit code (0, or 2 if some files failed)."""
    import logging

    from render.batch import render_folder
    from render.config import RenderConfig
    from render.errors import RenderError

    if args.workers is not None and args.workers < 1:
        raise RenderError(f"--workers: expected a positive integer, got {args.workers}")
    rows, cols = args.grid
    cfg = RenderConfig(
        tile=args.tile,
        rows=rows,
        cols=cols,
        normals=args.normals,
        margin=args.margin,
        max_faces=args.max_faces,
        backend=args.backend,
        variants=args.variants,
        seed=args.seed,
    )
    logging.getLogger(__name__).info("render config %s (hash %s)", cfg.to_dict(), cfg.config_hash())
    quiet = getattr(args, "quiet", False)
    result = render_folder(
        args.input,
        args.output,
        cfg,
        workers=args.workers,
        force=args.force,
        progress=not (args.no_progress or quiet),
    )
    for row in result.failed:
        print(f"metaview render: failed: {row['error']}")
    rate = result.files / result.seconds if result.seconds > 0 else 0.0
    print(
        f"metaview render: {result.rendered} rendered, {result.skipped} skipped, "
        f"{len(result.failed)} failed ({result.files} files) in {result.seconds:.1f} s "
        f"({rate:.1f} files/s, {result.backend}) -> {args.output}"
    )
    if result.failed:
        print(f"metaview render: {len(result.failed)} file(s) failed; see {args.output}/errors.csv")
    return result.exit_code
