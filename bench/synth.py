"""Benchmark ``metaview synth``: parts per second on one core.

Usage::

    .venv/bin/python bench/synth.py                 # 40 parts per class, default settings
    .venv/bin/python bench/synth.py --per-class 100 --workers 2

For each configuration it times, in this process (one core, manifold3d is single-threaded
here), ``synth_parts`` end to end: sampling, the boolean difference, the watertight check,
STL encoding, writing the files and ``parts.csv``. Imports and the first part (warm-up) are
not counted. It prints wall-clock and CPU parts/s; CPU parts/s is the per-core figure.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from assets.part import generate_part, part_seed
from assets.synth import synth_parts
from assets.synth_config import SynthConfig

SETTINGS = {
    "default": {},
    "tilt+distractors": {"tilt_deg": 5.0, "distractors": 3},
    "segments=64": {"segments": 64},
}


def bench(per_class: int, seed: int, workers: int, overrides: dict) -> tuple[float, float, int]:
    """Return (wall seconds, CPU seconds of this process, triangles in all parts)."""
    cfg = SynthConfig(per_class=per_class, seed=seed, **overrides)
    generate_part("x_plus", part_seed(seed + 1, "x_plus", 0), cfg)  # warm-up: lazy imports
    with tempfile.TemporaryDirectory() as tmp:
        wall, cpu = time.perf_counter(), time.process_time()
        synth_parts(tmp, cfg, workers=workers)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        triangles = sum((p.stat().st_size - 84) // 50 for p in Path(tmp).glob("*/*.stl"))
    return wall, cpu, triangles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    n = 5 * args.per_class
    print(f"{n} parts per setting, workers={args.workers}")
    for name, overrides in SETTINGS.items():
        wall, cpu, triangles = bench(args.per_class, args.seed, args.workers, overrides)
        per_core = f"{n / cpu:6.1f} parts/s CPU" if args.workers == 1 else "(CPU n/a: workers)"
        print(
            f"{name:18s} {n / wall:6.1f} parts/s wall  {per_core}  "
            f"{1000 * wall / n:5.1f} ms/part  {triangles / n:6.0f} triangles/part"
        )


if __name__ == "__main__":
    main()
