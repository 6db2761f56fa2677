"""Provenance: the library versions a run records (train.tracking.provenance)."""

from __future__ import annotations

from train import tracking


def test_library_versions_are_metaviews_package_versions():
    from base.versions import package_versions
    from train.tracking.provenance import _VERSION_PACKAGES

    got = tracking.library_versions()
    assert got == package_versions(_VERSION_PACKAGES)
    assert {"mlflow", "numpy"} <= set(got)
