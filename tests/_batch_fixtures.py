"""An input folder for the tests of ``metaview render`` and its modules (batch, scan, plan,
dataset files)."""

from __future__ import annotations

import trimesh
from _render_fixtures import binary_stl, box_triangles, write


def mesh_folder(root):
    """Two labels, one unlabelled part at the top level, one broken STL."""
    write(root / "x_plus" / "a.stl", binary_stl(box_triangles(extents=(3, 1, 1))))
    trimesh.creation.icosphere(2).export(root / "x_plus" / "b.obj")
    write(root / "z_plus" / "c.stl", binary_stl(box_triangles(extents=(1, 1, 3))))
    write(root / "loose.stl", binary_stl(box_triangles()))
    write(root / "z_plus" / "broken.stl", binary_stl(box_triangles())[:200])
    write(root / "z_plus" / "readme.txt", b"not a mesh suffix: ignored")
    return root
