"""Valid-set benchmark: what each training objective gives on parts valid from several sides.

    .venv/bin/python -m bench.labelsets --work /tmp/bench_sets
    .venv/bin/python -m bench.labelsets --sets through --models normals --seeds 0,1,2,3,4

For each synthetic set (``through``: ``metaview synth --per-class P --seed 1011 --through``,
whose through features open on two sides; ``through-hard``: the same with a 5 degree tilt
and 3 distractors, seed 1012; and ``default``), rendered with the render defaults, each
model and each objective of ``metaview train --objective`` (``label``, ``any-valid``,
``sets``), and each split seed (70/15/15 by part, as ``metaview train`` splits): the head is
trained as ``metaview train`` trains it, on features computed once per meta-image, and
scored per part on the test split:

- ``accuracy``: the top direction against the primary label (the face the features were
  cut into);
- ``top_valid``: the share of parts whose top direction is in their valid set (from
  ``parts.csv``, which ``metaview reach`` fills);
- ``set_exact``, ``set_precision_macro``, ``set_recall_macro``: the predicted set (every
  direction a ``sets`` model gives at least 0.5, a softmax model's top direction) against
  the valid set.

Prints a table (mean and range over the seeds) and writes ``labelsets.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from bench.accuracy import _labels_and_parts, _train_head, features_for, make_set

SCORES = ("accuracy", "top_valid", "set_exact", "set_precision_macro", "set_recall_macro")


def run(model: str, dataset, feats, objectives, seeds) -> list[dict]:
    """One row per (objective, seed)."""
    from train import labelsets
    from train.evaluate import per_part
    from train.split import split_parts

    labels, y, part = _labels_and_parts(dataset)
    valid = labelsets.find_valid_sets(dataset.root, "", dataset.meta.get("source_dir"))
    mask, _ = labelsets.set_masks(list(part), [r["label"] for r in dataset.rows], labels, valid)
    out = []
    for seed in seeds:
        split = split_parts(dataset.part_labels(), 0.15, 0.15, seed)
        tr, val = np.isin(part, split["train"]), np.isin(part, split["val"])
        test = np.flatnonzero(np.isin(part, split["test"]))
        for objective in objectives:
            target = labelsets.targets(y, mask, objective)
            t = time.perf_counter()
            head = _train_head(model, labels, feats, y, tr, val, seed, objective, target)
            head_s = time.perf_counter() - t
            rows = [dataset.rows[i] for i in test]
            part_rows, probs = per_part(rows, np.asarray(head.predict(feats[test], verbose=0)))
            first = {}
            for i, r in zip(test, rows, strict=True):
                first.setdefault(r["part_id"], i)
            m = mask[list(first.values())]
            y_part = np.asarray([labels.index(r["label"]) for r in part_rows])
            scores, _ = labelsets.set_scores(probs, m, labels, objective == "sets")
            scores["accuracy"] = float(np.mean(probs.argmax(axis=1) == y_part))
            out.append({
                "model": model, "objective": objective, "seed": seed, **scores,
                "test_parts": len(part_rows), "multi_valid": int((m.sum(axis=1) > 1).sum()),
                "head_s": head_s,
            })  # fmt: skip
            print(
                f"{model:18s} {objective:9s} seed={seed} "
                + " ".join(f"{k} {scores[k]:.3f}" for k in SCORES),
                flush=True,
            )
    return out


def summarise(rows: list[dict]) -> str:
    """A Markdown table: mean (min-max) of each score over the seeds."""
    head = "| set | model | objective | " + " | ".join(SCORES) + " | parts valid from 2+ |"
    lines = [head, "|" + "---|" * (len(SCORES) + 4)]
    keys = dict.fromkeys((r["set"], r["model"], r["objective"]) for r in rows)
    for key in keys:
        group = [r for r in rows if (r["set"], r["model"], r["objective"]) == key]
        cells = []
        for s in SCORES:
            v = np.asarray([r[s] for r in group])
            cells.append(f"{v.mean():.3f} ({v.min():.3f}-{v.max():.3f})")
        multi = f"{np.mean([r['multi_valid'] for r in group]):.0f} of {group[0]['test_parts']}"
        lines.append(f"| {' | '.join(key)} | " + " | ".join(cells) + f" | {multi} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", default="bench/out/labelsets", help="working folder")
    p.add_argument("--sets", default="through,through-hard")
    p.add_argument("--models", default="normals,efficientnet-lite0")
    p.add_argument("--objectives", default="label,any-valid,sets")
    p.add_argument("--per-class", type=int, default=120, help="parts per class in each set")
    p.add_argument("--seeds", default="0,1,2", help="split seeds")
    p.add_argument(
        "--render-args", default="", help="extra metaview render options (default: its defaults)"
    )
    args = p.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from base.native import allow_gl_and_tensorflow

    allow_gl_and_tensorflow()
    from train.data import load_dataset

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    seeds = [int(v) for v in args.seeds.split(",")]
    objectives = args.objectives.split(",")
    rows: list[dict] = []
    for name in args.sets.split(","):
        dataset = load_dataset(make_set(work, name, args.per_class, args.render_args.split()))
        for model in args.models.split(","):
            feats, _ = features_for(model, dataset, work / f"{name}_parts")
            for r in run(model, dataset, feats, objectives, seeds):
                rows.append({"set": name, **r})
    (work / "labelsets.json").write_text(json.dumps(rows, indent=1))
    print(summarise(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
