"""Shared test set-up: quiet TensorFlow, and keep every test's MLflow store in tmp_path."""

from __future__ import annotations

import os
import tempfile

import pytest

from base.native import allow_gl_and_tensorflow

# First, before any test imports TensorFlow or pyrender: lets Mesa GL and TensorFlow
# share the test process (see metaview/native.py). Importing a stage no longer does it.
allow_gl_and_tensorflow()

# TensorFlow's C++ logging floods the output at import; keep errors only.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# oneDNN custom ops make float results depend on thread scheduling; off for repeatable tests.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
# Backbones converted for LiteRT (train.runtimes) are cached for the session, not in ~/.cache.
_CACHE = tempfile.TemporaryDirectory(prefix="metaview-test-cache-")
os.environ["METAVIEW_CACHE"] = _CACHE.name


@pytest.fixture(autouse=True)
def _isolated_mlflow(tmp_path, monkeypatch):
    """Point MLflow at a per-test sqlite store so no test writes ./mlflow.db or ./mlruns.

    Whatever MLflow settings the machine's environment has (an experiment name, a
    registry URI, credentials) are removed for the test: the per-test store and the
    default experiment "metaview" are what every test expects. ``COLUMNS`` is pinned
    too: argparse wraps help text at the terminal width it names.
    """
    for name in [k for k in os.environ if k.startswith("MLFLOW_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def refused_port():
    """A TCP port on 127.0.0.1 where connections are refused, for the whole test.

    The port stays bound (never listening) by this fixture, so no other process can
    take it in the meantime: a connection to it is refused, every time.
    """
    from _tracking_fixtures import reserved_port

    with reserved_port() as port:
        yield port


@pytest.fixture
def mlflow_http_requests(monkeypatch) -> list:
    """The HTTP requests MLflow's REST client tries during the test (none are sent).

    MLflow's client (``requests``) retries an unreachable server for minutes; a test
    that expects a fast error asserts that this list stays empty, whatever the clock.
    """
    import requests

    tried: list = []

    def refuse(self, method, url, *args, **kwargs):
        tried.append((method, url))
        raise requests.ConnectionError(f"test: no HTTP request may be sent ({method} {url})")

    monkeypatch.setattr(requests.Session, "request", refuse)
    return tried


@pytest.fixture
def matplotlib_defaults():
    """Matplotlib's own defaults for the test, whatever matplotlibrc the machine has
    (a user's ``savefig.dpi`` or ``figure.figsize`` would change every plot's size)."""
    import matplotlib

    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        yield


# -- shared fixtures: data and models (helpers in tests/_*_fixtures.py) ------------------------

from _render_fixtures import gl_backend  # noqa: E402,F401 - the fixture, registered here
from _toy_fixtures import (  # noqa: E402
    Toy,
    log_history_run,
    make_toy_dataset,
    render_in_subprocess,
    toy_split,
    train_tiny,
)


@pytest.fixture(scope="session")
def toy(tmp_path_factory) -> Toy:
    """Session fixture: the separable toy dataset, its split and a tiny model trained on it."""
    root = tmp_path_factory.mktemp("toy")
    dataset = make_toy_dataset(root / "data")
    split = toy_split()
    model, history = train_tiny(dataset, split)
    return Toy(dataset, split, model, history)


@pytest.fixture
def four_runs() -> dict[str, str]:
    """Four runs in the per-test store, name -> run id; best first by the selection order.

    ``old_good`` (F1 0.90, loss 0.30, 3 epochs), ``tie_worse_loss`` (0.90, 0.40, 2 epochs),
    ``latest`` (0.60, 4 epochs) and ``crashed`` (0.99 but FAILED, 1 epoch).
    """
    return {
        "old_good": log_history_run("old_good", 0.90, 0.30, 1_000),
        "tie_worse_loss": log_history_run("tie_worse_loss", 0.90, 0.40, 2_000, epochs_run=2),
        "latest": log_history_run("latest", 0.60, 0.90, 3_000, epochs_run=4),
        "crashed": log_history_run("crashed", 0.99, 0.10, 4_000, status="FAILED", epochs_run=1),
    }


@pytest.fixture
def gl_ok(tmp_path):
    """Skip with the reason when no headless GL context can be made in a subprocess."""
    import trimesh

    probe = tmp_path / "probe.stl"
    trimesh.creation.box().export(probe)
    res = render_in_subprocess({"tile": 8, "rows": 2, "cols": 2}, [(probe, tmp_path / "probe.png")])
    if res.returncode != 0:
        pytest.skip(f"cannot render in a subprocess (no GL): {res.stderr[-500:]}")


@pytest.fixture
def register_tiny_model(monkeypatch):
    """A function that registers "test-tiny" in the model registry for this test; returns the name.

    The model is pooling -> softmax, with a layer named "pool" as the registry's contract
    asks; ``register_tiny_model(nan=True)`` makes its output weights NaN (the NaN-loss path).
    """
    import functools

    from train import models

    def build(n_classes, image_size, weights, dropout, nan=False):
        import keras

        inp = keras.Input((image_size, image_size, 3))
        x = keras.layers.GlobalMaxPooling2D(name="pool")(inp)
        init = keras.initializers.Constant(float("nan")) if nan else "zeros"
        out = keras.layers.Dense(n_classes, "softmax", kernel_initializer=init, name="predictions")
        return keras.Model(inp, out(x))

    def register(nan: bool = False) -> str:
        spec = models.ModelSpec(
            name="test-tiny",
            family="test",
            input_kind="image",
            input_size=32,
            build=functools.partial(build, nan=nan),
        )
        monkeypatch.setitem(models._MODELS, spec.name, spec)
        return spec.name

    return register
