"""Tests of the dataset files of ``metaview render`` (:mod:`render.dataset_files`): each is
written whatever happens to the others."""

from __future__ import annotations

import pytest
from _batch_fixtures import mesh_folder
from _render_fixtures import gl_backend

from metaimage import io as mio
from render import RenderConfig
from render.batch import render_folder

__all__ = ["gl_backend"]


@pytest.mark.gl
def test_outputs_are_written_even_when_one_writer_fails(gl_backend, tmp_path, monkeypatch):
    from render import RenderError

    src, out = mesh_folder(tmp_path / "in"), tmp_path / "out"
    cfg = RenderConfig(variants=1, tile=8, rows=2, cols=2, backend=gl_backend)

    def full_disk(folder, rows):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mio, "write_manifest", full_disk)
    with pytest.raises(RenderError, match=r"manifest\.csv.*No space left on device"):
        render_folder(src, out, cfg, workers=1, progress=False)
    # The other two files are still written.
    assert [e["source"] for e in mio.read_csv(out / "errors.csv")] == ["z_plus/broken.stl"]
    assert mio.read_metaimage_info(out).grid == (2, 2)
    monkeypatch.undo()

    # A manifest that is not even text is replaced, not fatal: with nothing to check the
    # PNGs against, they are rendered again.
    (out / "manifest.csv").write_bytes(b"\xff\xfe garbage \x00")
    res = render_folder(src, out, cfg, workers=1, progress=False)
    assert (res.rendered, res.skipped, res.exit_code) == (4, 0, 2)
    assert len(mio.read_manifest(out)) == 4
