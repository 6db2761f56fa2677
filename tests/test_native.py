"""Mesa GL (llvmpipe) and TensorFlow in one process: without base.native this segfaults."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import trimesh
    from base.native import allow_gl_and_tensorflow
    allow_gl_and_tensorflow()  # what the metaview command does first
    from render import RenderConfig
    from render.core import render_mesh

    def draw():
        image, _ = render_mesh(trimesh.creation.box(), RenderConfig(tile=8, rows=2, cols=2))
        assert image.shape == (16, 16, 3) and image.any()

    def tf_sum():
        import tensorflow as tf
        assert float(tf.reduce_sum(tf.ones(3))) == 3.0

    steps = {"gl-first": (draw, tf_sum, draw), "tf-first": (tf_sum, draw)}[sys.argv[1]]
    for step in steps:
        step()
    print("ok")
    """
)


@pytest.mark.gl
@pytest.mark.tf
@pytest.mark.parametrize("order", ["gl-first", "tf-first"])
def test_gl_and_tensorflow_share_a_process(order, tmp_path):
    script = tmp_path / "both.py"
    script.write_text(SCRIPT)
    out = subprocess.run(
        [sys.executable, str(script), order], capture_output=True, text=True, timeout=300
    )
    if "RenderError" in out.stderr and "context" in out.stderr:
        pytest.skip(f"no headless GL context here: {out.stderr.strip().splitlines()[-1]}")
    assert out.returncode == 0, (
        f"exit {out.returncode} (-11/139 is a segfault):\n{out.stderr[-2000:]}"
    )
    assert out.stdout.strip().endswith("ok")


IMPORT_SCRIPT = textwrap.dedent(
    """
    import json, sys
    before = sys.getdlopenflags()
    import metaimage, render, train, assets  # noqa: F401
    with open("/proc/self/maps") as maps:
        llvm = "libLLVM" in maps.read()
    heavy = ("tensorflow", "keras", "mlflow", "pyrender", "OpenGL", "trimesh", "PIL")
    print(json.dumps({
        "llvm": llvm,
        "flags": [before, sys.getdlopenflags()],
        "heavy": sorted(m for m in sys.modules if m.split(".")[0] in heavy),
    }))
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")
def test_importing_the_stages_has_no_side_effect():
    """No stage loads libLLVM or changes dlopen flags at import: only the CLI and tests do."""
    import json

    env = {k: v for k, v in os.environ.items() if k != "METAVIEW_NO_DEEPBIND"}
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_SCRIPT], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["llvm"] is False, "importing a stage loaded libLLVM"
    assert found["flags"][0] == found["flags"][1], "importing a stage changed the dlopen flags"
    assert found["heavy"] == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RTLD_DEEPBIND is Linux-only")
def test_allow_gl_and_tensorflow_is_idempotent():
    """Called twice (CLI entry and tests), the preload is applied once and flags set once."""
    script = textwrap.dedent(
        """
        import os, sys
        from base.native import allow_gl_and_tensorflow
        before = sys.getdlopenflags()
        first = allow_gl_and_tensorflow()
        after_first = sys.getdlopenflags()
        second = allow_gl_and_tensorflow()
        assert first == second, (first, second)
        assert sys.getdlopenflags() == after_first
        if first:
            assert after_first == before | os.RTLD_DEEPBIND
            assert "libLLVM" in open("/proc/self/maps").read()
        print("ok", first)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "METAVIEW_NO_DEEPBIND"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("ok")


def test_process_pools_fork_only_while_no_native_threads_are_loaded(monkeypatch):
    """A forked child of a process with TensorFlow (or GL, or Ray) loaded can hang on a lock
    a native thread held: such a process spawns its workers instead."""
    import multiprocessing
    import sys

    from base.native import process_pool_context

    for name in ("tensorflow", "OpenGL", "pyrender", "ray"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    fork_ok = "fork" in multiprocessing.get_all_start_methods()
    assert process_pool_context().get_start_method() == ("fork" if fork_ok else "spawn")
    monkeypatch.setitem(sys.modules, "tensorflow", object())
    assert process_pool_context().get_start_method() == "spawn"
