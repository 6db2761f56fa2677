"""The ``predict``, ``runs`` and ``export`` sub-commands (:mod:`train.cli_model`): their
options, what each passes on to its library function, its lines and its exit code.

The library functions are stood in for here (they have their own tests): these tests
check the command layer alone.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from _toy_fixtures import cli

from base.options import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL
from train import cli_model
from train.inference.prediction import Prediction
from train.tracking.names import STALE_AFTER_MINUTES


def _parser():
    import argparse

    parser = argparse.ArgumentParser(prog="metaview")
    cli_model.register(parser.add_subparsers(dest="command"))
    return parser


def test_the_three_commands_and_their_defaults():
    parser = _parser()
    args = parser.parse_args(["predict", "a.png", "b.stl"])
    assert (args.func, args.inputs, args.model) == (
        cli_model.run_predict,
        ["a.png", "b.stl"],
        "best",
    )
    assert (args.json, args.top, args.no_reach, args.tracking_uri) == (False, None, False, None)
    args = parser.parse_args(["runs"])
    assert (args.func, args.stale_after, args.mark_failed) == (
        cli_model.run_runs,
        STALE_AFTER_MINUTES,
        False,
    )
    args = parser.parse_args(["export", "m.tflite"])
    assert (args.func, args.out, args.quantize, args.io_type) == (
        cli_model.run_export,
        "m.tflite",
        "float32",
        None,
    )
    assert (args.representative, args.meshes, args.no_log, args.model) == (100, "", False, "best")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["runs", "--stale-after", "-1"], "expected minutes >= 0, got -1"),
        (["runs", "--stale-after", "soon"], "expected minutes (a number), got 'soon'"),
        (["predict", "--top", "0", "a.png"], "expected a positive integer, got 0"),
        (["export", "--representative", "x", "m.tflite"], "expected a positive integer"),
        (["export", "--io-type", "int4", "m.tflite"], "invalid choice: 'int4'"),
        (["predict"], "the following arguments are required: INPUT"),
    ],
)
def test_bad_option_values_are_user_errors_exit_1(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli(argv)
    assert exc.value.code == EXIT_ERROR
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("command", ["predict", "export"])
def test_a_model_spec_that_names_nothing_exits_1_naming_it(command, tmp_path, capsys):
    spec = str(tmp_path / "nowhere" / "model.keras")
    argv = [
        command,
        "--model",
        spec,
        str(tmp_path / ("a.png" if command == "predict" else "m.tflite")),
    ]
    assert cli(argv) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith(f"metaview {command}: error: ") and spec in err
    assert not (tmp_path / "m.tflite").exists()


def _stand_in_predict(monkeypatch, results):
    """Make ``predict`` answer ``results``; return what it was asked (spec, inputs, options)."""
    import train.inference

    asked = {}

    def load_model(spec, **kw):
        asked.update(spec=spec, need_keras=kw["need_keras"], experiment=kw["experiment"])
        return SimpleNamespace(source=f"stand-in {spec}")

    def predict_files(inputs, loaded, reach, progress):
        asked.update(inputs=list(inputs), reach=reach, progress=progress)
        return results

    monkeypatch.setattr(train.inference, "load_model", load_model)
    monkeypatch.setattr(train.inference, "predict_files", predict_files)
    return asked


def _ok(file, label="x_plus", reachable=None):
    others = [c for c in ("x_plus", "y_plus", "z_plus") if c != label]
    probs = {label: 0.7, others[0]: 0.2, others[1]: 0.1}  # highest first
    return Prediction(file, label, 0.7, probs, predicted_set=(label,), reachable=reachable)


def test_predict_json_keeps_the_top_k_and_names_the_model(monkeypatch, capsys):
    asked = _stand_in_predict(monkeypatch, [_ok("a.png"), _ok("b.png", "y_plus")])
    argv = ["predict", "a.png", "b.png", "--json", "--top", "2", "--model", "m1", "--no-reach"]
    assert cli([*argv, "--experiment", "e"]) == EXIT_OK
    out = json.loads(capsys.readouterr().out)
    assert [d["file"] for d in out] == ["a.png", "b.png"]
    assert [list(d["probabilities"]) for d in out] == [["x_plus", "y_plus"], ["y_plus", "x_plus"]]
    assert {d["model"] for d in out} == {"stand-in m1"}
    assert asked == {
        "spec": "m1",
        "need_keras": False,  # a compact head predicts without TensorFlow
        "experiment": "e",
        "inputs": ["a.png", "b.png"],
        "reach": False,
        "progress": False,  # a bar only from 4 inputs
    }


def test_predict_failures_exit_2_and_disagreements_are_counted(monkeypatch, capsys):
    results = [
        _ok("a.png", "x_plus", reachable=("y_plus",)),  # a mesh-like answer outside its set
        _ok("b.png", "x_plus", reachable=("x_plus",)),
        Prediction("c.png", error="c.png: no such image file"),
        _ok("d.png"),
    ]
    asked = _stand_in_predict(monkeypatch, results)
    assert cli(["predict", "a.png", "b.png", "c.png", "d.png"]) == EXIT_PARTIAL
    out, err = capsys.readouterr()
    assert [line.split()[0] for line in out.splitlines()] == ["a.png", "b.png", "d.png"]
    assert "c.png  error: c.png: no such image file" in err
    assert "metaview predict: 1 of 2 predictions are not among their part's reachable" in err
    assert err.rstrip().endswith("metaview predict: 1 of 4 inputs failed")
    assert asked["progress"] is None and asked["reach"] is True  # 4 inputs: a bar if a terminal

    _stand_in_predict(monkeypatch, results[1:2])
    assert cli(["predict", "b.png", "--no-progress"]) == EXIT_OK
    assert capsys.readouterr().err == ""


def test_runs_passes_its_options_and_says_what_it_ended_and_wrote(monkeypatch, capsys):
    import train.runs

    asked = {}

    def runs_report(experiment, uri, csv_path, plot_path, stale_after_minutes):
        asked["report"] = (experiment, csv_path, plot_path, stale_after_minutes)
        return [], "THE TABLE"

    def mark_stale_runs(experiment, uri, minutes):
        asked["mark"] = (experiment, minutes)
        return [
            SimpleNamespace(run_id="r1", run_name="long", silent_s=3725.0),
            SimpleNamespace(run_id="r2", run_name="", silent_s=125.0),
        ]

    monkeypatch.setattr(train.runs, "runs_report", runs_report)
    monkeypatch.setattr(train.runs, "mark_stale_runs", mark_stale_runs)
    argv = ["runs", "--experiment", "e", "--stale-after", "2.5", "--mark-failed"]
    assert cli([*argv, "--csv", "t.csv", "--plot", "c.png"]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == [
        "marked FAILED: run r1 long (no heartbeat for 1 h 02 min)",
        "marked FAILED: run r2 (no name) (no heartbeat for 2 min)",
    ]
    assert "THE TABLE" in lines and lines[-1] == "validation curves: c.png; CSV: t.csv"
    assert asked == {"mark": ("e", 2.5), "report": ("e", "t.csv", "c.png", 2.5)}

    monkeypatch.setattr(train.runs, "mark_stale_runs", lambda *a: [])
    assert cli(["runs", "--mark-failed", "--stale-after", "30"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith("no stale runs (RUNNING without a heartbeat for 30 min)\n")
    assert cli(["runs"]) == EXIT_OK
    assert capsys.readouterr().out == "THE TABLE\n"  # nothing written, nothing said of files


def test_export_passes_its_options_and_prints_the_comparison(monkeypatch, capsys):
    import train.inference.export

    asked = {}

    def export_model(out, mode, io_type, **kw):
        asked.update(out=out, mode=mode, io_type=io_type, **kw)
        return SimpleNamespace(
            path=out, sidecar=out + ".json", mode=mode, io_type="uint8", run_id="r1",
            n_test=12, features="", keras_accuracy=1.0, keras_size_bytes=3 * 1024 * 1024,
            keras_latency_ms=2.5, accuracy=0.9167, size_bytes=900, latency_ms=0.25,
            agreement=0.9167,
        )  # fmt: skip

    monkeypatch.setattr(train.inference.export, "export_model", export_model)
    argv = ["export", "m.tflite", "--quantize", "int8", "--io-type", "uint8", "--no-log"]
    assert cli([*argv, "--representative", "7", "--meshes", "parts", "--model", "r1"]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "wrote m.tflite (int8, uint8 I/O) and m.tflite.json; run r1, 12 test images"
    assert lines[2].split() == ["keras", "1.000", "3.0", "MB", "2.50", "ms"]
    assert lines[3].split() == ["tflite", "0.917", "900", "B", "0.25", "ms"]
    assert lines[4] == "top-1 agreement with keras: 0.917"
    assert (asked["mode"], asked["io_type"], asked["spec"]) == ("int8", "uint8", "r1")
    assert (asked["n_representative"], asked["meshes"], asked["log_to_run"]) == (7, "parts", False)
