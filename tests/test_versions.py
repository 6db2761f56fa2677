"""base.versions: the one helper that records package versions."""

from __future__ import annotations

import numpy as np

from base.versions import package_versions


def test_package_versions_lists_installed_and_leaves_out_missing():
    got = package_versions(["numpy", "metaview-no-such-package", "trimesh"])
    import trimesh

    assert got == {"numpy": np.__version__, "trimesh": trimesh.__version__}
    assert list(got) == ["numpy", "trimesh"]  # the order asked for
    assert package_versions([]) == {}


def test_render_and_synth_record_versions_through_it(monkeypatch):
    from assets import synth
    from render import dataset_files
    from render.config import RenderConfig

    calls = []

    def fake(names):
        calls.append(tuple(names))
        return {"fake": "1.0"}

    monkeypatch.setattr("base.versions.package_versions", fake)
    assert synth.generator_versions() == {"fake": "1.0"}
    info = dataset_files.metaimage_info(RenderConfig(tile=8), "egl")
    assert dict(info.versions) == {"fake": "1.0"}
    assert calls[0] == ("manifold3d", "numpy") and "trimesh" in calls[1]
