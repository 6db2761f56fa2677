"""``metaview render IN OUT``: the render stage's sub-command (no heavy imports here).

The options are :class:`render.config.RenderConfig`'s fields (help, type and default
from the dataclass, see :mod:`base.options`), with ``rows`` and ``cols`` as one
``--grid ROWSxCOLS``, plus the batch options (``--workers``, ``--executor``,
``--address``, ``--force``, ``--no-progress``).
"""

from __future__ import annotations

import argparse

from base.options import (
    add_batch_options,
    add_config_options,
    config_kwargs,
    default_workers,
    positive_int,
)
from render.config import RenderConfig

_GRID_FIELDS = ("rows", "cols")  # one option: --grid ROWSxCOLS


def _grid(text: str) -> tuple[int, int]:
    """argparse type of ``--grid``: :func:`metaimage.grid.parse_grid`."""
    from metaimage.errors import DatasetError
    from metaimage.grid import parse_grid

    try:
        return parse_grid(text)
    except DatasetError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub) -> None:
    """Add the ``render`` sub-command to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser(
        "render",
        help="render a folder of meshes into normal-map meta-images",
        description=(
            "Render every mesh (STL, OBJ, PLY, OFF, GLB) under IN into meta-image PNGs in "
            "OUT (by default a 5x5 grid of 192 px views, 3 variants a part): "
            "IN/<label>/<part>.stl -> OUT/<label>/<part>_v<k>.png, plus "
            "OUT/manifest.csv, OUT/metaimage.json and OUT/errors.csv. Re-running skips "
            "images already rendered with the same settings. Exit code 2 if some files failed."
        ),
    )
    p.add_argument(
        "input", metavar="IN", help="folder of meshes; first-level subfolders are labels"
    )
    p.add_argument("output", metavar="OUT", help="dataset folder to write")
    add_config_options(p, RenderConfig, exclude=_GRID_FIELDS)
    p.add_argument(
        "--grid",
        type=_grid,
        default=(RenderConfig.rows, RenderConfig.cols),
        metavar="ROWSxCOLS",
        help="view grid: rows step the elevation, columns the azimuth (default "
        f"{RenderConfig.rows}x{RenderConfig.cols})",
    )
    p.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        metavar="N",
        help=f"workers, one GL context each (default: all {default_workers()} cores; with "
        "--executor ray, one per CPU of the cluster)",
    )
    p.add_argument(
        "--executor",
        choices=("pool", "ray"),
        default="pool",
        help="where files are rendered: a local process pool (default), or Ray actors on "
        "this machine or a cluster (pip install -e '.[ray]'); with ray, only this machine "
        "reads IN and writes OUT",
    )
    p.add_argument(
        "--address",
        default=None,
        metavar="ADDR",
        help="with --executor ray: the cluster to use (auto, HOST:6379 or ray://HOST:10001; "
        "default: $RAY_ADDRESS, else a local Ray instance for this run)",
    )
    add_batch_options(p, force="re-render images that are up to date")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``metaview render`` and return the exit code (0, or 2 if some files failed)."""
    import logging

    from render.batch import render_folder
    from render.errors import RenderError

    if args.address is not None and args.executor != "ray":
        raise RenderError(f"--address {args.address}: a Ray cluster address, needs --executor ray")
    rows, cols = args.grid
    cfg = RenderConfig(
        rows=rows, cols=cols, **config_kwargs(RenderConfig, args, exclude=_GRID_FIELDS)
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
        executor=args.executor,
        address=args.address,
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
