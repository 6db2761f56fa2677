"""``metaview synth``: generate labelled synthetic workpieces.

Nothing heavy is imported at module level: manifold3d, trimesh and numpy load when the
command runs, so ``metaview --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
import time

# Kept in step with assets.synth (CLASSES, FEATURE_KINDS and SynthConfig's defaults); a test
# checks that they agree, so the help text needs no heavy import.
_CLASSES = ("x_plus", "x_minus", "y_plus", "y_minus", "z_plus")
_KINDS = ("hole", "counterbore", "rectangular_pocket", "circular_pocket", "slot", "step", "chamfer")

DESCRIPTION = f"""\
Generate machined workpieces labelled with the direction all their features were cut from.

Each part is a box of stock, [0,sx] x [0,sy] x [0,sz] mm with every side drawn from
[--min-side, --max-side], clamped on its -Z face. Its class is the face that gets all of its
1..5 features, one of the five faces a machine reaches in that set-up:
  x_plus, x_minus, y_plus, y_minus   the side faces (normals +X, -X, +Y, -Y)
  z_plus                             the top face (normal +Z)
Feature kinds: {", ".join(_KINDS)}.
They are cut by one boolean difference (manifold3d), never overlap, never cut through the part,
and every surface they leave can be seen from infinity along the class direction.

Output: OUT/<class>/<id>.stl (binary STL, mm, watertight), OUT/parts.csv (file, label,
features as JSON with type/face/position/size, seed, stock_mm, tilt_deg, footprint_frac) and
OUT/synth.json (the configuration). The same options give byte-identical files, for any
--workers.
"""

EPILOG = """\
Harder parts: few and small features (a 3 mm hole on a 150 mm block), shallow cuts, features
on a thin face, chamfers, steps and open slots (their surfaces also show from the neighbouring
side face), a --tilt-deg so that faces are not axis-aligned, and --distractors (closed holes
and pockets in the clamped -Z face, which is not a class). footprint_frac in parts.csv is the
share of the labelled face the features cover: small is hard.

examples:
  metaview synth parts/ --per-class 200 --seed 7
  metaview synth hard/ --per-class 100 --tilt-deg 5 --distractors 2 --max-features 2
  metaview synth assets/parts --per-class 4 --seed 0 --overwrite   (the bundled set)
"""


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``synth`` sub-command to the ``metaview`` parser."""
    p = subparsers.add_parser(
        "synth",
        help="generate labelled synthetic workpieces (STL + parts.csv)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("out", metavar="OUT", help="output folder (created if missing)")
    p.add_argument(
        "--per-class",
        type=int,
        default=4,
        metavar="N",
        help="parts per class (default: %(default)s)",
    )
    p.add_argument(
        "--classes",
        type=_names,
        default=_CLASSES,
        metavar="C1,C2",
        help="comma-separated classes to make (default: all five)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="master seed; each part derives its own (default: %(default)s)",
    )
    p.add_argument(
        "--min-side",
        type=float,
        default=30.0,
        metavar="MM",
        help="smallest stock side in mm (default: %(default)s)",
    )
    p.add_argument(
        "--max-side",
        type=float,
        default=150.0,
        metavar="MM",
        help="largest stock side in mm (default: %(default)s)",
    )
    p.add_argument(
        "--min-features",
        type=int,
        default=1,
        metavar="N",
        help="fewest features drawn per part; fewer when they do not fit (default: %(default)s)",
    )
    p.add_argument(
        "--max-features",
        type=int,
        default=5,
        metavar="N",
        help="most features per part; fewer when they do not fit (default: %(default)s)",
    )
    p.add_argument(
        "--kinds",
        type=_names,
        default=_KINDS,
        metavar="K1,K2",
        help="comma-separated feature kinds to draw from (default: all)",
    )
    p.add_argument(
        "--tilt-deg",
        type=float,
        default=0.0,
        metavar="DEG",
        help="turn each part by up to DEG degrees about a random axis (default: 0)",
    )
    p.add_argument(
        "--distractors",
        type=int,
        default=0,
        metavar="N",
        help="add 1..N closed features to the clamped -Z face (default: 0, none)",
    )
    p.add_argument(
        "--segments",
        type=int,
        default=32,
        metavar="N",
        help="line segments per circle of round features (default: %(default)s)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="processes to use; output is identical for any N (default: %(default)s)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the STL files, parts.csv and synth.json of an earlier run in OUT",
    )
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace):
    """Build the :class:`assets.synth.SynthConfig` the parsed options ask for."""
    from assets.synth import SynthConfig

    return SynthConfig(
        per_class=args.per_class,
        classes=args.classes,
        seed=args.seed,
        min_side=args.min_side,
        max_side=args.max_side,
        min_features=args.min_features,
        max_features=args.max_features,
        kinds=args.kinds,
        tilt_deg=args.tilt_deg,
        distractors=args.distractors,
        segments=args.segments,
    )


def run(args: argparse.Namespace) -> int:
    """Run ``metaview synth``; return the exit code (errors raise SynthError)."""
    from tqdm import tqdm

    from assets.synth import synth_parts

    cfg = config_from_args(args)
    total = cfg.per_class * len(cfg.classes)
    start = time.perf_counter()
    with tqdm(total=total, unit="part", file=sys.stderr, desc="synth", disable=None) as bar:
        rows = synth_parts(
            args.out,
            cfg,
            workers=args.workers,
            overwrite=args.overwrite,
            progress=lambda _row: bar.update(1),
        )
    seconds = time.perf_counter() - start
    counts: dict[str, int] = {}
    n_features = 0
    for row in rows:
        for f in _features(row):
            if f["role"] == "feature":
                counts[f["type"]] = counts.get(f["type"], 0) + 1
                n_features += 1
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
    print(
        f"wrote {len(rows)} parts ({len(cfg.classes)} classes x {cfg.per_class}) to {args.out} "
        f"in {seconds:.1f} s ({len(rows) / max(seconds, 1e-9):.0f} parts/s, seed {cfg.seed})"
    )
    print(f"features: {n_features} ({n_features / max(len(rows), 1):.1f} per part): {kinds}")
    print(f"labels and features: {args.out.rstrip('/')}/parts.csv")
    return 0


def _features(row: dict) -> list[dict]:
    import json

    return json.loads(row["features"])
