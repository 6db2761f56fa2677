"""``metaview explain``: pictures of what the geometry and the model say about a part.

Modules:

- :mod:`train.explain.evidence`  what a model looked at: the head's gradient, Grad-CAM over
  the backbone's last feature map, the faces that carried a ``normals`` decision;
- :mod:`train.explain.colours`   faces painted by what reaches them, or by a signed value;
- :mod:`train.explain.figure`    one part's picture;
- :mod:`train.explain.report`    a folder of pictures with ``index.html``
  (:func:`~train.explain.report.explain_files`).

The per-face reach comes from :func:`geometry.reach.face_reach`, the rays ``metaview reach``
casts; the five views from :mod:`render.reach_views`.
"""

from __future__ import annotations
