"""Shifted evaluation: models trained on one generator, scored on sets made unlike it.

    .venv/bin/python -m bench.shifted --work /tmp/shifted
    .venv/bin/python -m bench.shifted --work /tmp/shifted --train taxonomy --models normals

Training sets (``--train``, ``--per-class`` parts a class, split 70/15/15 by part as
``metaview train`` splits them, ``--seeds`` split seeds):

- ``default``: ``metaview synth`` with its defaults (the first generator), seed 2001;
- ``taxonomy``: ``--preset taxonomy`` without the kinds of :data:`HELD_OUT`, seed 2002;
- ``taxonomy-hard``: the same with ``--distractors 2 --tilt-deg 3``, seed 2008.

Evaluation sets, made with fresh seeds and never tuned on (``EVAL_PER_CLASS`` parts a class;
every model is scored on every set):

- ``test``: the training set's own test split (in distribution);
- ``hard``: the first generator with ``--tilt-deg 5 --distractors 3``;
- ``heldout-kinds``: the taxonomy preset drawing only the kinds of :data:`HELD_OUT`, which
  neither training set has;
- ``big``: the taxonomy preset on stock of 150-400 mm (training: 30-150, plates and bars
  aside) with one or two features: small features on large blocks;
- ``small``: the taxonomy preset on stock of 15-30 mm, with up to 8 features: crowded
  faces, features large against their part;
- ``one-feature``: like the published benchmarks of real parts: a near-cube of 90-110 mm
  with one feature of any taxonomy kind (held-out kinds included), on one face.

Scores, per part (the mean of its meta-images' probabilities, as ``metaview train`` scores):
``label`` (the top class is the label the part was made with) and ``valid`` (the top class
is in the part's valid set, ``parts.csv``'s ``valid`` column, as ``metaview reach`` finds
it: the score that counts where a part has several valid directions). ``--by-kind`` adds
``valid`` by feature kind: a part counts for every kind it has.

``A&B`` (``efficientnet-lite0&normals``) is a combined model: the features of both side by
side, under the first one's head. Features come from :func:`bench.accuracy.features_for`
(the frozen backbone on ``auto``'s runtime, cached beside each dataset; a feature family's
computed afresh), heads from :func:`bench.accuracy._train_head`. Results:
``WORK/shifted.json`` and a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from bench.accuracy import _labels_and_parts, _metaview, _train_head, features_for

#: Kinds no training set has: the ``heldout-kinds`` set is made of them only.
HELD_OUT = (
    "hexagonal_pocket",
    "hexagonal_passage",
    "circular_through_slot",
    "o_ring",
    "slanted_step",
    "countersink",
)
EVAL_PER_CLASS = 60


def _taxonomy_kinds(held_out: bool) -> str:
    from assets.synth_config import ALL_KINDS

    return ",".join(k for k in ALL_KINDS if (k in HELD_OUT) == held_out)


def set_args(name: str) -> list[str]:
    """``metaview synth`` options of a set."""
    tax = ["--preset", "taxonomy"]
    return {
        "default": ["--seed", "2001"],
        "taxonomy": [*tax, "--seed", "2002", "--kinds", _taxonomy_kinds(False)],
        # The taxonomy preset with the first generator's harder options, mildly.
        "taxonomy-hard": [
            *tax, "--seed", "2008", "--kinds", _taxonomy_kinds(False), "--distractors", "2",
            "--tilt-deg", "3",
        ],
        "hard": ["--seed", "2003", "--tilt-deg", "5", "--distractors", "3"],
        "heldout-kinds": [*tax, "--seed", "2004", "--kinds", _taxonomy_kinds(True)],
        "big": [
            *tax, "--seed", "2005", "--min-side", "150", "--max-side", "400",
            "--max-features", "2", "--kinds", _taxonomy_kinds(False),
        ],
        "one-feature": [
            *tax, "--seed", "2007", "--min-side", "90", "--max-side", "110",
            "--max-features", "1", "--stock", "box", "--second-face", "0",
        ],
        "small": [
            *tax, "--seed", "2006", "--min-side", "15", "--max-side", "30", "--max-features",
            "8", "--kinds", _taxonomy_kinds(False),
        ],
    }[name]  # fmt: skip


def make(work: Path, name: str, per_class: int, render_args: list[str]):
    """Synth and render one set (skipped when there); return (dataset, parts folder, rows)."""
    from assets.partsfile import read_parts_csv
    from train.data import load_dataset

    parts, data = work / f"{name}_parts", work / f"{name}_data"
    if not (parts / "parts.csv").is_file():
        _metaview("synth", str(parts), "--per-class", str(per_class), *set_args(name))
    if not (data / "manifest.csv").is_file():
        _metaview("render", str(parts), str(data), "--no-progress", *render_args)
    by_file = {
        Path(r["file"]).with_suffix("").as_posix(): r for r in read_parts_csv(parts / "parts.csv")
    }
    return load_dataset(data), parts, by_file


def _features(model: str, ds, parts: Path, done: dict, name: str) -> np.ndarray:
    if (name, model) not in done:
        done[name, model] = features_for(model, ds, parts)[0]
    return done[name, model]


def score(probs: np.ndarray, rows: list[dict], labels: list[str], parts: dict) -> list[dict]:
    """One record per part: label, valid set, top class, feature kinds."""
    from train.evaluate import per_part

    part_rows, part_probs = per_part(rows, probs)
    out = []
    for row, p in zip(part_rows, part_probs, strict=True):
        info = parts[row["part_id"]]
        top = labels[int(np.argmax(p))]
        kinds = sorted({f["type"] for f in info["features"] if f["role"] == "feature"})
        out.append({
            "part": row["part_id"], "label": row["label"], "top": top,
            "valid": list(info["valid"]), "kinds": kinds,
        })  # fmt: skip
    return out


def summary(records: list[dict]) -> dict:
    """``label`` and ``valid`` accuracy of a list of part records."""
    n = max(1, len(records))
    return {
        "parts": len(records),
        "label": sum(r["top"] == r["label"] for r in records) / n,
        "valid": sum(r["top"] in r["valid"] for r in records) / n,
    }


def table(results: list[dict], by_kind: bool) -> str:
    """Markdown: mean (min-max over split seeds) per (training set, model, evaluation set)."""
    keys = sorted({(r["train"], r["model"], r["eval"]) for r in results})
    lines = [
        "| trained on | model | evaluated on | parts | top in valid set | top = label |",
        "|---|---|---|---|---|---|",
    ]
    for k in keys:
        g = [r for r in results if (r["train"], r["model"], r["eval"]) == k]
        v = [r["valid"] for r in g]
        lab = [r["label"] for r in g]
        lines.append(
            f"| {k[0]} | {k[1]} | {k[2]} | {g[0]['parts']} | {np.mean(v):.3f} "
            f"({min(v):.3f}-{max(v):.3f}) | {np.mean(lab):.3f} |"
        )
    if by_kind:
        lines += [
            "",
            "| trained on | model | kind | parts | top in valid set |",
            "|---|---|---|---|---|",
        ]
        for tr, model in sorted({(r["train"], r["model"]) for r in results}):
            recs = [
                p
                for r in results
                if (r["train"], r["model"]) == (tr, model) and r["eval"] != "test"
                for p in r["records"]
            ]
            for kind in sorted({k for p in recs for k in p["kinds"]}):
                mine = [p for p in recs if kind in p["kinds"]]
                s = summary(mine)
                lines.append(f"| {tr} | {model} | {kind} | {s['parts']} | {s['valid']:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", default="bench/out/shifted", help="working folder")
    p.add_argument("--train", default="default,taxonomy", help="training sets")
    p.add_argument(
        "--eval", default="hard,heldout-kinds,big,small,one-feature", help="evaluation sets"
    )
    p.add_argument("--models", default="efficientnet-lite0,normals")
    p.add_argument("--per-class", type=int, default=200, help="training set parts per class")
    p.add_argument("--seeds", default="0,1,2", help="split seeds")
    p.add_argument("--by-kind", action="store_true", help="also report per feature kind")
    p.add_argument("--render-args", default="", help="extra metaview render options")
    args = p.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from base.native import allow_gl_and_tensorflow

    allow_gl_and_tensorflow()
    from train.split import split_parts

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    render_args = args.render_args.split()
    sets = {}
    for name in args.train.split(","):
        sets[name] = make(work, name, args.per_class, render_args)
    for name in args.eval.split(","):
        sets[name] = make(work, name, EVAL_PER_CLASS, render_args)
    feats: dict = {}
    for model in args.models.split(","):
        for name, (ds, parts, _) in sets.items():
            feats[name, model] = np.hstack(
                [_features(m, ds, parts, feats, name) for m in model.split("&")]
            )
    results = []
    for tr_name in args.train.split(","):
        ds, _, tr_parts = sets[tr_name]
        labels, y, part = _labels_and_parts(ds)
        for model in args.models.split(","):
            f = feats[tr_name, model]
            for seed in (int(s) for s in args.seeds.split(",")):
                split = split_parts(ds.part_labels(), 0.15, 0.15, seed)
                tr, val = np.isin(part, split["train"]), np.isin(part, split["val"])
                test = np.isin(part, split["test"])
                # A combined model trains the image head (standardise, dropout, dense) on the
                # features side by side.
                head = _train_head(model.split("&")[0], labels, f, y, tr, val, seed)
                evals = {
                    "test": (
                        ds,
                        f[test],
                        [r for r, t in zip(ds.rows, test, strict=True) if t],
                        tr_parts,
                    )
                }
                for name in args.eval.split(","):
                    eds, _, eparts = sets[name]
                    evals[name] = (eds, feats[name, model], eds.rows, eparts)
                for name, (_, ef, erows, eparts) in evals.items():
                    probs = np.asarray(head.predict(ef, verbose=0))
                    recs = score(probs, erows, labels, eparts)
                    s = summary(recs)
                    results.append(
                        {
                            "train": tr_name,
                            "model": model,
                            "eval": name,
                            "seed": seed,
                            **s,
                            "records": recs,
                        }
                    )
                    print(
                        f"{tr_name:9s} {model:20s} seed {seed} -> {name:14s} valid "
                        f"{s['valid']:.3f} label {s['label']:.3f} ({s['parts']} parts)",
                        flush=True,
                    )
    (work / "shifted.json").write_text(json.dumps(results, indent=1))
    text = table(results, args.by_kind)
    (work / "shifted.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
