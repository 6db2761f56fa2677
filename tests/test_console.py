"""TensorFlow's native start-up lines stay off stderr unless `metaview -v`, however imported."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

# What `metaview` does before a command runs, then TensorFlow imported the way library code
# does it (train.fit, the demo): `import keras`, not through train.console.import_tensorflow.
SCRIPT = textwrap.dedent(
    """
    import sys
    from metaview.cli import _configure_logging
    _configure_logging(verbose=sys.argv[1] == "-v", quiet=False)
    import keras
    import tensorflow as tf
    assert float(tf.reduce_sum(tf.ones(3))) == 3.0
    assert type(tf.__loader__).__name__ == "SourceFileLoader", tf.__loader__
    print("ok")
    """
)


def _import_tf(flag: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    # As a user's shell has them: unset (tests/conftest.py sets both, which would hide lines).
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    env.pop("TF_ENABLE_ONEDNN_OPTS", None)
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, flag],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.tf
def test_importing_tensorflow_prints_no_native_lines():
    res = _import_tf("-")
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr[-2000:]
    assert "absl::InitializeLog" not in res.stderr, res.stderr
    assert "oneDNN" not in res.stderr, res.stderr


@pytest.mark.tf
def test_verbose_shows_them():
    res = _import_tf("-v")
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr[-2000:]
    assert "absl::InitializeLog" in res.stderr
