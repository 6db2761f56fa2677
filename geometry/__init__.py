"""Mesh geometry under every stage: what a part is, independent of how it is drawn or learnt.

- :mod:`geometry.stl`         the binary and ASCII STL codec;
- :mod:`geometry.mesh`        loading mesh files (STL, OBJ, PLY, OFF, GLB) as checked meshes;
- :mod:`geometry.straighten`  mesh checks, face normals and areas, straightening a tilted part.

Plain NumPy (and trimesh, imported where a file is loaded); one exception type,
:class:`~geometry.errors.MeshError`. Importing it has no side effect.
"""
