"""Benchmark ``metaview reach``: speed, and how the valid sets compare with the synthetic labels.

Usage::

    .venv/bin/python -m bench.reach                     # 100 parts per class, 2 workers
    .venv/bin/python -m bench.reach --per-class 40 --workers 1 --rays rtree

(``-m`` from the repository root: run as ``bench/reach.py``, ``import render`` would find
``bench/render.py``.)

For each set (default options; hard: ``--tilt-deg 5 --distractors 3``; ``--through``), all
with ``--seed`` (default 0), it generates the parts with ``metaview synth`` into a temporary
folder, then times :func:`assets.reach.reach_folder` over the STL files (loading, straightening,
ray casting, writing ``reach.csv``; the pool's start-up included, imports not). It prints parts/s
and, against the synthetic labels: how often the label is in the valid set, how often the set
is the label alone, the sizes of the sets, and whether the ``valid`` column of ``parts.csv``
(computed from the in-memory mesh while generating) agrees with the analysis of the file.
"""

from __future__ import annotations

import argparse
import collections
import tempfile
import time
from pathlib import Path

from assets.partsfile import read_parts_csv
from assets.reach import parse_label_set, reach_folder
from assets.synth import synth_parts
from assets.synth_config import SynthConfig
from geometry.reach import ReachConfig, ray_backend

SETS = {
    "default": {},
    "hard": {"tilt_deg": 5.0, "distractors": 3},
    "through": {"through": True},
}


def bench_set(name: str, overrides: dict, args: argparse.Namespace) -> None:
    cfg = SynthConfig(per_class=args.per_class, seed=args.seed, **overrides)
    reach_cfg = ReachConfig(rays=args.rays)
    with tempfile.TemporaryDirectory() as tmp:
        synth_parts(tmp, cfg, workers=args.workers)
        wall = time.perf_counter()
        rows = reach_folder(tmp, Path(tmp) / "reach.csv", reach_cfg, workers=args.workers)
        wall = time.perf_counter() - wall
        parts = {r["file"]: r for r in read_parts_csv(Path(tmp) / "parts.csv")}
    n = len(rows)
    errors = sum(r["status"] == "error" for r in rows)
    inside = sum(r["label_in_set"] == 1 for r in rows)
    exact = sum(r["valid"] == r["label"] for r in rows)
    agree = sum(parse_label_set(r["valid"]) == parts[r["file"]]["valid"] for r in rows)
    sizes = collections.Counter(r["n_valid"] for r in rows if r["status"] != "error")
    print(
        f"{name:8s} {n:5d} parts  {n / wall:6.1f} parts/s  "
        f"label in set {inside / n:6.1%}  set == label {exact / n:6.1%}  "
        f"parts.csv agrees {agree}/{n}  errors {errors}  "
        f"set sizes {dict(sorted(sizes.items()))}"
    )
    if args.verbose:
        others = collections.Counter(
            (r["label"], r["valid"]) for r in rows if r["valid"] != r["label"]
        )
        for (label, valid), count in others.most_common(12):
            print(f"           {label:8s} -> {valid or '(none)'}: {count}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rays", choices=("auto", "embree", "rtree"), default="auto")
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated subset")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the other sets")
    args = parser.parse_args()
    print(
        f"{5 * args.per_class} parts per set, seed {args.seed}, workers {args.workers}, "
        f"rays by {ray_backend(args.rays)}"
    )
    for name in args.sets.split(","):
        bench_set(name, SETS[name], args)


if __name__ == "__main__":
    main()
