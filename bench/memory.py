"""Peak memory and time of the frozen backbone at the default size, by call style and runtime.

Each configuration runs in a fresh Python process (peak resident memory is a per-process
high-water mark), on the same random 960 px input through EfficientNet-Lite0's feature
extractor with ImageNet weights (the backbone and its pooling, what the feature cache runs):

- ``eager``: ``model(x)``, what the feature cache and predict did before
  :mod:`train.batching`;
- ``traced``: :func:`train.batching.compiled`, a ``tf.function`` traced once (the
  ``tensorflow`` runtime);
- ``litert``, ``openvino``, ``openvino-bf16``: :func:`train.runtimes.backbone_runner` on
  that runtime (those installed), the conversion cached beforehand (not timed).

Reported: first call (trace included), ms an image over ``--repeats`` calls, its speed-up
against ``eager`` at batch 1 measured in the same run, peak resident memory and its ratio,
and the largest difference of the features from ``traced``'s (features lie in 0..6).

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
from train import batching, runtimes
from train.models import classifier, create_model

style, batch, size, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
net = classifier.feature_extractor(create_model("efficientnet-lite0", 5, size, "imagenet", 0.2))
x = np.random.default_rng(0).uniform(0, 255, (batch, size, size, 3)).astype(np.float32)
if style == "traced":
    call = batching.compiled(net)
elif style in runtimes.RUNTIMES:
    call, _ = runtimes.backbone_runner(net, style)
else:
    call = lambda a: np.asarray(net(a, training=False))
t0 = time.perf_counter(); out = call(x); first = time.perf_counter() - t0
np.save(sys.argv[5], np.asarray(out, np.float32))
t0 = time.perf_counter()
for _ in range(repeats):
    call(x)
ms = (time.perf_counter() - t0) * 1000 / (repeats * batch)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"first_s": first, "ms_per_image": ms, "peak_bytes": peak}))
"""


def measure(style: str, batch: int, size: int, repeats: int, features: str) -> dict:
    """One configuration in a fresh process: {"first_s", "ms_per_image", "peak_bytes"};
    its features go to the ``.npy`` file ``features``."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, style, str(batch), str(size), str(repeats), features],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=960, help="input size in pixels (default: 960)")
    p.add_argument("--batches", default="1,2", help="batch sizes (default: 1,2)")
    p.add_argument("--repeats", type=int, default=3, help="timed calls (default: 3)")
    args = p.parse_args(argv)
    import tempfile

    import numpy as np

    from train import runtimes

    others = [
        r for r in runtimes.RUNTIMES if r not in ("auto", "tensorflow") and runtimes.available(r)
    ]
    styles = ["eager", "traced", *others]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if others:  # convert once beforehand: the cached file is what runs
            measure(others[0], 1, args.size, 1, os.path.join(tmp, "warm-up.npy"))
        for batch in [int(b) for b in args.batches.split(",")]:
            feats = {}
            for style in styles:
                path = os.path.join(tmp, f"{style}-{batch}.npy")
                rows.append([style, batch, measure(style, batch, args.size, args.repeats, path)])
                feats[style] = np.load(path)
            for row in rows[-len(styles) :]:
                row.append(float(np.abs(feats[row[0]] - feats["traced"]).max()))
    base = next(r for s, b, r, _ in rows if s == "eager" and b == 1)
    print(f"Lite0 features at {args.size} px, {args.repeats} timed calls, one process each")
    head = ("call", "batch", "first s", "ms/img", "x eager", "peak GB", "x eager", "max diff")
    print(f"{head[0]:14}" + "".join(f"{h:>9}" for h in head[1:]))
    for style, batch, r, diff in rows:
        print(
            f"{style:14}{batch:>9}{r['first_s']:>9.2f}{r['ms_per_image']:>9.0f}"
            f"{base['ms_per_image'] / r['ms_per_image']:>9.2f}{r['peak_bytes'] / 1e9:>9.2f}"
            f"{r['peak_bytes'] / base['peak_bytes']:>9.2f}{diff:>9.1e}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
