"""STEP files for the tests, written here: a triangle mesh as an AP214 faceted B-rep.

Each triangle becomes a planar ``ADVANCED_FACE`` bounded by three ``EDGE_CURVE`` lines, the
edges shared between neighbouring faces, the faces forming one ``CLOSED_SHELL`` of one
``MANIFOLD_SOLID_BREP`` per body. OpenCASCADE (through ``cascadio``) reads it back as the
same triangles, so a STEP file and an STL of one mesh are the same part.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_HEADER = """ISO-10303-21;
HEADER;
FILE_DESCRIPTION(('metaview test part'),'2;1');
FILE_NAME('part.step','2026-01-01T00:00:00',(''),(''),'metaview tests','','');
FILE_SCHEMA(('AUTOMOTIVE_DESIGN { 1 0 10303 214 1 1 1 1 }'));
ENDSEC;
DATA;
"""


def _num(x: float) -> str:
    text = repr(float(x))
    return text if ("." in text or "e" in text) else text + "."


class _Writer:
    def __init__(self):
        self.lines: list[str] = []

    def add(self, text: str) -> int:
        self.lines.append(text)
        return len(self.lines)

    def point(self, p) -> int:
        return self.add(f"CARTESIAN_POINT('',({','.join(_num(c) for c in p)}))")

    def direction(self, d) -> int:
        return self.add(f"DIRECTION('',({','.join(_num(c) for c in d)}))")


def _body(w: _Writer, vertices: np.ndarray, faces: np.ndarray) -> int:
    """Write one closed shell; return its MANIFOLD_SOLID_BREP's entity number."""
    vp = [w.add(f"VERTEX_POINT('',#{w.point(v)})") for v in vertices]
    edges: dict[tuple[int, int], int] = {}
    face_ids = []
    for tri in faces:
        oriented = []
        for a, b in ((tri[0], tri[1]), (tri[1], tri[2]), (tri[2], tri[0])):
            key = (min(a, b), max(a, b))
            if key not in edges:
                p, q = vertices[key[0]], vertices[key[1]]
                length = float(np.linalg.norm(q - p))
                vec = w.add(f"VECTOR('',#{w.direction((q - p) / length)},{_num(length)})")
                line = w.add(f"LINE('',#{w.point(p)},#{vec})")
                edges[key] = w.add(f"EDGE_CURVE('',#{vp[key[0]]},#{vp[key[1]]},#{line},.T.)")
            same = ".T." if (a, b) == key else ".F."
            oriented.append(w.add(f"ORIENTED_EDGE('',*,*,#{edges[key]},{same})"))
        loop = w.add(f"EDGE_LOOP('',({','.join(f'#{o}' for o in oriented)}))")
        bound = w.add(f"FACE_OUTER_BOUND('',#{loop},.T.)")
        p0, p1, p2 = vertices[tri]
        n = np.cross(p1 - p0, p2 - p0)
        n = n / np.linalg.norm(n)
        x = (p1 - p0) / np.linalg.norm(p1 - p0)
        axis = w.add(f"AXIS2_PLACEMENT_3D('',#{w.point(p0)},#{w.direction(n)},#{w.direction(x)})")
        plane = w.add(f"PLANE('',#{axis})")
        face_ids.append(w.add(f"ADVANCED_FACE('',(#{bound}),#{plane},.T.)"))
    shell = w.add(f"CLOSED_SHELL('',({','.join(f'#{f}' for f in face_ids)}))")
    return w.add(f"MANIFOLD_SOLID_BREP('part',#{shell})")


def step_text(*bodies: tuple[np.ndarray, np.ndarray]) -> str:
    """AP214 text of one or more closed triangle meshes ``(vertices, faces)``, in mm."""
    w = _Writer()
    app = w.add("APPLICATION_CONTEXT('automotive design')")
    w.add(
        f"APPLICATION_PROTOCOL_DEFINITION('international standard','automotive_design',2000,#{app})"
    )
    pc = w.add(f"PRODUCT_CONTEXT('',#{app},'mechanical')")
    prod = w.add(f"PRODUCT('part','part','',(#{pc}))")
    pdf = w.add(f"PRODUCT_DEFINITION_FORMATION('','',#{prod})")
    pdc = w.add(f"PRODUCT_DEFINITION_CONTEXT('part definition',#{app},'design')")
    pd = w.add(f"PRODUCT_DEFINITION('design','',#{pdf},#{pdc})")
    pds = w.add(f"PRODUCT_DEFINITION_SHAPE('','',#{pd})")
    mm = w.add("(LENGTH_UNIT()NAMED_UNIT(*)SI_UNIT(.MILLI.,.METRE.))")
    rad = w.add("(NAMED_UNIT(*)PLANE_ANGLE_UNIT()SI_UNIT($,.RADIAN.))")
    sr = w.add("(NAMED_UNIT(*)SI_UNIT($,.STERADIAN.)SOLID_ANGLE_UNIT())")
    unc = w.add(
        f"UNCERTAINTY_MEASURE_WITH_UNIT(LENGTH_MEASURE(1.E-07),#{mm},'distance_accuracy_value','')"
    )
    ctx = w.add(
        f"(GEOMETRIC_REPRESENTATION_CONTEXT(3)GLOBAL_UNCERTAINTY_ASSIGNED_CONTEXT((#{unc}))"
        f"GLOBAL_UNIT_ASSIGNED_CONTEXT((#{mm},#{rad},#{sr}))REPRESENTATION_CONTEXT('',''))"
    )
    solids = [_body(w, np.asarray(v, np.float64), np.asarray(f, np.int64)) for v, f in bodies]
    origin = w.add(
        f"AXIS2_PLACEMENT_3D('',#{w.point((0, 0, 0))},#{w.direction((0, 0, 1))},"
        f"#{w.direction((1, 0, 0))})"
    )
    items = ",".join(f"#{s}" for s in [*solids, origin])
    rep = w.add(f"ADVANCED_BREP_SHAPE_REPRESENTATION('',({items}),#{ctx})")
    w.add(f"SHAPE_DEFINITION_REPRESENTATION(#{pds},#{rep})")
    data = "".join(f"#{i}={line};\n" for i, line in enumerate(w.lines, start=1))
    return _HEADER + data + "ENDSEC;\nEND-ISO-10303-21;\n"


def write_step(path: str | Path, *bodies: tuple[np.ndarray, np.ndarray]) -> Path:
    """Write :func:`step_text` of ``bodies`` to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(step_text(*bodies))
    return path
