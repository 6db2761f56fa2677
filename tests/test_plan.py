"""Tests of resume planning for ``metaview render`` (:mod:`render.plan`): damaged or
unverifiable images are not skipped."""

from __future__ import annotations

import hashlib

import pytest
from _batch_fixtures import mesh_folder
from _render_fixtures import gl_backend

from metaimage import io as mio
from render import RenderConfig
from render.batch import render_folder

__all__ = ["gl_backend"]


@pytest.mark.gl
def test_damaged_or_unverifiable_images_are_rendered_again(gl_backend, tmp_path):
    src, out = mesh_folder(tmp_path / "in"), tmp_path / "out"
    cfg = RenderConfig(variants=1, tile=8, rows=2, cols=2, backend=gl_backend)
    render_folder(src, out, cfg, workers=1, progress=False)
    rows = {r["path"]: r for r in mio.read_manifest(out)}
    for path, r in rows.items():
        data = (out / path).read_bytes()
        assert (r["png_bytes"], r["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    good = {p: (out / p).read_bytes() for p in rows}

    # Same size, one byte flipped; and a truncated file.
    flipped = bytearray(good["x_plus/a_v0.png"])
    flipped[-20] ^= 0xFF
    (out / "x_plus/a_v0.png").write_bytes(bytes(flipped))
    (out / "z_plus/c_v0.png").write_bytes(good["z_plus/c_v0.png"][:30])
    res = render_folder(src, out, cfg, workers=1, progress=False)
    assert (res.rendered, res.skipped) == (2, 2)
    assert sorted(res.damaged) == ["x_plus/a_v0.png", "z_plus/c_v0.png"]
    assert {p: (out / p).read_bytes() for p in rows} == good

    # A manifest from before the hash column: its images cannot be verified, so they are
    # rendered again once (documented), and the rewritten manifest carries the hashes.
    old = mio.MANIFEST_COLUMNS[: mio.MANIFEST_COLUMNS.index("png_bytes")]
    mio.write_csv(out / "manifest.csv", old, mio.read_manifest(out))
    res = render_folder(src, out, cfg, workers=1, progress=False)
    assert (res.rendered, res.skipped, res.damaged) == (4, 0, [])
    assert all(r["sha256"] for r in mio.read_manifest(out))
    res = render_folder(src, out, cfg, workers=1, progress=False)
    assert (res.rendered, res.skipped) == (0, 4)
