"""Prediction latency of one part: a cold ``metaview predict`` and a warm process.

    python -m bench.predict --model best --parts PARTS/ [--experiment NAME] [--n 5]

- cold: ``metaview -q predict PART.stl --model SPEC`` in a fresh process, start-up, model
  load, render and forward pass included; the median (and min-max) over ``--n`` parts,
  with its peak resident memory;
- warm: one process loads the model once (:func:`train.inference.load_model`) and keeps
  one render worker open (``predict_files(..., renderer=...)``), predicts one part to warm
  up, then each of ``--n`` parts alone (render, forward pass and reach analysis included):
  seconds per part.

Both as ``metaview predict`` loads a run's model (``need_keras=False``: the compact form
where the run has one, :mod:`train.inference.compact`) and, for comparison, through the
Keras model (``--keras``: what every run loaded before).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

_WARM = r"""
import json, sys, time
from base.native import allow_gl_and_tensorflow
allow_gl_and_tensorflow()
from render.worker import MeshRenderer
from train.inference import load_model, predict_files
spec, experiment, keras, parts = sys.argv[1], sys.argv[2] or None, sys.argv[3] == "1", sys.argv[4:]
t = time.perf_counter()
loaded = load_model(spec, experiment=experiment, need_keras=keras)
load_s = time.perf_counter() - t
renderer = MeshRenderer(loaded.metaimage["config"])  # kept open, as a service keeps it
predict_files([parts[0]], loaded, renderer=renderer)  # warm-up: first render, first call
times = []
for p in parts[1:]:
    t = time.perf_counter()
    predict_files([p], loaded, renderer=renderer)
    times.append(time.perf_counter() - t)
renderer.close()
print(json.dumps({"kind": loaded.kind, "load_s": load_s, "per_part_s": times}))
"""


def cold(spec: str, experiment: str, keras: bool, part: Path) -> tuple[float, int]:
    """One ``metaview predict`` of ``part`` in a fresh process: (seconds, peak bytes)."""
    args = ["predict", str(part), "--model", spec] + (
        ["--experiment", experiment] * bool(experiment)
    )
    if keras:  # the Keras path: what load_model(need_keras=True) does, from the CLI
        code = (
            "import sys\n"
            "from train.inference import loading\n"
            "_load = loading.load_model\n"
            "loading.load_model = lambda *a, **k: _load(*a, **{**k, 'need_keras': True})\n"
            "import train.inference as ti; ti.load_model = loading.load_model\n"
            "from metaview.cli import main\n"
            "raise SystemExit(main(sys.argv[1:]))\n"
        )
        cmd = [sys.executable, "-c", code, "-q", *args]
    else:
        cmd = [sys.executable, "-m", "metaview", "-q", *args]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss * 1024


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="best", help="model spec (default: best)")
    p.add_argument("--experiment", default="", help="MLflow experiment of best/champion")
    p.add_argument("--parts", required=True, help="folder of mesh files (searched recursively)")
    p.add_argument("--n", type=int, default=5, help="parts timed (default 5)")
    p.add_argument("--keras", action="store_true", help="also time the Keras path")
    args = p.parse_args(argv)
    parts = sorted(Path(args.parts).rglob("*.stl"))[: args.n + 1]
    if len(parts) < 2:
        p.error(f"--parts {args.parts}: expected at least 2 .stl files, found {len(parts)}")
    print(f"{len(parts) - 1} parts from {args.parts}, model {args.model}")
    for keras in [False, True] if args.keras else [False]:
        runs = [cold(args.model, args.experiment, keras, part) for part in parts[1:]]
        secs = [s for s, _ in runs]
        out = subprocess.run(
            [sys.executable, "-c", _WARM, args.model, args.experiment, "1" if keras else "0",
             *map(str, parts)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        warm = json.loads(out.stdout.strip().splitlines()[-1])
        w = warm["per_part_s"]
        print(
            f"{warm['kind']:8} cold {statistics.median(secs):.2f} s ({min(secs):.2f}-"
            f"{max(secs):.2f}), peak {max(b for _, b in runs) / 1e9:.2f} GB | warm "
            f"{statistics.median(w):.2f} s a part ({min(w):.2f}-{max(w):.2f}), "
            f"load {warm['load_s']:.2f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
