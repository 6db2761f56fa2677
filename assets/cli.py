"""``metaview synth`` (generate labelled synthetic workpieces) and ``metaview reach`` (which
directions reach every feature of a part).

Nothing heavy is imported at module level: manifold3d, trimesh and numpy load when the
command runs, so ``metaview --help`` stays fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time

# The options come from SynthConfig: manifold3d and NumPy, about 50 ms, for --help.
from assets.synth_config import FEATURE_KINDS, PRESETS, THROUGH_KINDS, SynthConfig
from base.options import (
    add_batch_options,
    add_config_options,
    config_kwargs,
    renamed,
    workers_of,
)

DESCRIPTION = f"""\
Generate machined workpieces labelled with the direction all their features were cut from.

Each part is a box of stock, [0,sx] x [0,sy] x [0,sz] mm with every side drawn from
[--min-side, --max-side], clamped on its -Z face. Its class is the face that gets all of its
1..5 features, one of the five faces a machine reaches in that set-up:
  x_plus, x_minus, y_plus, y_minus   the side faces (normals +X, -X, +Y, -Y)
  z_plus                             the top face (normal +Z)
Feature kinds: {", ".join(FEATURE_KINDS)}.
They are cut by one boolean difference (manifold3d), never overlap, never cut through the part
(except with --through), and every surface they leave can be seen from infinity along the
class direction.

With --through, the features are instead cut right through the stock, out of the opposite
face ({", ".join(THROUGH_KINDS)}): the opposite direction reaches them as well.

--preset taxonomy draws from every kind of the machining-feature taxonomy (FeatureNet's 24
classes, countersinks and fillets: --kinds accepts each of them), on boxes, plates, bars and
stepped blocks (--stock), and gives a share of the side parts through features cut from the
opposite face too (--second-face): docs/parts.md has the table and a picture.

Output: OUT/<class>/<id>.stl (binary STL, mm, watertight), OUT/parts.csv (file, label, valid,
features as JSON with type/face/position/size, seed, stock_mm, tilt_deg, footprint_frac) and
OUT/synth.json (the configuration). valid is the part's set of directions that reach every
feature face (as metaview reach finds it, e.g. x_plus|z_plus); it always holds the label.
The same options give byte-identical files, for any --workers.
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
  metaview synth tax/ --per-class 200 --preset taxonomy --seed 3
  metaview synth pockets/ --per-class 50 --kinds hexagonal_pocket,o_ring --stock plate,bar
  metaview synth assets/parts --per-class 4 --seed 0 --force   (the bundled set)
"""


#: What an option of SynthConfig not given on the command line parses to.
_UNSET = object()


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
    add_config_options(p, SynthConfig)
    # The help texts already show the fields' defaults; parsing leaves the options not given
    # unset, so that a preset fills exactly those (config_from_args).
    p.set_defaults(**{f.name: _UNSET for f in dataclasses.fields(SynthConfig)})
    p.add_argument(
        "--preset",
        choices=list(PRESETS),
        default="default",
        help="a named set of options, for those you do not give. taxonomy: every feature kind "
        "of the machining taxonomy (--kinds all), every --stock shape, --second-face 0.3 "
        "(default: default, the first generator)",
    )
    add_batch_options(
        p,
        workers="processes; the files are byte-identical for any N",
        force="replace the STL files, parts.csv and synth.json of an earlier run in OUT",
    )
    renamed(p, "--overwrite", "--force", action="store_true")
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> SynthConfig:
    """Build the :class:`assets.synth_config.SynthConfig` the parsed options ask for.

    With ``--preset``, the preset's values replace those of the options left at their
    defaults.
    """
    given = config_kwargs(SynthConfig, args)
    explicit = {k: v for k, v in given.items() if v is not _UNSET}
    return SynthConfig.from_preset(getattr(args, "preset", "default"), **explicit)


def run(args: argparse.Namespace) -> int:
    """Run ``metaview synth``; return the exit code (errors raise SynthError)."""
    from assets.synth import synth_parts
    from base.progress import progress

    cfg = config_from_args(args)
    total = cfg.per_class * len(cfg.classes)
    start = time.perf_counter()
    with progress(total, "synth", "part", enabled=False if args.no_progress else None) as bar:
        rows = synth_parts(
            args.out,
            cfg,
            workers=workers_of(args),
            overwrite=args.force,
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


# --- metaview reach ------------------------------------------------------------------------

REACH_DESCRIPTION = """\
Find, for each mesh, the directions from which every feature face can be reached.

The part is straightened (a tilt below 45 degrees is undone); faces on its bounding box are
stock, every other face is a feature face. A direction d (x_plus, x_minus, y_plus, y_minus,
z_plus: the part is clamped on -Z) reaches a face when the face does not point away from d and
rays from points just off the face towards d meet nothing. A direction is valid when it reaches
all the feature area but --area-tol of it. Faces only -Z reaches (cuts in the clamped face) are
reported (clamped_frac), not counted. A plain box has no feature faces: every direction is
valid, vacuously (status no_features).

Output: a CSV (default IN/reach.csv), one row per mesh, sorted by file: file, label (the first
folder when it names a class), status (ok / no_features / error), valid (e.g. x_plus|z_plus),
n_valid, label_in_set, feature_faces, feature_area_frac, reach_<class> (share of the feature
area reached from that direction), clamped_frac, unreachable_frac, tilt_deg, reasons (why each
invalid direction fails: "12.0 % of feature area faces away from +X", "8.0 % is shadowed from
+X"), error. A file that cannot be read is a row with status error; the rest go on (exit 2).

Training on the sets: metaview train finds IN/reach.csv (or DATA/reach.csv, or --valid-sets
CSV) and scores every run against the sets; --objective sets trains one output per direction.
Meshes outside class folders take one of their valid directions as label, so a folder of
unlabelled meshes becomes a training set: metaview reach IN; metaview render IN DATA;
metaview train DATA --objective sets.
"""

REACH_EPILOG = """\
examples:
  metaview reach parts/                       # parts/reach.csv, one row per mesh
  metaview reach part.stl part_reach.csv
  metaview reach parts/ /tmp/reach.csv --workers 2
  metaview reach meshes/ && metaview render meshes/ data/ && metaview train data/ --objective sets
"""


def register_reach(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``reach`` sub-command to the ``metaview`` parser."""
    p = subparsers.add_parser(
        "reach",
        help="which machine directions reach every feature of each mesh (reach.csv)",
        description=REACH_DESCRIPTION,
        epilog=REACH_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", metavar="IN", help="a folder of meshes (searched recursively) or one")
    p.add_argument(
        "out",
        metavar="OUT",
        nargs="?",
        default=None,
        help="the CSV to write (default: IN/reach.csv, or reach.csv beside a single file)",
    )
    # The earlier spelling; a positional with nargs="?" would overwrite a shared dest.
    p.add_argument("--out", dest="out_option", metavar="CSV", help=argparse.SUPPRESS)
    add_batch_options(p, workers="processes; the rows are the same for any N")
    from geometry.reach import ReachConfig  # NumPy only: --help stays quick

    add_config_options(p, ReachConfig)
    p.set_defaults(func=run_reach)


def run_reach(args: argparse.Namespace) -> int:
    """Run ``metaview reach``; return the exit code (0, or 2 when some files failed)."""
    from assets.reach import reach_folder
    from base.options import EXIT_OK, EXIT_PARTIAL
    from base.progress import progress
    from geometry.reach import ReachConfig, ray_backend

    cfg = ReachConfig(**config_kwargs(ReachConfig, args))
    args.out = args.out or args.out_option
    start = time.perf_counter()
    workers = workers_of(args)
    with progress(None, "reach", "part", enabled=False if args.no_progress else None) as bar:
        rows = reach_folder(
            args.input,
            args.out,
            cfg,
            workers=workers,
            progress=lambda _row: bar.update(1),
            on_start=bar.set_total,
        )
    seconds = time.perf_counter() - start
    failed = [r for r in rows if r["status"] == "error"]
    done = [r for r in rows if r["status"] != "error"]
    sets: dict[str, int] = {}
    for r in done:
        key = r["valid"] or "(none)"
        sets[key] = sets.get(key, 0) + 1
    print(
        f"analysed {len(done)} of {len(rows)} meshes in {seconds:.1f} s "
        f"({len(done) / max(seconds, 1e-9):.0f} parts/s, {workers} workers, "
        f"rays by {ray_backend(cfg.rays)})"
    )
    no_features = sum(r["status"] == "no_features" for r in done)
    if no_features:
        print(f"no feature faces (every direction valid, vacuously): {no_features}")
    top = sorted(sets.items(), key=lambda kv: (-kv[1], kv[0]))[:8]
    print("valid sets: " + ", ".join(f"{k} {v}" for k, v in top))
    labelled = [r for r in done if r["label"]]
    if labelled:
        inside = sum(r["label_in_set"] == 1 for r in labelled)
        exact = sum(r["valid"] == r["label"] for r in labelled)
        print(
            f"folder labels: in the set {inside}/{len(labelled)}, "
            f"the set is the label alone {exact}/{len(labelled)}"
        )
    out = args.out or (
        os.path.join(args.input, "reach.csv")
        if os.path.isdir(args.input)
        else os.path.join(os.path.dirname(args.input), "reach.csv")
    )
    print(f"per-part sets, shares and reasons: {out}")
    for r in failed[:10]:
        print(f"failed: {r['error']}", file=sys.stderr)
    if len(failed) > 10:
        print(
            f"... and {len(failed) - 10} more failures (status error in the CSV)", file=sys.stderr
        )
    return EXIT_PARTIAL if failed else EXIT_OK
