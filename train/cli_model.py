"""Sub-commands that use trained runs: ``predict``, ``runs`` and ``export``.

Each parses its options and calls one library function (:mod:`train.inference`,
:mod:`train.runs`). Nothing heavy is imported here: TensorFlow and MLflow load
inside those functions, so ``metaview --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from base.options import (
    EXIT_OK,
    EXIT_PARTIAL,
    add_batch_options,
    add_tracking_options,
    positive_int,
)

_MODEL_HELP = (
    "'best' (the default: the best finished run of the experiment by validation macro F1), "
    "'champion' (the experiment's champion: models:/metaview-EXPERIMENT@champion), a run id, "
    "runs:/RUN_ID/model (as 'metaview train' prints it), a registered model version "
    "(models:/NAME/VERSION, models:/NAME/latest or models:/NAME@ALIAS: the run that logged "
    "it), or a path, as file:PATH or plain: a .keras file, an MLflow model folder, a folder "
    "of run artifacts or a .tflite file written by 'metaview export'"
)


def register(sub) -> None:
    """Add the ``predict``, ``explain``, ``runs`` and ``export`` sub-commands to ``sub``."""
    _register_predict(sub)
    _register_explain(sub)
    _register_runs(sub)
    _register_export(sub)


def _common(p: argparse.ArgumentParser, model: bool = True) -> None:
    if model:
        p.add_argument("--model", default="best", metavar="SPEC", help=_MODEL_HELP)
    add_tracking_options(p)


def _say(text: str, err: bool = False) -> None:
    # This module is not named cli.py, so ruff's T20 applies: write to the streams directly.
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")


# --------------------------------------------------------------------------- predict


def _register_predict(sub) -> None:
    p = sub.add_parser(
        "predict",
        help="classify mesh files or meta-image PNGs with a trained model",
        description=(
            "Classify workpieces. Mesh files (.stl, .obj, ...) are rendered with the render config "
            "the model was trained on; PNGs must be meta-images of the size it was trained on. "
            "Prints one line per input: file, top class, its probability, then the other classes "
            "(a multi-label model adds its predicted set, 'set: x_plus|x_minus'). Each mesh is "
            "also analysed geometrically: 'reachable: x_plus|x_minus' lists the directions that "
            "reach every feature face ('none' for an undercut), and 'DISAGREES: ...' flags a top "
            "class outside that set, saying why; a summary line on stderr counts them "
            "(--no-reach skips the analysis). Exit code 2 if some inputs failed (each gets an "
            "error line), the others are still predicted; a disagreement does not change it."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="mesh files and/or meta-image PNGs")
    _common(p)
    p.add_argument("--json", action="store_true", help="print a JSON list instead of text lines")
    p.add_argument(
        "--top",
        type=positive_int,
        default=None,
        metavar="K",
        help="show only the K most probable classes per input (default: all)",
    )
    p.add_argument(
        "--no-reach",
        action="store_true",
        help="skip the reachability analysis of mesh inputs",
    )
    p.add_argument(
        "--explain",
        default=None,
        metavar="DIR",
        help="also write a picture per input and DIR/index.html, as 'metaview explain' does",
    )
    add_batch_options(p)  # --no-progress; a bar shows from 4 inputs
    p.set_defaults(func=run_predict)


def run_predict(args) -> int:
    from render.backend import start_probe
    from train.inference import format_prediction, load_model, predict_files

    if any(Path(p).suffix.lower() != ".png" for p in args.inputs):
        start_probe()  # which GL backend renders: found while the model loads, not after
    # need_keras=False: a run with a compact head predicts without importing TensorFlow
    # (explaining an image model needs its Keras form for Grad-CAM).
    loaded = load_model(
        args.model,
        tracking_uri=args.tracking_uri,
        experiment=args.experiment,
        need_keras=bool(args.explain),
    )
    # Progress only for batches worth waiting on: one part answers in seconds.
    show = None if len(args.inputs) > 3 and not args.no_progress else False
    reach = not args.no_reach or bool(args.explain)
    results = predict_files(args.inputs, loaded, reach=reach, progress=show)
    if args.explain:
        from train.explain.report import explain_files

        explain_files(args.inputs, loaded, args.explain, predictions=results, progress=show)
        _say(f"metaview predict: pictures in {Path(args.explain) / 'index.html'}", err=True)
    if args.json:
        out = []
        for r in results:
            d = r.to_dict()
            if args.top is not None:
                d["probabilities"] = dict(list(d["probabilities"].items())[: args.top])
            d["model"] = loaded.source
            out.append(d)
        _say(json.dumps(out, indent=2))
    else:
        for r in results:
            line = format_prediction(r, args.top)
            _say(line, err=not r.ok)
        compared = [r.agrees for r in results if r.agrees is not None]
        if len(results) > 1 and False in compared:
            _say(
                f"metaview predict: {compared.count(False)} of {len(compared)} predictions are "
                "not among their part's reachable directions",
                err=True,
            )
    failed = sum(not r.ok for r in results)
    if failed:
        _say(f"metaview predict: {failed} of {len(results)} inputs failed", err=True)
        return EXIT_PARTIAL
    return EXIT_OK


# --------------------------------------------------------------------------- explain


def _register_explain(sub) -> None:
    p = sub.add_parser(
        "explain",
        help="draw why a model predicts what it does: one picture per part and an index.html",
        description=(
            "Explain predictions. For each input, DIR/<part>.png shows the part from its five "
            "machine directions with every face coloured by what reaches it (grey: stock; a "
            "direction's colour, or stripes of several; red: an undercut, reached from none), "
            "then what the model looked at (Grad-CAM over the meta-image for an image model; "
            "the faces that carried the score for 'normals'), the probabilities and whether the "
            "top class reaches every feature face, saying why not. DIR/index.html links them all "
            "with the answers as text; DIR/explain.json holds the same for tools. Exit code 2 if "
            "some inputs failed (each gets an error line and a row in the index)."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="mesh files and/or meta-image PNGs")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the pictures")
    _common(p)
    p.add_argument(
        "--view-px",
        type=positive_int,
        default=320,
        metavar="PX",
        help="pixels on a side of each direction view (default: 320)",
    )
    add_batch_options(p)
    p.set_defaults(func=run_explain)


def run_explain(args) -> int:
    from render.backend import start_probe
    from train.explain.report import explain_files
    from train.inference import load_model

    start_probe()
    loaded = load_model(args.model, tracking_uri=args.tracking_uri, experiment=args.experiment)
    show = None if len(args.inputs) > 1 and not args.no_progress else False
    items = explain_files(args.inputs, loaded, args.out, progress=show, view_px=args.view_px)
    for it in items:
        p = it.prediction
        if it.error:
            _say(it.error, err=True)
            continue
        reach = "unknown" if p.reachable is None else "|".join(p.reachable) or "none"
        flag = "  DISAGREES" if it.disagrees else ""
        _say(
            f"{p.file}\t{p.label} {p.probability:.3f}\treachable: {reach}{flag}\t"
            f"{Path(args.out) / it.picture}"
        )
    _say(f"metaview explain: {Path(args.out) / 'index.html'}", err=True)
    failed = sum(bool(it.error) for it in items)
    if failed:
        _say(f"metaview explain: {failed} of {len(items)} inputs failed", err=True)
        return EXIT_PARTIAL
    return EXIT_OK


# --------------------------------------------------------------------------- runs


def _register_runs(sub) -> None:
    from train.tracking.names import STALE_AFTER_MINUTES

    p = sub.add_parser(
        "runs",
        help="compare the experiment's training runs, best first",
        description=(
            "Print a table of the experiment's training runs, best first (by best validation "
            "macro F1, ties by validation loss, then the earlier run); '*' marks the best run, "
            "'C' the experiment's champion. --plot also draws the runs' validation curves. "
            "A run still RUNNING in MLflow whose process is gone (no heartbeat for "
            "--stale-after minutes) shows as STALE; --mark-failed ends such runs as FAILED."
        ),
    )
    _common(p, model=False)
    p.add_argument("--csv", default=None, metavar="FILE", help="also write the table as CSV")
    p.add_argument(
        "--plot",
        default=None,
        metavar="FILE",
        help="also write the runs' validation curves as a PNG (default: none)",
    )
    p.add_argument(
        "--stale-after",
        type=_minutes,
        default=STALE_AFTER_MINUTES,
        metavar="MIN",
        help="a RUNNING run without a heartbeat for this many minutes is stale "
        f"(default: {STALE_AFTER_MINUTES:g})",
    )
    p.add_argument(
        "--mark-failed",
        action="store_true",
        help="end the stale runs as FAILED (naming each) before listing the runs",
    )
    p.set_defaults(func=run_runs)


def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected minutes (a number), got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected minutes >= 0, got {text}")
    return value


def run_runs(args) -> int:
    from train.runs import mark_stale_runs, runs_report

    plot = args.plot
    if args.mark_failed:
        ended = mark_stale_runs(args.experiment, args.tracking_uri, args.stale_after)
        for r in ended:
            _say(
                f"marked FAILED: run {r.run_id} {r.run_name or '(no name)'} "
                f"(no heartbeat for {_silence(r.silent_s)})"
            )
        if not ended:
            _say(f"no stale runs (RUNNING without a heartbeat for {args.stale_after:g} min)")
        _say("")
    _, table = runs_report(
        args.experiment,
        args.tracking_uri,
        csv_path=args.csv,
        plot_path=plot,
        stale_after_minutes=args.stale_after,
    )
    _say(table)
    written = [f"validation curves: {plot}"] * bool(plot) + [f"CSV: {args.csv}"] * bool(args.csv)
    if written:
        _say("\n" + "; ".join(written))
    return EXIT_OK


# --------------------------------------------------------------------------- export


def _register_export(sub) -> None:
    from train.inference.export_options import IO_TYPES, MODES

    p = sub.add_parser(
        "export",
        help="export a trained model to TFLite (float32, float16, dynamic or int8)",
        description=(
            "Convert a run's model to TFLite, evaluate it on the run's test split beside the Keras "
            "model (accuracy, size, latency), log the numbers to the run, and write "
            "OUT.tflite.json with the labels, render config and feature family for "
            "'metaview predict --model OUT.tflite'. A feature-vector model (normals, "
            "colour-stats) is calibrated and evaluated on its family's features of the split."
        ),
    )
    p.add_argument("out", metavar="OUT.tflite", help="output file")
    _common(p)
    p.add_argument(
        "--quantize",
        choices=MODES,
        default="float32",
        help="float32, float16 (weights), dynamic (int8 weights), int8 (full integer, "
        "calibrated on the training split) (default: float32)",
    )
    p.add_argument(
        "--io-type",
        choices=IO_TYPES,
        default=None,
        help="input/output tensor type; int8/uint8 need --quantize int8 "
        "(default: int8 for --quantize int8, else float32)",
    )
    p.add_argument(
        "--dataset",
        default=None,
        metavar="DIR",
        help="the run's dataset folder, if it moved (default: the run's metaview.dataset tag)",
    )
    p.add_argument(
        "--representative",
        type=positive_int,
        default=100,
        metavar="N",
        help="calibration inputs (meta-images, or a family's feature vectors) for int8 from "
        "the training split (default: 100)",
    )
    p.add_argument(
        "--meshes",
        default="",
        metavar="DIR",
        help="folder of the meshes behind the dataset, if they moved; read by a normals model "
        "only (default: the folder recorded in DATA/metaimage.json)",
    )
    p.add_argument("--no-log", action="store_true", help="do not log the numbers to the run")
    p.set_defaults(func=run_export)


def run_export(args) -> int:
    from train.inference.export import export_model

    r = export_model(
        args.out,
        args.quantize,
        args.io_type,
        spec=args.model,
        tracking_uri=args.tracking_uri,
        experiment=args.experiment,
        dataset=args.dataset,
        n_representative=args.representative,
        log_to_run=not args.no_log,
        meshes=args.meshes,
    )
    inputs = f"{r.n_test} test images"
    if r.features:
        inputs = f"{r.n_test} test inputs ({r.features} features)"
    _say(f"wrote {r.path} ({r.mode}, {r.io_type} I/O) and {r.sidecar}; run {r.run_id}, {inputs}")
    _say(f"{'':8}{'accuracy':>10}{'size':>12}{'latency':>12}")
    for name, acc, size, ms in (
        ("keras", r.keras_accuracy, r.keras_size_bytes, r.keras_latency_ms),
        ("tflite", r.accuracy, r.size_bytes, r.latency_ms),
    ):
        _say(f"{name:8}{acc:>10.3f}{_size(size):>12}{ms:>9.2f} ms")
    _say(f"top-1 agreement with keras: {r.agreement:.3f}")
    return EXIT_OK


def _silence(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)
