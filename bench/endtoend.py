"""End to end: render a synthetic set, then ``metaview train`` it on each backbone runtime.

    python -m bench.endtoend --work /tmp/e2e                       # 200 parts a class
    python -m bench.endtoend --work /tmp/e2e --runtimes tensorflow,litert,openvino-bf16
    python -m bench.endtoend --work /tmp/e2e --runtimes auto \
        --models efficientnet-lite0,efficientnet-lite0-views

``metaview synth --per-class P --seed 1001`` (not timed), then ``metaview render`` with the
render defaults (960 px meta-images, 3 variants a part; timed once: it does not depend on
the runtime), then for each model and runtime, in this order and in one run of this script,
``metaview train DATA --model M --runtime R`` with every other default, the feature caches
removed first so that its features are computed. Each command runs in its own process;
its wall time and peak resident memory (``wait4``) are reported, with the ratio of render
plus training against the first row's (the baseline), the test accuracy of the run,
and the share of the feature pass the backbone was busy (from the train log).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path


def run(args: list[str], log: Path) -> tuple[float, int, str]:
    """``metaview ARGS`` in a child process: (seconds, peak resident bytes, its stderr)."""
    cmd = [sys.executable, "-m", "metaview", "-v", *args]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    t = time.perf_counter()
    with open(log, "w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed; see {log}")
    return seconds, usage.ru_maxrss * 1024, log.read_text()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", default="bench/out/endtoend", help="working folder")
    p.add_argument("--per-class", type=int, default=200, help="parts per class (default 200)")
    p.add_argument(
        "--runtimes",
        default="tensorflow,auto",
        help="runtimes to train on, the first the baseline (default: tensorflow,auto)",
    )
    p.add_argument(
        "--models",
        default="",
        help="models to train, each on every runtime (default: metaview train's default)",
    )
    args = p.parse_args(argv)
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    parts, data = work / "parts", work / "data"
    if not (parts / "parts.csv").is_file():
        subprocess.run(
            [sys.executable, "-m", "metaview", "-q", "synth", str(parts), "--per-class",
             str(args.per_class), "--seed", "1001"],
            check=True,
        )  # fmt: skip
    render_s, render_peak, _ = run(
        ["render", str(parts), str(data), "--force", "--no-progress"], work / "render.log"
    )
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{work / 'mlflow.db'}"
    from mlflow import MlflowClient

    rows = []
    models = [m for m in args.models.split(",") if m] or [""]
    for model, runtime in [(m, r) for m in models for r in args.runtimes.split(",")]:
        for cache in data.glob(".features-*.npz"):
            cache.unlink()  # every runtime computes its features
        experiment = f"endtoend-{model or 'default'}-{runtime}-{time.strftime('%Y%m%d-%H%M%S')}"
        chosen = ["--model", model] if model else []
        seconds, peak, log = run(
            ["train", str(data), *chosen, "--runtime", runtime, "--experiment", experiment],
            work / f"train-{model or 'default'}-{runtime}.log",
        )
        client = MlflowClient()
        exp = client.get_experiment_by_name(experiment)
        metrics = client.search_runs([exp.experiment_id])[0].data.metrics
        params = client.search_runs([exp.experiment_id])[0].data.params
        busy = re.findall(r"backbone busy (\d+)% of ([\d.]+) s \((\d+) ms a meta-image", log)
        rows.append({
            "runtime": f"{params.get('model')} on {runtime} "
            f"({params.get('runtime.resolved', runtime)})",
            "train_s": seconds, "peak": peak, "acc": metrics.get("test_accuracy", float("nan")),
            "busy": " / ".join(f"{b}% ({ms} ms)" for b, _, ms in busy) or "-",
        })  # fmt: skip
        print(f"{rows[-1]['runtime']}: {seconds:.0f} s, test accuracy {rows[-1]['acc']:.3f}")
    base = render_s + rows[0]["train_s"]
    print(f"\nrender: {render_s:.0f} s, peak {render_peak / 1e9:.2f} GB ({data})")
    print(
        "| model, runtime | train | render + train | x baseline | test accuracy | peak | "
        "backbone busy |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        total = render_s + r["train_s"]
        print(
            f"| {r['runtime']} | {r['train_s']:.0f} s | {total:.0f} s | {total / base:.2f} | "
            f"{r['acc']:.3f} | {r['peak'] / 1e9:.2f} GB | {r['busy']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
