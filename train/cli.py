"""``metaview train``: train a classifier on a rendered dataset folder, as one MLflow run.

The options are :class:`train.config.TrainConfig`'s fields (help, type and default
from the dataclass, see :mod:`base.options`), plus the dataset folder and the
tracking options. Only argparse and the config at module level: TensorFlow and
MLflow are imported when the command runs, so ``metaview --help`` stays fast.
"""

from __future__ import annotations

import argparse

from base.options import (
    EXIT_OK,
    add_batch_options,
    add_config_options,
    add_tracking_options,
    config_kwargs,
)
from train.config import TrainConfig
from train.models import get_model_spec, list_models


def _model_help() -> str:
    specs = [get_model_spec(name) for name in list_models()]
    images = ", ".join(f"{s.name} {s.input_size} px" for s in specs if s.input_kind == "image")
    vectors = ", ".join(s.name for s in specs if s.input_kind != "image")
    return (
        "the architecture to train (in predict and export, --model names a trained model "
        f"instead; default {TrainConfig().model}: the frozen EfficientNet-Lite0 on the "
        "meta-image, pooled per view direction, beside the face normals of the part's mesh; "
        "efficientnet-lite0-views is its image part alone, for datasets without their "
        f"meshes). Image models, at their native input size: {images}. Models of "
        f"feature vectors (of the meshes, or of the meta-images): {vectors}"
    )


def register(sub) -> None:
    """Add the ``train`` sub-command to the dispatcher's sub-parsers."""
    p = sub.add_parser(
        "train",
        help="train a classifier on a rendered dataset (one MLflow run)",
        description=(
            "Train a classifier (--model: EfficientNet on the meta-images, a model of the "
            "meshes' face normals, or by default both under one head) on DATA (a folder "
            "written by 'metaview render'). "
            "The dataset is split by part into train/val/test (stratified, seeded; "
            "test_parts.txt is honoured). Everything is recorded as one MLflow run: params, "
            "per-epoch metrics, test metrics, plots, the split and the model."
        ),
        epilog=(
            "Examples: 'metaview train data/' (EfficientNet-Lite0, frozen ImageNet weights, "
            "on the 960 px meta-images, its features pooled per view direction, beside the "
            "face normals of the meshes the images were rendered from); 'metaview train data/ "
            "--model efficientnet-lite0-views' (the image part alone: no meshes needed); "
            "'metaview train data/ --model efficientnet-lite0' (the design's max-pooled "
            "Lite0); 'metaview train data/ --model normals' (face normals of the meshes, "
            "seconds); 'metaview train data/ --model efficientnet-b0 --weights none "
            "--image-size 128 --epochs 20' (from scratch, offline); 'metaview train mine/ "
            "--model efficientnet-lite0 --init-from RUN_ID --fine-tune-layers 20'. "
            "Look at the runs with 'metaview runs' or 'mlflow ui --backend-store-uri "
            "sqlite:///mlflow.db'."
        ),
    )
    p.add_argument("data", metavar="DATA", help="dataset folder written by 'metaview render'")
    add_config_options(
        p, TrainConfig, overrides={"model": {"choices": list_models(), "help": _model_help()}}
    )
    add_batch_options(p)  # --no-progress: epochs, and feature extraction, shown or not
    g = add_tracking_options(p)
    g.add_argument("--run-name", default=None, help="MLflow run name (default: MLflow's)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``metaview train``; return the exit code."""
    cfg = TrainConfig(**config_kwargs(TrainConfig, args))
    from train import fit, tracking
    from train.console import fit_verbosity, import_tensorflow

    uri = tracking.resolve_tracking_uri(args.tracking_uri)
    experiment = tracking.resolve_experiment(args.experiment)
    # Before minutes of work: a tracking server that is down is an error now, naming it.
    tracking.open_store(uri)
    print(f"metaview train: {args.data} -> MLflow experiment '{experiment}' at {uri}")
    if cfg.weights == "none" and not cfg.init_from:
        print("metaview train: --weights none: training the whole network from scratch")
    import_tensorflow()
    result = fit.train(
        cfg,
        args.data,
        tracking_uri=uri,
        experiment=experiment,
        run_name=args.run_name,
        verbose=fit_verbosity(args.no_progress),
    )
    print()
    print(summary(result, experiment))
    return EXIT_OK


def summary(result, experiment: str) -> str:
    """The lines ``metaview train`` prints at the end of a run.

    Epochs count from 1, as Keras printed them. Per-class scores come from
    ``result.class_scores`` (keyed by the class names themselves, so ``+X`` and
    ``_X`` stay apart); the model is named by its ``runs:/`` URI, which MLflow
    resolves wherever it stored the model.
    """
    from train import tracking
    from train.tracking.names import MODEL_ARTIFACT

    m = result.metrics
    uri = result.tracking_uri
    lines = [
        f"run {result.run_id} finished in {m['train_seconds']:.0f} s",
        f"  best epoch {int(m['best_epoch'])} of {len(result.history.get('val_loss', []))}: "
        f"val_loss {m['best_val_loss']:.4f}, val_accuracy {m['best_val_accuracy']:.3f}, "
        f"val_f1_macro {m['best_val_f1_macro']:.3f}",
        f"  test: accuracy {m['test_accuracy']:.3f}, precision {m['test_precision_macro']:.3f}, "
        f"recall {m['test_recall_macro']:.3f}, f1 {m['test_f1_macro']:.3f} (macro)",
    ]
    if "test_top_valid" in m:
        lines.append(
            f"  valid sets: top direction valid for {m['test_top_valid']:.3f} of test parts, "
            f"predicted set exact {m['test_set_exact']:.3f}, set precision "
            f"{m['test_set_precision_macro']:.3f}, recall {m['test_set_recall_macro']:.3f} (macro)"
        )
    width = max((len(label) for label in result.class_scores), default=0)
    for label, s in result.class_scores.items():
        line = (
            f"    {label:>{max(width, 12)}}: precision {s['precision']:.3f}, "
            f"recall {s['recall']:.3f}, f1 {s['f1']:.3f}"
        )
        if "set_precision" in s:
            line += f"; set precision {s['set_precision']:.3f}, recall {s['set_recall']:.3f}"
        lines.append(line)
    lines.append(f"  model: runs:/{result.run_id}/{MODEL_ARTIFACT}")
    if result.promoted:
        name = tracking.registered_model_name(experiment)
        lines.append(
            f"  the best run of experiment '{experiment}': now models:/{name}@"
            f"{tracking.CHAMPION_ALIAS} (--model champion)"
        )
    lines.append(
        f"  artifacts: {result.artifact_uri} (plots/, confusion_matrix.json, class_scores.json, "
        "history.json)"
    )
    ui = f"mlflow ui --backend-store-uri {uri}" if uri.startswith("sqlite:") else f"open {uri}"
    lines.append(f"  next: metaview runs | metaview predict PART.stl | {ui}")
    return "\n".join(lines)
