"""Cutters of the taxonomy's open kinds (stub: filled in by the taxonomy work)."""

from __future__ import annotations

from collections.abc import Callable

import manifold3d as mf

from assets.face_geometry import FaceSize, FeatureLike

BUILDERS: dict[str, Callable[[FeatureLike, FaceSize, int], mf.Manifold]] = {}
