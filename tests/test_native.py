"""Mesa GL (llvmpipe) and TensorFlow in one process: without metaview.native this segfaults."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import trimesh
    import metaview
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
