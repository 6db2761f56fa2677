"""Peak memory and time of one image-model forward pass at the default size, by call style.

Each configuration runs in a fresh Python process (peak resident memory is a per-process
high-water mark), on the same random 960 px input with an EfficientNet-Lite0 classifier
(random weights: the same memory and time as ImageNet's):

- ``eager``: ``model(x)``, what the feature cache and predict did before
  :mod:`train.batching`;
- ``traced``: :func:`train.batching.compiled`, a ``tf.function`` traced once.

Reported: first call (trace included), ms an image over ``--repeats`` calls, peak resident
memory, and each figure's ratio against ``eager`` at batch 1 measured in the same run.

    python -m bench.memory                   # batches 1 and 2, 3 repeats
    python -m bench.memory --batches 1,2,4 --size 960
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

_CHILD = r"""
import json, os, resource, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
from train import batching
from train.models import create_model

style, batch, size, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
net = create_model("efficientnet-lite0", 5, size, "none", 0.2)
x = np.random.default_rng(0).uniform(0, 255, (batch, size, size, 3)).astype(np.float32)
if style == "traced":
    call = batching.compiled(net)
else:
    call = lambda a: np.asarray(net(a, training=False))
t0 = time.perf_counter(); call(x); first = time.perf_counter() - t0
t0 = time.perf_counter()
for _ in range(repeats):
    call(x)
ms = (time.perf_counter() - t0) * 1000 / (repeats * batch)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"first_s": first, "ms_per_image": ms, "peak_bytes": peak}))
"""


def measure(style: str, batch: int, size: int, repeats: int) -> dict:
    """One configuration in a fresh process: {"first_s", "ms_per_image", "peak_bytes"}."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, style, str(batch), str(size), str(repeats)],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=960, help="input size in pixels (default: 960)")
    p.add_argument("--batches", default="1,2", help="batch sizes (default: 1,2)")
    p.add_argument("--repeats", type=int, default=3, help="timed calls (default: 3)")
    args = p.parse_args(argv)
    rows = []
    for batch in [int(b) for b in args.batches.split(",")]:
        for style in ("eager", "traced"):
            rows.append((style, batch, measure(style, batch, args.size, args.repeats)))
    base = next(r for s, b, r in rows if s == "eager" and b == 1)
    print(f"Lite0 classifier at {args.size} px, {args.repeats} timed calls, one process each")
    head = ("call", "batch", "first s", "ms/img", "x eager", "peak GB", "x eager")
    print(f"{head[0]:8}" + "".join(f"{h:>9}" for h in head[1:]))
    for style, batch, r in rows:
        print(
            f"{style:8}{batch:>6}{r['first_s']:>9.2f}{r['ms_per_image']:>9.0f}"
            f"{base['ms_per_image'] / r['ms_per_image']:>9.2f}{r['peak_bytes'] / 1e9:>9.2f}"
            f"{r['peak_bytes'] / base['peak_bytes']:>9.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
