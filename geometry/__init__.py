"""Mesh geometry under every stage: what a part is, independent of how it is drawn or learnt.

- :mod:`geometry.stl`         the binary and ASCII STL codec;
- :mod:`geometry.mesh`        loading mesh files (STL, OBJ, PLY, OFF, GLB) as checked meshes;
- :mod:`geometry.straighten`  mesh checks, face normals and areas, straightening a tilted part;
- :mod:`geometry.directions`  the five machine directions (the class names) and the one codec
  of a set of them (``"x_plus|z_plus"``);
- :mod:`geometry.stock`       which faces are stock (on the bounding box) and which were cut;
- :mod:`geometry.reach`       which directions reach every cut face of a part, by ray casting;
- :mod:`geometry.normals`     the face-normal features of a part (the ``normals`` family's input).

Plain NumPy (and trimesh, imported where a file is loaded or rays are cast); one exception
type, :class:`~geometry.errors.MeshError` (:class:`~geometry.errors.ReachError` is one).
Importing it has no side effect.
"""
